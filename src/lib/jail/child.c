/* SPDX-License-Identifier: MIT */
/*
 * jail/child: what the sandbox's children share, async-signal-safe: the
 * messages between parent and init (struct jail_msg over SOCK_SEQPACKET, fds
 * as SCM_RIGHTS), clone3() with its clone() fallback, and a map line.
 */
#include "jail/init.h"

#include "jail/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/signals.h"

/* --- messages ----------------------------------------------------------------- */

int jail_msg_send(int sock, const struct jail_msg *m, int fd)
{
	return jail_msg_send_fds(sock, m, &fd, fd >= 0 ? 1 : 0);
}

int jail_msg_send_fds(int sock, const struct jail_msg *m, const int *fds, size_t n_fds)
{
	return jail_msg_send_cred(sock, m, fds, n_fds, NULL);
}

int jail_msg_send_cred(int sock, const struct jail_msg *m, const int *fds, size_t n_fds,
		       const struct ucred *cred)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * JAIL_MSG_FDS_MAX) +
			 CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (n_fds > JAIL_MSG_FDS_MAX)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	mh.msg_control = u.buf;
	mh.msg_controllen = (n_fds > 0 ? CMSG_SPACE(sizeof(int) * n_fds) : 0) +
			    (cred ? CMSG_SPACE(sizeof(*cred)) : 0);
	cm = mh.msg_controllen ? CMSG_FIRSTHDR(&mh) : NULL;
	if (n_fds > 0) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
		cm = CMSG_NXTHDR(&mh, cm);
	}
	if (cred) {
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof(*cred));
		memcpy(CMSG_DATA(cm), cred, sizeof(*cred));
	}
	if (!mh.msg_controllen)
		mh.msg_control = NULL;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*m) ? 0 : -EPROTO;
}

int jail_msg_recv(int sock, struct jail_msg *m, int *ret_fd)
{
	int fds[JAIL_MSG_FDS_MAX], r = jail_msg_recv_fds(sock, m, fds, JAIL_MSG_FDS_MAX);

	for (size_t i = 1; i < JAIL_MSG_FDS_MAX; i++)
		(void)close_fd(fds[i]);
	if (ret_fd)
		*ret_fd = fds[0];
	else
		(void)close_fd(fds[0]);
	return r;
}

int jail_msg_recv_fds(int sock, struct jail_msg *m, int *fds, size_t n_fds)
{
	return jail_msg_recv_cred(sock, m, fds, n_fds, NULL);
}

int jail_msg_recv_cred(int sock, struct jail_msg *m, int *fds, size_t n_fds, struct ucred *ret_cred)
{
	/* room for credentials too: with SO_PASSCRED the kernel puts them first */
	union {
		char buf[CMSG_SPACE(sizeof(int) * JAIL_MSG_FDS_MAX) +
			 CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;

	for (size_t i = 0; i < n_fds; i++)
		fds[i] = -1;
	if (ret_cred)
		*ret_cred = (struct ucred){ .pid = -1 };
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_CREDENTIALS && ret_cred &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(*ret_cred)))
			memcpy(ret_cred, CMSG_DATA(cm), sizeof(*ret_cred));
		if (cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (got < n_fds)
				fds[got++] = fd;
			else
				(void)close(fd); /* more than asked for: not ours to keep */
		}
	}
	if (n == 0)
		return 0;
	return n == (ssize_t)sizeof(*m) ? 1 : -EPROTO;
}

pid_t jail_clone(struct clone_args *args)
{
	pid_t pid = (pid_t)syscall(SYS_clone3, args, sizeof(*args));

	if (pid >= 0 || errno != ENOSYS || (args->flags >> 32))
		return pid;
	/* x86_64's argument order: flags, stack, parent_tid (CLONE_PIDFD's), child_tid, tls */
	return (pid_t)syscall(SYS_clone,
			      (unsigned long)args->flags | (unsigned long)args->exit_signal, 0UL,
			      (unsigned long)args->pidfd, 0UL, 0UL);
}

size_t jail_map_line(char *buf, size_t len, unsigned inside, unsigned outside)
{
	char a[24], b[24];
	const char *sa = fmt_u64(a + sizeof(a), inside), *sb = fmt_u64(b + sizeof(b), outside);
	size_t la = strlen(sa), lb = strlen(sb);

	if (la + lb + 5 > len)
		return 0;
	memcpy(buf, sa, la);
	buf[la] = ' ';
	memcpy(buf + la + 1, sb, lb);
	memcpy(buf + la + 1 + lb, " 1\n", 4);
	return la + lb + 4;
}

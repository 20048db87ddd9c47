/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lab/ctlmsg: SCM_RIGHTS plumbing shared by the supervisor and its clients. */
#include "lab/ctlmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lab/lab.h"

void ctl_addr(const char *lab, struct sockaddr_un *ret, socklen_t *ret_len)
{
	int n;

	memset(ret, 0, sizeof(*ret));
	ret->sun_family = AF_UNIX;
	/* sun_path[0] stays '\0': abstract namespace */
	n = snprintf(ret->sun_path + 1, sizeof(ret->sun_path) - 1, "nslab/%u/%s", lab_outer_uid(),
		     lab);
	if (n < 0 || (size_t)n >= sizeof(ret->sun_path) - 1)
		n = (int)sizeof(ret->sun_path) -
		    2; /* callers validate names; never past the struct */
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int ctl_send(int fd, const char *text, const int *fds, size_t n_fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)] = { 0 };
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > CTL_MAX_FDS)
		return -EINVAL;
	if (n_fds) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int ctl_recv(int fd, char *text, size_t len, int *fds, size_t *ret_n_fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	struct iovec iov = { .iov_base = text, .iov_len = len - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	size_t n_fds = 0;
	ssize_t n;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[CTL_MAX_FDS];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++)
			if (n_fds < CTL_MAX_FDS)
				fds[n_fds++] = got[i];
			else
				(void)close(got[i]);
	}
	if (n == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		/* cut short: what did arrive is no answer to trust */
		for (size_t i = 0; i < n_fds; i++)
			(void)close(fds[i]);
		return n == 0 ? -ECONNRESET : -EMSGSIZE;
	}
	text[n] = '\0';
	*ret_n_fds = n_fds;
	return 0;
}

bool ctl_peer_is(int fd, uid_t uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == uid;
}

/* What /proc says of a process's state, in words ("stopped", "running"...). */
static const char *proc_state_words(pid_t pid)
{
	char path[64], buf[512], *close_paren;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return "state unknown";
	buf[n] = '\0';
	close_paren = strrchr(buf, ')'); /* the command name may hold anything */
	switch (close_paren && close_paren[1] == ' ' ? close_paren[2] : '?') {
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'D':
		return "blocked in the kernel";
	case 'T':
		return "stopped";
	case 't':
		return "stopped by a debugger";
	case 'Z':
		return "a zombie";
	default:
		return "state unknown";
	}
}

int ctl_peer_describe(int fd, char *buf, size_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.pid <= 0)
		return snprintf(buf, len, "the supervisor");
	return snprintf(buf, len, "the supervisor (pid %d, %s)", (int)cred.pid,
			proc_state_words(cred.pid));
}

int ctl_set_timeout(int fd, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

int ctl_connect(const char *lab, int *ret_fd, nslab_error *err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int fd;

	if (!spec_lab_name_ok(lab))
		return nslab_err_setx(err, EINVAL, "'%s': not a lab name", lab);
	ctl_addr(lab, &sa, &salen);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nslab_err_set(err, errno, "control socket");
	/* a supervisor that no longer accepts (stopped, full backlog) must not hang us */
	if (ctl_set_timeout(fd, CTL_TIMEOUT_MS) < 0) {
		(void)close(fd);
		return nslab_err_set(err, errno, "control socket timeout");
	}
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		int e = errno;

		(void)close(fd);
		if (e == ECONNREFUSED || e == ENOENT)
			return nslab_err_setx(err, ESRCH, "no lab '%s' is up", lab);
		if (e == EAGAIN || e == EWOULDBLOCK)
			return nslab_err_setx(err, ETIMEDOUT,
					      "lab '%s': its supervisor accepts no connection "
					      "(none for %u s): is it stopped?",
					      lab, CTL_TIMEOUT_MS / 1000);
		return nslab_err_set(err, e, "connect to lab '%s'", lab);
	}
	/*
	 * Abstract names carry no permissions: anyone could bind ours first and
	 * hand us namespaces of their own. Only a supervisor of our own uid is
	 * trusted (a rootless one, uid 0 in its user namespace, shows our uid here).
	 */
	if (!ctl_peer_is(fd, geteuid())) {
		(void)close(fd);
		return nslab_err_setx(
			err, EPERM, "lab '%s': the control socket is not served by your user", lab);
	}
	*ret_fd = fd;
	return 0;
}

/* Close every received fd and fail: more fds than the request takes are no answer. */
static int refuse_fds(int *fds, size_t n, size_t max, nslab_error *err)
{
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	return nslab_err_setx(err, EPROTO, "the supervisor sent %zu fds where at most %zu belong",
			      n, max);
}

int ctl_timeout_error(int conn, const char *what, nslab_error *err)
{
	char who[128];

	ctl_peer_describe(conn, who, sizeof(who));
	return nslab_err_setx(err, ETIMEDOUT, "%s: %s did not answer within %u s", what, who,
			      CTL_TIMEOUT_MS / 1000);
}

int ctl_call(int conn, const char *req, int *fds, size_t max_fds, size_t *n_fds, nslab_error *err)
{
	char reply[NSLAB_ERROR_MSG_MAX];
	int local[CTL_MAX_FDS];
	size_t got = 0;
	int r;

	if (strlen(req) >= CTL_REQ_MAX)
		return nslab_err_setx(err, EINVAL, "control request longer than %d bytes",
				      CTL_REQ_MAX);
	if (!fds)
		fds = local;
	r = ctl_send(conn, req, NULL, 0);
	if (r >= 0)
		r = ctl_recv(conn, reply, sizeof(reply), fds, &got);
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		return ctl_timeout_error(conn, "control request", err);
	if (r < 0)
		return nslab_err_set(err, -r, "control request '%.32s'", req);
	if (strncmp(reply, "ok", 2) != 0) {
		for (size_t i = 0; i < got; i++)
			(void)close(fds[i]);
		return nslab_err_setx(err, EINVAL, "%s",
				      strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply);
	}
	if (got > max_fds || !n_fds) {
		if (got > max_fds)
			return refuse_fds(fds, got, max_fds, err);
		for (size_t i = 0; i < got; i++)
			(void)close(fds[i]);
		got = 0;
	}
	if (n_fds)
		*n_fds = got;
	return 0;
}

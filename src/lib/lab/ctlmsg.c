/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lab/ctlmsg: SCM_RIGHTS plumbing shared by the supervisor and its clients. */
#include "lab/ctlmsg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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
	if (n == 0)
		return -ECONNRESET;
	text[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(c), n_fds * sizeof(int));
	}
	*ret_n_fds = n_fds;
	return 0;
}

int ctl_connect(const char *lab, int *ret_fd, nslab_error *err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int fd;

	ctl_addr(lab, &sa, &salen);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nslab_err_set(err, errno, "control socket");
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		int e = errno;

		(void)close(fd);
		if (e == ECONNREFUSED || e == ENOENT)
			return nslab_err_setx(err, ESRCH, "no lab '%s' is up", lab);
		return nslab_err_set(err, e, "connect to lab '%s'", lab);
	}
	*ret_fd = fd;
	return 0;
}

int ctl_call(int conn, const char *req, int *fds, size_t *n_fds, nslab_error *err)
{
	char reply[NSLAB_ERROR_MSG_MAX];
	size_t got = 0;
	int r = ctl_send(conn, req, NULL, 0);

	if (r >= 0)
		r = ctl_recv(conn, reply, sizeof(reply), fds, &got);
	if (r < 0)
		return nslab_err_set(err, -r, "control request '%s'", req);
	if (strncmp(reply, "ok", 2) != 0) {
		for (size_t i = 0; i < got; i++)
			(void)close(fds[i]);
		return nslab_err_setx(err, EINVAL, "%s",
				      strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply);
	}
	if (n_fds)
		*n_fds = got;
	else
		for (size_t i = 0; i < got; i++)
			(void)close(fds[i]);
	return 0;
}

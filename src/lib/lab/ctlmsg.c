/* SPDX-License-Identifier: MIT */
/* lab/ctlmsg: SCM_RIGHTS plumbing shared by the supervisor and its clients; a client's calls. */
#include "lab/ctlmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int ctl_send(int fd, const struct nlmsghdr *nlh, const int *fds, size_t n_fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)] = { 0 };
	struct iovec iov = { .iov_base = (void *)nlh, .iov_len = nlh->nlmsg_len };
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

ssize_t ctl_recv(int fd, void *buf, int *fds, size_t *ret_n_fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	struct iovec iov = { .iov_base = buf, .iov_len = CTL_MSG_MAX };
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

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || k > CTL_MAX_FDS)
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
	*ret_n_fds = n_fds;
	return n;
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

static int connect_peer(const char *lab, int *ret_fd, nslab_error *err)
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

bool ctl_is_ours(const char *lab)
{
	_cleanup_close_ int fd = -1;

	return connect_peer(lab, &fd, NULL) == 0;
}

/* Close every received fd and fail: more fds than the request takes are no answer. */
static int refuse_fds(int *fds, size_t n, size_t max, nslab_error *err)
{
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	return nslab_err_setx(err, EPROTO, "the supervisor sent %zu fds where at most %zu belong",
			      n, max);
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
}

int ctl_timeout_error(int conn, const char *what, nslab_error *err)
{
	char who[128];

	ctl_peer_describe(conn, who, sizeof(who));
	return nslab_err_setx(err, ETIMEDOUT, "%s: %s did not answer within %u s", what, who,
			      CTL_TIMEOUT_MS / 1000);
}

/* Receive the reply to @req into c->buf and check it answers @req. */
static int recv_reply(struct ctl_conn *c, const struct nlmsghdr *req, int *fds, size_t *n_fds,
		      nslab_error *err)
{
	const char *op = ctl_op_name(req->nlmsg_type);
	ssize_t n = ctl_recv(c->fd, c->buf, fds, n_fds);
	int r;

	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return ctl_timeout_error(c->fd, op, err);
	if (n < 0)
		return nslab_err_set(err, (int)-n, "control request '%s'", op);
	r = ctl_msg_parse(c->buf, (size_t)n, &c->reply, err);
	if (r >= 0 && c->reply.reply && c->reply.seq == 0 && c->reply.error)
		return 0; /* refused before any request was read (out of fds): its error says why */
	if (r >= 0 &&
	    (!c->reply.reply || c->reply.op != req->nlmsg_type || c->reply.seq != req->nlmsg_seq))
		r = nslab_err_setx(err, EPROTO, "the supervisor answered '%s' with '%s'", op,
				   ctl_op_name(c->reply.op));
	if (r < 0) {
		close_fds(fds, *n_fds);
		return nslab_err_prefix(err, r, "control request '%s'", op);
	}
	return 0;
}

int ctl_call(struct ctl_conn *c, struct nlmsghdr *req, int *fds, size_t max_fds, size_t *n_fds,
	     nslab_error *err)
{
	int local[CTL_MAX_FDS];
	size_t got = 0;
	int r;

	if (!fds)
		fds = local;
	req->nlmsg_seq = ++c->seq;
	r = ctl_send(c->fd, req, NULL, 0);
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		return ctl_timeout_error(c->fd, ctl_op_name(req->nlmsg_type), err);
	if (r < 0)
		return nslab_err_set(err, -r, "control request '%s'", ctl_op_name(req->nlmsg_type));
	r = recv_reply(c, req, fds, &got, err);
	if (r < 0)
		return r;
	if (c->reply.error) {
		const char *msg = ctl_get_str(&c->reply, CTL_A_MESSAGE);

		close_fds(fds, got);
		return nslab_err_setx(err, c->reply.error, "%s", msg ? msg : "refused");
	}
	if (got > max_fds)
		return refuse_fds(fds, got, max_fds, err);
	if (n_fds)
		*n_fds = got;
	else
		close_fds(fds, got);
	return 0;
}

int ctl_notify(struct ctl_conn *c, struct nlmsghdr *req, const int *fds, size_t n_fds)
{
	req->nlmsg_seq = ++c->seq;
	return ctl_send(c->fd, req, fds, n_fds);
}

struct ctl_conn *ctl_close(struct ctl_conn *c)
{
	if (c) {
		(void)close_fd(c->fd);
		free(c);
	}
	return NULL;
}

/* HELLO: settle the version; keep the reply (who the lab is) in c->hello. */
static int hello(struct ctl_conn *c, nslab_error *err)
{
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *req = ctl_msg_start(buf, CTL_OP_HELLO, false, 0, 0);
	int r;

	(void)ctl_put_u32(req, CTL_A_VERSION, CTL_VERSION);
	r = ctl_call(c, req, NULL, 0, NULL, err);
	if (r < 0)
		return r;
	if (ctl_get_u32(&c->reply, CTL_A_VERSION, 0) != CTL_VERSION)
		return nslab_err_setx(err, EPROTONOSUPPORT,
				      "the supervisor speaks control protocol version %u, not %u",
				      ctl_get_u32(&c->reply, CTL_A_VERSION, 0), CTL_VERSION);
	/* kept for later: a copy, indexed again (it was parsed and checked already) */
	memcpy(c->hello_buf, c->buf, ((const struct nlmsghdr *)c->buf)->nlmsg_len);
	return ctl_msg_parse(c->hello_buf, ((const struct nlmsghdr *)c->buf)->nlmsg_len, &c->hello,
			     err);
}

int ctl_open(const char *lab, struct ctl_conn **ret, nslab_error *err)
{
	_cleanup_(ctl_closep) struct ctl_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return nslab_err_set(err, ENOMEM, "control connection");
	c->fd = -1;
	r = connect_peer(lab, &c->fd, err);
	if (r >= 0)
		r = hello(c, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * nl/nlsock: the netlink socket, its one request/ACK/dump engine, batches, and
 * the extended-ACK text that makes kernel errors readable.
 *
 * DOC: Talking to the kernel
 * Every request carries its own sequence number and NLM_F_ACK. A request ends
 * with NLMSG_ERROR (error 0 is the ACK) or, for a dump, with NLMSG_DONE; data
 * messages (NLM_F_MULTI or not) in between go to the caller's callback. The
 * engine reads until every request it sent has ended, even after a failure, so
 * the next talk on the socket starts in sync. Replies whose sequence number is
 * not one of the current requests' are left over from an earlier talk that
 * stopped reading (a receive error) and are dropped.
 */
#include "nl/nlsock.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

/* Dumps of big namespaces come in bursts; a small default buffer drops them (ENOBUFS). */
#define NL_RCVBUF (1 << 20)

struct nlsock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;		  /* last sequence number used */
	int cb_r;		  /* set by nlsock_cb_error() during a callback */
	char buf[NL_DUMP_BUFSIZ]; /* receive buffer: the kernel's dump chunks are at most 32 KiB */
};

/* One talk: count requests with consecutive sequence numbers from seq, laid out in req. */
struct talk {
	const char *req;
	size_t req_len;
	uint32_t seq;
	unsigned count;
	unsigned pending; /* requests not ended yet */
	bool batch;	  /* name the request index in errors */
	bool enoent_is_ok;
	mnl_cb_t cb;
	void *data;
	bool stopped; /* callback said stop (or failed): drain the rest */
	bool intr;    /* a dump was interrupted by a concurrent change */
	int r;	      /* first failure */
};

static void sock_set_int(int fd, int level, int opt, int val)
{
	(void)setsockopt(fd, level, opt, &val, sizeof(val));
}

int nlsock_open(int protocol, struct nlsock **ret, nslab_error *err)
{
	_cleanup_(nlsock_freep) struct nlsock *nl = calloc(1, sizeof(*nl));
	int fd;

	if (!nl)
		return nslab_err_set(err, ENOMEM, "allocate netlink socket");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		return nslab_err_set(err, errno, "open netlink socket (protocol %d)", protocol);
	fd = fd_move_high(fd); /* one per node, for the lab's life */
	nl->mnl = mnl_socket_fdopen(fd);
	if (!nl->mnl) {
		int e = errno;

		(void)close(fd);
		return nslab_err_set(err, e, "open netlink socket (protocol %d)", protocol);
	}
	if (mnl_socket_bind(nl->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
		return nslab_err_set(err, errno, "bind netlink socket (protocol %d)", protocol);
	nl->portid = mnl_socket_get_portid(nl->mnl);
	fd = mnl_socket_get_fd(nl->mnl);
	/* Best effort: without these, errors carry no kernel text and dumps ignore filters */
	sock_set_int(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	sock_set_int(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
	/* FORCE passes rmem_max when we have CAP_NET_ADMIN; the plain one is capped by it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ NL_RCVBUF }, sizeof(int)) < 0)
		sock_set_int(fd, SOL_SOCKET, SO_RCVBUF, NL_RCVBUF);
	*ret = TAKE_PTR(nl);
	return 0;
}

struct nlsock *nlsock_free(struct nlsock *nl)
{
	if (!nl)
		return NULL;
	if (nl->mnl)
		(void)mnl_socket_close(nl->mnl);
	free(nl);
	return NULL;
}

int nlsock_fd(const struct nlsock *nl)
{
	return mnl_socket_get_fd(nl->mnl);
}

int nlsock_cb_error(struct nlsock *nl, int r)
{
	nl->cb_r = r < 0 ? r : -EIO;
	return MNL_CB_ERROR;
}

#define MSG_NAME(t) [t] = #t
static const char *const msg_names[] = {
	MSG_NAME(NLMSG_NOOP),	   MSG_NAME(NLMSG_ERROR),     MSG_NAME(NLMSG_DONE),
	MSG_NAME(NLMSG_OVERRUN),   MSG_NAME(RTM_NEWLINK),     MSG_NAME(RTM_DELLINK),
	MSG_NAME(RTM_GETLINK),	   MSG_NAME(RTM_SETLINK),     MSG_NAME(RTM_NEWADDR),
	MSG_NAME(RTM_DELADDR),	   MSG_NAME(RTM_GETADDR),     MSG_NAME(RTM_NEWROUTE),
	MSG_NAME(RTM_DELROUTE),	   MSG_NAME(RTM_GETROUTE),    MSG_NAME(RTM_NEWNEIGH),
	MSG_NAME(RTM_DELNEIGH),	   MSG_NAME(RTM_GETNEIGH),    MSG_NAME(RTM_NEWRULE),
	MSG_NAME(RTM_DELRULE),	   MSG_NAME(RTM_GETRULE),     MSG_NAME(RTM_NEWQDISC),
	MSG_NAME(RTM_DELQDISC),	   MSG_NAME(RTM_GETQDISC),    MSG_NAME(RTM_NEWTCLASS),
	MSG_NAME(RTM_DELTCLASS),   MSG_NAME(RTM_GETTCLASS),   MSG_NAME(RTM_NEWTFILTER),
	MSG_NAME(RTM_DELTFILTER),  MSG_NAME(RTM_GETTFILTER),  MSG_NAME(RTM_NEWACTION),
	MSG_NAME(RTM_DELACTION),   MSG_NAME(RTM_GETACTION),   MSG_NAME(RTM_NEWNEIGHTBL),
	MSG_NAME(RTM_GETNEIGHTBL), MSG_NAME(RTM_SETNEIGHTBL), MSG_NAME(RTM_NEWNETCONF),
	MSG_NAME(RTM_GETNETCONF),  MSG_NAME(RTM_NEWNSID),     MSG_NAME(RTM_DELNSID),
	MSG_NAME(RTM_GETNSID),	   MSG_NAME(RTM_NEWSTATS),    MSG_NAME(RTM_GETSTATS),
	MSG_NAME(RTM_NEWNEXTHOP),  MSG_NAME(RTM_DELNEXTHOP),  MSG_NAME(RTM_GETNEXTHOP),
};

const char *nlsock_msg_name(unsigned type)
{
	/* Per thread, so the "message N" fallback needs no allocation and no lock */
	static _Thread_local char other[32];

	if (type < ARRAY_SIZE(msg_names) && msg_names[type])
		return msg_names[type];
	snprintf(other, sizeof(other), "message %u", type);
	return other;
}

/* NLMSGERR_ATTR_MSG out of the TLVs in [start, end); NULL if none or malformed. */
static const char *ack_text(const char *start, const char *end)
{
	const struct nlattr *attr = (const struct nlattr *)start;

	for (; mnl_attr_ok(attr, end - (const char *)attr); attr = mnl_attr_next(attr))
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	return NULL;
}

/*
 * The status of an NLMSG_ERROR is struct nlmsgerr, then the request's payload
 * unless NLM_F_CAPPED, then TLVs if NLM_F_ACK_TLVS. NLMSG_DONE carries an int
 * (the dump's status) and possibly TLVs after it.
 */
int nlsock_parse_ack(const struct nlmsghdr *nlh, int *ret_error, const char **ret_text,
		     nslab_error *err)
{
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	const char *payload = mnl_nlmsg_get_payload(nlh);
	size_t size = nlh->nlmsg_len >= MNL_NLMSG_HDRLEN ? nlh->nlmsg_len - MNL_NLMSG_HDRLEN : 0;
	size_t status_len = nlh->nlmsg_type == NLMSG_ERROR ? sizeof(struct nlmsgerr) : sizeof(int);
	int error;

	if (nlh->nlmsg_type != NLMSG_ERROR && nlh->nlmsg_type != NLMSG_DONE)
		return nslab_err_setx(err, EPROTO, "expected NLMSG_ERROR or NLMSG_DONE, got %s",
				      nlsock_msg_name(nlh->nlmsg_type));
	if (size < status_len) {
		if (nlh->nlmsg_type == NLMSG_DONE && size == 0) {
			*ret_error = 0; /* an old kernel's bare end of dump */
			*ret_text = NULL;
			return 0;
		}
		return nslab_err_setx(err, EPROTO, "truncated %s (%zu bytes)",
				      nlsock_msg_name(nlh->nlmsg_type), size);
	}
	memcpy(&error, payload, sizeof(error));
	if (error > 0 || error < -4095) /* MAX_ERRNO */
		return nslab_err_setx(err, EPROTO, "%s carries an invalid error %d",
				      nlsock_msg_name(nlh->nlmsg_type), error);
	if (nlh->nlmsg_type == NLMSG_ERROR && !(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		const struct nlmsgerr *e = (const void *)payload;

		if (e->msg.nlmsg_len < MNL_NLMSG_HDRLEN ||
		    e->msg.nlmsg_len - MNL_NLMSG_HDRLEN > size - status_len)
			return nslab_err_setx(err, EPROTO, "NLMSG_ERROR echoes %u bytes in %zu",
					      e->msg.nlmsg_len, size - status_len);
		status_len += e->msg.nlmsg_len - MNL_NLMSG_HDRLEN;
	}
	*ret_error = error;
	*ret_text = NULL;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS && MNL_ALIGN(status_len) < size)
		*ret_text = ack_text(payload + MNL_ALIGN(status_len), end);
	return 0;
}

/* Type of request idx in the talk's request buffer. */
static unsigned talk_req_type(const struct talk *t, unsigned idx)
{
	const struct nlmsghdr *nlh = (const void *)t->req;
	int len = (int)t->req_len;

	for (; nlsock_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		if (idx-- == 0)
			return nlh->nlmsg_type;
	return 0;
}

/* Record the first failure: "RTM_NEWADDR: cause (kernel: "text")", or "request 3 (RTM_NEWADDR): ...". */
static void talk_fail(struct talk *t, unsigned idx, int error, const char *text, nslab_error *err)
{
	const char *name = nlsock_msg_name(talk_req_type(t, idx));
	const char *cause = strerrordesc_np(-error);
	char what[64];

	if (t->r < 0 || (t->enoent_is_ok && error == -ENOENT))
		return;
	if (t->batch)
		snprintf(what, sizeof(what), "request %u (%s)", idx, name);
	else
		snprintf(what, sizeof(what), "%s", name);
	if (text && *text)
		t->r = nslab_err_setx(err, -error, "%s: %s (kernel: \"%s\")", what,
				      cause ? cause : "unknown error", text);
	else
		t->r = nslab_err_set(err, -error, "%s", what);
}

static int talk_end(struct talk *t, unsigned idx, const struct nlmsghdr *nlh, nslab_error *err)
{
	const char *text;
	int error, r;

	r = nlsock_parse_ack(nlh, &error, &text, err);
	if (r < 0)
		return r;
	if (!t->batch || idx == t->count - 1)
		t->pending--; /* earlier requests of a batch only ever answer failures */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->intr = true;
	if (error < 0)
		talk_fail(t, idx, error, text, err);
	return 0;
}

static void talk_data(struct nlsock *nl, struct talk *t, unsigned idx, const struct nlmsghdr *nlh,
		      nslab_error *err)
{
	int r;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		t->intr = true;
	if (!t->cb || t->stopped || t->r < 0)
		return;
	nl->cb_r = 0;
	r = t->cb(nlh, t->data);
	if (r >= MNL_CB_OK)
		return;
	t->stopped = true;
	if (r == MNL_CB_STOP || t->r < 0)
		return;
	if (nl->cb_r < 0)
		t->r = nl->cb_r; /* the callback filled err */
	else
		t->r = nslab_err_setx(err, EPROTO, "%s: cannot handle the reply",
				      nlsock_msg_name(talk_req_type(t, idx)));
}

static int talk_msg(struct nlsock *nl, struct talk *t, const struct nlmsghdr *nlh, nslab_error *err)
{
	uint32_t idx = nlh->nlmsg_seq - t->seq;

	if (nlh->nlmsg_pid && nlh->nlmsg_pid != nl->portid)
		return nslab_err_setx(err, EPROTO, "reply for port %u on port %u", nlh->nlmsg_pid,
				      nl->portid);
	if (idx >= t->count)
		return 0; /* stale, see DOC above */
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return 0;
	case NLMSG_OVERRUN:
		return nslab_err_setx(err, EPROTO, "netlink overrun");
	case NLMSG_ERROR:
	case NLMSG_DONE:
		return talk_end(t, idx, nlh, err);
	default:
		talk_data(nl, t, idx, nlh, err);
		return 0;
	}
}

ssize_t nlsock_recv_kernel(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1
	};

	for (;;) {
		ssize_t n = recvmsg(fd, &mh, flags);

		if (n < 0)
			return n;
		if (mh.msg_flags & MSG_TRUNC) {
			errno = ENOSPC;
			return -1;
		}
		/* anyone may send to our port: only the kernel (nl_pid 0) is listened to */
		if (mh.msg_namelen == sizeof(sa) && sa.nl_family == AF_NETLINK && sa.nl_pid == 0)
			return n;
		mh.msg_namelen = sizeof(sa);
		mh.msg_flags = 0;
	}
}

/*
 * A trace event takes at most about 1.1 KiB (three 256-byte names, headers
 * of 20, 40 and 20 bytes): sixteen a call, a packet's twenty in two.
 */
#define QUEUED_SLOT  2048
#define QUEUED_SLOTS (NL_DUMP_BUFSIZ / QUEUED_SLOT)

static bool from_kernel(const struct mmsghdr *m)
{
	const struct sockaddr_nl *sa = m->msg_hdr.msg_name;

	return m->msg_hdr.msg_namelen == sizeof(*sa) && sa->nl_family == AF_NETLINK &&
	       sa->nl_pid == 0;
}

int nlsock_recv_queued(struct nlsock *nl, nlsock_datagram_fn fn, void *data)
{
	struct sockaddr_nl sa[QUEUED_SLOTS];
	struct iovec iov[QUEUED_SLOTS];
	struct mmsghdr m[QUEUED_SLOTS];
	int n = QUEUED_SLOTS;

	/* fewer than asked for: the queue was empty when recvmmsg() stopped */
	while (n == QUEUED_SLOTS) {
		for (int i = 0; i < QUEUED_SLOTS; i++) {
			iov[i] = (struct iovec){ nl->buf + i * QUEUED_SLOT, QUEUED_SLOT };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sa[i],
							      .msg_namelen = sizeof(sa[i]),
							      .msg_iov = &iov[i],
							      .msg_iovlen = 1 } };
		}
		n = recvmmsg(nlsock_fd(nl), m, QUEUED_SLOTS, MSG_DONTWAIT, NULL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		for (int i = 0; i < n; i++) {
			if (m[i].msg_hdr.msg_flags & MSG_TRUNC) {
				errno = ENOSPC;
				return -1;
			}
			if (from_kernel(&m[i]))
				fn(iov[i].iov_base, m[i].msg_len, data);
		}
	}
	return 0;
}

static int talk_recv_one(struct nlsock *nl, struct talk *t, nslab_error *err)
{
	const struct nlmsghdr *nlh = (const void *)nl->buf;
	ssize_t n;
	int len, r;

	n = nlsock_recv_kernel(nlsock_fd(nl), nl->buf, sizeof(nl->buf), 0);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		return nslab_err_set(err, errno, "receive netlink reply");
	for (len = (int)n; nlsock_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		r = talk_msg(nl, t, nlh, err);
		if (r < 0)
			return r;
	}
	if (len > 0)
		return nslab_err_setx(err, EPROTO, "truncated netlink reply (%d bytes left)", len);
	return 0;
}

/* Number each request, send them all at once, and read until each has ended. */
static int talk_run(struct nlsock *nl, struct talk *t, nslab_error *err)
{
	struct nlmsghdr *nlh = (void *)t->req;
	int len = (int)t->req_len, r;
	ssize_t n;

	struct nlmsghdr *last = NULL;

	t->seq = nl->seq + 1;
	for (t->count = 0; nlsock_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		nlh->nlmsg_seq = t->seq + t->count++;
		nlh->nlmsg_pid = 0;
		/*
		 * In a batch only the last request asks for an ACK: the kernel
		 * handles them in order and answers a failing one whatever its
		 * flags, so the last ACK closes the batch with one read instead of one a request.
		 */
		nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
		if (t->batch)
			nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
		last = nlh;
	}
	if (len > 0 || t->count == 0)
		return nslab_err_setx(err, EINVAL, "malformed netlink request buffer");
	last->nlmsg_flags |= NLM_F_ACK;
	nl->seq += t->count;
	t->pending = t->batch ? 1 : t->count;
	n = mnl_socket_sendto(nl->mnl, t->req, t->req_len);
	if (n < 0 || (size_t)n != t->req_len)
		return nslab_err_set(err, n < 0 ? errno : EIO, "send %s",
				     nlsock_msg_name(talk_req_type(t, 0)));
	while (t->pending > 0) {
		r = talk_recv_one(nl, t, err);
		if (r < 0)
			return r;
	}
	if (t->r == 0 && t->intr)
		return nslab_err_set(err, EAGAIN, "%s: dump interrupted by a concurrent change",
				     nlsock_msg_name(talk_req_type(t, 0)));
	return t->r;
}

int nlsock_talk(struct nlsock *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, nslab_error *err)
{
	struct talk t = { .req = (const char *)nlh, .cb = cb, .data = data };

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN)
		return nslab_err_setx(err, EINVAL, "netlink request of %u bytes", nlh->nlmsg_len);
	t.req_len = nlh->nlmsg_len;
	return talk_run(nl, &t, err);
}

void nlbatch_init(struct nlbatch *b, void *buf, size_t cap)
{
	*b = (struct nlbatch){ .buf = buf, .cap = cap };
}

void *nlbatch_tail(struct nlbatch *b)
{
	return b->buf + b->len;
}

size_t nlbatch_room(const struct nlbatch *b)
{
	return b->cap - b->len;
}

void nlbatch_push(struct nlbatch *b)
{
	const struct nlmsghdr *nlh = nlbatch_tail(b);

	/* A builder that succeeded wrote a whole, aligned message inside the room */
	assert(nlh->nlmsg_len >= MNL_NLMSG_HDRLEN && MNL_ALIGN(nlh->nlmsg_len) <= nlbatch_room(b));
	b->len += MNL_ALIGN(nlh->nlmsg_len);
	b->count++;
}

int nlsock_talk_batch(struct nlsock *nl, struct nlbatch *b, nslab_error *err)
{
	return nlsock_talk_batch_cb(nl, b, NULL, NULL, err);
}

int nlsock_talk_batch_cb(struct nlsock *nl, struct nlbatch *b, mnl_cb_t cb, void *data,
			 nslab_error *err)
{
	struct talk t = { .req = b->buf,
			  .req_len = b->len,
			  .batch = true,
			  .enoent_is_ok = b->enoent_is_ok,
			  .cb = cb,
			  .data = data };
	int r = 0;

	if (b->count > 0)
		r = talk_run(nl, &t, err);
	b->len = 0;
	b->count = 0;
	return r;
}

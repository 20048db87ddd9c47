/* SPDX-License-Identifier: MIT */
/* nl/ct: conntrack requests (see ct.h). */
#include "nl/ct.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include "nl/conntrack-dl.h"

#include "shared/macro.h"

int ct_build_flush(void *buf, size_t len, nslab_error *err)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return nslab_err_setx(err, EMSGSIZE, "conntrack flush does not fit in %zu bytes",
				      len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return 0;
}

int ct_flush(struct nlsock *nl, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ];
	int r = ct_build_flush(buf, sizeof(buf), err);

	if (r < 0)
		return r;
	r = nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
	/* an empty table answers ENOENT on older kernels */
	if (r == -ENOENT)
		return 0;
	return r < 0 ? nslab_err_prefix(err, r, "flush conntrack") : 0;
}

const char *ct_tcp_state_name(uint8_t state)
{
	static const char *const names[] = { "NONE",	 "SYN_SENT",   "SYN_RECV", "ESTABLISHED",
					     "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
					     "CLOSE",	 "SYN_SENT2" };

	return state < ARRAY_SIZE(names) ? names[state] : "?";
}

static void nfct_destroyp(struct nf_conntrack **p)
{
	if (*p)
		dl_nfct.nfct_destroy(*p);
}

/* An address attribute, if the message had it (dl_nfct.nfct_get_attr() is NULL otherwise). */
static void copy_attr(const struct nf_conntrack *ct, enum nf_conntrack_attr attr, uint8_t *dst,
		      size_t len)
{
	const void *p = dl_nfct.nfct_attr_is_set(ct, attr) ? dl_nfct.nfct_get_attr(ct, attr) : NULL;

	if (p)
		memcpy(dst, p, len);
}

static void get_addrs(const struct nf_conntrack *ct, struct ct_entry *e)
{
	bool v4 = e->family == AF_INET;
	size_t n = v4 ? 4 : 16;

	copy_attr(ct, v4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC, e->src, n);
	copy_attr(ct, v4 ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST, e->dst, n);
	copy_attr(ct, v4 ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV6_SRC, e->rsrc, n);
	copy_attr(ct, v4 ? ATTR_REPL_IPV4_DST : ATTR_REPL_IPV6_DST, e->rdst, n);
}

/* Port attributes exist for TCP, UDP, SCTP, DCCP, UDP-Lite (big endian). */
static void get_ports(const struct nf_conntrack *ct, struct ct_entry *e)
{
	if (!dl_nfct.nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) ||
	    !dl_nfct.nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST) ||
	    !dl_nfct.nfct_attr_is_set(ct, ATTR_REPL_PORT_SRC) ||
	    !dl_nfct.nfct_attr_is_set(ct, ATTR_REPL_PORT_DST))
		return;
	e->sport = ntohs(dl_nfct.nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
	e->dport = ntohs(dl_nfct.nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	e->rsport = ntohs(dl_nfct.nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
	e->rdport = ntohs(dl_nfct.nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
}

/* Whether nlh is a ctnetlink message of type t, long enough for its header. */
static bool is_ct_msg(const struct nlmsghdr *nlh, unsigned t)
{
	return nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nfgenmsg) &&
	       NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK &&
	       NFNL_MSG_TYPE(nlh->nlmsg_type) == t;
}

static int parse_entry(const struct nlmsghdr *nlh, struct ct_entry *ret, nslab_error *err);

int ct_parse(const struct nlmsghdr *nlh, struct ct_entry *ret, nslab_error *err)
{
	if (!is_ct_msg(nlh, IPCTNL_MSG_CT_NEW))
		return nslab_err_setx(err, ENOENT, "not a conntrack entry");
	return parse_entry(nlh, ret, err);
}

int ct_parse_event(const struct nlmsghdr *nlh, struct ct_entry *ret, bool *ret_destroyed,
		   nslab_error *err)
{
	bool destroyed = is_ct_msg(nlh, IPCTNL_MSG_CT_DELETE);
	int r;

	if (!destroyed && !is_ct_msg(nlh, IPCTNL_MSG_CT_NEW))
		return nslab_err_setx(err, ENOENT, "not a conntrack event");
	r = parse_entry(nlh, ret, err);
	if (r >= 0)
		*ret_destroyed = destroyed;
	return r;
}

static int parse_entry(const struct nlmsghdr *nlh, struct ct_entry *ret, nslab_error *err)
{
	_cleanup_(nfct_destroyp) struct nf_conntrack *ct = NULL;
	struct ct_entry e = { 0 };
	int r;

	r = dl_nfct_load(err);
	if (r < 0)
		return r;
	ct = dl_nfct.nfct_new();
	if (!ct)
		return nslab_err_set(err, ENOMEM, "allocate a conntrack entry");
	if (dl_nfct.nfct_nlmsg_parse(nlh, ct) < 0 ||
	    !dl_nfct.nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO) ||
	    !dl_nfct.nfct_attr_is_set(ct, ATTR_ORIG_L4PROTO))
		return nslab_err_setx(err, EPROTO, "malformed conntrack entry");
	e.family = dl_nfct.nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	e.proto = dl_nfct.nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (e.family != AF_INET && e.family != AF_INET6)
		return nslab_err_setx(err, EPROTO, "conntrack entry of family %d", e.family);
	get_addrs(ct, &e);
	get_ports(ct, &e);
	e.has_icmp_id = dl_nfct.nfct_attr_is_set(ct, ATTR_ICMP_ID);
	if (e.has_icmp_id)
		e.icmp_id = ntohs(dl_nfct.nfct_get_attr_u16(ct, ATTR_ICMP_ID));
	e.has_tcp_state = dl_nfct.nfct_attr_is_set(ct, ATTR_TCP_STATE);
	if (e.has_tcp_state)
		e.tcp_state = dl_nfct.nfct_get_attr_u8(ct, ATTR_TCP_STATE);
	if (dl_nfct.nfct_attr_is_set(ct, ATTR_STATUS))
		e.status = dl_nfct.nfct_get_attr_u32(ct, ATTR_STATUS);
	e.has_counters = dl_nfct.nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_BYTES);
	if (e.has_counters) {
		e.orig_packets = dl_nfct.nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS);
		e.orig_bytes = dl_nfct.nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES);
		e.repl_packets = dl_nfct.nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS);
		e.repl_bytes = dl_nfct.nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES);
	}
	*ret = e;
	return 0;
}

struct dump_ctx {
	ct_dump_cb cb;
	void *data;
	int r;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct ct_entry e;

	if (ct_parse(nlh, &e, NULL) < 0)
		return MNL_CB_OK; /* not an entry (or one we cannot read): skipped */
	d->r = d->cb(&e, d->data);
	return d->r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int ct_dump(struct nlsock *nl, int family, ct_dump_cb cb, void *data, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct dump_ctx d = { cb, data, 0 };
	struct nfgenmsg *nfg;
	int r;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	r = nlsock_talk(nl, nlh, dump_cb, &d, err);
	if (d.r < 0)
		return d.r;
	return r < 0 ? nslab_err_prefix(err, r, "dump conntrack") : 0;
}

static void set_tuple(struct nf_conntrack *ct, const struct ct_entry *q)
{
	dl_nfct.nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, (uint8_t)q->family);
	dl_nfct.nfct_set_attr_u8(ct, ATTR_ORIG_L4PROTO, (uint8_t)q->proto);
	if (q->family == AF_INET) {
		dl_nfct.nfct_set_attr(ct, ATTR_ORIG_IPV4_SRC, q->src);
		dl_nfct.nfct_set_attr(ct, ATTR_ORIG_IPV4_DST, q->dst);
	} else {
		dl_nfct.nfct_set_attr(ct, ATTR_ORIG_IPV6_SRC, q->src);
		dl_nfct.nfct_set_attr(ct, ATTR_ORIG_IPV6_DST, q->dst);
	}
	if (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) {
		dl_nfct.nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(q->sport));
		dl_nfct.nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(q->dport));
	} else if (q->has_icmp_id) {
		dl_nfct.nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, q->family == AF_INET ? 8 : 128);
		dl_nfct.nfct_set_attr_u8(ct, ATTR_ICMP_CODE, 0);
		dl_nfct.nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(q->icmp_id));
	}
}

int ct_build_get(void *buf, size_t len, const struct ct_entry *q, nslab_error *err)
{
	return ct_build_tuple_msg(buf, len, true, q, err);
}

int ct_build_tuple_msg(void *buf, size_t len, bool get, const struct ct_entry *q, nslab_error *err)
{
	_cleanup_(nfct_destroyp) struct nf_conntrack *ct = NULL;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	int r = dl_nfct_load(err);

	if (r < 0)
		return r;
	ct = dl_nfct.nfct_new();
	if (!ct)
		return nslab_err_set(err, ENOMEM, "allocate a conntrack tuple");
	if (len < 512) /* a tuple's attributes take about 120 bytes */
		return nslab_err_setx(err, EMSGSIZE, "conntrack get does not fit in %zu bytes",
				      len);
	memset(buf, 0, 512);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type =
		(NFNL_SUBSYS_CTNETLINK << 8) | (get ? IPCTNL_MSG_CT_GET : IPCTNL_MSG_CT_DELETE);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)q->family;
	nfg->version = NFNETLINK_V0;
	set_tuple(ct, q);
	if (dl_nfct.nfct_nlmsg_build(nlh, ct) < 0)
		return nslab_err_set(err, errno ? errno : EINVAL, "build a conntrack %s",
				     get ? "get" : "delete");
	return 0;
}

struct get_ctx {
	struct ct_entry *ret;
	bool found;
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *g = data;

	if (ct_parse(nlh, g->ret, NULL) == 0)
		g->found = true;
	return MNL_CB_OK;
}

int ct_get(struct nlsock *nl, const struct ct_entry *q, struct ct_entry *ret, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct ct_entry e;
	struct get_ctx g = { &e, false };
	int r = ct_build_get(buf, sizeof(buf), q, err);

	if (r >= 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, get_cb, &g, NULL);
	if (r == -ENOENT || (r >= 0 && !g.found))
		return -ENOENT;
	if (r < 0)
		return nslab_err_set(err, -r, "look up a conntrack entry");
	*ret = e;
	return 0;
}

static int count_attr_cb(const struct nlattr *a, void *data)
{
	unsigned *n = data;

	if (mnl_attr_get_type(a) == CTA_STATS_GLOBAL_ENTRIES &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*n = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

struct count_ctx {
	unsigned n;
	bool found;
};

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count_ctx *c = data;

	/* the statistics, not a batch's other answers */
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return MNL_CB_OK;
	c->n = UINT32_MAX;
	(void)mnl_attr_parse(nlh, sizeof(struct nfgenmsg), count_attr_cb, &c->n);
	c->found = c->n != UINT32_MAX;
	return MNL_CB_OK;
}

int ct_build_count(void *buf, size_t len, nslab_error *err)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return nslab_err_setx(err, EMSGSIZE, "conntrack count does not fit in %zu bytes",
				      len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	return 0;
}

int ct_count(struct nlsock *nl, unsigned *ret, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct count_ctx c = { 0, false };
	int r = ct_build_count(buf, sizeof(buf), err);

	if (r >= 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, count_cb, &c, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "count conntrack entries");
	if (!c.found)
		return nslab_err_setx(err, EPROTO, "conntrack statistics without an entry count");
	*ret = c.n;
	return 0;
}

int ct_delete_and_count(struct nlsock *nl, const struct ct_entry *q, size_t n, unsigned *ret_left,
			nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct count_ctx c = { 0, false };
	struct nlbatch b;
	int r = 0;

	nlbatch_init(&b, buf, sizeof(buf));
	b.enoent_is_ok = true;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		/* room for this tuple (ct_build_tuple_msg() wants 512 bytes) and the count */
		if (nlbatch_room(&b) < 1024)
			r = nlsock_talk_batch(nl, &b, err);
		if (r >= 0)
			r = ct_build_tuple_msg(nlbatch_tail(&b), nlbatch_room(&b), false, &q[i],
					       err);
		if (r >= 0)
			nlbatch_push(&b);
	}
	if (r >= 0)
		r = ct_build_count(nlbatch_tail(&b), nlbatch_room(&b), err);
	if (r >= 0) {
		nlbatch_push(&b);
		r = nlsock_talk_batch_cb(nl, &b, count_cb, &c, err);
	}
	if (r < 0)
		return nslab_err_prefix(err, r, "delete conntrack entries");
	if (!c.found)
		return nslab_err_setx(err, EPROTO, "conntrack statistics without an entry count");
	*ret_left = c.n;
	return 0;
}

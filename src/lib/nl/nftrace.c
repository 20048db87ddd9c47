/* SPDX-License-Identifier: MIT */
/* nl/nftrace: nftables trace events (see nftrace.h). */
#include "nl/nftrace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>

#include "shared/macro.h"

/*
 * Linux 6.8 added NFTA_TRACE_CT_ID (18), _CT_DIRECTION (19), _CT_STATUS (20)
 * and _CT_STATE (21) after NFTA_TRACE_PAD (17); Debian 12's headers predate them.
 */
#define NFTRACE_ATTR_CT_STATE 21

static void nftnl_trace_freep(struct nftnl_trace **p)
{
	if (*p)
		nftnl_trace_free(*p);
}

const char *nftrace_verdict_name(enum nftrace_verdict v)
{
	switch (v) {
	case NFTRACE_V_ACCEPT:
		return "accept";
	case NFTRACE_V_DROP:
		return "drop";
	case NFTRACE_V_CONTINUE:
		return "continue";
	case NFTRACE_V_RETURN:
		return "return";
	case NFTRACE_V_JUMP:
		return "jump";
	case NFTRACE_V_GOTO:
		return "goto";
	case NFTRACE_V_QUEUE:
		return "queue";
	case NFTRACE_V_STOLEN:
		return "stolen";
	case NFTRACE_V_OTHER:
		return "other";
	case NFTRACE_V_NONE:
		break;
	}
	return "none";
}

static enum nftrace_verdict verdict_of(uint32_t code)
{
	switch ((int32_t)code) {
	case NF_ACCEPT:
		return NFTRACE_V_ACCEPT;
	case NF_DROP:
		return NFTRACE_V_DROP;
	case NF_QUEUE:
		return NFTRACE_V_QUEUE;
	case NF_STOLEN:
		return NFTRACE_V_STOLEN;
	case NFT_CONTINUE:
		return NFTRACE_V_CONTINUE;
	case NFT_RETURN:
		return NFTRACE_V_RETURN;
	case NFT_JUMP:
		return NFTRACE_V_JUMP;
	case NFT_GOTO:
		return NFTRACE_V_GOTO;
	default:
		/* NF_QUEUE with a queue number, NF_DROP with an errno in the upper bits */
		if ((code & NF_VERDICT_MASK) == NF_DROP)
			return NFTRACE_V_DROP;
		if ((code & NF_VERDICT_MASK) == NF_QUEUE)
			return NFTRACE_V_QUEUE;
		return NFTRACE_V_OTHER;
	}
}

static void copy_str(const struct nftnl_trace *t, uint16_t attr, char *buf, size_t len)
{
	const char *s = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_str(t, attr) : NULL;
	size_t n = s ? strnlen(s, len - 1) : 0;

	/* as snprintf("%s"), without its cost: three names an event, twenty events a packet */
	memcpy(buf, s ? s : "", n);
	buf[n] = '\0';
}

static void copy_hdr(const struct nftnl_trace *t, uint16_t attr, uint8_t *buf, size_t *ret_len)
{
	uint32_t len = 0;
	const void *d = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_data(t, attr, &len) : NULL;

	if (!d)
		len = 0;
	if (len > NFTRACE_HDR_MAX)
		len = NFTRACE_HDR_MAX;
	if (len)
		memcpy(buf, d, len);
	*ret_len = len;
}

static uint32_t get_u32(const struct nftnl_trace *t, uint16_t attr)
{
	return nftnl_trace_is_set(t, attr) ? nftnl_trace_get_u32(t, attr) : 0;
}

/* The conntrack state attribute libnftnl 1.2 does not know, read with libmnl. */
static void parse_ct_state(const struct nlmsghdr *nlh, struct nftrace_event *ev)
{
	const struct nlattr *a;

	mnl_attr_for_each (a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTRACE_ATTR_CT_STATE &&
		    mnl_attr_get_payload_len(a) == sizeof(uint32_t)) {
			ev->has_ct_state = true;
			ev->ct_state = ntohl(mnl_attr_get_u32(a));
		}
	}
}

static void fill_event(const struct nftnl_trace *t, struct nftrace_event *ev)
{
	ev->id = get_u32(t, NFTNL_TRACE_ID);
	ev->type = get_u32(t, NFTNL_TRACE_TYPE);
	ev->family = get_u32(t, NFTNL_TRACE_FAMILY);
	ev->nfproto = get_u32(t, NFTNL_TRACE_NFPROTO);
	copy_str(t, NFTNL_TRACE_TABLE, ev->table, sizeof(ev->table));
	copy_str(t, NFTNL_TRACE_CHAIN, ev->chain, sizeof(ev->chain));
	ev->has_rule = nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE);
	if (ev->has_rule)
		ev->rule_handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT))
		ev->verdict = verdict_of(nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT));
	copy_str(t, NFTNL_TRACE_JUMP_TARGET, ev->jump_target, sizeof(ev->jump_target));
	ev->policy = get_u32(t, NFTNL_TRACE_POLICY);
	ev->iif = get_u32(t, NFTNL_TRACE_IIF);
	ev->oif = get_u32(t, NFTNL_TRACE_OIF);
	ev->mark = get_u32(t, NFTNL_TRACE_MARK);
	copy_hdr(t, NFTNL_TRACE_NETWORK_HEADER, ev->nh, &ev->nh_len);
	copy_hdr(t, NFTNL_TRACE_TRANSPORT_HEADER, ev->th, &ev->th_len);
}

int nftrace_parse(const struct nlmsghdr *nlh, struct nftrace_event *ret, nslab_error *err)
{
	_cleanup_(nftnl_trace_freep) struct nftnl_trace *t = NULL;
	struct nftrace_event ev = { 0 };

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return nslab_err_setx(err, ENOENT, "not an nftables message");
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_TRACE)
		return nslab_err_setx(err, ENOENT, "not a trace message");
	t = nftnl_trace_alloc();
	if (!t)
		return nslab_err_set(err, ENOMEM, "allocate a trace");
	if (nftnl_trace_nlmsg_parse(nlh, t) < 0)
		return nslab_err_setx(err, EPROTO, "malformed trace message");
	fill_event(t, &ev);
	parse_ct_state(nlh, &ev);
	*ret = ev;
	return 0;
}

#define TRACE_RCVBUF (32 << 20)

int nftrace_open(struct nlsock **ret, nslab_error *err)
{
	_cleanup_(nlsock_freep) struct nlsock *nl = NULL;
	int grp = NFNLGRP_NFTRACE, fd, r;

	r = nlsock_open(NETLINK_NETFILTER, &nl, err);
	if (r < 0)
		return r;
	fd = nlsock_fd(nl);
	/*
	 * Every packet of the rules node is traced, and a lab of a few hundred
	 * nodes starts with a burst of neighbour discovery: room for it, so that
	 * the tests' own traces are not dropped (ENOBUFS) behind it.
	 */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ TRACE_RCVBUF }, sizeof(int));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0)
		return nslab_err_set(err, errno, "subscribe to nftables traces");
	*ret = TAKE_PTR(nl);
	return 0;
}

struct read_ctx {
	nftrace_cb cb;
	void *data;
	int n;
};

static void read_datagram(const void *buf, size_t len, void *data)
{
	struct read_ctx *c = data;
	const struct nlmsghdr *nlh = buf;

	for (int left = (int)len; nlsock_msg_ok(nlh, left);
	     left -= (int)NLMSG_ALIGN(nlh->nlmsg_len),
		 nlh = (const struct nlmsghdr *)((const char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len))) {
		struct nftrace_event ev;

		if (nftrace_parse(nlh, &ev, NULL) == 0) {
			if (c->cb)
				c->cb(&ev, c->data);
			c->n++;
		}
		if (NLMSG_ALIGN(nlh->nlmsg_len) >= (unsigned)left)
			break;
	}
}

int nftrace_read(struct nlsock *nl, nftrace_cb cb, void *data, nslab_error *err)
{
	struct read_ctx c = { cb, data, 0 };

	/*
	 * ENOBUFS: the kernel dropped traces (a big lab's neighbour discovery
	 * can flood the socket); the socket still works, and a packet whose
	 * trace was lost shows as inconclusive, never wrong.
	 */
	while (nlsock_recv_queued(nl, read_datagram, &c) < 0)
		if (errno != EINTR && errno != ENOBUFS)
			return nslab_err_set(err, errno, "read nftables traces");
	return c.n;
}

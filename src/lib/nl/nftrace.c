/* SPDX-License-Identifier: MIT */
/* nl/nftrace: nftables trace events (see nftrace.h). */
#include "nl/nftrace.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>

#include "shared/macro.h"

/*
 * Linux 6.8 added NFTA_TRACE_CT_ID (18), _CT_DIRECTION (19), _CT_STATUS (20)
 * and _CT_STATE (21) after NFTA_TRACE_PAD (17); Debian 12's headers predate them.
 */
#define NFTRACE_ATTR_CT_STATE 21

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

/*
 * The attributes a trace message carries, by type: the kernel's
 * NFTA_TRACE_*, up to the conntrack state Linux 6.8 added.
 */
#define TRACE_ATTR_MAX NFTRACE_ATTR_CT_STATE

/* mnl_attr_parse() callback: each known attribute's type and length checked (libnftnl's rules). */
static int trace_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	enum mnl_attr_data_type want;

	switch (mnl_attr_get_type(a)) {
	case NFTA_TRACE_TABLE:
	case NFTA_TRACE_CHAIN:
		want = MNL_TYPE_NUL_STRING;
		break;
	case NFTA_TRACE_IIFTYPE:
	case NFTA_TRACE_OIFTYPE:
		want = MNL_TYPE_U16;
		break;
	case NFTA_TRACE_RULE_HANDLE:
		want = MNL_TYPE_U64;
		break;
	case NFTA_TRACE_VERDICT:
		want = MNL_TYPE_NESTED;
		break;
	case NFTA_TRACE_LL_HEADER:
	case NFTA_TRACE_NETWORK_HEADER:
	case NFTA_TRACE_TRANSPORT_HEADER:
		want = MNL_TYPE_BINARY;
		break;
	case NFTA_TRACE_ID:
	case NFTA_TRACE_TYPE:
	case NFTA_TRACE_IIF:
	case NFTA_TRACE_OIF:
	case NFTA_TRACE_MARK:
	case NFTA_TRACE_NFPROTO:
	case NFTA_TRACE_POLICY:
	case NFTRACE_ATTR_CT_STATE:
		want = MNL_TYPE_U32;
		break;
	default:
		return MNL_CB_OK; /* not read (the conntrack id, direction, status) or unknown */
	}
	if (mnl_attr_validate(a, want) < 0)
		return MNL_CB_ERROR;
	tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int verdict_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type != NFTA_VERDICT_CODE && type != NFTA_VERDICT_CHAIN)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, type == NFTA_VERDICT_CODE ? MNL_TYPE_U32 : MNL_TYPE_STRING) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

/* A string attribute into buf: at most len - 1 bytes, and never past its payload. */
static void copy_str(const struct nlattr *a, char *buf, size_t len)
{
	size_t n = a ? strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a)) : 0;

	if (n > len - 1)
		n = len - 1;
	if (n)
		memcpy(buf, mnl_attr_get_str(a), n);
	buf[n] = '\0';
}

static void copy_hdr(const struct nlattr *a, uint8_t *buf, size_t *ret_len)
{
	size_t len = a ? mnl_attr_get_payload_len(a) : 0;

	if (len > NFTRACE_HDR_MAX)
		len = NFTRACE_HDR_MAX;
	if (len)
		memcpy(buf, mnl_attr_get_payload(a), len);
	*ret_len = len;
}

static uint32_t get_u32(const struct nlattr *a)
{
	return a ? ntohl(mnl_attr_get_u32(a)) : 0;
}

/* The verdict and, for a jump or goto, its target chain. Return: 0, or -1 if malformed. */
static int parse_verdict(const struct nlattr *a, struct nftrace_event *ev)
{
	const struct nlattr *tb[NFTA_VERDICT_MAX + 1] = { NULL };
	int32_t code;

	if (mnl_attr_parse_nested(a, verdict_attr_cb, tb) < 0 || !tb[NFTA_VERDICT_CODE])
		return -1;
	code = (int32_t)ntohl(mnl_attr_get_u32(tb[NFTA_VERDICT_CODE]));
	ev->verdict = verdict_of((uint32_t)code);
	if (code != NFT_JUMP && code != NFT_GOTO)
		return 0;
	if (!tb[NFTA_VERDICT_CHAIN])
		return -1;
	copy_str(tb[NFTA_VERDICT_CHAIN], ev->jump_target, sizeof(ev->jump_target));
	return 0;
}

static int fill_event(const struct nlmsghdr *nlh, const struct nlattr *const *tb,
		      struct nftrace_event *ev)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	ev->family = nfg->nfgen_family;
	ev->id = get_u32(tb[NFTA_TRACE_ID]);
	ev->type = get_u32(tb[NFTA_TRACE_TYPE]);
	ev->nfproto = get_u32(tb[NFTA_TRACE_NFPROTO]);
	copy_str(tb[NFTA_TRACE_TABLE], ev->table, sizeof(ev->table));
	copy_str(tb[NFTA_TRACE_CHAIN], ev->chain, sizeof(ev->chain));
	ev->has_rule = tb[NFTA_TRACE_RULE_HANDLE] != NULL;
	if (ev->has_rule)
		ev->rule_handle = be64toh(mnl_attr_get_u64(tb[NFTA_TRACE_RULE_HANDLE]));
	if (tb[NFTA_TRACE_VERDICT] && parse_verdict(tb[NFTA_TRACE_VERDICT], ev) < 0)
		return -1;
	ev->policy = get_u32(tb[NFTA_TRACE_POLICY]);
	ev->iif = get_u32(tb[NFTA_TRACE_IIF]);
	ev->oif = get_u32(tb[NFTA_TRACE_OIF]);
	ev->mark = get_u32(tb[NFTA_TRACE_MARK]);
	copy_hdr(tb[NFTA_TRACE_NETWORK_HEADER], ev->nh, &ev->nh_len);
	copy_hdr(tb[NFTA_TRACE_TRANSPORT_HEADER], ev->th, &ev->th_len);
	ev->has_ct_state = tb[NFTRACE_ATTR_CT_STATE] != NULL;
	ev->ct_state = get_u32(tb[NFTRACE_ATTR_CT_STATE]);
	return 0;
}

int nftrace_parse(const struct nlmsghdr *nlh, struct nftrace_event *ret, nslab_error *err)
{
	const struct nlattr *tb[TRACE_ATTR_MAX + 1] = { NULL };
	struct nftrace_event ev = { 0 };

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return nslab_err_setx(err, ENOENT, "not an nftables message");
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_TRACE)
		return nslab_err_setx(err, ENOENT, "not a trace message");
	/* the id and the type are what libnftnl insists on too */
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), trace_attr_cb, tb) < 0 ||
	    !tb[NFTA_TRACE_ID] || !tb[NFTA_TRACE_TYPE] || fill_event(nlh, tb, &ev) < 0)
		return nslab_err_setx(err, EPROTO, "malformed trace message");
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

/* SPDX-License-Identifier: MIT */
/*
 * nl/tc: clsact and the wire backend's redirect filter over rtnetlink (the
 * attribute layout is iproute2's tc/f_u32.c and tc/m_mirred.c, no `tc` fork).
 */
#include "nl/tc.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <libmnl/libmnl.h>

static struct tcmsg *put_tcmsg(void *buf, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tc;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	tc = mnl_nlmsg_put_extra_header(nlh, sizeof(*tc));
	tc->tcm_family = AF_UNSPEC;
	tc->tcm_ifindex = ifindex;
	return tc;
}

int tc_build_clsact(void *buf, size_t len, int ifindex, bool add, nslab_error *err)
{
	struct tcmsg *tc;

	if (len < NL_REQ_BUFSIZ / 8)
		return nslab_err_setx(err, EMSGSIZE, "clsact request does not fit in %zu bytes",
				      len);
	tc = put_tcmsg(buf, add ? RTM_NEWQDISC : RTM_DELQDISC, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
		       ifindex);
	tc->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	tc->tcm_parent = TC_H_CLSACT;
	if (!mnl_attr_put_strz_check(buf, len, TCA_KIND, "clsact"))
		return nslab_err_setx(err, EMSGSIZE, "clsact request does not fit in %zu bytes",
				      len);
	return 0;
}

/* TCA_U32_ACT: one mirred action redirecting to ifindex (the frame is stolen). */
static bool put_mirred(struct nlmsghdr *nlh, size_t len, int to_ifindex)
{
	struct tc_mirred m = { .action = TC_ACT_STOLEN,
			       .eaction = TCA_EGRESS_REDIR,
			       .ifindex = (__u32)to_ifindex };
	struct nlattr *acts, *act, *opts;

	acts = mnl_attr_nest_start_check(nlh, len, TCA_U32_ACT);
	if (!acts)
		return false;
	act = mnl_attr_nest_start_check(nlh, len, 1); /* the action's order */
	if (!act || !mnl_attr_put_strz_check(nlh, len, TCA_ACT_KIND, "mirred"))
		return false;
	opts = mnl_attr_nest_start_check(nlh, len, TCA_ACT_OPTIONS);
	if (!opts || !mnl_attr_put_check(nlh, len, TCA_MIRRED_PARMS, sizeof(m), &m))
		return false;
	mnl_attr_nest_end(nlh, opts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	return true;
}

int tc_build_redirect(void *buf, size_t len, int ifindex, int to_ifindex, bool replace,
		      nslab_error *err)
{
	/* one key with mask 0: every frame matches (the selector ends in a flexible array) */
	_Alignas(struct tc_u32_sel) unsigned char s[sizeof(struct tc_u32_sel) +
						    sizeof(struct tc_u32_key)] = { 0 };
	struct tc_u32_sel *sel = (struct tc_u32_sel *)s;
	struct nlmsghdr *nlh = buf;
	struct nlattr *opts;
	struct tcmsg *tc;

	sel->flags = TC_U32_TERMINAL;
	sel->nkeys = 1;
	if (len < NL_REQ_BUFSIZ / 8)
		return nslab_err_setx(err, EMSGSIZE, "filter request does not fit in %zu bytes",
				      len);
	tc = put_tcmsg(buf, RTM_NEWTFILTER, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL),
		       ifindex);
	tc->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);
	tc->tcm_info = TC_H_MAKE((uint32_t)TC_WIRE_PRIO << 16, htons(ETH_P_ALL));
	if (!mnl_attr_put_strz_check(nlh, len, TCA_KIND, "u32"))
		goto too_big;
	opts = mnl_attr_nest_start_check(nlh, len, TCA_OPTIONS);
	if (!opts || !mnl_attr_put_check(nlh, len, TCA_U32_SEL, sizeof(s), &s) ||
	    !put_mirred(nlh, len, to_ifindex))
		goto too_big;
	mnl_attr_nest_end(nlh, opts);
	return 0;
too_big:
	return nslab_err_setx(err, EMSGSIZE, "filter request does not fit in %zu bytes", len);
}

int tc_clsact(struct nlsock *nl, int ifindex, bool add, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r = tc_build_clsact(buf, sizeof(buf), ifindex, add, err);

	if (r >= 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "%s clsact qdisc on ifindex %d",
					add ? "add" : "delete", ifindex);
	return 0;
}

int tc_redirect(struct nlsock *nl, int ifindex, int to_ifindex, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	int r = tc_build_redirect(buf, sizeof(buf), ifindex, to_ifindex, false, err);

	if (r >= 0)
		r = nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, err);
	if (r < 0)
		return nslab_err_prefix(err, r,
					"add the egress redirect of ifindex %d to ifindex %d "
					"(u32 + mirred: modules cls_u32 and act_mirred)",
					ifindex, to_ifindex);
	return 0;
}

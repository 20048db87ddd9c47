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
	_Alignas(struct tc_u32_sel) unsigned char
		s[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)] = { 0 };
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

#ifndef TCA_NETEM_PRNG_SEED
#define TCA_NETEM_PRNG_SEED 14 /* Linux 6.6; Debian 12's headers predate it */
#endif

static int netem_too_small(size_t len, nslab_error *err)
{
	return nslab_err_setx(err, EMSGSIZE, "netem request does not fit in %zu bytes", len);
}

/* The TCA_NETEM_* attributes after the qopt: only what is set, as tc sends them. */
static bool put_netem_attrs(struct nlmsghdr *nlh, size_t len, const struct tc_netem *q)
{
	struct tc_netem_corr corr = { q->delay_corr, q->loss_corr, q->dup_corr };
	struct tc_netem_reorder reorder = { q->reorder, q->reorder_corr };
	struct tc_netem_corrupt corrupt = { q->corrupt, q->corrupt_corr };
	struct tc_netem_rate rate = { .rate = q->rate_Bps > UINT32_MAX ? UINT32_MAX
								       : (uint32_t)q->rate_Bps };
	struct tc_netem_gemodel ge = { q->ge_p, q->ge_r, q->ge_h, q->ge_k1 };
	struct nlattr *loss;

	if ((corr.delay_corr || corr.loss_corr || corr.dup_corr) &&
	    !mnl_attr_put_check(nlh, len, TCA_NETEM_CORR, sizeof(corr), &corr))
		return false;
	if (q->reorder &&
	    !mnl_attr_put_check(nlh, len, TCA_NETEM_REORDER, sizeof(reorder), &reorder))
		return false;
	if (q->corrupt &&
	    !mnl_attr_put_check(nlh, len, TCA_NETEM_CORRUPT, sizeof(corrupt), &corrupt))
		return false;
	if (q->ge) {
		loss = mnl_attr_nest_start_check(nlh, len, TCA_NETEM_LOSS);
		if (!loss || !mnl_attr_put_check(nlh, len, NETEM_LOSS_GE, sizeof(ge), &ge))
			return false;
		mnl_attr_nest_end(nlh, loss);
	}
	if (q->rate_Bps && !mnl_attr_put_check(nlh, len, TCA_NETEM_RATE, sizeof(rate), &rate))
		return false;
	if (q->rate_Bps > UINT32_MAX &&
	    !mnl_attr_put_u64_check(nlh, len, TCA_NETEM_RATE64, q->rate_Bps))
		return false;
	/* 64-bit ns beside the qopt's 32-bit us, as tc does, for sub-us precision */
	if (q->latency_ns && !mnl_attr_put_u64_check(nlh, len, TCA_NETEM_LATENCY64, q->latency_ns))
		return false;
	if (q->jitter_ns && !mnl_attr_put_u64_check(nlh, len, TCA_NETEM_JITTER64, q->jitter_ns))
		return false;
	if (q->dist_n && !mnl_attr_put_check(nlh, len, TCA_NETEM_DELAY_DIST,
					     q->dist_n * sizeof(q->dist[0]), q->dist))
		return false;
	return !q->has_seed || mnl_attr_put_u64_check(nlh, len, TCA_NETEM_PRNG_SEED, q->seed);
}

int tc_build_netem(void *buf, size_t len, int ifindex, const struct tc_netem *q, nslab_error *err)
{
	struct nlmsghdr *nlh = buf;
	struct tc_netem_qopt qopt = {
		.latency = q->latency_ns / 1000 > UINT32_MAX ? UINT32_MAX
							     : (uint32_t)(q->latency_ns / 1000),
		.limit = q->limit ? q->limit : 1000,
		.loss = q->ge ? 0 : q->loss,
		.gap = q->gap,
		.duplicate = q->duplicate,
		.jitter = q->jitter_ns / 1000 > UINT32_MAX ? UINT32_MAX
							   : (uint32_t)(q->jitter_ns / 1000),
	};
	struct nlattr *opts;
	struct tcmsg *tc;

	if (len < NL_REQ_BUFSIZ / 8)
		return netem_too_small(len, err);
	/* tc: reordering needs a gap of at least 1 (0 would reorder nothing) */
	if (q->reorder && !qopt.gap)
		qopt.gap = 1;
	tc = put_tcmsg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex);
	tc->tcm_handle = TC_H_MAKE(0x4e530000u, 0); /* "NS": ours, for anyone who lists them */
	tc->tcm_parent = TC_H_ROOT;
	if (!mnl_attr_put_strz_check(nlh, len, TCA_KIND, "netem"))
		return netem_too_small(len, err);
	/* not a nest: the qopt struct first, then attributes inside the same TCA_OPTIONS */
	opts = mnl_attr_nest_start_check(nlh, len, TCA_OPTIONS);
	if (!opts || nlh->nlmsg_len + MNL_ALIGN(sizeof(qopt)) > len)
		return netem_too_small(len, err);
	memcpy(mnl_nlmsg_get_payload_tail(nlh), &qopt, sizeof(qopt));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(qopt));
	if (!put_netem_attrs(nlh, len, q))
		return netem_too_small(len, err);
	mnl_attr_nest_end(nlh, opts);
	opts->nla_type &= (uint16_t)~NLA_F_NESTED; /* netem reads a plain attribute */
	return 0;
}

int tc_build_root_del(void *buf, size_t len, int ifindex, nslab_error *err)
{
	struct tcmsg *tc;

	if (len < NL_REQ_BUFSIZ / 8)
		return nslab_err_setx(err, EMSGSIZE, "qdisc request does not fit in %zu bytes",
				      len);
	tc = put_tcmsg(buf, RTM_DELQDISC, 0, ifindex);
	tc->tcm_parent = TC_H_ROOT;
	return 0;
}

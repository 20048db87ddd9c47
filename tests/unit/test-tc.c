/* SPDX-License-Identifier: MIT */
/* tc builders: the clsact qdisc and the wire backend's redirect filter, read back attribute by attribute. */
#include "nl/tc.h"
#include "link/netem.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <cmocka.h>

static const struct nlattr *find(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested (a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static void test_clsact(void **state)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct tcmsg *tc;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(tc_build_clsact(buf, sizeof(buf), 7, true, &err), 0);
	tc = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWQDISC);
	assert_true(nlh->nlmsg_flags & NLM_F_EXCL);
	assert_int_equal(tc->tcm_ifindex, 7);
	assert_int_equal(tc->tcm_parent, TC_H_CLSACT);
	assert_int_equal(tc->tcm_handle, 0xffff0000u);
	assert_int_equal(tc_build_clsact(buf, sizeof(buf), 7, false, &err), 0);
	assert_int_equal(nlh->nlmsg_type, RTM_DELQDISC);
	assert_int_equal(tc_build_clsact(buf, 16, 7, true, &err), -EMSGSIZE);
}

static void test_redirect(void **state)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const struct nlattr *a, *opts = NULL, *acts, *act, *aopts;
	const struct tc_u32_sel *sel;
	const struct tc_mirred *m;
	struct tcmsg *tc;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(tc_build_redirect(buf, sizeof(buf), 3, 9, false, &err), 0);
	tc = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWTFILTER);
	assert_int_equal(tc->tcm_parent, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	assert_int_equal(TC_H_MIN(tc->tcm_info), htons(ETH_P_ALL));
	assert_int_equal(TC_H_MAJ(tc->tcm_info) >> 16, TC_WIRE_PRIO);
	mnl_attr_for_each (a, nlh, sizeof(*tc)) {
		if (mnl_attr_get_type(a) == TCA_KIND)
			assert_string_equal(mnl_attr_get_str(a), "u32");
		if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opts = a;
	}
	assert_non_null(opts);
	sel = mnl_attr_get_payload(find(opts, TCA_U32_SEL));
	assert_int_equal(sel->nkeys, 1);
	assert_true(sel->flags & TC_U32_TERMINAL);
	assert_int_equal(sel->keys[0].mask, 0); /* matches every frame */
	acts = find(opts, TCA_U32_ACT);
	assert_non_null(acts);
	act = find(acts, 1);
	assert_string_equal(mnl_attr_get_str(find(act, TCA_ACT_KIND)), "mirred");
	aopts = find(act, TCA_ACT_OPTIONS);
	m = mnl_attr_get_payload(find(aopts, TCA_MIRRED_PARMS));
	assert_int_equal(m->eaction, TCA_EGRESS_REDIR);
	assert_int_equal(m->action, TC_ACT_STOLEN);
	assert_int_equal(m->ifindex, 9);
}

#ifndef TCA_NETEM_PRNG_SEED
#define TCA_NETEM_PRNG_SEED 14
#endif

/* The attributes after the qopt inside TCA_OPTIONS (iproute2's layout), by type. */
static const struct nlattr *netem_attr(const struct nlattr *opts, uint16_t type)
{
	size_t off = MNL_ALIGN(sizeof(struct tc_netem_qopt));
	const char *p = (const char *)mnl_attr_get_payload(opts) + off;
	const char *end = (const char *)opts + opts->nla_len;

	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		assert_true(a->nla_len >= sizeof(*a) && p + a->nla_len <= end);
		if (mnl_attr_get_type(a) == type)
			return a;
		p += MNL_ALIGN(a->nla_len);
	}
	return NULL;
}

/* The request netem gets for "delay 20ms jitter 5ms 25% loss 1% 30% reorder 10% gap 5 ...". */
static void test_netem(void **state)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const char *w[] = { "delay", "20ms", "jitter",	  "5ms",     "correlation", "25%",
			    "loss",  "1%",   "30%",	  "reorder", "10%",	    "50%",
			    "gap",   "5",    "duplicate", "2%",	     "corrupt",	    "0.5%",
			    "5%",    "rate", "100mbit",	  "limit",   "15000b" };
	const struct tc_netem_qopt *qopt;
	const struct tc_netem_corr *corr;
	const struct tc_netem_reorder *reo;
	const struct tc_netem_corrupt *cor;
	const struct tc_netem_rate *rate;
	const struct nlattr *a, *opts = NULL;
	nslab_link_condition c;
	struct tcmsg *tc;
	struct tc_netem q;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_link_condition_parse(w, sizeof(w) / sizeof(w[0]), &c, &err), 0);
	assert_int_equal(netem_params(&c.up, 42, &q, &err), 0);
	assert_int_equal(tc_build_netem(buf, sizeof(buf), 5, &q, &err), 0);
	tc = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWQDISC);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_EXCL),
			 NLM_F_CREATE | NLM_F_REPLACE); /* replaced in one step */
	assert_int_equal(tc->tcm_ifindex, 5);
	assert_int_equal(tc->tcm_parent, TC_H_ROOT);
	mnl_attr_for_each (a, nlh, sizeof(*tc)) {
		if (mnl_attr_get_type(a) == TCA_KIND)
			assert_string_equal(mnl_attr_get_str(a), "netem");
		if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opts = a;
	}
	assert_non_null(opts);
	assert_false(opts->nla_type & NLA_F_NESTED); /* a struct first, not a nest */
	qopt = mnl_attr_get_payload(opts);
	assert_int_equal(qopt->latency, 20000);
	assert_int_equal(qopt->jitter, 5000);
	assert_int_equal(qopt->loss, 42949672); /* 1% of 2^32 - 1 */
	assert_int_equal(qopt->gap, 5);
	assert_int_equal(qopt->duplicate, 85899345);
	assert_int_equal(qopt->limit, 10); /* 15000 bytes in full frames */
	corr = mnl_attr_get_payload(netem_attr(opts, TCA_NETEM_CORR));
	assert_int_equal(corr->delay_corr, 1073741823);
	assert_int_equal(corr->loss_corr, 1288490188);
	assert_int_equal(corr->dup_corr, 0);
	reo = mnl_attr_get_payload(netem_attr(opts, TCA_NETEM_REORDER));
	assert_int_equal(reo->probability, 429496729);
	assert_int_equal(reo->correlation, 2147483647);
	cor = mnl_attr_get_payload(netem_attr(opts, TCA_NETEM_CORRUPT));
	assert_int_equal(cor->probability, 21474836);
	assert_int_equal(cor->correlation, 214748364);
	rate = mnl_attr_get_payload(netem_attr(opts, TCA_NETEM_RATE));
	assert_int_equal(rate->rate, 12500000);
	assert_null(netem_attr(opts, TCA_NETEM_RATE64)); /* only past 2^32 bytes/s */
	assert_int_equal(mnl_attr_get_u64(netem_attr(opts, TCA_NETEM_LATENCY64)), 20000000);
	assert_int_equal(mnl_attr_get_u64(netem_attr(opts, TCA_NETEM_JITTER64)), 5000000);
	assert_int_equal(mnl_attr_get_u64(netem_attr(opts, TCA_NETEM_PRNG_SEED)), 42);
	assert_null(netem_attr(opts, TCA_NETEM_LOSS));
	assert_int_equal(tc_build_netem(buf, 64, 5, &q, &err), -EMSGSIZE);
}

/* Gilbert-Elliott as the kernel keeps it (h, not 1-h); what netem cannot do is named. */
static void test_netem_ge_and_refusals(void **state)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	const char *ge[] = { "loss", "gemodel", "1%", "30%", "80%", "2%" };
	const char *trace[] = { "trace", "x.trace" }, *mtu[] = { "mtu", "1400" };
	const char *normal[] = { "delay", "9ms", "jitter", "1ms", "distribution", "normal" };
	const struct tc_netem_gemodel *g;
	const struct nlattr *a, *opts = NULL, *loss;
	nslab_link_condition c;
	struct tc_netem q;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_link_condition_parse(ge, 6, &c, &err), 0);
	assert_int_equal(netem_params(&c.up, 1, &q, &err), 0);
	assert_int_equal(tc_build_netem(buf, sizeof(buf), 2, &q, &err), 0);
	mnl_attr_for_each (a, nlh, sizeof(struct tcmsg))
		if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opts = a;
	assert_int_equal(((const struct tc_netem_qopt *)mnl_attr_get_payload(opts))->loss, 0);
	loss = netem_attr(opts, TCA_NETEM_LOSS);
	assert_non_null(loss);
	g = mnl_attr_get_payload(find(loss, NETEM_LOSS_GE));
	assert_int_equal(g->p, 42949672);
	assert_int_equal(g->r, 1288490188);
	assert_int_equal(g->h, 858993459); /* 1-h 80%: h 20% */
	assert_int_equal(g->k1, 85899345);
	assert_int_equal(nslab_link_condition_parse(trace, 2, &c, &err), 0);
	assert_int_equal(netem_params(&c.up, 1, &q, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "trace: the netem backend cannot do it"));
	assert_int_equal(nslab_link_condition_parse(mtu, 2, &c, &err), 0);
	assert_int_equal(netem_params(&c.up, 1, &q, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "mtu"));
	assert_int_equal(nslab_link_condition_parse(normal, 6, &c, &err), 0);
	assert_int_equal(netem_params(&c.up, 1, &q, &err), 0);
	assert_int_equal(q.dist_n, TC_NETEM_DIST_N);
}

/* Mean and deviation of a table, in deviations (entries / TC_NETEM_DIST_SCALE). */
static void table_moments(const int16_t *t, size_t n, double *mean, double *sd)
{
	double s = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		s += (double)t[i] / TC_NETEM_DIST_SCALE;
		s2 += (double)t[i] / TC_NETEM_DIST_SCALE * t[i] / TC_NETEM_DIST_SCALE;
	}
	*mean = s / (double)n;
	*sd = sqrt(s2 / (double)n - *mean * *mean);
}

/*
 * netem's jitter tables: normal, pareto and paretonormal are sent as
 * TCA_NETEM_DELAY_DIST with 4096 rising quantiles of mean 0 and deviation 1
 * (so `jitter` is the deviation under netem as under wire).
 */
static void test_netem_dist(void **state)
{
	static _Alignas(struct nlmsghdr) char buf[TC_NETEM_REQ_BUFSIZ];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	static const char *const names[] = { "normal", "pareto", "paretonormal" };
	/* normal's table counts deviations, the Pareto ones eighths (their tail) */
	static const double mult[] = { 1, 8, 8 };
	const struct nlattr *a, *opts = NULL, *dist;
	nslab_link_condition c;
	static struct tc_netem q;
	nslab_error err = { 0 };

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		const char *w[] = { "delay", "9ms", "jitter", "1ms", "distribution", names[k] };
		const int16_t *t;
		double mean, sd;

		assert_int_equal(nslab_link_condition_parse(w, 6, &c, &err), 0);
		assert_int_equal(netem_params(&c.up, 1, &q, &err), 0);
		assert_int_equal(tc_build_netem(buf, sizeof(buf), 2, &q, &err), 0);
		mnl_attr_for_each (a, nlh, sizeof(struct tcmsg))
			if (mnl_attr_get_type(a) == TCA_OPTIONS)
				opts = a;
		dist = netem_attr(opts, TCA_NETEM_DELAY_DIST);
		assert_non_null(dist);
		assert_int_equal(mnl_attr_get_payload_len(dist), TC_NETEM_DIST_N * sizeof(int16_t));
		t = mnl_attr_get_payload(dist);
		for (size_t i = 1; i < TC_NETEM_DIST_N; i++)
			assert_true(t[i] >= t[i - 1]);
		assert_int_equal(q.jitter_ns, 1000000 * mult[k]);
		table_moments(t, TC_NETEM_DIST_N, &mean, &sd);
		mean *= mult[k];
		sd *= mult[k];
		printf("# %s: table mean %.4f, deviation %.4f\n", names[k], mean, sd);
		/* 4096 quantiles hold all but Pareto's farthest tail: 0.94 of its deviation */
		assert_true(fabs(mean) < 0.01);
		assert_true(sd >= 0.93 && sd <= 1.01);
	}
	/* uniform needs no table: netem's own is +-jitter */
	{
		const char *w[] = { "delay", "9ms", "jitter", "1ms" };

		assert_int_equal(nslab_link_condition_parse(w, 4, &c, &err), 0);
		assert_int_equal(netem_params(&c.up, 1, &q, &err), 0);
		assert_int_equal(q.dist_n, 0);
	}
	assert_int_equal(netem_dist_table(NSLAB_LINK_DIST_NORMAL, q.dist, TC_NETEM_DIST_N + 1),
			 -EINVAL);
	/* the cached table is the one computed */
	{
		const char *w[] = { "delay", "9ms", "jitter", "1ms", "distribution", "pareto" };
		static int16_t fresh[TC_NETEM_DIST_N];

		assert_int_equal(nslab_link_condition_parse(w, 6, &c, &err), 0);
		assert_int_equal(netem_params(&c.up, 1, &q, &err), 0);
		assert_int_equal(netem_dist_table(NSLAB_LINK_DIST_PARETO, fresh, TC_NETEM_DIST_N),
				 8);
		assert_memory_equal(q.dist, fresh, sizeof(fresh));
		c.up.dist = (enum nslab_link_dist)9;
		assert_int_equal(netem_params(&c.up, 1, &q, &err), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clsact),	   cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_netem),	   cmocka_unit_test(test_netem_ge_and_refusals),
		cmocka_unit_test(test_netem_dist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

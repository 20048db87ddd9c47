/* SPDX-License-Identifier: MIT */
/* tc builders: the clsact qdisc and the wire backend's redirect filter, read back attribute by attribute. */
#include "nl/tc.h"

#include <errno.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clsact),
		cmocka_unit_test(test_redirect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

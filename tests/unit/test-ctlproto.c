/* SPDX-License-Identifier: MIT */
/* Control protocol messages: what is built parses back; what is malformed is refused. */
#include "lab/ctlproto.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>

static char buf[CTL_MSG_MAX] __attribute__((aligned(4)));

static int parse(size_t len, struct ctl_msg *m, nslab_error *err)
{
	return ctl_msg_parse(buf, len, m, err);
}

static void test_round_trip(void **state)
{
	struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_EXEC, false, 7, 0);
	struct ctl_msg m;
	nslab_error err = { 0 };

	(void)state;
	assert_true(ctl_put_str(nlh, CTL_A_NODE, "laptop"));
	assert_true(ctl_put_str(nlh, CTL_A_CMDLINE, "ping -c1 server"));
	assert_true(ctl_put_u32(nlh, CTL_A_STATUS, 0x0700));
	assert_true(ctl_put_u64(nlh, CTL_A_BUILT_AT, 1796186535955ull));
	assert_int_equal(parse(nlh->nlmsg_len, &m, &err), 0);
	assert_int_equal(m.op, CTL_OP_EXEC);
	assert_false(m.reply);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.version, CTL_VERSION);
	assert_string_equal(ctl_get_str(&m, CTL_A_NODE), "laptop");
	assert_string_equal(ctl_get_str(&m, CTL_A_CMDLINE), "ping -c1 server");
	assert_int_equal(ctl_get_u32(&m, CTL_A_STATUS, 1), 0x0700);
	assert_true(ctl_get_u64(&m, CTL_A_BUILT_AT, 0) == 1796186535955ull);
	assert_null(ctl_get_str(&m, CTL_A_LAB));
	assert_int_equal(ctl_get_u32(&m, CTL_A_PID, 42), 42);
	assert_string_equal(ctl_op_name(m.op), "exec");
	assert_string_equal(ctl_op_name(9999), "unknown");
	assert_string_equal(ctl_op_name(CTL_OP_CONNTRACK), "conntrack");
}

static void test_reply_error(void **state)
{
	struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_DOWN, true, 3, EACCES);
	struct ctl_msg m;

	(void)state;
	assert_true(ctl_put_str(nlh, CTL_A_MESSAGE, "permission denied"));
	assert_int_equal(parse(nlh->nlmsg_len, &m, NULL), 0);
	assert_true(m.reply);
	assert_int_equal(m.error, EACCES);
	assert_string_equal(ctl_get_str(&m, CTL_A_MESSAGE), "permission denied");
}

/* Every malformed variant of a valid HELLO, with the errno and message it must get. */
static void test_malformed(void **state)
{
	struct nlmsghdr *nlh;
	struct ctl_hdr *h;
	struct nlattr *a;
	struct ctl_msg m;
	nslab_error err = { 0 };
	size_t len;

	(void)state;
	nlh = ctl_msg_start(buf, CTL_OP_HELLO, false, 1, 0);
	assert_true(ctl_put_u32(nlh, CTL_A_VERSION, 1));
	len = nlh->nlmsg_len;
	h = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(parse(len - 4, &m, &err), -EPROTO); /* length differs from nlmsg_len */
	assert_int_equal(parse(8, &m, &err), -EPROTO);	     /* shorter than the headers */
	assert_int_equal(parse(CTL_MSG_MAX + 4, &m, &err), -EPROTO);
	h->magic = 0x12345678;
	assert_int_equal(parse(len, &m, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "magic"));
	h->magic = CTL_MAGIC;
	h->version = 2;
	assert_int_equal(parse(len, &m, &err), -EPROTONOSUPPORT);
	assert_non_null(strstr(err.msg, "version 2"));
	h->version = CTL_VERSION;
	nlh->nlmsg_type = 99;
	assert_int_equal(parse(len, &m, &err), -EPROTO);
	nlh->nlmsg_type = CTL_OP_HELLO;
	nlh->nlmsg_flags = 1;
	assert_int_equal(parse(len, &m, &err), -EPROTO);
	nlh->nlmsg_flags = 0;
	h->error = -5;
	assert_int_equal(parse(len, &m, &err), -EPROTO);
	h->error = 0;
	/* a u32 attribute of 2 bytes */
	a = (struct nlattr *)((char *)nlh + NLMSG_HDRLEN + MNL_ALIGN(sizeof(*h)));
	a->nla_len = 6;
	assert_int_equal(parse(len, &m, &err), -EPROTO);
	/* an attribute that runs past the message */
	a->nla_len = 12;
	assert_int_equal(parse(len, &m, &err), -EPROTO);
	a->nla_len = 8;
	assert_int_equal(parse(len, &m, &err), 0);
	/* an unaligned message (libmnl would read up to the aligned end) */
	nlh->nlmsg_len = (uint32_t)len - 1;
	assert_int_equal(parse(len - 1, &m, &err), -EPROTO);
}

static void test_strings(void **state)
{
	struct nlmsghdr *nlh = ctl_msg_start(buf, CTL_OP_EXEC, false, 1, 0);
	char big[CTL_STR_MAX + 1];
	struct nlattr *a;
	struct ctl_msg m;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(ctl_put_str(nlh, CTL_A_CMDLINE, big)); /* too long: refused, not cut */
	a = mnl_nlmsg_get_payload_tail(nlh);
	assert_true(ctl_put_str(nlh, CTL_A_NODE, "lap"));
	memcpy(mnl_attr_get_payload(a), "la\0", 4); /* a NUL inside: refused */
	assert_int_equal(parse(nlh->nlmsg_len, &m, NULL), -EPROTO);
	memcpy(mnl_attr_get_payload(a), "lapx", 4); /* no final NUL: refused */
	assert_int_equal(parse(nlh->nlmsg_len, &m, NULL), -EPROTO);
	memcpy(mnl_attr_get_payload(a), "lap", 4);
	assert_int_equal(parse(nlh->nlmsg_len, &m, NULL), 0);
	/* an attribute of a later version is skipped */
	assert_true(mnl_attr_put_check(nlh, CTL_MSG_MAX, 200, 4, "abc"));
	assert_int_equal(parse(nlh->nlmsg_len, &m, NULL), 0);
	assert_string_equal(ctl_get_str(&m, CTL_A_NODE), "lap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reply_error),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * core/addr: prefix parsing (good and bad text, bounds of the length), formatting,
 * network and overlap tests, subnet and host carving at their bounds, and that
 * ret is untouched on every failure.
 */
#include "core/addr.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static nslab_error err;

/* Parse s (which must be valid) into a prefix. */
static struct nslab_prefix P(const char *s) {
	struct nslab_prefix p;

	if (prefix_parse(s, false, &p, &err) < 0)
		fail_msg("prefix_parse('%s'): %s", s, err.msg);
	return p;
}

/* p as "addr/len", in a static buffer (one use per assertion). */
static const char *
S(const struct nslab_prefix *p)
{
	static char buf[PREFIX_STRLEN];

	return prefix_format(p, true, buf, sizeof(buf));
}

static const struct nslab_prefix sentinel = { .family = 99, .len = 77, .addr = { 0xee } };

/* Field by field: struct copies need not copy the padding. */
static void assert_same_prefix(const struct nslab_prefix *a, const struct nslab_prefix *b)
{
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->addr, b->addr, sizeof(a->addr));
}

#define assert_parse_fails(s, need_len, text)                                    \
	do {                                                                     \
		struct nslab_prefix _p = sentinel;                               \
		memset(&err, 0, sizeof(err));                                    \
		assert_int_equal(prefix_parse(s, need_len, &_p, &err), -EINVAL); \
		assert_int_equal(err.code, EINVAL);                              \
		assert_string_equal(err.msg, text);                              \
		assert_same_prefix(&_p, &sentinel); /* ret untouched */          \
	} while (0)

static void test_parse_v4(void **state)
{
	struct nslab_prefix p;
	const uint8_t a[4] = { 192, 0, 2, 7 };

	(void)state;
	assert_int_equal(prefix_parse("192.0.2.7/24", true, &p, &err), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr, a, 4); /* host bits kept */
	assert_int_equal(prefix_parse("0.0.0.0/0", true, &p, &err), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(prefix_parse("255.255.255.255/32", true, &p, &err), 0);
	assert_int_equal(p.len, 32);
	/* a bare address is a host prefix unless a length is required */
	assert_int_equal(prefix_parse("192.0.2.7", false, &p, &err), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 32);
	assert_true(prefix_is_set(&p));
	assert_int_equal(prefix_addr_len(&p), 4);
}

static void test_parse_v6(void **state)
{
	struct nslab_prefix p;
	const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	(void)state;
	assert_int_equal(prefix_parse("2001:db8::1/64", true, &p, &err), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 64);
	assert_memory_equal(p.addr, a, 16);
	assert_int_equal(prefix_parse("::/0", true, &p, &err), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(prefix_parse("2001:db8::1/128", true, &p, &err), 0);
	assert_int_equal(p.len, 128);
	assert_int_equal(prefix_parse("2001:db8::1", false, &p, &err), 0);
	assert_int_equal(p.len, 128);
	assert_int_equal(prefix_addr_len(&p), 16);
	/* the longest text form fits */
	assert_int_equal(
		prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", true, &p, &err),
		0);
	assert_int_equal(p.family, AF_INET6);
}

static void test_parse_bad(void **state)
{
	(void)state;
	assert_parse_fails("", false, "'': not an IP address");
	assert_parse_fails("/24", false, "'/24': not an IP address");
	assert_parse_fails("10.0.0", false, "'10.0.0': not an IP address");
	assert_parse_fails("10.0.0.256/8", true, "'10.0.0.256/8': not an IP address");
	assert_parse_fails("host.example/24", true, "'host.example/24': not an IP address");
	assert_parse_fails("fe80::1%eth0", false, "'fe80::1%eth0': not an IP address");
	assert_parse_fails(" 10.0.0.1", false, "' 10.0.0.1': not an IP address");
	/* longer than any address text */
	assert_parse_fails(
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64", true,
		"'1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64': not an IP address");
	assert_parse_fails("10.0.0.0", true, "'10.0.0.0': missing prefix length");
	assert_parse_fails("2001:db8::", true, "'2001:db8::': missing prefix length");
}

static void test_parse_len_bounds(void **state)
{
	(void)state;
	assert_parse_fails("10.0.0.0/33", true, "'10.0.0.0/33': prefix length out of range 0..32");
	assert_parse_fails("::/129", true, "'::/129': prefix length out of range 0..128");
	assert_parse_fails("10.0.0.0/", true, "'10.0.0.0/': prefix length out of range 0..32");
	assert_parse_fails("10.0.0.0/-1", true, "'10.0.0.0/-1': prefix length out of range 0..32");
	assert_parse_fails("10.0.0.0/+8", true, "'10.0.0.0/+8': prefix length out of range 0..32");
	assert_parse_fails("10.0.0.0/ 8", true, "'10.0.0.0/ 8': prefix length out of range 0..32");
	assert_parse_fails("10.0.0.0/8x", true, "'10.0.0.0/8x': prefix length out of range 0..32");
	assert_parse_fails("10.0.0.0/8/8", true,
			   "'10.0.0.0/8/8': prefix length out of range 0..32");
	/* 2^32 + 8 must not wrap to 8 */
	assert_parse_fails("10.0.0.0/4294967304", true,
			   "'10.0.0.0/4294967304': prefix length out of range 0..32");
	assert_parse_fails("10.0.0.0/99999999999999999999999", true,
			   "'10.0.0.0/99999999999999999999999': prefix length out of range 0..32");
}

static void test_parse_null_err(void **state)
{
	struct nslab_prefix p = sentinel;

	(void)state;
	assert_int_equal(prefix_parse("nope", false, &p, NULL), -EINVAL);
	assert_same_prefix(&p, &sentinel);
}

static void test_format(void **state)
{
	struct nslab_prefix p = P("2001:db8:0:0:0:0:0:1/64"), none = { 0 };
	char buf[PREFIX_STRLEN], small[8];

	(void)state;
	assert_string_equal(prefix_format(&p, true, buf, sizeof(buf)), "2001:db8::1/64");
	assert_string_equal(prefix_format(&p, false, buf, sizeof(buf)), "2001:db8::1");
	p = P("10.1.2.3/8");
	assert_ptr_equal(prefix_format(&p, true, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "10.1.2.3/8");
	assert_string_equal(prefix_format(&p, false, buf, sizeof(buf)), "10.1.2.3");
	assert_string_equal(prefix_format(&none, true, buf, sizeof(buf)), "-");
	/* the longest form fits PREFIX_STRLEN */
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_string_equal(prefix_format(&p, true, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	/* a short buffer truncates, terminated */
	memset(small, 'z', sizeof(small));
	assert_string_equal(prefix_format(&p, true, small, sizeof(small)), "ffff:ff");
	/* format then parse gives the same prefix */
	p = P("fd10:0:0:7::/64");
	prefix_format(&p, true, buf, sizeof(buf));
	none = P(buf);
	assert_same_prefix(&p, &none);
}

static void test_is_network(void **state)
{
	struct nslab_prefix p;

	(void)state;
	p = P("10.0.0.0/8");
	assert_true(prefix_is_network(&p));
	p = P("10.0.0.1/8");
	assert_false(prefix_is_network(&p));
	p = P("10.128.0.0/9");
	assert_true(prefix_is_network(&p));
	p = P("10.128.0.0/8");
	assert_false(prefix_is_network(&p));
	p = P("0.0.0.0/0");
	assert_true(prefix_is_network(&p));
	p = P("1.2.3.4/32");
	assert_true(prefix_is_network(&p));
	p = P("2001:db8::/32");
	assert_true(prefix_is_network(&p));
	p = P("2001:db8::1/127");
	assert_false(prefix_is_network(&p));
	p = P("2001:db8::1/128");
	assert_true(prefix_is_network(&p));
}

static void test_overlaps(void **state)
{
	struct nslab_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8"),
			    d = P("::/0"), e = P("0.0.0.0/0"), f = P("2001:db8::/32"),
			    g = P("2001:db9::/32");

	(void)state;
	assert_true(prefix_overlaps(&a, &b));
	assert_true(prefix_overlaps(&b, &a));
	assert_true(prefix_overlaps(&a, &a));
	assert_false(prefix_overlaps(&a, &c));
	assert_false(prefix_overlaps(&b, &c));
	assert_true(prefix_overlaps(&e, &c));
	assert_true(prefix_overlaps(&d, &f));
	assert_false(prefix_overlaps(&f, &g));
	/* different families never overlap, not even ::/0 and 0.0.0.0/0 */
	assert_false(prefix_overlaps(&d, &e));
	assert_false(prefix_overlaps(&e, &f));
}

static void test_subnet(void **state)
{
	struct nslab_prefix r = P("10.0.0.0/8"), s;

	(void)state;
	assert_int_equal(prefix_subnet(&r, 24, 0, &s, &err), 0);
	assert_string_equal(S(&s), "10.0.0.0/24");
	assert_int_equal(prefix_subnet(&r, 24, 1, &s, &err), 0);
	assert_string_equal(S(&s), "10.0.1.0/24");
	assert_int_equal(prefix_subnet(&r, 24, 256, &s, &err), 0);
	assert_string_equal(S(&s), "10.1.0.0/24");
	assert_int_equal(prefix_subnet(&r, 24, 65535, &s, &err), 0);
	assert_string_equal(S(&s), "10.255.255.0/24");
	/* the range itself is subnet 0 of its own length */
	assert_int_equal(prefix_subnet(&r, 8, 0, &s, &err), 0);
	assert_string_equal(S(&s), "10.0.0.0/8");
	assert_int_equal(prefix_subnet(&r, 32, 0xffffff, &s, &err), 0);
	assert_string_equal(S(&s), "10.255.255.255/32");

	r = P("2001:db8::/48");
	assert_int_equal(prefix_subnet(&r, 64, 0xffff, &s, &err), 0);
	assert_string_equal(S(&s), "2001:db8:0:ffff::/64");
	assert_int_equal(prefix_subnet(&r, 128, 1, &s, &err), 0);
	assert_string_equal(S(&s), "2001:db8::1/128");
	/* more than 64 bits of span: any uint64_t index fits */
	r = P("2001:db8::/32");
	assert_int_equal(prefix_subnet(&r, 128, UINT64_MAX, &s, &err), 0);
	assert_string_equal(S(&s), "2001:db8::ffff:ffff:ffff:ffff/128");
	assert_int_equal(prefix_subnet(&r, 112, UINT64_MAX, &s, &err), 0);
	assert_string_equal(S(&s), "2001:db8:0:ffff:ffff:ffff:ffff:0/112");
	/* a span of exactly 64 bits */
	r = P("2001:db8::/64");
	assert_int_equal(prefix_subnet(&r, 128, UINT64_MAX, &s, &err), 0);
	assert_string_equal(S(&s), "2001:db8::ffff:ffff:ffff:ffff/128");
}

static void test_subnet_bounds(void **state)
{
	struct nslab_prefix r = P("198.18.0.0/15"), s = sentinel;

	(void)state;
	assert_int_equal(prefix_subnet(&r, 24, 511, &s, &err), 0);
	assert_string_equal(S(&s), "198.19.255.0/24");
	s = sentinel;
	assert_int_equal(prefix_subnet(&r, 24, 512, &s, &err), -ENOSPC);
	assert_int_equal(err.code, ENOSPC);
	assert_string_equal(err.msg, "range 198.18.0.0/15 is exhausted (512 subnets of /24)");
	assert_same_prefix(&s, &sentinel);
	assert_int_equal(prefix_subnet(&r, 14, 0, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "range 198.18.0.0/15: subnet length /14 does not fit");
	assert_int_equal(prefix_subnet(&r, 33, 0, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "range 198.18.0.0/15: subnet length /33 does not fit");
	assert_same_prefix(&s, &sentinel);
	/* the range's own length: only index 0 */
	assert_int_equal(prefix_subnet(&r, 15, 1, &s, &err), -ENOSPC);
	assert_string_equal(err.msg, "range 198.18.0.0/15 is exhausted (1 subnets of /15)");

	r = P("2001:db8::/64");
	assert_int_equal(prefix_subnet(&r, 129, 0, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "range 2001:db8::/64: subnet length /129 does not fit");
	/* the top of the address space: no wrap to 0.0.0.0 */
	r = P("255.255.255.255/32");
	assert_int_equal(prefix_subnet(&r, 32, 1, &s, &err), -ENOSPC);
	assert_same_prefix(&s, &sentinel);
	/* host bits of a range that is not a network carry out of the address */
	r = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0");
	assert_int_equal(prefix_subnet(&r, 128, 1, &s, &err), -ENOSPC);
	assert_string_equal(err.msg,
			    "range ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0 is exhausted");
	assert_same_prefix(&s, &sentinel);
	/* NULL err */
	assert_int_equal(prefix_subnet(&r, 200, 0, &s, NULL), -EINVAL);
}

static void test_host_count(void **state)
{
	struct nslab_prefix p;

	(void)state;
	p = P("10.0.0.0/24");
	assert_int_equal(prefix_host_count(&p), 254);
	p = P("10.0.0.0/30");
	assert_int_equal(prefix_host_count(&p), 2);
	p = P("10.0.0.0/31");
	assert_int_equal(prefix_host_count(&p), 0);
	p = P("10.0.0.0/32");
	assert_int_equal(prefix_host_count(&p), 0);
	p = P("0.0.0.0/0");
	assert_int_equal(prefix_host_count(&p), UINT64_C(4294967294));
	p = P("2001:db8::/128");
	assert_int_equal(prefix_host_count(&p), 0);
	p = P("2001:db8::/127");
	assert_int_equal(prefix_host_count(&p), 1);
	p = P("2001:db8::/120");
	assert_int_equal(prefix_host_count(&p), 255);
	p = P("2001:db8::/65");
	assert_int_equal(prefix_host_count(&p), UINT64_MAX >> 1);
	p = P("2001:db8::/64");
	assert_int_equal(prefix_host_count(&p), UINT64_MAX);
	p = P("::/0");
	assert_int_equal(prefix_host_count(&p), UINT64_MAX);
}

static void test_host(void **state)
{
	struct nslab_prefix n = P("10.0.5.0/24"), h = sentinel;

	(void)state;
	assert_int_equal(prefix_host(&n, 1, &h, &err), 0);
	assert_string_equal(S(&h), "10.0.5.1/24");
	assert_int_equal(prefix_host(&n, 254, &h, &err), 0);
	assert_string_equal(S(&h), "10.0.5.254/24");
	h = sentinel;
	assert_int_equal(prefix_host(&n, 255, &h, &err), -ENOSPC); /* broadcast */
	assert_int_equal(err.code, ENOSPC);
	assert_string_equal(err.msg, "subnet 10.0.5.0/24 is full (254 host addresses)");
	assert_same_prefix(&h, &sentinel);
	assert_int_equal(prefix_host(&n, 0, &h, &err), -ENOSPC);
	assert_same_prefix(&h, &sentinel);
	n = P("10.0.5.0/31");
	assert_int_equal(prefix_host(&n, 1, &h, &err), -ENOSPC);
	assert_string_equal(err.msg, "subnet 10.0.5.0/31 is full (0 host addresses)");
	/* carry across bytes */
	n = P("10.0.0.0/16");
	assert_int_equal(prefix_host(&n, 256, &h, &err), 0);
	assert_string_equal(S(&h), "10.0.1.0/16");

	n = P("2001:db8::/64");
	assert_int_equal(prefix_host(&n, 1, &h, &err), 0);
	assert_string_equal(S(&h), "2001:db8::1/64");
	assert_int_equal(prefix_host(&n, UINT64_MAX, &h, &err), 0);
	assert_string_equal(S(&h), "2001:db8::ffff:ffff:ffff:ffff/64");
	n = P("2001:db8::/127");
	assert_int_equal(prefix_host(&n, 1, &h, &err), 0);
	assert_string_equal(S(&h), "2001:db8::1/127");
	h = sentinel;
	assert_int_equal(prefix_host(&n, 2, &h, &err), -ENOSPC);
	assert_string_equal(err.msg, "subnet 2001:db8::/127 is full (1 host addresses)");
	assert_same_prefix(&h, &sentinel);
	assert_int_equal(prefix_host(&n, 2, &h, NULL), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),       cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_bad),      cmocka_unit_test(test_parse_len_bounds),
		cmocka_unit_test(test_parse_null_err), cmocka_unit_test(test_format),
		cmocka_unit_test(test_is_network),     cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_subnet),	       cmocka_unit_test(test_subnet_bounds),
		cmocka_unit_test(test_host_count),     cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/egress-policy: every entry form of the allow-list, with and without
 * ports and protocols; bad entries refused with the offending value and its
 * column (--allow) or FILE:LINE:COL (--allow-file); name matching.
 */
#include "jail/egress.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static nslab_error err;

static struct egress_rule R(const char *s) {
	struct egress_rule r;

	memset(&err, 0, sizeof(err));
	if (egress_rule_parse(s, strlen(s), &r, NULL, &err) < 0)
		fail_msg("egress_rule_parse('%s'): %s", s, err.msg);
	return r;
}

static const char *
P(const struct egress_rule *r)
{
	static char buf[PREFIX_STRLEN];

	return prefix_format(&r->prefix, true, buf, sizeof(buf));
}

static void test_names(void **state)
{
	struct egress_rule r = R("Example.COM.");

	(void)state;
	assert_int_equal(r.kind, EGRESS_NAME);
	assert_string_equal(r.name, "example.com");
	assert_int_equal(r.port, 0);
	assert_int_equal(r.proto, 0);
	r = R("*.example.com");
	assert_int_equal(r.kind, EGRESS_WILDCARD);
	assert_string_equal(r.name, "example.com");
	r = R("api.example.com:443");
	assert_int_equal(r.kind, EGRESS_NAME);
	assert_int_equal(r.port, 443);
	assert_int_equal(r.proto, 0);
	r = R("*.x.test:53/UDP");
	assert_int_equal(r.kind, EGRESS_WILDCARD);
	assert_int_equal(r.port, 53);
	assert_int_equal(r.proto, IPPROTO_UDP);
	r = R("localhost");
	assert_string_equal(r.name, "localhost");
}

static void test_addresses(void **state)
{
	struct egress_rule r = R("93.184.216.34");

	(void)state;
	assert_int_equal(r.kind, EGRESS_PREFIX);
	assert_string_equal(P(&r), "93.184.216.34/32");
	r = R("10.0.0.0/8:22/tcp");
	assert_string_equal(P(&r), "10.0.0.0/8");
	assert_int_equal(r.port, 22);
	assert_int_equal(r.proto, IPPROTO_TCP);
	r = R("[2001:db8::1]");
	assert_string_equal(P(&r), "2001:db8::1/128");
	r = R("[2001:db8::/32]:443");
	assert_string_equal(P(&r), "2001:db8::/32");
	assert_int_equal(r.port, 443);
	r = R("2001:db8::7");
	assert_string_equal(P(&r), "2001:db8::7/128");
}

#define assert_rule_fails(s, col, text)                                                       \
	do {                                                                                  \
		struct egress_rule _r = { .kind = 99 };                                       \
		size_t _col = 0;                                                              \
		memset(&err, 0, sizeof(err));                                                 \
		assert_int_equal(egress_rule_parse(s, strlen(s), &_r, &_col, &err), -EINVAL); \
		assert_string_equal(err.msg, text);                                           \
		assert_int_equal(_col, col);                                                  \
		assert_int_equal(_r.kind, 99); /* untouched */                                \
	} while (0)

static void test_bad_entries(void **state)
{
	(void)state;
	assert_rule_fails("", 1, "empty entry");
	assert_rule_fails("a..b", 1,
			  "'a..b': not a host name, *.name, IPv4 address or prefix, or [IPv6]");
	assert_rule_fails(
		"exa mple.com", 1,
		"'exa mple.com': not a host name, *.name, IPv4 address or prefix, or [IPv6]");
	assert_rule_fails("*.", 1,
			  "'*.': not a host name, *.name, IPv4 address or prefix, or [IPv6]");
	assert_rule_fails("a.*.com", 1,
			  "'a.*.com': not a host name, *.name, IPv4 address or prefix, or [IPv6]");
	assert_rule_fails("300.1.1.1", 1, "'300.1.1.1': not an IPv4 address or prefix");
	assert_rule_fails("10.0.0.1/8", 1,
			  "'10.0.0.1/8': host bits set (the network is 10.0.0.0/8)");
	assert_rule_fails("10.0.0.0/33", 1, "'10.0.0.0/33': not an IPv4 address or prefix");
	assert_rule_fails("x.test:0", 8, "'x.test:0': port 0 out of range 1..65535");
	assert_rule_fails("x.test:65536", 8, "'x.test:65536': port 65536 out of range 1..65535");
	assert_rule_fails("x.test:", 8, "'x.test:': port must be a number 1..65535");
	assert_rule_fails("x.test:http", 8, "'x.test:http': port must be a number 1..65535");
	assert_rule_fails("x.test:80/sctp", 11, "'x.test:80/sctp': protocol must be tcp or udp");
	assert_rule_fails("[2001:db8::1", 1, "'[2001:db8::1': '[' without ']'");
	assert_rule_fails("[10.0.0.1]", 1, "'[10.0.0.1]': not an IPv6 address or prefix");
	assert_rule_fails("[::1]x", 6, "'[::1]x': expected ':PORT' after ']'");
	assert_rule_fails("[::1]:99999", 7, "'[::1]:99999': port 99999 out of range 1..65535");
}

static void test_list(void **state)
{
	struct egress_list l = { 0 };

	(void)state;
	assert_int_equal(egress_list_parse(&l, "a.test, *.b.test:443 ,10.0.0.0/8", &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1].name, "b.test");
	assert_int_equal(l.v[1].port, 443);
	/* a failure leaves the list as it was, and names the entry and its column */
	assert_int_equal(egress_list_parse(&l, "c.test,d..test", &err), -EINVAL);
	assert_int_equal(l.n, 3);
	assert_string_equal(err.msg, "'c.test,d..test', column 8: 'd..test': not a host "
				     "name, *.name, IPv4 address or prefix, or [IPv6]");
	assert_int_equal(egress_list_parse(&l, "c.test,", &err), -EINVAL);
	assert_string_equal(err.msg, "'c.test,', column 8: empty entry");
	assert_int_equal(egress_list_parse(&l, "c.test:80/xx", &err), -EINVAL);
	assert_string_equal(
		err.msg, "'c.test:80/xx', column 11: 'c.test:80/xx': protocol must be tcp or udp");
	egress_list_clear(&l);
}

static void test_file(void **state)
{
	const char *text = "# the allow-list\n"
			   "a.test\n"
			   "\n"
			   "  *.b.test:443/tcp   # the API\n"
			   "10.1.0.0/16, [2001:db8::1]:53/udp\n";
	const char *bad = "a.test\n# x\n  c.test, 10.0.0.1/8 # y\n";
	struct egress_list l = { 0 };

	(void)state;
	assert_int_equal(egress_text_parse(&l, text, strlen(text), "allow.txt", &err), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[1].kind, EGRESS_WILDCARD);
	assert_int_equal(l.v[1].proto, IPPROTO_TCP);
	assert_int_equal(l.v[3].port, 53);
	assert_int_equal(egress_text_parse(&l, bad, strlen(bad), "allow.txt", &err), -EINVAL);
	assert_int_equal(l.n, 4);
	assert_string_equal(err.msg, "allow.txt:3:11: '10.0.0.1/8': host bits set (the network is "
				     "10.0.0.0/8)");
	assert_int_equal(egress_text_parse(&l, "a.test:x\n", 9, "f", &err), -EINVAL);
	assert_string_equal(err.msg, "f:1:8: 'a.test:x': port must be a number 1..65535");
	assert_int_equal(egress_text_parse(&l, "a\0b\n", 4, "f", &err), -EINVAL);
	assert_string_equal(err.msg, "f:1:1: a NUL byte in an entry");
	egress_list_clear(&l);
}

static void test_file_io(void **state)
{
	char path[] = "/tmp/nslab-allow-XXXXXX";
	struct egress_list l = { 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x.test\nbad..name\n", 17), 17);
	close(fd);
	assert_int_equal(egress_file_parse(&l, path, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ":2:1: 'bad..name'"));
	assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
	unlink(path);
	assert_int_equal(egress_file_parse(&l, path, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "No such file"));
	egress_list_clear(&l);
}

static void test_match(void **state)
{
	struct egress_rule n = R("x.test"), w = R("*.x.test"), p = R("10.0.0.0/8");

	(void)state;
	assert_true(egress_name_match(&n, "x.test"));
	assert_true(egress_name_match(&n, "X.Test."));
	assert_false(egress_name_match(&n, "a.x.test"));
	assert_true(egress_name_match(&w, "a.x.test"));
	assert_true(egress_name_match(&w, "b.a.X.test."));
	assert_false(egress_name_match(&w, "x.test"));
	assert_false(egress_name_match(&w, "ax.test"));
	assert_false(egress_name_match(&w, "x.test.evil"));
	assert_false(egress_name_match(&p, "10.0.0.1"));
}

static void test_doh(void **state)
{
	(void)state;
	assert_true(egress_name_doh("dns.google"));
	assert_true(egress_name_doh("cloudflare-dns.com"));
	assert_true(egress_name_doh("x.dns.nextdns.io"));
	assert_false(egress_name_doh("google"));
	assert_false(egress_name_doh("xdns.google"));
	assert_false(egress_name_doh("example.com"));
}

/* --host-port: ports and ranges kept as pasta and nft take them; bad items named; 53 refused */
static void test_host_ports(void **state)
{
	static const char *const bad[][2] = {
		{ "", "'' is not a port" },
		{ "http", "'http' is not a port" },
		{ "0", "'0' is not a port" },
		{ "70000", "'70000' is not a port" },
		{ "9000,", "'' is not a port" },
		{ "9010-9000", "'9010-9000' is not a port" },
		{ "1-2-3", "'1-2-3' is not a port" },
		{ "-5", "'-5' is not a port" },
		{ "8000,50-60", "'50-60': port 53 is the DNS gate's" },
		{ "123456", "'123456' is not a port" },
	};
	char out[128] = "unchanged";
	nslab_error e;

	(void)state;
	assert_int_equal(egress_host_ports_parse("9000", out, sizeof(out), &e), 0);
	assert_string_equal(out, "9000");
	assert_int_equal(egress_host_ports_parse("9000,9100-9102,65535", out, sizeof(out), &e), 0);
	assert_string_equal(out, "9000,9100-9102,65535");
	assert_int_equal(egress_host_ports_parse("007", out, sizeof(out), &e), 0);
	assert_string_equal(out, "7");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(out, sizeof(out), "unchanged");
		assert_int_equal(egress_host_ports_parse(bad[i][0], out, sizeof(out), &e), -EINVAL);
		if (!strstr(e.msg, bad[i][1]))
			fail_msg("'%s': '%s', expected '%s'", bad[i][0], e.msg, bad[i][1]);
		assert_string_equal(out, "unchanged");
	}
	/* too long for the buffer: refused, not cut */
	assert_int_equal(egress_host_ports_parse("1000,2000,3000", out, 10, &e), -EINVAL);
	/* the relay's lookup of a port in such a list */
	assert_true(egress_host_ports_has("9000,9100-9102", 9000));
	assert_true(egress_host_ports_has("9000,9100-9102", 9101));
	assert_false(egress_host_ports_has("9000,9100-9102", 9103));
	assert_false(egress_host_ports_has("", 9000));
}

/* egress_host_ports_every(): the readiness check's walk over every port of a list */
static bool port_in_seen(unsigned port, void *data)
{
	const char *seen = data;

	return egress_host_ports_has(seen, port);
}

static void test_host_ports_every(void **state)
{
	(void)state;
	assert_true(egress_host_ports_every("9000,9100-9102", port_in_seen, "9000,9100-9102"));
	assert_true(egress_host_ports_every("9000,9100-9102", port_in_seen, "8000-9200"));
	/* the last port of a range missing */
	assert_false(egress_host_ports_every("9000,9100-9102", port_in_seen, "9000,9100-9101"));
	assert_false(egress_host_ports_every("9000,9100-9102", port_in_seen, "9100-9102"));
	assert_true(egress_host_ports_every("", port_in_seen, ""));
	assert_true(egress_host_ports_every("1-65535", port_in_seen, "1-65535"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	    cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_bad_entries), cmocka_unit_test(test_list),
		cmocka_unit_test(test_file),	    cmocka_unit_test(test_file_io),
		cmocka_unit_test(test_match),	    cmocka_unit_test(test_doh),
		cmocka_unit_test(test_host_ports),  cmocka_unit_test(test_host_ports_every),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

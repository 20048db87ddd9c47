/* SPDX-License-Identifier: MIT */
/*
 * jail/egress-rules: the gateway's ruleset for a few policies, against golden
 * files (tests/fixtures/egress-*.nft; NSLAB_UPDATE_GOLDEN=1 rewrites them),
 * and the element commands the DNS gate sends.
 */
#include "jail/egress.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static nslab_error err;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		return strdup("");
	}
	return text;
}

static void check_golden(const struct egress_policy *p, const char *name)
{
	char path[256], *text = NULL, *want;

	snprintf(path, sizeof(path), "tests/fixtures/egress-%s.nft", name);
	assert_int_equal(egress_ruleset(p, &text, &err), 0);
	if (getenv("NSLAB_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "we");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	want = slurp(path);
	if (!want)
		fail_msg("%s: missing (NSLAB_UPDATE_GOLDEN=1 writes it)", path);
	assert_string_equal(text, want);
	free(want);
	free(text);
}

static void policy_from(struct egress_policy *p, const char *list)
{
	memset(p, 0, sizeof(*p));
	if (list && egress_list_parse(&p->allow, list, &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_names_only(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(&p, "x.test,*.y.test");
	check_golden(&p, "names");
	egress_list_clear(&p.allow);
}

static void test_static_reject(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(
		&p,
		"10.0.0.0/8,93.184.216.34,198.51.100.0/24:22/tcp,192.0.2.53:53,[2001:db8::/32]");
	p.deny_reject = true;
	check_golden(&p, "static-reject");
	egress_list_clear(&p.allow);
}

static void test_ipv6(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(&p, "[2001:db8::1]:443/tcp,[2001:db8:1::/48],x.test");
	p.ipv6 = true;
	check_golden(&p, "ipv6");
	egress_list_clear(&p.allow);
}

static void test_analyse(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(&p, "x.test");
	p.analyse = true;
	check_golden(&p, "analyse");
	egress_list_clear(&p.allow);
}

/* --interactive --pcap with IPv6: the hold chain, the denied sets, the capture chains */
static void test_interactive_capture(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(&p, "x.test,10.0.0.0/8");
	p.interactive = true;
	p.capture = true;
	p.ipv6 = true;
	p.deny_reject = true;
	snprintf(p.host_ports, sizeof(p.host_ports), "9000,9100-9102");
	check_golden(&p, "interactive-pcap");
	egress_list_clear(&p.allow);
}

/* --host-port through the relay: DNATed to the relay's address, accepted only as DNATed; no loopback */
static void test_relay_host_ports(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(&p, "x.test");
	p.uplink = EGRESS_UPLINK_PROXY;
	snprintf(p.host_ports, sizeof(p.host_ports), "9000,9100-9102");
	check_golden(&p, "relay-hostport");
	egress_list_clear(&p.allow);
}

/* --host-port --ipv6 through the relay: IPv6 DNATed to the relay's IPv6 address too */
static void test_relay_host_ports6(void **state)
{
	struct egress_policy p;

	(void)state;
	policy_from(&p, "x.test");
	p.uplink = EGRESS_UPLINK_PROXY;
	p.ipv6 = true;
	snprintf(p.host_ports, sizeof(p.host_ports), "9000");
	check_golden(&p, "relay-hostport6");
	egress_list_clear(&p.allow);
}

static void test_elements(void **state)
{
	struct egress_rule any = { .kind = EGRESS_NAME },
			   port = { .kind = EGRESS_NAME, .port = 443 };
	struct nslab_prefix a;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(prefix_parse("192.0.2.7", false, &a, &err), 0);
	egress_elements(&any, &a, 360, f);
	egress_elements(&port, &a, 0, f);
	fclose(f);
	assert_string_equal(
		text,
		"add element inet nslab_egress allow4 { 192.0.2.7 timeout 1s }\n"
		"delete element inet nslab_egress allow4 { 192.0.2.7 }\n"
		"add element inet nslab_egress allow4 { 192.0.2.7 timeout 360s }\n"
		"add element inet nslab_egress allow4_svc { 192.0.2.7 . tcp . 443 timeout 1s }\n"
		"delete element inet nslab_egress allow4_svc { 192.0.2.7 . tcp . 443 }\n"
		"add element inet nslab_egress allow4_svc { 192.0.2.7 . tcp . 443 timeout 1s }\n"
		"add element inet nslab_egress allow4_svc { 192.0.2.7 . udp . 443 timeout 1s }\n"
		"delete element inet nslab_egress allow4_svc { 192.0.2.7 . udp . 443 }\n"
		"add element inet nslab_egress allow4_svc { 192.0.2.7 . udp . 443 timeout 1s }\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_only),
		cmocka_unit_test(test_static_reject),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_analyse),
		cmocka_unit_test(test_elements),
		cmocka_unit_test(test_interactive_capture),
		cmocka_unit_test(test_relay_host_ports),
		cmocka_unit_test(test_relay_host_ports6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

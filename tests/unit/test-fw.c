/* SPDX-License-Identifier: MIT */
/*
 * Firewall and router presets: the firewall presets, the `firewall:`,
 * `preset:` and `rules_file:` keys of a lab file (values, overrides, errors
 * at line:col), and the ruleset of every firewall preset against its golden
 * file in tests/fixtures/fw/ (NSLAB_UPDATE_GOLDEN=1 rewrites them).
 */
#include "lab/fw.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lab/labfile.h"
#include "lab/router-preset.h"

static struct lab_spec *parse_ok(const char *text, const char *file)
{
	struct lab_spec *spec = NULL;
	nslab_error err = { 0 };
	int r = labfile_parse_string(text, strlen(text), file, &spec, &err);

	if (r < 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	return spec;
}

static bool ports_are(const struct fw_ports *p, const char *want)
{
	char buf[256] = "";
	size_t len = 0;

	if (p->any)
		return strcmp(want, "any") == 0;
	for (size_t i = 0; i < p->n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u-%u", i ? "," : "",
					p->lo[i], p->hi[i]);
	if (strcmp(buf, want) != 0)
		print_error("ports %s, want %s\n", buf, want);
	return strcmp(buf, want) == 0;
}

static void test_presets(void **state)
{
	struct fw_config c;

	(void)state;
	assert_int_equal(fw_preset("none", &c), 0);
	assert_false(c.enabled);
	assert_string_equal(fw_name(&c), "none");
	assert_int_equal(fw_preset("block-inbound", &c), 0);
	assert_true(c.enabled && c.block_inbound);
	assert_true(ports_are(&c.tcp, "any") && ports_are(&c.udp, "any"));
	assert_int_equal(fw_release(&c), -EINVAL);
	assert_int_equal(fw_preset("corporate", &c), 0);
	assert_true(c.block_inbound);
	assert_true(ports_are(&c.tcp, "80-80,443-443"));
	assert_true(ports_are(&c.udp, "53-53"));
	assert_int_equal(fw_preset("captive-portal", &c), 0);
	assert_true(ports_are(&c.tcp, "53-53,80-80,443-443"));
	assert_int_equal(fw_release(&c), 0);
	assert_true(ports_are(&c.tcp, "any"));
	assert_true(ports_are(&c.udp, "53-53"));
	assert_true(c.block_inbound);
	assert_string_equal(fw_name(&c), "captive-portal-released");
	assert_int_equal(fw_preset("open", &c), -ENOENT);
}

static void test_ports_parse(void **state)
{
	uint16_t lo = 7, hi = 7;

	(void)state;
	assert_int_equal(fw_ports_parse_one("80", &lo, &hi), 0);
	assert_true(lo == 80 && hi == 80);
	assert_int_equal(fw_ports_parse_one("8000-8100", &lo, &hi), 0);
	assert_true(lo == 8000 && hi == 8100);
	assert_int_equal(fw_ports_parse_one("0", &lo, &hi), -EINVAL);
	assert_int_equal(fw_ports_parse_one("65536", &lo, &hi), -EINVAL);
	assert_int_equal(fw_ports_parse_one("90-80", &lo, &hi), -EINVAL);
	assert_int_equal(fw_ports_parse_one("80-", &lo, &hi), -EINVAL);
	assert_int_equal(fw_ports_parse_one("http", &lo, &hi), -EINVAL);
	assert_int_equal(fw_ports_parse_one("", &lo, &hi), -EINVAL);
	assert_true(lo == 8000 && hi == 8100);
}

static void test_labfile_firewall(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n"
			 "  a: {firewall: corporate}\n"
			 "  b:\n"
			 "    firewall: {tcp: [22, 8000-8100], udp: []}\n"
			 "  c: {firewall: {preset: corporate, udp: any}}\n"
			 "  d: {firewall: {preset: captive-portal}}\n"
			 "  e: {firewall: {preset: block-inbound, block_inbound: false}}\n",
			 "t.yaml");
	const struct spec_router *r = spec->routers;

	(void)state;
	assert_string_equal(fw_name(&r[0].fw), "corporate");
	assert_int_equal(r[0].fw_loc.line, 2);
	assert_string_equal(fw_name(&r[1].fw), "custom");
	assert_false(r[1].fw.block_inbound);
	assert_true(ports_are(&r[1].fw.tcp, "22-22,8000-8100"));
	assert_true(!r[1].fw.udp.any && r[1].fw.udp.n == 0);
	assert_string_equal(fw_name(&r[2].fw), "custom");
	assert_true(r[2].fw.block_inbound && ports_are(&r[2].fw.udp, "any"));
	assert_true(r[3].fw.captive); /* a preset named in a mapping stays itself */
	assert_string_equal(fw_name(&r[3].fw), "captive-portal");
	assert_false(r[4].fw.enabled); /* limits nothing: none */
}

static void test_router_presets(void **state)
{
	static const struct {
		const char *preset, *nat, *fw;
		enum lab_ipmode ip;
		enum lab_pool pool;
	} want[] = {
		{ "home", "home", "block-inbound", LAB_IP_DUAL, LAB_POOL_PRIVATE },
		{ "public", "none", "none", LAB_IP_DUAL, LAB_POOL_PUBLIC },
		{ "public-v4", "none", "none", LAB_IP_V4, LAB_POOL_PUBLIC },
		{ "isp-cgnat", "cgnat", "none", LAB_IP_DUAL, LAB_POOL_CGNAT },
		{ "isp-v6", "none", "block-inbound", LAB_IP_V6, LAB_POOL_PUBLIC },
		{ "corporate", "corporate", "corporate", LAB_IP_DUAL, LAB_POOL_PRIVATE },
		{ "hotel", "corporate", "captive-portal", LAB_IP_V4, LAB_POOL_PRIVATE },
		{ "cloud", "cloud-nat", "none", LAB_IP_DUAL, LAB_POOL_PRIVATE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct spec_router rt = { 0 };

		assert_int_equal(router_preset_apply(want[i].preset, &rt), 0);
		assert_string_equal(rt.preset, want[i].preset);
		assert_string_equal(rt.nat.enabled ? rt.nat.preset : "none", want[i].nat);
		assert_string_equal(fw_name(&rt.fw), want[i].fw);
		assert_int_equal(rt.ip, want[i].ip);
		assert_int_equal(rt.pool, want[i].pool);
	}
	assert_int_equal(router_preset_apply("office", &(struct spec_router){ 0 }), -ENOENT);
}

static void test_labfile_preset_overrides(void **state)
{
	/* keys after (or before) preset: override it; the pool follows the final NAT */
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n"
			 "  isp: {}\n"
			 "  h1: {nat: full-cone, preset: home, upstream: isp}\n"
			 "  h2: {preset: home, nat: none, upstream: isp}\n"
			 "  h3: {preset: hotel, firewall: none, ip: dual, upstream: isp}\n"
			 "  h4: {preset: corporate, pool: public, upstream: isp}\n",
			 "t.yaml");
	const struct spec_router *r = spec->routers;

	(void)state;
	assert_string_equal(r[1].nat.preset, "full-cone");
	assert_string_equal(fw_name(&r[1].fw), "block-inbound");
	assert_int_equal(r[1].pool, LAB_POOL_PRIVATE);
	assert_false(r[2].nat.enabled);
	assert_int_equal(r[2].pool, LAB_POOL_PUBLIC);
	assert_string_equal(r[2].preset, "home");
	assert_false(r[3].fw.enabled);
	assert_int_equal(r[3].ip, LAB_IP_DUAL);
	assert_string_equal(r[3].nat.preset, "corporate");
	assert_int_equal(r[4].pool, LAB_POOL_PUBLIC);
}

static void test_labfile_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "routers:\n  r: {firewall: open}\n",
		  "t.yaml:2:17: unknown firewall preset 'open' (expected none, block-inbound, "
		  "corporate or captive-portal, or a mapping)" },
		{ "routers:\n  r:\n    firewall: {tcp: [80, 70000]}\n",
		  "t.yaml:3:26: bad tcp port '70000' (expected a port 1..65535 or a range LO-HI)" },
		{ "routers:\n  r:\n    firewall: {udp: 53}\n",
		  "t.yaml:3:21: bad udp ports '53' (expected any, or a list such as [80, 443])" },
		{ "routers:\n  r:\n    firewall: {block_inbound: yes}\n",
		  "t.yaml:3:31: bad block_inbound 'yes' (expected true or false)" },
		{ "routers:\n  r:\n    firewall: {icmp: [1]}\n",
		  "t.yaml:3:16: unknown key 'icmp' (expected one of: preset, block_inbound, tcp, "
		  "udp)" },
		{ "routers:\n  r: {preset: office}\n",
		  "t.yaml:2:15: unknown router preset 'office' (expected home, public, public-v4, "
		  "isp-cgnat, isp-v6, corporate, hotel or cloud)" },
		{ "routers:\n  r: {preset: isp-v6, nat: home}\n",
		  "t.yaml:2:28: router 'r': nat translates IPv4, and the router is IPv6-only "
		  "(ip: v6)" },
		{ "routers:\n  r: {rules_file: /nonexistent/r.nft}\n",
		  "t.yaml:2:19: rules_file: open '/nonexistent/r.nft': No such file or directory" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lab_spec *spec = NULL;
		nslab_error err = { 0 };
		int r = labfile_parse_string(cases[i].text, strlen(cases[i].text), "t.yaml", &spec,
					     &err);

		if (r != -EINVAL || strcmp(err.msg, cases[i].msg) != 0)
			print_error("case %zu: r=%d\n got: %s\nwant: %s\n", i, r, err.msg,
				    cases[i].msg);
		assert_int_equal(r, -EINVAL);
		assert_string_equal(err.msg, cases[i].msg);
		assert_null(spec);
	}
}

/* rules_file: taken from the lab file's directory, read at parse time */
static void test_rules_file(void **state)
{
	char dir[] = "/tmp/nslab-test-fw.XXXXXX", path[128], yaml[160];
	struct lab_spec *spec;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mine.nft", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("table inet mine {\n}\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "%s/lab.yaml", dir);
	spec = parse_ok("routers:\n  r: {rules_file: mine.nft}\n", yaml);
	assert_string_equal(spec->routers[0].rules_file, "mine.nft");
	assert_string_equal(spec->routers[0].rules_text, "table inet mine {\n}\n");
	assert_int_equal(spec->routers[0].rules_loc.line, 2);
	lab_spec_free(spec);
	unlink(path);
	rmdir(dir);
}

static void golden(const char *preset, bool release)
{
	struct fw_where w = { .wan = "wan", .lan = "br0" };
	_cleanup_free_ char *text = NULL, *want = NULL;
	char path[128];
	struct fw_config c;
	nslab_error err = { 0 };
	FILE *f;
	long n;

	assert_int_equal(fw_preset(preset, &c), 0);
	if (release)
		assert_int_equal(fw_release(&c), 0);
	assert_int_equal(fw_ruleset_text(&c, &w, &text, &err), 0);
	snprintf(path, sizeof(path), "tests/fixtures/fw/%s.nft", fw_name(&c));
	if (getenv("NSLAB_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (!f)
		print_error("%s: missing (NSLAB_UPDATE_GOLDEN=1 writes it)\n", path);
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	want = calloc(1, (size_t)n + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (strcmp(text, want) != 0)
		print_error("%s differs from the generated text:\n%s\n", path, text);
	assert_string_equal(text, want);
}

static void test_golden(void **state)
{
	(void)state;
	golden("block-inbound", false);
	golden("corporate", false);
	golden("captive-portal", false);
	golden("captive-portal", true);
}

static void test_custom_text(void **state)
{
	struct fw_where w = { .wan = "ix", .lan = "br0" };
	struct fw_config c = { .enabled = true, .tcp = { .n = 0 }, .udp = { .any = true } };
	_cleanup_free_ char *text = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(fw_ruleset_text(&c, &w, &text, &err), 0);
	/* an empty list: no TCP out at all; no inbound rules without block_inbound */
	assert_non_null(strstr(text, "iifname \"br0\" oifname \"ix\" ct direction original meta "
				     "l4proto tcp drop\n"));
	assert_null(strstr(text, "udp dport"));
	assert_null(strstr(text, "iifname \"ix\" drop"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_ports_parse),
		cmocka_unit_test(test_labfile_firewall),
		cmocka_unit_test(test_router_presets),
		cmocka_unit_test(test_labfile_preset_overrides),
		cmocka_unit_test(test_labfile_errors),
		cmocka_unit_test(test_rules_file),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_custom_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

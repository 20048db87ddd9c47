/* SPDX-License-Identifier: MIT */
/*
 * NAT and IPv6 model (RA provisioning's plan and messages too): presets, the `nat:` key of a lab file (presets, custom
 * mappings, errors at line:col), the address plan behind a NAT (private and
 * carrier pools, no routes into a NAT), and the ruleset of every preset
 * against its golden file in tests/fixtures/nat/ (NSLAB_UPDATE_GOLDEN=1
 * rewrites them).
 */
#include "lab/nat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lab/labfile.h"
#include "lab/plan.h"
#include "lab/ra.h"

static struct lab_spec *parse_ok(const char *text)
{
	struct lab_spec *spec = NULL;
	nslab_error err = { 0 };
	int r = labfile_parse_string(text, strlen(text), "t.yaml", &spec, &err);

	if (r < 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	return spec;
}

static void test_presets(void **state)
{
	static const struct {
		const char *name;
		bool enabled;
		enum nat_mapping m;
		enum nat_filtering f;
		bool hairpin, carrier;
	} want[] = {
		{ "none", false, NAT_MAP_EIM, NAT_FILT_EIF, false, false },
		{ "home", true, NAT_MAP_EIM, NAT_FILT_APDF, false, false },
		{ "full-cone", true, NAT_MAP_EIM, NAT_FILT_EIF, true, false },
		{ "restricted-cone", true, NAT_MAP_EIM, NAT_FILT_ADF, false, false },
		{ "corporate", true, NAT_MAP_EDM, NAT_FILT_APDF, false, false },
		{ "cloud-nat", true, NAT_MAP_EDM, NAT_FILT_APDF, false, false },
		{ "cgnat", true, NAT_MAP_EIM, NAT_FILT_ADF, true, true },
	};
	struct nat_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(nat_preset(want[i].name, &c), 0);
		assert_string_equal(c.preset, want[i].name);
		assert_int_equal(c.enabled, want[i].enabled);
		if (!c.enabled)
			continue;
		assert_int_equal(c.mapping, want[i].m);
		assert_int_equal(c.filtering, want[i].f);
		assert_int_equal(c.hairpin, want[i].hairpin);
		assert_int_equal(c.carrier, want[i].carrier);
		assert_true(c.timeouts.udp > 0 && c.timeouts.tcp_transitory > 0);
	}
	assert_int_equal(nat_preset("symmetric", &c), -ENOENT);
}

static void test_value_parsers(void **state)
{
	unsigned t = 7;
	uint16_t lo = 1, hi = 2;

	(void)state;
	assert_int_equal(nat_duration_parse("30", &t), 0);
	assert_int_equal(t, 30);
	assert_int_equal(nat_duration_parse("30s", &t), 0);
	assert_int_equal(t, 30);
	assert_int_equal(nat_duration_parse("5m", &t), 0);
	assert_int_equal(t, 300);
	assert_int_equal(nat_duration_parse("2h", &t), 0);
	assert_int_equal(t, 7200);
	t = 7;
	assert_int_equal(nat_duration_parse("0", &t), -EINVAL);
	assert_int_equal(nat_duration_parse("", &t), -EINVAL);
	assert_int_equal(nat_duration_parse("3d", &t), -EINVAL);
	assert_int_equal(nat_duration_parse("5ms", &t), -EINVAL);
	assert_int_equal(nat_duration_parse("-1", &t), -EINVAL);
	assert_int_equal(nat_duration_parse("169h", &t), -EINVAL);
	assert_int_equal(nat_duration_parse("99999999999999999999", &t), -EINVAL);
	assert_int_equal(t, 7);
	assert_int_equal(nat_port_range_parse("1024-65535", &lo, &hi), 0);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 65535);
	assert_int_equal(nat_port_range_parse("5-5", &lo, &hi), 0);
	assert_int_equal(nat_port_range_parse("0-5", &lo, &hi), -EINVAL);
	assert_int_equal(nat_port_range_parse("6-5", &lo, &hi), -EINVAL);
	assert_int_equal(nat_port_range_parse("1-65536", &lo, &hi), -EINVAL);
	assert_int_equal(nat_port_range_parse("1024", &lo, &hi), -EINVAL);
	assert_int_equal(nat_port_range_parse("1-2-3", &lo, &hi), -EINVAL);
	assert_int_equal(lo, 5);
	assert_int_equal(hi, 5);
}

static void test_labfile_nat(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n"
			 "  isp: {}\n"
			 "  carrier: {upstream: isp, nat: cgnat}\n"
			 "  home: {upstream: carrier, nat: home}\n"
			 "  office: {upstream: isp, nat: corporate, pool: public}\n"
			 "  lab:\n"
			 "    upstream: isp\n"
			 "    nat:\n"
			 "      preset: full-cone\n"
			 "      mapping: adm\n"
			 "      filtering: adf\n"
			 "      hairpin: false\n"
			 "      timeouts: {udp: 45, udp_stream: 3m, tcp_established: 1h, "
			 "tcp_transitory: 20s}\n"
			 "      port_range: 20000-29999\n"
			 "  plain: {upstream: isp, nat: none}\n"
			 "  plain2: {upstream: isp, nat: {preset: none}}\n");
	const struct spec_router *r = spec->routers;

	(void)state;
	assert_false(r[0].nat.enabled);
	assert_int_equal(r[0].pool, LAB_POOL_PUBLIC);
	assert_true(r[1].nat.carrier);
	assert_int_equal(r[1].pool, LAB_POOL_CGNAT);
	assert_string_equal(r[2].nat.preset, "home");
	assert_int_equal(r[2].pool, LAB_POOL_PRIVATE);
	assert_int_equal(r[3].pool, LAB_POOL_PUBLIC); /* an explicit pool wins */
	assert_int_equal(r[3].nat.mapping, NAT_MAP_EDM);
	assert_string_equal(r[4].nat.preset, "custom");
	assert_int_equal(r[4].nat.mapping, NAT_MAP_ADM);
	assert_int_equal(r[4].nat.filtering, NAT_FILT_ADF);
	assert_false(r[4].nat.hairpin);
	assert_int_equal(r[4].nat.timeouts.udp, 45);
	assert_int_equal(r[4].nat.timeouts.udp_stream, 180);
	assert_int_equal(r[4].nat.timeouts.tcp_established, 3600);
	assert_int_equal(r[4].nat.timeouts.tcp_transitory, 20);
	assert_int_equal(r[4].nat.port_lo, 20000);
	assert_int_equal(r[4].nat.port_hi, 29999);
	assert_int_equal(r[4].nat_loc.line, 9);
	assert_false(r[5].nat.enabled);
	assert_int_equal(r[5].pool, LAB_POOL_PUBLIC);
	assert_false(r[6].nat.enabled);
}

static void test_labfile_nat_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "routers:\n  r: {nat: symmetric}\n",
		  "t.yaml:2:12: unknown NAT preset 'symmetric' (expected none, home, full-cone, "
		  "restricted-cone, corporate, cloud-nat or cgnat, or a mapping)" },
		{ "routers:\n  r:\n    nat: {mapping: eif}\n",
		  "t.yaml:3:20: bad NAT mapping 'eif' (expected eim, adm or edm)" },
		{ "routers:\n  r:\n    nat: {filtering: eim}\n",
		  "t.yaml:3:22: bad NAT filtering 'eim' (expected eif, adf or apdf)" },
		{ "routers:\n  r:\n    nat: {hairpin: maybe}\n",
		  "t.yaml:3:20: bad hairpin 'maybe' (expected true or false)" },
		{ "routers:\n  r:\n    nat:\n      timeouts: {udp: 3d}\n",
		  "t.yaml:4:23: bad udp timeout '3d' (expected seconds such as 30, 30s, 5m or 2h, "
		  "at "
		  "most 7 days)" },
		{ "routers:\n  r:\n    nat:\n      timeouts: {tcp: 30}\n",
		  "t.yaml:4:18: unknown key 'tcp' (expected one of: udp, udp_stream, "
		  "tcp_established, tcp_transitory)" },
		{ "routers:\n  r:\n    nat: {port_range: 2000-1000}\n",
		  "t.yaml:3:23: bad port_range '2000-1000' (expected LO-HI, 1 <= LO <= HI <= "
		  "65535)" },
		{ "routers:\n  r:\n    nat: {preset: none, hairpin: true}\n",
		  "t.yaml:3:19: preset 'none' takes no other NAT keys: write 'nat: none'" },
		{ "routers:\n  r: {ip: v6, nat: home}\n",
		  "t.yaml:2:20: router 'r': nat translates IPv4, and the router is IPv6-only "
		  "(ip: v6)" },
		{ "routers:\n  r:\n    nat: {mapping: eim, mapping: edm}\n",
		  "t.yaml:3:25: duplicate key 'mapping'" },
		{ "routers:\n  r:\n    nat: {filter: eif}\n",
		  "t.yaml:3:11: unknown key 'filter' (expected one of: preset, mapping, filtering, "
		  "hairpin, timeouts, port_range)" },
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

static const char *fmt(const struct nslab_prefix *p)
{
	static char buf[4][PREFIX_STRLEN];
	static int k;

	k = (k + 1) % 4;
	return prefix_format(p, true, buf[k], sizeof(buf[k]));
}

static bool has_route(const struct plan_node *n, const char *dst)
{
	for (size_t i = 0; i < n->n_routes; i++)
		if (strcmp(fmt(&n->routes[i].dst), dst) == 0)
			return true;
	return false;
}

static void test_plan_behind_nat(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n"
			 "  isp: {}\n"
			 "  carrier: {upstream: isp, nat: cgnat}\n"
			 "  home: {upstream: carrier, nat: home}\n"
			 "  pub: {upstream: isp}\n"
			 "devices:\n  laptop: {router: home}\n");
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	nslab_error err = { 0 };
	const struct plan_node *isp, *carrier, *home, *pub, *root;

	(void)state;
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	root = &plan->nodes[0];
	isp = &plan->nodes[lab_plan_find(plan, "isp")];
	carrier = &plan->nodes[lab_plan_find(plan, "carrier")];
	home = &plan->nodes[lab_plan_find(plan, "home")];
	pub = &plan->nodes[lab_plan_find(plan, "pub")];
	assert_string_equal(fmt(&carrier->down4), "100.64.1.1/24");
	assert_string_equal(fmt(&home->ifaces[0].a4), "100.64.1.2/24");
	assert_string_equal(fmt(&home->down4), "10.0.1.1/24");
	/* IPv6 is not translated: still routed all the way */
	assert_true(has_route(root, fmt(&home->down6)));
	/* nothing routes IPv4 into a NAT: not the carrier's pool, not the home's */
	assert_false(has_route(isp, "100.64.1.0/24"));
	assert_false(has_route(root, "100.64.1.0/24"));
	assert_false(has_route(carrier, "10.0.1.0/24"));
	assert_false(has_route(isp, "10.0.1.0/24"));
	assert_true(has_route(root, "198.18.4.0/24")); /* the public router stays routed */
	(void)pub;
}

static void golden(const char *preset)
{
	struct nat_where w = { .wan = "wan", .lan = "br0" };
	_cleanup_free_ char *text = NULL, *want = NULL;
	char path[128];
	struct nat_config c;
	nslab_error err = { 0 };
	FILE *f;
	long n;

	assert_int_equal(nat_preset(preset, &c), 0);
	assert_int_equal(inet_pton(AF_INET, "198.18.4.2", &w.ext), 1);
	assert_int_equal(nat_ruleset_text(&c, &w, &text, &err), 0);
	snprintf(path, sizeof(path), "tests/fixtures/nat/%s.nft", preset);
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
	static const char *const names[] = { "home",	  "full-cone", "restricted-cone",
					     "corporate", "cloud-nat", "cgnat" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		golden(names[i]);
}

static void test_custom_text(void **state)
{
	struct nat_where w = { .wan = "ix", .lan = "br0" };
	struct nat_config c;
	_cleanup_free_ char *text = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nat_preset("home", &c), 0);
	c.mapping = NAT_MAP_ADM;
	c.port_lo = 20000;
	c.port_hi = 29999;
	assert_int_equal(nat_ruleset_text(&c, &w, &text, &err), 0);
	/* ADM: the remote address is part of the mapping's key */
	assert_non_null(strstr(text, "typeof ip saddr . udp sport . ip daddr : udp sport"));
	/* ports kept only inside the range, others picked from it */
	assert_non_null(strstr(
		text,
		"udp sport 20000-29999 udp sport != @own_udp snat ip to 0.0.0.0 : 20000-29999"));
	assert_non_null(strstr(text, "snat ip to 0.0.0.0 : 20000-29999 fully-random"));
	assert_null(strstr(text, "seen_udp"));
}

static void test_timeouts_text(void **state)
{
	struct nat_where w = { .wan = "wan", .lan = "br0" };
	_cleanup_free_ char *text = NULL;
	struct nat_config c;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nat_preset("cloud-nat", &c), 0);
	c.timeouts.udp = 31;
	c.timeouts.tcp_transitory = 29;
	assert_int_equal(nat_ruleset_text(&c, &w, &text, &err), 0);
	assert_non_null(strstr(text, "policy = { unreplied : 31, replied : 30 }"));
	assert_non_null(strstr(text,
			       "policy = { established : 1200, syn_sent : 29, syn_recv : 29, "
			       "fin_wait : 29, close_wait : 29, last_ack : 29, time_wait : 29 }"));
	assert_non_null(
		strstr(text, "ct state new meta l4proto udp ct timeout set \"udp-timeouts\""));
}

static void test_nat6(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n"
			 "  isp: {}\n"
			 "  npt: {upstream: isp, nat6: nptv6}\n"
			 "  masq: {upstream: isp, nat6: masquerade}\n"
			 "  plain: {upstream: isp, nat6: none}\n");
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	_cleanup_free_ char *npt_text = NULL, *masq_text = NULL;
	const struct plan_node *root, *isp, *npt, *masq;
	struct nat6_where w;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(spec->routers[1].nat6, NAT6_NPTV6);
	assert_int_equal(spec->routers[1].pool, LAB_POOL_PRIVATE); /* as behind a NAT */
	assert_int_equal(spec->routers[2].nat6, NAT6_MASQUERADE);
	assert_int_equal(spec->routers[3].pool, LAB_POOL_PUBLIC);
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	root = &plan->nodes[0];
	isp = &plan->nodes[lab_plan_find(plan, "isp")];
	npt = &plan->nodes[lab_plan_find(plan, "npt")];
	masq = &plan->nodes[lab_plan_find(plan, "masq")];
	assert_string_equal(fmt(&npt->down6), "fd10:0:0:1::1/64");
	assert_string_equal(fmt(&npt->ext6), "2001:db8:1:2::/64");
	assert_int_equal(masq->ext6.family, 0);
	/* the outside routes the external /64, never the inside ones */
	assert_true(has_route(isp, "2001:db8:1:2::/64"));
	assert_true(has_route(root, "2001:db8:1:2::/64"));
	assert_false(has_route(isp, "fd10:0:0:1::/64"));
	assert_false(has_route(isp, "fd10:0:0:2::/64"));
	assert_true(nat6_where_of(npt, NAT6_NPTV6, &w));
	assert_int_equal(nat6_ruleset_text(NAT6_NPTV6, &w, &npt_text, &err), 0);
	assert_non_null(strstr(npt_text, "oifname \"wan\" ip6 saddr fd10:0:0:1::/64 snat ip6 "
					 "prefix to 2001:db8:1:2::/64\n"));
	assert_non_null(strstr(npt_text, "iifname \"wan\" ip6 daddr 2001:db8:1:2::/64 dnat ip6 "
					 "prefix to fd10:0:0:1::/64\n"));
	assert_true(nat6_where_of(masq, NAT6_MASQUERADE, &w));
	assert_false(nat6_where_of(masq, NAT6_NPTV6, &w));
	assert_int_equal(nat6_ruleset_text(NAT6_MASQUERADE, &w, &masq_text, &err), 0);
	assert_non_null(strstr(masq_text, "iifname \"br0\" oifname \"wan\" masquerade\n"));
}

/* NAT64's table masquerades the translator's IPv4 source to the uplink's address. */
static void test_nat64_table(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct nat6_where w = { .wan = "wan", .lan = "br0", .has_v4_uplink = true };
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nat6_parse("nat64", &(enum nat6_mode){ 0 }), 0);
	assert_string_equal(nat6_name(NAT6_NAT64), "nat64");
	assert_int_equal(nat6_ruleset_text(NAT6_NAT64, &w, &text, &err), 0);
	assert_non_null(strstr(text, "table ip " NAT6_TABLE " {"));
	assert_non_null(strstr(text, "oifname \"wan\" ip saddr 192.0.0.2 masquerade\n"));
}

static void test_nat6_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "routers:\n  r: {nat6: npt}\n",
		  "t.yaml:2:13: bad nat6 'npt' (expected none, nptv6, masquerade or nat64)" },
		{ "routers:\n  r: {nat6: nptv6, nat64_size: 8}\n",
		  "t.yaml:2:32: router 'r': nat64_size without nat6: nat64" },
		{ "routers:\n  r: {nat6: nat64, nat64_size: 0}\n",
		  "t.yaml:2:32: bad nat64_size '0' (expected 1..4194304)" },
		{ "routers:\n  r: {ip: v4, nat6: nptv6}\n",
		  "t.yaml:2:21: router 'r': nat6 translates IPv6, and the router is IPv4-only "
		  "(ip: v4)" },
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
	}
}

static void test_ra(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("ipv6: {provisioning: ra}\n"
			 "routers:\n  home: {nat: home, mtu: 1400}\n"
			 "devices:\n  d: {router: home}\n");
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	const struct plan_node *home, *d;
	nslab_error err = { 0 };
	uint8_t ra[RA_MAX];
	size_t n;

	(void)state;
	assert_true(spec->ra);
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	home = &plan->nodes[lab_plan_find(plan, "home")];
	d = &plan->nodes[lab_plan_find(plan, "d")];
	/* the address SLAAC makes: the /64 and the EUI-64 of the MAC (the link-local's) */
	assert_true(d->ifaces[0].slaac);
	assert_memory_equal(d->ifaces[0].a6.addr, home->down6.addr, 8);
	assert_memory_equal(d->ifaces[0].a6.addr + 8, d->ifaces[0].ll6.addr + 8, 8);
	assert_int_equal(d->ifaces[0].a6.len, 64);
	/* no static IPv6 default route: the RA's */
	for (size_t i = 0; i < d->n_routes; i++)
		assert_int_not_equal(
			d->routes[i].dst.family == AF_INET6 && d->routes[i].dst.len == 0, 1);
	assert_false(home->ifaces[0].slaac); /* routers keep their static uplinks */
	n = ra_build(home, ra);
	assert_int_equal(n, 16 + 8 + 8 + 32);
	assert_int_equal(ra[0], 134);
	assert_int_equal(ra[4], 64);
	assert_int_equal((ra[6] << 8) | ra[7], RA_ROUTER_LIFETIME);
	assert_int_equal(ra[16], 1); /* source link-layer address: the bridge's */
	assert_memory_equal(ra + 18, home->bridge_mac, 6);
	assert_int_equal(ra[24], 5); /* MTU */
	assert_int_equal((ra[30] << 8) | ra[31], 1400);
	assert_int_equal(ra[32], 3); /* prefix: /64, on-link and autonomous, infinite */
	assert_int_equal(ra[33], 4);
	assert_int_equal(ra[34], 64);
	assert_int_equal(ra[35], 0xc0);
	assert_memory_equal(ra + 36, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	assert_memory_equal(ra + 48, home->down6.addr, 8);
	assert_int_equal(ra_build(d, ra), 0); /* no downstream: nothing to advertise */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_value_parsers),
		cmocka_unit_test(test_labfile_nat),
		cmocka_unit_test(test_labfile_nat_errors),
		cmocka_unit_test(test_plan_behind_nat),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_custom_text),
		cmocka_unit_test(test_timeouts_text),
		cmocka_unit_test(test_nat6),
		cmocka_unit_test(test_nat6_errors),
		cmocka_unit_test(test_nat64_table),
		cmocka_unit_test(test_ra),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

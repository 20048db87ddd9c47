/* SPDX-License-Identifier: MIT */
/* Lab files: decoding, defaults, overrides, count expansion, and every error with its line:col. */
#include "lab/labfile.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lab/plan.h"
#include "nslab/lab.h"

#define SENTINEL ((struct lab_spec *)0x1)

static struct lab_spec *parse_ok(const char *text, const char *file)
{
	struct lab_spec *spec = NULL;
	nslab_error err = { 0 };
	int r = labfile_parse_string(text, strlen(text), file, &spec, &err);

	if (r < 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(err.code, 0); /* success leaves err untouched */
	assert_non_null(spec);
	return spec;
}

static const char *fmt(const struct nslab_prefix *p)
{
	static char buf[4][PREFIX_STRLEN];
	static int k;

	k = (k + 1) % 4;
	return prefix_format(p, true, buf[k], sizeof(buf[k]));
}

static void assert_loc(struct spec_loc loc, unsigned line, unsigned col)
{
	assert_int_equal(loc.line, line);
	assert_int_equal(loc.col, col);
}

static void test_office_example(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	nslab_error err = { 0 };
	const struct spec_device *d;

	(void)state;
	assert_int_equal(labfile_parse("examples/office.yaml", &spec, &err), 0);
	assert_string_equal(spec->name, "office");
	assert_string_equal(spec->file, "examples/office.yaml");
	assert_int_equal(spec->seed, 7);
	assert_false(spec->dad);

	assert_int_equal(spec->n_routers, 2);
	assert_string_equal(spec->routers[0].name, "isp");
	assert_null(spec->routers[0].upstream);
	assert_int_equal(spec->routers[0].pool, LAB_POOL_PUBLIC);
	assert_int_equal(spec->routers[0].ip, LAB_IP_DUAL);
	assert_int_equal(spec->routers[0].mtu, 0);
	assert_loc(spec->routers[0].loc, 6, 3);
	assert_string_equal(spec->routers[1].name, "home");
	assert_string_equal(spec->routers[1].upstream, "isp");
	assert_int_equal(spec->routers[1].pool, LAB_POOL_PRIVATE);
	assert_loc(spec->routers[1].loc, 7, 3);
	assert_loc(spec->routers[1].upstream_loc, 7, 20);

	assert_int_equal(spec->n_devices, 5);
	d = &spec->devices[0];
	assert_string_equal(d->name, "laptop");
	assert_int_equal(d->n_ifaces, 1);
	assert_string_equal(d->ifaces[0].name, "eth0");
	assert_string_equal(d->ifaces[0].router, "home");
	assert_null(d->default_via);
	assert_loc(d->ifaces[0].router_loc, 9, 20);

	d = &spec->devices[1];
	assert_string_equal(d->name, "phone");
	assert_int_equal(d->n_ifaces, 2);
	assert_string_equal(d->ifaces[0].name, "wlan0");
	assert_string_equal(d->ifaces[0].router, "home");
	assert_loc(d->ifaces[0].loc, 11, 14);
	assert_string_equal(d->ifaces[1].name, "eth1");
	assert_string_equal(d->ifaces[1].router, "isp");
	assert_loc(d->ifaces[1].router_loc, 11, 52);
	assert_string_equal(d->default_via, "wlan0");
	assert_loc(d->default_via_loc, 12, 18);

	for (int i = 0; i < 3; i++) {
		char name[16];

		d = &spec->devices[2 + i];
		snprintf(name, sizeof(name), "server-%d", i + 1);
		assert_string_equal(d->name, name);
		assert_int_equal(d->n_ifaces, 1);
		assert_string_equal(d->ifaces[0].router, "isp");
		assert_loc(d->loc, 13, 3);
	}

	assert_int_equal(spec->n_dns, 1);
	assert_string_equal(spec->dns[0].name, "api.example.test");
	assert_string_equal(spec->dns[0].target, "server-1");
	assert_loc(spec->dns[0].target_loc, 14, 25);
}

static void test_links(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	const struct spec_device *phone, *laptop, *tablet;

	(void)state;
	assert_int_equal(labfile_parse("examples/links.yaml", &spec, NULL), 0);
	laptop = &spec->devices[lab_spec_device_index(spec, "laptop")];
	phone = &spec->devices[lab_spec_device_index(spec, "phone")];
	tablet = &spec->devices[lab_spec_device_index(spec, "tablet")];
	assert_true(laptop->ifaces[0].has_link);
	assert_int_equal(laptop->ifaces[0].link.up.delay_ns, 5000000); /* wifi */
	assert_int_equal(phone->ifaces[0].link.up.rate_bps, 5000000);
	assert_int_equal(phone->ifaces[0].link.down.rate_bps, 20000000);
	/* a lab preset defined below its use */
	assert_int_equal(tablet->ifaces[0].link.up.loss_model, NSLAB_LINK_LOSS_GE);
	assert_int_equal(tablet->ifaces[0].link.seed, 7);
	assert_true(spec->routers[lab_spec_router_index(spec, "home")].has_link);
	assert_true(spec->routers[lab_spec_router_index(spec, "isp")].has_downlink);
	assert_int_equal(spec->routers[lab_spec_router_index(spec, "isp")].downlink.down.delay_ns,
			 2000000);
	assert_int_equal(spec->n_links, 1);
	assert_false(spec->devices[lab_spec_device_index(spec, "server")].ifaces[0].has_link);
}

/* Regions: the default triangle filled in around the file's own, links planned as interfaces. */
static void test_regions(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	const struct plan_node *eu, *lab_eu;
	nslab_error err = { 0 };

	(void)state;
	if (labfile_parse("examples/regions.yaml", &spec, &err) < 0)
		print_error("%s\n", err.msg);
	assert_non_null(spec);
	assert_int_equal(spec->n_region_links, 4); /* the file's, then the triangle */
	assert_string_equal(spec->region_links[0].b, "lab-eu");
	assert_int_equal(spec->region_links[0].cond.up.loss, 1000000);
	assert_string_equal(spec->region_links[3].a, "eu");
	assert_string_equal(spec->region_links[3].b, "asia");
	assert_int_equal(spec->region_links[3].cond.down.delay_ns, 120000000);
	assert_true(spec->routers[lab_spec_router_index(spec, "asia")].is_region);
	assert_string_equal(spec->routers[lab_spec_router_index(spec, "home")].region, "lab-eu");
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	/* a link is an interface of the region planned later (regions: from `regions:` first,
	 * then the triangle), on the other region's segment */
	lab_eu = &plan->nodes[lab_plan_find(plan, "lab-eu")];
	eu = &plan->nodes[lab_plan_find(plan, "eu")];
	assert_true(lab_eu->region);
	assert_int_equal(lab_eu->n_ifaces, 1);
	assert_int_equal(eu->n_ifaces, 3); /* to-lab-eu, to-us (us was planned first) */
	assert_string_equal(eu->ifaces[1].name, "to-lab-eu");
	assert_int_equal(eu->ifaces[1].up_node, (size_t)lab_plan_find(plan, "lab-eu"));
	assert_int_equal(eu->ifaces[1].spec_iface, 0);
	/* the router in a region hangs off the region's segment */
	assert_int_equal(plan->nodes[lab_plan_find(plan, "dc-eu")].ifaces[0].up_node,
			 (size_t)lab_plan_find(plan, "eu"));
}

/* 40 regions, every pair linked (780 links): no fixed region limit (patchbay stops at 16). */
static void test_regions_many(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	char name[16], other[16];
	nslab_error err = { 0 };
	size_t ifaces = 0;

	(void)state;
	assert_int_equal(lab_spec_new("many", &spec, NULL), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(lab_spec_add_region(spec, name, (struct spec_loc){ 0 }, NULL), 0);
	}
	for (int i = 0; i < 40; i++)
		for (int j = i + 1; j < 40; j++) {
			struct spec_region_link l = { .a = name, .b = other };

			snprintf(name, sizeof(name), "r%d", i);
			snprintf(other, sizeof(other), "r%d", j);
			l.cond.up.delay_ns = 1000000;
			assert_int_equal(lab_spec_add_region_link(spec, &l, NULL), 0);
		}
	if (lab_plan_make(spec, &plan, &err) < 0)
		print_error("%s\n", err.msg);
	assert_non_null(plan);
	for (size_t i = 0; i < plan->n_nodes; i++)
		ifaces += plan->nodes[i].n_ifaces;
	assert_int_equal(ifaces, 40 + 780);
}

static void test_examples(void **state)
{
	static const char *const files[] = { "examples/two-hosts.yaml", "examples/office.yaml",
					     "examples/chain.yaml",	"examples/links.yaml",
					     "examples/networks.yaml",	"examples/nat.yaml" };
	_cleanup_(lab_spec_freep) struct lab_spec *chain = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
		nslab_error err = { 0 };

		_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;

		if (labfile_parse(files[i], &spec, &err) < 0)
			print_error("%s\n", err.msg);
		assert_non_null(spec);
		/* and every example plans */
		assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
		assert_int_equal(plan->n_nodes, 1 + spec->n_routers + spec->n_devices);
	}
	assert_int_equal(labfile_parse("examples/chain.yaml", &chain, NULL), 0);
	assert_string_equal(chain->name, "chain");
	assert_int_equal(chain->n_routers, 6);
	assert_int_equal(chain->routers[4].ip, LAB_IP_V6);
	assert_int_equal(chain->routers[5].ip, LAB_IP_V4);
	assert_int_equal(chain->routers[0].mtu, 9000);
	assert_int_equal(chain->n_devices, 6);
	assert_string_equal(chain->devices[1].name, "bench-1");
	assert_string_equal(chain->devices[2].name, "bench-2");
	assert_int_equal(chain->devices[5].n_ifaces, 3);
	assert_string_equal(chain->devices[5].default_via, "uplink");
	assert_int_equal(chain->n_dns, 4);
}

static void test_defaults(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n  r:\n", "dir/my-lab.yml");

	(void)state;
	assert_string_equal(spec->name, "my-lab");
	assert_int_equal(spec->seed, 0);
	assert_false(spec->dad);
	assert_int_equal(spec->n_routers, 1);
	assert_null(spec->routers[0].upstream);
	assert_int_equal(spec->routers[0].pool, LAB_POOL_PUBLIC);
	assert_int_equal(spec->routers[0].ip, LAB_IP_DUAL);
	assert_string_equal(fmt(&spec->ranges.ix4), "198.18.0.0/22");
	assert_string_equal(fmt(&spec->ranges.ix6), "2001:db8::/64");
	assert_string_equal(fmt(&spec->ranges.public4), "198.18.0.0/15");
	assert_string_equal(fmt(&spec->ranges.public6), "2001:db8:1::/48");
	assert_string_equal(fmt(&spec->ranges.private4), "10.0.0.0/8");
	assert_string_equal(fmt(&spec->ranges.private6), "fd10::/48");
	assert_int_equal(spec->ranges.sub4, 24);
	assert_int_equal(spec->ranges.sub6, 64);
}

static void test_empty_and_null(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *a = parse_ok("", "empty.yaml");
	_cleanup_(lab_spec_freep) struct lab_spec *b =
		parse_ok("routers:\ndevices: ~\ndns: null\nranges:\n", "nulls.yaml");
	_cleanup_(lab_spec_freep) struct lab_spec *c = parse_ok("seed: 1\n", NULL);

	(void)state;
	assert_string_equal(c->name, "lab");
	assert_null(c->file);
	assert_string_equal(a->name, "empty");
	assert_int_equal(a->n_routers + a->n_devices + a->n_dns, 0);
	assert_string_equal(b->name, "nulls");
	assert_int_equal(b->n_routers + b->n_devices + b->n_dns, 0);
}

static void test_values(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("lab: x1\nseed: 18446744073709551615\ndad: true\nrouters:\n"
			 "  a: {mtu: 9000, ip: v4}\n  b: {upstream: a, ip: v4, mtu: 576}\n"
			 "  c: {ip: v6, pool: private}\n"
			 "dns:\n  a.test: 192.0.2.1\n  b.test: 2001:db8::1\n  c.test: c\n",
			 "t.yaml");

	(void)state;
	assert_string_equal(spec->name, "x1");
	assert_true(spec->seed == UINT64_MAX);
	assert_true(spec->dad);
	assert_int_equal(spec->routers[0].mtu, 9000);
	assert_int_equal(spec->routers[1].mtu, 576);
	assert_int_equal(spec->routers[1].ip, LAB_IP_V4);
	assert_int_equal(spec->routers[2].ip, LAB_IP_V6);
	assert_int_equal(spec->routers[2].pool, LAB_POOL_PRIVATE);
	assert_int_equal(spec->n_dns, 3);
	assert_string_equal(spec->dns[1].target, "2001:db8::1");
}

static void test_ranges_override(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("ranges:\n  ix4: 100.64.0.0/22\n  ix6: 2001:db8:ff::/64\n"
			 "  public4: 100.64.0.0/16\n  public6: 2001:db8:100::/40\n"
			 "  private4: 172.16.0.0/12\n  private6: fd00:1::/32\n"
			 "  sub4: 26\n  sub6: 80\n",
			 "t.yaml");

	(void)state;
	assert_string_equal(fmt(&spec->ranges.ix4), "100.64.0.0/22");
	assert_string_equal(fmt(&spec->ranges.ix6), "2001:db8:ff::/64");
	assert_string_equal(fmt(&spec->ranges.public4), "100.64.0.0/16");
	assert_string_equal(fmt(&spec->ranges.public6), "2001:db8:100::/40");
	assert_string_equal(fmt(&spec->ranges.private4), "172.16.0.0/12");
	assert_string_equal(fmt(&spec->ranges.private6), "fd00:1::/32");
	assert_int_equal(spec->ranges.sub4, 26);
	assert_int_equal(spec->ranges.sub6, 80);
	assert_loc(spec->ranges.loc, 1, 1);
	assert_loc(spec->ranges.at[SPEC_RANGE_IX4], 2, 8);
	assert_loc(spec->ranges.at[SPEC_RANGE_SUB6], 9, 9);
}

static void test_count(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers: {a: {}, b: {}}\ndevices:\n  node:\n"
			 "    ifaces: {x: {router: a}, y: {router: b}}\n"
			 "    default_via: y\n    count: 4096\n",
			 "t.yaml");

	(void)state;
	assert_int_equal(spec->n_devices, 4096);
	assert_string_equal(spec->devices[0].name, "node-1");
	assert_string_equal(spec->devices[4095].name, "node-4096");
	for (size_t i = 0; i < spec->n_devices; i++) {
		assert_int_equal(spec->devices[i].n_ifaces, 2);
		assert_string_equal(spec->devices[i].ifaces[1].router, "b");
		assert_string_equal(spec->devices[i].default_via, "y");
	}
}

/* Only the exact name "ix" is the lab root's: count: copies and look-alikes are fine. */
static void test_ix_lookalikes(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec =
		parse_ok("routers:\n  ix-gw: {}\n  six: {}\ndevices:\n"
			 "  ix: {router: six, count: 2}\n  ixx: {router: ix-gw}\n",
			 "t.yaml");

	(void)state;
	assert_int_equal(spec->n_devices, 3);
	assert_string_equal(spec->devices[0].name, "ix-1");
	assert_string_equal(spec->devices[1].name, "ix-2");
	assert_string_equal(spec->devices[2].name, "ixx");
}

struct error_case {
	const char *text, *msg;
};

static const struct error_case errors[] = {
	/* unknown keys */
	{ "lab: x\nrouterz: {}\n",
	  "t.yaml:2:1: unknown key 'routerz' (expected one of: lab, seed, dad, ranges, routers, "
	  "devices, dns, links, link_backend, regions, region_links, default_regions, ipv6, "
	  "dns_upstream, dns64)" },
	{ "routers: {isp: {}}\ndns_upstream: nowhere\n",
	  "t.yaml:2:15: dns_upstream 'nowhere': not a node of the lab nor an IP address" },
	{ "routers:\n  isp: {upstrem: x}\n",
	  "t.yaml:2:9: unknown key 'upstrem' (expected one of: "
	  "upstream, pool, ip, mtu, link, downlink, nat, nat6, firewall, "
	  "preset, rules_file, region, block_icmp_frag_needed, nat64_size)" },
	{ "devices:\n  d: {router: r, via: eth0}\n",
	  "t.yaml:2:18: unknown key 'via' (expected one of: router, ifaces, default_via, count, "
	  "link)" },
	{ "ranges:\n  ix: 10.0.0.0/8\n",
	  "t.yaml:2:3: unknown key 'ix' (expected one of: ix4, ix6, public4, public6, private4, "
	  "private6, sub4, sub6)" },
	{ "devices:\n  d:\n    ifaces: {eth0: {router: r, mtu: 1}}\n",
	  "t.yaml:3:32: unknown key 'mtu' (expected one of: router, link)" },
	/* regions */
	{ "regions: {eu: {}}\nrouters:\n  r: {region: us}\n", "t.yaml:3:15: unknown region 'us'" },
	{ "regions: {eu: {}}\nrouters:\n  r: {region: eu, upstream: eu}\n",
	  "t.yaml:3:15: router 'r': 'region' and 'upstream' exclude each other (a router behind "
	  "another is in its upstream's region)" },
	{ "regions: {eu: {}}\nrouters:\n  r: {upstream: eu}\n",
	  "t.yaml:3:17: 'eu' is a region, not a router (a router joins it with 'region: eu')" },
	{ "regions: {eu: {}}\ndevices:\n  d: {router: eu}\n",
	  "t.yaml:3:15: 'eu' is a region, not a router (a router joins it with 'region: eu')" },
	{ "routers: {r: {}}\nregions: {eu: {}}\nregion_links: [{a: eu, b: r}]\n",
	  "t.yaml:3:27: 'r' is a router, not a region (regions are under 'regions:')" },
	{ "regions: {eu: {}}\nregion_links: [{a: eu, b: eu}]\n",
	  "t.yaml:2:27: region link from 'eu' to itself" },
	{ "regions: {eu: {}}\nregion_links: [{a: eu}]\n",
	  "t.yaml:2:16: a region link needs 'a' and 'b' (two regions)" },
	{ "regions: {eu: {}, us: {}}\nregion_links: [{a: eu, b: us}, {a: us, b: eu}]\n",
	  "t.yaml:2:32: regions 'us' and 'eu' are linked twice" },
	{ "regions: {eu: {delay: 1ms}}\n",
	  "t.yaml:1:16: region 'eu': unknown key 'delay' (a region has no settings; its links are "
	  "under 'region_links:')" },
	{ "regions: {eu: {}, us: {}}\nregion_links: [{a: eu, b: us, dealy: 1ms}]\n",
	  "t.yaml:2:31: unknown key 'dealy' (expected one of: delay, jitter, distribution, "
	  "correlation, loss, rate, burst, limit, reorder, gap, duplicate, corrupt, mtu, trace, "
	  "preset, seed, up, down)" },
	{ "routers: {eu: {}}\ndefault_regions: true\n",
	  "t.yaml:2:1: 'eu' is a router, not a region (regions are under 'regions:')" },
	/* wrong types */
	{ "routers: [a, b]\n", "t.yaml:1:10: routers: expected a mapping, not a sequence" },
	{ "routers:\n  isp: 3\n", "t.yaml:2:8: router 'isp': expected a mapping, not a scalar" },
	{ "- a\n", "t.yaml:1:1: lab file: expected a mapping, not a sequence" },
	{ "routers:\n  isp: {mtu: [1]}\n", "t.yaml:2:14: mtu: expected 576..9000, not a sequence" },
	{ "routers:\n  r:\n    upstream:\n", "t.yaml:3:5: upstream: expected a string, not null" },
	{ "devices:\n  d:\n    ifaces: [eth0]\n",
	  "t.yaml:3:13: ifaces: expected a mapping, not a sequence" },
	{ "{a: 1}: 2\n", "t.yaml:1:1: key: expected a string, not a mapping" },
	/* bad values */
	{ "routers:\n  isp: {ip: v5}\n", "t.yaml:2:13: bad ip 'v5' (expected v4, v6 or dual)" },
	{ "routers:\n  isp: {pool: shared}\n",
	  "t.yaml:2:15: bad pool 'shared' (expected public, private or cgnat)" },
	{ "routers:\n  isp: {mtu: 100}\n", "t.yaml:2:14: bad mtu '100' (expected 576..9000)" },
	{ "routers:\n  isp: {mtu: 9001}\n", "t.yaml:2:14: bad mtu '9001' (expected 576..9000)" },
	{ "seed: -1\n", "t.yaml:1:7: bad seed '-1' (expected an unsigned integer)" },
	{ "seed: 18446744073709551616\n",
	  "t.yaml:1:7: bad seed '18446744073709551616' (expected an unsigned integer)" },
	{ "dad: maybe\n", "t.yaml:1:6: bad dad 'maybe' (expected true or false)" },
	{ "devices:\n  d: {router: r, count: 0}\n",
	  "t.yaml:2:25: bad count '0' (expected 1..4096)" },
	{ "devices:\n  d: {router: r, count: 5000}\n",
	  "t.yaml:2:25: bad count '5000' (expected 1..4096)" },
	{ "lab: Office\n",
	  "t.yaml:1:6: bad lab name 'Office': use a-z, 0-9 and '-', start with a letter, at most "
	  "32 characters" },
	{ "lab: abcdefghijklmnopqrstuvwxyz0123456\n",
	  "t.yaml:1:6: bad lab name 'abcdefghijklmnopqrstuvwxyz0123456': use a-z, 0-9 and '-', "
	  "start with a letter, at most 32 characters" },
	{ "lab: \"a\\0b\"\n", "t.yaml:1:6: lab: unexpected NUL character" },
	{ "lab: 'it''s'\n", "t.yaml:1:6: bad lab name 'it's': use a-z, 0-9 and '-', start with a "
			    "letter, at most 32 characters" },
	{ "lab: a\n  b\n", "t.yaml:1:6: multi-line values are not supported" },
	{ "lab: |\n  a\n", "t.yaml:1:1: block scalars ('|', '>') are not supported" },
	{ "routers:\n  caf\xc3\xa9: {}\n", "t.yaml:2:3: bad router name 'caf?"
					   "?': use a-z, 0-9 and '-', start with a letter, do not "
					   "end with '-', at most 63 characters" },
	/* unknown routers, devices used as routers */
	{ "routers:\n  a: {upstream: nope}\n", "t.yaml:2:17: unknown router 'nope'" },
	{ "routers:\n  a: {}\ndevices:\n  d: {router: nope}\n",
	  "t.yaml:4:15: unknown router 'nope'" },
	{ "routers:\n  r: {}\ndevices:\n  d: {router: r}\n  e: {router: d}\n",
	  "t.yaml:5:15: 'd' is a device, not a router" },
	/* cycles */
	{ "routers:\n  a: {upstream: b}\n  b: {upstream: a}\n",
	  "t.yaml:2:17: upstream cycle: a -> b -> a" },
	{ "routers:\n  x: {}\n  a: {upstream: c}\n  b: {upstream: a}\n  c: {upstream: b}\n",
	  "t.yaml:3:17: upstream cycle: a -> c -> b -> a" },
	{ "routers:\n  a: {upstream: a}\n", "t.yaml:2:17: upstream cycle: a -> a" },
	/* duplicates */
	{ "routers:\n  a: {}\n  a: {}\n",
	  "t.yaml:3:3: duplicate name 'a' (already used by the router at 2:3)" },
	{ "routers:\n  a: {}\ndevices:\n  a: {router: a}\n",
	  "t.yaml:4:3: duplicate name 'a' (already used by the router at 2:3)" },
	{ "devices:\n  a: {router: r}\nrouters:\n  r: {}\n  a: {}\n",
	  "t.yaml:5:3: duplicate name 'a' (already used by the device at 2:3)" },
	{ "routers:\n  r: {}\ndevices:\n  s-1: {router: r}\n  s: {router: r, count: 2}\n",
	  "t.yaml:5:3: duplicate name 's-1' (already used by the device at 4:3)" },
	{ "routers:\n  r: {}\ndevices:\n  s: {router: r, count: 2}\n  s-2: {router: r}\n",
	  "t.yaml:5:3: duplicate name 's-2' (already used by the device at 4:3)" },
	{ "routers:\n  a: {mtu: 1500, mtu: 1400}\n", "t.yaml:2:18: duplicate key 'mtu'" },
	{ "seed: 1\nseed: 2\n", "t.yaml:2:1: duplicate key 'seed'" },
	{ "routers:\n  r: {}\ndevices:\n  d:\n    ifaces: {e: {router: r}, e: {router: r}}\n",
	  "t.yaml:5:30: duplicate interface 'e' in device 'd'" },
	{ "routers:\n  r: {}\ndns:\n  a.test: r\n  A.test: r\n",
	  "t.yaml:5:3: duplicate dns name 'A.test'" },
	/* default_via and interfaces */
	{ "routers:\n  r: {}\ndevices:\n  d:\n    ifaces: {eth0: {router: r}}\n"
	  "    default_via: eth1\n",
	  "t.yaml:6:18: default_via: device 'd' has no interface 'eth1'" },
	{ "routers:\n  r: {}\ndevices:\n  d: {router: r, default_via: wlan0}\n",
	  "t.yaml:4:31: default_via: device 'd' has no interface 'wlan0'" },
	{ "routers:\n  r: {}\ndevices:\n  d: {router: r, ifaces: {eth0: {router: r}}}\n",
	  "t.yaml:4:18: 'router' and 'ifaces' cannot be used together" },
	{ "devices:\n  d: {count: 2}\n", "t.yaml:2:3: device 'd' needs 'router' or 'ifaces'" },
	{ "devices:\n  d:\n", "t.yaml:2:3: device 'd' needs 'router' or 'ifaces'" },
	{ "devices:\n  d:\n    ifaces: {eth0: }\n",
	  "t.yaml:3:14: interface 'eth0' needs 'router'" },
	{ "devices:\n  d:\n    ifaces: {eth0: {}}\n",
	  "t.yaml:3:14: interface 'eth0' needs 'router'" },
	{ "routers:\n  r: {}\ndevices:\n  d:\n    ifaces: {}\n",
	  "t.yaml:4:3: device 'd' has no interfaces" },
	/* names */
	{ "routers:\n  Isp: {}\n",
	  "t.yaml:2:3: bad router name 'Isp': use a-z, 0-9 and '-', start with a letter, do not "
	  "end with '-', at most 63 characters" },
	{ "routers:\n  r: {}\ndevices:\n  a_b: {router: r}\n",
	  "t.yaml:4:3: bad device name 'a_b': use a-z, 0-9 and '-', start with a letter, do not "
	  "end with '-', at most 63 characters" },
	{ "routers:\n  r: {}\ndevices:\n  s-: {router: r, count: 2}\n",
	  "t.yaml:4:3: bad device name 's-': use a-z, 0-9 and '-', start with a letter, do not "
	  "end with '-'" },
	/* "ix" is the lab root's name */
	{ "routers:\n  ix: {}\n", "t.yaml:2:3: 'ix' is the lab root's name: choose another" },
	{ "routers:\n  r: {}\ndevices:\n  ix: {router: r}\n",
	  "t.yaml:4:3: 'ix' is the lab root's name: choose another" },
	{ "routers:\n  r: {}\ndevices:\n  ix:\n    ifaces: {eth0: {router: r}}\n",
	  "t.yaml:4:3: 'ix' is the lab root's name: choose another" },
	{ "routers:\n  r: {}\ndevices:\n  d:\n    ifaces: {lo: {router: r}}\n",
	  "t.yaml:5:14: bad interface name 'lo' in device 'd': use A-Z, a-z, 0-9, '_' and '-', "
	  "at most 15 characters, not 'lo'" },
	{ "routers:\n  r: {}\ndevices:\n  d:\n    ifaces: {abcdefghijklmnop: {router: r}}\n",
	  "t.yaml:5:14: bad interface name 'abcdefghijklmnop' in device 'd': use A-Z, a-z, 0-9, "
	  "'_' and '-', at most 15 characters, not 'lo'" },
	{ "routers:\n  r: {}\ndns:\n  bad_name: r\n",
	  "t.yaml:4:3: bad host name 'bad_name': use dot-separated labels of A-Z, a-z, 0-9 and "
	  "'-'" },
	{ "routers:\n  r: {}\ndns:\n  www.example.test: nowhere\n",
	  "t.yaml:4:21: unknown node 'nowhere' (expected a node name or an IP address)" },
	{ "dns:\n  a.test: 10.0.0.1/8\n",
	  "t.yaml:2:11: unknown node '10.0.0.1/8' (expected a node name or an IP address)" },
	/* families */
	{ "routers:\n  a: {ip: v6}\n  b: {upstream: a, ip: v4}\n",
	  "t.yaml:3:17: router 'b' (ip: v4) shares no IP family with its upstream 'a' (ip: v6)" },
	/* ranges */
	{ "ranges: {private4: 198.18.0.0/16}\n",
	  "t.yaml:1:20: ranges: private4 198.18.0.0/16 overlaps public4 198.18.0.0/15" },
	{ "ranges:\n  public4: 10.0.0.0/16\n",
	  "t.yaml:2:12: ranges: public4 10.0.0.0/16 overlaps private4 10.0.0.0/8" },
	{ "ranges:\n  private6: 2001:db8::/32\n",
	  "t.yaml:2:13: ranges: private6 2001:db8::/32 overlaps public6 2001:db8:1::/48" },
	{ "ranges:\n  ix4: 10.0.0.0/33\n",
	  "t.yaml:2:8: bad ix4 '10.0.0.0/33' (expected a prefix such as 198.18.0.0/22)" },
	{ "ranges:\n  public6: 'fd10::'\n",
	  "t.yaml:2:12: bad public6 'fd10::' (expected a prefix such as 2001:db8:1::/48)" },
	{ "ranges:\n  ix4: 2001:db8::/64\n",
	  "t.yaml:2:8: ranges: ix4 '2001:db8::/64' is not an IPv4 prefix" },
	{ "ranges:\n  ix4: 198.18.0.1/22\n",
	  "t.yaml:2:8: ranges: ix4 '198.18.0.1/22' has host bits set" },
	{ "ranges:\n  ix6: 2001:db8::/127\n",
	  "t.yaml:2:8: ranges: ix6 '2001:db8::/127' is too small" },
	{ "ranges:\n  sub4: 31\n",
	  "t.yaml:2:9: ranges: sub4 /31 leaves no room for devices (at most /30)" },
	{ "ranges:\n  sub4: 8\n",
	  "t.yaml:2:9: ranges: sub4 /8 does not fit in public4 198.18.0.0/15" },
	{ "ranges:\n  ix4: 198.18.0.0/29\n  public4: 198.18.0.0/28\n",
	  "t.yaml:3:12: ranges: sub4 /24 does not fit in public4 198.18.0.0/28" },
	{ "ranges:\n  sub6: 129\n",
	  "t.yaml:2:9: bad sub6 '129' (expected a prefix length 0..128)" },
	{ "ranges:\n  public4: 198.18.1.0/24\n",
	  "t.yaml:2:12: ranges: public4 198.18.1.0/24 lies inside ix4 198.18.0.0/22" },
/* special-purpose blocks: the kernel would refuse their addresses mid-build */
#define NOT_USABLE ": not usable for interface addresses"
	{ "ranges:\n  ix6: ::/64\n",
	  "t.yaml:2:8: ranges: ix6 '::/64' overlaps ::/128 (the unspecified address)" NOT_USABLE },
	{ "ranges:\n  ix6: ::1/128\n", "t.yaml:2:8: ranges: ix6 '::1/128' is too small" },
	{ "ranges:\n  ix6: '::/0'\n",
	  "t.yaml:2:8: ranges: ix6 '::/0' overlaps ::/128 (the unspecified address)" NOT_USABLE },
	{ "ranges:\n  ix4: 0.0.0.0/24\n",
	  "t.yaml:2:8: ranges: ix4 '0.0.0.0/24' overlaps 0.0.0.0/8 ('this network')" NOT_USABLE },
	{ "ranges:\n  ix4: 127.1.0.0/24\n",
	  "t.yaml:2:8: ranges: ix4 '127.1.0.0/24' overlaps 127.0.0.0/8 (loopback)" NOT_USABLE },
	{ "ranges: {public4: 224.0.0.0/4}\n", "t.yaml:1:19: ranges: public4 '224.0.0.0/4' overlaps "
					      "224.0.0.0/4 (multicast)" NOT_USABLE },
	{ "ranges:\n  private4: 169.254.0.0/16\n",
	  "t.yaml:2:13: ranges: private4 '169.254.0.0/16' overlaps 169.254.0.0/16 "
	  "(link-local)" NOT_USABLE },
	{ "ranges:\n  public4: 255.255.255.0/24\n",
	  "t.yaml:2:12: ranges: public4 '255.255.255.0/24' overlaps 255.255.255.255/32 (the "
	  "broadcast address)" NOT_USABLE },
	{ "ranges:\n  private4: 0.0.0.0/0\n", "t.yaml:2:13: ranges: private4 '0.0.0.0/0' overlaps "
					      "0.0.0.0/8 ('this network')" NOT_USABLE },
	{ "ranges:\n  public6: ff02::/16\n",
	  "t.yaml:2:12: ranges: public6 'ff02::/16' overlaps ff00::/8 (multicast)" NOT_USABLE },
	{ "ranges:\n  private6: fe80::/48\n",
	  "t.yaml:2:13: ranges: private6 'fe80::/48' overlaps fe80::/10 (link-local)" NOT_USABLE },
	{ "ranges:\n  public6: ::ffff:0:0/96\n",
	  "t.yaml:2:12: ranges: public6 '::ffff:0.0.0.0/96' overlaps ::ffff:0:0/96 "
	  "(IPv4-mapped)" NOT_USABLE },
	{ "ranges:\n  ix6: ::1:0:0/96\n  public6: ::/16\n",
	  "t.yaml:3:12: ranges: public6 '::/16' overlaps ::/128 (the unspecified "
	  "address)" NOT_USABLE },
	{ "dns:\n  a.test: 224.0.0.1\n",
	  "t.yaml:2:11: dns target '224.0.0.1' is in 224.0.0.0/4 (multicast): not a host's "
	  "address" },
	{ "dns:\n  a.test: '::'\n",
	  "t.yaml:2:11: dns target '::' is in ::/128 (the unspecified address): not a host's "
	  "address" },
	{ "dns:\n  a.test: 127.0.0.1\n",
	  "t.yaml:2:11: dns target '127.0.0.1' is in 127.0.0.0/8 (loopback): not a host's "
	  "address" },
#undef NOT_USABLE
	/* YAML itself */
	{ "routers: [a\n", "t.yaml:2:1: flow sequence without a closing bracket" },
	{ "\t routers: {}\n", "t.yaml:1:1: invalid tab as indendation in a mapping" },
	{ "routers:\n  a: &x {}\n  b: *x\n", "t.yaml:3:6: aliases are not supported" },
	{ "lab: a\n---\nlab: b\n", "t.yaml:2:1: expected a single YAML document" },
	{ "lab: a\nb: \xff\n", "t.yaml:2:4: invalid UTF-8" },
	{ "lab: \xed\xa0\x80\n", "t.yaml:1:6: invalid UTF-8" },
	{ "lab: \xc0\xaf\n", "t.yaml:1:6: invalid UTF-8" },
	{ "%YAML 1.2\n---\nlab: a\n", "t.yaml:1:1: directives ('%') are not supported" },
	/* link conditions */
	{ "routers: {r: {}}\ndevices:\n  d: {router: r, link: {delay: 5}}\n",
	  "t.yaml:3:32: bad delay '5' (expected a time such as 20ms or 500us, at most 60s)" },
	{ "routers: {r: {}}\ndevices:\n  d: {router: r, link: wify}\n",
	  "t.yaml:3:24: unknown link preset 'wify' (see `nslab link --presets`)" },
	{ "routers: {r: {downlink: {los: 1%}}}\n",
	  "t.yaml:1:26: unknown key 'los' (expected one of: delay, jitter, distribution, "
	  "correlation, loss, rate, burst, limit, reorder, gap, duplicate, corrupt, mtu, trace, "
	  "preset, seed, up, down)" },
	{ "routers: {r: {}}\ndevices:\n  d:\n    link: wifi\n    ifaces: {e: {router: r}}\n",
	  "t.yaml:5:5: 'link' goes with 'router'; with 'ifaces', give each interface its own "
	  "'link'" },
	{ "links:\n  a: {delay: 1ms}\n  a: {delay: 2ms}\n",
	  "t.yaml:3:3: link preset 'a' defined twice" },
	{ "link_backend: tc\n",
	  "t.yaml:1:15: bad link_backend 'tc' (expected auto, wire or netem)" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
		struct lab_spec *spec = SENTINEL;
		nslab_error err = { 0 };
		int r = labfile_parse_string(errors[i].text, strlen(errors[i].text), "t.yaml",
					     &spec, &err);

		if (r != -EINVAL || strcmp(err.msg, errors[i].msg) != 0)
			print_error("case %zu:\n%s\n  got  %d: %s\n  want %s\n", i, errors[i].text,
				    r, err.msg, errors[i].msg);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(err.code, EINVAL);
		assert_string_equal(err.msg, errors[i].msg);
		assert_ptr_equal(spec, SENTINEL); /* ret untouched on failure */
		/* err may be NULL */
		assert_int_equal(labfile_parse_string(errors[i].text, strlen(errors[i].text),
						      "t.yaml", &spec, NULL),
				 -EINVAL);
	}
}

static void test_file_errors(void **state)
{
	struct lab_spec *spec = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(labfile_parse("tests/unit/no-such-lab.yaml", &spec, &err), -ENOENT);
	assert_string_equal(err.msg,
			    "open 'tests/unit/no-such-lab.yaml': No such file or directory");
	/* a file that is no lab file: its lines are not quoted back */
	{
		const char *shadow = "root:$6$s3cr3tSALT$S3CR3THASH:19000:0:99999:7:::\n"
				     "password = hunter2\n";

		assert_int_equal(
			labfile_parse_string(shadow, strlen(shadow), "shadow", &spec, &err),
			-EINVAL);
		assert_string_equal(
			err.msg,
			"shadow:1:1: unknown key (expected one of: lab, seed, "
			"dad, ranges, routers, devices, dns, links, link_backend, regions, "
			"region_links, default_regions, ipv6, dns_upstream, dns64)");
		assert_null(strstr(err.msg, "S3CR3T"));
		assert_null(strstr(err.msg, "s3cr3t"));
	}
	/* not regular files: refused at once (a FIFO nobody writes to would block a read) */
	{
		char dir[] = "/tmp/nslab-test-labfile-XXXXXX", fifo[64], want[128];

		assert_non_null(mkdtemp(dir));
		snprintf(fifo, sizeof(fifo), "%s/lab.yaml", dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(labfile_parse(fifo, &spec, &err), -EINVAL);
		snprintf(want, sizeof(want), "'%s': not a regular file", fifo);
		assert_string_equal(err.msg, want);
		assert_int_equal(labfile_parse(dir, &spec, &err), -EISDIR);
		snprintf(want, sizeof(want), "'%s': not a regular file", dir);
		assert_string_equal(err.msg, want);
		assert_int_equal(unlink(fifo), 0);
		assert_int_equal(rmdir(dir), 0);
	}
	assert_int_equal(labfile_parse_string("", 0, "dir/My Lab.yaml", &spec, &err), -EINVAL);
	assert_string_equal(err.msg, "dir/My Lab.yaml:1:1: lab name 'My Lab' from the file name "
				     "is not valid (use a-z, 0-9 and '-', at most 32 characters): "
				     "set 'lab:'");
	assert_ptr_equal(spec, SENTINEL);
}

static void test_limits(void **state)
{
	const char *text = "routers: {r: {}}\ndevices:\n"
			   "  a: {router: r, count: 4096}\n  b: {router: r, count: 4096}\n"
			   "  c: {router: r, count: 4096}\n  d: {router: r, count: 4096}\n"
			   "  e: {router: r, count: 1}\n";
	struct lab_spec *spec = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(labfile_parse_string(text, strlen(text), "t.yaml", &spec, &err), -EINVAL);
	assert_string_equal(err.msg, "t.yaml:7:25: too many devices (at most 16384)");
}

/* Specs built by API calls: the same checks, messages without a location. */
static void test_api_validate(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	struct spec_router r = { .name = (char *)"a" };
	struct spec_iface i = { .name = (char *)"eth0", .router = (char *)"b" };
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(lab_spec_new("api", &spec, &err), 0);
	assert_null(spec->file);
	assert_int_equal(lab_spec_validate(spec, &err), 0);
	assert_int_equal(lab_spec_add_router(spec, &r, &err), 0);
	assert_int_equal(lab_spec_add_device(spec, "d", (struct spec_loc){ 0 }, &err), 0);
	assert_int_equal(lab_spec_validate(spec, &err), -EINVAL);
	assert_string_equal(err.msg, "device 'd' has no interfaces");
	assert_int_equal(lab_spec_add_iface(spec, 0, &i, &err), 0);
	assert_int_equal(lab_spec_validate(spec, &err), -EINVAL);
	assert_string_equal(err.msg, "unknown router 'b'");
	free(spec->devices[0].ifaces[0].router);
	spec->devices[0].ifaces[0].router = strdup("a");
	assert_int_equal(lab_spec_validate(spec, &err), 0);
	assert_int_equal(lab_spec_add_device(spec, "a", (struct spec_loc){ 0 }, &err), 0);
	assert_int_equal(lab_spec_add_iface(spec, 1, &i, &err), 0);
	assert_int_equal(lab_spec_validate(spec, &err), -EINVAL);
	assert_string_equal(err.msg, "duplicate name 'a' (already used by a router)");
	assert_int_equal(lab_spec_router_index(spec, "a"), 0);
	assert_int_equal(lab_spec_device_index(spec, "a"), 1);
	assert_int_equal(lab_spec_device_index(spec, "zz"), -1);
	assert_int_equal(lab_spec_add_iface(spec, 7, &i, &err), -EINVAL);
}

static void test_api_ix(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	struct spec_router r = { .name = (char *)"ix" };
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(lab_spec_new("api", &spec, &err), 0);
	assert_int_equal(lab_spec_add_router(spec, &r, &err), 0);
	assert_int_equal(lab_spec_validate(spec, &err), -EINVAL);
	assert_string_equal(err.msg, "'ix' is the lab root's name: choose another");
}

/* Before the build, the node count is what nslab_lab_check() planned: up's progress total. */
static void test_count_checked(void **state)
{
	nslab_lab *lab = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_lab_from_file("examples/office.yaml", &lab, &err), 0);
	assert_int_equal(nslab_lab_node_count(lab), 0);
	assert_int_equal(nslab_lab_check(lab, &err), 0);
	assert_int_equal(nslab_lab_node_count(lab), 7);
	assert_null(nslab_lab_node_at(lab, 0)); /* nothing built yet */
	nslab_lab_free(lab);
}

static void test_name_rules(void **state)
{
	char buf[SPEC_QUOTE_MAX];

	(void)state;
	assert_true(spec_node_name_ok("a"));
	assert_true(spec_node_name_ok("server-12"));
	assert_false(spec_node_name_ok(""));
	assert_false(spec_node_name_ok("1a"));
	assert_false(spec_node_name_ok("a-"));
	assert_false(spec_node_name_ok("a.b"));
	assert_false(spec_node_name_ok("A"));
	assert_true(spec_node_name_ok(
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"));
	assert_false(spec_node_name_ok(
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"));
	assert_true(spec_lab_name_ok("abcdefghijklmnopqrstuvwxyz012345"));
	assert_false(spec_lab_name_ok("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_true(spec_iface_name_ok("eth0"));
	assert_true(spec_iface_name_ok("Wlan_0-x"));
	assert_true(spec_iface_name_ok("abcdefghijklmno"));
	assert_false(spec_iface_name_ok("abcdefghijklmnop"));
	assert_false(spec_iface_name_ok("lo"));
	assert_false(spec_iface_name_ok("a.b"));
	assert_false(spec_iface_name_ok(""));
	assert_true(spec_host_name_ok("api.example.test"));
	assert_true(spec_host_name_ok("a"));
	assert_false(spec_host_name_ok("a..b"));
	assert_false(spec_host_name_ok(".a"));
	assert_false(spec_host_name_ok("a."));
	assert_false(spec_host_name_ok("-a.b"));
	assert_false(spec_host_name_ok("a-.b"));
	assert_false(spec_host_name_ok("a_b"));
	assert_string_equal(spec_quote("a\nb", buf), "a?b");
	assert_string_equal(
		spec_quote("0123456789012345678901234567890123456789012345678901234567890123456789",
			   buf),
		"0123456789012345678901234567890123456789012345678901234567890123...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_office_example),	cmocka_unit_test(test_examples),
		cmocka_unit_test(test_links),		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_regions_many),	cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_null),	cmocka_unit_test(test_values),
		cmocka_unit_test(test_ranges_override), cmocka_unit_test(test_count),
		cmocka_unit_test(test_errors),		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_limits),		cmocka_unit_test(test_api_validate),
		cmocka_unit_test(test_name_rules),	cmocka_unit_test(test_ix_lookalikes),
		cmocka_unit_test(test_api_ix),		cmocka_unit_test(test_count_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

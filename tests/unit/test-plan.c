/* SPDX-License-Identifier: MIT */
/* Address plan: golden values, determinism, IP modes, routes, overrides, exhaustion, scale. */
#include "lab/plan.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/hash.h"
#include "lab/labfile.h"
#include "lab/regions.h"

static const char office[] = "lab: office\n"
			     "seed: 7\n"
			     "routers:\n"
			     "  isp: {}\n"
			     "  home: {upstream: isp, pool: private, ip: dual}\n"
			     "devices:\n"
			     "  laptop: {router: home}\n"
			     "  phone:\n"
			     "    ifaces: {wlan0: {router: home}, eth1: {router: isp}}\n"
			     "    default_via: wlan0\n"
			     "  server: {router: isp, count: 3}\n"
			     "dns: {api.example.test: server-1}\n";

static struct lab_spec *spec_from(const char *text)
{
	struct lab_spec *spec = NULL;
	nslab_error err = { 0 };

	if (labfile_parse_string(text, strlen(text), "t.yaml", &spec, &err) < 0)
		print_error("%s\n", err.msg);
	assert_non_null(spec);
	return spec;
}

static struct lab_plan *plan_from(const char *text, uint64_t seed)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = spec_from(text);
	struct lab_plan *plan = NULL;
	nslab_error err = { 0 };

	spec->seed = seed;
	if (lab_plan_make(spec, &plan, &err) < 0)
		print_error("%s\n", err.msg);
	assert_non_null(plan);
	return plan;
}

/* The error of planning text: returns the code, message in msg. */
static int plan_error(const char *text, char *msg, size_t len)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = spec_from(text);
	struct lab_plan *plan = (struct lab_plan *)0x1;
	nslab_error err = { 0 };
	int r = lab_plan_make(spec, &plan, &err);

	assert_ptr_equal(plan, (struct lab_plan *)0x1); /* ret untouched on failure */
	snprintf(msg, len, "%s", err.msg);
	return r;
}

static const char *fmt(const struct nslab_prefix *p)
{
	static char buf[8][PREFIX_STRLEN];
	static int k;

	k = (k + 1) % 8;
	return prefix_format(p, true, buf[k], sizeof(buf[k]));
}

static const char *mac_str(const uint8_t *m)
{
	static char buf[4][18];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	return buf[k];
}

static const struct plan_node *node(const struct lab_plan *plan, const char *name)
{
	ssize_t i = lab_plan_find(plan, name);

	if (i < 0)
		print_error("no node '%s'\n", name);
	assert_true(i >= 0);
	return &plan->nodes[i];
}

/* routes as "dst via gw" lines joined by "; " */
static const char *routes(const struct plan_node *n)
{
	static char buf[4096];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n->n_routes; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s via %s", i ? "; " : "",
					fmt(&n->routes[i].dst), fmt(&n->routes[i].via));
	return buf;
}

static void assert_hash_mac(const uint8_t *mac, uint64_t seed, const char *n, const char *i)
{
	uint8_t want[6];

	hash_mac(seed, n, i, want);
	assert_memory_equal(mac, want, 6);
}

static void test_golden_office(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan = plan_from(office, 7);
	const struct plan_node *n;
	const struct plan_iface *f;

	(void)state;
	assert_int_equal(plan->n_nodes, 8);
	assert_int_equal(plan->n_routers, 2);
	assert_int_equal(plan->n_devices, 5);

	n = &plan->nodes[0];
	assert_string_equal(n->name, "");
	assert_int_equal(n->kind, PLAN_ROOT);
	assert_int_equal(n->spec_index, -1);
	assert_true(n->has_bridge && n->forwarding);
	assert_string_equal(n->bridge, "ix");
	assert_string_equal(mac_str(n->bridge_mac), "42:92:2e:11:ba:e5");
	assert_hash_mac(n->bridge_mac, 7, "", "bridge");
	assert_string_equal(fmt(&n->down4), "198.18.0.1/22");
	assert_string_equal(fmt(&n->down6), "2001:db8::1/64");
	assert_int_equal(n->n_ifaces, 0);
	assert_string_equal(routes(n), "198.18.4.0/24 via 198.18.0.2/32; "
				       "2001:db8:1:1::/64 via 2001:db8::2/128; "
				       "10.0.1.0/24 via 198.18.0.2/32; "
				       "fd10:0:0:1::/64 via 2001:db8::2/128");

	n = &plan->nodes[1];
	assert_string_equal(n->name, "isp");
	assert_int_equal(n->kind, PLAN_ROUTER);
	assert_int_equal(n->spec_index, 0);
	assert_string_equal(n->bridge, "br0");
	assert_string_equal(mac_str(n->bridge_mac), "e6:49:ab:b6:66:5d");
	assert_string_equal(fmt(&n->down4), "198.18.4.1/24");
	assert_string_equal(fmt(&n->down6), "2001:db8:1:1::1/64");
	assert_int_equal(n->n_ifaces, 1);
	f = &n->ifaces[0];
	assert_string_equal(f->name, "ix");
	assert_string_equal(f->peer_name, "isp.ix");
	assert_int_equal(f->up_node, 0);
	assert_int_equal(f->spec_iface, -1);
	assert_string_equal(mac_str(f->mac), "e6:eb:29:d8:08:bc");
	assert_string_equal(mac_str(f->peer_mac), "f6:f5:e1:55:ba:fe");
	assert_hash_mac(f->mac, 7, "isp", "ix");
	assert_hash_mac(f->peer_mac, 7, "isp", "peer:ix");
	assert_string_equal(fmt(&f->a4), "198.18.0.2/22");
	assert_string_equal(fmt(&f->a6), "2001:db8::2/64");
	assert_string_equal(fmt(&f->gw4), "198.18.0.1/32");
	assert_string_equal(fmt(&f->gw6), "2001:db8::1/128");
	assert_string_equal(fmt(&f->ll6), "fe80::e4eb:29ff:fed8:8bc/64");
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.0.1/32; ::/0 via 2001:db8::1/128; "
				       "10.0.1.0/24 via 198.18.4.2/32; "
				       "fd10:0:0:1::/64 via 2001:db8:1:1::2/128");

	n = &plan->nodes[2];
	assert_string_equal(n->name, "home");
	assert_string_equal(fmt(&n->down4), "10.0.1.1/24");
	assert_string_equal(fmt(&n->down6), "fd10:0:0:1::1/64");
	f = &n->ifaces[0];
	assert_string_equal(f->name, "wan");
	assert_string_equal(f->peer_name, "home.wan");
	assert_int_equal(f->up_node, 1);
	assert_string_equal(fmt(&f->a4), "198.18.4.2/24");
	assert_string_equal(fmt(&f->a6), "2001:db8:1:1::2/64");
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.4.1/32; ::/0 via 2001:db8:1:1::1/128");

	n = &plan->nodes[3];
	assert_string_equal(n->name, "laptop");
	assert_int_equal(n->kind, PLAN_DEVICE);
	assert_false(n->has_bridge || n->forwarding);
	assert_int_equal(n->default_iface, 0);
	f = &n->ifaces[0];
	assert_string_equal(f->name, "eth0");
	assert_string_equal(f->peer_name, "laptop.eth0");
	assert_int_equal(f->up_node, 2);
	assert_int_equal(f->spec_iface, 0);
	assert_string_equal(mac_str(f->mac), "aa:80:b5:1f:4b:01");
	assert_string_equal(mac_str(f->peer_mac), "7e:3f:24:97:b1:d5");
	assert_string_equal(fmt(&f->a4), "10.0.1.2/24");
	assert_string_equal(fmt(&f->a6), "fd10:0:0:1::2/64");
	assert_string_equal(fmt(&f->gw4), "10.0.1.1/32");
	assert_string_equal(fmt(&f->gw6), "fd10:0:0:1::1/128");
	assert_string_equal(fmt(&f->ll6), "fe80::a880:b5ff:fe1f:4b01/64");
	assert_string_equal(routes(n), "0.0.0.0/0 via 10.0.1.1/32; ::/0 via fd10:0:0:1::1/128");

	n = &plan->nodes[4];
	assert_string_equal(n->name, "phone");
	assert_int_equal(n->n_ifaces, 2);
	assert_int_equal(n->default_iface, 0);
	assert_string_equal(fmt(&n->ifaces[0].a4), "10.0.1.3/24");
	assert_string_equal(n->ifaces[1].name, "eth1");
	assert_int_equal(n->ifaces[1].up_node, 1);
	assert_string_equal(fmt(&n->ifaces[1].a4), "198.18.4.3/24");
	assert_string_equal(fmt(&n->ifaces[1].a6), "2001:db8:1:1::3/64");
	assert_string_equal(routes(n), "0.0.0.0/0 via 10.0.1.1/32; ::/0 via fd10:0:0:1::1/128");

	for (int i = 0; i < 3; i++) {
		char name[16], a4[32];

		snprintf(name, sizeof(name), "server-%d", i + 1);
		snprintf(a4, sizeof(a4), "198.18.4.%d/24", 4 + i);
		n = &plan->nodes[5 + i];
		assert_string_equal(n->name, name);
		assert_int_equal(n->spec_index, 2 + i);
		assert_string_equal(fmt(&n->ifaces[0].a4), a4);
		assert_hash_mac(n->ifaces[0].mac, 7, name, "eth0");
	}
}

/* Everything but MACs and link-locals must be equal; same_macs says whether those are too. */
static void compare_plans(const struct lab_plan *a, const struct lab_plan *b, bool same_macs)
{
	assert_int_equal(a->n_nodes, b->n_nodes);
	for (size_t i = 0; i < a->n_nodes; i++) {
		const struct plan_node *x = &a->nodes[i], *y = &b->nodes[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(routes(x), routes(y));
		assert_memory_equal(&x->down4, &y->down4, sizeof(x->down4));
		assert_memory_equal(&x->down6, &y->down6, sizeof(x->down6));
		assert_int_equal(x->n_ifaces, y->n_ifaces);
		if (x->has_bridge)
			assert_int_equal(same_macs, memcmp(x->bridge_mac, y->bridge_mac, 6) == 0);
		for (size_t j = 0; j < x->n_ifaces; j++) {
			const struct plan_iface *f = &x->ifaces[j], *g = &y->ifaces[j];

			assert_string_equal(f->peer_name, g->peer_name);
			assert_memory_equal(&f->a4, &g->a4, sizeof(f->a4));
			assert_memory_equal(&f->a6, &g->a6, sizeof(f->a6));
			assert_memory_equal(&f->gw4, &g->gw4, sizeof(f->gw4));
			assert_int_equal(same_macs, memcmp(f->mac, g->mac, 6) == 0);
			assert_int_equal(same_macs, memcmp(f->peer_mac, g->peer_mac, 6) == 0);
			assert_int_equal(same_macs, memcmp(&f->ll6, &g->ll6, sizeof(f->ll6)) == 0);
		}
	}
}

static void test_determinism(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *a = plan_from(office, 7);
	_cleanup_(lab_plan_freep) struct lab_plan *b = plan_from(office, 7);
	_cleanup_(lab_plan_freep) struct lab_plan *c = plan_from(office, 8);

	(void)state;
	compare_plans(a, b, true);
	compare_plans(a, c, false);
	/* every MAC is locally administered unicast */
	for (size_t i = 1; i < c->n_nodes; i++)
		for (size_t j = 0; j < c->nodes[i].n_ifaces; j++)
			assert_int_equal(c->nodes[i].ifaces[j].mac[0] & 0x03, 0x02);
}

static void test_ip_modes(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan =
		plan_from("routers:\n"
			  "  four: {ip: v4}\n"
			  "  six: {ip: v6}\n"
			  "  both: {upstream: four}\n" /* dual behind v4: its v6 is an island */
			  "  six2: {upstream: six, ip: v6}\n"
			  "devices:\n"
			  "  a: {router: four}\n"
			  "  b: {router: six}\n"
			  "  c: {router: both}\n"
			  "  m:\n"
			  "    ifaces: {x: {router: four}, y: {router: six}}\n"
			  "    default_via: x\n",
			  0);
	const struct plan_node *n;

	(void)state;
	n = node(plan, "four");
	assert_string_equal(fmt(&n->down4), "198.18.4.1/24");
	assert_false(prefix_is_set(&n->down6));
	assert_string_equal(fmt(&n->ifaces[0].a4), "198.18.0.2/22");
	assert_false(prefix_is_set(&n->ifaces[0].a6));
	assert_false(prefix_is_set(&n->ifaces[0].gw6));
	assert_false(prefix_is_set(&n->ifaces[0].ll6));
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.0.1/32; "
				       "198.18.5.0/24 via 198.18.4.2/32");

	n = node(plan, "six");
	assert_false(prefix_is_set(&n->down4));
	assert_string_equal(fmt(&n->down6), "2001:db8:1:1::1/64"); /* no v4 subnet used */
	assert_false(prefix_is_set(&n->ifaces[0].a4));
	assert_string_equal(fmt(&n->ifaces[0].a6), "2001:db8::3/64");
	assert_string_equal(routes(n), "::/0 via 2001:db8::1/128; "
				       "2001:db8:1:3::/64 via 2001:db8:1:1::2/128");

	n = node(plan, "both");
	assert_string_equal(fmt(&n->down4), "198.18.5.1/24");
	assert_string_equal(fmt(&n->down6), "2001:db8:1:2::1/64");
	assert_string_equal(fmt(&n->ifaces[0].a4), "198.18.4.2/24");
	assert_false(prefix_is_set(&n->ifaces[0].a6)); /* its upstream has no v6 */
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.4.1/32");

	/* the root reaches both's v4 only; six2 over v6 only */
	assert_string_equal(routes(&plan->nodes[0]), "198.18.4.0/24 via 198.18.0.2/32; "
						     "2001:db8:1:1::/64 via 2001:db8::3/128; "
						     "198.18.5.0/24 via 198.18.0.2/32; "
						     "2001:db8:1:3::/64 via 2001:db8::3/128");

	n = node(plan, "c"); /* dual device behind the island router */
	assert_string_equal(fmt(&n->ifaces[0].a4), "198.18.5.2/24");
	assert_string_equal(fmt(&n->ifaces[0].a6), "2001:db8:1:2::2/64");
	assert_true(prefix_is_set(&n->ifaces[0].ll6));

	n = node(plan, "a");
	assert_string_equal(fmt(&n->ifaces[0].a4), "198.18.4.3/24");
	assert_false(prefix_is_set(&n->ifaces[0].a6));
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.4.1/32");

	n = node(plan, "b");
	assert_false(prefix_is_set(&n->ifaces[0].a4));
	assert_string_equal(fmt(&n->ifaces[0].a6), "2001:db8:1:1::3/64");
	assert_string_equal(routes(n), "::/0 via 2001:db8:1:1::1/128");

	/* default_via x has no v6: the v6 default goes through y */
	n = node(plan, "m");
	assert_int_equal(n->default_iface, 0);
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.4.1/32; ::/0 via 2001:db8:1:1::1/128");
}

static void test_chain(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	const struct plan_node *n;

	(void)state;
	assert_int_equal(labfile_parse("examples/chain.yaml", &spec, NULL), 0);
	assert_int_equal(lab_plan_make(spec, &plan, NULL), 0);
	assert_string_equal(
		routes(&plan->nodes[0]),
		"198.18.4.0/24 via 198.18.0.2/32; 2001:db8:1:1::/64 via 2001:db8::2/128; "
		"198.18.5.0/24 via 198.18.0.2/32; 2001:db8:1:2::/64 via 2001:db8::2/128; "
		"10.0.1.0/24 via 198.18.0.2/32; fd10:0:0:1::/64 via 2001:db8::2/128; "
		"10.0.2.0/24 via 198.18.0.2/32; fd10:0:0:2::/64 via 2001:db8::2/128; "
		"2001:db8:1:3::/64 via 2001:db8::2/128; "
		"198.18.6.0/24 via 198.18.0.2/32");
	n = node(plan, "transit");
	assert_int_equal(n->mtu, 9000);
	assert_int_equal(n->ifaces[0].mtu, 0);
	assert_string_equal(
		routes(n),
		"0.0.0.0/0 via 198.18.0.1/32; ::/0 via 2001:db8::1/128; "
		"198.18.5.0/24 via 198.18.4.2/32; 2001:db8:1:2::/64 via 2001:db8:1:1::2/128; "
		"10.0.1.0/24 via 198.18.4.2/32; fd10:0:0:1::/64 via 2001:db8:1:1::2/128; "
		"10.0.2.0/24 via 198.18.4.2/32; fd10:0:0:2::/64 via 2001:db8:1:1::2/128; "
		"2001:db8:1:3::/64 via 2001:db8:1:1::2/128; "
		"198.18.6.0/24 via 198.18.4.3/32");
	n = node(plan, "isp");
	assert_int_equal(n->ifaces[0].mtu, 9000); /* the link below transit */
	assert_string_equal(
		routes(n),
		"0.0.0.0/0 via 198.18.4.1/32; ::/0 via 2001:db8:1:1::1/128; "
		"10.0.1.0/24 via 198.18.5.2/32; fd10:0:0:1::/64 via 2001:db8:1:2::2/128; "
		"10.0.2.0/24 via 198.18.5.2/32; fd10:0:0:2::/64 via 2001:db8:1:2::2/128; "
		"2001:db8:1:3::/64 via 2001:db8:1:2::3/128");
	n = node(plan, "campus");
	assert_string_equal(routes(n),
			    "0.0.0.0/0 via 198.18.5.1/32; ::/0 via 2001:db8:1:2::1/128; "
			    "10.0.2.0/24 via 10.0.1.2/32; fd10:0:0:2::/64 via fd10:0:0:1::2/128");
	n = node(plan, "lab");
	assert_int_equal(n->mtu, 1400);
	assert_string_equal(routes(n), "0.0.0.0/0 via 10.0.1.1/32; ::/0 via fd10:0:0:1::1/128");
	n = node(plan, "bench-2");
	assert_int_equal(n->ifaces[0].mtu, 1400);
	assert_string_equal(fmt(&n->ifaces[0].a4), "10.0.2.3/24");
	n = node(plan, "gateway");
	assert_int_equal(n->default_iface, 1);
	assert_string_equal(fmt(&n->ifaces[0].a4), "10.0.1.3/24");
	assert_string_equal(fmt(&n->ifaces[1].a4), "198.18.5.5/24");
	assert_false(prefix_is_set(&n->ifaces[2].a4));
	assert_string_equal(fmt(&n->ifaces[2].a6), "2001:db8:1:3::3/64");
	assert_string_equal(routes(n), "0.0.0.0/0 via 198.18.5.1/32; ::/0 via 2001:db8:1:2::1/128");
}

static void test_router_order(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan =
		plan_from("routers:\n  c: {upstream: b}\n  a: {}\n  b: {upstream: a}\n  d: {}\n"
			  "  e: {upstream: d}\n",
			  0);

	(void)state;
	assert_string_equal(plan->nodes[1].name, "a");
	assert_string_equal(plan->nodes[2].name, "b");
	assert_string_equal(plan->nodes[3].name, "c");
	assert_string_equal(plan->nodes[4].name, "d");
	assert_string_equal(plan->nodes[5].name, "e");
	assert_int_equal(plan->nodes[3].spec_index, 0);
	assert_int_equal(plan->nodes[3].ifaces[0].up_node, 2);
	assert_string_equal(fmt(&plan->nodes[3].ifaces[0].a4), "198.18.5.2/24");
	assert_string_equal(fmt(&plan->nodes[4].ifaces[0].a4), "198.18.0.3/22");
}

static void test_ranges_override(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan =
		plan_from("ranges:\n  ix4: 100.64.0.0/24\n  ix6: 2001:db8:ff::/64\n"
			  "  public4: 100.64.0.0/16\n  public6: 2001:db8:100::/40\n"
			  "  private4: 172.16.0.0/12\n  private6: fd00:1::/32\n"
			  "  sub4: 26\n  sub6: 80\n"
			  "routers:\n  p: {}\n  q: {upstream: p, pool: private}\n"
			  "devices:\n  d: {router: q}\n",
			  0);
	const struct plan_node *n;

	(void)state;
	assert_string_equal(fmt(&plan->nodes[0].down4), "100.64.0.1/24");
	assert_string_equal(fmt(&plan->nodes[0].down6), "2001:db8:ff::1/64");
	n = node(plan, "p"); /* subnets 1..3 of /26 lie in the IX: the first public one is 4 */
	assert_string_equal(fmt(&n->down4), "100.64.1.1/26");
	assert_string_equal(fmt(&n->down6), "2001:db8:100:0:1::1/80");
	assert_string_equal(fmt(&n->ifaces[0].a4), "100.64.0.2/24");
	n = node(plan, "q");
	assert_string_equal(fmt(&n->down4), "172.16.0.65/26");
	assert_string_equal(fmt(&n->down6), "fd00:1::1:0:0:1/80");
	n = node(plan, "d");
	assert_string_equal(fmt(&n->ifaces[0].a4), "172.16.0.66/26");
	assert_string_equal(fmt(&n->ifaces[0].a6), "fd00:1::1:0:0:2/80");
}

static void test_exhaustion(void **state)
{
	char msg[NSLAB_ERROR_MSG_MAX];

	(void)state;
	assert_int_equal(plan_error("ranges:\n  public4: 198.18.0.0/22\n  ix4: 198.18.0.0/24\n"
				    "routers:\n  a: {}\n  b: {}\n  c: {}\n  d: {}\n",
				    msg, sizeof(msg)),
			 -ENOSPC);
	assert_string_equal(msg, "t.yaml:8:3: router 'd': public IPv4 range 198.18.0.0/22 is "
				 "exhausted (4 subnets of /24)");
	assert_int_equal(plan_error("ranges:\n  private6: fd10::/62\n"
				    "routers:\n  a: {pool: private}\n  b: {pool: private}\n"
				    "  c: {pool: private}\n  d: {pool: private}\n",
				    msg, sizeof(msg)),
			 -ENOSPC);
	assert_string_equal(msg, "t.yaml:7:3: router 'd': private IPv6 range fd10::/62 is "
				 "exhausted (4 subnets of /64)");
	assert_int_equal(plan_error("ranges:\n  sub4: 29\n"
				    "routers:\n  isp: {}\n"
				    "devices:\n  d: {router: isp, count: 6}\n",
				    msg, sizeof(msg)),
			 -ENOSPC);
	assert_string_equal(msg, "t.yaml:6:3: device 'd-6': subnet 198.18.4.0/29 of router "
				 "'isp' is full (5 hosts)");
	assert_int_equal(plan_error("routers:\n  isp: {}\n  sub: {upstream: isp}\n"
				    "devices:\n  d: {router: isp, count: 252}\n"
				    "  e: {router: isp}\n",
				    msg, sizeof(msg)),
			 -ENOSPC);
	assert_string_equal(msg, "t.yaml:6:3: device 'e': subnet 198.18.4.0/24 of router 'isp' "
				 "is full (253 hosts)");
	assert_int_equal(plan_error("ranges:\n  ix4: 198.18.0.0/29\n"
				    "routers:\n  a: {}\n  b: {}\n  c: {}\n  d: {}\n  e: {}\n"
				    "  f: {}\n",
				    msg, sizeof(msg)),
			 -ENOSPC);
	assert_string_equal(msg,
			    "t.yaml:9:3: router 'f': IX subnet 198.18.0.0/29 is full (5 hosts)");
	assert_int_equal(plan_error("ranges:\n  sub4: 30\n"
				    "routers:\n  a: {}\n  b: {upstream: a}\n  c: {upstream: a}\n",
				    msg, sizeof(msg)),
			 -ENOSPC);
	assert_string_equal(msg, "t.yaml:6:3: router 'c': subnet 198.18.4.0/30 of router 'a' is "
				 "full (1 host)");
}

static void test_peer_names(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan =
		plan_from("routers:\n  a-long-router: {}\n  abcdefghijkl: {}\n"
			  "devices:\n  d:\n    ifaces: {longiface1: {router: abcdefghijkl}}\n"
			  "  dev:\n    ifaces: {abcdefghijk: {router: a-long-router}}\n",
			  0);

	(void)state;
	assert_string_equal(node(plan, "a-long-router")->ifaces[0].peer_name, "_1.0");
	assert_string_equal(node(plan, "abcdefghijkl")->ifaces[0].peer_name, "abcdefghijkl.ix");
	assert_string_equal(node(plan, "d")->ifaces[0].peer_name, "d.longiface1");
	assert_string_equal(node(plan, "dev")->ifaces[0].peer_name, "dev.abcdefghijk");
}

/* A point-to-point device interface on router gw: its port there is peer. */
static void p2p_add(struct lab_spec *spec, const char *dev, const char *peer, const char *a4,
		    const char *peer4, bool via)
{
	struct spec_iface si = { .name = (char *)"eth0", .router = (char *)"gw", .via_peer = via };
	nslab_error err = { 0 };

	snprintf(si.peer_name, sizeof(si.peer_name), "%s", peer);
	assert_int_equal(prefix_parse(a4, true, &si.a4, &err), 0);
	assert_int_equal(prefix_parse(peer4, true, &si.peer4, &err), 0);
	assert_int_equal(lab_spec_add_device(spec, dev, (struct spec_loc){ 0 }, &err), 0);
	assert_int_equal(lab_spec_add_iface(spec, spec->n_devices - 1, &si, &err), 0);
}

/*
 * A point-to-point lab (fwtest's gateway): no IX and no bridges, no uplink
 * for the router, the spec's names and addresses on both ends, a default
 * route only through a via_peer interface.
 */
static void test_p2p(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	struct spec_router gw = { .name = (char *)"gw" };
	const struct plan_node *n;
	char buf[PREFIX_STRLEN];
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(lab_spec_new("p2p", &spec, &err), 0);
	spec->p2p = true;
	assert_int_equal(lab_spec_add_router(spec, &gw, &err), 0);
	p2p_add(spec, "a", "eth0", "10.0.1.1/24", "10.0.1.2/24", true);
	p2p_add(spec, "b", "eth1", "10.0.2.2/24", "10.0.2.1/24", false);
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	assert_false(plan->nodes[0].has_bridge);
	n = node(plan, "gw");
	assert_false(n->has_bridge);
	assert_true(n->forwarding);
	assert_int_equal(n->n_ifaces, 0);
	assert_int_equal(n->n_routes, 0);
	n = node(plan, "a");
	assert_true(n->ifaces[0].p2p);
	assert_string_equal(n->ifaces[0].name, "eth0");
	assert_string_equal(n->ifaces[0].peer_name, "eth0");
	assert_string_equal(prefix_format(&n->ifaces[0].a4, true, buf, sizeof(buf)), "10.0.1.1/24");
	assert_string_equal(prefix_format(&n->ifaces[0].peer4, true, buf, sizeof(buf)),
			    "10.0.1.2/24");
	assert_int_equal(n->n_routes, 1);
	assert_int_equal(n->routes[0].dst.len, 0);
	assert_string_equal(prefix_format(&n->routes[0].via, false, buf, sizeof(buf)), "10.0.1.2");
	n = node(plan, "b");
	assert_string_equal(n->ifaces[0].peer_name, "eth1");
	assert_int_equal(n->n_routes, 0);
	assert_int_equal(n->default_iface, -1);
}

static void test_peer_name_fallback(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan =
		plan_from("routers:\n  isp: {}\n  a-long-router: {upstream: isp}\n"
			  "devices:\n  laptop:\n    ifaces: {wlan0: {router: isp}, "
			  "ethernet1: {router: a-long-router}}\n",
			  0);
	const struct plan_node *n;

	(void)state;
	n = node(plan, "a-long-router"); /* "a-long-router.wan" is 17 characters */
	assert_string_equal(n->ifaces[0].peer_name, "_2.0");
	n = node(plan, "laptop");
	assert_string_equal(n->ifaces[0].peer_name, "laptop.wlan0");
	assert_string_equal(n->ifaces[1].peer_name, "_3.1");
	for (size_t i = 0; i < plan->n_nodes; i++)
		for (size_t j = 0; j < plan->nodes[i].n_ifaces; j++)
			assert_true(strlen(plan->nodes[i].ifaces[j].peer_name) < IFNAMSIZ);
}

static void test_find(void **state)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan = plan_from(office, 7);

	(void)state;
	assert_int_equal(lab_plan_find(plan, ""), 0);
	assert_int_equal(lab_plan_find(plan, "isp"), 1);
	assert_int_equal(lab_plan_find(plan, "home"), 2);
	assert_int_equal(lab_plan_find(plan, "server-3"), 7);
	assert_int_equal(lab_plan_find(plan, "server"), -1);
	assert_int_equal(lab_plan_find(plan, "zzz"), -1);
	assert_null(lab_plan_free(NULL));
}

/* The IX /22 holds exactly 1021 top-level routers (the root is .1). */
static void test_ix_capacity(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	struct lab_plan *plan = NULL;
	nslab_error err = { 0 };
	char name[16];

	(void)state;
	assert_int_equal(lab_spec_new("ix", &spec, &err), 0);
	for (int i = 0; i < 1022; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(
			lab_spec_add_router(
				spec,
				&(struct spec_router){ .name = name, .pool = LAB_POOL_PRIVATE },
				&err),
			0);
	}
	assert_int_equal(lab_plan_make(spec, &plan, &err), -ENOSPC);
	assert_string_equal(err.msg,
			    "router 'r1021': IX subnet 198.18.0.0/22 is full (1021 hosts)");
	spec->n_routers--;
	free(spec->routers[spec->n_routers].name);
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	assert_string_equal(fmt(&plan->nodes[1021].ifaces[0].a4), "198.18.3.254/22");
	assert_string_equal(fmt(&plan->nodes[1021].down4), "10.3.253.1/24");
	lab_plan_free(plan);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* 1000 top-level private routers and 4096 devices (two interfaces each). */
static void test_scale(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	_cleanup_free_ uint32_t *addrs = NULL;
	nslab_error err = { 0 };
	size_t n_addrs = 0;
	char name[32], rname[32];
	double t;

	(void)state;
	assert_int_equal(lab_spec_new("scale", &spec, &err), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "router-%d", i);
		assert_int_equal(
			lab_spec_add_router(
				spec,
				&(struct spec_router){ .name = name, .pool = LAB_POOL_PRIVATE },
				&err),
			0);
	}
	for (int i = 0; i < 4096; i++) {
		snprintf(name, sizeof(name), "device-%d", i);
		assert_int_equal(lab_spec_add_device(spec, name, (struct spec_loc){ 0 }, &err), 0);
		snprintf(rname, sizeof(rname), "router-%d", i % 1000);
		assert_int_equal(lab_spec_add_iface(spec, (size_t)i,
						    &(struct spec_iface){ .name = (char *)"eth0",
									  .router = rname },
						    &err),
				 0);
		snprintf(rname, sizeof(rname), "router-%d", (i * 7) % 1000);
		assert_int_equal(lab_spec_add_iface(spec, (size_t)i,
						    &(struct spec_iface){ .name = (char *)"eth1",
									  .router = rname },
						    &err),
				 0);
	}
	t = now();
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	t = now() - t;
	print_message("# planned 1000 routers and 4096 devices in %.1f ms\n", t * 1e3);
	assert_true(t < 5.0);
	assert_int_equal(plan->n_nodes, 1 + 1000 + 4096);
	assert_int_equal(plan->nodes[0].n_routes, 2000);
	assert_string_equal(fmt(&node(plan, "router-999")->down4), "10.3.232.1/24");
	assert_string_equal(fmt(&node(plan, "router-999")->ifaces[0].a4), "198.18.3.233/22");
	assert_string_equal(fmt(&node(plan, "device-4095")->ifaces[0].a4), "10.0.96.10/24");

	/* every v4 address in the lab is unique */
	addrs = calloc(2 * plan->n_nodes, sizeof(*addrs));
	assert_non_null(addrs);
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct plan_node *n = &plan->nodes[i];

		assert_int_equal(lab_plan_find(plan, n->name), (ssize_t)i);
		if (n->has_bridge)
			memcpy(&addrs[n_addrs++], n->down4.addr, 4);
		for (size_t j = 0; j < n->n_ifaces; j++)
			memcpy(&addrs[n_addrs++], n->ifaces[j].a4.addr, 4);
	}
	qsort(addrs, n_addrs, sizeof(*addrs), cmp_u32);
	for (size_t i = 1; i < n_addrs; i++)
		assert_true(addrs[i] != addrs[i - 1]);
}

/* A deep chain: every router routes to all the subnets below it. */
static void test_deep_chain(void **state)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	nslab_error err = { 0 };
	char name[16], up[16];

	(void)state;
	assert_int_equal(lab_spec_new("deep", &spec, &err), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		snprintf(up, sizeof(up), "r%d", i - 1);
		assert_int_equal(
			lab_spec_add_router(
				spec,
				&(struct spec_router){ .name = name, .upstream = i ? up : NULL },
				&err),
			0);
	}
	assert_int_equal(lab_plan_make(spec, &plan, &err), 0);
	assert_int_equal(plan->nodes[0].n_routes, 400);
	for (size_t i = 1; i <= 200; i++)
		assert_int_equal(plan->nodes[i].n_routes, 2 + 2 * (200 - i));
	assert_string_equal(routes(&plan->nodes[199]),
			    "0.0.0.0/0 via 198.18.201.1/32; ::/0 via 2001:db8:1:c6::1/128; "
			    "198.18.203.0/24 via 198.18.202.2/32; "
			    "2001:db8:1:c8::/64 via 2001:db8:1:c7::2/128");
}

/* Region routing: the direct link while it is up, else around it; none left: unreachable. */
static void test_region_next_hops(void **state)
{
	enum { EU, US, ASIA };
	const uint64_t ms = 1000000;
	struct region_edge tri[] = { { US, EU, 80 * ms },
				     { US, ASIA, 190 * ms },
				     { EU, ASIA, 240 * ms } };
	size_t next[4];
	uint32_t hops[4];
	(void)state;

	/* a direct link wins although us then asia is not slower by much */
	assert_int_equal(region_next_hops(3, tri, 3, EU, next, hops), 0);
	assert_int_equal(next[US], US);
	assert_int_equal(next[ASIA], ASIA);
	assert_int_equal(next[EU], SIZE_MAX);
	assert_int_equal(hops[ASIA], 1);
	/* eu-us broken: through asia, both ways */
	assert_int_equal(region_next_hops(3, tri + 1, 2, EU, next, hops), 0);
	assert_int_equal(next[US], ASIA);
	assert_int_equal(hops[US], 2);
	assert_int_equal(region_next_hops(3, tri + 1, 2, US, next, NULL), 0);
	assert_int_equal(next[EU], ASIA);
	/* two regions, their one link broken: unreachable */
	assert_int_equal(region_next_hops(2, NULL, 0, EU, next, hops), 0);
	assert_int_equal(next[US], SIZE_MAX);
	assert_int_equal(hops[US], 0);
}

/* Fewest links first, then the least delay, then the lowest neighbour. */
static void test_region_next_hops_ties(void **state)
{
	/* a square a-b-d, a-c-d; b's side slower; and a slow direct a-e beside a-c-e */
	struct region_edge sq[] = { { 0, 1, 10 }, { 1, 3, 10 },	  { 0, 2, 5 },
				    { 2, 3, 5 },  { 0, 4, 1000 }, { 2, 4, 1 } };
	struct region_edge even[] = { { 0, 1, 5 }, { 1, 3, 5 }, { 0, 2, 5 }, { 2, 3, 5 } };
	size_t next[5];
	(void)state;

	assert_int_equal(region_next_hops(5, sq, 6, 0, next, NULL), 0);
	assert_int_equal(next[3], 2);
	assert_int_equal(next[4], 4);
	assert_int_equal(region_next_hops(4, even, 4, 0, next, NULL), 0);
	assert_int_equal(next[3], 1);
	assert_int_equal(region_next_hops(4, even, 4, 3, next, NULL), 0);
	assert_int_equal(next[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_office),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_ip_modes),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_router_order),
		cmocka_unit_test(test_ranges_override),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_peer_names),
		cmocka_unit_test(test_p2p),
		cmocka_unit_test(test_peer_name_fallback),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_ix_capacity),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_deep_chain),
		cmocka_unit_test(test_region_next_hops),
		cmocka_unit_test(test_region_next_hops_ties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * lab/plan: from a validated spec to names, MACs, addresses and routes.
 *
 * DOC: planning steps
 *  1. Resolve names to indices once (a sorted name index), and order the
 *     routers so that every router comes after its upstream: the smallest
 *     file index among the routers whose upstream is placed goes next.
 *  2. The lab root: the IX bridge, host 1 of ix4/ix6.
 *  3. Routers, in that order: the uplink takes the next host number of the
 *     upstream's downstream (the IX for top-level routers), then a subnet
 *     per family from the router's pool (index 0 and subnets overlapping the
 *     IX skipped); the bridge is host 1 of it.
 *  4. Devices, in file order: one address per interface, from the router's
 *     host counter (one counter per downstream, shared by both families).
 *  5. Routes: defaults towards the upstream; every ancestor of a router gets
 *     a route to its subnets via the child on the path, while the family is
 *     carried on every link of that path (the root included, via the
 *     top-level router's IX address).
 * Every step is O(n log n) or O(n * depth), so 1000 routers and 4096 devices
 * plan in milliseconds.
 */
#include "lab/plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/hash.h"

#define FAM4 1u
#define FAM6 2u

struct planner {
	const struct lab_spec *spec;
	struct lab_plan *plan;
	nslab_error *err;
	struct spec_names names;
	ssize_t *rup;		    /* spec router -> spec router of its upstream; -1: the IX */
	size_t *rnode;		    /* spec router -> plan node */
	unsigned *fam;		    /* plan node -> families of its downstream (root: both) */
	struct nslab_prefix *net;   /* plan node -> downstream networks, [2 * node + v6] */
	uint64_t *next_host;	    /* plan node -> next host number on its downstream */
	uint64_t next_subnet[3][2]; /* [pool][v6]: next subnet index of each pool */
	bool live; /* extending a built lab's plan (lab_plan_add()): names resolved in the plan */
};

static void planner_clear(struct planner *p)
{
	spec_names_clear(&p->names);
	free(p->rup);
	free(p->rnode);
	free(p->fam);
	free(p->net);
	free(p->next_host);
}

static unsigned ip_fams(enum lab_ipmode ip)
{
	return ip == LAB_IP_V4 ? FAM4 : ip == LAB_IP_V6 ? FAM6 : FAM4 | FAM6;
}

/* The address of p as a host prefix (/32, /128). */
static struct nslab_prefix as_host(const struct nslab_prefix *p)
{
	struct nslab_prefix h = *p;

	h.len = (uint8_t)(prefix_addr_len(p) * 8);
	return h;
}

/* EUI-64 link-local address of mac (RFC 4291 appendix A). */
static void ll6_from_mac(const uint8_t mac[6], struct nslab_prefix *ret)
{
	*ret = (struct nslab_prefix){ .family = AF_INET6, .len = 64 };
	ret->addr[0] = 0xfe;
	ret->addr[1] = 0x80;
	ret->addr[8] = mac[0] ^ 0x02;
	ret->addr[9] = mac[1];
	ret->addr[10] = mac[2];
	ret->addr[11] = 0xff;
	ret->addr[12] = 0xfe;
	ret->addr[13] = mac[3];
	ret->addr[14] = mac[4];
	ret->addr[15] = mac[5];
}

static int route_add(struct planner *p, struct plan_node *n, const struct nslab_prefix *dst,
		     const struct nslab_prefix *via)
{
	size_t k = n->n_routes;

	/* capacity implied by the count: 4, then powers of two */
	if (k == 0 || (k >= 4 && (k & (k - 1)) == 0)) {
		struct plan_route *v = reallocarray(n->routes, k ? k * 2 : 4, sizeof(*v));

		if (!v)
			return nslab_err_set(p->err, ENOMEM, "plan routes of '%s'", n->name);
		n->routes = v;
	}
	n->routes[k] = (struct plan_route){ .dst = *dst, .via = as_host(via) };
	n->n_routes++;
	return 0;
}

static int default_route_add(struct planner *p, struct plan_node *n, const struct nslab_prefix *gw)
{
	struct nslab_prefix any = { .family = gw->family, .len = 0 };

	return route_add(p, n, &any, gw);
}

/* Step 1 */

static void heap_push(size_t *heap, size_t *n, size_t v)
{
	size_t i = (*n)++;

	for (; i > 0 && heap[(i - 1) / 2] > v; i = (i - 1) / 2)
		heap[i] = heap[(i - 1) / 2];
	heap[i] = v;
}

static size_t heap_pop(size_t *heap, size_t *n)
{
	size_t top = heap[0], v = heap[--*n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (heap[c] >= v)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = v;
	return top;
}

/*
 * order_routers() - Every router after its upstream, file order otherwise
 * Children lists in CSR form (parent n stands for the IX), then Kahn's
 * algorithm with a min-heap of ready routers.
 */
static int order_routers(struct planner *p, size_t *order)
{
	size_t n = p->spec->n_routers, hn = 0, k = 0;
	_cleanup_free_ size_t *start = calloc(n + 2, sizeof(*start));
	_cleanup_free_ size_t *kids = calloc(n + 1, sizeof(*kids));
	_cleanup_free_ size_t *fill = calloc(n + 2, sizeof(*fill));
	_cleanup_free_ size_t *heap = calloc(n + 1, sizeof(*heap));

	if (!start || !kids || !fill || !heap)
		return nslab_err_set(p->err, ENOMEM, "order %zu routers", n);
	for (size_t i = 0; i < n; i++)
		start[(p->rup[i] < 0 ? n : (size_t)p->rup[i]) + 1]++;
	for (size_t i = 0; i <= n; i++)
		start[i + 1] += start[i];
	memcpy(fill, start, (n + 2) * sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		kids[fill[p->rup[i] < 0 ? n : (size_t)p->rup[i]]++] = i;
	for (size_t j = start[n]; j < start[n + 1]; j++)
		heap_push(heap, &hn, kids[j]);
	while (hn) {
		size_t x = heap_pop(heap, &hn);

		order[k++] = x;
		for (size_t j = start[x]; j < start[x + 1]; j++)
			heap_push(heap, &hn, kids[j]);
	}
	/* validation excludes cycles, so every router was reached */
	return k == n ? 0 : nslab_err_setx(p->err, EINVAL, "upstream cycle");
}

static int planner_init(struct planner *p)
{
	const struct lab_spec *spec = p->spec;
	size_t nodes = 1 + spec->n_routers + spec->n_devices;
	int r = spec_names_build(spec, &p->names, p->err);

	if (r < 0)
		return r;
	p->rup = calloc(spec->n_routers + 1, sizeof(*p->rup));
	p->rnode = calloc(spec->n_routers + 1, sizeof(*p->rnode));
	p->fam = calloc(nodes, sizeof(*p->fam));
	p->net = calloc(2 * nodes, sizeof(*p->net));
	p->next_host = calloc(nodes, sizeof(*p->next_host));
	if (!p->rup || !p->rnode || !p->fam || !p->net || !p->next_host)
		return nslab_err_set(p->err, ENOMEM, "plan %zu nodes", nodes);
	for (size_t i = 0; i < spec->n_routers; i++) {
		const char *up = spec->routers[i].upstream;

		if (!up)
			up = spec->routers[i]
				     .region; /* a region's segment is its routers' upstream */
		p->rup[i] = up ? (ssize_t)spec_names_find(&p->names, up)->index : -1;
	}
	/* subnet index 0 of every pool is kept free */
	for (size_t i = 0; i < 6; i++)
		p->next_subnet[i / 2][i % 2] = 1;
	return 0;
}

/* Step 2 */

static int plan_root(struct planner *p)
{
	const struct spec_ranges *rg = &p->spec->ranges;
	struct plan_node *n = &p->plan->nodes[0];
	int r;

	*n = (struct plan_node){ .kind = PLAN_ROOT,
				 .spec_index = -1,
				 .default_iface = -1,
				 .has_bridge = !p->spec->p2p,
				 .forwarding = true };
	n->name = strdup("");
	if (!n->name)
		return nslab_err_set(p->err, ENOMEM, "plan the lab root");
	if (p->spec->p2p) /* no IX: the root is only the builder's home */
		return 0;
	snprintf(n->bridge, sizeof(n->bridge), "ix");
	hash_mac(p->spec->seed, "", "bridge", n->bridge_mac);
	p->net[0] = rg->ix4;
	p->net[1] = rg->ix6;
	r = prefix_host(&rg->ix4, 1, &n->down4, p->err);
	if (r >= 0)
		r = prefix_host(&rg->ix6, 1, &n->down6, p->err);
	if (r < 0)
		return nslab_err_prefix(p->err, r, "IX");
	p->fam[0] = FAM4 | FAM6;
	p->next_host[0] = 2;
	return 0;
}

/* Step 3 */

/* The network of a bridge address (host bits cleared). */
static struct nslab_prefix network_of(const struct nslab_prefix *a)
{
	struct nslab_prefix net = *a;

	for (unsigned b = net.len; b < prefix_addr_len(a) * 8u; b++)
		net.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	return net;
}

/* A live plan's subnet overlapping net: a downstream or an NPTv6 external /64. */
static bool subnet_taken(const struct lab_plan *plan, const struct nslab_prefix *net)
{
	for (size_t i = 1; i < plan->n_nodes; i++) {
		const struct plan_node *n = &plan->nodes[i];

		if ((prefix_is_set(&n->down4) && prefix_overlaps(&n->down4, net)) ||
		    (prefix_is_set(&n->down6) && prefix_overlaps(&n->down6, net)) ||
		    (prefix_is_set(&n->ext6) && prefix_overlaps(&n->ext6, net)))
			return true;
	}
	return false;
}

/*
 * alloc_subnet() - The next free subnet of the router's pool for one family
 * Subnets overlapping the IX are skipped all at once: both are aligned
 * prefixes and validation keeps the IX from containing the whole pool.
 */
static int alloc_subnet(struct planner *p, const struct spec_router *sr, bool v6,
			struct nslab_prefix *ret)
{
	const struct spec_ranges *rg = &p->spec->ranges;
	static const char *const pool_names[] = { "public", "private", "cgnat" };
	bool priv = sr->pool != LAB_POOL_PUBLIC;
	const struct nslab_prefix *range =
		priv ? (v6 ? &rg->private6 : &rg->private4) : (v6 ? &rg->public6 : &rg->public4);
	const struct nslab_prefix *ix = v6 ? &rg->ix6 : &rg->ix4;
	unsigned sub = v6 ? rg->sub6 : rg->sub4;
	uint64_t *next = &p->next_subnet[v6 && priv ? LAB_POOL_PRIVATE : sr->pool][v6];
	struct nslab_prefix carrier;
	nslab_error tmp = { 0 };

	/* a carrier NAT's downstream: the shared address space (IPv6 stays private) */
	if (sr->pool == LAB_POOL_CGNAT && !v6) {
		(void)prefix_parse(NAT_CGNAT_PREFIX, true, &carrier, NULL);
		range = &carrier;
	}
	for (;;) {
		if (*next == UINT64_MAX || ix->len <= range->len ||
		    prefix_subnet(range, sub, *next, ret, &tmp) < 0) {
			char buf[PREFIX_STRLEN];

			if (!tmp.code)
				snprintf(tmp.msg, sizeof(tmp.msg), "range %s is exhausted",
					 prefix_format(range, true, buf, sizeof(buf)));
			return spec_error(p->err, p->spec, sr->loc, ENOSPC,
					  "router '%s': %s IPv%d %s", sr->name,
					  pool_names[sr->pool], v6 ? 6 : 4, tmp.msg);
		}
		if (p->live && subnet_taken(p->plan, ret)) {
			(*next)++;
			continue;
		}
		if (!prefix_overlaps(ret, ix)) {
			(*next)++;
			return 0;
		}
		if (ix->len >= sub)
			(*next)++;
		else if (sub - ix->len >= 64)
			*next = UINT64_MAX;
		else
			*next = (*next | ((UINT64_C(1) << (sub - ix->len)) - 1)) + 1;
	}
}

static int full_error(struct planner *p, size_t ni, size_t up, const struct nslab_prefix *net,
		      struct spec_loc loc)
{
	const struct plan_node *n = &p->plan->nodes[ni];
	const char *what = n->region ? "region" : n->kind == PLAN_ROUTER ? "router" : "device";
	uint64_t hosts = prefix_host_count(net) - 1; /* host 1 is the upstream's own */
	char buf[PREFIX_STRLEN];

	prefix_format(net, true, buf, sizeof(buf));
	if (up == 0)
		return spec_error(p->err, p->spec, loc, ENOSPC,
				  "%s '%s': IX subnet %s is full (%" PRIu64 " host%s)", what,
				  n->name, buf, hosts, hosts == 1 ? "" : "s");
	return spec_error(p->err, p->spec, loc, ENOSPC,
			  "%s '%s': subnet %s of %s '%s' is full (%" PRIu64 " host%s)", what,
			  n->name, buf, p->plan->nodes[up].region ? "region" : "router",
			  p->plan->nodes[up].name, hosts, hosts == 1 ? "" : "s");
}

/* Address (and gateway) of one family on a link of node ni to up, as host number host. */
static int link_addr(struct planner *p, size_t ni, size_t up, bool v6, uint64_t host,
		     struct plan_iface *f, struct spec_loc loc)
{
	const struct plan_node *u = &p->plan->nodes[up];
	const struct nslab_prefix *net = &p->net[2 * up + v6];

	if (prefix_host(net, host, v6 ? &f->a6 : &f->a4, NULL) < 0)
		return full_error(p, ni, up, net, loc);
	if (v6) {
		f->gw6 = as_host(&u->down6);
		ll6_from_mac(f->mac, &f->ll6);
		/* a device under RA provisioning: the address its kernel makes (EUI-64) */
		if (p->spec->ra && p->plan->nodes[ni].kind == PLAN_DEVICE && net->len == 64) {
			memcpy(f->a6.addr + 8, f->ll6.addr + 8, 8);
			f->slaac = true;
		}
	} else {
		f->gw4 = as_host(&u->down4);
	}
	return 0;
}

/*
 * plan_link() - Interface k of node ni, a veth to up's bridge
 * fams: the families the link carries. loc: where errors point.
 */
static int plan_link(struct planner *p, size_t ni, size_t k, size_t up, const char *ifname,
		     unsigned fams, struct spec_loc loc)
{
	struct plan_node *n = &p->plan->nodes[ni];
	struct plan_iface *f = &n->ifaces[k];
	uint64_t host = p->next_host[up]++;
	char peer[IFNAMSIZ + 8];
	int r = 0;

	snprintf(f->name, sizeof(f->name), "%s", ifname);
	if (strlen(n->name) + 1 + strlen(ifname) < IFNAMSIZ)
		snprintf(f->peer_name, sizeof(f->peer_name), "%s.%s", n->name, ifname);
	else
		snprintf(f->peer_name, sizeof(f->peer_name), "_%zu.%zu", ni, k);
	snprintf(peer, sizeof(peer), "peer:%s", ifname);
	hash_mac(p->spec->seed, n->name, ifname, f->mac);
	hash_mac(p->spec->seed, n->name, peer, f->peer_mac);
	f->up_node = up;
	f->mtu = p->plan->nodes[up].mtu;
	if (fams & FAM4)
		r = link_addr(p, ni, up, false, host, f, loc);
	if (r >= 0 && (fams & FAM6))
		r = link_addr(p, ni, up, true, host, f, loc);
	return r;
}

/* A point-to-point lab's router: no uplink, no bridge; its ports come with its devices. */
static int plan_router_p2p(struct planner *p, size_t ri, size_t ni)
{
	const struct spec_router *sr = &p->spec->routers[ri];
	struct plan_node *n = &p->plan->nodes[ni];

	*n = (struct plan_node){ .kind = PLAN_ROUTER,
				 .spec_index = (ssize_t)ri,
				 .default_iface = -1,
				 .forwarding = !sr->no_forward };
	n->name = strdup(sr->name);
	if (!n->name)
		return nslab_err_set(p->err, ENOMEM, "plan router '%s'", sr->name);
	return 0;
}

static int plan_router(struct planner *p, size_t ri, size_t ni)
{
	const struct spec_router *sr = &p->spec->routers[ri];
	struct plan_node *n = &p->plan->nodes[ni];
	const char *upn = sr->upstream ? sr->upstream : sr->region;
	size_t up = p->live	     ? (upn ? (size_t)lab_plan_find(p->plan, upn) : 0)
		    : p->rup[ri] < 0 ? 0
				     : p->rnode[p->rup[ri]];
	unsigned fams = ip_fams(sr->ip);
	int r;

	*n = (struct plan_node){ .kind = PLAN_ROUTER,
				 .region = sr->is_region,
				 .spec_index = (ssize_t)ri,
				 .default_iface = -1,
				 .has_bridge = true,
				 .mtu = sr->mtu,
				 .forwarding = true };
	n->name = strdup(sr->name);
	n->ifaces = calloc(1, sizeof(*n->ifaces));
	if (!n->name || !n->ifaces)
		return nslab_err_set(p->err, ENOMEM, "plan router '%s'", sr->name);
	n->n_ifaces = 1;
	n->ifaces[0].spec_iface = -1;
	snprintf(n->bridge, sizeof(n->bridge), "br0");
	hash_mac(p->spec->seed, sr->name, "bridge", n->bridge_mac);
	p->fam[ni] = fams;
	p->next_host[ni] = 2;
	/* NAT64 sends its IPv4 out of the uplink even when the router's side is IPv6-only */
	r = plan_link(p, ni, 0, up, up == 0 ? "ix" : "wan",
		      (fams | (sr->nat6 == NAT6_NAT64 ? FAM4 : 0)) & p->fam[up], sr->loc);
	for (int v6 = 0; r >= 0 && v6 < 2; v6++) {
		struct nslab_prefix *net = &p->net[2 * ni + v6];

		if (!(fams & (v6 ? FAM6 : FAM4)))
			continue;
		r = alloc_subnet(p, sr, v6, net);
		if (r >= 0)
			r = prefix_host(net, 1, v6 ? &n->down6 : &n->down4, p->err);
	}
	/* NPTv6's external /64: public, routed to the router instead of its downstream */
	if (r >= 0 && sr->nat6 == NAT6_NPTV6 && (fams & FAM6)) {
		struct spec_router outer = *sr;

		outer.pool = LAB_POOL_PUBLIC;
		r = alloc_subnet(p, &outer, true, &n->ext6);
	}
	if (r >= 0 && prefix_is_set(&n->ifaces[0].gw4))
		r = default_route_add(p, n, &n->ifaces[0].gw4);
	if (r >= 0 && prefix_is_set(&n->ifaces[0].gw6))
		r = default_route_add(p, n, &n->ifaces[0].gw6);
	return r;
}

/*
 * Step 3b: region link k becomes an interface of the region planned later
 * (so that the other one's bridge exists when it is built), a host on the
 * other's segment. Named after the other region when that fits.
 */
static int plan_region_link(struct planner *p, size_t k)
{
	const struct spec_region_link *l = &p->spec->region_links[k];
	size_t a = p->rnode[spec_names_find(&p->names, l->a)->index];
	size_t b = p->rnode[spec_names_find(&p->names, l->b)->index];
	size_t owner = a > b ? a : b, other = a > b ? b : a;
	struct plan_node *n = &p->plan->nodes[owner];
	struct plan_iface *v = reallocarray(n->ifaces, n->n_ifaces + 1, sizeof(*v));
	char ifname[IFNAMSIZ];
	int r;

	if (!v)
		return nslab_err_set(p->err, ENOMEM, "plan region link %s-%s", l->a, l->b);
	n->ifaces = v;
	memset(&v[n->n_ifaces], 0, sizeof(*v));
	if (strlen(p->plan->nodes[other].name) + 3 < IFNAMSIZ)
		snprintf(ifname, sizeof(ifname), "to-%s", p->plan->nodes[other].name);
	else
		snprintf(ifname, sizeof(ifname), "rl%zu", k);
	v[n->n_ifaces].spec_iface = (ssize_t)k;
	r = plan_link(p, owner, n->n_ifaces, other, ifname, FAM4 | FAM6, l->loc);
	n->n_ifaces++;
	return r;
}

/* Step 4 */

static int plan_device_routes(struct planner *p, struct plan_node *n)
{
	int r = 0;

	for (int v6 = 0; r >= 0 && v6 < 2; v6++) {
		const struct plan_iface *f = &n->ifaces[n->default_iface];
		const struct nslab_prefix *gw = v6 ? &f->gw6 : &f->gw4;

		for (size_t j = 0; !prefix_is_set(gw) && j < n->n_ifaces; j++)
			gw = v6 ? &n->ifaces[j].gw6 : &n->ifaces[j].gw4;
		/* under RA provisioning the default route comes from the router's RA */
		if (v6 && p->spec->ra)
			continue;
		if (prefix_is_set(gw))
			r = default_route_add(p, n, gw);
	}
	return r;
}

/* Interface k of device ni in a point-to-point lab: names and addresses as the spec says. */
static void plan_link_p2p(struct planner *p, size_t ni, size_t k, size_t up,
			  const struct spec_iface *si)
{
	struct plan_node *n = &p->plan->nodes[ni];
	struct plan_iface *f = &n->ifaces[k];
	char peer[IFNAMSIZ + 8];

	snprintf(f->name, sizeof(f->name), "%s", si->name);
	snprintf(f->peer_name, sizeof(f->peer_name), "%s", si->peer_name);
	snprintf(peer, sizeof(peer), "peer:%s", si->name);
	hash_mac(p->spec->seed, n->name, si->name, f->mac);
	hash_mac(p->spec->seed, n->name, peer, f->peer_mac);
	ll6_from_mac(f->mac, &f->ll6);
	f->up_node = up;
	f->p2p = true;
	f->a4 = si->a4;
	f->a6 = si->a6;
	f->peer4 = si->peer4;
	f->peer6 = si->peer6;
	if (prefix_is_set(&si->peer4))
		f->gw4 = as_host(&si->peer4);
	if (prefix_is_set(&si->peer6))
		f->gw6 = as_host(&si->peer6);
	if (si->via_peer)
		n->default_iface = (ssize_t)k;
}

static int plan_device(struct planner *p, size_t di, size_t ni)
{
	const struct spec_device *sd = &p->spec->devices[di];
	struct plan_node *n = &p->plan->nodes[ni];
	int r = 0;

	*n = (struct plan_node){ .kind = PLAN_DEVICE,
				 .spec_index = (ssize_t)di,
				 .default_iface = p->spec->p2p ? -1 : 0 };
	n->name = strdup(sd->name);
	n->ifaces = calloc(sd->n_ifaces, sizeof(*n->ifaces));
	if (!n->name || !n->ifaces)
		return nslab_err_set(p->err, ENOMEM, "plan device '%s'", sd->name);
	n->n_ifaces = sd->n_ifaces;
	for (size_t j = 0; j < sd->n_ifaces; j++) {
		const struct spec_iface *si = &sd->ifaces[j];
		size_t up = p->live ? (size_t)lab_plan_find(p->plan, si->router)
				    : p->rnode[spec_names_find(&p->names, si->router)->index];

		n->ifaces[j].spec_iface = (ssize_t)j;
		if (p->spec->p2p) {
			plan_link_p2p(p, ni, j, up, si);
			continue;
		}
		if (sd->default_via && strcmp(sd->default_via, si->name) == 0)
			n->default_iface = (ssize_t)j;
		r = plan_link(p, ni, j, up, si->name, p->fam[up], sd->loc);
		if (r < 0)
			return r;
	}
	/* point-to-point: a default route only through a via_peer interface */
	if (p->spec->p2p && n->default_iface < 0)
		return 0;
	return plan_device_routes(p, n);
}

/* Step 5 */

/* Routes to router d's subnets in every ancestor that reaches it in that family. */
static int plan_subnet_routes(struct planner *p, size_t d)
{
	struct plan_node *nodes = p->plan->nodes;
	int r = 0;

	for (int v6 = 0; r >= 0 && v6 < 2; v6++) {
		unsigned fam = v6 ? FAM6 : FAM4;
		const struct nslab_prefix *dst = &p->net[2 * d + v6];
		size_t c = d, a;

		if (!(p->fam[d] & fam))
			continue;
		/* behind NPTv6, the outside reaches the downstream through its external /64 */
		if (v6 && nodes[d].ext6.family)
			dst = &nodes[d].ext6;
		for (; r >= 0; c = a) {
			const struct plan_iface *up = &nodes[c].ifaces[0];
			const struct spec_router *sc = &p->spec->routers[nodes[c].spec_index];

			a = up->up_node;
			if (!(p->fam[c] & p->fam[a] & fam))
				break;
			/* what is behind a NAT is reached through its mappings only */
			if (!v6 && sc->nat.enabled)
				break;
			/* NAT64 translates to IPv4 only: its IPv6 side is routed like any other */
			if (v6 && sc->nat6 != NAT6_NONE && sc->nat6 != NAT6_NAT64 &&
			    !(c == d && nodes[d].ext6.family))
				break;
			r = route_add(p, &nodes[a], dst, v6 ? &up->a6 : &up->a4);
			if (a == 0)
				break;
		}
	}
	return r;
}

static int by_name_cmp(const void *a, const void *b, void *userdata)
{
	const struct plan_node *nodes = userdata;

	return strcmp(nodes[*(const size_t *)a].name, nodes[*(const size_t *)b].name);
}

int lab_plan_reindex(struct lab_plan *plan, nslab_error *err)
{
	size_t *v = reallocarray(plan->by_name, plan->n_nodes ? plan->n_nodes : 1, sizeof(*v));

	if (!v)
		return nslab_err_set(err, ENOMEM, "index %zu nodes", plan->n_nodes);
	plan->by_name = v;
	for (size_t i = 0; i < plan->n_nodes; i++)
		plan->by_name[i] = i;
	qsort_r(plan->by_name, plan->n_nodes, sizeof(*plan->by_name), by_name_cmp, plan->nodes);
	return 0;
}

static int plan_index(struct planner *p)
{
	return lab_plan_reindex(p->plan, p->err);
}

static int plan_all(struct planner *p)
{
	const struct lab_spec *spec = p->spec;
	size_t nr = spec->n_routers;
	_cleanup_free_ size_t *order = calloc(nr + 1, sizeof(*order));
	int r;

	if (!order)
		return nslab_err_set(p->err, ENOMEM, "plan %zu routers", nr);
	r = order_routers(p, order);
	if (r >= 0)
		r = plan_root(p);
	for (size_t k = 0; r >= 0 && k < nr; k++)
		p->rnode[order[k]] = 1 + k;
	for (size_t k = 0; r >= 0 && k < nr; k++)
		r = spec->p2p ? plan_router_p2p(p, order[k], 1 + k)
			      : plan_router(p, order[k], 1 + k);
	for (size_t k = 0; r >= 0 && !spec->p2p && k < spec->n_region_links; k++)
		r = plan_region_link(p, k);
	for (size_t i = 0; r >= 0 && i < spec->n_devices; i++)
		r = plan_device(p, i, 1 + nr + i);
	for (size_t k = 0; r >= 0 && !spec->p2p && k < nr; k++)
		r = plan_subnet_routes(p, 1 + k);
	if (r >= 0)
		r = plan_index(p);
	return r;
}

int lab_plan_make(const struct lab_spec *spec, struct lab_plan **ret, nslab_error *err)
{
	_cleanup_(lab_plan_freep) struct lab_plan *plan = NULL;
	_cleanup_(planner_clear) struct planner p = { .spec = spec, .err = err };
	size_t n = 1 + spec->n_routers + spec->n_devices;
	int r;

	r = lab_spec_validate(spec, err);
	if (r < 0)
		return r;
	plan = calloc(1, sizeof(*plan));
	if (!plan || !(plan->nodes = calloc(n, sizeof(*plan->nodes))))
		return nslab_err_set(err, ENOMEM, "plan lab '%s'", spec->name);
	plan->n_nodes = n;
	plan->n_routers = spec->n_routers;
	plan->n_devices = spec->n_devices;
	p.plan = plan;
	r = planner_init(&p);
	if (r >= 0)
		r = plan_all(&p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(plan);
	return 0;
}

struct lab_plan *lab_plan_free(struct lab_plan *plan)
{
	if (!plan)
		return NULL;
	for (size_t i = 0; plan->nodes && i < plan->n_nodes; i++) {
		free(plan->nodes[i].name);
		free(plan->nodes[i].ifaces);
		free(plan->nodes[i].routes);
	}
	free(plan->nodes);
	free(plan->by_name);
	free(plan);
	return NULL;
}

ssize_t lab_plan_find(const struct lab_plan *plan, const char *name)
{
	size_t lo = 0, hi = plan->by_name ? plan->n_nodes : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, i = plan->by_name[mid];
		int c = strcmp(plan->nodes[i].name, name);

		if (c == 0)
			return (ssize_t)i;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The host number of address a on network net (its low 64 bits past it). */
static uint64_t host_on(const struct nslab_prefix *a, const struct nslab_prefix *net)
{
	unsigned bytes = prefix_addr_len(a);
	uint64_t h = 0;

	for (unsigned i = bytes >= 8 ? bytes - 8 : 0; i < bytes; i++)
		h = (h << 8) | (uint8_t)(a->addr[i] - net->addr[i]);
	return h;
}

/*
 * A planner over a live plan: each bridge's networks and families as planned,
 * its next host past every address on it now (run-time changes included).
 */
static int planner_live_init(struct planner *p, size_t n_total)
{
	const struct lab_plan *plan = p->plan;

	p->live = true;
	p->fam = calloc(n_total, sizeof(*p->fam));
	p->net = calloc(2 * n_total, sizeof(*p->net));
	p->next_host = calloc(n_total, sizeof(*p->next_host));
	if (!p->fam || !p->net || !p->next_host)
		return nslab_err_set(p->err, ENOMEM, "plan %zu nodes", n_total);
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct plan_node *n = &plan->nodes[i];

		if (prefix_is_set(&n->down4)) {
			p->fam[i] |= FAM4;
			p->net[2 * i] = network_of(&n->down4);
		}
		if (prefix_is_set(&n->down6)) {
			p->fam[i] |= FAM6;
			p->net[2 * i + 1] = network_of(&n->down6);
		}
		p->next_host[i] = 2;
	}
	for (size_t i = 1; i < plan->n_nodes; i++)
		for (size_t k = 0; k < plan->nodes[i].n_ifaces; k++) {
			const struct plan_iface *f = &plan->nodes[i].ifaces[k];
			size_t u = f->up_node;
			uint64_t h4 = prefix_is_set(&f->a4) ? host_on(&f->a4, &p->net[2 * u]) : 0,
				 h6 = prefix_is_set(&f->a6) && !f->slaac
					      ? host_on(&f->a6, &p->net[2 * u + 1])
					      : 0;

			if (h4 >= p->next_host[u])
				p->next_host[u] = h4 + 1;
			if (h6 >= p->next_host[u])
				p->next_host[u] = h6 + 1;
		}
	for (size_t i = 0; i < 6; i++)
		p->next_subnet[i / 2][i % 2] = 1;
	return 0;
}

void lab_plan_undo(struct lab_plan *plan, struct plan_undo *undo)
{
	if (!undo->n_routes)
		return;
	for (size_t i = undo->n_nodes; i < plan->n_nodes; i++) {
		free(plan->nodes[i].name);
		free(plan->nodes[i].ifaces);
		free(plan->nodes[i].routes);
	}
	plan->n_nodes = undo->n_nodes;
	plan->n_routers = undo->n_routers;
	plan->n_devices = undo->n_devices;
	for (size_t i = 0; i < undo->n_nodes; i++)
		plan->nodes[i].n_routes = undo->n_routes[i];
	(void)lab_plan_reindex(plan, NULL); /* shrinking: cannot fail */
	plan_undo_clear(undo);
}

void plan_undo_clear(struct plan_undo *undo)
{
	free(undo->n_routes);
	undo->n_routes = NULL;
}

/* Whether a port called name is on up's bridge, but for interface k of node ni. */
static bool peer_taken(const struct lab_plan *plan, size_t up, const char *name, size_t ni,
		       size_t k)
{
	for (size_t i = 1; i < plan->n_nodes; i++)
		for (size_t j = 0; j < plan->nodes[i].n_ifaces; j++)
			if ((i != ni || j != k) && plan->nodes[i].ifaces[j].up_node == up &&
			    strcmp(plan->nodes[i].ifaces[j].peer_name, name) == 0)
				return true;
	return false;
}

/*
 * A short peer name ("_<node>.<iface>") may be one a node had before a removal
 * renumbered the nodes: numbered past every name in use, as add-iface does.
 */
static void live_peer_names(struct lab_plan *plan, size_t ni)
{
	struct plan_node *n = &plan->nodes[ni];

	for (size_t k = 0; k < n->n_ifaces; k++) {
		struct plan_iface *f = &n->ifaces[k];

		for (size_t m = n->n_ifaces; peer_taken(plan, f->up_node, f->peer_name, ni, k); m++)
			snprintf(f->peer_name, sizeof(f->peer_name), "_%zu.%zu", ni, m);
	}
}

static int plan_add_all(struct planner *p, size_t old, size_t r0, size_t nr, size_t d0, size_t nd)
{
	int r = 0;

	for (size_t k = 0; r >= 0 && k < nr; k++)
		r = plan_router(p, r0 + k, old + k);
	for (size_t k = 0; r >= 0 && k < nd; k++)
		r = plan_device(p, d0 + k, old + nr + k);
	for (size_t i = old; r >= 0 && i < old + nr + nd; i++)
		live_peer_names(p->plan, i);
	for (size_t k = 0; r >= 0 && k < nr; k++)
		r = plan_subnet_routes(p, old + k);
	return r;
}

int lab_plan_add(const struct lab_spec *spec, struct lab_plan *plan, size_t r0, size_t d0,
		 struct plan_undo *undo, nslab_error *err)
{
	_cleanup_(planner_clear) struct planner p = { .spec = spec, .plan = plan, .err = err };
	size_t old = plan->n_nodes, nr = spec->n_routers - r0, nd = spec->n_devices - d0;
	size_t n = old + nr + nd;
	struct plan_node *v;
	int r;

	*undo = (struct plan_undo){ .n_nodes = old,
				    .n_routers = plan->n_routers,
				    .n_devices = plan->n_devices };
	undo->n_routes = calloc(old, sizeof(*undo->n_routes));
	v = undo->n_routes ? reallocarray(plan->nodes, n, sizeof(*v)) : NULL;
	if (!v) {
		plan_undo_clear(undo);
		return nslab_err_set(err, ENOMEM, "plan %zu nodes", n);
	}
	plan->nodes = v;
	memset(&v[old], 0, (n - old) * sizeof(*v));
	for (size_t i = 0; i < old; i++)
		undo->n_routes[i] = v[i].n_routes;
	r = planner_live_init(&p, n);
	plan->n_nodes = n;
	plan->n_routers += nr;
	plan->n_devices += nd;
	if (r >= 0)
		r = plan_add_all(&p, old, r0, nr, d0, nd);
	if (r >= 0)
		r = lab_plan_reindex(plan, err);
	if (r < 0)
		lab_plan_undo(plan, undo);
	return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * lab/regions: the routes between regions, and their links at run time.
 *
 * DOC: how regions route
 * A region is a router namespace on the IX whose bridge is the region's
 * segment (lab/plan.h); a link between two regions is a veth from one region
 * into the other's segment, conditioned like any link (lab/links.c). Each
 * region holds, for every other region's networks (its segment and the
 * subnets routed behind its routers), a route of metric REGION_METRIC through
 * the neighbour region_next_hops() picks, or an unreachable route when no path
 * is left: more specific than its default route through the IX, so traffic
 * between regions never takes the IX (where it would skip the delays).
 * A break pulls the link's cable (both ends lose carrier) and replaces the
 * routes; the kernel's connected route to the neighbour's segment steps aside
 * because region namespaces ignore routes through a link that is down
 * (ignore_routes_with_linkdown, set when they are built). Regions send no
 * ICMP redirects: a router told to reach another region's link directly
 * would keep doing so after that link broke.
 */
#include "lab/regions.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>

#include "core/json.h"
#include "lab/lab.h"
#include "lab/links.h"
#include "link/cond.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"
#include "nslab/link.h"

#define REGION_METRIC 1024 /* above the kernel's connected routes (0, and 256 in IPv6) */
#define ROUTE_ROOM    1024 /* room one route request needs at most */

struct lab_regions {
	size_t n;		 /* regions */
	size_t *node;		 /* region -> plan node */
	size_t *link_node;	 /* spec region link -> plan node holding its interface */
	size_t *link_iface;	 /* ... and that interface's index */
	size_t *link_a, *link_b; /* spec region link -> its regions (a, b as in the spec) */
	bool *broken;
};

/* Dijkstra without a heap: regions are few, and the cost is (hops, delay). */
int region_next_hops(size_t n, const struct region_edge *edges, size_t n_edges, size_t src,
		     size_t *ret_next, uint32_t *ret_hops)
{
	_cleanup_free_ uint64_t *delay = calloc(n + 1, sizeof(*delay));
	_cleanup_free_ uint32_t *hops = calloc(n + 1, sizeof(*hops));
	_cleanup_free_ bool *done = calloc(n + 1, sizeof(*done));

	if (!delay || !hops || !done)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret_next[i] = SIZE_MAX;
		hops[i] = UINT32_MAX;
	}
	hops[src] = 0;
	for (;;) {
		size_t u = SIZE_MAX;

		for (size_t i = 0; i < n; i++)
			if (!done[i] && hops[i] != UINT32_MAX &&
			    (u == SIZE_MAX || hops[i] < hops[u] ||
			     (hops[i] == hops[u] && delay[i] < delay[u])))
				u = i;
		if (u == SIZE_MAX)
			break;
		done[u] = true;
		for (size_t e = 0; e < n_edges; e++) {
			size_t v = edges[e].a == u   ? edges[e].b
				   : edges[e].b == u ? edges[e].a
						     : SIZE_MAX;
			size_t first = u == src ? v : ret_next[u];
			uint64_t d = delay[u] + edges[e].delay_ns;

			if (v == SIZE_MAX || done[v])
				continue;
			if (hops[u] + 1 < hops[v] ||
			    (hops[u] + 1 == hops[v] &&
			     (d < delay[v] || (d == delay[v] && first < ret_next[v])))) {
				hops[v] = hops[u] + 1;
				delay[v] = d;
				ret_next[v] = first;
			}
		}
	}
	ret_next[src] = SIZE_MAX;
	for (size_t i = 0; ret_hops && i < n; i++)
		ret_hops[i] = hops[i] == UINT32_MAX ? 0 : hops[i];
	return 0;
}

void lab_regions_stop(struct nslab_lab *lab)
{
	struct lab_regions *rg = lab->regions;

	if (!rg)
		return;
	free(rg->node);
	free(rg->link_node);
	free(rg->link_iface);
	free(rg->link_a);
	free(rg->link_b);
	free(rg->broken);
	free(rg);
	lab->regions = NULL;
}

static ssize_t region_index(const struct lab_regions *rg, size_t node)
{
	for (size_t i = 0; i < rg->n; i++)
		if (rg->node[i] == node)
			return (ssize_t)i;
	return -1;
}

static int regions_alloc(struct nslab_lab *lab, struct lab_regions *rg)
{
	size_t nl = lab->spec->n_region_links + 1;

	rg->node = calloc(lab->plan->n_nodes, sizeof(*rg->node));
	rg->link_node = calloc(nl, sizeof(*rg->link_node));
	rg->link_iface = calloc(nl, sizeof(*rg->link_iface));
	rg->link_a = calloc(nl, sizeof(*rg->link_a));
	rg->link_b = calloc(nl, sizeof(*rg->link_b));
	rg->broken = calloc(nl, sizeof(*rg->broken));
	return rg->node && rg->link_node && rg->link_iface && rg->link_a && rg->link_b && rg->broken
		       ? 0
		       : -ENOMEM;
}

/* Index the regions and where each region link's interface is. */
static void regions_index(struct nslab_lab *lab, struct lab_regions *rg)
{
	const struct lab_plan *plan = lab->plan;

	for (size_t i = 0; i < plan->n_nodes; i++)
		if (plan->nodes[i].region)
			rg->node[rg->n++] = i;
	for (size_t r = 0; r < rg->n; r++) {
		const struct plan_node *pn = &plan->nodes[rg->node[r]];

		for (size_t i = 1; i < pn->n_ifaces; i++) {
			size_t k = (size_t)pn->ifaces[i].spec_iface;
			const struct spec_region_link *l = &lab->spec->region_links[k];

			rg->link_node[k] = rg->node[r];
			rg->link_iface[k] = i;
			rg->link_a[k] = (size_t)region_index(rg, (size_t)lab_plan_find(plan, l->a));
			rg->link_b[k] = (size_t)region_index(rg, (size_t)lab_plan_find(plan, l->b));
		}
	}
}

/* The round-trip delay a link adds now (its live condition, if it has one). */
static uint64_t link_delay(const struct nslab_lab *lab, size_t k)
{
	const struct lab_regions *rg = lab->regions;
	const nslab_link_condition *c =
		lab_link_condition_at(lab, rg->link_node[k], rg->link_iface[k]);

	return c ? c->up.delay_ns + c->down.delay_ns : 0;
}

static int next_hops(const struct nslab_lab *lab, size_t src, size_t *ret_next, uint32_t *ret_hops)
{
	const struct lab_regions *rg = lab->regions;
	size_t nl = lab->spec->n_region_links, ne = 0;
	_cleanup_free_ struct region_edge *e = calloc(nl + 1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (size_t k = 0; k < nl; k++)
		if (!rg->broken[k])
			e[ne++] = (struct region_edge){ rg->link_a[k], rg->link_b[k],
							link_delay(lab, k) };
	return region_next_hops(rg->n, e, ne, src, ret_next, ret_hops);
}

static struct nslab_prefix host_of(const struct nslab_prefix *p)
{
	struct nslab_prefix h = *p;

	h.len = (uint8_t)(prefix_addr_len(p) * 8);
	return h;
}

static struct nslab_prefix net_of(const struct nslab_prefix *p)
{
	struct nslab_prefix n = *p;

	for (size_t bit = p->len; bit < prefix_addr_len(p) * 8; bit++)
		n.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return n;
}

/* The address region s sends to for neighbour nb (over their unbroken link), or NULL. */
static const struct nslab_prefix *gateway(const struct nslab_lab *lab, size_t s, size_t nb, bool v6,
					  struct nslab_prefix *buf)
{
	const struct lab_regions *rg = lab->regions;

	for (size_t k = 0; k < lab->spec->n_region_links; k++) {
		const struct plan_iface *pi;

		if (rg->broken[k] || !((rg->link_a[k] == s && rg->link_b[k] == nb) ||
				       (rg->link_a[k] == nb && rg->link_b[k] == s)))
			continue;
		pi = &lab->plan->nodes[rg->link_node[k]].ifaces[rg->link_iface[k]];
		if (rg->link_node[k] == rg->node[s])
			return v6 ? &pi->gw6 : &pi->gw4; /* the neighbour's bridge */
		*buf = host_of(v6 ? &pi->a6 : &pi->a4);	 /* the neighbour's end on our segment */
		return buf;
	}
	return NULL;
}

static int push_route(struct nlsock *nl, struct nlbatch *b, const struct nslab_prefix *dst,
		      const struct nslab_prefix *via, nslab_error *err)
{
	struct rtnl_route rt = { .dst = *dst, .metric = REGION_METRIC, .replace = true };
	int r = 0;

	if (via && prefix_is_set(via))
		rt.via = *via;
	else
		rt.unreachable = true;
	if (nlbatch_room(b) < ROUTE_ROOM)
		r = nlsock_talk_batch(nl, b, err);
	if (r >= 0)
		r = rtnl_build_route(nlbatch_tail(b), nlbatch_room(b), RTM_NEWROUTE, &rt, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

/* Routes in region s to every network of region d, through nb (SIZE_MAX: unreachable). */
static int push_region_routes(struct nslab_lab *lab, struct nlsock *nl, struct nlbatch *b, size_t s,
			      size_t d, size_t nb, nslab_error *err)
{
	const struct plan_node *pd = &lab->plan->nodes[lab->regions->node[d]];
	struct nslab_prefix gw[2], net;
	const struct nslab_prefix *via[2] = { NULL, NULL };
	int r = 0;

	for (int v6 = 0; nb != SIZE_MAX && v6 < 2; v6++)
		via[v6] = gateway(lab, s, nb, v6, &gw[v6]);
	for (int v6 = 0; r >= 0 && v6 < 2; v6++) {
		const struct nslab_prefix *seg = v6 ? &pd->down6 : &pd->down4;

		if (!prefix_is_set(seg))
			continue;
		net = net_of(seg);
		r = push_route(nl, b, &net, via[v6], err);
	}
	for (size_t i = 0; r >= 0 && i < pd->n_routes; i++) {
		const struct nslab_prefix *dst = &pd->routes[i].dst;

		if (dst->len)
			r = push_route(nl, b, dst, via[dst->family == AF_INET6], err);
	}
	return r;
}

/* Replace every route region s has to the other regions. */
static int route_region(struct nslab_lab *lab, size_t s, nslab_error *err)
{
	struct lab_regions *rg = lab->regions;
	struct nlsock *nl = lab->nodes[rg->node[s]].ns->nl;
	_cleanup_free_ size_t *next = calloc(rg->n + 1, sizeof(*next));
	_cleanup_free_ char *buf = malloc(4 * NL_REQ_BUFSIZ);
	struct nlbatch b;
	int r;

	if (!next || !buf)
		return nslab_err_set(err, ENOMEM, "region routes");
	r = next_hops(lab, s, next, NULL);
	if (r < 0)
		return nslab_err_set(err, -r, "region routes");
	nlbatch_init(&b, buf, 4 * NL_REQ_BUFSIZ);
	for (size_t d = 0; r >= 0 && d < rg->n; d++)
		if (d != s)
			r = push_region_routes(lab, nl, &b, s, d, next[d], err);
	if (r >= 0 && b.count)
		r = nlsock_talk_batch(nl, &b, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "region '%s': routes to the other regions",
					lab->plan->nodes[rg->node[s]].name);
	return 0;
}

static int route_all(struct nslab_lab *lab, nslab_error *err)
{
	for (size_t s = 0; s < lab->regions->n; s++) {
		int r = route_region(lab, s, err);

		if (r < 0)
			return r;
	}
	return 0;
}

int lab_regions_start(struct nslab_lab *lab, nslab_error *err)
{
	struct lab_regions *rg = calloc(1, sizeof(*rg));

	lab->regions = rg;
	if (!rg || regions_alloc(lab, rg) < 0) {
		lab_regions_stop(lab);
		return nslab_err_set(err, ENOMEM, "regions");
	}
	regions_index(lab, rg);
	if (rg->n == 0) {
		lab_regions_stop(lab);
		return 0;
	}
	return route_all(lab, err);
}

/* The spec index of the link between regions a and b (in either order). */
static int find_link(nslab_lab *lab, const char *a, const char *b, size_t *ret_k, nslab_error *err)
{
	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "region: the lab is not built");
	for (size_t k = 0; a && b && k < lab->spec->n_region_links; k++) {
		const struct spec_region_link *l = &lab->spec->region_links[k];

		if ((strcmp(l->a, a) == 0 && strcmp(l->b, b) == 0) ||
		    (strcmp(l->a, b) == 0 && strcmp(l->b, a) == 0)) {
			*ret_k = k;
			return 0;
		}
	}
	return nslab_err_setx(err, ENOENT,
			      "region: no link between regions '%s' and '%s' in lab '%s'",
			      a ? a : "", b ? b : "", lab->spec->name);
}

static void emit_state(struct nslab_lab *lab, size_t k)
{
	const struct spec_region_link *l = &lab->spec->region_links[k];
	struct jw *w = evlog_begin(&lab->ev, "region_link");

	jw_str(w, "a", l->a);
	jw_str(w, "b", l->b);
	jw_bool(w, "up", !lab->regions->broken[k]);
	evlog_end(&lab->ev);
}

/*
 * Wait until the kernel runs both ends of a plugged-back link: carrier
 * changes reach the bridge port and the routes' linkdown flags through the
 * kernel's linkwatch work, which ran up to a second late here. Until then the
 * routes stay around the link (or unreachable), so nothing takes the IX.
 */
static int wait_running(struct nslab_lab *lab, size_t node, size_t iface, nslab_error *err)
{
	const struct plan_iface *pi = &lab->plan->nodes[node].ifaces[iface];
	struct nlsock *own = lab->nodes[node].ns->nl, *peer = lab->nodes[pi->up_node].ns->nl;
	const struct timespec step = { 0, 5000000 };

	for (int i = 0; i < 600; i++) { /* 3 s */
		unsigned a = 0, b = 0;
		int r = rtnl_link_flags(own, pi->name, &a, err);

		if (r >= 0)
			r = rtnl_link_flags(peer, pi->peer_name, &b, err);
		if (r < 0)
			return r;
		if ((a & b & IFF_RUNNING) != 0)
			return 0;
		(void)nanosleep(&step, NULL);
	}
	return nslab_err_setx(err, ETIMEDOUT, "link %s %s: no carrier 3 s after it was plugged in",
			      lab->plan->nodes[node].name, pi->name);
}

int nslab_lab_region_link_set(nslab_lab *lab, const char *a, const char *b, bool up,
			      nslab_error *err)
{
	struct lab_regions *rg = lab->regions;
	const struct plan_node *pn;
	size_t k;
	int r = find_link(lab, a, b, &k, err);

	if (r < 0)
		return r;
	pn = &lab->plan->nodes[rg->link_node[k]];
	/* breaking: routes around it first; restoring: the cable first, then routes over it */
	if (up) {
		r = nslab_lab_set_link_up(lab, pn->name, pn->ifaces[rg->link_iface[k]].name, true,
					  err);
		if (r >= 0)
			r = wait_running(lab, rg->link_node[k], rg->link_iface[k], err);
		rg->broken[k] = r < 0;
	} else {
		rg->broken[k] = true;
		r = route_all(lab, err);
	}
	if (r >= 0)
		r = up ? route_all(lab, err)
		       : nslab_lab_set_link_up(lab, pn->name, pn->ifaces[rg->link_iface[k]].name,
					       false, err);
	if (r < 0) {
		rg->broken[k] = up; /* back to what it was, best effort */
		(void)route_all(lab, NULL);
		return nslab_err_prefix(err, r, "region %s %s %s", a, b, up ? "restore" : "break");
	}
	emit_state(lab, k);
	(void)lab_state_write(lab, NULL);
	return 0;
}

int nslab_lab_region_path(nslab_lab *lab, const char *from, const char *to, char *buf, size_t len,
			  nslab_error *err)
{
	struct lab_regions *rg = lab->regions;
	ssize_t s = rg && from ? region_index(rg, (size_t)lab_plan_find(lab->plan, from)) : -1;
	ssize_t d = rg && to ? region_index(rg, (size_t)lab_plan_find(lab->plan, to)) : -1;
	size_t off = 0, x, steps = 0;

	if (!lab->built || s < 0 || d < 0)
		return nslab_err_setx(err, ENOENT, "region: no region '%s' in lab '%s'",
				      s < 0 ? (from ? from : "") : to, lab->spec->name);
	off = (size_t)snprintf(buf, len, "%s", from);
	for (x = (size_t)s; x != (size_t)d && steps++ <= rg->n;) {
		_cleanup_free_ size_t *next = calloc(rg->n + 1, sizeof(*next));
		int r = next ? next_hops(lab, x, next, NULL) : -ENOMEM;

		if (r < 0)
			return nslab_err_set(err, -r, "region path");
		if (next[d] == SIZE_MAX)
			return nslab_err_setx(err, EHOSTUNREACH,
					      "region '%s' cannot reach region '%s': no path of "
					      "region links is left",
					      from, to);
		x = next[d];
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, " %s",
						lab->plan->nodes[rg->node[x]].name);
	}
	return 0;
}

int nslab_lab_set_region_condition(nslab_lab *lab, const char *a, const char *b,
				   enum nslab_link_which which, const nslab_link_condition *cond,
				   nslab_error *err)
{
	struct lab_regions *rg = lab->regions;
	nslab_link_condition c = { 0 };
	const struct plan_node *pn;
	size_t k;
	int r = find_link(lab, a, b, &k, err);

	if (r < 0)
		return r;
	pn = &lab->plan->nodes[rg->link_node[k]];
	if (cond)
		c = *cond;
	/* the words say a -> b; the interface's `up` is what its own region sends */
	if (strcmp(pn->name, a) != 0) {
		c.up = cond ? cond->down : c.up;
		c.down = cond ? cond->up : c.down;
		if (which != NSLAB_LINK_BOTH)
			which = which == NSLAB_LINK_UP ? NSLAB_LINK_DOWN : NSLAB_LINK_UP;
	}
	r = nslab_lab_set_condition(lab, pn->name, pn->ifaces[rg->link_iface[k]].name, which, &c,
				    err);
	/* the delay is the tie-break between paths of as many links */
	return r < 0 ? r : route_all(lab, err);
}

void lab_regions_json(const struct nslab_lab *lab, struct jw *w)
{
	const struct lab_regions *rg = lab->regions;
	char buf[512];

	jw_arr_open(w, "region_links");
	for (size_t k = 0; rg && k < lab->spec->n_region_links; k++) {
		const struct spec_region_link *l = &lab->spec->region_links[k];
		const struct plan_node *pn = &lab->plan->nodes[rg->link_node[k]];
		const nslab_link_condition *c =
			lab_link_condition_at(lab, rg->link_node[k], rg->link_iface[k]);
		bool a_owns = strcmp(pn->name, l->a) == 0;
		static const nslab_link_dir none;

		jw_obj_open(w, NULL);
		jw_str(w, "a", l->a);
		jw_str(w, "b", l->b);
		jw_str(w, "node", pn->name);
		jw_str(w, "iface", pn->ifaces[rg->link_iface[k]].name);
		jw_bool(w, "up", !rg->broken[k]);
		jw_str(w, "a_to_b",
		       nslab_link_dir_format(c ? (a_owns ? &c->up : &c->down) : &none, buf,
					     sizeof(buf)));
		jw_str(w, "b_to_a",
		       nslab_link_dir_format(c ? (a_owns ? &c->down : &c->up) : &none, buf,
					     sizeof(buf)));
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

int lab_region_set_words(struct nslab_lab *lab, const char *a, const char *b,
			 const char *const *argv, size_t argc, nslab_error *err)
{
	struct linkcond_user user = { lab->spec->links, lab->spec->n_links };
	enum nslab_link_which which;
	nslab_link_condition c;
	int r = linkcond_from_words(argv, argc, &user, &c, &which, err);

	return r < 0 ? r : nslab_lab_set_region_condition(lab, a, b, which, &c, err);
}

int nslab_lab_set_region_condition_words(nslab_lab *lab, const char *a, const char *b,
					 const char *const *argv, size_t argc, nslab_error *err)
{
	return lab_region_set_words(lab, a, b, argv, argc, err);
}

/* One direction's condition and counters, for people and as JSON. */
static void describe_dir(FILE *f, struct jw *w, const char *from, const char *to,
			 const nslab_link_dir *d, const nslab_link_stats *st)
{
	char cond[512];

	nslab_link_dir_format(d, cond, sizeof(cond));
	fprintf(f, "%s -> %s: %s\n", from, to, cond);
	fprintf(f,
		"      passed %" PRIu64 ", lost %" PRIu64 ", overflow %" PRIu64
		", reordered %" PRIu64 ", duplicated %" PRIu64 ", corrupted %" PRIu64 "\n",
		st->passed, st->lost, st->overflow, st->reordered, st->duplicated, st->corrupted);
	jw_str(w, "condition", cond);
	jw_uint(w, "passed", st->passed);
	jw_uint(w, "lost", st->lost);
	jw_uint(w, "overflow", st->overflow);
	jw_uint(w, "reordered", st->reordered);
	jw_uint(w, "duplicated", st->duplicated);
	jw_uint(w, "corrupted", st->corrupted);
}

/* The path from one region to another now, or "unreachable". */
static void describe_path(struct nslab_lab *lab, FILE *f, struct jw *w, const char *key,
			  const char *from, const char *to)
{
	char path[1024];

	if (nslab_lab_region_path(lab, from, to, path, sizeof(path), NULL) < 0) {
		fprintf(f, "path %s -> %s: unreachable (no path of region links is left)\n", from,
			to);
		jw_raw(w, key, "null");
		return;
	}
	fprintf(f, "path %s -> %s: %s\n", from, to, path);
	jw_str(w, key, path);
}

int lab_region_describe(struct nslab_lab *lab, const char *a, const char *b, char **ret_text,
			char **ret_json, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	const struct plan_node *pn;
	nslab_link_condition c;
	nslab_link_stats st[2];
	const char *ifname;
	size_t k, len = 0;
	bool a_owns;
	struct jw w;
	FILE *f;
	int r = find_link(lab, a, b, &k, err);

	if (r < 0)
		return r;
	pn = &lab->plan->nodes[lab->regions->link_node[k]];
	ifname = pn->ifaces[lab->regions->link_iface[k]].name;
	a_owns = strcmp(pn->name, a) == 0;
	r = nslab_lab_get_condition(lab, pn->name, ifname, &c, err);
	if (r >= 0)
		r = nslab_lab_link_stats(lab, pn->name, ifname, &st[!a_owns], &st[a_owns], err);
	if (r < 0)
		return r;
	f = open_memstream(&text, &len);
	if (!f)
		return nslab_err_set(err, ENOMEM, "describe region link");
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "a", a);
	jw_str(&w, "b", b);
	jw_str(&w, "node", pn->name);
	jw_str(&w, "iface", ifname);
	jw_bool(&w, "up", !lab->regions->broken[k]);
	fprintf(f, "region link %s %s (%s %s): %s\n", a, b, pn->name, ifname,
		lab->regions->broken[k] ? "broken" : "up");
	jw_obj_open(&w, "a_to_b");
	describe_dir(f, &w, a, b, a_owns ? &c.up : &c.down, &st[0]);
	jw_obj_close(&w);
	jw_obj_open(&w, "b_to_a");
	describe_dir(f, &w, b, a, a_owns ? &c.down : &c.up, &st[1]);
	jw_obj_close(&w);
	describe_path(lab, f, &w, "path_a_to_b", a, b);
	describe_path(lab, f, &w, "path_b_to_a", b, a);
	jw_obj_close(&w);
	r = fclose(f) == 0 && jw_get(&w) ? 0 : -ENOMEM;
	*ret_json = r == 0 ? strdup(jw_get(&w)) : NULL;
	jw_free(&w);
	if (!*ret_json)
		return nslab_err_set(err, ENOMEM, "describe region link");
	*ret_text = TAKE_PTR(text);
	return 0;
}

void lab_regions_node_removed(struct nslab_lab *lab, size_t n)
{
	struct lab_regions *rg = lab->regions;

	for (size_t i = 0; rg && i < rg->n; i++)
		if (rg->node[i] > n)
			rg->node[i]--;
	for (size_t k = 0; rg && k < lab->spec->n_region_links; k++)
		if (rg->link_node[k] > n)
			rg->link_node[k]--;
}

int lab_regions_reroute(struct nslab_lab *lab, nslab_error *err)
{
	return lab->regions ? route_all(lab, err) : 0;
}

void lab_regions_drop_route(struct nslab_lab *lab, const struct nslab_prefix *dst)
{
	struct lab_regions *rg = lab->regions;

	for (size_t s = 0; rg && s < rg->n; s++) {
		char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
		/* whatever its next hop (unreachable, or a neighbour): a deletion matches any */
		struct rtnl_route rt = { .dst = *dst,
					 .metric = REGION_METRIC,
					 .unreachable = true };
		struct nlsock *nl = lab->nodes[rg->node[s]].ns->nl;

		/* best effort: the owner of dst has none of this metric, and says so */
		if (rtnl_build_route(buf, sizeof(buf), RTM_DELROUTE, &rt, NULL) >= 0)
			(void)nlsock_talk(nl, (struct nlmsghdr *)buf, NULL, NULL, NULL);
	}
}

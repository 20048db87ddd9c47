/* SPDX-License-Identifier: MIT */
/*
 * lab/nat-ctl: a router's NAT changed, or its state flushed, while the lab
 * runs (nslab_lab_set_nat(), nslab_lab_flush_nat(); the supervisor's control
 * socket calls them). Each is one libnftables transaction in the router's
 * namespace, one event, and state.json written again.
 */
#include "nslab/lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lab/lab.h"
#include "lab/nat64-run.h"
#include "lab/nat.h"
#include "nl/ct.h"
#include "nl/nftables.h"
#include "nl/nlsock.h"
#include "nl/rtnl.h"

struct nat_job {
	struct nslab_node *n;
	const struct nat_config *c;
	struct nat_where w;
	bool flush;
	unsigned flushed; /* conntrack entries there were before the flush */
};

/* Inside the router: the NAT (re)loaded, which empties its mapping tables; conntrack flushed. */
static int nat_job_in_ns(void *data, nslab_error *err)
{
	struct nat_job *j = data;
	_cleanup_(nlsock_freep) struct nlsock *nl = NULL;
	struct nftbl_ctx *ctx;
	int r = lab_node_nft(j->n, &ctx, err);

	if (r >= 0)
		r = nat_apply_in_ns(ctx, j->c, &j->w, err);

	if (r < 0 || !j->flush)
		return r;
	r = nlsock_open(NETLINK_NETFILTER, &nl, err);
	if (r >= 0)
		r = ct_count(nl, &j->flushed, err);
	if (r >= 0)
		r = ct_flush(nl, err);
	return r < 0 ? nslab_err_prefix(err, r, "flush conntrack") : 0;
}

int lab_find_router(nslab_lab *lab, const char *name, struct nslab_node **ret_node,
		    struct spec_router **ret_spec, nslab_error *err)
{
	struct nslab_node *n;

	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "the lab is not built");
	n = name ? nslab_lab_node(lab, name) : NULL;
	if (!n)
		return nslab_err_setx(err, ENOENT, "no node '%s' in lab '%s'", name ? name : "",
				      lab->spec->name);
	if (n->pn->kind != PLAN_ROUTER)
		return nslab_err_setx(err, EINVAL, "'%s' is a device, not a router", name);
	if (n->pn->region)
		return nslab_err_setx(err, EINVAL, "'%s' is a region, not a router", name);
	*ret_node = n;
	*ret_spec = &lab->spec->routers[n->pn->spec_index];
	return 0;
}

static void emit_nat(nslab_lab *lab, const char *kind, const char *router,
		     const struct nat_config *c, const struct nat_job *j)
{
	struct jw *w = evlog_begin(&lab->ev, kind);

	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", router);
	jw_str(w, "nat", c->enabled ? c->preset : "none");
	if (c->enabled) {
		jw_str(w, "mapping", nat_mapping_name(c->mapping));
		jw_str(w, "filtering", nat_filtering_name(c->filtering));
		jw_bool(w, "hairpin", c->hairpin);
	}
	if (j->flush)
		jw_uint(w, "flushed", j->flushed);
	evlog_end(&lab->ev);
}

static int run_job(struct nslab_node *n, struct nat_job *j, nslab_error *err)
{
	int r;

	if (!nat_where_of(n->pn, &j->w))
		return nslab_err_setx(err, EINVAL,
				      "router '%s' has no IPv4 uplink address to NAT to",
				      n->pn->name);
	j->n = n;
	r = netns_call(n->ns->fd, nat_job_in_ns, j, err);
	return r < 0 ? nslab_err_prefix(err, r, "router '%s'", n->pn->name) : 0;
}

int lab_node_nft(struct nslab_node *n, struct nftbl_ctx **ret, nslab_error *err)
{
	int r = n->nft ? 0 : nftbl_ctx_new(&n->nft, err);

	if (r >= 0)
		*ret = n->nft;
	return r;
}

/* Best effort, as after the build: state.json is a copy of `nslab status --json`. */
void lab_state_rewrite(nslab_lab *lab)
{
	nslab_error state_err = { 0 };

	if (lab_state_write(lab, &state_err) < 0)
		log_debugf(&lab->log, "%s, ignoring", state_err.msg);
}

/* Before the build: the spec's router, its pool as a lab file's `nat:` gives it. */
static int set_nat_spec(nslab_lab *lab, const char *router, const struct nat_config *c,
			nslab_error *err)
{
	ssize_t i = router ? lab_spec_router_index(lab->spec, router) : -1;
	struct spec_router *sr;

	if (i < 0)
		return nslab_err_setx(err, ENOENT, "no router '%s' in lab '%s'",
				      router ? router : "", lab->spec->name);
	sr = &lab->spec->routers[i];
	if (c->enabled && sr->ip == LAB_IP_V6)
		return nslab_err_setx(err, EINVAL,
				      "router '%s': nat translates IPv4, and the router "
				      "is IPv6-only",
				      router);
	sr->nat = *c;
	sr->pool = !c->enabled ? sr->pool : c->carrier ? LAB_POOL_CGNAT : LAB_POOL_PRIVATE;
	return 0;
}

int nslab_lab_set_nat(nslab_lab *lab, const char *router, const char *mode, nslab_error *err)
{
	struct spec_router *sr;
	struct nslab_node *n;
	struct nat_config c;
	struct nat_job j = { .c = &c };
	int r;

	if (!mode || nat_preset(mode, &c) < 0)
		return nslab_err_setx(err, EINVAL, "unknown NAT mode '%s' (expected %s)",
				      mode ? mode : "", nat_preset_list());
	if (!lab->built)
		return set_nat_spec(lab, router, &c, err);
	r = lab_find_router(lab, router, &n, &sr, err);
	if (r < 0)
		return r;
	r = run_job(n, &j, err);
	if (r < 0)
		return r;
	sr->nat = c;
	emit_nat(lab, "nat_changed", router, &c, &j);
	lab_state_rewrite(lab);
	return 0;
}

int nslab_lab_flush_nat(nslab_lab *lab, const char *router, nslab_error *err)
{
	struct spec_router *sr;
	struct nslab_node *n;
	struct nat_job j = { .flush = true };
	int r = lab_find_router(lab, router, &n, &sr, err);

	if (r < 0)
		return r;
	if (!sr->nat.enabled)
		return nslab_err_setx(err, EINVAL, "router '%s' has no NAT to flush", router);
	j.c = &sr->nat;
	r = run_job(n, &j, err);
	if (r < 0)
		return r;
	emit_nat(lab, "nat_flushed", router, &sr->nat, &j);
	lab_state_rewrite(lab);
	return 0;
}

struct nat6_job {
	struct nslab_node *n;
	enum nat6_mode m;
	struct nat6_where w;
};

/* Inside the router: its IPv6 NAT table replaced (deleted for none), one transaction. */
static int nat6_job_in_ns(void *data, nslab_error *err)
{
	struct nat6_job *j = data;
	_cleanup_free_ char *text = NULL, *all = NULL;
	struct nftbl_ctx *ctx;
	int r = lab_node_nft(j->n, &ctx, err);

	if (r >= 0 && j->m != NAT6_NONE)
		r = nat6_ruleset_text(j->m, &j->w, &text, err);
	if (r < 0)
		return r;
	/* nat64's table is of family ip (nat6.c), the others' ip6: both go */
	if (asprintf(&all,
		     "table ip6 " NAT6_TABLE " {\n}\ndelete table ip6 " NAT6_TABLE "\n"
		     "table ip " NAT6_TABLE " {\n}\ndelete table ip " NAT6_TABLE "\n%s",
		     text ? text : "") < 0)
		return nslab_err_set(err, ENOMEM, "IPv6 NAT ruleset");
	return nftbl_ctx_run(ctx, all, false, NULL, err);
}

/* Whether any address or network of the plan lies in net. */
static bool plan_uses(const struct lab_plan *plan, const struct nslab_prefix *net)
{
	for (size_t i = 0; i < plan->n_nodes; i++) {
		const struct plan_node *pn = &plan->nodes[i];

		if (prefix_overlaps(&pn->down6, net) || prefix_overlaps(&pn->ext6, net))
			return true;
		for (size_t k = 0; k < pn->n_ifaces; k++)
			if (prefix_overlaps(&pn->ifaces[k].a6, net))
				return true;
	}
	return false;
}

/* The first subnet of the public IPv6 range nothing of the plan is in (the planner's pool). */
static int free_public6(const nslab_lab *lab, struct nslab_prefix *ret, nslab_error *err)
{
	const struct spec_ranges *rg = &lab->spec->ranges;

	for (uint64_t i = 1;; i++) { /* index 0 is kept free, as the planner does */
		struct nslab_prefix net;
		int r = prefix_subnet(&rg->public6, rg->sub6, i, &net, err);

		if (r < 0)
			return nslab_err_prefix(err, r, "public IPv6");
		if (!prefix_overlaps(&net, &rg->ix6) && !plan_uses(lab->plan, &net)) {
			*ret = net;
			return 0;
		}
	}
}

static int route6(struct nslab_node *a, int type, const struct nslab_prefix *dst,
		  const struct nslab_prefix *via, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct rtnl_route rt = { .dst = *dst, .via = *via };
	int r;

	rt.via.len = 128;
	r = rtnl_build_route(buf, sizeof(buf), type, &rt, err);
	return r < 0 ? r : nlsock_talk(a->ns->nl, (struct nlmsghdr *)buf, NULL, NULL, err);
}

/*
 * Undo what nptv6_plan_live() did: the routes of the first n ancestors of
 * router d (best effort: a route deleted already is as good) and its /64.
 */
static void nptv6_unplan(nslab_lab *lab, size_t d, size_t n)
{
	struct plan_node *pn = &lab->plan->nodes[d];
	size_t c = d;

	for (size_t i = 0; i < n && c != 0; i++) {
		const struct plan_iface *up = &lab->plan->nodes[c].ifaces[0];

		(void)route6(&lab->nodes[up->up_node], RTM_DELROUTE, &pn->ext6, &up->a6, NULL);
		c = up->up_node;
	}
	pn->ext6 = (struct nslab_prefix){ 0 };
}

/*
 * NPTv6 on a router built without it: its external /64 planned now (the
 * next one of the public IPv6 range nothing uses) and routed to it by every
 * ancestor, as the plan does at build (plan.c's plan_subnet_routes(): up
 * to the IX, or to an ancestor that translates IPv6 itself).
 */
static int nptv6_plan_live(nslab_lab *lab, struct nslab_node *n, nslab_error *err)
{
	struct plan_node *pn = &lab->plan->nodes[n->idx];
	size_t c = n->idx, added = 0;
	int r;

	if (!prefix_is_set(&pn->down6) || pn->n_ifaces < 1 || !prefix_is_set(&pn->ifaces[0].a6))
		return nslab_err_setx(err, EINVAL, "router '%s' has no IPv6 uplink for nptv6",
				      pn->name);
	r = free_public6(lab, &pn->ext6, err);
	while (r >= 0) {
		const struct plan_iface *up = &lab->plan->nodes[c].ifaces[0];
		const struct plan_node *a = &lab->plan->nodes[up->up_node];

		if (!prefix_is_set(&up->a6) || !prefix_is_set(&a->down6))
			break;
		/* what is behind an ancestor's own IPv6 NAT is not routed past it */
		if (c != n->idx &&
		    lab->spec->routers[lab->plan->nodes[c].spec_index].nat6 != NAT6_NONE)
			break;
		r = route6(&lab->nodes[up->up_node], RTM_NEWROUTE, &pn->ext6, &up->a6, err);
		if (r < 0)
			r = nslab_err_prefix(err, r, "route it in '%s'",
					     up->up_node ? a->name : "the lab root");
		else
			added++;
		if (up->up_node == 0)
			break;
		c = up->up_node;
	}
	if (r < 0)
		nptv6_unplan(lab, n->idx, added);
	return r;
}

/*
 * A switch to nat64: the router's translator (TUN, routes into it) started
 * before its table is loaded, stopped again by the caller if that fails.
 */
static int nat64_switch_on(nslab_lab *lab, struct nslab_node *n, struct spec_router *sr,
			   enum nat6_mode m, nslab_error *err)
{
	enum nat6_mode old = sr->nat6;
	int r;

	if (m != NAT6_NAT64 || old == NAT6_NAT64)
		return 0;
	sr->nat6 = m; /* what lab_nat64_start() looks for */
	r = lab_nat64_start(lab, err);
	sr->nat6 = old;
	return r < 0 ? nslab_err_prefix(err, r, "router '%s'", n->pn->name) : 0;
}

/*
 * none and masquerade need nothing outside the router. NPTv6 needs its
 * external /64 routed to the router by every ancestor: planned at build for
 * a router built with `nat6: nptv6`, planned and routed now for another
 * (and kept: a later nptv6 takes the same one).
 */
static int set_nat6_live(nslab_lab *lab, const char *router, enum nat6_mode m, nslab_error *err)
{
	struct nat6_job j = { .m = m };
	struct spec_router *sr;
	bool planned_now = false, hosts_follow;
	struct jw *w;
	int r = lab_find_router(lab, router, &j.n, &sr, err);

	if (r < 0)
		return r;
	if (m == NAT6_NPTV6 && !prefix_is_set(&j.n->pn->ext6)) {
		r = nptv6_plan_live(lab, j.n, err);
		if (r < 0)
			return nslab_err_prefix(
				err, r, "router '%s': plan an external /64 for nptv6", router);
		planned_now = true;
	}
	if (!nat6_where_of(j.n->pn, m, &j.w))
		return nslab_err_setx(err, EINVAL,
				      m == NAT6_NAT64 ? "router '%s' has no IPv6 downstream and "
							"IPv4 uplink for nat64"
						      : "router '%s' has no IPv6 to translate",
				      router);
	r = nat64_switch_on(lab, j.n, sr, m, err);
	if (r < 0)
		return r;
	r = netns_call(j.n->ns->fd, nat6_job_in_ns, &j, err);
	if (r < 0 && planned_now)
		nptv6_unplan(lab, j.n->idx, SIZE_MAX);
	if (r < 0 && m == NAT6_NAT64 && sr->nat6 != NAT6_NAT64)
		lab_nat64_stop_node(lab, j.n->idx);
	if (r < 0)
		return nslab_err_prefix(err, r, "router '%s': load IPv6 NAT", router);
	if (sr->nat6 == NAT6_NAT64 && m != NAT6_NAT64)
		lab_nat64_stop_node(lab, j.n->idx);
	hosts_follow = (sr->nat6 == NAT6_NAT64) != (m == NAT6_NAT64) && !lab->spec->dns64;
	sr->nat6 = m;
	if (hosts_follow) /* its IPv4-only lines follow DNS64 (hosts.c) */
		(void)lab_hosts_rewrite(lab, NULL);
	w = evlog_begin(&lab->ev, "nat6_changed");
	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", router);
	jw_str(w, "nat6", nat6_name(m));
	evlog_end(&lab->ev);
	lab_state_rewrite(lab);
	return 0;
}

int nslab_lab_set_nat6(nslab_lab *lab, const char *router, const char *mode, nslab_error *err)
{
	ssize_t i = router ? lab_spec_router_index(lab->spec, router) : -1;
	enum nat6_mode m;
	struct spec_router *sr;

	if (!mode || nat6_parse(mode, &m) < 0)
		return nslab_err_setx(err, EINVAL,
				      "unknown nat6 mode '%s' (expected none, nptv6, masquerade or "
				      "nat64)",
				      mode ? mode : "");
	if (lab->built)
		return set_nat6_live(lab, router, m, err);
	if (i < 0)
		return nslab_err_setx(err, ENOENT, "no router '%s' in lab '%s'",
				      router ? router : "", lab->spec->name);
	sr = &lab->spec->routers[i];
	if (m != NAT6_NONE && sr->ip == LAB_IP_V4)
		return nslab_err_setx(err, EINVAL,
				      "router '%s': nat6 translates IPv6, and the "
				      "router is IPv4-only",
				      router);
	sr->nat6 = m;
	if (m != NAT6_NONE && m != NAT6_NAT64 && sr->pool == LAB_POOL_PUBLIC)
		sr->pool = LAB_POOL_PRIVATE;
	return 0;
}

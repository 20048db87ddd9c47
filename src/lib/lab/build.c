/* SPDX-License-Identifier: MIT */
/*
 * lab/build: turn a plan into namespaces, bridges, veths, addresses and routes.
 *
 * DOC: build order (all on one worker thread, so the caller's thread never
 * changes namespace, and there is no thread per namespace)
 * 1. mount namespace: private propagation, the lab's /etc/hosts bound over the host's
 * 2. lab root: unshare(CLONE_NEWNET); this thread stays there and it is "home"
 *    for the setns round trips below; IX bridge with the root's addresses
 * 3. routers, upstream first; devices: netns_new(), then one netlink batch on
 *    the node's own socket: lo up, bridge, veths (the outer end created
 *    directly in the upstream's namespace and enslaved to its bridge),
 *    addresses, routes
 * Interface indexes are chosen by us (ifi_index), so no lookups are needed:
 * lo is 1, a bridge is 2, then veth ends in creation order per namespace.
 * 4. each router's nftables tables (NAT, firewall, rules_file) on a thread of
 *    its own as soon as its namespace exists (router-nft.c's queue): the
 *    builder goes on with the next namespaces meanwhile, and waits for the
 *    last load before the lab counts as built
 * On any failure lab_build() drops every namespace made so far (lab_teardown()).
 * A point-to-point lab (lab_spec p2p, made by programs: fwtest's direct and
 * gateway) has no IX and no bridges: its root is only the home (no settings,
 * no socket), its routers have no uplink, and a device's veth ends in a
 * plain port of its router, numbered from 2 there in creation order and
 * addressed in one batch on the router's socket after the device's own. A
 * bare lab skips step 1 (and nslab_lab_build() its PID namespace).
 */
#include "lab/lab.h"
#include "lab/links.h"
#include "lab/regions.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "lab/nat64-run.h"
#include "lab/ra.h"
#include "lab/router-nft.h"
#include "nl/rtnl.h"
#include "nl/nftables.h"
#include "nl/sysctl.h"
#include "ns/userns.h"

#define BRIDGE_IFINDEX 2
#define BATCH_SLACK    1024 /* room a single request needs at most */

struct builder {
	struct nslab_lab *lab;
	int home_fd;		  /* the lab root's netns fd (borrowed from nodes[0]) */
	struct sysctl_kv base[8]; /* applied to every namespace */
	size_t n_base;
	char batch_buf[4 * NL_REQ_BUFSIZ];
	char ix_buf[4 * NL_REQ_BUFSIZ];
	struct nlbatch ix_batch; /* IX ports to enslave, isolate and raise, on the root's socket */
	struct router_nft_queue *nft; /* the routers' tables, loaded on a thread of their own */
	nslab_error err;
	int result;
	bool live;    /* lab_build_nodes_live(): nodes added to a running lab */
	size_t first; /* ... the first of them */
	int outer_ifindex[LAB_DEVICE_IFACES_MAX]; /* the node's point-to-point peers' indexes */
};

/* Send the batch if a request might not fit anymore. */
static int batch_make_room(struct nlsock *nl, struct nlbatch *b, nslab_error *err)
{
	if (nlbatch_room(b) >= BATCH_SLACK)
		return 0;
	return nlsock_talk_batch(nl, b, err);
}

static int push_link_up(struct nlbatch *b, int ifindex, nslab_error *err)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	int r;

	chg.up = 1;
	r = rtnl_build_link_set(nlbatch_tail(b), nlbatch_room(b), ifindex, &chg, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

static int push_bridge(struct nlbatch *b, const struct plan_node *pn, nslab_error *err)
{
	struct nlmsghdr *nlh = nlbatch_tail(b);
	int r = rtnl_build_bridge(nlh, nlbatch_room(b), pn->bridge, pn->bridge_mac, pn->mtu, true,
				  err);

	if (r < 0)
		return r;
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = BRIDGE_IFINDEX;
	nlbatch_push(b);
	return 0;
}

/* @extra: more IFA_F_* flags (IFA_F_NOPREFIXROUTE on the IX). */
static int push_addr_flags(struct nlbatch *b, int ifindex, const struct nslab_prefix *p, bool dad,
			   uint32_t extra, nslab_error *err)
{
	uint32_t flags = ((p->family == AF_INET6 && !dad) ? IFA_F_NODAD : 0) | extra;
	int r;

	if (!prefix_is_set(p))
		return 0;
	r = rtnl_build_addr(nlbatch_tail(b), nlbatch_room(b), RTM_NEWADDR, ifindex, p, flags, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

static int push_addr(struct nlbatch *b, int ifindex, const struct nslab_prefix *p, bool dad,
		     nslab_error *err)
{
	return push_addr_flags(b, ifindex, p, dad, 0, err);
}

/* A host route to gw through ifindex (the lab root on the IX, see push_ix_addrs()). */
static int push_onlink_host(struct nlbatch *b, int ifindex, const struct nslab_prefix *gw,
			    nslab_error *err)
{
	struct rtnl_route rt = { .dst = *gw, .oif = ifindex };
	int r;

	if (!prefix_is_set(gw))
		return 0;
	rt.dst.len = gw->family == AF_INET ? 32 : 128;
	r = rtnl_build_route(nlbatch_tail(b), nlbatch_room(b), RTM_NEWROUTE, &rt, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

/*
 * On the IX a router's port is isolated (push_ix_port()), so other routers are
 * not on its link: its addresses carry no prefix route, only a host route to
 * the lab root, and everything else, other routers' IX addresses included,
 * goes through the root. The addresses keep the IX length for what they say.
 */
static int push_ix_addrs(struct nlbatch *b, int ifindex, const struct plan_iface *pi, bool dad,
			 nslab_error *err)
{
	int r = push_addr_flags(b, ifindex, &pi->a4, dad, IFA_F_NOPREFIXROUTE, err);

	if (r >= 0)
		r = push_addr_flags(b, ifindex, &pi->a6, dad, IFA_F_NOPREFIXROUTE, err);
	if (r >= 0)
		r = push_onlink_host(b, ifindex, &pi->gw4, err);
	if (r >= 0)
		r = push_onlink_host(b, ifindex, &pi->gw6, err);
	return r;
}

static int push_route(struct nlbatch *b, const struct plan_route *pr, nslab_error *err)
{
	struct rtnl_route rt = { .dst = pr->dst, .via = pr->via };
	int r = rtnl_build_route(nlbatch_tail(b), nlbatch_room(b), RTM_NEWROUTE, &rt, err);

	if (r >= 0)
		nlbatch_push(b);
	return r;
}

/*
 * A router's port on the IX is isolated: it exchanges frames with the lab root
 * only, never with another router's port. Every route between routers goes
 * through the root anyway, and without it each router's MLD reports and
 * neighbour solicitations were flooded to every other router, a cost that
 * grows with the square of the routers. The port is created detached and down
 * and only joins the bridge, isolated, then comes up, in the root's own batch
 * (a port's bridge settings need a request on its own namespace's socket);
 * the router's uplink has no carrier, and so floods nothing, until then.
 */
static int push_ix_port(struct builder *bd, int ifindex, nslab_error *err)
{
	struct nlbatch *b = &bd->ix_batch;
	struct nlsock *nl = bd->lab->nodes[0].ns->nl;
	struct rtnl_link_change enslave = RTNL_LINK_CHANGE_KEEP;
	int r = batch_make_room(nl, b, err);

	enslave.master = BRIDGE_IFINDEX;
	if (r >= 0)
		r = rtnl_build_link_set(nlbatch_tail(b), nlbatch_room(b), ifindex, &enslave, err);
	if (r >= 0) {
		nlbatch_push(b);
		r = rtnl_build_brport_isolated(nlbatch_tail(b), nlbatch_room(b), ifindex, true,
					       err);
	}
	if (r >= 0) {
		nlbatch_push(b);
		r = push_link_up(b, ifindex, err);
	}
	return r;
}

/* The veth for iface i of node n: outer end in the upstream's namespace on its bridge. */
static int push_veth(struct builder *bd, struct nlbatch *b, struct nslab_node *n,
		     const struct plan_iface *pi, int *ret_inner, nslab_error *err)
{
	struct nslab_node *up = &bd->lab->nodes[pi->up_node];
	bool on_ix = pi->up_node == 0; /* see push_ix_port() */
	struct rtnl_veth_end outer = { .name = pi->peer_name,
				       .netns_fd = up->ns->fd,
				       .mac = pi->peer_mac,
				       .master = on_ix || pi->p2p ? 0 : BRIDGE_IFINDEX,
				       .mtu = pi->mtu,
				       .up = !on_ix,
				       .ifindex = up->next_ifindex };
	/* The peer cannot come up in the creating request: the kernel configures it
	 * before the pair is linked (veth_open() fails with ENOTCONN), so it goes up
	 * in the next request. */
	struct rtnl_veth_end inner = { .name = pi->name,
				       .netns_fd = -1,
				       .mac = pi->mac,
				       .mtu = pi->mtu,
				       .up = false,
				       .ifindex = n->next_ifindex };
	int r = rtnl_build_veth(nlbatch_tail(b), nlbatch_room(b), &outer, &inner, err);

	if (r < 0)
		return r;
	nlbatch_push(b);
	if (on_ix)
		r = push_ix_port(bd, up->next_ifindex, err);
	up->next_ifindex++;
	*ret_inner = n->next_ifindex++;
	return r;
}

/*
 * A device's interface makes no link-local of its own: the plan's (the same
 * EUI-64 address) is added without DAD instead. That spares every device a
 * sysctl write, and /proc/sys lookups grow slower with each namespace (their
 * dentries share names, hence hash chains, across namespaces).
 */
static int push_no_auto_ll(struct nlbatch *b, int ifindex, nslab_error *err)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	int r;

	chg.set_addr_gen_mode = true;
	chg.addr_gen_mode = IN6_ADDR_GEN_MODE_NONE;
	r = rtnl_build_link_set(nlbatch_tail(b), nlbatch_room(b), ifindex, &chg, err);
	if (r >= 0)
		nlbatch_push(b);
	return r;
}

static int push_iface(struct builder *bd, struct nlbatch *b, struct nslab_node *n,
		      const struct plan_iface *pi, nslab_error *err)
{
	/*
	 * Under RA provisioning the kernel makes a device's link-local itself
	 * (the same EUI-64 address, DAD off as for routers): after a link flap it
	 * comes back, and with it the Router Solicitation that renews SLAAC.
	 */
	bool dad = bd->lab->spec->dad,
	     own_ll = n->pn->kind == PLAN_DEVICE && !dad && !bd->lab->spec->ra;
	int ifindex, r;

	r = push_veth(bd, b, n, pi, &ifindex, err);
	if (r >= 0 && own_ll)
		r = push_no_auto_ll(b, ifindex, err);
	if (r >= 0)
		r = push_link_up(b, ifindex, err);
	if (r >= 0 && own_ll)
		r = push_addr(b, ifindex, &pi->ll6, dad, err);
	if (r < 0 || pi->up_node == 0)
		return r < 0 ? r : push_ix_addrs(b, ifindex, pi, dad, err);
	r = push_addr(b, ifindex, &pi->a4, dad, err);
	if (r >= 0 && !pi->slaac)
		r = push_addr(b, ifindex, &pi->a6, dad, err);
	return r;
}

/*
 * A point-to-point lab's links: the outer ends (made up by the node's batch)
 * get their addresses on their own namespace's socket, one batch per link.
 */
static int build_p2p_peers(struct builder *bd, struct nslab_node *n, nslab_error *err)
{
	const struct plan_node *pn = n->pn;
	bool dad = bd->lab->spec->dad;
	char buf[NL_REQ_BUFSIZ];
	struct nlbatch b;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < pn->n_ifaces; i++) {
		const struct plan_iface *pi = &pn->ifaces[i];

		if (!pi->p2p || i >= ARRAY_SIZE(bd->outer_ifindex))
			continue;
		nlbatch_init(&b, buf, sizeof(buf));
		r = push_addr(&b, bd->outer_ifindex[i], &pi->peer4, dad, err);
		if (r >= 0)
			r = push_addr(&b, bd->outer_ifindex[i], &pi->peer6, dad, err);
		if (r >= 0 && b.count)
			r = nlsock_talk_batch(bd->lab->nodes[pi->up_node].ns->nl, &b, err);
		if (r < 0)
			r = nslab_err_prefix(err, r, "'%s' %s",
					     bd->lab->nodes[pi->up_node].pn->name, pi->peer_name);
	}
	return r;
}

/* Everything inside one node, in one or more batches on the node's socket. */
static int build_node_links(struct builder *bd, struct nslab_node *n, struct nlsock *nl,
			    nslab_error *err)
{
	const struct plan_node *pn = n->pn;
	bool dad = bd->lab->spec->dad;
	struct nlbatch b;
	int r;

	nlbatch_init(&b, bd->batch_buf, sizeof(bd->batch_buf));
	n->next_ifindex = pn->has_bridge ? BRIDGE_IFINDEX + 1 : BRIDGE_IFINDEX;
	r = push_link_up(&b, 1, err);
	if (r >= 0 && pn->has_bridge) {
		r = push_bridge(&b, pn, err);
		if (r >= 0)
			r = push_addr(&b, BRIDGE_IFINDEX, &pn->down4, dad, err);
		if (r >= 0)
			r = push_addr(&b, BRIDGE_IFINDEX, &pn->down6, dad, err);
	}
	for (size_t i = 0; r >= 0 && i < pn->n_ifaces; i++) {
		r = batch_make_room(nl, &b, err);
		if (r >= 0 && i < ARRAY_SIZE(bd->outer_ifindex))
			bd->outer_ifindex[i] = bd->lab->nodes[pn->ifaces[i].up_node].next_ifindex;
		if (r >= 0)
			r = push_iface(bd, &b, n, &pn->ifaces[i], err);
	}
	for (size_t i = 0; r >= 0 && i < pn->n_routes; i++) {
		r = batch_make_room(nl, &b, err);
		if (r >= 0)
			r = push_route(&b, &pn->routes[i], err);
	}
	if (r >= 0 && b.count)
		r = nlsock_talk_batch(nl, &b, err);
	if (r >= 0 && bd->lab->spec->p2p)
		r = build_p2p_peers(bd, n, err);
	return r;
}

static const struct sysctl_kv router_sysctls[] = {
	{ "net/ipv4/ip_forward", "1" },
	{ "net/ipv6/conf/all/forwarding", "1" },
};

/*
 * The lab root hairpins every packet between two routers on the IX: its
 * redirects would only add noise. (A router hairpins only towards a child
 * router on its own bridge, where a redirect is right.)
 */
static const struct sysctl_kv root_sysctls[] = {
	{ "net/ipv4/conf/all/send_redirects", "0" },
	{ "net/ipv4/conf/default/send_redirects", "0" },
};

/*
 * IPv4 settings of a new netns are copied from the host (devconf_inherit_init_net),
 * IPv6 ones reset to defaults: set what a lab relies on, whatever the host has.
 */
static void builder_base_sysctls(struct builder *bd)
{
	static const struct sysctl_kv v4_base[] = {
		{ "net/ipv4/ip_forward", "0" },
		{ "net/ipv4/conf/all/rp_filter", "0" },
		{ "net/ipv4/conf/default/rp_filter", "0" },
	};
	char val[16];

	bd->n_base = 0;
	for (size_t i = 0; i < ARRAY_SIZE(v4_base); i++)
		if (sysctl_read_in_ns(v4_base[i].key, val, sizeof(val), NULL) < 0 ||
		    strncmp(val, v4_base[i].value, 1) != 0)
			bd->base[bd->n_base++] = v4_base[i];
}

/*
 * Regions (lab/regions.c): a route through a region link that is down gives
 * way to the next one (IPv4 needs both "all" and the interface's setting, so
 * "default" too, before the links exist); no redirects, which routers would
 * keep following after the link they point to broke.
 */
static const struct sysctl_kv region_sysctls[] = {
	{ "net/ipv4/conf/all/ignore_routes_with_linkdown", "1" },
	{ "net/ipv4/conf/default/ignore_routes_with_linkdown", "1" },
	{ "net/ipv6/conf/all/ignore_routes_with_linkdown", "1" },
	{ "net/ipv6/conf/default/ignore_routes_with_linkdown", "1" },
	{ "net/ipv4/conf/all/send_redirects", "0" },
	{ "net/ipv4/conf/default/send_redirects", "0" },
};

/* Routers and the root: their kernel-made addresses skip DAD unless the lab asks for it. */
static const struct sysctl_kv no_dad = { "net/ipv6/conf/default/accept_dad", "0" };

/*
 * Devices under RA provisioning solicit again after 1 s rather than 4: the
 * one sent when a link comes up is lost while the bridge port on the other
 * end is still coming up (the kernel's link watch runs a moment later).
 */
static const struct sysctl_kv rs_every_second = {
	"net/ipv6/conf/default/router_solicitation_interval", "1"
};

static int write_sysctls(const struct sysctl_kv *kv, size_t n, nslab_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = sysctl_write_in_ns(kv[i].key, kv[i].value, err);

		if (r < 0)
			return r;
	}
	return 0;
}

static void emit_node(struct nslab_lab *lab, const struct nslab_node *n)
{
	const struct plan_node *pn = n->pn;
	char buf[PREFIX_STRLEN];
	struct jw *w;

	w = evlog_begin(&lab->ev, pn->region		    ? "region_added"
				  : pn->kind == PLAN_ROUTER ? "router_added"
							    : "device_added");
	jw_str(w, "lab", lab->spec->name);
	jw_str(w, "node", pn->name);
	evlog_end(&lab->ev);
	for (size_t i = 0; i < pn->n_ifaces; i++) {
		const struct plan_iface *pi = &pn->ifaces[i];

		w = evlog_begin(&lab->ev, "iface_added");
		jw_str(w, "lab", lab->spec->name);
		jw_str(w, "node", pn->name);
		jw_str(w, "iface", pi->name);
		jw_str(w, "peer",
		       lab->nodes[pi->up_node].pn->kind == PLAN_ROOT
			       ? "ix"
			       : lab->nodes[pi->up_node].pn->name);
		if (prefix_is_set(&pi->a4))
			jw_str(w, "ip4", prefix_format(&pi->a4, true, buf, sizeof(buf)));
		if (prefix_is_set(&pi->a6))
			jw_str(w, "ip6", prefix_format(&pi->a6, true, buf, sizeof(buf)));
		evlog_end(&lab->ev);
	}
}

/*
 * Bridge ports need no IPv6 of their own. With it, each port makes a
 * link-local, sends MLD reports (flooded by its bridge) and holds entries in
 * the kernel's IPv6 neighbour table, which is one table for the whole host
 * (1024 entries by default): a large lab filled it. Set in a bridge owner
 * once its own links exist, so that only the ports made later go without.
 */
static const struct sysctl_kv ports_without_ipv6 = { "net/ipv6/conf/default/disable_ipv6", "1" };

/*
 * Devices solicit routers when their link comes up; a router answering to RS
 * records each device in that same host-wide table (fresh entries, which its
 * garbage collector spares). Routes here are static, so the bridge side of a
 * router leaves RS alone: IPv6 forwarding stays on (conf/all), only the
 * per-interface router role (RS, RA, the NA router flag) is off on br0.
 */
static const struct sysctl_kv bridge_not_a_router = { "net/ipv6/conf/br0/forwarding", "0" };

/*
 * A device under RA provisioning takes its default route from the RA on its
 * default_via interface only: every other interface hears a router too.
 */
static int ra_device_defrtr(const struct nslab_lab *lab, const struct plan_node *pn,
			    nslab_error *err)
{
	char key[64];
	int r = 0;

	if (!lab->spec->ra || pn->kind != PLAN_DEVICE || pn->n_ifaces < 2)
		return 0;
	for (size_t i = 0; r >= 0 && i < pn->n_ifaces; i++) {
		if ((ssize_t)i == lab_node_primary_iface(pn) || !pn->ifaces[i].slaac)
			continue;
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra_defrtr", pn->ifaces[i].name);
		r = sysctl_write_in_ns(key, "0", err);
	}
	return r;
}

/*
 * Once every device is plugged in: each router's first RA (later ones answer
 * RSs), then each device's wait for the default route it brings. An RA can be
 * lost while a bridge port is still coming up, and without a supervisor (the
 * C API alone) no later solicitation is answered: the router advertises again
 * until the route is there (lab_ra_wait_default(), as for a node added
 * later). Best effort: the lab is built either way.
 */
static int ra_send_all(struct nslab_lab *lab, nslab_error *err)
{
	int r = 0;

	for (size_t i = 1; r >= 0 && i < lab->plan->n_nodes; i++)
		if (lab->nodes[i].ra_fd >= 0)
			r = ra_send(lab->nodes[i].ra_fd, lab->nodes[i].pn, err);
	if (r >= 0)
		lab_ra_wait_devices(lab, 1);
	return r;
}

struct inside_ctx {
	struct builder *bd;
	struct nslab_node *n;
};

/* Inside the node's new namespace: its links; then, in a bridge owner, no IPv6 on later ports. */
static int build_inside(struct netns *ns, void *data, nslab_error *err)
{
	struct inside_ctx *ctx = data;
	int r = build_node_links(ctx->bd, ctx->n, ns->nl, err);

	if (r >= 0 && ctx->n->pn->has_bridge)
		r = sysctl_write_in_ns(ports_without_ipv6.key, ports_without_ipv6.value, err);
	if (r >= 0 && ctx->n->pn->has_bridge)
		r = sysctl_write_in_ns(bridge_not_a_router.key, bridge_not_a_router.value, err);
	if (r >= 0 && ctx->bd->lab->spec->ra && ctx->n->pn->has_bridge &&
	    ctx->n->pn->kind == PLAN_ROUTER && ctx->n->pn->down6.family)
		r = ra_open_in_ns(BRIDGE_IFINDEX, &ctx->n->ra_fd, err);
	if (r >= 0)
		r = ra_device_defrtr(ctx->bd->lab, ctx->n->pn, err);
	return r;
}

static int build_node(struct builder *bd, struct nslab_node *n, nslab_error *err)
{
	const struct plan_node *pn = n->pn;
	const struct lab_spec *spec = bd->lab->spec;
	struct sysctl_kv kv[ARRAY_SIZE(bd->base) + ARRAY_SIZE(router_sysctls) +
			    ARRAY_SIZE(region_sysctls) + 2 + LAB_NODE_SYSCTLS_MAX];
	size_t nkv = 0;
	int r;

	for (size_t i = 0; i < bd->n_base; i++)
		if (!(pn->forwarding && strcmp(bd->base[i].key, "net/ipv4/ip_forward") == 0))
			kv[nkv++] = bd->base[i];
	for (size_t i = 0; pn->forwarding && i < ARRAY_SIZE(router_sysctls); i++)
		kv[nkv++] = router_sysctls[i];
	/* and devices under RA provisioning: their SLAAC addresses would wait a second;
	 * and a point-to-point router's ports, whose link-locals the kernel makes */
	if ((pn->forwarding || spec->ra || (spec->p2p && pn->kind == PLAN_ROUTER)) && !spec->dad)
		kv[nkv++] = no_dad;
	for (size_t i = 0; i < spec->n_node_sysctls && i < LAB_NODE_SYSCTLS_MAX; i++)
		kv[nkv++] = spec->node_sysctls[i];
	for (size_t i = 0; pn->region && i < ARRAY_SIZE(region_sysctls); i++)
		kv[nkv++] = region_sysctls[i];
	if (!pn->forwarding && bd->lab->spec->ra)
		kv[nkv++] = rs_every_second;
	r = netns_new(bd->home_fd, kv, nkv, build_inside, &(struct inside_ctx){ bd, n }, &n->ns,
		      err);
	if (r < 0)
		return nslab_err_prefix(err, r, "%s '%s'",
					pn->region		  ? "region"
					: pn->kind == PLAN_ROUTER ? "router"
								  : "device",
					pn->name);
	if (!bd->live) /* a node added at run time has one event of its own (node-ctl.c) */
		emit_node(bd->lab, n);
	log_debugf(&bd->lab->log, "%s '%s': namespace, %zu interface(s), %zu route(s)",
		   pn->kind == PLAN_ROUTER ? "router" : "device", pn->name, pn->n_ifaces,
		   pn->n_routes);
	return bd->nft && router_nft_wanted(bd->lab, pn) ? router_nft_queue_push(bd->nft, n, err)
							 : 0;
}

/* Step 2: the lab root becomes this thread's namespace for good. */
static int build_root(struct builder *bd, nslab_error *err)
{
	struct nslab_node *root = &bd->lab->nodes[0];
	int r;

	root->ns = calloc(1, sizeof(*root->ns));
	if (!root->ns)
		return nslab_err_set(err, ENOMEM, "allocate lab root");
	root->ns->fd = -1;
	if (unshare(CLONE_NEWNET) < 0)
		return nslab_err_set(err, errno, "lab root: unshare(CLONE_NEWNET)");
	r = netns_open_current(&root->ns->fd, err);
	/* a point-to-point lab's root has no links: only the home of the setns round trips */
	if (r >= 0 && !bd->lab->spec->p2p)
		r = nlsock_open(NETLINK_ROUTE, &root->ns->nl, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "lab root");
	bd->home_fd = root->ns->fd;
	builder_base_sysctls(bd);
	if (bd->lab->spec->p2p) /* nothing passes it: no settings */
		return 0;
	r = write_sysctls(bd->base, bd->n_base, err);
	if (r >= 0)
		r = write_sysctls(router_sysctls, ARRAY_SIZE(router_sysctls), err);
	if (r >= 0)
		r = write_sysctls(root_sysctls, ARRAY_SIZE(root_sysctls), err);
	if (r >= 0 && !bd->lab->spec->dad)
		r = write_sysctls(&no_dad, 1, err);
	if (r >= 0)
		r = build_node_links(bd, root, root->ns->nl, err);
	if (r >= 0)
		r = sysctl_write_in_ns(ports_without_ipv6.key, ports_without_ipv6.value, err);
	if (r == -EPERM && bd->lab->rootless)
		return nslab_err_prefix(err, r, "lab root: %s", userns_eperm_hint());
	return r < 0 ? nslab_err_prefix(err, r, "lab root") : 0;
}

/*
 * Step 1: a mount namespace whose /etc/hosts names the lab's nodes. The file
 * lives on a tmpfs mounted for a moment over /tmp *inside the new namespace*
 * and unmounted once the file is bound over /etc/hosts: nothing is written to
 * any disk, and nothing can be left behind by a SIGKILL. (A memfd or an
 * O_TMPFILE file cannot be the source of a bind mount.)
 */
static int write_hosts_file(const char *path, const char *text, nslab_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return nslab_err_set(err, errno, "create the lab's hosts file");
	n = write(fd, text, len);
	if (n != (ssize_t)len) /* errno means something only if write() failed */
		return nslab_err_set(err, n < 0 ? errno : EIO, "write the lab's hosts file");
	return 0;
}

/*
 * The lab's resolv.conf over the host's: lookups go to the lab's DNS
 * (lab/labdns.h), never to a host resolver no namespace of the lab reaches
 * (a 5 s timeout per name). A host without /etc/resolv.conf (or with a
 * dangling link there) keeps it so: the resolver then asks the lab's own
 * loopback, which refuses at once.
 */
static int bind_resolv_conf(const struct nslab_lab *lab, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r = lab_resolv_text(lab, &text, err);

	if (r >= 0)
		r = write_hosts_file("/tmp/resolv.conf", text, err);
	if (r >= 0 && mount("/tmp/resolv.conf", "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0) {
		if (errno != ENOENT)
			return nslab_err_set(err, errno,
					     "bind the lab's resolv.conf over /etc/resolv.conf");
		log_debugf(&lab->log, "no /etc/resolv.conf on the host: the lab's is not bound");
	}
	return r;
}

static int build_mntns(struct builder *bd, nslab_error *err)
{
	_cleanup_free_ char *hosts = NULL;
	int r;

	r = lab_hosts_text(bd->lab, &hosts, err);
	if (r < 0)
		return r;
	if (unshare(CLONE_NEWNS) < 0)
		return nslab_err_set(err, errno, "unshare(CLONE_NEWNS)");
	/* slave, as `ip netns exec`: host mounts made after `up` show in the lab too */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return nslab_err_set(err, errno, "make / a slave in the lab's mount namespace");
	if (mount("nslab", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0)
		return nslab_err_set(err, errno, "mount a tmpfs for the lab's hosts file");
	r = write_hosts_file("/tmp/hosts", hosts, err);
	if (r >= 0 && mount("/tmp/hosts", "/etc/hosts", NULL, MS_BIND, NULL) < 0)
		r = nslab_err_set(err, errno, "bind the lab's hosts file over /etc/hosts");
	if (r >= 0)
		r = bind_resolv_conf(bd->lab, err);
	/* kept to rewrite the names at run time (nslab_lab_set_dns()): every mount
	 * of it, the nodes' own mount namespaces' too, shows this one inode */
	if (r >= 0) {
		bd->lab->hosts_fd = open("/tmp/hosts", O_RDWR | O_CLOEXEC);
		if (bd->lab->hosts_fd < 0)
			r = nslab_err_set(err, errno, "open the lab's hosts file");
	}
	(void)umount2("/tmp", MNT_DETACH);
	if (r < 0)
		return r;
	bd->lab->mntns_fd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (bd->lab->mntns_fd < 0)
		return nslab_err_set(err, errno, "open /proc/thread-self/ns/mnt");
	return 0;
}

/* Whether a node from first on has tables to load: without one, no loading thread is started. */
static bool any_router_nft(const struct nslab_lab *lab, size_t first)
{
	for (size_t i = first; i < lab->plan->n_nodes; i++)
		if (router_nft_wanted(lab, &lab->plan->nodes[i]))
			return true;
	return false;
}

static int build_all(struct builder *bd, nslab_error *err)
{
	struct nslab_lab *lab = bd->lab;
	int r = lab->spec->bare ? 0 : build_mntns(bd, err);

	if (r >= 0) {
		log_debugf(&lab->log, "mount namespace with the lab's /etc/hosts ready");
		r = build_root(bd, err);
	}
	if (r >= 0)
		log_debugf(&lab->log, "lab root with the IX bridge ready");
	if (r >= 0 && any_router_nft(lab, 1))
		r = router_nft_queue_start(lab, lab->plan->n_nodes, &bd->nft, err);
	lab->ev.flush_each = false;
	for (size_t i = 1; r >= 0 && i < lab->plan->n_nodes; i++)
		r = build_node(bd, &lab->nodes[i], err);
	/* every router's tables in before the lab counts as built (or nothing more loaded) */
	if (r < 0)
		(void)router_nft_queue_finish(bd->nft, true, NULL);
	else
		r = router_nft_queue_finish(bd->nft, false, err);
	if (r >= 0 && bd->ix_batch.count) /* the IX ports still pending (push_ix_port()) */
		r = nlsock_talk_batch(lab->nodes[0].ns->nl, &bd->ix_batch, err);
	if (r >= 0 && lab->spec->ra)
		r = ra_send_all(lab, err);
	lab->ev.flush_each = true;
	evlog_flush(&lab->ev);
	return r;
}

static void *build_thread(void *arg)
{
	struct builder *bd = arg;

	bd->result = build_all(bd, &bd->err);
	return NULL;
}

int lab_build(struct nslab_lab *lab, nslab_error *err)
{
	_cleanup_free_ struct builder *bd = calloc(1, sizeof(*bd));
	pthread_t tid;
	int r;

	if (!bd)
		return nslab_err_set(err, ENOMEM, "allocate builder");
	bd->lab = lab;
	bd->home_fd = -1;
	nlbatch_init(&bd->ix_batch, bd->ix_buf, sizeof(bd->ix_buf));
	r = pthread_create(&tid, NULL, build_thread, bd);
	if (r != 0)
		return nslab_err_set(err, r, "start the build thread");
	(void)pthread_join(tid, NULL);
	if (bd->result < 0) {
		if (err)
			*err = bd->err;
		lab_teardown(lab);
		return bd->result;
	}
	return 0;
}

void lab_teardown(struct nslab_lab *lab)
{
	/* the link thread uses the namespaces' sockets: it stops before they close */
	lab_nat64_stop(lab); /* on the link thread: first */
	lab_links_stop(lab);
	lab_regions_stop(lab);
	/* first every process (pid 1 takes its whole PID namespace along) */
	pidns_init_stop(&lab->init);
	/* devices first, the lab root last: veth peers die with either end anyway */
	for (size_t i = lab->plan ? lab->plan->n_nodes : 0; i-- > 0;)
		lab_node_close(&lab->nodes[i]);
	lab->mntns_fd = close_fd(lab->mntns_fd);
	lab->hosts_fd = close_fd(lab->hosts_fd);
}

struct node_mntns_req {
	int lab_mntns, netns;
	nslab_error err;
	int r; /* the fd, or -errno */
};

/*
 * On a thread of its own (it leaves the process's filesystem context first:
 * setns(CLONE_NEWNS) refuses a thread that shares it), in the node's network
 * namespace so that the new sysfs is the node's.
 */
static int node_mntns_make(int lab_mntns, int netns, nslab_error *err)
{
	/* the lab's /proc is its PID namespace's, where this thread has no entry */
	_cleanup_close_ int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (proc < 0)
		return nslab_err_set(err, errno, "open /proc");
	if (unshare(CLONE_FS) < 0 || setns(lab_mntns, CLONE_NEWNS) < 0 ||
	    setns(netns, CLONE_NEWNET) < 0 || unshare(CLONE_NEWNS) < 0)
		return nslab_err_set(err, errno, "enter the lab's mounts");
	(void)umount2("/sys", MNT_DETACH); /* a locked one (rootless) stays, under the new */
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return nslab_err_set(err, errno, "mount a /sys of the node");
	fd = openat(proc, "thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno, "open /proc/thread-self/ns/mnt");
	return fd;
}

static void *node_mntns_thread(void *arg)
{
	struct node_mntns_req *q = arg;

	q->r = node_mntns_make(q->lab_mntns, q->netns, &q->err);
	return NULL;
}

int lab_node_mntns(struct nslab_lab *lab, struct nslab_node *node, nslab_error *err)
{
	struct node_mntns_req q = { .lab_mntns = lab->mntns_fd, .netns = node->ns->fd };
	pthread_t tid;
	int r;

	if (node->mntns_fd >= 0)
		return node->mntns_fd;
	r = pthread_create(&tid, NULL, node_mntns_thread, &q);
	if (r != 0)
		return nslab_err_set(err, r, "start a thread");
	(void)pthread_join(tid, NULL);
	if (q.r < 0) {
		if (err)
			*err = q.err;
		return nslab_err_prefix(err, q.r, "node '%s'", node->idx ? node->pn->name : "ix");
	}
	node->mntns_fd = fd_move_high(q.r);
	return node->mntns_fd;
}

static int max_ifindex_cb(const struct rtnl_link_info *info, void *data)
{
	int *next = data;

	if (info->ifindex >= *next)
		*next = info->ifindex + 1;
	return 0;
}

/*
 * In the lab root, as build_all(): the new nodes, then their IX ports. The
 * upstreams' next ifindex is past every link they have now (a link
 * condition or a removed interface took some).
 */
static int build_live_in_root(void *data, nslab_error *err)
{
	static const struct sysctl_kv v4_base[] = {
		{ "net/ipv4/ip_forward", "0" },
		{ "net/ipv4/conf/all/rp_filter", "0" },
		{ "net/ipv4/conf/default/rp_filter", "0" },
	};
	struct builder *bd = data;
	struct nslab_lab *lab = bd->lab;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(v4_base); i++)
		bd->base[bd->n_base++] = v4_base[i];
	for (size_t i = bd->first; r >= 0 && i < lab->plan->n_nodes; i++)
		for (size_t k = 0; r >= 0 && k < lab->plan->nodes[i].n_ifaces; k++) {
			struct nslab_node *up = &lab->nodes[lab->plan->nodes[i].ifaces[k].up_node];

			if (up->idx < bd->first)
				r = rtnl_link_dump(up->ns->nl, max_ifindex_cb, &up->next_ifindex,
						   err);
		}
	/* the new routers' tables loaded as build_all() loads them (build_node() queues them) */
	if (r >= 0 && any_router_nft(lab, bd->first))
		r = router_nft_queue_start(lab, lab->plan->n_nodes - bd->first, &bd->nft, err);
	for (size_t i = bd->first; r >= 0 && i < lab->plan->n_nodes; i++)
		r = build_node(bd, &lab->nodes[i], err);
	if (bd->nft && r < 0)
		(void)router_nft_queue_finish(bd->nft, true, NULL);
	else if (bd->nft)
		r = router_nft_queue_finish(bd->nft, false, err);
	if (r >= 0 && bd->ix_batch.count)
		r = nlsock_talk_batch(lab->nodes[0].ns->nl, &bd->ix_batch, err);
	return r;
}

int lab_build_nodes_live(struct nslab_lab *lab, size_t first, nslab_error *err)
{
	_cleanup_free_ struct builder *bd = calloc(1, sizeof(*bd));
	int r;

	if (!bd)
		return nslab_err_set(err, ENOMEM, "allocate builder");
	bd->lab = lab;
	bd->live = true;
	bd->first = first;
	bd->home_fd = lab->nodes[0].ns->fd;
	nlbatch_init(&bd->ix_batch, bd->ix_buf, sizeof(bd->ix_buf));
	r = netns_call(bd->home_fd, build_live_in_root, bd, err);
	if (r < 0)
		for (size_t i = first; i < lab->plan->n_nodes; i++)
			lab_node_close(&lab->nodes[i]);
	return r;
}

void lab_node_close(struct nslab_node *n)
{
	n->ns = netns_free(n->ns);
	n->mntns_fd = close_fd(n->mntns_fd);
	n->ra_fd = close_fd(n->ra_fd);
	n->nft = nftbl_ctx_free(n->nft);
}

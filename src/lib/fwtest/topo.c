/* SPDX-License-Identifier: MIT */
/*
 * fwtest/topo: direct and gateway topologies (see topo.h).
 *
 * DOC: build steps (on a thread of its own, via netns_call())
 * 1. one namespace per node (netns_new(): fd, rtnetlink socket, sysctls:
 *    no DAD, no ICMP rate limit, forwarding on the router)
 * 2. one veth per link, created on the first node's socket with both ends
 *    placed and given ifindexes of our choosing (lo is 1, eth0 2, eth1 3)
 * 3. per node, one batch: lo and its ends up, addresses (no DAD), default routes
 */
#include "fwtest/topo.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "core/hash.h"
#include "link/engine.h"
#include "link/wire.h"
#include "nl/rtnl.h"
#include "nl/sysctl.h"

struct node_def {
	const char *name;
	struct {
		const char *v4, *v6;
	} ifaces[FW_IFACE_MAX];
	size_t n_ifaces;
	const char *gw4, *gw6; /* default route, or NULL */
	bool forward;
};

/* peers: (node, iface) pairs joined by a veth */
struct link_def {
	size_t a, a_if, b, b_if;
};

static const struct node_def direct_nodes[] = {
	{ "client", { { "10.0.0.1/24", "fd00::1/64" } }, 1, NULL, NULL, false },
	{ "target", { { "10.0.0.2/24", "fd00::2/64" } }, 1, NULL, NULL, false },
};
static const struct link_def direct_links[] = { { 0, 0, 1, 0 } };

static const struct node_def gateway_nodes[] = {
	{ "client", { { "10.0.1.1/24", "fd00:1::1/64" } }, 1, "10.0.1.2", "fd00:1::2", false },
	{ "router",
	  { { "10.0.1.2/24", "fd00:1::2/64" }, { "10.0.2.1/24", "fd00:2::1/64" } },
	  2,
	  NULL,
	  NULL,
	  true },
	{ "server", { { "10.0.2.2/24", "fd00:2::2/64" } }, 1, "10.0.2.1", "fd00:2::1", false },
};
static const struct link_def gateway_links[] = { { 0, 0, 1, 0 }, { 1, 1, 2, 0 } };

struct topo_build {
	struct fw_topo *t;
	const struct node_def *defs;
	const struct link_def *links;
	size_t n_links;
	int home_fd;
};

struct fw_topo *fw_topo_free(struct fw_topo *t)
{
	if (!t)
		return NULL;
	/* sockets closed only: the sinks and filters go with the namespaces */
	t->wire = wire_free(t->wire, false);
	for (size_t i = 0; t->nodes && i < t->n; i++)
		netns_free(t->nodes[i].ns);
	free(t->nodes);
	nslab_lab_free(t->lab);
	free(t);
	return NULL;
}

/*
 * The kernel rate-limits the ICMP errors it sends, per peer (icmp_ratelimit,
 * ipv6 icmp/ratelimit: about six rejects in a row to one address, then
 * silence) and per namespace (icmp_msgs_per_sec/burst: 50 at once). A reject
 * test asserts the error, so no test namespace may swallow one: a reply that
 * depends on how many tests ran before is not a result. All four are per
 * network namespace (writable rootless in our own user namespace).
 */
static const struct sysctl_kv node_sysctls[] = {
	{ "net/ipv4/icmp_ratelimit", "0" },
	{ "net/ipv6/icmp/ratelimit", "0" },
	{ "net/ipv4/icmp_msgs_per_sec", "1000000" },
	{ "net/ipv4/icmp_msgs_burst", "1000000" },
	{ "net/ipv6/conf/all/accept_dad", "0" },
	{ "net/ipv6/conf/default/accept_dad", "0" },
	/* forwarding last: only routers take it */
	{ "net/ipv6/conf/all/forwarding", "1" },
	{ "net/ipv4/ip_forward", "1" },
};
#define N_ICMP_SYSCTLS 4 /* the first ones: all that lab nodes take (their builder did the rest) */

static int make_node(struct topo_build *b, size_t i, nslab_error *err)
{
	const struct node_def *d = &b->defs[i];
	struct fw_node *n = &b->t->nodes[i];
	int r;

	snprintf(n->name, sizeof(n->name), "%s", d->name);
	n->n_ifaces = d->n_ifaces;
	for (size_t k = 0; k < d->n_ifaces; k++) {
		struct fw_iface *fi = &n->ifaces[k];

		snprintf(fi->name, sizeof(fi->name), "eth%zu", k);
		fi->ifindex = 2 + (int)k;
		r = prefix_parse(d->ifaces[k].v4, true, &fi->v4, err);
		if (r >= 0)
			r = prefix_parse(d->ifaces[k].v6, true, &fi->v6, err);
		if (r < 0)
			return r;
	}
	r = netns_new(b->home_fd, node_sysctls, ARRAY_SIZE(node_sysctls) - (d->forward ? 0 : 2),
		      NULL, NULL, &n->ns, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "node '%s'", d->name);
	b->t->n = i + 1;
	return 0;
}

static int make_link(struct topo_build *b, const struct link_def *l, nslab_error *err)
{
	struct fw_node *na = &b->t->nodes[l->a], *nb = &b->t->nodes[l->b];
	struct rtnl_veth_end a = { .name = na->ifaces[l->a_if].name,
				   .netns_fd = -1,
				   .ifindex = na->ifaces[l->a_if].ifindex };
	struct rtnl_veth_end peer = { .name = nb->ifaces[l->b_if].name,
				      .netns_fd = nb->ns->fd,
				      .ifindex = nb->ifaces[l->b_if].ifindex };
	char buf[NL_REQ_BUFSIZ];
	int r = rtnl_build_veth(buf, sizeof(buf), &a, &peer, err);

	if (r >= 0)
		r = nlsock_talk(na->ns->nl, (struct nlmsghdr *)buf, NULL, NULL, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "veth %s:%s - %s:%s", na->name, a.name, nb->name,
					peer.name);
	return 0;
}

static int push_up(struct nlbatch *q, int ifindex, nslab_error *err)
{
	struct rtnl_link_change chg = RTNL_LINK_CHANGE_KEEP;
	int r;

	chg.up = 1;
	r = rtnl_build_link_set(nlbatch_tail(q), nlbatch_room(q), ifindex, &chg, err);
	if (r >= 0)
		nlbatch_push(q);
	return r;
}

static int push_addr(struct nlbatch *q, int ifindex, const struct nslab_prefix *p, nslab_error *err)
{
	int r = rtnl_build_addr(nlbatch_tail(q), nlbatch_room(q), RTM_NEWADDR, ifindex, p,
				p->family == AF_INET6 ? IFA_F_NODAD : 0, err);

	if (r >= 0)
		nlbatch_push(q);
	return r;
}

static int push_default(struct nlbatch *q, const char *gw, nslab_error *err)
{
	struct rtnl_route rt = { 0 };
	int r = prefix_parse(gw, false, &rt.via, err);

	if (r < 0)
		return r;
	rt.dst.family = rt.via.family;
	rt.oif = 2;
	r = rtnl_build_route(nlbatch_tail(q), nlbatch_room(q), RTM_NEWROUTE, &rt, err);
	if (r >= 0)
		nlbatch_push(q);
	return r;
}

static int configure_node(struct topo_build *b, size_t i, nslab_error *err)
{
	const struct node_def *d = &b->defs[i];
	struct fw_node *n = &b->t->nodes[i];
	char buf[NL_REQ_BUFSIZ];
	struct nlbatch q;
	int r = 0;

	nlbatch_init(&q, buf, sizeof(buf));
	r = push_up(&q, 1, err);
	for (size_t k = 0; r >= 0 && k < n->n_ifaces; k++) {
		r = push_up(&q, n->ifaces[k].ifindex, err);
		if (r >= 0)
			r = push_addr(&q, n->ifaces[k].ifindex, &n->ifaces[k].v4, err);
		if (r >= 0)
			r = push_addr(&q, n->ifaces[k].ifindex, &n->ifaces[k].v6, err);
	}
	if (r >= 0 && d->gw4)
		r = push_default(&q, d->gw4, err);
	if (r >= 0 && d->gw6)
		r = push_default(&q, d->gw6, err);
	if (r >= 0)
		r = nlsock_talk_batch(n->ns->nl, &q, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	return 0;
}

static int topo_build_fn(void *data, nslab_error *err)
{
	struct topo_build *b = data;
	size_t n = b->t->kind == FW_TOPO_DIRECT ? 2 : 3;
	int r = 0;

	/*
	 * A scratch namespace of our own is the home of the setns round trips:
	 * rootless, the host's cannot be re-entered (no CAP_SYS_ADMIN over its
	 * owner). It goes with this thread.
	 */
	if (unshare(CLONE_NEWNET) < 0)
		r = nslab_err_set(err, errno, "unshare(CLONE_NEWNET)");
	if (r >= 0)
		r = netns_open_current(&b->home_fd, err);

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = make_node(b, i, err);
	for (size_t i = 0; r >= 0 && i < b->n_links; i++)
		r = make_link(b, &b->links[i], err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = configure_node(b, i, err);
	if (b->home_fd >= 0)
		(void)close(b->home_fd);
	return r;
}

/* One direction of a conditioned link: the egress of node's interface iface. */
static int condition_dir(struct fw_topo *t, size_t node, size_t iface, const nslab_link_dir *d,
			 uint64_t seed, nslab_error *err)
{
	struct fw_node *n = &t->nodes[node];
	char what[96];
	struct wire_port_spec s = { n->ns->fd, n->ns->nl, n->ifaces[iface].ifindex, what };
	struct wire_port *port;

	if (nslab_link_dir_is_none(d))
		return 0;
	snprintf(what, sizeof(what), "%s %s", n->name, n->ifaces[iface].name);
	return wire_port_add(t->wire, &s, d, seed, &port, err);
}

/*
 * One link of the table gets a suite's condition through the wire backend,
 * seeded by the condition's seed or by the name of the link's "device" end
 * (the node whose egress is up), so a suite's losses repeat. dev and up_dev
 * name that end: the client's link is the client's (up: what the client
 * sends), the server's link the server's (up: what the server sends), as a
 * lab file's device uplinks.
 */
static int condition_link(struct fw_topo *t, const struct link_def *l, bool dev_is_a,
			  const nslab_link_condition *c, nslab_error *err)
{
	size_t dev = dev_is_a ? l->a : l->b, dev_if = dev_is_a ? l->a_if : l->b_if;
	size_t peer = dev_is_a ? l->b : l->a, peer_if = dev_is_a ? l->b_if : l->a_if;
	struct fw_node *n = &t->nodes[dev];
	uint64_t seed = c->has_seed
				? c->seed
				: hash_str(hash_str(hash_seed(0), n->name), n->ifaces[dev_if].name);
	int r = t->wire ? 0 : wire_new(&t->wire, err);

	if (r >= 0)
		r = condition_dir(t, dev, dev_if, &c->up, wire_dir_seed(seed, true), err);
	if (r >= 0)
		r = condition_dir(t, peer, peer_if, &c->down, wire_dir_seed(seed, false), err);
	return r < 0 ? nslab_err_prefix(err, r, "condition the %s's link", n->name) : 0;
}

int fw_topo_new(enum fw_topology kind, const nslab_link_condition *link,
		const nslab_link_condition *server_link, struct fw_topo **ret, nslab_error *err)
{
	_cleanup_(fw_topo_freep) struct fw_topo *t = calloc(1, sizeof(*t));
	struct topo_build b = { .t = t, .home_fd = -1 };
	int r;

	if (!t)
		return nslab_err_set(err, ENOMEM, "allocate a topology");
	if (kind != FW_TOPO_DIRECT && kind != FW_TOPO_GATEWAY)
		return nslab_err_setx(err, EINVAL, "topology %d is not built here", (int)kind);
	t->kind = kind;
	t->nodes = calloc(3, sizeof(*t->nodes));
	if (!t->nodes)
		return nslab_err_set(err, ENOMEM, "allocate a topology");
	b.defs = kind == FW_TOPO_DIRECT ? direct_nodes : gateway_nodes;
	b.links = kind == FW_TOPO_DIRECT ? direct_links : gateway_links;
	b.n_links = kind == FW_TOPO_DIRECT ? 1 : 2;
	t->client_node = 0;
	t->rules_node = 1;
	t->server_node = kind == FW_TOPO_DIRECT ? 1 : 2;
	r = netns_call(-1, topo_build_fn, &b, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "build the %s topology",
					kind == FW_TOPO_DIRECT ? "direct" : "gateway");
	if (server_link && kind != FW_TOPO_GATEWAY)
		return nslab_err_setx(err, EINVAL, "only the gateway topology has a server's link");
	if (link && (r = condition_link(t, &b.links[0], true, link, err)) < 0)
		return r;
	/* gateway: router eth1 (a) to server eth0 (b), the server being the device end */
	if (server_link && (r = condition_link(t, &b.links[1], false, server_link, err)) < 0)
		return r;
	*ret = TAKE_PTR(t);
	return 0;
}

const char *fw_topo_builtin_node(enum fw_topology kind, size_t i, size_t *ret_n_ifaces)
{
	const struct node_def *defs = kind == FW_TOPO_DIRECT ? direct_nodes : gateway_nodes;
	size_t n = kind == FW_TOPO_DIRECT    ? ARRAY_SIZE(direct_nodes)
		   : kind == FW_TOPO_GATEWAY ? ARRAY_SIZE(gateway_nodes)
					     : 0;

	if (i >= n)
		return NULL;
	*ret_n_ifaces = defs[i].n_ifaces;
	return defs[i].name;
}

struct fw_node *fw_topo_node(struct fw_topo *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].name, name) == 0)
			return &t->nodes[i];
	return NULL;
}

const struct nslab_prefix *fw_node_addr(const struct fw_node *n, int family)
{
	for (size_t k = 0; k < n->n_ifaces; k++) {
		const struct nslab_prefix *p =
			family == AF_INET ? &n->ifaces[k].v4 : &n->ifaces[k].v6;

		if (p->family == family)
			return p;
	}
	return NULL;
}

struct fw_node *fw_topo_node_by_addr(struct fw_topo *t, const uint8_t *a, int family)
{
	size_t alen = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < t->nodes[i].n_ifaces; k++) {
			const struct nslab_prefix *p = family == AF_INET
							       ? &t->nodes[i].ifaces[k].v4
							       : &t->nodes[i].ifaces[k].v6;

			if (p->family == family && memcmp(p->addr, a, alen) == 0)
				return &t->nodes[i];
		}
	return NULL;
}

/* Lab topologies */

struct lab_ifindex {
	struct fw_node *node;
};

/* Inside a lab node: its interfaces' indexes, and no ICMP rate limit (as make_node()). */
static int lab_ifindex_fn(void *data, nslab_error *err)
{
	struct fw_node *n = ((struct lab_ifindex *)data)->node;

	for (size_t k = 0; k < N_ICMP_SYSCTLS; k++) {
		int r = sysctl_write_in_ns(node_sysctls[k].key, node_sysctls[k].value, err);

		if (r < 0)
			return nslab_err_prefix(err, r, "node '%s'", n->name);
	}
	for (size_t k = 0; k < n->n_ifaces; k++) {
		n->ifaces[k].ifindex = (int)if_nametoindex(n->ifaces[k].name);
		if (!n->ifaces[k].ifindex)
			return nslab_err_set(err, errno, "node '%s': interface '%s'", n->name,
					     n->ifaces[k].name);
	}
	return 0;
}

static void lab_addr(const nslab_node *ln, const char *iface, int family, struct nslab_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];

	if (nslab_node_addr(ln, iface, family, buf, sizeof(buf), NULL) < 0 ||
	    prefix_parse(buf, false, p, NULL) < 0)
		*p = (struct nslab_prefix){ 0 };
}

static int lab_node(struct fw_topo *t, size_t i, nslab_error *err)
{
	nslab_node *ln = nslab_lab_node_at(t->lab, i);
	struct fw_node *n = &t->nodes[i];
	struct lab_ifindex q = { n };
	int fd;

	snprintf(n->name, sizeof(n->name), "%s", nslab_node_name(ln));
	n->n_ifaces = nslab_node_iface_count(ln);
	if (n->n_ifaces > FW_IFACE_MAX)
		return nslab_err_setx(err, E2BIG, "node '%s': more than %d interfaces", n->name,
				      FW_IFACE_MAX);
	for (size_t k = 0; k < n->n_ifaces; k++) {
		const char *ifname = nslab_node_iface_name(ln, k);

		snprintf(n->ifaces[k].name, sizeof(n->ifaces[k].name), "%s", ifname);
		lab_addr(ln, ifname, AF_INET, &n->ifaces[k].v4);
		lab_addr(ln, ifname, AF_INET6, &n->ifaces[k].v6);
	}
	n->ns = calloc(1, sizeof(*n->ns));
	if (!n->ns)
		return nslab_err_set(err, ENOMEM, "node '%s'", n->name);
	t->n = i + 1; /* fw_topo_free() frees it from here on */
	fd = fd_move_high(fcntl(nslab_node_netns_fd(ln), F_DUPFD_CLOEXEC, 3));
	n->ns->fd = fd;
	if (fd < 0)
		return nslab_err_set(err, errno, "node '%s': namespace fd", n->name);
	return netns_call(fd, lab_ifindex_fn, &q, err);
}

static size_t first_device_but(const struct fw_topo *t, size_t skip)
{
	for (size_t i = 0; i < t->n; i++)
		if (i != skip && nslab_node_kind(nslab_lab_node_at(t->lab, i)) == NSLAB_NODE_DEVICE)
			return i;
	return skip ? 0 : (t->n > 1 ? 1 : 0);
}

int fw_topo_new_lab(const char *path, const char *rules_in, struct fw_topo **ret, nslab_error *err)
{
	_cleanup_(fw_topo_freep) struct fw_topo *t = calloc(1, sizeof(*t));
	size_t n;
	int r;

	if (!t)
		return nslab_err_set(err, ENOMEM, "allocate a topology");
	t->kind = FW_TOPO_LAB;
	r = nslab_lab_from_file(path, &t->lab, err);
	if (r >= 0)
		r = nslab_lab_build(t->lab, err);
	if (r < 0)
		return r;
	n = nslab_lab_node_count(t->lab);
	if (n > FW_LAB_NODE_MAX)
		return nslab_err_setx(err, E2BIG,
				      "%s: %zu nodes; firewall tests take labs of at most %d", path,
				      n, FW_LAB_NODE_MAX);
	t->nodes = calloc(n ? n : 1, sizeof(*t->nodes));
	if (!t->nodes)
		return nslab_err_set(err, ENOMEM, "allocate a topology");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = lab_node(t, i, err);
	if (r < 0)
		return r;
	if (!fw_topo_node(t, rules_in))
		return nslab_err_setx(err, EINVAL, "%s: no node '%s' (rules_in)", path, rules_in);
	t->rules_node = (size_t)(fw_topo_node(t, rules_in) - t->nodes);
	t->server_node = t->rules_node;
	t->client_node = first_device_but(t, t->rules_node);
	*ret = TAKE_PTR(t);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * fwtest/topo: direct, gateway and lab topologies (see topo.h), all built by
 * the lab builder (lab/build.c).
 *
 * DOC: direct and gateway are point-to-point lab specs made here (lab_spec
 * p2p and bare: no IX, no bridges, no mount or PID namespace, see
 * lab/spec.h): the node that loads the rules (target, router) is the lab's
 * router, each other node a device whose eth0 is a veth to one of its ports.
 * Interfaces get the indexes the suites rely on (lo 1, eth0 2, eth1 3), as
 * the builder chooses them in creation order. A suite's link: and
 * server_link: are the devices' link conditions, set by the lab's own
 * condition path (lab/links.c, the wire backend). Every lab node takes the
 * ICMP sysctls below as its namespace is made.
 */
#include "fwtest/topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <net/if.h>

#include "lab/lab.h"
#include "nl/rtnl.h"
#include "nl/sysctl.h"

#define FIRST_IFINDEX 2 /* lo is 1; a point-to-point lab has no bridges */

/* A device's interface of a point-to-point topology, and its router's end. */
struct p2p_def {
	const char *dev, *peer;	   /* the device, and its peer's name in the router */
	const char *a4, *a6;	   /* the device's addresses */
	const char *peer4, *peer6; /* the router's */
	bool via_peer;		   /* the router is the device's default gateway */
	bool server;		   /* conditioned by server_link: (else by link:) */
};

static const struct p2p_def direct_links[] = {
	{ "client", "eth0", "10.0.0.1/24", "fd00::1/64", "10.0.0.2/24", "fd00::2/64", false,
	  false },
};
static const struct p2p_def gateway_links[] = {
	{ "client", "eth0", "10.0.1.1/24", "fd00:1::1/64", "10.0.1.2/24", "fd00:1::2/64", true,
	  false },
	{ "server", "eth1", "10.0.2.2/24", "fd00:2::2/64", "10.0.2.1/24", "fd00:2::1/64", true,
	  true },
};

/* The nodes in the order the suites and reports know them, with their interface counts. */
struct node_name {
	const char *name;
	size_t n_ifaces;
};
static const struct node_name direct_nodes[] = { { "client", 1 }, { "target", 1 } };
static const struct node_name gateway_nodes[] = { { "client", 1 },
						  { "router", 2 },
						  { "server", 1 } };

struct fw_topo *fw_topo_free(struct fw_topo *t)
{
	if (!t)
		return NULL;
	/* our fds closed only: the lab drops its namespaces, link thread and all */
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
};

/* Every node of a firewall test's lab (generated here or a lab file's) takes node_sysctls. */
static void spec_for_fwtest(struct lab_spec *spec)
{
	spec->node_sysctls = node_sysctls;
	spec->n_node_sysctls = ARRAY_SIZE(node_sysctls);
}

static int p2p_iface(struct lab_spec *spec, const char *router, const struct p2p_def *d,
		     const nslab_link_condition *cond, nslab_error *err)
{
	struct spec_iface si = { .name = (char *)"eth0", .router = (char *)router };
	size_t dev = spec->n_devices;
	int r = lab_spec_add_device(spec, d->dev, (struct spec_loc){ 0 }, err);

	snprintf(si.peer_name, sizeof(si.peer_name), "%s", d->peer);
	si.via_peer = d->via_peer;
	if (cond) {
		si.has_link = true;
		si.link = *cond;
	}
	if (r >= 0)
		r = prefix_parse(d->a4, true, &si.a4, err);
	if (r >= 0)
		r = prefix_parse(d->a6, true, &si.a6, err);
	if (r >= 0)
		r = prefix_parse(d->peer4, true, &si.peer4, err);
	if (r >= 0)
		r = prefix_parse(d->peer6, true, &si.peer6, err);
	return r < 0 ? r : lab_spec_add_iface(spec, dev, &si, err);
}

/* The direct or gateway topology as a point-to-point lab spec. */
static int p2p_spec(enum fw_topology kind, const nslab_link_condition *link,
		    const nslab_link_condition *server_link, struct lab_spec **ret,
		    nslab_error *err)
{
	bool direct = kind == FW_TOPO_DIRECT;
	const struct p2p_def *defs = direct ? direct_links : gateway_links;
	size_t n = direct ? ARRAY_SIZE(direct_links) : ARRAY_SIZE(gateway_links);
	struct spec_router router = { .name = (char *)(direct ? "target" : "router"),
				      .no_forward = direct };
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	int r = lab_spec_new(direct ? "direct" : "gateway", &spec, err);

	if (r >= 0) {
		spec->p2p = spec->bare = true;
		spec->link_backend = LAB_LINK_WIRE;
		spec_for_fwtest(spec);
		r = lab_spec_add_router(spec, &router, err);
	}
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = p2p_iface(spec, router.name, &defs[i], defs[i].server ? server_link : link,
			      err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(spec);
	return 0;
}

/*
 * A node's interface: its name, index and addresses. The index is the one
 * the builder chose (ifindex > 0, see import_node()) or, for a lab file's
 * nodes, asked on the lab's socket in the node.
 */
static int add_iface(struct fw_node *n, struct nlsock *nl, const char *name, int ifindex,
		     const struct nslab_prefix *a4, const struct nslab_prefix *a6, nslab_error *err)
{
	struct fw_iface *fi;
	int r = 0;

	if (n->n_ifaces >= FW_IFACE_MAX)
		return nslab_err_setx(err, E2BIG, "node '%s': more than %d interfaces", n->name,
				      FW_IFACE_MAX);
	fi = &n->ifaces[n->n_ifaces];
	snprintf(fi->name, sizeof(fi->name), "%s", name);
	fi->v4 = *a4;
	fi->v6 = *a6;
	fi->ifindex = ifindex;
	if (ifindex <= 0)
		r = rtnl_link_index(nl, name, &fi->ifindex, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	n->n_ifaces++;
	return 0;
}

/*
 * Lab node ln as fw_node n: a namespace fd of our own, its interfaces. In a
 * point-to-point lab (no bridges) the builder numbers a namespace's veth
 * ends from 2 in the order it makes them (lab/build.c's DOC): a device's
 * interfaces in plan order, a router's ports (its devices' peers) in the
 * order of its devices.
 */
static int import_node(struct fw_topo *t, struct fw_node *n, struct nslab_node *ln,
		       nslab_error *err)
{
	const struct lab_plan *plan = t->lab->plan;
	const struct plan_node *pn = ln->pn;
	bool p2p = t->lab->spec->p2p;
	int r = 0, fd;

	snprintf(n->name, sizeof(n->name), "%s", pn->name);
	n->ns = calloc(1, sizeof(*n->ns));
	if (!n->ns)
		return nslab_err_set(err, ENOMEM, "node '%s'", n->name);
	fd = fd_move_high(fcntl(ln->ns->fd, F_DUPFD_CLOEXEC, 3));
	n->ns->fd = fd;
	if (fd < 0)
		return nslab_err_set(err, errno, "node '%s': namespace fd", n->name);
	for (size_t k = 0; r >= 0 && k < pn->n_ifaces; k++)
		r = add_iface(n, ln->ns->nl, pn->ifaces[k].name, p2p ? FIRST_IFINDEX + (int)k : 0,
			      &pn->ifaces[k].a4, &pn->ifaces[k].a6, err);
	for (size_t i = 1; r >= 0 && p2p && i < plan->n_nodes; i++)
		for (size_t k = 0; r >= 0 && k < plan->nodes[i].n_ifaces; k++) {
			const struct plan_iface *pi = &plan->nodes[i].ifaces[k];

			if (pi->up_node == ln->idx)
				r = add_iface(n, ln->ns->nl, pi->peer_name,
					      FIRST_IFINDEX + (int)n->n_ifaces, &pi->peer4,
					      &pi->peer6, err);
		}
	return r;
}

static int import_named(struct fw_topo *t, size_t i, const char *name, nslab_error *err)
{
	ssize_t k = lab_plan_find(t->lab->plan, name);

	if (k <= 0)
		return nslab_err_setx(err, ENOENT, "no node '%s' in the lab built", name);
	t->n = i + 1; /* fw_topo_free() frees it from here on */
	return import_node(t, &t->nodes[i], &t->lab->nodes[k], err);
}

int fw_topo_new(enum fw_topology kind, const nslab_link_condition *link,
		const nslab_link_condition *server_link, struct fw_topo **ret, nslab_error *err)
{
	_cleanup_(fw_topo_freep) struct fw_topo *t = calloc(1, sizeof(*t));
	const struct node_name *names = kind == FW_TOPO_DIRECT ? direct_nodes : gateway_nodes;
	size_t n = kind == FW_TOPO_DIRECT ? ARRAY_SIZE(direct_nodes) : ARRAY_SIZE(gateway_nodes);
	struct lab_spec *spec = NULL;
	int r;

	if (!t)
		return nslab_err_set(err, ENOMEM, "allocate a topology");
	if (kind != FW_TOPO_DIRECT && kind != FW_TOPO_GATEWAY)
		return nslab_err_setx(err, EINVAL, "topology %d is not built here", (int)kind);
	if (server_link && kind != FW_TOPO_GATEWAY)
		return nslab_err_setx(err, EINVAL, "only the gateway topology has a server's link");
	t->kind = kind;
	t->nodes = calloc(n, sizeof(*t->nodes));
	if (!t->nodes)
		return nslab_err_set(err, ENOMEM, "allocate a topology");
	r = p2p_spec(kind, link, server_link, &spec, err);
	if (r >= 0)
		r = lab_from_spec(spec, &t->lab, err);
	if (r >= 0)
		r = nslab_lab_build(t->lab, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = import_named(t, i, names[i].name, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "build the %s topology",
					kind == FW_TOPO_DIRECT ? "direct" : "gateway");
	t->client_node = 0;
	t->rules_node = 1;
	t->server_node = n - 1;
	*ret = TAKE_PTR(t);
	return 0;
}

const char *fw_topo_builtin_node(enum fw_topology kind, size_t i, size_t *ret_n_ifaces)
{
	const struct node_name *defs = kind == FW_TOPO_DIRECT ? direct_nodes : gateway_nodes;
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
	if (r >= 0) {
		spec_for_fwtest(t->lab->spec);
		r = nslab_lab_build(t->lab, err);
	}
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
	for (size_t i = 0; r >= 0 && i < n; i++) {
		t->n = i + 1; /* fw_topo_free() frees it from here on */
		r = import_node(t, &t->nodes[i], &t->lab->nodes[i + 1], err);
	}
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

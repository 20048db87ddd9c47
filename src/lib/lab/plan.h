/* SPDX-License-Identifier: MIT */
/*
 * lab/plan: from a validated spec to everything the builder needs, as pure
 * data: build order, interface names on both ends of every veth, MACs,
 * addresses, gateways, routes, link-locals. No I/O; the same spec and seed
 * always give the same plan.
 *
 * Address plan (defaults; each range overridable):
 *   IX            198.18.0.0/22, 2001:db8::/64; lab root .1 / ::1, top-level routers from .2 / ::2
 *   public down   /24s of 198.18.0.0/15 (skipping the IX), /64s of 2001:db8:1::/48
 *   private down  /24s of 10.0.0.0/8, /64s of fd10::/48
 *   Subnet index 0 of every pool is skipped; a router is host 1 of its downstream,
 *   devices and child routers take hosts 2, 3, ... in file order.
 * Running out is an error naming the range and the element (file:line:col).
 *
 * Regions are routers on the IX whose public subnet is the region's segment:
 * the uplinks of its routers are hosts on it. A link between two regions is an
 * interface of the one planned later ("to-<other>"), a host on the other's
 * segment; the routes between regions are not in the plan (lab/regions.c
 * installs them, as they change when a region link breaks).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "lab/spec.h"

enum plan_kind { PLAN_ROOT, PLAN_ROUTER, PLAN_DEVICE };

/* One veth pair: the node's end (inner) and its upstream's end (outer, on the upstream's bridge). */
struct plan_iface {
	char name[IFNAMSIZ]; /* in the node: "eth0", routers: "ix" on the IX, else "wan" */
	char peer_name
		[IFNAMSIZ]; /* in the upstream node: "<node>.<iface>", or "_<nodeidx>.<ifidx>" if too long */
	uint8_t mac[6], peer_mac[6];
	size_t up_node;		    /* plan node index of the upstream (0 = lab root) */
	struct nslab_prefix a4, a6; /* the node's addresses with subnet length; family 0 if none */
	struct nslab_prefix gw4,
		gw6; /* the upstream's address on this link (host prefix), family 0 if none */
	struct nslab_prefix ll6; /* EUI-64 link-local of the inner end (fe80::/64) */
	unsigned mtu;		 /* 0: default */
	ssize_t spec_iface;	 /* index into the device's spec ifaces; -1 for a router's uplink;
			       a region's link to another region: index into spec->region_links */
	bool slaac; /* a6 is what SLAAC makes of the router's RA (EUI-64): the builder sets none */
	/* a point-to-point lab's link: the outer end is no bridge port but addressed, peer4/6 */
	bool p2p;
	struct nslab_prefix peer4, peer6;
};

struct plan_route {
	struct nslab_prefix dst; /* len 0 = default */
	struct nslab_prefix via; /* host prefix */
};

struct plan_node {
	char *name; /* lab root: "" */
	enum plan_kind kind;
	bool region;	    /* a router that is a region (spec is_region) */
	ssize_t spec_index; /* index into spec routers or devices; -1 for the root */
	struct plan_iface *ifaces;
	size_t n_ifaces;
	ssize_t default_iface; /* devices: index of the default_via iface; -1 otherwise */
	/* Root and routers own a bridge ("ix" in the root, "br0" in routers). */
	bool has_bridge;
	char bridge[IFNAMSIZ];
	uint8_t bridge_mac[6];
	struct nslab_prefix down4, down6; /* bridge addresses with subnet length (host 1) */
	struct nslab_prefix ext6;	  /* `nat6: nptv6`: the external /64 (public6); else none */
	unsigned mtu;			  /* bridge MTU, 0 default */
	bool forwarding;		  /* root and routers */
	struct plan_route *routes;	  /* defaults and routes to subnets behind children */
	size_t n_routes;
};

struct lab_plan {
	struct plan_node
		*nodes; /* [0] is the lab root; then routers (upstream first), then devices */
	size_t n_nodes;
	size_t n_routers, n_devices;
	size_t *by_name; /* private: node indices sorted by name, for lab_plan_find() */
};

/*
 * lab_plan_make() - Plan a validated spec
 * Return: 0 and *ret (free with lab_plan_free()), or -ENOSPC naming the
 * exhausted range and the element at fault, or -ENOMEM.
 */
int lab_plan_make(const struct lab_spec *spec, struct lab_plan **ret, nslab_error *err);
struct lab_plan *lab_plan_free(struct lab_plan *plan);
DEFINE_CLEANUP_FUNC(struct lab_plan, lab_plan_free)
/* Index of the node called name, or -1 (O(log n)). */
ssize_t lab_plan_find(const struct lab_plan *plan, const char *name);

/* Reindex the nodes by name after nodes were added or removed. Return: 0, or -ENOMEM. */
int lab_plan_reindex(struct lab_plan *plan, nslab_error *err);

/* What lab_plan_add() changed, to take it back. */
struct plan_undo {
	size_t n_nodes, n_routers, n_devices;
	size_t *n_routes; /* each old node's route count before */
};
/*
 * lab_plan_add() - Plan a built lab's new nodes: spec routers from r0, devices from d0
 * Appended after the plan's nodes, addressed past everything on their
 * upstream's bridge now (run-time changes included), with new subnets of
 * their pools; routes to a new router's subnets added to its ancestors.
 * Return: 0 and *undo (lab_plan_undo() or plan_undo_clear()), or -errno with
 * the plan as it was
 */
int lab_plan_add(const struct lab_spec *spec, struct lab_plan *plan, size_t r0, size_t d0,
		 struct plan_undo *undo, nslab_error *err);
/* Take lab_plan_add()'s nodes and routes back out. */
void lab_plan_undo(struct lab_plan *plan, struct plan_undo *undo);
void plan_undo_clear(struct plan_undo *undo);

/* SPDX-License-Identifier: MIT */
/*
 * lab/spec: what a lab file (or the builder API) asks for, before any address
 * is planned or any namespace exists. Pure data; every element remembers where
 * it came from so that errors read "FILE:LINE:COL: message".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "link/cond.h"
#include "lab/fw.h"
#include "lab/nat.h"
#include "nslab/error.h"
#include "shared/macro.h"

#define LAB_NAME_MAX	      32   /* lab names appear in socket names and /run/netns entries */
#define NODE_NAME_MAX	      63   /* a DNS label */
#define LAB_ROUTERS_MAX	      4096 /* bounds the planner's work on hostile input */
#define LAB_DEVICES_MAX	      16384
#define LAB_COUNT_MAX	      4096 /* `count:` of one device entry */
#define LAB_DEVICE_IFACES_MAX 64
#define LAB_IFACES_MAX	      65536 /* device interfaces in the whole lab */
#define LAB_MTU_MIN	      576
#define LAB_MTU_MAX	      9000

struct sysctl_kv;

enum lab_ipmode { LAB_IP_DUAL = 0, LAB_IP_V4, LAB_IP_V6 };
enum lab_pool { LAB_POOL_PUBLIC = 0, LAB_POOL_PRIVATE, LAB_POOL_CGNAT /* NAT_CGNAT_PREFIX */ };

struct spec_loc {
	unsigned line, col; /* 1-based; 0 when the element came from the API */
};

struct spec_router {
	char *name;
	char *upstream; /* NULL: the IX */
	enum lab_pool pool;
	enum lab_ipmode ip;
	unsigned mtu;	 /* 0: default (1500) */
	bool block_frag; /* `block_icmp_frag_needed:` drop PMTU errors crossing or made here */
	struct spec_loc loc, upstream_loc;
	bool has_link, has_downlink;
	nslab_link_condition link;     /* `link:` its uplink (up: what the router sends) */
	nslab_link_condition downlink; /* `downlink:` every link plugged into it, unless its own */
	struct nat_config nat;	       /* IPv4 NAT (lab/nat.h); zero: none */
	struct spec_loc nat_loc;
	enum nat6_mode nat6; /* IPv6 NAT (lab/nat.h) */
	uint32_t nat64_size; /* `nat64_size:` the translator's table bound; 0: its default */
	struct spec_loc nat64_size_loc;
	struct spec_loc nat6_loc;
	struct fw_config fw; /* firewall (lab/fw.h); zero: none */
	struct spec_loc fw_loc;
	char preset[FW_PRESET_MAX]; /* `preset:` the router preset it started from; "" if none */
	char *rules_file;	    /* `rules_file:` as written, for messages; NULL if none */
	char *rules_text;	    /* its contents, loaded after nslab's tables */
	struct spec_loc rules_loc;
	/*
	 * Regions are routers of their own kind (`regions:`): a namespace on the IX
	 * whose bridge is the region's segment. A router's `region:` plugs its
	 * uplink into that segment instead of the IX (and excludes `upstream:`).
	 */
	bool is_region;
	char *region; /* `region:` of a router: the region it is in; NULL: none */
	struct spec_loc region_loc;
	bool no_forward; /* a point-to-point lab's end host: no forwarding (API only) */
};

/* `region_links:` one link between two regions; `up:` is a -> b, `down:` b -> a. */
struct spec_region_link {
	char *a, *b;
	nslab_link_condition cond;
	struct spec_loc loc, a_loc, b_loc;
};

struct spec_iface {
	char *name;   /* interface name in the device, <= 15 chars */
	char *router; /* router it plugs into */
	struct spec_loc loc, router_loc;
	bool has_link;
	nslab_link_condition link; /* `link:` (up: what the device sends) */
	/*
	 * A point-to-point lab's (lab_spec.p2p) own plan: the veth's other end
	 * is the router's interface peer_name (no bridge), the addresses are
	 * these (with their subnet length), and via_peer makes the peer the
	 * device's default gateway. API only: no lab file key sets them.
	 */
	char peer_name[16];
	struct nslab_prefix a4, a6, peer4, peer6;
	bool via_peer;
};

struct spec_device {
	char *name;
	struct spec_iface *ifaces;
	size_t n_ifaces;
	char *default_via; /* interface name; NULL: the first interface */
	struct spec_loc loc, default_via_loc;
};

struct spec_dns {
	char *name;   /* host name */
	char *target; /* node name, or a literal IPv4/IPv6 address */
	struct spec_loc loc, target_loc;
};

/* The fields of spec_ranges, in lab file order (names as under `ranges:`). */
enum spec_range_id {
	SPEC_RANGE_IX4,
	SPEC_RANGE_IX6,
	SPEC_RANGE_PUBLIC4,
	SPEC_RANGE_PUBLIC6,
	SPEC_RANGE_PRIVATE4,
	SPEC_RANGE_PRIVATE6,
	SPEC_RANGE_SUB4,
	SPEC_RANGE_SUB6,
	SPEC_RANGE__MAX
};

/* Address ranges; every one can be overridden under `ranges:` in the lab file. */
struct spec_ranges {
	struct nslab_prefix ix4, ix6;	      /* the IX link */
	struct nslab_prefix public4, public6; /* public downstream subnets are carved from these */
	struct nslab_prefix private4, private6; /* private downstream subnets */
	unsigned sub4, sub6;			/* downstream subnet lengths (24, 64) */
	struct spec_loc loc;
	struct spec_loc at[SPEC_RANGE__MAX]; /* where each override was given; 0 for defaults */
};

enum lab_link_backend { LAB_LINK_AUTO = 0, LAB_LINK_WIRE, LAB_LINK_NETEM };

struct lab_spec {
	char *name; /* the lab's name (file stem by default) */
	char *file; /* path as given, for messages; NULL for API-built labs */
	uint64_t seed;
	bool dad; /* IPv6 duplicate address detection (off by default) */
	bool ra;  /* `ipv6: {provisioning: ra}`: devices take IPv6 from routers' RAs (SLAAC) */
	struct spec_ranges ranges;
	struct spec_router *routers;
	size_t n_routers;
	struct spec_device *devices; /* `count: N` already expanded into name-1 .. name-N */
	size_t n_devices;
	struct spec_dns *dns;
	size_t n_dns;
	char *dns_upstream; /* `dns_upstream:` a node or an address the lab DNS forwards to; NULL */
	struct spec_loc dns_upstream_loc;
	bool dns64; /* `dns64: true`: the lab DNS synthesises AAAA for every client */
	struct linkcond_named *links; /* `links:` the lab's own presets, in file order */
	size_t n_links;
	enum lab_link_backend link_backend;
	struct spec_region_link *region_links; /* `region_links:` (and `default_regions:`) */
	size_t n_region_links;
	/*
	 * API only, for labs a program generates (fwtest's direct and gateway
	 * topologies, fwtest/topo.c):
	 * - p2p: no IX and no bridges; each device interface is a veth whose
	 *   other end is an interface of its router (spec_iface.peer_name),
	 *   addressed as the spec says; no routes but the devices' via_peer
	 *   defaults; routers have no uplink
	 * - bare: no mount namespace (/etc/hosts) and no PID namespace: nothing
	 *   can be spawned in its nodes, and building it costs only its
	 *   namespaces and links
	 * - node_sysctls: written in every node's namespace as it is made
	 *   (borrowed, static data)
	 */
	bool p2p, bare;
	const struct sysctl_kv *node_sysctls;
	size_t n_node_sysctls;
};
#define LAB_NODE_SYSCTLS_MAX 8

/* An empty spec with default ranges, seed 0, named name (copied). */
int lab_spec_new(const char *name, struct lab_spec **ret, nslab_error *err);
struct lab_spec *lab_spec_free(struct lab_spec *spec);
DEFINE_CLEANUP_FUNC(struct lab_spec, lab_spec_free)
void spec_ranges_default(struct spec_ranges *r);
/* "ix4", "sub6", ...: the key of a range under `ranges:`. */
const char *spec_range_name(enum spec_range_id id);
/* The prefix field for id, or NULL for SPEC_RANGE_SUB4/SUB6. */
struct nslab_prefix *spec_range_prefix(struct spec_ranges *r, enum spec_range_id id);

/*
 * Builder calls used by the API (and by the parser). Strings are copied. The
 * element arrays are owned by the spec and grown only through these calls.
 */
int lab_spec_add_router(struct lab_spec *spec, const struct spec_router *r, nslab_error *err);
int lab_spec_add_device(struct lab_spec *spec, const char *name, struct spec_loc loc,
			nslab_error *err);
int lab_spec_add_iface(struct lab_spec *spec, size_t device, const struct spec_iface *i,
		       nslab_error *err);
int lab_spec_add_dns(struct lab_spec *spec, const struct spec_dns *d, nslab_error *err);
/* A lab preset (`links:`); name copied. */
int lab_spec_add_link_preset(struct lab_spec *spec, const char *name,
			     const nslab_link_condition *cond, nslab_error *err);
/* A region: a router with is_region set, no upstream and the public pool; name copied. */
int lab_spec_add_region(struct lab_spec *spec, const char *name, struct spec_loc loc,
			nslab_error *err);
/* A link between two regions (names and condition copied). */
int lab_spec_add_region_link(struct lab_spec *spec, const struct spec_region_link *l,
			     nslab_error *err);
/*
 * lab_spec_default_regions() - `default_regions: true`: us, eu and asia, linked
 * us-eu 40 ms, us-asia 95 ms, eu-asia 120 ms one way. Regions and links the spec
 * already has are kept as they are. loc: where the key was.
 */
int lab_spec_default_regions(struct lab_spec *spec, struct spec_loc loc, nslab_error *err);
/* Set (or with ifname NULL, clear) the default_via interface of a device. */
int lab_spec_set_default_via(struct lab_spec *spec, size_t device, const char *ifname,
			     struct spec_loc loc, nslab_error *err);

/* Take entry i out (a node removed at run time); later entries move down one. */
void lab_spec_remove_router(struct lab_spec *spec, size_t i);
void lab_spec_remove_device(struct lab_spec *spec, size_t i);

/* Lookups: index, or -1. Linear: for lookups in bulk build a spec_names index. */
ssize_t lab_spec_router_index(const struct lab_spec *spec, const char *name);
ssize_t lab_spec_device_index(const struct lab_spec *spec, const char *name);

/* A name index over routers and devices: sorted, O(log n) lookups. */
struct spec_name {
	const char *name; /* borrowed from the spec */
	size_t index;	  /* into spec->routers or spec->devices */
	bool router;
};
struct spec_names {
	struct spec_name *v;
	size_t n;
};
/* Build the index (borrows the spec's strings). Return: 0 or -ENOMEM. */
int spec_names_build(const struct lab_spec *spec, struct spec_names *ret, nslab_error *err);
/* The entry called name (the first in file order if duplicated), or NULL. */
const struct spec_name *spec_names_find(const struct spec_names *names, const char *name);
void spec_names_clear(struct spec_names *names);
static inline void spec_names_clearp(struct spec_names *names)
{
	spec_names_clear(names);
}

/*
 * lab_spec_validate() - Names, references, duplicates and cycles
 * Checks: valid lab/node/interface names; no duplicate node names (routers and
 * devices share one namespace of names); upstreams and iface routers exist;
 * no upstream cycle; default_via names an interface of the device; dns targets
 * are nodes or addresses; regions: routers name regions in `region:` only
 * (never in `upstream:`, nor devices in `router:`), region links join two
 * different regions, once per pair; ranges are networks of the right family and do not overlap;
 * neither ranges nor dns addresses touch a special-purpose block the kernel
 * would refuse on an interface (0/8, 127/8, 169.254/16, 224/4, 255.255.255.255,
 * ::, ::1, ::ffff:0:0/96, fe80::/10, ff00::/8).
 * Return: 0, or -EINVAL with "FILE:LINE:COL: message" (no FILE: prefix for API specs).
 */
int lab_spec_validate(const struct lab_spec *spec, nslab_error *err);

/*
 * spec_error() - Fill err with "FILE:LINE:COL: message" for an element at loc
 * Without a file or with loc.line == 0 the location part is left out.
 * Return: -code.
 */
int spec_error(nslab_error *err, const struct lab_spec *spec, struct spec_loc loc, int code,
	       const char *fmt, ...) _printf_(5, 6);

#define SPEC_QUOTE_MAX 72 /* YAML_QUOTE_MAX: spec_quote() is yaml_quote() */
/* s for a message: printable ASCII kept, other bytes as '?', cut to 64 with "...". Return: buf. */
const char *spec_quote(const char *s, char buf[SPEC_QUOTE_MAX]);
/* spec_quote() into a temporary that lives until the end of the enclosing block. */
#define SPEC_Q(s) spec_quote((s), (char[SPEC_QUOTE_MAX]){ 0 })

/* True if s is a valid node name: [a-z0-9-], starts with a letter, no trailing '-', 1..63. */
bool spec_node_name_ok(const char *s);
/* True if s is a valid interface name: [A-Za-z0-9_-], 1..15, not "lo". */
bool spec_iface_name_ok(const char *s);
/* True if s is a valid lab name: a node name of at most LAB_NAME_MAX characters. */
bool spec_lab_name_ok(const char *s);
/* True if s is a valid DNS host name: dot-separated labels of [A-Za-z0-9-], <= 253 chars. */
bool spec_host_name_ok(const char *s);

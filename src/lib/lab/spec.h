/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
#include "nslab/error.h"
#include "shared/macro.h"

#define LAB_NAME_MAX  32 /* lab names appear in socket names and /run/netns entries */
#define NODE_NAME_MAX 63 /* a DNS label */

enum lab_ipmode { LAB_IP_DUAL = 0, LAB_IP_V4, LAB_IP_V6 };
enum lab_pool { LAB_POOL_PUBLIC = 0, LAB_POOL_PRIVATE };

struct spec_loc {
	unsigned line, col; /* 1-based; 0 when the element came from the API */
};

struct spec_router {
	char *name;
	char *upstream; /* NULL: the IX */
	enum lab_pool pool;
	enum lab_ipmode ip;
	unsigned mtu; /* 0: default (1500) */
	struct spec_loc loc, upstream_loc;
};

struct spec_iface {
	char *name;   /* interface name in the device, <= 15 chars */
	char *router; /* router it plugs into */
	struct spec_loc loc, router_loc;
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

/* Address ranges; every one can be overridden under `ranges:` in the lab file. */
struct spec_ranges {
	struct nslab_prefix ix4, ix6;		/* the IX link */
	struct nslab_prefix public4, public6;	/* public downstream subnets are carved from these */
	struct nslab_prefix private4, private6; /* private downstream subnets */
	unsigned sub4, sub6;			/* downstream subnet lengths (24, 64) */
	struct spec_loc loc;
};

struct lab_spec {
	char *name; /* the lab's name (file stem by default) */
	char *file; /* path as given, for messages; NULL for API-built labs */
	uint64_t seed;
	bool dad; /* IPv6 duplicate address detection (off by default) */
	struct spec_ranges ranges;
	struct spec_router *routers;
	size_t n_routers;
	struct spec_device *devices; /* `count: N` already expanded into name-1 .. name-N */
	size_t n_devices;
	struct spec_dns *dns;
	size_t n_dns;
};

/* An empty spec with default ranges, seed 0, named name (copied). */
int lab_spec_new(const char *name, struct lab_spec **ret, nslab_error *err);
struct lab_spec *lab_spec_free(struct lab_spec *spec);
DEFINE_CLEANUP_FUNC(struct lab_spec, lab_spec_free)
void spec_ranges_default(struct spec_ranges *r);

/* Builder calls used by the API (and by the parser). Strings are copied. */
int lab_spec_add_router(struct lab_spec *spec, const struct spec_router *r, nslab_error *err);
int lab_spec_add_device(struct lab_spec *spec, const char *name, struct spec_loc loc,
			nslab_error *err);
int lab_spec_add_iface(struct lab_spec *spec, size_t device, const struct spec_iface *i,
		       nslab_error *err);
int lab_spec_add_dns(struct lab_spec *spec, const struct spec_dns *d, nslab_error *err);

/* Lookups: index, or -1. */
ssize_t lab_spec_router_index(const struct lab_spec *spec, const char *name);
ssize_t lab_spec_device_index(const struct lab_spec *spec, const char *name);

/*
 * lab_spec_validate() - Names, references, duplicates and cycles
 * Checks: valid lab/node/interface names; no duplicate node names (routers and
 * devices share one namespace of names); upstreams and iface routers exist;
 * no upstream cycle; default_via names an interface of the device; dns targets
 * are nodes or addresses; ranges are networks of the right family and do not overlap.
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

/* True if s is a valid node name: [a-z0-9-], starts with a letter, no trailing '-', 1..63. */
bool spec_node_name_ok(const char *s);
/* True if s is a valid interface name: [A-Za-z0-9_-], 1..15, not "lo". */
bool spec_iface_name_ok(const char *s);

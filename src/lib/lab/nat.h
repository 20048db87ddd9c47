/* SPDX-License-Identifier: MIT */
/*
 * lab/nat: a router's IPv4 NAT as RFC 4787 names it (mapping x filtering x
 * hairpin x timeouts x port range), the presets as data over that matrix, and
 * the nftables ruleset that gives it (pure text, golden-tested). Loading the
 * text is nat_apply_in_ns() (nat-apply.c).
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "nslab/error.h"

/* Mapping behaviour (RFC 4787 section 4.1). */
enum nat_mapping {
	NAT_MAP_EIM = 0, /* endpoint-independent: one external port per internal address:port */
	NAT_MAP_ADM,	 /* address-dependent: one per internal address:port and remote address */
	NAT_MAP_EDM,	 /* address-and-port-dependent ("symmetric"): one per remote address:port */
};

/* Filtering behaviour (RFC 4787 section 5). */
enum nat_filtering {
	NAT_FILT_EIF = 0, /* anyone may send to a mapping */
	NAT_FILT_ADF,	  /* only addresses the mapping has sent to */
	NAT_FILT_APDF,	  /* only address:port pairs the mapping has sent to */
};

/* Mapping timeouts, in seconds (conntrack's, and the mapping tables' entries'). */
struct nat_timeouts {
	unsigned udp;		  /* UDP flow seen one way only (or one packet each way) */
	unsigned udp_stream;	  /* UDP flow with traffic both ways */
	unsigned tcp_established; /* TCP established */
	unsigned tcp_transitory;  /* TCP opening and closing states */
};

#define NAT_TIMEOUT_MAX	 (7u * 24 * 3600) /* a week: conntrack takes up to 2^31/HZ s */
#define NAT_PRESET_MAX	 16
#define NAT_PORT_LO_DEF	 1024 /* ports picked when the internal one cannot be kept */
#define NAT_PORT_HI_DEF	 65535
#define NAT_CGNAT_PREFIX "100.64.0.0/10" /* RFC 6598 shared address space */

struct nat_config {
	bool enabled; /* false: `none`, the router routes its pool as it is */
	enum nat_mapping mapping;
	enum nat_filtering filtering;
	bool hairpin;
	bool carrier; /* cgnat: the router's downstream comes from NAT_CGNAT_PREFIX */
	struct nat_timeouts timeouts;
	uint16_t port_lo,
		port_hi; /* external ports; 0/0: any port kept, others from the defaults */
	char preset[NAT_PRESET_MAX]; /* the preset it came from, or "custom" */
};

/**
 * nat_preset() - The configuration of a named preset
 * @name: "none", "home", "full-cone", "restricted-cone", "corporate", "cloud-nat", "cgnat"
 * @ret:  on success, the preset (written only then)
 * Return: 0, or -ENOENT for an unknown name
 */
int nat_preset(const char *name, struct nat_config *ret);
/* "none, home, ...": every preset name, for messages. */
const char *nat_preset_list(void);
const char *nat_mapping_name(enum nat_mapping m);
const char *nat_filtering_name(enum nat_filtering f);
/* "eim"... -> mapping (0), or -ENOENT. */
int nat_mapping_parse(const char *s, enum nat_mapping *ret);
int nat_filtering_parse(const char *s, enum nat_filtering *ret);
/**
 * nat_duration_parse() - "30", "30s", "5m", "2h" into seconds
 * Return: 0, or -EINVAL (not a duration, or 0, or above NAT_TIMEOUT_MAX)
 */
int nat_duration_parse(const char *s, unsigned *ret);
/**
 * nat_port_range_parse() - "LO-HI" (1 <= LO <= HI <= 65535) into *lo, *hi
 * Return: 0, or -EINVAL (outputs untouched)
 */
int nat_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi);

/* Where a router's NAT sits: its interfaces and its external address. */
struct nat_where {
	const char *wan;    /* uplink interface ("ix" or "wan") */
	const char *lan;    /* downstream bridge ("br0") */
	struct in_addr ext; /* the uplink's IPv4 address: the one external address */
};

#define NAT_TABLE "nslab-nat" /* `table ip nslab-nat` in the router's netns */

/**
 * nat_ruleset_text() - The nftables text of a router's NAT
 * @c:   configuration (enabled)
 * @w:   interfaces and external address
 * @ret: on success, malloc'd text that creates and fills `table ip nslab-nat`.
 *       A fresh namespace has none; to replace it, put nat_delete_text()
 *       before it in the same transaction. (Deleting a table costs the
 *       transaction about 10 ms more: at build time it is left out.)
 * Pure: the same input gives the same text (golden files in tests/fixtures/nat/).
 * Return: 0, or -ENOMEM
 */
int nat_ruleset_text(const struct nat_config *c, const struct nat_where *w, char **ret,
		     nslab_error *err);
/* Text that deletes the table if it exists (for `nat: none` at run time). */
const char *nat_delete_text(void);

struct nftbl_ctx;
/**
 * nat_apply_in_ns() - Replace (or with c disabled, remove) the NAT in the calling thread's netns
 * @ctx: the router's kept libnftables context (lab_node_nft()), opened in this netns
 * @c:   configuration
 * @w:   interfaces and external address
 * @err: on failure, libnftables' message
 * One libnftables transaction (its process-wide lock), never a fork.
 * Return: 0, or -errno
 */
int nat_apply_in_ns(struct nftbl_ctx *ctx, const struct nat_config *c, const struct nat_where *w,
		    nslab_error *err);

struct plan_node;
struct nslab_lab;
/**
 * nat_where_of() - Where the NAT of a planned router sits
 * @pn:  a router's plan node
 * @ret: its uplink, bridge and uplink IPv4 address
 * Return: true, or false when the router has no IPv4 uplink address (nothing to NAT to)
 */
bool nat_where_of(const struct plan_node *pn, struct nat_where *ret);

/*
 * IPv6 (`nat6:`, nat6.c): NPTv6 maps the router's downstream /64 one to one
 * onto an external /64 that is routed to it (RFC 6296's mapping, made by
 * conntrack's prefix NAT); masquerade is NAT66 to the uplink's address.
 * Neither lets anything route into the downstream /64 from outside.
 */
/*
 * NAT64 (lab/nat64-run.c): IPv6 flows to 64:ff9b::/96 translated to IPv4 by
 * nslab's own translator (link/nat64) in a TUN, from NAT64_POOL4, which this
 * table masquerades to the uplink's IPv4 address.
 */
enum nat6_mode { NAT6_NONE = 0, NAT6_NPTV6, NAT6_MASQUERADE, NAT6_NAT64 };

#define NAT6_TABLE "nslab-nat6" /* `table ip6 nslab-nat6` in the router's netns */

const char *nat6_name(enum nat6_mode m);
/* "none", "nptv6", "masquerade", "nat64" -> mode; -ENOENT otherwise. */
int nat6_parse(const char *s, enum nat6_mode *ret);

struct nat6_where {
	const char *wan, *lan;
	struct nslab_prefix inner; /* the downstream /64 */
	struct nslab_prefix outer; /* NPTv6: the external /64 */
	bool has_v4_uplink;	   /* NAT64 needs one */
};
/* Where a planned router's IPv6 NAT sits; false without an IPv6 downstream (or NPTv6 prefix). */
bool nat6_where_of(const struct plan_node *pn, enum nat6_mode m, struct nat6_where *ret);
/**
 * nat6_ruleset_text() - The nftables text of a router's IPv6 NAT (mode not none)
 * Pure; creates `table ip6 nslab-nat6` (in a namespace that has none).
 * Return: 0, or -ENOMEM
 */
int nat6_ruleset_text(enum nat6_mode m, const struct nat6_where *w, char **ret, nslab_error *err);

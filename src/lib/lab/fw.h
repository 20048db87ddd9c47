/* SPDX-License-Identifier: MIT */
/*
 * lab/fw: a router's firewall (both families, `table inet nslab-fw` in its
 * namespace): unsolicited inbound flows blocked as an RFC 6092 CE router
 * blocks them, and outbound TCP and UDP limited to lists of destination ports.
 * The presets are data over those knobs; the ruleset is pure text
 * (golden-tested), loaded by fw_apply_in_ns() (fw-apply.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

#define FW_PORTS_MAX  32 /* ranges per protocol list: a firewall policy, not a port scan */
#define FW_PRESET_MAX 16
#define FW_TABLE      "nslab-fw" /* `table inet nslab-fw` in the router's netns */

/* Outbound destination ports of one protocol that the firewall lets through. */
struct fw_ports {
	bool any; /* no limit (the list is unused) */
	size_t n; /* with !any: only these ranges; 0 ranges: none at all */
	uint16_t lo[FW_PORTS_MAX], hi[FW_PORTS_MAX];
};

struct fw_config {
	bool enabled; /* false: `none`, no table */
	bool block_inbound;
	struct fw_ports tcp, udp;
	bool captive;		    /* captive-portal: `release` at run time opens it */
	bool released;		    /* a released captive portal */
	char preset[FW_PRESET_MAX]; /* the preset it came from, or "custom" */
};

/**
 * fw_preset() - The configuration of a named firewall preset
 * @name: "none", "block-inbound", "corporate", "captive-portal"
 * @ret:  on success, the preset (written only then)
 * Return: 0, or -ENOENT for an unknown name
 */
int fw_preset(const char *name, struct fw_config *ret);
/* "none, block-inbound, ...": every preset name, for messages. */
const char *fw_preset_list(void);
/*
 * fw_release() - A captive portal after its guest signed in: any TCP port,
 * UDP to DNS only (no QUIC, no STUN); inbound stays blocked.
 * Return: 0, or -EINVAL when c is not a captive portal
 */
int fw_release(struct fw_config *c);
/* The name state.json and events give: the preset, with "released" for a released portal. */
const char *fw_name(const struct fw_config *c);

/**
 * fw_ports_parse_one() - One entry of a port list: "80" or "8000-8100"
 * Return: 0, or -EINVAL (1 <= LO <= HI <= 65535; outputs untouched otherwise)
 */
int fw_ports_parse_one(const char *s, uint16_t *lo, uint16_t *hi);

/* Where a router's firewall sits. */
struct fw_where {
	const char *wan; /* uplink interface ("ix" or "wan") */
	const char *lan; /* downstream bridge ("br0") */
};

/**
 * fw_ruleset_text() - The nftables text of a router's firewall
 * @c:   configuration (enabled)
 * @w:   interfaces
 * @ret: on success, malloc'd text that creates and fills `table inet
 *       nslab-fw`; to replace it, put fw_delete_text() before it (as
 *       nat_ruleset_text())
 * Pure: the same input gives the same text (golden files in tests/fixtures/fw/).
 * Return: 0, or -ENOMEM
 */
int fw_ruleset_text(const struct fw_config *c, const struct fw_where *w, char **ret,
		    nslab_error *err);
/* Text that deletes the table if it exists (`firewall: none` at run time). */
const char *fw_delete_text(void);

struct plan_node;
struct nslab_lab;
/* The uplink and bridge of a planned router; false for a node that is not a router. */
bool fw_where_of(const struct plan_node *pn, struct fw_where *ret);

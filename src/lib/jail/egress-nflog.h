/* SPDX-License-Identifier: MIT */
/*
 * jail/egress-nflog: packets the gateway's ruleset hands to an nflog group
 * (nft "log group N"), read on a thread of the owner. Two users: the held
 * flows of --interactive (group EGRESS_NFLOG_ASK: a new flow no rule allows
 * is dropped and logged; once approved, the client's retransmission passes)
 * and the capture of --pcap (group EGRESS_NFLOG_CAPTURE: every packet of the
 * jail, with the prefix "blocked" where the ruleset denied it). The same
 * reader serves the gateway's conntrack events (live connection records).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/egress-gw.h"

#define EGRESS_NFLOG_ASK     1
#define EGRESS_NFLOG_CAPTURE 2
#define EGRESS_NFLOG_BLOCKED 3 /* the deny chain's first packet of each flow, for the live lines */

struct egress_nflog;

/* One packet: its IP header on (no link layer), the rule's prefix ("" when none). Called on the reader's thread. */
typedef void (*egress_nflog_fn)(const uint8_t *pkt, size_t len, const char *prefix, void *data);

/**
 * egress_nflog_start() - Bind nflog group in the gateway, call fn per packet on a thread
 * @rcvbuf:  socket receive buffer wanted (bytes; a capture wants room), 0: the default
 * Return: 0, or -errno (nfnetlink_log missing, the thread)
 */
int egress_nflog_start(struct egress_gw *gw, uint16_t group, size_t rcvbuf, egress_nflog_fn fn,
		       void *data, struct egress_nflog **ret, nslab_error *err);
struct ct_entry;
/* One conntrack event of the gateway: an entry made, or destroyed (final counters). */
typedef void (*egress_ctev_fn)(const struct ct_entry *e, bool destroyed, void *data);
/**
 * egress_ctev_start() - The gateway's conntrack events (new, destroyed), fn called per entry on a thread
 * Read by the same loop as nflog's, from a socket subscribed in the gateway.
 * Return: 0, or -errno
 */
int egress_ctev_start(struct egress_gw *gw, egress_ctev_fn fn, void *data,
		      struct egress_nflog **ret, nslab_error *err);

/* Packets the kernel could not queue to us (ENOBUFS seen), so far. */
uint64_t egress_nflog_lost(const struct egress_nflog *n);
/* Read what is queued still, stop and join the thread, close the socket. Return: NULL */
struct egress_nflog *egress_nflog_free(struct egress_nflog *n);
DEFINE_CLEANUP_FUNC(struct egress_nflog, egress_nflog_free)

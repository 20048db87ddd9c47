/* SPDX-License-Identifier: MIT */
/*
 * lab/nat64-run: the NAT64 of routers with `nat6: nat64`, running. Each gets a
 * TUN "nat64" in its namespace, routes for 64:ff9b::/96 and for the
 * translator's IPv4 address (NAT64_POOL4) into it, and a link/nat64
 * translator served by the lab's link thread (link/wire's wire_fd_add()): no
 * thread of its own, one thread for every router of the lab.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

struct nslab_lab;
struct jw;

/*
 * The translator's IPv4 source (RFC 7335's IPv4 service continuity block,
 * 192.0.0.0/29): routed into the TUN, masqueraded to the router's uplink
 * address by the router's nat6 table, so flows leave from its public IPv4.
 */
#define NAT64_POOL4 "192.0.0.2"

/*
 * Start the NAT64 of every router that has one and has none running yet (at
 * the build, and for routers added at run time). Return: 0 or -errno; on
 * failure the routers started by this call are stopped again.
 */
int lab_nat64_start(struct nslab_lab *lab, nslab_error *err);
/* Stop them all (before the link thread stops); the TUNs go with their fds. */
void lab_nat64_stop(struct nslab_lab *lab);
/* Stop the NAT64 of plan node @node, if it runs one (a switch away from nat64). */
void lab_nat64_stop_node(struct nslab_lab *lab, size_t node);
/* Plan node @node goes: its NAT64 (if any) stops, later nodes' indices move down one. */
void lab_nat64_node_removed(struct nslab_lab *lab, size_t node);
struct nat64_stats;
/* A router's counters and table size; false if plan node @node runs no NAT64. */
bool lab_nat64_stats(const struct nslab_lab *lab, size_t node, struct nat64_stats *ret,
		     uint32_t *ret_size);
/* A router's "nat64" object for state (size, counters), if plan node @node has one. */
void lab_nat64_json(const struct nslab_lab *lab, size_t node, struct jw *w);

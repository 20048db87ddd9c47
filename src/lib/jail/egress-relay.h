/* SPDX-License-Identifier: MIT */
/*
 * jail/egress-relay: the socket relay behind `--egress proxy` (see egress-relay.c's DOC):
 * TCP and UDP the gateway forwarded to the relay namespace, carried on
 * through sockets of the caller's own network namespace.
 */
#pragma once

#include <stdbool.h>

#include "nslab/error.h"
#include "shared/macro.h"

/* The port the relay namespace's ruleset sends every TCP connection and UDP datagram to. */
#define EGRESS_RELAY_PORT 1

struct egress_relay;

/* How the relay sends the jail's ICMP echo requests on from the caller's namespace. */
enum egress_relay_icmp {
	EGRESS_RELAY_ICMP_NONE = 0, /* neither socket: echo requests refused (admin-prohibited) */
	EGRESS_RELAY_ICMP_PING = 1, /* ping sockets: net.ipv4.ping_group_range lets our group in */
	EGRESS_RELAY_ICMP_RAW = 2,  /* raw ICMP sockets: CAP_NET_RAW there */
};

/* Which ICMP (AF_INET) or ICMPv6 (AF_INET6) socket this thread's namespace gives nslab (opens and closes one; no traffic). */
enum egress_relay_icmp egress_relay_icmp_probe(int family);

/* What a relay carries and where it listens. */
struct egress_relay_conf {
	const char *host_ports; /* --host-port's list ("" none) */
	enum egress_relay_icmp
		icmp; /* egress_relay_icmp_probe(AF_INET) in the caller's namespace */
	enum egress_relay_icmp icmp6; /* egress_relay_icmp_probe(AF_INET6) (used with ipv6 only) */
	bool ipv6;		      /* listen for IPv6 too (--ipv6) */
	/*
	 * NULL: the relay namespace (TCP and UDP of both families on any
	 * address). Else the gateway through pasta (--host-port, IPv6): IPv6
	 * only, on this address, for host ports only.
	 */
	const char *listen6;
};

/**
 * egress_relay_start() - Open the listeners in the relay namespace and start relaying
 * @netns_fd:  the namespace of the listeners (borrowed; kept open by the relay for its UDP replies)
 * @c:         what to carry: flows to EGRESS_RELAY_ADDR4 (EGRESS_RELAY_ADDR6,
 *             EGRESS_GW_ADDR6) on a port of c->host_ports go to the caller's
 *             loopback (127.0.0.1, ::1)
 * Call from a thread that sits in the caller's network namespace: the
 * outgoing sockets are made by threads it starts, and a socket stays in the
 * namespace its maker was in.
 * Return: 0, or -errno with nothing left behind
 */
int egress_relay_start(int netns_fd, const struct egress_relay_conf *c, struct egress_relay **ret,
		       nslab_error *err);
/* Stop: every connection closed, every thread joined. Return: NULL */
struct egress_relay *egress_relay_free(struct egress_relay *r);
DEFINE_CLEANUP_FUNC(struct egress_relay, egress_relay_free)

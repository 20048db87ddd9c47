/* SPDX-License-Identifier: MIT */
/*
 * link/nat64: nslab's own stateful NAT64 (RFC 6146) over SIIT header
 * translation (RFC 7915), without I/O. A router's TUN device hands every
 * IPv6 packet routed to the /96 prefix and every IPv4 packet routed to the
 * pool address to nat64_input(); the translated packet(s) come back through
 * an emit callback, to be written to the same TUN.
 *
 * State is bounded: at most max_bibs bindings (BIBs), each expiring after its
 * protocol's timeout (UDP, TCP established / transitory, ICMP query), the
 * least recently used one of a protocol evicted when the table or that
 * protocol's port range is full. Mapping is endpoint-independent (one IPv4
 * port per IPv6 source address and port, for every destination); filtering is
 * endpoint-independent too: any IPv4 host may answer a binding.
 *
 * Every packet is parsed bounds-checked from outside input: anything not
 * understood (fragments, bad lengths, unknown ICMP types, no binding) is
 * dropped and counted, never read past its end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

#define NAT64_DEFAULT_MAX_BIBS 65536u
#define NAT64_MAX_BIBS	       (1u << 22) /* a sanity bound on the configured size */

struct nat64_config {
	uint8_t prefix[12];	      /* the /96, 64:ff9b:: (RFC 6052) by default */
	uint8_t pool4[4];	      /* IPv4 source address of every translated flow */
	uint16_t port_min, port_max;  /* IPv4 ports (and ICMP identifiers) handed out */
	uint32_t max_bibs;	      /* state bound */
	uint32_t udp_timeout_s;	      /* RFC 6146: at least 2 min; 5 min default */
	uint32_t tcp_est_timeout_s;   /* 2 h 4 min minimum in RFC 6146; 2 h here by the issue */
	uint32_t tcp_trans_timeout_s; /* 4 min */
	uint32_t icmp_timeout_s;      /* 60 s */
	uint16_t mtu6;		      /* MTU of the IPv6 side, for Packet Too Big (1500) */
};

struct nat64_stats {
	uint64_t translated_6to4; /* packets translated from IPv6 to IPv4 */
	uint64_t translated_4to6; /* packets translated from IPv4 to IPv6 (fragments count once) */
	uint64_t icmp_errors;	  /* of these, ICMP errors with their embedded packet */
	uint64_t dropped;	  /* not translated: malformed, fragment, no binding, unsupported */
	uint64_t evicted; /* bindings removed before their timeout because the table was full */
	uint64_t expired; /* bindings removed by their timeout */
	uint64_t bibs;	  /* bindings now */
};

/* One output packet (a whole IPv4 or IPv6 packet, no link-layer header). */
typedef void (*nat64_emit_fn)(void *ctx, const uint8_t *pkt, size_t len);

struct nat64;

/* The defaults: 64:ff9b::/96, no pool address, ports 1024-65535, 65536 BIBs, 5 min / 2 h / 4 min / 60 s. */
void nat64_config_default(struct nat64_config *cfg);
/**
 * nat64_new() - A translator with an empty table
 * Return: 0, -EINVAL (size 0 or over NAT64_MAX_BIBS, empty port range, zero
 * timeout, mtu6 under 1280) with the offending value, or -ENOMEM
 */
int nat64_new(const struct nat64_config *cfg, struct nat64 **ret, nslab_error *err);
struct nat64 *nat64_free(struct nat64 *nat);
/**
 * nat64_input() - Translate one packet read from the TUN
 * @now_ms:  a monotonic clock, for timeouts and LRU order
 * @pkt:     an IPv6 packet to the prefix or an IPv4 packet to the pool address
 * @emit:    called once per output packet (an IPv4 packet that needs IPv6
 *           fragmentation gives several), before nat64_input() returns
 * Return: the number of packets emitted; 0 means dropped (and counted)
 */
int nat64_input(struct nat64 *nat, uint64_t now_ms, const uint8_t *pkt, size_t len,
		nat64_emit_fn emit, void *ctx);
/* Remove the bindings whose timeout has passed (nat64_input() does it too). */
void nat64_expire(struct nat64 *nat, uint64_t now_ms);
void nat64_stats_get(const struct nat64 *nat, struct nat64_stats *ret);

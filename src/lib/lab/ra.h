/* SPDX-License-Identifier: MIT */
/*
 * lab/ra: Router Advertisements a router sends on its bridge under
 * `ipv6: {provisioning: ra}`: real ICMPv6 on the wire (RFC 4861), built here
 * and sent through a raw socket opened in the router's namespace, when the
 * lab is built, a few times in its first seconds (the supervisor's loop) and
 * in answer to every Router Solicitation.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

struct plan_node;

#define RA_ROUTER_LIFETIME 9000 /* s, RFC 4861's most: the default route never lapses in a lab */
#define RA_MAX		   128	/* bytes of the largest RA built here */

/**
 * ra_build() - The ICMPv6 message (from its type on) of router pn's RA
 * @pn:  a router with an IPv6 downstream
 * @buf: RA_MAX bytes
 * Header (hop limit 64, router lifetime RA_ROUTER_LIFETIME), the bridge's
 * link-layer address, its MTU when set, and its /64 as an on-link,
 * autonomous prefix with infinite lifetimes. The checksum is left 0: the
 * kernel fills it for raw ICMPv6 sockets. Pure.
 * Return: its length, or 0 when pn has no IPv6 downstream
 */
size_t ra_build(const struct plan_node *pn, uint8_t buf[RA_MAX]);

/**
 * ra_open_in_ns() - A raw ICMPv6 socket in the calling thread's netns for RAs
 * @ifindex: the bridge: RAs leave through it (hop limit 255) and only Router
 *           Solicitations arriving on it are read
 * Return: 0 and *ret_fd (CLOEXEC, non-blocking), or -errno
 */
int ra_open_in_ns(int ifindex, int *ret_fd, nslab_error *err);

/* Send pn's RA to all nodes (ff02::1) through fd. Return: 0, or -errno. */
int ra_send(int fd, const struct plan_node *pn, nslab_error *err);

#define RA_ANSWERS_MAX 16 /* RSs answered per wakeup; the rest wait for the next */
/**
 * ra_answer() - Answer the Router Solicitations queued on fd
 * Each with the RA sent to the soliciting address (RFC 4861 6.2.6 allows a
 * unicast answer; from ::, to all nodes).
 * Return: 0, or -errno
 */
int ra_answer(int fd, const struct plan_node *pn, nslab_error *err);

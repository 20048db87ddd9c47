/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/addr: IP prefixes: parse, format, carve subnets and hosts with explicit bounds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nslab/error.h"

struct nslab_prefix {
	int family;	  /* AF_INET or AF_INET6; 0 means "none" */
	uint8_t len;	  /* prefix length */
	uint8_t addr[16]; /* network byte order; v4 uses the first 4 bytes */
};

#define PREFIX_STRLEN 52 /* "ffff:...:ffff/128" plus NUL, rounded */

static inline size_t prefix_addr_len(const struct nslab_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

static inline bool prefix_is_set(const struct nslab_prefix *p)
{
	return p->family != 0;
}

/* Parse "a.b.c.d/len", "x::y/len", or (if !need_len) a bare address as a host prefix. */
int prefix_parse(const char *s, bool need_len, struct nslab_prefix *ret, nslab_error *err);
/* Format as "addr/len" (with_len) or "addr" into buf (PREFIX_STRLEN). Return: buf. */
const char *prefix_format(const struct nslab_prefix *p, bool with_len, char *buf, size_t len);
/* True if the host bits of p are zero. */
bool prefix_is_network(const struct nslab_prefix *p);
/* True if a and b overlap. */
bool prefix_overlaps(const struct nslab_prefix *a, const struct nslab_prefix *b);
/*
 * prefix_subnet() - The index-th subnet of length sublen inside range
 * Return: 0, or -ENOSPC (message names the range) when index is past the end.
 */
int prefix_subnet(const struct nslab_prefix *range, unsigned sublen, uint64_t index,
		  struct nslab_prefix *ret, nslab_error *err);
/*
 * prefix_host() - Address number n (1 = first host) inside net, with net's length
 * Return: 0, or -ENOSPC when n does not fit (v4 also refuses the broadcast address).
 */
int prefix_host(const struct nslab_prefix *net, uint64_t n, struct nslab_prefix *ret,
		nslab_error *err);
/* Number of usable host numbers (v4: 2^(32-len) - 2; v6 capped at UINT64_MAX). */
uint64_t prefix_host_count(const struct nslab_prefix *net);

/* SPDX-License-Identifier: MIT */
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

/**
 * prefix_parse() - Parse "a.b.c.d/len", "x::y/len", or (if !need_len) a bare address
 * @s:         text (inet_pton() forms; no zone index)
 * @need_len:  refuse a bare address; otherwise it becomes a host prefix (/32, /128)
 * @ret:       on success, the prefix as written: host bits are kept, not cleared
 *             (check with prefix_is_network()); untouched on failure
 * @err:       on failure, the cause
 * Return: 0, or -EINVAL with "'<s>': not an IP address", "missing prefix length" or
 * "prefix length out of range 0..N"
 */
int prefix_parse(const char *s, bool need_len, struct nslab_prefix *ret, nslab_error *err);
/**
 * prefix_format() - Format as "addr/len" or "addr"
 * @p:         prefix; an unset one (family 0) is written as "-"
 * @with_len:  append "/len"
 * @buf:       output, PREFIX_STRLEN bytes are always enough (snprintf() truncates)
 * @len:       size of @buf
 * Return: @buf, so that the call can be a printf() argument
 */
const char *prefix_format(const struct nslab_prefix *p, bool with_len, char *buf, size_t len);
/**
 * prefix_is_network() - Whether the host bits of p (those past p->len) are all zero
 * @p:  prefix
 * Return: true if they are
 */
bool prefix_is_network(const struct nslab_prefix *p);
/**
 * prefix_overlaps() - Whether two prefixes share an address (one contains the other)
 * @a:  prefix
 * @b:  prefix
 * Return: true if they overlap; false for different families
 */
bool prefix_overlaps(const struct nslab_prefix *a, const struct nslab_prefix *b);
/**
 * prefix_subnet() - The index-th subnet of length sublen inside range
 * @range:   range to carve; should be a network (its host bits would carry into the result)
 * @sublen:  subnet length, from range->len to the address width
 * @index:   0-based subnet number
 * @ret:     on success, the subnet; untouched on failure
 * @err:     on failure, the cause
 * Return: 0; -EINVAL ("range ...: subnet length /N does not fit") when @sublen is out of
 * bounds; or -ENOSPC ("range ... is exhausted (N subnets of /L)") when index is past the end
 */
int prefix_subnet(const struct nslab_prefix *range, unsigned sublen, uint64_t index,
		  struct nslab_prefix *ret, nslab_error *err);
/**
 * prefix_host() - Address number n (1 = first host) inside net, with net's length
 * @net:  subnet; should be a network (n is added to its address)
 * @n:    host number, 1 to prefix_host_count(@net)
 * @ret:  on success, the host address with @net's length; untouched on failure
 * @err:  on failure, the cause
 * Return: 0, or -ENOSPC ("subnet ... is full (N host addresses)") when n is 0 or does
 * not fit (v4 also refuses the broadcast address, so a v4 /31 or /32 has no hosts)
 */
int prefix_host(const struct nslab_prefix *net, uint64_t n, struct nslab_prefix *ret,
		nslab_error *err);
/**
 * prefix_host_count() - Number of usable host numbers in net
 * @net:  subnet
 * Return: v4: 2^(32-len) - 2 (0 for /31 and /32); v6: 2^(128-len) - 1 (only the
 * all-zero subnet-router address is left out), capped at UINT64_MAX
 */
uint64_t prefix_host_count(const struct nslab_prefix *net);

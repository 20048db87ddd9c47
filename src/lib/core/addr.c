/* SPDX-License-Identifier: MIT */
/* core/addr: prefix arithmetic with explicit bounds; never wraps silently. */
#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prefix_parse(const char *s, bool need_len, struct nslab_prefix *ret, nslab_error *err)
{
	struct nslab_prefix p = { 0 };
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (hlen == 0 || hlen >= sizeof(host))
		return nslab_err_setx(err, EINVAL, "'%s': not an IP address", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, host, p.addr) == 1)
		p.family = AF_INET6;
	else
		return nslab_err_setx(err, EINVAL, "'%s': not an IP address", s);
	max = p.family == AF_INET ? 32 : 128;
	if (!slash) {
		if (need_len)
			return nslab_err_setx(err, EINVAL, "'%s': missing prefix length", s);
		p.len = (uint8_t)max;
	} else {
		char *end;
		unsigned long l;

		errno = 0;
		l = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || errno || l > max)
			return nslab_err_setx(err, EINVAL, "'%s': prefix length out of range 0..%u",
					      s, max);
		p.len = (uint8_t)l;
	}
	*ret = p;
	return 0;
}

const char *prefix_format(const struct nslab_prefix *p, bool with_len, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!p->family || !inet_ntop(p->family, p->addr, host, sizeof(host))) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (with_len)
		snprintf(buf, len, "%s/%u", host, p->len);
	else
		snprintf(buf, len, "%s", host);
	return buf;
}

/* Bit i (0 = most significant) of the address. */
static bool addr_bit(const uint8_t *a, unsigned i)
{
	return a[i / 8] & (0x80 >> (i % 8));
}

bool prefix_is_network(const struct nslab_prefix *p)
{
	unsigned bits = (unsigned)prefix_addr_len(p) * 8;

	for (unsigned i = p->len; i < bits; i++)
		if (addr_bit(p->addr, i))
			return false;
	return true;
}

bool prefix_overlaps(const struct nslab_prefix *a, const struct nslab_prefix *b)
{
	unsigned n = a->len < b->len ? a->len : b->len;

	if (a->family != b->family)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (addr_bit(a->addr, i) != addr_bit(b->addr, i))
			return false;
	return true;
}

/* Add v << shift (bits counted from the least significant end) to the address; false on carry out. */
static bool addr_add(uint8_t *a, size_t alen, uint64_t v, unsigned shift)
{
	unsigned carry = 0;

	for (size_t k = 0; k < alen; k++) {
		size_t byte = alen - 1 - k;
		unsigned bitpos = (unsigned)k * 8;
		unsigned add = 0;

		if (bitpos + 8 > shift && bitpos < shift + 64) {
			int off = (int)bitpos - (int)shift;

			add = off >= 0 ? (unsigned)((v >> off) & 0xff)
				       : (unsigned)((v << -off) & 0xff);
		}
		carry += a[byte] + add;
		a[byte] = (uint8_t)carry;
		carry >>= 8;
	}
	return carry == 0;
}

int prefix_subnet(const struct nslab_prefix *range, unsigned sublen, uint64_t index,
		  struct nslab_prefix *ret, nslab_error *err)
{
	unsigned bits = (unsigned)prefix_addr_len(range) * 8, span = sublen - range->len;
	struct nslab_prefix p = *range;
	char buf[PREFIX_STRLEN];

	if (sublen < range->len || sublen > bits)
		return nslab_err_setx(err, EINVAL, "range %s: subnet length /%u does not fit",
				      prefix_format(range, true, buf, sizeof(buf)), sublen);
	if (span < 64 && index >= (UINT64_C(1) << span))
		return nslab_err_setx(
			err, ENOSPC, "range %s is exhausted (%" PRIu64 " subnets of /%u)",
			prefix_format(range, true, buf, sizeof(buf)), UINT64_C(1) << span, sublen);
	p.len = (uint8_t)sublen;
	if (!addr_add(p.addr, prefix_addr_len(&p), index, bits - sublen))
		return nslab_err_setx(err, ENOSPC, "range %s is exhausted",
				      prefix_format(range, true, buf, sizeof(buf)));
	*ret = p;
	return 0;
}

uint64_t prefix_host_count(const struct nslab_prefix *net)
{
	unsigned hostbits = (unsigned)prefix_addr_len(net) * 8 - net->len;

	if (net->family == AF_INET)
		return hostbits >= 2 ? (UINT64_C(1) << hostbits) - 2 : 0;
	return hostbits >= 64 ? UINT64_MAX : (UINT64_C(1) << hostbits) - 1;
}

int prefix_host(const struct nslab_prefix *net, uint64_t n, struct nslab_prefix *ret,
		nslab_error *err)
{
	struct nslab_prefix p = *net;
	char buf[PREFIX_STRLEN];

	if (n == 0 || n > prefix_host_count(net))
		return nslab_err_setx(err, ENOSPC, "subnet %s is full (%" PRIu64 " host addresses)",
				      prefix_format(net, true, buf, sizeof(buf)),
				      prefix_host_count(net));
	(void)addr_add(p.addr, prefix_addr_len(&p), n, 0);
	*ret = p;
	return 0;
}

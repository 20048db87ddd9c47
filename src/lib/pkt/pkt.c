/* SPDX-License-Identifier: MIT */
/*
 * pkt/pkt: build and parse IPv4/IPv6 packets carrying TCP, UDP, ICMP or
 * ICMPv6. Multi-byte fields are read and written a byte at a time in network
 * order, so buffers need no alignment, and every read is checked against the
 * length first: parsers see bytes from captures, traces and ICMP quotes.
 */
#include "pkt/pkt.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define IP4_HDR_LEN	   20
#define IP6_HDR_LEN	   40
#define IP6_EXT_MIN_LEN	   8
#define TCP_HDR_LEN	   20
#define UDP_HDR_LEN	   8
#define ICMP_HDR_LEN	   8
#define TCP_WINDOW_DEFAULT 64240
#define TTL_DEFAULT	   64
#define IP4_ID_MASK	   0xffffu
#define IP6_FLOW_MASK	   0xfffffu
#define IP4_FRAG_OFF_MASK  0x1fffu

/* ------------------------------------------------------------ byte helpers */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* --------------------------------------------------------------- checksums */

uint32_t pkt_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	/* End-around carries: 2^16 = 1 modulo 0xffff, so folding keeps the sum */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP/UDP/ICMPv6 pseudo-header (RFC 793, RFC 768, RFC 8200 section 8.1). */
static uint32_t csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, int proto,
			    size_t l4_len)
{
	uint8_t tail[8] = { 0 };
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t sum;

	sum = pkt_csum_add(0, src, alen);
	sum = pkt_csum_add(sum, dst, alen);
	if (family == AF_INET) {
		/* zero, protocol, TCP/UDP length */
		tail[1] = (uint8_t)proto;
		put16(tail + 2, (uint16_t)l4_len);
		return pkt_csum_add(sum, tail, 4);
	}
	/* 32-bit upper-layer length, three zero bytes, next header */
	put32(tail, (uint32_t)l4_len);
	tail[7] = (uint8_t)proto;
	return pkt_csum_add(sum, tail, 8);
}

/* ---------------------------------------------------------------- builders */

static size_t l4_hdr_len(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return TCP_HDR_LEN;
	case IPPROTO_UDP:
		return UDP_HDR_LEN;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return ICMP_HDR_LEN;
	default:
		return 0;
	}
}

/* Check @s and compute the header and total lengths; nothing is written on failure. */
static int spec_check(const struct pkt_spec *s, size_t *ret_ip_len, size_t *ret_total,
		      nslab_error *err)
{
	size_t ip_len, hdrs;

	if (s->family != AF_INET && s->family != AF_INET6)
		return nslab_err_setx(err, EINVAL, "packet: unsupported address family %d",
				      s->family);
	if (s->proto < 0 || s->proto > 255)
		return nslab_err_setx(err, EINVAL, "packet: protocol %d out of range 0..255",
				      s->proto);
	if (s->family == AF_INET6 && s->proto == IPPROTO_ICMP)
		return nslab_err_setx(err, EINVAL, "packet: ICMP in IPv6 (use ICMPv6)");
	if (s->family == AF_INET && s->proto == IPPROTO_ICMPV6)
		return nslab_err_setx(err, EINVAL, "packet: ICMPv6 in IPv4 (use ICMP)");
	if (s->payload_len && !s->payload)
		return nslab_err_setx(err, EINVAL, "packet: %zu-byte payload without data",
				      s->payload_len);
	ip_len = s->family == AF_INET ? IP4_HDR_LEN : IP6_HDR_LEN;
	hdrs = ip_len + l4_hdr_len(s->proto);
	if (s->payload_len > PKT_MAX - hdrs)
		return nslab_err_setx(err, EINVAL,
				      "packet: %zu-byte payload makes it longer than %u bytes",
				      s->payload_len, PKT_MAX);
	*ret_ip_len = ip_len;
	*ret_total = hdrs + s->payload_len;
	return 0;
}

static void build_ip4(const struct pkt_spec *s, uint8_t *p, size_t total)
{
	memset(p, 0, IP4_HDR_LEN);
	p[0] = 0x45; /* version 4, IHL 5 */
	put16(p + 2, (uint16_t)total);
	put16(p + 4, (uint16_t)(s->tag & IP4_ID_MASK));
	/* p[6..7] stay 0: DF clear, offset 0, so a router may fragment it */
	p[8] = s->ttl ? s->ttl : TTL_DEFAULT;
	p[9] = (uint8_t)s->proto;
	memcpy(p + 12, s->src, 4);
	memcpy(p + 16, s->dst, 4);
	put16(p + 10, (uint16_t)~pkt_csum_fold(pkt_csum_add(0, p, IP4_HDR_LEN)));
}

static void build_ip6(const struct pkt_spec *s, uint8_t *p, size_t total)
{
	put32(p, 6u << 28 | (s->tag & IP6_FLOW_MASK)); /* traffic class 0 */
	put16(p + 4, (uint16_t)(total - IP6_HDR_LEN));
	p[6] = (uint8_t)s->proto;
	p[7] = s->ttl ? s->ttl : TTL_DEFAULT;
	memcpy(p + 8, s->src, 16);
	memcpy(p + 24, s->dst, 16);
}

/* The transport header at @p (payload already in place after it), checksum included. */
static void build_l4(const struct pkt_spec *s, uint8_t *p, size_t l4_len)
{
	size_t hlen = l4_hdr_len(s->proto);
	int csum_off;
	uint32_t sum;

	memset(p, 0, hlen);
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, s->tcp_seq);
		put32(p + 8, s->tcp_ack);
		p[12] = (TCP_HDR_LEN / 4) << 4;
		p[13] = s->tcp_flags;
		put16(p + 14, s->tcp_window ? s->tcp_window : TCP_WINDOW_DEFAULT);
		csum_off = 16;
		break;
	case IPPROTO_UDP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, (uint16_t)l4_len);
		csum_off = 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p[0] = s->icmp_type;
		p[1] = s->icmp_code;
		put16(p + 4, s->icmp_id);
		put16(p + 6, s->icmp_seq);
		csum_off = 2;
		break;
	default:
		return; /* raw payload: nothing to fill */
	}
	/* ICMP (v4) alone has no pseudo-header (RFC 792) */
	sum = s->proto == IPPROTO_ICMP ? 0
				       : csum_pseudo(s->family, s->src, s->dst, s->proto, l4_len);
	sum = (uint16_t)~pkt_csum_fold(pkt_csum_add(sum, p, l4_len));
	/* UDP: 0 means "no checksum", so a computed 0 goes out as its other form (RFC 768) */
	if (s->proto == IPPROTO_UDP && sum == 0)
		sum = 0xffff;
	put16(p + csum_off, (uint16_t)sum);
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap, size_t *ret_len, nslab_error *err)
{
	size_t ip_len = 0, total = 0;
	int r;

	r = spec_check(s, &ip_len, &total, err);
	if (r < 0)
		return r;
	if (cap < total)
		return nslab_err_setx(err, EMSGSIZE, "packet: %zu bytes do not fit in %zu", total,
				      cap);
	/* Payload first: memmove, in case the caller laid it out in buf already */
	if (s->payload_len)
		memmove(buf + total - s->payload_len, s->payload, s->payload_len);
	if (s->family == AF_INET)
		build_ip4(s, buf, total);
	else
		build_ip6(s, buf, total);
	build_l4(s, buf + ip_len, total - ip_len);
	*ret_len = total;
	return 0;
}

/* ----------------------------------------------------------------- parsers */

static bool is_icmp_error(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

static bool is_icmp_echo(int family, uint8_t type)
{
	if (family == AF_INET)
		return type == 0 || type == 8;
	return type == 128 || type == 129;
}

static const char *ip6_ext_name(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
		return "hop-by-hop options";
	case IPPROTO_ROUTING:
		return "routing";
	case IPPROTO_FRAGMENT:
		return "fragment";
	case IPPROTO_DSTOPTS:
		return "destination options";
	default:
		return NULL;
	}
}

/*
 * IPv4 header at @p. @whole: the bytes are the whole packet, so the total
 * length must fit in @len; otherwise (a quote, or pkt_parse_l3()) it may
 * exceed it. @ret_end: where the packet ends within @len.
 */
static int parse_ip4(const uint8_t *p, size_t len, bool whole, struct pkt_info *info,
		     size_t *ret_end, nslab_error *err)
{
	size_t ihl, tot;

	if (len < IP4_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "IPv4 header: %zu bytes, need %d", len,
				      IP4_HDR_LEN);
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < IP4_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "IPv4 header: IHL says %zu bytes, minimum is %d",
				      ihl, IP4_HDR_LEN);
	if (len < ihl)
		return nslab_err_setx(err, EPROTO, "IPv4 header: %zu bytes, IHL says %zu", len,
				      ihl);
	tot = get16(p + 2);
	if (tot < ihl)
		return nslab_err_setx(
			err, EPROTO, "IPv4 header: total length %zu, less than its %zu-byte header",
			tot, ihl);
	if (whole && tot > len)
		return nslab_err_setx(err, EPROTO, "IPv4 packet: %zu bytes, total length says %zu",
				      len, tot);
	info->family = AF_INET;
	memcpy(info->src, p + 12, 4);
	memcpy(info->dst, p + 16, 4);
	info->proto = p[9];
	info->tag = get16(p + 4);
	info->ttl = p[8];
	info->l4_off = ihl;
	info->later_fragment = (get16(p + 6) & IP4_FRAG_OFF_MASK) != 0;
	*ret_end = tot < len ? tot : len;
	return 0;
}

/* IPv6 header and the extension headers after it; @whole as for parse_ip4(). */
static int parse_ip6(const uint8_t *p, size_t len, bool whole, struct pkt_info *info,
		     size_t *ret_end, nslab_error *err)
{
	size_t end, off = IP6_HDR_LEN;
	bool later = false;
	const char *name;
	uint8_t nh;

	if (len < IP6_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "IPv6 header: %zu bytes, need %d", len,
				      IP6_HDR_LEN);
	nh = p[6];
	end = IP6_HDR_LEN + (size_t)get16(p + 4);
	/* Payload length 0 before a hop-by-hop header: a jumbogram (RFC 2675) */
	if (end == IP6_HDR_LEN && nh == IPPROTO_HOPOPTS)
		end = len;
	if (whole && end > len)
		return nslab_err_setx(err, EPROTO,
				      "IPv6 packet: %zu bytes, payload length says %zu", len, end);
	if (end > len)
		end = len;
	while (!later && (name = ip6_ext_name(nh))) {
		size_t hlen = IP6_EXT_MIN_LEN;

		if (end - off < IP6_EXT_MIN_LEN)
			return nslab_err_setx(err, EPROTO, "IPv6 %s header: %zu bytes, need %d",
					      name, end - off, IP6_EXT_MIN_LEN);
		if (nh == IPPROTO_FRAGMENT)
			/* fixed size; only the first fragment holds the next header */
			later = (get16(p + off + 2) >> 3) != 0;
		else
			hlen = ((size_t)p[off + 1] + 1) * 8;
		if (end - off < hlen)
			return nslab_err_setx(err, EPROTO,
					      "IPv6 %s header: %zu bytes, length says %zu", name,
					      end - off, hlen);
		nh = p[off];
		off += hlen;
	}
	info->family = AF_INET6;
	memcpy(info->src, p + 8, 16);
	memcpy(info->dst, p + 24, 16);
	info->proto = nh;
	info->tag = get32(p) & IP6_FLOW_MASK;
	info->ttl = p[7];
	info->l4_off = off;
	info->later_fragment = later;
	*ret_end = end;
	return 0;
}

/* Fill the l3 fields of a zeroed @info; @ret_end as for parse_ip4(). */
static int parse_l3(const uint8_t *p, size_t len, bool whole, struct pkt_info *info,
		    size_t *ret_end, nslab_error *err)
{
	if (len == 0)
		return nslab_err_setx(err, EPROTO, "empty packet: no IP header");
	switch (p[0] >> 4) {
	case 4:
		return parse_ip4(p, len, whole, info, ret_end, err);
	case 6:
		return parse_ip6(p, len, whole, info, ret_end, err);
	default:
		return nslab_err_setx(err, EPROTO, "not an IP packet: version %u", p[0] >> 4);
	}
}

/* The packet an ICMP error quotes: as much as is there; inner->set stays false without an IP header. */
static void parse_quote(const uint8_t *p, size_t len, struct pkt_inner *inner)
{
	struct pkt_info q = { 0 };
	size_t end = 0;

	if (parse_l3(p, len, false, &q, &end, NULL) < 0)
		return;
	inner->set = true;
	inner->family = q.family;
	memcpy(inner->src, q.src, sizeof(inner->src));
	memcpy(inner->dst, q.dst, sizeof(inner->dst));
	inner->proto = q.proto;
	inner->tag = q.tag;
	/* RFC 792 quotes at least 8 bytes of the datagram: the ports are the first 4 */
	if (!q.later_fragment && (q.proto == IPPROTO_TCP || q.proto == IPPROTO_UDP) &&
	    end - q.l4_off >= 4) {
		inner->sport = get16(p + q.l4_off);
		inner->dport = get16(p + q.l4_off + 2);
		inner->has_ports = true;
	}
}

static int parse_tcp(const uint8_t *p, size_t len, struct pkt_info *info, nslab_error *err)
{
	size_t doff;

	if (len < TCP_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "TCP header: %zu bytes, need %d", len,
				      TCP_HDR_LEN);
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < TCP_HDR_LEN)
		return nslab_err_setx(err, EPROTO,
				      "TCP header: data offset says %zu bytes, minimum is %d", doff,
				      TCP_HDR_LEN);
	if (len < doff)
		return nslab_err_setx(err, EPROTO, "TCP header: %zu bytes, data offset says %zu",
				      len, doff);
	info->has_ports = true;
	info->sport = get16(p);
	info->dport = get16(p + 2);
	info->tcp_seq = get32(p + 4);
	info->tcp_ack = get32(p + 8);
	info->tcp_flags = p[13];
	info->payload = p + doff;
	info->payload_len = len - doff;
	return 0;
}

static int parse_udp(const uint8_t *p, size_t len, struct pkt_info *info, nslab_error *err)
{
	size_t ulen;

	if (len < UDP_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "UDP header: %zu bytes, need %d", len,
				      UDP_HDR_LEN);
	ulen = get16(p + 4);
	/* Length 0 in IPv6: a jumbogram's, carried by the IPv6 layer (RFC 2675) */
	if (ulen == 0 && info->family == AF_INET6)
		ulen = len;
	if (ulen < UDP_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "UDP header: length %zu, less than its %d bytes",
				      ulen, UDP_HDR_LEN);
	if (len < ulen)
		return nslab_err_setx(err, EPROTO, "UDP datagram: %zu bytes, length says %zu", len,
				      ulen);
	info->has_ports = true;
	info->sport = get16(p);
	info->dport = get16(p + 2);
	info->payload = p + UDP_HDR_LEN;
	info->payload_len = ulen - UDP_HDR_LEN;
	return 0;
}

static int parse_icmp(const uint8_t *p, size_t len, struct pkt_info *info, nslab_error *err)
{
	if (len < ICMP_HDR_LEN)
		return nslab_err_setx(err, EPROTO, "%s header: %zu bytes, need %d",
				      info->family == AF_INET ? "ICMP" : "ICMPv6", len,
				      ICMP_HDR_LEN);
	info->is_icmp = true;
	info->icmp_type = p[0];
	info->icmp_code = p[1];
	if (is_icmp_echo(info->family, p[0])) {
		info->icmp_id = get16(p + 4);
		info->icmp_seq = get16(p + 6);
	}
	info->payload = p + ICMP_HDR_LEN;
	info->payload_len = len - ICMP_HDR_LEN;
	if (is_icmp_error(info->family, p[0]))
		parse_quote(info->payload, info->payload_len, &info->inner);
	return 0;
}

/* Fill the l4 fields of @info, which the caller zeroed. */
static int parse_l4(const uint8_t *p, size_t len, struct pkt_info *info, nslab_error *err)
{
	if (!info->later_fragment) {
		if (info->proto == IPPROTO_TCP)
			return parse_tcp(p, len, info, err);
		if (info->proto == IPPROTO_UDP)
			return parse_udp(p, len, info, err);
		if ((info->family == AF_INET && info->proto == IPPROTO_ICMP) ||
		    (info->family == AF_INET6 && info->proto == IPPROTO_ICMPV6))
			return parse_icmp(p, len, info, err);
	}
	info->payload = p;
	info->payload_len = len;
	return 0;
}

int pkt_parse_l3(const void *buf, size_t len, struct pkt_info *ret, nslab_error *err)
{
	struct pkt_info info = { 0 };
	size_t end = 0;
	int r;

	r = parse_l3(buf, len, false, &info, &end, err);
	if (r < 0)
		return r;
	*ret = info;
	return 0;
}

int pkt_parse_l4(const void *buf, size_t len, struct pkt_info *ret, nslab_error *err)
{
	struct pkt_info info = { 0 };
	int r;

	/* Keep the l3 fields, start the l4 ones from zero */
	info.family = ret->family;
	memcpy(info.src, ret->src, sizeof(info.src));
	memcpy(info.dst, ret->dst, sizeof(info.dst));
	info.proto = ret->proto;
	info.tag = ret->tag;
	info.ttl = ret->ttl;
	info.l4_off = ret->l4_off;
	info.later_fragment = ret->later_fragment;
	r = parse_l4(buf, len, &info, err);
	if (r < 0)
		return r;
	*ret = info;
	return 0;
}

int pkt_parse(const void *buf, size_t len, struct pkt_info *ret, nslab_error *err)
{
	struct pkt_info info = { 0 };
	const uint8_t *p = buf;
	size_t end = 0;
	int r;

	r = parse_l3(p, len, true, &info, &end, err);
	if (r < 0)
		return r;
	r = parse_l4(p + info.l4_off, end - info.l4_off, &info, err);
	if (r < 0)
		return r;
	*ret = info;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * link/nat64: RFC 7915 header translation with RFC 6146 state (see nat64.h).
 *
 * Layout of the work: from6() and from4() check the outer header and pick
 * the binding; the transport is rewritten in place in an output buffer
 * (ports or ICMP identifier, checksums adjusted incrementally as RFC 1624
 * does, since only addresses and one port change); ICMP errors translate
 * their embedded packet with the same code, in the opposite direction.
 */
#include "link/nat64.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "link/nat64-bib.h"
#include "pkt/pkt.h"

#define OUT_MAX	      65536
#define IPV6_MIN_MTU  1280
#define ICMP4_ERR_MAX 576 /* RFC 1812 4.3.2.3: an ICMPv4 error fits in 576 bytes */

struct nat64 {
	struct nat64_config cfg;
	struct nat64_stats st;
	struct bib_table bib;
	uint16_t ip_id;
	uint32_t frag_id;
	uint8_t out[OUT_MAX + 64];
	uint8_t frag[IPV6_MIN_MTU];
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m and m' the sums of the old and new words. */
static uint16_t csum_adjust(uint16_t hc, uint32_t old_sum, uint32_t new_sum)
{
	uint32_t s = (uint16_t)~hc;

	s += (uint16_t)~pkt_csum_fold(old_sum);
	s += pkt_csum_fold(new_sum);
	return (uint16_t)~pkt_csum_fold(s);
}

static uint16_t csum_full(uint32_t sum, const uint8_t *p, size_t len)
{
	return (uint16_t)~pkt_csum_add(sum, p, len);
}

void nat64_config_default(struct nat64_config *cfg)
{
	static const uint8_t wkp[12] = { 0x00, 0x64, 0xff, 0x9b };

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->prefix, wkp, sizeof(wkp));
	cfg->port_min = 1024;
	cfg->port_max = 65535;
	cfg->max_bibs = NAT64_DEFAULT_MAX_BIBS;
	cfg->udp_timeout_s = 300;
	cfg->tcp_est_timeout_s = 7200;
	cfg->tcp_trans_timeout_s = 240;
	cfg->icmp_timeout_s = 60;
	cfg->mtu6 = 1500;
}

static int check_config(const struct nat64_config *c, nslab_error *err)
{
	if (c->max_bibs == 0 || c->max_bibs > NAT64_MAX_BIBS)
		return nslab_err_setx(err, EINVAL, "nat64 table size %u out of range 1-%u",
				      c->max_bibs, NAT64_MAX_BIBS);
	if (c->port_min == 0 || c->port_min > c->port_max)
		return nslab_err_setx(err, EINVAL, "nat64 port range %u-%u is empty or starts at 0",
				      c->port_min, c->port_max);
	if (!c->udp_timeout_s || !c->tcp_est_timeout_s || !c->tcp_trans_timeout_s ||
	    !c->icmp_timeout_s)
		return nslab_err_setx(err, EINVAL, "nat64 timeouts must be at least 1 s");
	if (c->mtu6 < IPV6_MIN_MTU)
		return nslab_err_setx(err, EINVAL, "nat64 IPv6 MTU %u under %u", c->mtu6,
				      IPV6_MIN_MTU);
	return 0;
}

int nat64_new(const struct nat64_config *cfg, struct nat64 **ret, nslab_error *err)
{
	struct nat64 *nat;
	int r = check_config(cfg, err);

	if (r < 0)
		return r;
	nat = calloc(1, sizeof(*nat));
	if (!nat)
		return nslab_err_set(err, ENOMEM, "nat64 translator");
	nat->cfg = *cfg;
	if (bib_init(&nat->bib, &nat->cfg, &nat->st) < 0) {
		free(nat);
		return nslab_err_set(err, ENOMEM, "nat64 table of %u entries", cfg->max_bibs);
	}
	*ret = nat;
	return 0;
}

struct nat64 *nat64_free(struct nat64 *nat)
{
	if (nat) {
		bib_clear(&nat->bib);
		free(nat);
	}
	return NULL;
}

void nat64_expire(struct nat64 *nat, uint64_t now_ms)
{
	bib_expire(&nat->bib, now_ms);
}

void nat64_stats_get(const struct nat64 *nat, struct nat64_stats *ret)
{
	*ret = nat->st;
}

/* ---------------------------------------------------------------- parsing */

/* An IP packet's transport: where it starts, its length as read and as the header says. */
struct l3 {
	const uint8_t *l4;
	size_t l4len;	/* bytes present (an embedded packet may be cut short) */
	size_t l4total; /* bytes the header announces */
	uint8_t proto;	/* IPPROTO_*, ICMPv6 included */
	bool frag;	/* a fragment of any kind: not translated */
};

/*
 * IPv6 header and the extension headers a router may skip (hop-by-hop,
 * destination options, a routing header with no segment left). @trunc
 * allows a packet shorter than its payload length (an ICMP error's quote).
 */
static int parse6(const uint8_t *p, size_t len, bool trunc, struct l3 *ret)
{
	size_t plen, off = 40;
	uint8_t nh;

	if (len < 40 || p[0] >> 4 != 6)
		return -EPROTO;
	plen = rd16(p + 4);
	if (40 + plen < len)
		len = 40 + plen;
	else if (40 + plen > len && !trunc)
		return -EPROTO;
	nh = p[6];
	ret->frag = false;
	while (nh == IPPROTO_HOPOPTS || nh == IPPROTO_DSTOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_FRAGMENT) {
		if (off + 8 > len)
			return -EPROTO;
		if (nh == IPPROTO_FRAGMENT) {
			ret->frag = true;
			return -EPROTO;
		}
		if (nh == IPPROTO_ROUTING && p[off + 3] != 0)
			return -EPROTO; /* the packet is not for this address yet */
		nh = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	if (off > len || off > 40 + plen)
		return -EPROTO;
	ret->l4 = p + off;
	ret->l4len = len - off;
	ret->l4total = 40 + plen - off;
	ret->proto = nh;
	return 0;
}

static int parse4(const uint8_t *p, size_t len, bool trunc, struct l3 *ret)
{
	size_t ihl, tot;

	if (len < 20 || p[0] >> 4 != 4)
		return -EPROTO;
	ihl = (size_t)(p[0] & 0xf) * 4;
	tot = rd16(p + 2);
	if (ihl < 20 || tot < ihl || len < ihl)
		return -EPROTO;
	if (tot < len)
		len = tot;
	else if (tot > len && !trunc)
		return -EPROTO;
	/* MF set or a fragment offset: the ports are not all there */
	ret->frag = (rd16(p + 6) & 0x3fff) != 0;
	ret->l4 = p + ihl;
	ret->l4len = len - ihl;
	ret->l4total = tot - ihl;
	ret->proto = p[9];
	return 0;
}

static bool is_df(const uint8_t *ip4)
{
	return (ip4[6] & 0x40) != 0;
}

/* ------------------------------------------------------ transport rewrite */

static int bib_proto(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return BIB_TCP;
	case IPPROTO_UDP:
		return BIB_UDP;
	default:
		return BIB_ICMP;
	}
}

/* A whole TCP/UDP header as its own fields describe it (outer packets only: quotes are cut). */
static bool l4_sane(uint8_t proto, const uint8_t *l4, size_t len)
{
	size_t n;

	if (proto == IPPROTO_TCP) {
		n = (size_t)(l4[12] >> 4) * 4;
		return len >= 20 && n >= 20 && n <= len;
	}
	n = rd16(l4 + 4);
	return len >= 8 && n >= 8 && n <= len;
}

static size_t csum_off(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : 6;
}

/*
 * Rewrite one port of a TCP/UDP header in place (@src: the source port, else
 * the destination) and adjust its checksum for the new port and the new
 * pseudo-header addresses (@old_sum, @new_sum: their sums). Protocol and
 * length weigh the same in both pseudo-headers. A checksum cut off by a
 * quote's end is left; a zero UDP checksum (IPv4: none) is left to the caller.
 */
static void rewrite_port(uint8_t *l4, size_t len, uint8_t proto, bool src, uint16_t port,
			 uint32_t old_sum, uint32_t new_sum)
{
	uint8_t *pp = l4 + (src ? 0 : 2), *cp = l4 + csum_off(proto);
	uint16_t old = rd16(pp);

	wr16(pp, port);
	if (len < csum_off(proto) + 2 || (proto == IPPROTO_UDP && rd16(cp) == 0))
		return;
	old_sum = pkt_csum_add(old_sum, (uint8_t[2]){ (uint8_t)(old >> 8), (uint8_t)old }, 2);
	new_sum = pkt_csum_add(new_sum, (uint8_t[2]){ (uint8_t)(port >> 8), (uint8_t)port }, 2);
	wr16(cp, csum_adjust(rd16(cp), old_sum, new_sum));
	if (proto == IPPROTO_UDP && rd16(cp) == 0)
		wr16(cp, 0xffff);
}

static uint32_t pseudo6_sum(const uint8_t *src, const uint8_t *dst, size_t l4total)
{
	uint8_t tail[8] = { 0 };

	wr32(tail, (uint32_t)l4total);
	tail[7] = IPPROTO_ICMPV6;
	return pkt_csum_add(pkt_csum_add(pkt_csum_add(0, src, 16), dst, 16), tail, 8);
}

static uint32_t addr_sum(const uint8_t *src, const uint8_t *dst, size_t alen)
{
	return pkt_csum_add(pkt_csum_add(0, src, alen), dst, alen);
}

/* ------------------------------------------------------------ IP headers */

static void put_ip4(struct nat64 *nat, uint8_t *o, const uint8_t *ip6, size_t l4total,
		    uint8_t proto, const uint8_t *src4, const uint8_t *dst4)
{
	size_t tot = 20 + l4total;

	o[0] = 0x45;
	o[1] = (uint8_t)(ip6[0] << 4 | ip6[1] >> 4); /* traffic class */
	wr16(o + 2, (uint16_t)tot);
	/*
	 * RFC 7915 5.1: DF set on packets over 1280 bytes of IPv6, so that path
	 * MTU discovery goes on; smaller ones may be fragmented by IPv4 routers
	 * (their sender cannot go lower than 1280), so they get an identification.
	 */
	if (tot + 20 > IPV6_MIN_MTU) {
		wr16(o + 4, 0);
		wr16(o + 6, 0x4000);
	} else {
		wr16(o + 4, ++nat->ip_id);
		wr16(o + 6, 0);
	}
	o[8] = ip6[7];
	o[9] = proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : proto;
	wr16(o + 10, 0);
	memcpy(o + 12, src4, 4);
	memcpy(o + 16, dst4, 4);
	wr16(o + 10, csum_full(0, o, 20));
}

static void put_ip6(const struct nat64 *nat, uint8_t *o, const uint8_t *ip4, size_t l4total,
		    uint8_t proto, const uint8_t *src6, const uint8_t *dst6)
{
	o[0] = (uint8_t)(0x60 | ip4[1] >> 4);
	o[1] = (uint8_t)(ip4[1] << 4);
	o[2] = o[3] = 0;
	wr16(o + 4, (uint16_t)l4total);
	o[6] = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
	o[7] = ip4[8];
	memcpy(o + 8, src6, 16);
	memcpy(o + 24, dst6, 16);
	(void)nat;
}

static void map6(const struct nat64 *nat, const uint8_t *a4, uint8_t *a6)
{
	memcpy(a6, nat->cfg.prefix, 12);
	memcpy(a6 + 12, a4, 4);
}

static bool in_prefix(const struct nat64 *nat, const uint8_t *a6)
{
	return memcmp(a6, nat->cfg.prefix, 12) == 0;
}

/* --------------------------------------------------- ICMP type mapping */

/* RFC 7915 4.2: ICMPv4 error -> ICMPv6 type/code; false: not translated. */
static bool map_err4to6(const struct nat64 *nat, const uint8_t *ic, size_t quote_len, uint8_t *type,
			uint8_t *code, uint32_t *word)
{
	static const uint8_t ptr4to6[20] = { 0,	   1,	 4, 4, 0xff, 0xff, 0xff, 0xff, 7,  6,
					     0xff, 0xff, 8, 8, 8,    8,	   24,	 24,   24, 24 };
	uint32_t mtu;

	*word = 0;
	switch (ic[0]) {
	case 3: /* destination unreachable */
		switch (ic[1]) {
		case 0:
		case 1:
		case 5:
		case 6:
		case 7:
		case 8:
		case 11:
		case 12:
			*type = 1, *code = 0;
			return true;
		case 9:
		case 10:
		case 13:
		case 15:
			*type = 1, *code = 1;
			return true;
		case 2: /* protocol unreachable: parameter problem at next header */
			*type = 4, *code = 1, *word = 6;
			return true;
		case 3:
			*type = 1, *code = 4;
			return true;
		case 4: /* fragmentation needed: Packet Too Big, MTU + 20, at least 1280 */
			mtu = rd16(ic + 6);
			mtu = mtu ? mtu + 20 : (uint32_t)quote_len + 20;
			if (mtu > nat->cfg.mtu6)
				mtu = nat->cfg.mtu6;
			*type = 2, *code = 0, *word = mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu;
			return true;
		default:
			return false;
		}
	case 11: /* time exceeded */
		*type = 3, *code = ic[1];
		return ic[1] <= 1;
	case 12: /* parameter problem: the pointer moves to the same field of IPv6 */
		if (ic[1] > 1 || ic[4] >= sizeof(ptr4to6) || ptr4to6[ic[4]] == 0xff)
			return false;
		*type = 4, *code = 0, *word = ptr4to6[ic[4]];
		return true;
	default:
		return false;
	}
}

/* RFC 7915 5.2: ICMPv6 error -> ICMPv4 type/code. */
static bool map_err6to4(const uint8_t *ic, uint8_t *type, uint8_t *code, uint32_t *word)
{
	uint32_t v = (uint32_t)rd16(ic + 4) << 16 | rd16(ic + 6);

	*word = 0;
	switch (ic[0]) {
	case 1:
		*type = 3;
		*code = ic[1] == 1 ? 10 : ic[1] == 4 ? 3 : 1;
		return ic[1] <= 4;
	case 2: /* Packet Too Big: fragmentation needed, the IPv4 MTU in the low 16 bits */
		*type = 3, *code = 4;
		*word = v < 20 ? 0 : v - 20 > 0xffff ? 0xffff : v - 20;
		return true;
	case 3:
		*type = 11, *code = ic[1];
		return ic[1] <= 1;
	case 4:
		if (ic[1] == 1) {
			*type = 3, *code = 2;
			return true;
		}
		if (ic[1] != 0)
			return false;
		*type = 12, *code = 0;
		*word = v == 0 || v == 1    ? v
			: v == 4 || v == 5  ? 2
			: v == 6	    ? 9
			: v == 7	    ? 8
			: v >= 8 && v < 24  ? 12
			: v >= 24 && v < 40 ? 16
					    : 0xff;
		*word <<= 24;
		return v < 40 && v != 2 && v != 3;
	default:
		return false;
	}
}

/* ------------------------------------------------------------ IPv6 -> IPv4 */

/*
 * The quote of an ICMPv6 error sent from the IPv6 side about a packet this
 * translator sent there: 64:ff9b::R -> host:port6. It becomes R -> pool:port4.
 * Writes the translated quote at @o; returns its length, or 0.
 */
static size_t quote6to4(struct nat64 *nat, const uint8_t *q, size_t qlen, uint8_t *o, size_t room,
			uint64_t now_ms)
{
	struct l3 l;
	struct bib *b;
	uint8_t *ol4;
	size_t n;

	if (parse6(q, qlen, true, &l) < 0 || !in_prefix(nat, q + 8) || l.l4len < 8)
		return 0;
	if (l.proto != IPPROTO_TCP && l.proto != IPPROTO_UDP && l.proto != IPPROTO_ICMPV6)
		return 0;
	if (l.proto == IPPROTO_ICMPV6 && l.l4[0] != 129)
		return 0; /* only an echo reply goes from the IPv6 side through a binding */
	b = bib_find6(&nat->bib, bib_proto(l.proto), q + 24,
		      rd16(l.l4 + (l.proto == IPPROTO_ICMPV6 ? 4 : 2)), now_ms);
	if (!b)
		return 0;
	n = 20 + l.l4len;
	if (n > room)
		n = room;
	put_ip4(nat, o, q, l.l4total, l.proto, q + 20, nat->cfg.pool4);
	ol4 = o + 20;
	memcpy(ol4, l.l4, n - 20);
	if (l.proto == IPPROTO_ICMPV6) {
		/* echo reply 129 -> 0; ICMPv4 has no pseudo-header */
		uint32_t old = pseudo6_sum(q + 8, q + 24, l.l4total);

		old = pkt_csum_add(old, l.l4, 2);
		old = pkt_csum_add(old, l.l4 + 4, 2);
		ol4[0] = 0;
		wr16(ol4 + 4, b->port4);
		if (n - 20 >= 4)
			wr16(ol4 + 2,
			     csum_adjust(rd16(ol4 + 2), old,
					 pkt_csum_add(pkt_csum_add(0, ol4, 2), ol4 + 4, 2)));
	} else {
		rewrite_port(ol4, n - 20, l.proto, false, b->port4, addr_sum(q + 8, q + 24, 16),
			     addr_sum(o + 12, o + 16, 4));
	}
	return n;
}

static int icmp6to4(struct nat64 *nat, const uint8_t *ip6, const struct l3 *l, uint8_t *o,
		    size_t *ret_l4len, uint64_t now_ms)
{
	const uint8_t *ic = l->l4;
	uint8_t type, code, *oi = o + 20;
	uint32_t word;
	size_t n;
	struct bib *b;

	if (l->l4len < 8)
		return -EPROTO;
	if (ic[0] == 128) { /* echo request: the identifier is the binding's port */
		if (l->l4len != l->l4total ||
		    csum_full(pseudo6_sum(ip6 + 8, ip6 + 24, l->l4len), ic, l->l4len) != 0)
			return -EPROTO; /* recomputed below: a damaged one must not be made whole */
		b = bib_find6(&nat->bib, BIB_ICMP, ip6 + 8, rd16(ic + 4), now_ms);
		if (!b)
			b = bib_add(&nat->bib, BIB_ICMP, ip6 + 8, rd16(ic + 4), now_ms);
		bib_touch(&nat->bib, b, now_ms);
		memcpy(oi, ic, l->l4len);
		oi[0] = 8;
		wr16(oi + 4, b->port4);
		wr16(oi + 2, 0);
		wr16(oi + 2, csum_full(0, oi, l->l4len));
		*ret_l4len = l->l4len;
		return 0;
	}
	if (!map_err6to4(ic, &type, &code, &word))
		return -EPROTO;
	n = quote6to4(nat, ic + 8, l->l4len - 8, oi + 8, ICMP4_ERR_MAX - 28, now_ms);
	if (!n)
		return -EPROTO;
	oi[0] = type;
	oi[1] = code;
	wr32(oi + 4, word);
	wr16(oi + 2, 0);
	wr16(oi + 2, csum_full(0, oi, 8 + n));
	*ret_l4len = 8 + n;
	nat->st.icmp_errors++;
	return 0;
}

static void tcp_track(struct bib *b, const uint8_t *tcp, size_t len, bool from4)
{
	uint8_t flags = len >= 14 ? tcp[13] : 0;

	if (flags & 0x05) /* FIN or RST: the connection closes */
		b->tcp_state = TCP_TRANS;
	else if (from4 && (flags & 0x10) && !(flags & 0x02))
		b->tcp_state = TCP_EST; /* a plain ACK from outside: both sides are up */
}

static int l4_6to4(struct nat64 *nat, const uint8_t *ip6, const struct l3 *l, uint8_t *o,
		   uint64_t now_ms)
{
	int proto = bib_proto(l->proto);
	size_t min = l->proto == IPPROTO_TCP ? 20 : 8;
	struct bib *b;

	if (l->l4len < min || l->l4len != l->l4total || !l4_sane(l->proto, l->l4, l->l4len))
		return -EPROTO;
	if (l->proto == IPPROTO_UDP && rd16(l->l4 + 6) == 0)
		return -EPROTO; /* RFC 8200: a zero UDP checksum is invalid in IPv6 */
	b = bib_find6(&nat->bib, proto, ip6 + 8, rd16(l->l4), now_ms);
	if (!b) {
		/* RFC 6146 3.5.2.2: only a SYN opens a TCP binding */
		if (l->proto == IPPROTO_TCP && !(l->l4[13] & 0x02))
			return -EPROTO;
		b = bib_add(&nat->bib, proto, ip6 + 8, rd16(l->l4), now_ms);
	}
	bib_touch(&nat->bib, b, now_ms);
	if (l->proto == IPPROTO_TCP)
		tcp_track(b, l->l4, l->l4len, false);
	memcpy(o + 20, l->l4, l->l4len);
	rewrite_port(o + 20, l->l4len, l->proto, true, b->port4, addr_sum(ip6 + 8, ip6 + 24, 16),
		     addr_sum(nat->cfg.pool4, ip6 + 36, 4));
	return 0;
}

static int from6(struct nat64 *nat, const uint8_t *p, size_t len, uint64_t now_ms,
		 nat64_emit_fn emit, void *ctx)
{
	uint8_t *o = nat->out;
	size_t l4len;
	struct l3 l;
	int r;

	/* a source inside the prefix would loop through the translator */
	if (parse6(p, len, false, &l) < 0 || !in_prefix(nat, p + 24) || in_prefix(nat, p + 8) ||
	    p[7] == 0)
		return -EPROTO;
	if (l.l4len > OUT_MAX - 20)
		return -EPROTO;
	l4len = l.l4len;
	if (l.proto == IPPROTO_ICMPV6)
		r = icmp6to4(nat, p, &l, o, &l4len, now_ms);
	else if (l.proto == IPPROTO_TCP || l.proto == IPPROTO_UDP)
		r = l4_6to4(nat, p, &l, o, now_ms);
	else
		r = -EPROTO; /* RFC 6146 translates TCP, UDP and ICMP only */
	if (r < 0)
		return r;
	put_ip4(nat, o, p, l4len, l.proto, nat->cfg.pool4, p + 36);
	emit(ctx, o, 20 + l4len);
	nat->st.translated_6to4++;
	return 1;
}

/* ------------------------------------------------------------ IPv4 -> IPv6 */

/*
 * The quote of an ICMPv4 error about a packet this translator sent to the
 * IPv4 side: pool:port4 -> R. It becomes host:port6 -> 64:ff9b::R. Writes
 * it at @o; returns its length, or 0.
 */
static size_t quote4to6(struct nat64 *nat, const uint8_t *q, size_t qlen, uint8_t *o, size_t room,
			uint64_t now_ms)
{
	uint8_t dst6[16], *ol4;
	struct bib *b;
	struct l3 l;
	size_t n;

	if (parse4(q, qlen, true, &l) < 0 || memcmp(q + 12, nat->cfg.pool4, 4) != 0 || l.l4len < 8)
		return 0;
	if (l.proto != IPPROTO_TCP && l.proto != IPPROTO_UDP && l.proto != IPPROTO_ICMP)
		return 0;
	if (l.proto == IPPROTO_ICMP && l.l4[0] != 8)
		return 0;
	b = bib_find4(&nat->bib, bib_proto(l.proto), rd16(l.l4 + (l.proto == IPPROTO_ICMP ? 4 : 0)),
		      now_ms);
	if (!b)
		return 0;
	map6(nat, q + 16, dst6);
	n = 40 + l.l4len;
	if (n > room)
		n = room;
	put_ip6(nat, o, q, l.l4total, l.proto, b->addr6, dst6);
	ol4 = o + 40;
	memcpy(ol4, l.l4, n - 40);
	if (l.proto == IPPROTO_ICMP) {
		uint32_t old = pkt_csum_add(pkt_csum_add(0, l.l4, 2), l.l4 + 4, 2);

		ol4[0] = 128;
		wr16(ol4 + 4, b->port6);
		if (n - 40 >= 4)
			wr16(ol4 + 2,
			     csum_adjust(rd16(ol4 + 2), old,
					 pkt_csum_add(pseudo6_sum(b->addr6, dst6, l.l4total),
						      (uint8_t[4]){ 128, ol4[1], ol4[4], ol4[5] },
						      4)));
	} else {
		rewrite_port(ol4, n - 40, l.proto, true, b->port6, addr_sum(q + 12, q + 16, 4),
			     addr_sum(b->addr6, dst6, 16));
	}
	return n;
}

static int icmp4to6(struct nat64 *nat, const uint8_t *ip4, const struct l3 *l, uint8_t *o,
		    size_t *ret_l4len, uint64_t now_ms)
{
	const uint8_t *ic = l->l4;
	uint8_t type, code, src6[16], *oi = o + 40;
	uint32_t word;
	struct bib *b;
	size_t n;

	if (l->l4len < 8)
		return -EPROTO;
	map6(nat, ip4 + 12, src6);
	if (ic[0] == 0) { /* echo reply */
		if (l->l4len != l->l4total || csum_full(0, ic, l->l4len) != 0)
			return -EPROTO;
		b = bib_find4(&nat->bib, BIB_ICMP, rd16(ic + 4), now_ms);
		if (!b)
			return -EPROTO;
		bib_touch(&nat->bib, b, now_ms);
		memcpy(oi, ic, l->l4len);
		oi[0] = 129;
		wr16(oi + 4, b->port6);
		wr16(oi + 2, 0);
		memcpy(o + 8, src6, 16);
		memcpy(o + 24, b->addr6, 16);
		wr16(oi + 2, csum_full(pseudo6_sum(src6, b->addr6, l->l4len), oi, l->l4len));
		*ret_l4len = l->l4len;
		return 0;
	}
	if (!map_err4to6(nat, ic, l->l4len - 8, &type, &code, &word))
		return -EPROTO;
	n = quote4to6(nat, ic + 8, l->l4len - 8, oi + 8, IPV6_MIN_MTU - 48, now_ms);
	if (!n)
		return -EPROTO;
	memcpy(o + 8, src6, 16);
	memcpy(o + 24, oi + 8 + 8, 16); /* to the quoted packet's source: the IPv6 host */
	oi[0] = type;
	oi[1] = code;
	wr32(oi + 4, word);
	wr16(oi + 2, 0);
	wr16(oi + 2, csum_full(pseudo6_sum(src6, o + 24, 8 + n), oi, 8 + n));
	*ret_l4len = 8 + n;
	nat->st.icmp_errors++;
	return 0;
}

static int l4_4to6(struct nat64 *nat, const uint8_t *ip4, const struct l3 *l, uint8_t *o,
		   uint64_t now_ms)
{
	size_t min = l->proto == IPPROTO_TCP ? 20 : 8;
	uint8_t src6[16];
	struct bib *b;

	if (l->l4len < min || l->frag || !l4_sane(l->proto, l->l4, l->l4len))
		return -EPROTO;
	b = bib_find4(&nat->bib, bib_proto(l->proto), rd16(l->l4 + 2), now_ms);
	if (!b)
		return -EPROTO; /* no binding: nothing gets in unsolicited */
	bib_touch(&nat->bib, b, now_ms);
	if (l->proto == IPPROTO_TCP)
		tcp_track(b, l->l4, l->l4len, true);
	map6(nat, ip4 + 12, src6);
	memcpy(o + 8, src6, 16);
	memcpy(o + 24, b->addr6, 16);
	memcpy(o + 40, l->l4, l->l4len);
	if (l->proto == IPPROTO_UDP && rd16(l->l4 + 6) == 0) {
		/* RFC 7915 4.5: IPv6 needs the checksum IPv4 left out; compute it whole */
		uint8_t tail[8] = { 0, 0, 0, 0, 0, 0, 0, IPPROTO_UDP };
		uint32_t s = addr_sum(src6, b->addr6, 16);

		wr16(o + 42, b->port6);
		wr32(tail, (uint32_t)l->l4len);
		s = pkt_csum_add(s, tail, 8);
		wr16(o + 46, csum_full(s, o + 40, l->l4len));
		if (rd16(o + 46) == 0)
			wr16(o + 46, 0xffff);
		return 0;
	}
	rewrite_port(o + 40, l->l4len, l->proto, false, b->port6, addr_sum(ip4 + 12, ip4 + 16, 4),
		     addr_sum(src6, b->addr6, 16));
	return 0;
}

/*
 * RFC 7915 4 / 5.1.1: an IPv4 packet without DF that is too big for an IPv6
 * minimum MTU is sent as IPv6 fragments of at most 1280 bytes (the IPv4 sender
 * allowed fragmentation, IPv6 routers do not fragment).
 */
static int emit_frags(struct nat64 *nat, const uint8_t *ip4, size_t l4len, nat64_emit_fn emit,
		      void *ctx)
{
	const size_t chunk = (IPV6_MIN_MTU - 48) & ~(size_t)7;
	uint8_t *f = nat->frag, nh = nat->out[6];
	size_t off;
	int n = 0;

	nat->frag_id++;
	for (off = 0; off < l4len; off += chunk) {
		size_t part = l4len - off < chunk ? l4len - off : chunk;

		memcpy(f, nat->out, 40);
		wr16(f + 4, (uint16_t)(8 + part));
		f[6] = IPPROTO_FRAGMENT;
		f[40] = nh;
		f[41] = 0;
		wr16(f + 42, (uint16_t)(off | (off + part < l4len ? 1 : 0)));
		wr32(f + 44, nat->frag_id ^ rd16(ip4 + 4));
		memcpy(f + 48, nat->out + 40 + off, part);
		emit(ctx, f, 48 + part);
		n++;
	}
	return n;
}

static int from4(struct nat64 *nat, const uint8_t *p, size_t len, uint64_t now_ms,
		 nat64_emit_fn emit, void *ctx)
{
	uint8_t *o = nat->out;
	size_t l4len;
	struct l3 l;
	int r;

	if (parse4(p, len, false, &l) < 0 || memcmp(p + 16, nat->cfg.pool4, 4) != 0 || l.frag)
		return -EPROTO;
	if (csum_full(0, p, (size_t)(p[0] & 0xf) * 4) != 0 || p[8] == 0)
		return -EPROTO;
	l4len = l.l4len;
	if (l.proto == IPPROTO_ICMP)
		r = icmp4to6(nat, p, &l, o, &l4len, now_ms);
	else if (l.proto == IPPROTO_TCP || l.proto == IPPROTO_UDP)
		r = l4_4to6(nat, p, &l, o, now_ms);
	else
		r = -EPROTO;
	if (r < 0)
		return r;
	{
		uint8_t src6[16], dst6[16];

		memcpy(src6, o + 8, 16);
		memcpy(dst6, o + 24, 16);
		put_ip6(nat, o, p, l4len, l.proto, src6, dst6);
	}
	nat->st.translated_4to6++;
	if (40 + l4len > IPV6_MIN_MTU && !is_df(p))
		return emit_frags(nat, p, l4len, emit, ctx);
	emit(ctx, o, 40 + l4len);
	return 1;
}

int nat64_input(struct nat64 *nat, uint64_t now_ms, const uint8_t *pkt, size_t len,
		nat64_emit_fn emit, void *ctx)
{
	int r = -EPROTO;

	bib_expire(&nat->bib, now_ms);
	if (len >= 1 && pkt[0] >> 4 == 6)
		r = from6(nat, pkt, len, now_ms, emit, ctx);
	else if (len >= 1 && pkt[0] >> 4 == 4)
		r = from4(nat, pkt, len, now_ms, emit, ctx);
	if (r <= 0) {
		nat->st.dropped++;
		return 0;
	}
	return r;
}

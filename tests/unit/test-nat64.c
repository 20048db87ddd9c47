/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of link/nat64: packets built by pkt/ go through the translator
 * both ways and come out parsed by pkt/ with every checksum recomputed from
 * scratch here (IPv4 header, TCP/UDP/ICMPv6 with their pseudo-header, ICMP):
 * UDP, TCP and echo round trips, ICMP errors with their quoted packet in both
 * directions (port unreachable, time exceeded, fragmentation needed / packet
 * too big), DF and IPv6 fragmentation, the table bound with LRU eviction,
 * timeouts, and malformed input dropped and counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "link/nat64.h"
#include "pkt/pkt.h"

#define MAXOUT 64

static const uint8_t host6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t host6b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x11 };
static const uint8_t srv4[4] = { 198, 51, 100, 7 };
static const uint8_t rtr4[4] = { 192, 0, 2, 9 };
static const uint8_t pool4[4] = { 203, 0, 113, 1 };

/* Every packet the translator emitted during one call, copied. */
struct sink {
	int n;
	size_t len[MAXOUT];
	uint8_t pkt[MAXOUT][2048];
};

static void collect(void *ctx, const uint8_t *pkt, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->n < MAXOUT);
	assert_true(len <= sizeof(s->pkt[0]));
	memcpy(s->pkt[s->n], pkt, len);
	s->len[s->n++] = len;
}

static void wkp(uint8_t a6[16], const uint8_t a4[4])
{
	memset(a6, 0, 16);
	a6[1] = 0x64;
	a6[2] = 0xff;
	a6[3] = 0x9b;
	memcpy(a6 + 12, a4, 4);
}

static struct nat64 *mk(uint32_t max_bibs)
{
	struct nat64_config c;
	nslab_error err = { 0 };
	struct nat64 *nat = NULL;

	nat64_config_default(&c);
	memcpy(c.pool4, pool4, 4);
	if (max_bibs)
		c.max_bibs = max_bibs;
	if (nat64_new(&c, &nat, &err) < 0)
		fail_msg("nat64_new: %s", err.msg);
	return nat;
}

static size_t build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	nslab_error err = { 0 };
	size_t len = 0;

	if (pkt_build(s, buf, cap, &len, &err) < 0)
		fail_msg("pkt_build: %s", err.msg);
	return len;
}

static struct pkt_spec spec6(const uint8_t *src, const uint8_t *dst4, int proto)
{
	struct pkt_spec s = { .family = AF_INET6, .proto = proto };

	memcpy(s.src, src, 16);
	wkp(s.dst, dst4);
	return s;
}

static struct pkt_spec spec4(const uint8_t *src, int proto)
{
	struct pkt_spec s = { .family = AF_INET, .proto = proto };

	memcpy(s.src, src, 4);
	memcpy(s.dst, pool4, 4);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return fold(s);
}

/* Every checksum of a whole packet, computed here without pkt/'s code. */
static void assert_csums(const uint8_t *p, size_t len)
{
	uint8_t ph[8] = { 0 };
	uint32_t s;

	if (p[0] >> 4 == 4) {
		size_t ihl = (size_t)(p[0] & 0xf) * 4;

		assert_int_equal(fold(sum(0, p, ihl)), 0xffff);
		if (p[9] == IPPROTO_ICMP) {
			assert_int_equal(fold(sum(0, p + ihl, len - ihl)), 0xffff);
			return;
		}
		s = sum(sum(0, p + 12, 8),
			(uint8_t[4]){ 0, p[9], (uint8_t)((len - ihl) >> 8), (uint8_t)(len - ihl) },
			4);
		assert_int_equal(fold(sum(s, p + ihl, len - ihl)), 0xffff);
		return;
	}
	ph[2] = (uint8_t)((len - 40) >> 8);
	ph[3] = (uint8_t)(len - 40);
	ph[7] = p[6];
	s = sum(sum(0, p + 8, 32), ph, 8);
	assert_int_equal(fold(sum(s, p + 40, len - 40)), 0xffff);
}

static void parse(const uint8_t *p, size_t len, struct pkt_info *info)
{
	nslab_error err = { 0 };

	if (pkt_parse(p, len, info, &err) < 0)
		fail_msg("pkt_parse: %s", err.msg);
	assert_csums(p, len);
}

/* Send one packet through; expect exactly one out, parsed. */
static void xlate1(struct nat64 *nat, uint64_t now, const uint8_t *p, size_t len, struct sink *s,
		   struct pkt_info *info)
{
	s->n = 0;
	assert_int_equal(nat64_input(nat, now, p, len, collect, s), 1);
	assert_int_equal(s->n, 1);
	parse(s->pkt[0], s->len[0], info);
}

static void xlate0(struct nat64 *nat, uint64_t now, const uint8_t *p, size_t len)
{
	struct sink s = { 0 };

	assert_int_equal(nat64_input(nat, now, p, len, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

static uint16_t udp_out(struct nat64 *nat, uint64_t now, const uint8_t *src6, uint16_t sport)
{
	static const uint8_t pl[] = "query";
	struct pkt_spec sp = spec6(src6, srv4, IPPROTO_UDP);
	struct pkt_info in;
	struct sink s;
	uint8_t b[256];

	sp.sport = sport;
	sp.dport = 53;
	sp.payload = pl;
	sp.payload_len = sizeof(pl);
	xlate1(nat, now, b, build(&sp, b, sizeof(b)), &s, &in);
	return in.sport;
}

/* A reply from the server to pool:port4; returns packets emitted. */
static int udp_in(struct nat64 *nat, uint64_t now, uint16_t port4, struct pkt_info *info,
		  struct sink *s)
{
	struct pkt_spec sp = spec4(srv4, IPPROTO_UDP);
	uint8_t b[256];
	int r;

	sp.sport = 53;
	sp.dport = port4;
	s->n = 0;
	r = nat64_input(nat, now, b, build(&sp, b, sizeof(b)), collect, s);
	if (r == 1)
		parse(s->pkt[0], s->len[0], info);
	return r;
}

/* ------------------------------------------------------------------- tests */

static void test_udp_roundtrip(void **state)
{
	struct nat64 *nat = mk(0);
	struct nat64_stats st;
	struct pkt_info in;
	struct sink s;
	uint8_t srv6[16];
	uint16_t p4;

	(void)state;
	p4 = udp_out(nat, 1000, host6, 5000);
	assert_int_equal(p4, 5000); /* port preserved when free */
	assert_int_equal(udp_in(nat, 2000, p4, &in, &s), 1);
	assert_int_equal(in.family, AF_INET6);
	wkp(srv6, srv4);
	assert_memory_equal(in.src, srv6, 16);
	assert_memory_equal(in.dst, host6, 16);
	assert_int_equal(in.sport, 53);
	assert_int_equal(in.dport, 5000);
	nat64_stats_get(nat, &st);
	assert_int_equal(st.translated_6to4, 1);
	assert_int_equal(st.translated_4to6, 1);
	assert_int_equal(st.bibs, 1);
	/* the IPv4 side: source is the pool address, destination the embedded one */
	s.n = 0;
	{
		struct pkt_spec sp = spec6(host6, srv4, IPPROTO_UDP);
		uint8_t b[128];

		sp.sport = 5000;
		sp.dport = 53;
		sp.ttl = 33;
		xlate1(nat, 3000, b, build(&sp, b, sizeof(b)), &s, &in);
		assert_int_equal(in.family, AF_INET);
		assert_memory_equal(in.src, pool4, 4);
		assert_memory_equal(in.dst, srv4, 4);
		assert_int_equal(in.ttl, 33);
		assert_int_equal(s.pkt[0][6] & 0x40, 0); /* small: DF clear, so IPv4 may fragment */
	}
	nat64_free(nat);
}

static void test_udp_zero_csum_from4(void **state)
{
	struct nat64 *nat = mk(0);
	struct pkt_spec sp = spec4(srv4, IPPROTO_UDP);
	struct pkt_info in;
	struct sink s;
	uint8_t b[128];
	size_t len;

	(void)state;
	udp_out(nat, 0, host6, 6000);
	sp.sport = 53;
	sp.dport = 6000;
	sp.payload = (const uint8_t *)"abc";
	sp.payload_len = 3;
	len = build(&sp, b, sizeof(b));
	b[26] = b[27] = 0;		 /* IPv4 allows "no checksum"; IPv6 does not */
	xlate1(nat, 1, b, len, &s, &in); /* parse() verifies the computed checksum */
	assert_int_equal(in.dport, 6000);
	nat64_free(nat);
}

static void test_same_port_two_hosts(void **state)
{
	struct nat64 *nat = mk(0);
	uint16_t a, b, a2;

	(void)state;
	a = udp_out(nat, 0, host6, 7000);
	b = udp_out(nat, 1, host6b, 7000);
	assert_int_equal(a, 7000);
	assert_int_not_equal(b, 7000);
	a2 = udp_out(nat, 2, host6, 7000);
	assert_int_equal(a, a2); /* endpoint-independent: the same mapping again */
	nat64_free(nat);
}

static void test_tcp(void **state)
{
	struct nat64 *nat = mk(0);
	struct pkt_spec sp = spec6(host6, srv4, IPPROTO_TCP);
	struct pkt_info in;
	struct sink s;
	uint8_t b[256];

	(void)state;
	sp.sport = 40000;
	sp.dport = 80;
	sp.tcp_flags = 0x10; /* a bare ACK opens nothing */
	xlate0(nat, 0, b, build(&sp, b, sizeof(b)));
	sp.tcp_flags = 0x02;
	sp.tcp_seq = 1234;
	xlate1(nat, 0, b, build(&sp, b, sizeof(b)), &s, &in);
	assert_int_equal(in.proto, IPPROTO_TCP);
	assert_int_equal(in.tcp_flags, 0x02);
	assert_int_equal(in.tcp_seq, 1234);
	{
		struct pkt_spec r = spec4(srv4, IPPROTO_TCP);

		r.sport = 80;
		r.dport = in.sport;
		r.tcp_flags = 0x12;
		r.tcp_ack = 1235;
		xlate1(nat, 1, b, build(&r, b, sizeof(b)), &s, &in);
		assert_int_equal(in.family, AF_INET6);
		assert_int_equal(in.dport, 40000);
		assert_int_equal(in.tcp_ack, 1235);
		assert_memory_equal(in.dst, host6, 16);
		r.dport = (uint16_t)(r.dport + 1); /* no binding there: dropped */
		xlate0(nat, 2, b, build(&r, b, sizeof(b)));
	}
	nat64_free(nat);
}

static void test_echo(void **state)
{
	struct nat64 *nat = mk(0);
	struct pkt_spec sp = spec6(host6, srv4, IPPROTO_ICMPV6);
	static const uint8_t data[] = "ping payload";
	struct pkt_info in;
	struct sink s;
	uint8_t b[256];
	uint16_t id4;

	(void)state;
	sp.icmp_type = 128;
	sp.icmp_id = 77;
	sp.icmp_seq = 3;
	sp.payload = data;
	sp.payload_len = sizeof(data);
	xlate1(nat, 0, b, build(&sp, b, sizeof(b)), &s, &in);
	assert_int_equal(in.family, AF_INET);
	assert_int_equal(in.icmp_type, 8);
	assert_int_equal(in.icmp_seq, 3);
	assert_int_equal(in.payload_len, sizeof(data));
	id4 = in.icmp_id;
	{
		struct pkt_spec r = spec4(srv4, IPPROTO_ICMP);

		r.icmp_type = 0;
		r.icmp_id = id4;
		r.icmp_seq = 3;
		r.payload = data;
		r.payload_len = sizeof(data);
		xlate1(nat, 1, b, build(&r, b, sizeof(b)), &s, &in);
		assert_int_equal(in.family, AF_INET6);
		assert_int_equal(in.icmp_type, 129);
		assert_int_equal(in.icmp_id, 77);
		assert_int_equal(in.icmp_seq, 3);
		r.icmp_type = 8; /* an echo request from outside: no binding, no way in */
		xlate0(nat, 2, b, build(&r, b, sizeof(b)));
	}
	nat64_free(nat);
}

/* The IPv4 packet the translator sent for a UDP flow host6:5000 -> srv4:53, quoted in an error. */
static size_t error4(struct nat64 *nat, const uint8_t *from4, uint8_t type, uint8_t code,
		     uint16_t mtu, uint8_t *b, size_t cap)
{
	struct pkt_spec sp = spec6(host6, srv4, IPPROTO_UDP), e = spec4(from4, IPPROTO_ICMP);
	struct pkt_info in;
	struct sink s;
	uint8_t q[128];

	sp.sport = 5000;
	sp.dport = 53;
	sp.payload = (const uint8_t *)"hello";
	sp.payload_len = 5;
	xlate1(nat, 0, q, build(&sp, q, sizeof(q)), &s, &in);
	e.icmp_type = type;
	e.icmp_code = code;
	e.icmp_seq = mtu;
	e.payload = s.pkt[0];
	e.payload_len = s.len[0];
	return build(&e, b, cap);
}

static void test_error4_port_unreachable(void **state)
{
	struct nat64 *nat = mk(0);
	struct nat64_stats st;
	struct pkt_info in;
	struct sink s;
	uint8_t b[512], srv6[16];

	(void)state;
	xlate1(nat, 1, b, error4(nat, srv4, 3, 3, 0, b, sizeof(b)), &s, &in);
	wkp(srv6, srv4);
	assert_int_equal(in.family, AF_INET6);
	assert_int_equal(in.icmp_type, 1);
	assert_int_equal(in.icmp_code, 4);
	assert_memory_equal(in.src, srv6, 16);
	assert_memory_equal(in.dst, host6, 16);
	assert_true(in.inner.set);
	assert_int_equal(in.inner.family, AF_INET6);
	assert_memory_equal(in.inner.src, host6, 16);
	assert_memory_equal(in.inner.dst, srv6, 16);
	assert_true(in.inner.has_ports);
	assert_int_equal(in.inner.sport, 5000);
	assert_int_equal(in.inner.dport, 53);
	/* the quoted UDP checksum was adjusted too: it verifies as a whole packet */
	assert_csums(s.pkt[0] + 48, s.len[0] - 48);
	nat64_stats_get(nat, &st);
	assert_int_equal(st.icmp_errors, 1);
	nat64_free(nat);
}

static void test_error4_time_exceeded_and_frag_needed(void **state)
{
	struct nat64 *nat = mk(0);
	struct pkt_info in;
	struct sink s;
	uint8_t b[512], rtr6[16];

	(void)state;
	xlate1(nat, 1, b, error4(nat, rtr4, 11, 0, 0, b, sizeof(b)), &s, &in);
	wkp(rtr6, rtr4);
	assert_int_equal(in.icmp_type, 3);
	assert_int_equal(in.icmp_code, 0);
	assert_memory_equal(in.src, rtr6, 16); /* traceroute sees the IPv4 hop */
	xlate1(nat, 1, b, error4(nat, rtr4, 3, 4, 1400, b, sizeof(b)), &s, &in);
	assert_int_equal(in.icmp_type, 2);
	assert_int_equal(
		(s.pkt[0][44] << 24 | s.pkt[0][45] << 16 | s.pkt[0][46] << 8 | s.pkt[0][47]),
		1420); /* IPv4 MTU + 20 */
	xlate1(nat, 1, b, error4(nat, rtr4, 3, 4, 600, b, sizeof(b)), &s, &in);
	assert_int_equal(s.pkt[0][46] << 8 | s.pkt[0][47], 1280); /* never under IPv6's minimum */
	xlate0(nat, 1, b, error4(nat, rtr4, 5, 0, 0, b, sizeof(b))); /* redirect: not translated */
	nat64_free(nat);
}

static void test_error6_to4(void **state)
{
	struct nat64 *nat = mk(0);
	struct pkt_spec r = spec4(srv4, IPPROTO_UDP), e;
	struct pkt_info in;
	struct sink s;
	uint8_t b[512], q[128], quote[128];
	uint16_t p4;

	(void)state;
	p4 = udp_out(nat, 0, host6, 5000);
	r.sport = 53;
	r.dport = p4;
	xlate1(nat, 0, q, build(&r, q, sizeof(q)), &s, &in);
	/* the IPv6 host refuses the reply: port unreachable quoting it */
	e = spec6(host6, srv4, IPPROTO_ICMPV6);
	e.icmp_type = 1;
	e.icmp_code = 4;
	assert_true(s.len[0] <= sizeof(quote));
	memcpy(quote, s.pkt[0], s.len[0]);
	e.payload = quote;
	e.payload_len = s.len[0];
	xlate1(nat, 1, b, build(&e, b, sizeof(b)), &s, &in);
	assert_int_equal(in.family, AF_INET);
	assert_int_equal(in.icmp_type, 3);
	assert_int_equal(in.icmp_code, 3);
	assert_memory_equal(in.src, pool4, 4);
	assert_memory_equal(in.dst, srv4, 4);
	assert_true(in.inner.set && in.inner.has_ports);
	assert_memory_equal(in.inner.src, srv4, 4);
	assert_memory_equal(in.inner.dst, pool4, 4);
	assert_int_equal(in.inner.dport, p4);
	/* Packet Too Big 1400 becomes fragmentation needed, MTU 1380 */
	e.icmp_type = 2;
	e.icmp_code = 0;
	e.icmp_id = 0;
	e.icmp_seq = 1400;
	xlate1(nat, 1, b, build(&e, b, sizeof(b)), &s, &in);
	assert_int_equal(in.icmp_type, 3);
	assert_int_equal(in.icmp_code, 4);
	assert_int_equal(s.pkt[0][26] << 8 | s.pkt[0][27], 1380);
	nat64_free(nat);
}

static void test_df_and_fragments(void **state)
{
	static uint8_t big[1600], b[2048];
	struct nat64 *nat = mk(0);
	struct pkt_spec sp = spec6(host6, srv4, IPPROTO_UDP), r;
	struct pkt_info in;
	struct sink *s = calloc(1, sizeof(*s));
	uint8_t whole[2048];
	size_t len, off = 0;
	int i;

	(void)state;
	memset(big, 0xab, sizeof(big));
	sp.sport = 5000;
	sp.dport = 53;
	sp.payload = big;
	sp.payload_len = 1400;
	xlate1(nat, 0, b, build(&sp, b, sizeof(b)), s, &in);
	assert_int_equal(s->pkt[0][6] & 0x40, 0x40); /* over 1280: DF set */
	/* a 1500-byte IPv4 reply without DF: IPv6 fragments of at most 1280 */
	r = spec4(srv4, IPPROTO_UDP);
	r.sport = 53;
	r.dport = 5000;
	r.payload = big;
	r.payload_len = 1472;
	len = build(&r, b, sizeof(b));
	s->n = 0;
	assert_int_equal(nat64_input(nat, 1, b, len, collect, s), 2);
	for (i = 0; i < s->n; i++) {
		const uint8_t *f = s->pkt[i];
		size_t part = s->len[i] - 48;

		assert_true(s->len[i] <= 1280);
		assert_int_equal(f[6], IPPROTO_FRAGMENT);
		assert_int_equal(f[40], IPPROTO_UDP);
		assert_int_equal((f[42] << 8 | f[43]) & ~7, off);
		assert_int_equal(f[43] & 1, i + 1 < s->n);
		memcpy(whole + 40 + off, f + 48, part);
		off += part;
	}
	assert_int_equal(off, 8 + 1472);
	/* reassembled, it is the whole datagram with a good checksum */
	memcpy(whole, s->pkt[0], 40);
	whole[4] = (uint8_t)(off >> 8);
	whole[5] = (uint8_t)off;
	whole[6] = IPPROTO_UDP;
	parse(whole, 40 + off, &in);
	assert_int_equal(in.dport, 5000);
	/* with DF: one packet, Packet Too Big is then the kernel's job on the way out */
	b[6] |= 0x40;
	b[10] = b[11] = 0;
	{
		uint32_t sm = sum(0, b, 20);

		b[10] = (uint8_t)(~sm >> 8);
		b[11] = (uint8_t)~sm;
	}
	s->n = 0;
	assert_int_equal(nat64_input(nat, 1, b, len, collect, s), 1);
	assert_int_equal(s->len[0], 40 + 8 + 1472);
	free(s);
	nat64_free(nat);
}

static void test_bound_evicts_oldest(void **state)
{
	struct nat64 *nat = mk(4);
	struct nat64_stats st;
	struct pkt_info in;
	struct sink s;
	uint16_t p[6];
	int i;

	(void)state;
	for (i = 0; i < 6; i++)
		p[i] = udp_out(nat, (uint64_t)i * 10, host6, (uint16_t)(8000 + i));
	nat64_stats_get(nat, &st);
	assert_int_equal(st.bibs, 4);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(udp_in(nat, 100, p[0], &in, &s), 0); /* the two oldest are gone */
	assert_int_equal(udp_in(nat, 100, p[1], &in, &s), 0);
	assert_int_equal(udp_in(nat, 100, p[2], &in, &s), 1);
	/* p[2] was just used: the next flow evicts p[3], the least recently used */
	udp_out(nat, 110, host6, 9000);
	assert_int_equal(udp_in(nat, 120, p[3], &in, &s), 0);
	assert_int_equal(udp_in(nat, 120, p[2], &in, &s), 1);
	nat64_stats_get(nat, &st);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(st.dropped, 3);
	nat64_free(nat);
}

static void test_timeouts(void **state)
{
	struct nat64 *nat = mk(0);
	struct nat64_stats st;
	struct pkt_info in;
	struct sink s;
	uint16_t p;

	(void)state;
	p = udp_out(nat, 0, host6, 5000);
	assert_int_equal(udp_in(nat, 299999, p, &in, &s), 1); /* refreshed at 299.999 s */
	assert_int_equal(udp_in(nat, 599998, p, &in, &s), 1);
	assert_int_equal(udp_in(nat, 899998, p, &in, &s), 0); /* 5 min of silence */
	nat64_stats_get(nat, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.bibs, 0);
	nat64_free(nat);
}

static void test_malformed_dropped(void **state)
{
	struct nat64 *nat = mk(0);
	struct pkt_spec sp = spec6(host6, srv4, IPPROTO_UDP);
	struct nat64_stats st;
	uint8_t b[256], other[16] = { 0x20, 0x01, [15] = 1 };
	size_t len, i;

	(void)state;
	sp.sport = 1;
	sp.dport = 2;
	len = build(&sp, b, sizeof(b));
	for (i = 0; i < len; i++)
		xlate0(nat, 0, b, i); /* every truncation */
	b[4] = 0xff;		      /* payload length past the end */
	xlate0(nat, 0, b, len);
	memcpy(sp.dst, other, 16); /* not in the prefix */
	xlate0(nat, 0, b, build(&sp, b, sizeof(b)));
	sp = spec6(host6, srv4, IPPROTO_UDP);
	sp.sport = 1;
	sp.dport = 2;
	len = build(&sp, b, sizeof(b));
	b[44] = 0;
	b[45] = 200; /* a UDP length past the datagram (found by libFuzzer) */
	xlate0(nat, 0, b, len);
	sp = spec6(host6, srv4, 250); /* a protocol NAT64 does not carry */
	xlate0(nat, 0, b, build(&sp, b, sizeof(b)));
	{
		struct pkt_spec f = spec4(srv4, IPPROTO_UDP);

		f.sport = 53;
		f.dport = 1;
		len = build(&f, b, sizeof(b));
		b[10] ^= 1; /* bad header checksum */
		xlate0(nat, 0, b, len);
	}
	nat64_stats_get(nat, &st);
	assert_true(st.dropped >= 5);
	assert_int_equal(st.translated_6to4 + st.translated_4to6, 0);
	nat64_free(nat);
}

static void test_config_errors(void **state)
{
	struct nat64_config c;
	nslab_error err = { 0 };
	struct nat64 *nat = NULL;

	(void)state;
	nat64_config_default(&c);
	c.max_bibs = 0;
	assert_int_equal(nat64_new(&c, &nat, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "table size 0"));
	nat64_config_default(&c);
	c.port_min = 2000;
	c.port_max = 1000;
	assert_int_equal(nat64_new(&c, &nat, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "2000-1000"));
	assert_null(nat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_roundtrip),
		cmocka_unit_test(test_udp_zero_csum_from4),
		cmocka_unit_test(test_same_port_two_hosts),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_error4_port_unreachable),
		cmocka_unit_test(test_error4_time_exceeded_and_frag_needed),
		cmocka_unit_test(test_error6_to4),
		cmocka_unit_test(test_df_and_fragments),
		cmocka_unit_test(test_bound_evicts_oldest),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_malformed_dropped),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

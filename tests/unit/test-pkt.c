/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of pkt/: the builders checked byte for byte against packets made
 * by an independent implementation (and accepted by tcpdump -vv: "cksum
 * correct", "udp sum ok", "icmp6 sum ok"), every checksum recomputed to 0,
 * build -> parse round trips for each protocol and family, and the parsers on
 * truncated, malformed, fragmented, extension-header and ICMP-error packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pkt/pkt.h"

#define BUFSZ 2048

static const uint8_t a4[4] = { 10, 0, 0, 1 }, b4[4] = { 10, 0, 0, 2 };
static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* ------------------------------------------------------------------ helpers */

static struct pkt_spec spec(int family, int proto)
{
	struct pkt_spec s = { .family = family, .proto = proto };

	memcpy(s.src, family == AF_INET ? a4 : a6, family == AF_INET ? 4 : 16);
	memcpy(s.dst, family == AF_INET ? b4 : b6, family == AF_INET ? 4 : 16);
	return s;
}

static size_t build(const struct pkt_spec *s, uint8_t *buf)
{
	nslab_error err = { 0 };
	size_t len = 0;

	if (pkt_build(s, buf, BUFSZ, &len, &err) < 0)
		fail_msg("pkt_build: %s", err.msg);
	assert_int_equal(err.code, 0);
	return len;
}

static void parse_ok(const uint8_t *buf, size_t len, struct pkt_info *info)
{
	nslab_error err = { 0 };

	if (pkt_parse(buf, len, info, &err) < 0)
		fail_msg("pkt_parse: %s", err.msg);
}

/* The pseudo-header of the packet @in describes, laid out by hand (RFC 768, RFC 8200 8.1). */
static uint32_t pseudo_sum(const struct pkt_info *in, size_t l4_len)
{
	uint8_t b[40] = { 0 };

	if (in->family == AF_INET) {
		memcpy(b, in->src, 4);
		memcpy(b + 4, in->dst, 4);
		b[9] = (uint8_t)in->proto;
		b[10] = l4_len >> 8;
		b[11] = l4_len & 0xff;
		return pkt_csum_add(0, b, 12);
	}
	memcpy(b, in->src, 16);
	memcpy(b + 16, in->dst, 16);
	b[34] = l4_len >> 8;
	b[35] = l4_len & 0xff;
	b[39] = (uint8_t)in->proto;
	return pkt_csum_add(0, b, 40);
}

/* Every checksum of a packet (no extension headers) sums to 0xffff, i.e. recomputes to 0. */
static void assert_csums(const uint8_t *buf, size_t len)
{
	struct pkt_info in;
	const uint8_t *l4;
	size_t l4_len;

	parse_ok(buf, len, &in);
	l4 = buf + in.l4_off;
	l4_len = len - in.l4_off;
	if (in.family == AF_INET)
		assert_int_equal((uint16_t)~pkt_csum_fold(pkt_csum_add(0, buf, in.l4_off)), 0);
	switch (in.proto) {
	case IPPROTO_ICMP:
		assert_int_equal((uint16_t)~pkt_csum_fold(pkt_csum_add(0, l4, l4_len)), 0);
		break;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMPV6:
		assert_int_equal(
			(uint16_t)~pkt_csum_fold(pkt_csum_add(pseudo_sum(&in, l4_len), l4, l4_len)),
			0);
		break;
	default:
		break;
	}
}

/* Field by field: struct assignment need not copy padding. */
static void assert_info_equal(const struct pkt_info *a, const struct pkt_info *b)
{
	assert_int_equal(a->family, b->family);
	assert_memory_equal(a->src, b->src, 16);
	assert_memory_equal(a->dst, b->dst, 16);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->tag, b->tag);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->l4_off, b->l4_off);
	assert_int_equal(a->later_fragment, b->later_fragment);
	assert_int_equal(a->has_ports, b->has_ports);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->tcp_flags, b->tcp_flags);
	assert_int_equal(a->tcp_seq, b->tcp_seq);
	assert_int_equal(a->tcp_ack, b->tcp_ack);
	assert_int_equal(a->is_icmp, b->is_icmp);
	assert_int_equal(a->icmp_type, b->icmp_type);
	assert_int_equal(a->icmp_code, b->icmp_code);
	assert_int_equal(a->icmp_id, b->icmp_id);
	assert_int_equal(a->icmp_seq, b->icmp_seq);
	assert_ptr_equal(a->payload, b->payload);
	assert_int_equal(a->payload_len, b->payload_len);
	assert_int_equal(a->inner.set, b->inner.set);
	assert_int_equal(a->inner.family, b->inner.family);
	assert_memory_equal(a->inner.src, b->inner.src, 16);
	assert_memory_equal(a->inner.dst, b->inner.dst, 16);
	assert_int_equal(a->inner.proto, b->inner.proto);
	assert_int_equal(a->inner.tag, b->inner.tag);
	assert_int_equal(a->inner.has_ports, b->inner.has_ports);
	assert_int_equal(a->inner.sport, b->inner.sport);
	assert_int_equal(a->inner.dport, b->inner.dport);
}

/* pkt_parse() fails with -EPROTO and @msg, leaving its output alone. */
static void assert_parse_fails(const uint8_t *buf, size_t len, const char *msg)
{
	struct pkt_info info, orig;
	nslab_error err = { 0 };

	memset(&info, 0x5a, sizeof(info));
	orig = info;
	assert_int_equal(pkt_parse(buf, len, &info, &err), -EPROTO);
	assert_int_equal(err.code, EPROTO);
	if (msg)
		assert_string_equal(err.msg, msg);
	assert_memory_equal(&info, &orig, sizeof(info));
}

/* ----------------------------------------------------------------- checksum */

static void test_csum(void **state)
{
	/* RFC 1071 section 3 example: 0001 f203 f4f5 f6f7 sums to 2ddf0, folds to ddf2 */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	uint32_t sum;

	(void)state;
	assert_int_equal(pkt_csum_fold(pkt_csum_add(0, rfc, sizeof(rfc))), 0xddf2);
	assert_int_equal(pkt_csum_fold(0x2ddf0), 0xddf2);
	assert_int_equal(pkt_csum_fold(0xffffffff), 0xffff);
	assert_int_equal(pkt_csum_fold(0), 0);
	/* Chunks of even length chain */
	sum = pkt_csum_add(0, rfc, 2);
	sum = pkt_csum_add(sum, rfc + 2, 4);
	sum = pkt_csum_add(sum, rfc + 6, 2);
	assert_int_equal(pkt_csum_fold(sum), 0xddf2);
	/* An odd last byte is padded with zero: 1234 + 5600 */
	assert_int_equal(pkt_csum_fold(pkt_csum_add(0, odd, 3)), 0x6834);
	assert_int_equal(pkt_csum_add(7, NULL, 0), 7);
	/* A running total that is already large still folds correctly */
	assert_int_equal(pkt_csum_fold(pkt_csum_add(0xffffffff, rfc, sizeof(rfc))),
			 pkt_csum_fold(0xffff + 0xddf2));
}

/* ----------------------------------------------------------------- builders */

static void test_build_tcp_syn_v4(void **state)
{
	/* 10.0.0.1:40000 > 10.0.0.2:80 [S] seq 16909060 win 64240, id 0x1234, ttl 64 */
	static const uint8_t want[] = {
		0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x54, 0x9a, 0x0a, 0x00,
		0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04,
		0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0, 0x00, 0x59, 0x00, 0x00,
	};
	struct pkt_spec s = spec(AF_INET, IPPROTO_TCP);
	uint8_t buf[BUFSZ];
	size_t len;

	(void)state;
	s.sport = 40000;
	s.dport = 80;
	s.tcp_flags = 0x02;
	s.tcp_seq = 0x01020304;
	s.tag = 0xabcd1234; /* only the low 16 bits become the IP ID */
	len = build(&s, buf);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_csums(buf, len);
}

static void test_build_tcp_v6(void **state)
{
	/* 2001:db8::1.443 > 2001:db8::2.50000 [F.] seq 3735928559:3735928562 ack 287454020
	 * win 1024, flow label 0x12345, hop limit 1, "abc" */
	static const uint8_t want[] = {
		0x60, 0x01, 0x23, 0x45, 0x00, 0x17, 0x06, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
		0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x01, 0xbb, 0xc3, 0x50, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44,
		0x50, 0x11, 0x04, 0x00, 0xe4, 0xe9, 0x00, 0x00, 0x61, 0x62, 0x63,
	};
	struct pkt_spec s = spec(AF_INET6, IPPROTO_TCP);
	uint8_t buf[BUFSZ];
	size_t len;

	(void)state;
	s.sport = 443;
	s.dport = 50000;
	s.tcp_flags = 0x11;
	s.tcp_seq = 0xdeadbeef;
	s.tcp_ack = 0x11223344;
	s.tcp_window = 1024;
	s.ttl = 1;
	s.tag = 0xfff12345; /* only the low 20 bits become the flow label */
	s.payload = (const uint8_t *)"abc";
	s.payload_len = 3;
	len = build(&s, buf);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_csums(buf, len);
}

static void test_build_udp_v6(void **state)
{
	/* 2001:db8::1.5353 > 2001:db8::2.53 "hello", flow label 0xabcde */
	static const uint8_t want[] = {
		0x60, 0x0a, 0xbc, 0xde, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x14, 0xe9,
		0x00, 0x35, 0x00, 0x0d, 0x4b, 0x6f, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
	};
	struct pkt_spec s = spec(AF_INET6, IPPROTO_UDP);
	uint8_t buf[BUFSZ];
	size_t len;

	(void)state;
	s.sport = 5353;
	s.dport = 53;
	s.tag = 0xabcde;
	s.payload = (const uint8_t *)"hello";
	s.payload_len = 5;
	len = build(&s, buf);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_csums(buf, len);
}

static void test_build_udp_zero_csum(void **state)
{
	/* This payload makes the checksum compute to 0: it goes out as 0xffff */
	static const uint8_t want[] = {
		0x45, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
		0x66, 0xcd, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
		0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0a, 0xff, 0xff, 0xe0, 0x1f,
	};
	static const uint8_t payload[] = { 0xe0, 0x1f };
	struct pkt_spec s = spec(AF_INET, IPPROTO_UDP);
	uint8_t buf[BUFSZ];
	size_t len;

	(void)state;
	s.sport = 1000;
	s.dport = 2000;
	s.payload = payload;
	s.payload_len = sizeof(payload);
	len = build(&s, buf);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_csums(buf, len);
}

static void test_build_icmp_echo(void **state)
{
	/* 10.0.0.1 > 10.0.0.2: ICMP echo request, id 16962, seq 7, "ping", IP id 1 */
	static const uint8_t want4[] = {
		0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x66,
		0xda, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00,
		0xd6, 0xe5, 0x42, 0x42, 0x00, 0x07, 0x70, 0x69, 0x6e, 0x67,
	};
	/* 2001:db8::1 > 2001:db8::2: ICMP6 echo request, id 16962, seq 7, flow label 1 */
	static const uint8_t want6[] = {
		0x60, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
		0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x80, 0x00, 0x03, 0x2a, 0x42, 0x42, 0x00, 0x07, 0x70, 0x69, 0x6e, 0x67,
	};
	struct pkt_spec s4 = spec(AF_INET, IPPROTO_ICMP);
	struct pkt_spec s6 = spec(AF_INET6, IPPROTO_ICMPV6);
	uint8_t buf[BUFSZ];
	size_t len;

	(void)state;
	s4.icmp_type = 8;
	s4.icmp_id = 0x4242;
	s4.icmp_seq = 7;
	s4.tag = 1;
	s4.payload = (const uint8_t *)"ping";
	s4.payload_len = 4;
	len = build(&s4, buf);
	assert_int_equal(len, sizeof(want4));
	assert_memory_equal(buf, want4, sizeof(want4));
	assert_csums(buf, len);

	s6.icmp_type = 128;
	s6.icmp_id = 0x4242;
	s6.icmp_seq = 7;
	s6.tag = 1;
	s6.payload = (const uint8_t *)"ping";
	s6.payload_len = 4;
	len = build(&s6, buf);
	assert_int_equal(len, sizeof(want6));
	assert_memory_equal(buf, want6, sizeof(want6));
	assert_csums(buf, len);
}

static void test_build_raw(void **state)
{
	static const uint8_t payload[] = { 1, 2, 3, 4, 5 };
	uint8_t buf[BUFSZ];
	int families[] = { AF_INET, AF_INET6 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct pkt_spec s = spec(families[i], IPPROTO_GRE);
		size_t hlen = families[i] == AF_INET ? 20 : 40;
		size_t len;

		s.payload = payload;
		s.payload_len = sizeof(payload);
		len = build(&s, buf);
		assert_int_equal(len, hlen + sizeof(payload));
		assert_int_equal(buf[families[i] == AF_INET ? 9 : 6], IPPROTO_GRE);
		assert_memory_equal(buf + hlen, payload, sizeof(payload));
		assert_csums(buf, len);
	}
	/* No payload at all: a bare header */
	{
		struct pkt_spec s = spec(AF_INET, 253);

		assert_int_equal(build(&s, buf), 20);
		assert_int_equal(buf[2], 0);
		assert_int_equal(buf[3], 20);
	}
}

static void test_build_ip_fields(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_UDP);
	uint8_t buf[BUFSZ];

	(void)state;
	/* v4: version/IHL, no TOS, DF and offset clear, default TTL 64 */
	s.tag = 0x0001ffff;
	assert_int_equal(build(&s, buf), 28);
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[4], 0xff);
	assert_int_equal(buf[5], 0xff);
	assert_int_equal(buf[6], 0);
	assert_int_equal(buf[7], 0);
	assert_int_equal(buf[8], 64);
	s.ttl = 3;
	(void)build(&s, buf);
	assert_int_equal(buf[8], 3);

	/* v6: version 6, traffic class 0, flow label masked to 20 bits */
	s = spec(AF_INET6, IPPROTO_UDP);
	s.tag = 0xffffffff;
	assert_int_equal(build(&s, buf), 48);
	assert_int_equal(buf[0], 0x60);
	assert_int_equal(buf[1], 0x0f);
	assert_int_equal(buf[2], 0xff);
	assert_int_equal(buf[3], 0xff);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[5], 8); /* payload length: the UDP header */
	assert_int_equal(buf[7], 64);
	assert_memory_equal(buf + 8, a6, 16);
	assert_memory_equal(buf + 24, b6, 16);
}

static void test_build_payload_in_place(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_UDP);
	uint8_t buf[BUFSZ];
	struct pkt_info in;
	size_t len;

	(void)state;
	/* A payload already where it belongs, or overlapping it, is moved, not clobbered */
	memcpy(buf + 28, "in place", 8);
	s.payload = buf + 28;
	s.payload_len = 8;
	len = build(&s, buf);
	parse_ok(buf, len, &in);
	assert_memory_equal(in.payload, "in place", 8);
	assert_csums(buf, len);
	memcpy(buf + 20, "shifted!", 8);
	s.payload = buf + 20;
	len = build(&s, buf);
	parse_ok(buf, len, &in);
	assert_memory_equal(in.payload, "shifted!", 8);
	assert_csums(buf, len);
}

static void test_build_max_len(void **state)
{
	uint8_t *buf = malloc(PKT_MAX + 1), *payload = calloc(1, PKT_MAX);
	struct pkt_spec s = spec(AF_INET, IPPROTO_UDP);
	nslab_error err = { 0 };
	size_t len = 0;

	(void)state;
	assert_non_null(buf);
	assert_non_null(payload);
	s.payload = payload;
	s.payload_len = PKT_MAX - 28;
	assert_int_equal(pkt_build(&s, buf, PKT_MAX, &len, &err), 0);
	assert_int_equal(len, PKT_MAX);
	assert_int_equal(buf[2], 0xff);
	assert_int_equal(buf[3], 0xff);
	assert_csums(buf, len);

	/* v6: the same 65535-byte limit on the whole packet */
	s = spec(AF_INET6, IPPROTO_TCP);
	s.payload = payload;
	s.payload_len = PKT_MAX - 60;
	assert_int_equal(pkt_build(&s, buf, PKT_MAX, &len, &err), 0);
	assert_int_equal(len, PKT_MAX);
	assert_csums(buf, len);
	s.payload_len++;
	len = 42;
	assert_int_equal(pkt_build(&s, buf, PKT_MAX + 1, &len, &err), -EINVAL);
	assert_int_equal(len, 42);
	free(buf);
	free(payload);
}

static void test_build_invalid(void **state)
{
	struct {
		int family, proto;
		size_t payload_len;
		bool null_payload;
		int code;
		const char *msg;
	} cases[] = {
		{ AF_UNSPEC, IPPROTO_UDP, 0, false, EINVAL,
		  "packet: unsupported address family 0" },
		{ AF_PACKET, IPPROTO_UDP, 0, false, EINVAL, NULL },
		{ AF_INET6, IPPROTO_ICMP, 0, false, EINVAL, "packet: ICMP in IPv6 (use ICMPv6)" },
		{ AF_INET, IPPROTO_ICMPV6, 0, false, EINVAL, "packet: ICMPv6 in IPv4 (use ICMP)" },
		{ AF_INET, 256, 0, false, EINVAL, "packet: protocol 256 out of range 0..255" },
		{ AF_INET, -1, 0, false, EINVAL, NULL },
		{ AF_INET, IPPROTO_UDP, 4, true, EINVAL, "packet: 4-byte payload without data" },
		{ AF_INET, IPPROTO_UDP, PKT_MAX - 27, false, EINVAL,
		  "packet: 65508-byte payload makes it longer than 65535 bytes" },
		{ AF_INET6, IPPROTO_ICMPV6, PKT_MAX, false, EINVAL, NULL },
		{ AF_INET, 253, (size_t)-1, false, EINVAL, NULL },
		{ AF_INET, IPPROTO_TCP, BUFSZ, false, EMSGSIZE,
		  "packet: 2088 bytes do not fit in 2048" },
		{ AF_INET6, IPPROTO_UDP, BUFSZ - 47, false, EMSGSIZE, NULL },
	};
	static uint8_t payload[PKT_MAX];
	uint8_t buf[BUFSZ], orig[BUFSZ];

	(void)state;
	memset(orig, 0xa5, sizeof(orig));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_spec s = spec(AF_INET, cases[i].proto);
		nslab_error err = { 0 };
		size_t len = 4242;

		s.family = cases[i].family;
		s.payload = cases[i].null_payload ? NULL : payload;
		s.payload_len = cases[i].payload_len;
		memcpy(buf, orig, sizeof(buf));
		assert_int_equal(pkt_build(&s, buf, sizeof(buf), &len, &err), -cases[i].code);
		assert_int_equal(err.code, cases[i].code);
		if (cases[i].msg)
			assert_string_equal(err.msg, cases[i].msg);
		assert_int_equal(len, 4242);		     /* ret_len untouched */
		assert_memory_equal(buf, orig, sizeof(buf)); /* nothing written */
		/* err may be NULL */
		assert_int_equal(pkt_build(&s, buf, sizeof(buf), &len, NULL), -cases[i].code);
	}
}

static void test_build_emsgsize_boundary(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_TCP);
	nslab_error err = { .code = 77, .msg = "untouched" };
	uint8_t buf[40];
	size_t len = 1;

	(void)state;
	assert_int_equal(pkt_build(&s, buf, 39, &len, &err), -EMSGSIZE);
	assert_int_equal(len, 1);
	assert_string_equal(err.msg, "packet: 40 bytes do not fit in 39");
	err = (nslab_error){ .code = 77, .msg = "untouched" };
	assert_int_equal(pkt_build(&s, buf, 40, &len, &err), 0);
	assert_int_equal(len, 40);
	/* success leaves err alone */
	assert_int_equal(err.code, 77);
	assert_string_equal(err.msg, "untouched");
}

/* ---------------------------------------------------------------- round trip */

static void test_roundtrip(void **state)
{
	static const uint8_t payload[] = "round trip payload";
	int families[] = { AF_INET, AF_INET6 };

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		int family = families[f];
		int protos[] = { IPPROTO_TCP, IPPROTO_UDP,
				 family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6, 253 };

		for (size_t p = 0; p < 4; p++) {
			for (size_t plen = 0; plen <= sizeof(payload); plen += sizeof(payload)) {
				struct pkt_spec s = spec(family, protos[p]);
				size_t hlen = family == AF_INET ? 20 : 40;
				uint8_t buf[BUFSZ];
				struct pkt_info in;
				size_t len;

				s.sport = 1234;
				s.dport = 4321;
				s.tcp_flags = 0x18;
				s.tcp_seq = 1000000;
				s.tcp_ack = 2000000;
				s.icmp_type = family == AF_INET ? 0 : 129; /* echo reply */
				s.icmp_id = 99;
				s.icmp_seq = 100;
				s.ttl = 17;
				s.tag = 0x54321;
				s.payload = plen ? payload : NULL;
				s.payload_len = plen;
				len = build(&s, buf);
				assert_csums(buf, len);
				parse_ok(buf, len, &in);

				assert_int_equal(in.family, family);
				assert_memory_equal(in.src, s.src, 16);
				assert_memory_equal(in.dst, s.dst, 16);
				assert_int_equal(in.proto, protos[p]);
				assert_int_equal(in.tag, family == AF_INET ? 0x4321 : 0x54321);
				assert_int_equal(in.ttl, 17);
				assert_int_equal(in.l4_off, hlen);
				assert_false(in.later_fragment);
				assert_int_equal(in.payload_len, plen);
				assert_ptr_equal(in.payload, buf + len - plen);
				if (plen)
					assert_memory_equal(in.payload, payload, plen);
				assert_false(in.inner.set);
				switch (protos[p]) {
				case IPPROTO_TCP:
					assert_int_equal(len, hlen + 20 + plen);
					assert_true(in.has_ports);
					assert_int_equal(in.sport, 1234);
					assert_int_equal(in.dport, 4321);
					assert_int_equal(in.tcp_flags, 0x18);
					assert_int_equal(in.tcp_seq, 1000000);
					assert_int_equal(in.tcp_ack, 2000000);
					assert_false(in.is_icmp);
					break;
				case IPPROTO_UDP:
					assert_int_equal(len, hlen + 8 + plen);
					assert_true(in.has_ports);
					assert_int_equal(in.sport, 1234);
					assert_int_equal(in.dport, 4321);
					assert_int_equal(in.tcp_flags, 0);
					assert_false(in.is_icmp);
					break;
				case IPPROTO_ICMP:
				case IPPROTO_ICMPV6:
					assert_int_equal(len, hlen + 8 + plen);
					assert_false(in.has_ports);
					assert_true(in.is_icmp);
					assert_int_equal(in.icmp_type, s.icmp_type);
					assert_int_equal(in.icmp_code, 0);
					assert_int_equal(in.icmp_id, 99);
					assert_int_equal(in.icmp_seq, 100);
					break;
				default:
					assert_int_equal(len, hlen + plen);
					assert_false(in.has_ports);
					assert_false(in.is_icmp);
					assert_int_equal(in.sport, 0);
					break;
				}
			}
		}
	}
}

/* pkt_parse_l3() + pkt_parse_l4() on the rest give what pkt_parse() gives. */
static void test_parse_split(void **state)
{
	struct pkt_spec s = spec(AF_INET6, IPPROTO_TCP);
	struct pkt_info whole, split, orig;
	nslab_error err = { 0 };
	uint8_t buf[BUFSZ];
	size_t len;

	(void)state;
	s.sport = 7;
	s.dport = 8;
	s.tcp_flags = 0x12;
	s.payload = (const uint8_t *)"data";
	s.payload_len = 4;
	len = build(&s, buf);
	parse_ok(buf, len, &whole);
	memset(&split, 0x77, sizeof(split));
	assert_int_equal(pkt_parse_l3(buf, len, &split, &err), 0);
	assert_int_equal(split.l4_off, 40);
	assert_false(split.has_ports); /* l4 fields zeroed */
	assert_null(split.payload);
	assert_int_equal(pkt_parse_l4(buf + split.l4_off, len - split.l4_off, &split, &err), 0);
	assert_info_equal(&whole, &split);

	/* pkt_parse_l3() takes a bare header (a quote); pkt_parse() wants the whole packet */
	assert_int_equal(pkt_parse_l3(buf, 40, &split, &err), 0);
	assert_int_equal(split.proto, IPPROTO_TCP);
	assert_parse_fails(buf, 40, "IPv6 packet: 40 bytes, payload length says 64");

	/* pkt_parse_l4() failing leaves ret alone */
	assert_int_equal(pkt_parse_l3(buf, len, &split, &err), 0);
	memcpy(&orig, &split, sizeof(orig));
	assert_int_equal(pkt_parse_l4(buf + 40, 19, &split, &err), -EPROTO);
	assert_string_equal(err.msg, "TCP header: 19 bytes, need 20");
	assert_memory_equal(&split, &orig, sizeof(split));
	/* pkt_parse_l3() failing too */
	assert_int_equal(pkt_parse_l3(buf, 39, &split, &err), -EPROTO);
	assert_memory_equal(&split, &orig, sizeof(split));

	/* Unknown protocol: the bytes are the payload */
	split.proto = 253;
	assert_int_equal(pkt_parse_l4(buf, 3, &split, NULL), 0);
	assert_ptr_equal(split.payload, buf);
	assert_int_equal(split.payload_len, 3);
	/* ICMP in a v6 packet is not ICMPv6: payload only */
	split.proto = IPPROTO_ICMP;
	assert_int_equal(pkt_parse_l4(buf, 3, &split, NULL), 0);
	assert_false(split.is_icmp);
}

/* ----------------------------------------------------------- bad packets */

static void test_parse_truncated(void **state)
{
	int families[] = { AF_INET, AF_INET6 };

	(void)state;
	/* Every proper prefix of every kind of packet is refused */
	for (size_t f = 0; f < 2; f++) {
		int protos[] = { IPPROTO_TCP, IPPROTO_UDP,
				 families[f] == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6, 253 };

		for (size_t p = 0; p < 4; p++) {
			struct pkt_spec s = spec(families[f], protos[p]);
			uint8_t buf[BUFSZ];
			size_t len;

			s.payload = (const uint8_t *)"xyz";
			s.payload_len = 3;
			len = build(&s, buf);
			for (size_t cut = 0; cut < len; cut++) {
				/* exactly cut bytes on the heap, so ASan sees an overread */
				uint8_t *copy = malloc(cut ? cut : 1);

				assert_non_null(copy);
				memcpy(copy, buf, cut);
				assert_parse_fails(copy, cut, NULL);
				free(copy);
			}
		}
	}
	{
		struct pkt_spec s = spec(AF_INET, IPPROTO_TCP);
		uint8_t buf[BUFSZ];

		(void)build(&s, buf);
		assert_parse_fails(buf, 0, "empty packet: no IP header");
		assert_parse_fails(buf, 12, "IPv4 header: 12 bytes, need 20");
		assert_parse_fails(buf, 39, "IPv4 packet: 39 bytes, total length says 40");
		s = spec(AF_INET6, IPPROTO_UDP);
		(void)build(&s, buf);
		assert_parse_fails(buf, 30, "IPv6 header: 30 bytes, need 40");
		assert_parse_fails(buf, 47, "IPv6 packet: 47 bytes, payload length says 48");
	}
}

static void test_parse_malformed(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_TCP);
	uint8_t buf[BUFSZ], bad[BUFSZ];
	size_t len;

	(void)state;
	len = build(&s, buf);

	memcpy(bad, buf, len);
	bad[0] = 0x55;
	assert_parse_fails(bad, len, "not an IP packet: version 5");
	bad[0] = 0x44; /* IHL 4 */
	assert_parse_fails(bad, len, "IPv4 header: IHL says 16 bytes, minimum is 20");
	bad[0] = 0x4f; /* IHL 15: 60 bytes */
	assert_parse_fails(bad, len, "IPv4 header: 40 bytes, IHL says 60");
	memcpy(bad, buf, len);
	bad[3] = 19; /* total length 19 */
	assert_parse_fails(bad, len, "IPv4 header: total length 19, less than its 20-byte header");
	memcpy(bad, buf, len);
	bad[20 + 12] = 0x40; /* data offset 4 */
	assert_parse_fails(bad, len, "TCP header: data offset says 16 bytes, minimum is 20");
	bad[20 + 12] = 0x60; /* data offset 6, but only 20 bytes */
	assert_parse_fails(bad, len, "TCP header: 20 bytes, data offset says 24");
	/* The IP total length bounds the transport header, not the buffer */
	memcpy(bad, buf, len);
	bad[3] = 39;
	assert_parse_fails(bad, len, "TCP header: 19 bytes, need 20");

	s = spec(AF_INET, IPPROTO_UDP);
	len = build(&s, buf);
	memcpy(bad, buf, len);
	bad[20 + 5] = 7;
	assert_parse_fails(bad, len, "UDP header: length 7, less than its 8 bytes");
	bad[20 + 5] = 9;
	assert_parse_fails(bad, len, "UDP datagram: 8 bytes, length says 9");

	s = spec(AF_INET, IPPROTO_ICMP);
	len = build(&s, buf);
	buf[3] = 27;
	assert_parse_fails(buf, len, "ICMP header: 7 bytes, need 8");
	s = spec(AF_INET6, IPPROTO_ICMPV6);
	len = build(&s, buf);
	assert_parse_fails(buf, len - 1, "IPv6 packet: 47 bytes, payload length says 48");
	buf[5] = 7;
	assert_parse_fails(buf, len, "ICMPv6 header: 7 bytes, need 8");
}

static void test_parse_padding(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_UDP);
	uint8_t buf[BUFSZ];
	struct pkt_info in;
	size_t len;

	(void)state;
	/* A 46-byte Ethernet minimum payload: padding after the IP packet is ignored */
	s.payload = (const uint8_t *)"ab";
	s.payload_len = 2;
	memset(buf, 0xee, sizeof(buf));
	len = build(&s, buf);
	parse_ok(buf, 46, &in);
	assert_int_equal(in.payload_len, 2);
	assert_memory_equal(in.payload, "ab", 2);
	/* So is anything past the UDP length inside the IP packet */
	buf[3] = 46;
	parse_ok(buf, 46, &in);
	assert_int_equal(in.payload_len, 2);
	(void)len;

	s = spec(AF_INET6, IPPROTO_TCP);
	len = build(&s, buf);
	parse_ok(buf, len + 6, &in);
	assert_int_equal(in.payload_len, 0);
	assert_ptr_equal(in.payload, buf + 60);
}

static void test_parse_ipv4_options(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_UDP);
	uint8_t buf[BUFSZ];
	struct pkt_info in;
	size_t len;

	(void)state;
	s.sport = 67;
	s.dport = 68;
	s.payload = (const uint8_t *)"opt";
	s.payload_len = 3;
	len = build(&s, buf);
	/* Router alert (RFC 2113): IHL 6 */
	memmove(buf + 24, buf + 20, len - 20);
	memcpy(buf + 20, "\x94\x04\x00\x00", 4);
	len += 4;
	buf[0] = 0x46;
	buf[3] = (uint8_t)len;
	parse_ok(buf, len, &in);
	assert_int_equal(in.l4_off, 24);
	assert_int_equal(in.proto, IPPROTO_UDP);
	assert_true(in.has_ports);
	assert_int_equal(in.sport, 67);
	assert_int_equal(in.dport, 68);
	assert_int_equal(in.payload_len, 3);
	assert_memory_equal(in.payload, "opt", 3);
	assert_parse_fails(buf, 23, "IPv4 header: 23 bytes, IHL says 24");
}

static void test_parse_v4_fragment(void **state)
{
	struct pkt_spec s = spec(AF_INET, IPPROTO_TCP);
	uint8_t buf[BUFSZ];
	struct pkt_info in;
	size_t len;

	(void)state;
	s.sport = 1;
	s.dport = 2;
	len = build(&s, buf);
	/* First fragment (MF set, offset 0): the transport header is there */
	buf[6] = 0x20;
	parse_ok(buf, len, &in);
	assert_false(in.later_fragment);
	assert_true(in.has_ports);
	/* Offset 8 bytes: no transport header, everything is payload */
	buf[7] = 1;
	parse_ok(buf, len, &in);
	assert_true(in.later_fragment);
	assert_false(in.has_ports);
	assert_int_equal(in.sport, 0);
	assert_int_equal(in.proto, IPPROTO_TCP);
	assert_ptr_equal(in.payload, buf + 20);
	assert_int_equal(in.payload_len, 20);
	/* DF alone is not a fragment */
	buf[6] = 0x40;
	buf[7] = 0;
	parse_ok(buf, len, &in);
	assert_false(in.later_fragment);
}

/* Insert extension header @ext (its next header byte is set here) after the fixed IPv6 header. */
static size_t insert_ext(uint8_t *buf, size_t len, uint8_t type, const uint8_t *ext, size_t elen)
{
	memmove(buf + 40 + elen, buf + 40, len - 40);
	memcpy(buf + 40, ext, elen);
	buf[40] = buf[6];
	buf[6] = type;
	len += elen;
	buf[4] = (len - 40) >> 8;
	buf[5] = (len - 40) & 0xff;
	return len;
}

static void test_parse_ipv6_ext(void **state)
{
	static const uint8_t hbh[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };	 /* PadN */
	static const uint8_t dst[16] = { 0, 1, 1, 12 };			 /* 16 bytes, PadN */
	static const uint8_t rt[24] = { 0, 2, 0, 0 };			 /* type 0, 1 address */
	static const uint8_t frag[8] = { 0, 0, 0x00, 0x01, 1, 2, 3, 4 }; /* offset 0, MF */
	struct pkt_spec s = spec(AF_INET6, IPPROTO_UDP);
	uint8_t buf[BUFSZ], copy[BUFSZ];
	struct pkt_info in, other;
	nslab_error err = { 0 };
	size_t len;

	(void)state;
	s.sport = 546;
	s.dport = 547;
	s.tag = 0x9abc;
	s.payload = (const uint8_t *)"dhcp";
	s.payload_len = 4;
	len = build(&s, buf);
	len = insert_ext(buf, len, IPPROTO_FRAGMENT, frag, sizeof(frag));
	len = insert_ext(buf, len, IPPROTO_DSTOPTS, dst, sizeof(dst));
	len = insert_ext(buf, len, IPPROTO_ROUTING, rt, sizeof(rt));
	len = insert_ext(buf, len, IPPROTO_HOPOPTS, hbh, sizeof(hbh));
	parse_ok(buf, len, &in);
	assert_int_equal(in.family, AF_INET6);
	assert_int_equal(in.proto, IPPROTO_UDP);
	assert_int_equal(in.l4_off, 40 + 8 + 24 + 16 + 8);
	assert_int_equal(in.tag, 0x9abc);
	assert_false(in.later_fragment);
	assert_true(in.has_ports);
	assert_int_equal(in.sport, 546);
	assert_int_equal(in.dport, 547);
	assert_int_equal(in.payload_len, 4);
	assert_memory_equal(in.payload, "dhcp", 4);
	/* The UDP checksum still holds: extension headers are not in the pseudo-header */
	assert_int_equal((uint16_t)~pkt_csum_fold(pkt_csum_add(pseudo_sum(&in, len - in.l4_off),
							       buf + in.l4_off, len - in.l4_off)),
			 0);

	/* Cut inside any extension header: pkt_parse_l3() refuses it and names it */
	memcpy(copy, buf, len);
	for (size_t cut = 40; cut < in.l4_off; cut++)
		assert_int_equal(pkt_parse_l3(copy, cut, &other, NULL), -EPROTO);
	assert_int_equal(pkt_parse_l3(copy, in.l4_off, &other, &err), 0);
	assert_int_equal(other.proto, IPPROTO_UDP);
	assert_int_equal(pkt_parse_l3(copy, 50, &other, &err), -EPROTO);
	assert_string_equal(err.msg, "IPv6 routing header: 2 bytes, need 8");
	assert_int_equal(pkt_parse_l3(copy, 60, &other, &err), -EPROTO);
	assert_string_equal(err.msg, "IPv6 routing header: 12 bytes, length says 24");
	assert_int_equal(pkt_parse_l3(copy, 80, &other, &err), -EPROTO);
	assert_string_equal(err.msg, "IPv6 destination options header: 8 bytes, length says 16");
	assert_int_equal(pkt_parse_l3(copy, 92, &other, &err), -EPROTO);
	assert_string_equal(err.msg, "IPv6 fragment header: 4 bytes, need 8");
}

static void test_parse_ipv6_ext_bad(void **state)
{
	static const uint8_t dst[16] = { 0, 1, 1, 12 };
	static const uint8_t frag_later[8] = { 0, 0, 0x00, 0x10, 1, 2, 3, 4 }; /* offset 16 */
	struct pkt_spec s = spec(AF_INET6, IPPROTO_TCP);
	uint8_t buf[BUFSZ];
	struct pkt_info in;
	size_t len, base;

	(void)state;
	s.sport = 80;
	base = build(&s, buf);
	len = insert_ext(buf, base, IPPROTO_DSTOPTS, dst, sizeof(dst));
	parse_ok(buf, len, &in);
	assert_int_equal(in.l4_off, 56);
	assert_int_equal(in.sport, 80);
	/* The header's length reaches past the packet */
	buf[41] = 9;
	assert_parse_fails(buf, len, "IPv6 destination options header: 36 bytes, length says 80");
	/* Fewer than 8 bytes left for the next extension header */
	buf[4] = 0;
	buf[5] = 4;
	assert_parse_fails(buf, 44, "IPv6 destination options header: 4 bytes, need 8");
	buf[5] = 0; /* payload length 0, no hop-by-hop: not a jumbogram */
	assert_parse_fails(buf, len, "IPv6 destination options header: 0 bytes, need 8");

	/* A later fragment: stop at the fragment header, the rest is payload */
	base = build(&s, buf);
	len = insert_ext(buf, base, IPPROTO_FRAGMENT, frag_later, sizeof(frag_later));
	parse_ok(buf, len, &in);
	assert_true(in.later_fragment);
	assert_int_equal(in.proto, IPPROTO_TCP);
	assert_int_equal(in.l4_off, 48);
	assert_false(in.has_ports);
	assert_ptr_equal(in.payload, buf + 48);
	assert_int_equal(in.payload_len, 20);
}

static void test_parse_ipv6_jumbo(void **state)
{
	static const uint8_t hbh[8] = { 0, 0, 0xc2, 4, 0, 0, 0, 0 }; /* jumbo payload option */
	struct pkt_spec s = spec(AF_INET6, IPPROTO_UDP);
	uint8_t buf[BUFSZ];
	struct pkt_info in;
	size_t len;

	(void)state;
	s.sport = 9;
	s.payload = (const uint8_t *)"j";
	s.payload_len = 1;
	len = build(&s, buf);
	len = insert_ext(buf, len, IPPROTO_HOPOPTS, hbh, sizeof(hbh));
	/* Payload length 0 and UDP length 0: the sizes come from the buffer (RFC 2675) */
	buf[4] = buf[5] = 0;
	buf[48 + 4] = buf[48 + 5] = 0;
	parse_ok(buf, len, &in);
	assert_int_equal(in.proto, IPPROTO_UDP);
	assert_int_equal(in.sport, 9);
	assert_int_equal(in.payload_len, 1);
}

/* ------------------------------------------------------------- ICMP errors */

static void test_parse_icmp_port_unreachable(void **state)
{
	struct pkt_spec probe = spec(AF_INET, IPPROTO_UDP), err4 = spec(AF_INET, IPPROTO_ICMP);
	uint8_t orig[BUFSZ], buf[BUFSZ];
	struct pkt_info in;
	size_t olen, len;

	(void)state;
	/* The probe went 10.0.0.2:12345 > 10.0.0.1:33434, IP ID 0x7777 */
	memcpy(probe.src, b4, 4);
	memcpy(probe.dst, a4, 4);
	probe.sport = 12345;
	probe.dport = 33434;
	probe.tag = 0x7777;
	probe.payload = (const uint8_t *)"0123456789";
	probe.payload_len = 10;
	olen = build(&probe, orig);
	assert_int_equal(olen, 38);

	/* 10.0.0.1 > 10.0.0.2: udp port 33434 unreachable, quoting IP header + 8 bytes */
	err4.icmp_type = 3;
	err4.icmp_code = 3;
	err4.payload = orig;
	err4.payload_len = 28;
	len = build(&err4, buf);
	assert_csums(buf, len);
	parse_ok(buf, len, &in);
	assert_true(in.is_icmp);
	assert_int_equal(in.icmp_type, 3);
	assert_int_equal(in.icmp_code, 3);
	assert_int_equal(in.icmp_id, 0);
	assert_int_equal(in.icmp_seq, 0);
	assert_ptr_equal(in.payload, buf + 28);
	assert_int_equal(in.payload_len, 28);
	assert_true(in.inner.set);
	assert_int_equal(in.inner.family, AF_INET);
	assert_memory_equal(in.inner.src, b4, 4);
	assert_memory_equal(in.inner.dst, a4, 4);
	assert_int_equal(in.inner.proto, IPPROTO_UDP);
	assert_int_equal(in.inner.tag, 0x7777);
	assert_true(in.inner.has_ports);
	assert_int_equal(in.inner.sport, 12345);
	assert_int_equal(in.inner.dport, 33434);

	/* The whole datagram quoted (as Linux does): same answer */
	err4.payload_len = olen;
	len = build(&err4, buf);
	parse_ok(buf, len, &in);
	assert_true(in.inner.has_ports);
	assert_int_equal(in.inner.dport, 33434);

	/* Only 2 bytes of UDP quoted: the addresses but no ports */
	err4.payload_len = 22;
	len = build(&err4, buf);
	parse_ok(buf, len, &in);
	assert_true(in.inner.set);
	assert_int_equal(in.inner.tag, 0x7777);
	assert_false(in.inner.has_ports);
	assert_int_equal(in.inner.sport, 0);
	/* Exactly the 4 port bytes */
	err4.payload_len = 24;
	len = build(&err4, buf);
	parse_ok(buf, len, &in);
	assert_true(in.inner.has_ports);
	assert_int_equal(in.inner.sport, 12345);

	/* Not even an IP header: the ICMP error still parses, inner unset */
	err4.payload_len = 19;
	len = build(&err4, buf);
	parse_ok(buf, len, &in);
	assert_true(in.is_icmp);
	assert_false(in.inner.set);
	assert_false(in.inner.has_ports);
	err4.payload_len = 0;
	len = build(&err4, buf);
	parse_ok(buf, len, &in);
	assert_false(in.inner.set);

	/* An echo reply carrying the same bytes is not an error: nothing quoted */
	err4.icmp_type = 0;
	err4.icmp_code = 0;
	err4.payload_len = 28;
	len = build(&err4, buf);
	parse_ok(buf, len, &in);
	assert_false(in.inner.set);
}

static void test_parse_icmp_error_types(void **state)
{
	struct pkt_spec probe = spec(AF_INET, IPPROTO_TCP), e = spec(AF_INET, IPPROTO_ICMP);
	uint8_t orig[BUFSZ], buf[BUFSZ];
	struct pkt_info in;
	size_t olen, len;

	(void)state;
	probe.sport = 50000;
	probe.dport = 443;
	probe.tcp_flags = 0x02;
	probe.tag = 0xbeef;
	olen = build(&probe, orig);
	e.payload = orig;
	e.payload_len = 28; /* IP header + first 8 bytes of TCP */
	for (unsigned t = 0; t < 256; t++) {
		bool is_error = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;

		e.icmp_type = (uint8_t)t;
		len = build(&e, buf);
		parse_ok(buf, len, &in);
		assert_int_equal(in.inner.set, is_error);
		if (is_error) {
			assert_int_equal(in.inner.proto, IPPROTO_TCP);
			assert_int_equal(in.inner.tag, 0xbeef);
			assert_int_equal(in.inner.sport, 50000);
			assert_int_equal(in.inner.dport, 443);
		}
	}
	(void)olen;

	/* A quoted later fragment has no ports to give */
	orig[7] = 0x10;
	e.icmp_type = 11;
	len = build(&e, buf);
	parse_ok(buf, len, &in);
	assert_true(in.inner.set);
	assert_false(in.inner.has_ports);
}

static void test_parse_icmpv6_errors(void **state)
{
	static const uint8_t hbh[8] = { 0, 0, 1, 4 };
	struct pkt_spec probe = spec(AF_INET6, IPPROTO_TCP), e = spec(AF_INET6, IPPROTO_ICMPV6);
	uint8_t orig[BUFSZ], buf[BUFSZ];
	struct pkt_info in;
	size_t olen, len;

	(void)state;
	probe.sport = 40001;
	probe.dport = 22;
	probe.tag = 0xfedcb;
	olen = build(&probe, orig);
	e.payload = orig;
	e.payload_len = olen;
	for (unsigned t = 0; t < 256; t++) {
		bool is_error = t >= 1 && t <= 4;

		e.icmp_type = (uint8_t)t;
		len = build(&e, buf);
		assert_csums(buf, len);
		parse_ok(buf, len, &in);
		assert_true(in.is_icmp);
		assert_int_equal(in.icmp_type, t);
		assert_int_equal(in.inner.set, is_error);
		if (is_error) {
			assert_int_equal(in.inner.family, AF_INET6);
			assert_memory_equal(in.inner.src, a6, 16);
			assert_memory_equal(in.inner.dst, b6, 16);
			assert_int_equal(in.inner.proto, IPPROTO_TCP);
			assert_int_equal(in.inner.tag, 0xfedcb);
			assert_true(in.inner.has_ports);
			assert_int_equal(in.inner.sport, 40001);
			assert_int_equal(in.inner.dport, 22);
		}
	}

	/* Time exceeded quoting a packet with a hop-by-hop header, cut after the ports */
	olen = insert_ext(orig, olen, IPPROTO_HOPOPTS, hbh, sizeof(hbh));
	e.icmp_type = 3;
	e.payload_len = 40 + 8 + 4;
	len = build(&e, buf);
	parse_ok(buf, len, &in);
	assert_true(in.inner.set);
	assert_int_equal(in.inner.proto, IPPROTO_TCP);
	assert_true(in.inner.has_ports);
	assert_int_equal(in.inner.sport, 40001);
	/* Cut inside the extension header: the next header is unknown, so no inner */
	e.payload_len = 40 + 4;
	len = build(&e, buf);
	parse_ok(buf, len, &in);
	assert_false(in.inner.set);

	/* Echo request/reply carry id and sequence; other types do not */
	e.payload_len = olen;
	e.icmp_type = 129;
	e.icmp_id = 5;
	e.icmp_seq = 6;
	len = build(&e, buf);
	parse_ok(buf, len, &in);
	assert_int_equal(in.icmp_id, 5);
	assert_int_equal(in.icmp_seq, 6);
	e.icmp_type = 2; /* packet too big: bytes 4-7 are the MTU */
	e.icmp_id = 0;
	e.icmp_seq = 1280;
	len = build(&e, buf);
	assert_int_equal(buf[46], 0x05);
	assert_int_equal(buf[47], 0x00);
	parse_ok(buf, len, &in);
	assert_int_equal(in.icmp_id, 0);
	assert_int_equal(in.icmp_seq, 0);
	assert_true(in.inner.set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_build_tcp_syn_v4),
		cmocka_unit_test(test_build_tcp_v6),
		cmocka_unit_test(test_build_udp_v6),
		cmocka_unit_test(test_build_udp_zero_csum),
		cmocka_unit_test(test_build_icmp_echo),
		cmocka_unit_test(test_build_raw),
		cmocka_unit_test(test_build_ip_fields),
		cmocka_unit_test(test_build_payload_in_place),
		cmocka_unit_test(test_build_max_len),
		cmocka_unit_test(test_build_invalid),
		cmocka_unit_test(test_build_emsgsize_boundary),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_split),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_padding),
		cmocka_unit_test(test_parse_ipv4_options),
		cmocka_unit_test(test_parse_v4_fragment),
		cmocka_unit_test(test_parse_ipv6_ext),
		cmocka_unit_test(test_parse_ipv6_ext_bad),
		cmocka_unit_test(test_parse_ipv6_jumbo),
		cmocka_unit_test(test_parse_icmp_port_unreachable),
		cmocka_unit_test(test_parse_icmp_error_types),
		cmocka_unit_test(test_parse_icmpv6_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

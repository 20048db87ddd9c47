/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the packet crafter. Every input is parsed as a packet by pkt_parse()
 * and by pkt_parse_l3() + pkt_parse_l4(): they must return 0 or -EPROTO,
 * stay inside the input, and agree with each other. An input of at least
 * SPEC_LEN bytes is also read as a pkt_spec (the rest is its payload) and
 * built into a buffer of a fuzzed size: the builder must succeed or fail as
 * the spec and size call for, and what it builds must parse back to the
 * same fields with checksums that verify.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pkt/pkt.h"

/*
 * Spec layout: [0] bit 0 family, bits 1-3 protocol choice; [1] raw protocol;
 * [2..17] src; [18..33] dst; [34..35] sport; [36..37] dport; [38] TCP flags;
 * [39..42] seq; [43..46] ack; [47..48] window; [49] ICMP type; [50] code;
 * [51..52] id; [53..54] ICMP seq; [55] TTL; [56..59] tag; [60..61] cap.
 */
#define SPEC_LEN 62

#define CHECK(x)                                                                                  \
	do {                                                                                      \
		if (!(x)) {                                                                       \
			fprintf(stderr, "fuzz-pkt: check failed at line %d: %s\n", __LINE__, #x); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static bool in_buf(const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
	return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static void check_info(const uint8_t *buf, size_t len, const struct pkt_info *in)
{
	CHECK(in->family == AF_INET || in->family == AF_INET6);
	CHECK(in->proto >= 0 && in->proto <= 255);
	CHECK(in->l4_off <= len);
	CHECK(in->payload && in_buf(buf, len, in->payload, in->payload_len));
	CHECK(in->payload >= buf + in->l4_off);
	CHECK(!in->has_ports || in->proto == IPPROTO_TCP || in->proto == IPPROTO_UDP);
	CHECK(!in->later_fragment || (!in->has_ports && !in->is_icmp));
	CHECK(!in->inner.set || in->is_icmp);
	CHECK(!in->inner.has_ports || in->inner.set);
	if (in->family == AF_INET)
		CHECK(in->tag <= 0xffff);
	else
		CHECK(in->tag <= 0xfffff);
}

static void fuzz_parse(const uint8_t *buf, size_t len)
{
	struct pkt_info whole, l3;
	nslab_error err = { 0 };
	int r, r3;

	r = pkt_parse(buf, len, &whole, &err);
	CHECK(r == 0 || (r == -EPROTO && err.code == EPROTO && err.msg[0]));
	if (r == 0)
		check_info(buf, len, &whole);

	/* The split form: l3 alone is laxer (no length check), never stricter */
	r3 = pkt_parse_l3(buf, len, &l3, NULL);
	CHECK(r3 == 0 || r3 == -EPROTO);
	if (r == 0)
		CHECK(r3 == 0 && l3.l4_off == whole.l4_off && l3.proto == whole.proto);
	if (r3 == 0) {
		CHECK(l3.l4_off <= len);
		r3 = pkt_parse_l4(buf + l3.l4_off, len - l3.l4_off, &l3, NULL);
		CHECK(r3 == 0 || r3 == -EPROTO);
		if (r3 == 0)
			check_info(buf, len, &l3);
	}
}

static uint32_t pseudo_sum(const struct pkt_spec *s, size_t l4_len)
{
	uint8_t b[40] = { 0 };

	if (s->family == AF_INET) {
		memcpy(b, s->src, 4);
		memcpy(b + 4, s->dst, 4);
		b[9] = (uint8_t)s->proto;
		b[10] = l4_len >> 8;
		b[11] = l4_len & 0xff;
		return pkt_csum_add(0, b, 12);
	}
	memcpy(b, s->src, 16);
	memcpy(b + 16, s->dst, 16);
	b[34] = l4_len >> 8;
	b[35] = l4_len & 0xff;
	b[39] = (uint8_t)s->proto;
	return pkt_csum_add(0, b, 40);
}

static bool is_ip6_ext(int proto)
{
	return proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING || proto == IPPROTO_FRAGMENT ||
	       proto == IPPROTO_DSTOPTS;
}

/* What was built parses back to the spec, checksums included. */
static void check_built(const struct pkt_spec *s, const uint8_t *buf, size_t len, size_t hlen)
{
	size_t ip_len = s->family == AF_INET ? 20 : 40;
	size_t l4_len = len - ip_len;
	struct pkt_info in;
	uint32_t sum;

	CHECK(len == ip_len + hlen + s->payload_len);
	if (s->family == AF_INET)
		CHECK(pkt_csum_fold(pkt_csum_add(0, buf, 20)) == 0xffff);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP || s->proto == IPPROTO_ICMP ||
	    s->proto == IPPROTO_ICMPV6) {
		sum = s->proto == IPPROTO_ICMP ? 0 : pseudo_sum(s, l4_len);
		CHECK(pkt_csum_fold(pkt_csum_add(sum, buf + ip_len, l4_len)) == 0xffff);
	}
	/* A v6 payload behind an extension header's number is read as that header */
	if (s->family == AF_INET6 && is_ip6_ext(s->proto))
		return;
	CHECK(pkt_parse(buf, len, &in, NULL) == 0);
	check_info(buf, len, &in);
	CHECK(in.family == s->family);
	CHECK(memcmp(in.src, s->src, s->family == AF_INET ? 4 : 16) == 0);
	CHECK(memcmp(in.dst, s->dst, s->family == AF_INET ? 4 : 16) == 0);
	CHECK(in.proto == s->proto);
	CHECK(in.tag == (s->tag & (s->family == AF_INET ? 0xffff : 0xfffff)));
	CHECK(in.ttl == (s->ttl ? s->ttl : 64));
	CHECK(in.l4_off == ip_len);
	CHECK(!in.later_fragment);
	CHECK(in.payload_len == s->payload_len);
	CHECK(in.payload == buf + ip_len + hlen);
	CHECK(s->payload_len == 0 || memcmp(in.payload, s->payload, s->payload_len) == 0);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		CHECK(in.has_ports && in.sport == s->sport && in.dport == s->dport);
	}
	if (s->proto == IPPROTO_TCP) {
		CHECK(in.tcp_flags == s->tcp_flags && in.tcp_seq == s->tcp_seq &&
		      in.tcp_ack == s->tcp_ack);
		CHECK(rd16(buf + ip_len + 14) == (s->tcp_window ? s->tcp_window : 64240));
	}
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		CHECK(in.is_icmp && in.icmp_type == s->icmp_type && in.icmp_code == s->icmp_code);
		CHECK(rd16(buf + ip_len + 4) == s->icmp_id &&
		      rd16(buf + ip_len + 6) == s->icmp_seq);
	}
}

static void fuzz_build(const uint8_t *d, const uint8_t *payload, size_t payload_len)
{
	static const int choice[] = { IPPROTO_TCP, IPPROTO_UDP, -1, -2 };
	struct pkt_spec s = { 0 };
	nslab_error err = { 0 };
	size_t cap, hlen, want, len = 7;
	int sel = (d[0] >> 1) & 7, r, expect;
	uint8_t *buf;

	s.family = d[0] & 1 ? AF_INET6 : AF_INET;
	if (sel >= 4)
		s.proto = d[1];
	else if (choice[sel] == -1) /* the family's ICMP */
		s.proto = s.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	else if (choice[sel] == -2) /* the other family's: refused */
		s.proto = s.family == AF_INET ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	else
		s.proto = choice[sel];
	memcpy(s.src, d + 2, 16);
	memcpy(s.dst, d + 18, 16);
	s.sport = rd16(d + 34);
	s.dport = rd16(d + 36);
	s.tcp_flags = d[38];
	s.tcp_seq = rd32(d + 39);
	s.tcp_ack = rd32(d + 43);
	s.tcp_window = rd16(d + 47);
	s.icmp_type = d[49];
	s.icmp_code = d[50];
	s.icmp_id = rd16(d + 51);
	s.icmp_seq = rd16(d + 53);
	s.ttl = d[55];
	s.tag = rd32(d + 56);
	cap = rd16(d + 60);
	s.payload = payload_len ? payload : NULL;
	s.payload_len = payload_len;

	switch (s.proto) {
	case IPPROTO_TCP:
		hlen = 20;
		break;
	case IPPROTO_UDP:
		hlen = 8;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hlen = 8;
		break;
	default:
		hlen = 0;
		break;
	}
	want = (s.family == AF_INET ? 20 : 40) + hlen + payload_len;
	if ((s.family == AF_INET && s.proto == IPPROTO_ICMPV6) ||
	    (s.family == AF_INET6 && s.proto == IPPROTO_ICMP) || want > PKT_MAX)
		expect = -EINVAL;
	else if (cap < want)
		expect = -EMSGSIZE;
	else
		expect = 0;

	/* Exactly cap bytes on the heap, so sanitizers see any write past it */
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return;
	r = pkt_build(&s, buf, cap, &len, &err);
	CHECK(r == expect);
	if (r < 0) {
		CHECK(err.code == -r && err.msg[0] && len == 7);
	} else {
		CHECK(len == want && len <= cap);
		check_built(&s, buf, len, hlen);
		fuzz_parse(buf, len);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (size > 1 << 20)
		return 0;
	/* A copy of exactly size bytes, so sanitizers catch any overread */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	fuzz_parse(buf, size);
	if (size >= SPEC_LEN)
		fuzz_build(buf, buf + SPEC_LEN, size - SPEC_LEN);
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* fwtest/suite-packet: packets and flows of a test (see suite-parse.h). */
#include "fwtest/suite-parse.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Packets and flows */

enum {
	P_PROTO,
	P_SRC,
	P_DST,
	P_SPORT,
	P_DPORT,
	P_FLAGS,
	P_ICMP_TYPE,
	P_ICMP_CODE,
	P_TTL,
	P_PAYLOAD,
	P_COUNT,
	P_FROM,
	P_EXPECT,
	P_EXPECTED_VERDICT,
	P__MAX
};

static const char *const packet_names[] = {
	"proto",
	"src",
	"dst",
	"sport",
	"dport",
	"flags",
	"icmp_type",
	"icmp_code",
	"ttl",
	"hoplimit",
	"payload",
	"count",
	"from",
	"expect",
	"expected_verdict", /* NSE's spellings, accepted but not advertised: */
	"protocol",
	"src_ip",
	"dst_ip",
	"src_port",
	"dst_port",
	"tcp_flags",
	NULL
};
static const uint8_t packet_fields[] = {
	P_PROTO, P_SRC, P_DST,	   P_SPORT, P_DPORT, P_FLAGS,  P_ICMP_TYPE,	   P_ICMP_CODE,
	P_TTL,	 P_TTL, P_PAYLOAD, P_COUNT, P_FROM,  P_EXPECT, P_EXPECTED_VERDICT, P_PROTO,
	P_SRC,	 P_DST, P_SPORT,   P_DPORT, P_FLAGS
};

static bool has_ports(int proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static bool is_icmp(int proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* Addresses of one family; icmp with IPv4, icmpv6 with IPv6. at: the packet or flow. */
static int check_families(struct sp *sp, const struct ynode *at, const char *what,
			  const struct ynode *proto_at, int proto, const struct fw_endpoint *src,
			  const struct fw_endpoint *dst)
{
	int fam = src->addr.family ? src->addr.family : dst->addr.family;
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	if (src->addr.family && dst->addr.family && src->addr.family != dst->addr.family)
		return y_error(&sp->y, at, "%s mixes %s and %s (src %s, dst %s)", what,
			       family_name(src->addr.family), family_name(dst->addr.family),
			       prefix_format(&src->addr, false, a, sizeof(a)),
			       prefix_format(&dst->addr, false, b, sizeof(b)));
	if (proto == IPPROTO_ICMP && fam == AF_INET6)
		return y_error(&sp->y, proto_at, "proto icmp with an IPv6 address (use icmpv6)");
	if (proto == IPPROTO_ICMPV6 && fam == AF_INET)
		return y_error(&sp->y, proto_at, "proto icmpv6 with an IPv4 address (use icmp)");
	return 0;
}

/* What needs a protocol: ports (tcp, udp), flags (tcp), ICMP type and code. */
static int check_packet_proto(struct sp *sp, const struct ynode **k, const struct fw_packet *p)
{
	char buf[8];
	const char *name = fw_proto_name(p->proto, buf);

	for (int f = P_SPORT; f <= P_DPORT; f++)
		if (k[f] && !has_ports(p->proto))
			return y_error(&sp->y, k[f], "%s: proto %s has no ports", k[f]->text, name);
	if (k[P_FLAGS] && p->proto != IPPROTO_TCP)
		return y_error(&sp->y, k[P_FLAGS], "%s: only for proto tcp, not %s",
			       k[P_FLAGS]->text, name);
	for (int f = P_ICMP_TYPE; f <= P_ICMP_CODE; f++)
		if (k[f] && !is_icmp(p->proto))
			return y_error(&sp->y, k[f], "%s: only for proto icmp or icmpv6, not %s",
				       k[f]->text, name);
	return 0;
}

/*
 * NSE builds an ICMP packet without ports and ignores its src_port and
 * dst_port (whatever their value): so does NSE's format here, with a warning.
 * nslab's spellings (sport, dport) and nslab's format still refuse them.
 */
static int nse_icmp_ports(struct sp *sp, const struct ynode **k, const struct ynode **v, int proto)
{
	static const char *const nse_names[] = { "src_port", "dst_port" };
	char buf[8];

	if (!is_icmp(proto))
		return 0;
	for (int f = P_SPORT; f <= P_DPORT; f++) {
		int r;

		if (!k[f] || strcmp(k[f]->text, nse_names[f - P_SPORT]))
			continue;
		r = sp_warn(sp, k[f], "%s ignored: an ICMP packet has no ports (proto %s)",
			    k[f]->text, fw_proto_name(proto, buf));
		if (r < 0)
			return r;
		k[f] = v[f] = NULL;
	}
	return 0;
}

static int decode_packet_fields(struct sp *sp, const struct ynode **k, const struct ynode **v,
				struct fw_packet *p)
{
	uint64_t u = 0;
	int r = 0;

	if (v[P_PROTO])
		r = sp_proto(sp, v[P_PROTO], k[P_PROTO]->text, &p->proto);
	if (r >= 0 && sp->s->nse)
		r = nse_icmp_ports(sp, k, v, p->proto);
	if (r >= 0 && v[P_SRC])
		r = sp_endpoint(sp, v[P_SRC], k[P_SRC]->text, &p->src);
	if (r >= 0 && v[P_DST])
		r = sp_endpoint(sp, v[P_DST], k[P_DST]->text, &p->dst);
	if (r >= 0 && v[P_SPORT])
		r = sp_int(sp, v[P_SPORT], k[P_SPORT]->text, 1, 65535, "1..65535", &p->sport);
	if (r >= 0 && v[P_DPORT])
		r = sp_int(sp, v[P_DPORT], k[P_DPORT]->text, 1, 65535, "1..65535", &p->dport);
	if (r >= 0 && v[P_FLAGS])
		r = sp_flags(sp, v[P_FLAGS], k[P_FLAGS]->text, &p->tcp_flags);
	if (r >= 0 && v[P_ICMP_TYPE])
		r = sp_int(sp, v[P_ICMP_TYPE], "icmp_type", 0, 255, "0..255", &p->icmp_type);
	if (r >= 0 && v[P_ICMP_CODE])
		r = sp_int(sp, v[P_ICMP_CODE], "icmp_code", 0, 255, "0..255", &p->icmp_code);
	if (r >= 0 && v[P_TTL])
		r = sp_int(sp, v[P_TTL], k[P_TTL]->text, 1, 255, "1..255", &p->ttl);
	if (r >= 0 && v[P_PAYLOAD])
		r = sp_bytes(sp, v[P_PAYLOAD], "payload", &p->payload, &p->payload_len);
	if (r >= 0 && v[P_COUNT]) {
		r = y_uint(&sp->y, v[P_COUNT], "count", 1, FW_COUNT_MAX, "1..10000", &u);
		p->count = (unsigned)u;
	}
	if (r >= 0 && v[P_FROM])
		r = sp_topo_node(sp, v[P_FROM], "from", &p->from);
	return r;
}

/* NSE's ports when none is given (its scapy_injector's). */
#define NSE_SPORT 12345
#define NSE_DPORT 80

void sp_nse_drop(struct fw_expect *e)
{
	e->drop_or_reject = e->verdict == FW_VERDICT_DROP;
}

/* Whether a tcp_flags value is empty: [] or "". */
static bool is_no_flags(const struct ynode *v)
{
	return (v->type == Y_SEQ && v->n == 0) || (v->type == Y_SCALAR && !v->plain && !v->len);
}

/*
 * NSE's packets as its injector builds them: TCP with the flags tcp_flags
 * lists (none by default, not a SYN), ports 12345 -> 80 unless given, icmp
 * to an IPv6 address an ICMPv6 echo request, tcp_flags: [] on UDP or ICMP
 * ignored (NSE sends no flags there; other flags there are still refused).
 */
static void nse_packet(const struct ynode **k, const struct ynode **v, struct fw_packet *p)
{
	int fam = p->src.addr.family ? p->src.addr.family : p->dst.addr.family;

	if (p->proto == IPPROTO_ICMP && fam == AF_INET6)
		p->proto = IPPROTO_ICMPV6;
	if (k[P_FLAGS] && p->proto != IPPROTO_TCP && is_no_flags(v[P_FLAGS])) {
		k[P_FLAGS] = v[P_FLAGS] = NULL;
		p->tcp_flags = -1;
	}
	if (p->proto == IPPROTO_TCP && p->tcp_flags < 0)
		p->tcp_flags = 0;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		if (p->sport < 0)
			p->sport = NSE_SPORT;
		if (p->dport < 0)
			p->dport = NSE_DPORT;
	}
}

void sp_nse_default_verdicts(struct fw_test *t)
{
	for (size_t i = 0; i < t->n_packets; i++) {
		struct fw_packet *p = &t->packets[i];
		/* the test's expect: is its last packet's (when it has no flows) */
		bool by_test = !p->has_expect && i + 1 == t->n_packets && !t->n_flows;
		struct fw_expect *e = by_test ? &t->expect : &p->expect;

		if (!by_test && !p->has_expect) {
			p->has_expect = true;
			p->expect.loc = p->loc;
		}
		if (e->verdict == FW_VERDICT_UNSET)
			e->verdict = FW_VERDICT_ACCEPT;
	}
}

int sp_decode_packet(struct sp *sp, const struct ynode *n, struct fw_packet *p)
{
	static const struct keys ks = { packet_names, packet_fields, 15 };
	const struct ynode *k[P__MAX] = { 0 }, *v[P__MAX] = { 0 };
	unsigned verdict = 0;
	int r;

	*p = (struct fw_packet){ .proto = IPPROTO_TCP,
				 .sport = -1,
				 .dport = -1,
				 .tcp_flags = -1,
				 .icmp_type = -1,
				 .icmp_code = -1,
				 .ttl = -1,
				 .count = 1,
				 .loc = sp_loc(n) };
	sp_expect_init(&p->expect, sp_loc(n));
	r = sp_collect(sp, n, "packet", &ks, k, v);
	if (r >= 0)
		r = decode_packet_fields(sp, k, v, p);
	if (r >= 0 && v[P_EXPECT]) {
		r = sp_decode_expect(sp, v[P_EXPECT], &p->expect, NULL);
		p->has_expect = true;
	}
	if (r >= 0 && v[P_EXPECTED_VERDICT]) {
		r = sp_name(sp, v[P_EXPECTED_VERDICT], "expected_verdict", sp_verdict_names,
			    VERDICT_EXPECT);
		if (r < 0)
			return r;
		verdict = (unsigned)r;
		if (p->expect.verdict)
			return y_error(&sp->y, k[P_EXPECTED_VERDICT],
				       "'expected_verdict' and 'expect: {verdict}' cannot be used "
				       "together");
		if (!v[P_EXPECT])
			p->expect.loc = sp_loc(v[P_EXPECTED_VERDICT]);
		p->expect.verdict = (enum fw_verdict)(FW_VERDICT_ACCEPT + verdict);
		p->has_expect = true;
		if (sp->s->nse)
			sp_nse_drop(&p->expect);
	}
	if (r >= 0 && sp->s->nse)
		nse_packet(k, v, p);
	if (r >= 0)
		r = check_packet_proto(sp, k, p);
	if (r >= 0)
		r = check_families(sp, n, "packet", v[P_PROTO], p->proto, &p->src, &p->dst);
	return r;
}

enum { F_PROTO, F_SRC, F_DST, F_FROM, F_SPORT, F_DPORT, F_SEND, F__MAX };

int sp_decode_flow(struct sp *sp, const struct ynode *n, struct fw_flow *f)
{
	static const char *const names[] = { "proto",	 "src",	     "dst",	 "from",   "sport",
					     "dport",	 "send",     "protocol", "src_ip", "dst_ip",
					     "src_port", "dst_port", NULL };
	static const uint8_t fields[] = { F_PROTO, F_SRC,   F_DST, F_FROM, F_SPORT, F_DPORT,
					  F_SEND,  F_PROTO, F_SRC, F_DST,  F_SPORT, F_DPORT };
	static const struct keys ks = { names, fields, 7 };
	static const char *const protos[] = { "tcp", "udp", NULL };
	const struct ynode *k[F__MAX] = { 0 }, *v[F__MAX] = { 0 };
	int r;

	*f = (struct fw_flow){ .proto = IPPROTO_TCP, .sport = -1, .dport = -1, .loc = sp_loc(n) };
	r = sp_collect(sp, n, "flow", &ks, k, v);
	if (r >= 0 && v[F_PROTO]) {
		r = sp_name(sp, v[F_PROTO], k[F_PROTO]->text, protos, "tcp or udp");
		if (r < 0)
			return r;
		f->proto = r ? IPPROTO_UDP : IPPROTO_TCP;
	}
	if (r >= 0 && v[F_SRC])
		r = sp_endpoint(sp, v[F_SRC], k[F_SRC]->text, &f->src);
	if (r >= 0 && v[F_DST])
		r = sp_endpoint(sp, v[F_DST], k[F_DST]->text, &f->dst);
	if (r >= 0 && v[F_FROM])
		r = sp_topo_node(sp, v[F_FROM], "from", &f->from);
	if (r >= 0 && v[F_SPORT])
		r = sp_int(sp, v[F_SPORT], k[F_SPORT]->text, 1, 65535, "1..65535", &f->sport);
	if (r >= 0 && v[F_DPORT])
		r = sp_int(sp, v[F_DPORT], k[F_DPORT]->text, 1, 65535, "1..65535", &f->dport);
	if (r >= 0 && v[F_SEND])
		r = sp_bytes(sp, v[F_SEND], "send", &f->send, &f->send_len);
	if (r >= 0 && !v[F_DPORT])
		return y_error(&sp->y, n, "flow needs 'dport'");
	if (r >= 0)
		r = check_families(sp, n, "flow", v[F_PROTO], f->proto, &f->src, &f->dst);
	return r;
}

// SPDX-License-Identifier: MIT
/*
 * jail/egress-rules: the gateway's nftables ruleset for a policy (pure text,
 * golden-tested in tests/fixtures/egress-*.nft), and the element commands
 * the DNS gate adds to its sets.
 *
 * Order of the forward chain, each step for a reason:
 *   1. replies of allowed flows (conntrack), and nothing but the jail's link
 *      enters the chain as a new flow (the uplink never starts one inward)
 *   2. IPv6 denied unless --ipv6 (the jail has no IPv6 route either)
 *   3. entries with a port: they may name 53 or 853 explicitly
 *   4. DNS to anything but the gate (which is an input, not a forward) and
 *      DoT (853) denied: an entry without a port does not open them
 *   5. entries without a port, static prefixes then the DNS gate's sets
 *   6. everything else denied (drop, or reject: TCP reset / ICMP admin-prohibited)
 * --analyse stops after step 2 with an accept. --interactive ends step 6
 * differently: flows answered "no" are denied, any other is held (dropped
 * and handed to nflog group 1: the client's retransmission passes once the
 * destination is approved). --pcap adds chains after the filter ones that
 * hand every packet that passed to nflog group 2, and the deny and hold
 * chains hand theirs over with the prefix "blocked" or "held" (an accept
 * ends a base chain only: the later one on the same hook still sees it).
 */
#include "jail/egress.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jail/egress-relay.h"
#include "shared/macro.h"

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

/* One static prefix rule with a port: "ip daddr 10.0.0.0/8 tcp dport 22 accept". */
static void put_static_port(FILE *f, const struct egress_rule *r)
{
	char buf[PREFIX_STRLEN];
	const char *fam = r->prefix.family == AF_INET ? "ip" : "ip6";

	prefix_format(&r->prefix, r->prefix.len != prefix_addr_len(&r->prefix) * 8, buf,
		      sizeof(buf));
	if (r->proto)
		fprintf(f, "\t\t%s daddr %s %s dport %u accept\n", fam, buf, proto_name(r->proto),
			r->port);
	else
		fprintf(f, "\t\t%s daddr %s meta l4proto { tcp, udp } th dport %u accept\n", fam,
			buf, r->port);
}

/* The static prefixes of family fam without a port, as one anonymous set; none: nothing. */
static void put_static_any(FILE *f, const struct egress_policy *p, int fam)
{
	char buf[PREFIX_STRLEN];
	bool first = true;

	for (size_t i = 0; i < p->allow.n; i++) {
		const struct egress_rule *r = &p->allow.v[i];

		if (r->kind != EGRESS_PREFIX || r->port || r->prefix.family != fam)
			continue;
		prefix_format(&r->prefix, r->prefix.len != prefix_addr_len(&r->prefix) * 8, buf,
			      sizeof(buf));
		fprintf(f, "%s%s",
			first ? (fam == AF_INET ? "\t\tip daddr { " : "\t\tip6 daddr { ") : ", ",
			buf);
		first = false;
	}
	if (!first)
		fputs(" } accept\n", f);
}

static void put_sets(FILE *f, const struct egress_policy *p)
{
	fputs("\tset " EGRESS_SET4 " {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n"
	      "\tset " EGRESS_SET4 "_svc {\n\t\ttype ipv4_addr . inet_proto . inet_service\n"
	      "\t\tflags timeout\n\t}\n"
	      "\tset " EGRESS_SET6 " {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n"
	      "\tset " EGRESS_SET6 "_svc {\n\t\ttype ipv6_addr . inet_proto . inet_service\n"
	      "\t\tflags timeout\n\t}\n",
	      f);
	if (p->interactive)
		fputs("\tset " EGRESS_DENIED4
		      " {\n\t\ttype ipv4_addr . inet_proto . inet_service\n\t}\n"
		      "\tset " EGRESS_DENIED6
		      " {\n\t\ttype ipv6_addr . inet_proto . inet_service\n\t}\n",
		      f);
}

static void put_deny(FILE *f, const struct egress_policy *p)
{
	fputs("\tchain deny {\n", f);
	/* a flow's first packet only: its retransmissions would repeat the line */
	if (p->report_blocked)
		fputs("\t\tct state new log group 3\n", f);
	if (p->capture)
		fputs("\t\tlog prefix \"blocked\" group 2\n", f);
	if (p->deny_reject)
		fputs("\t\tmeta l4proto tcp reject with tcp reset\n"
		      "\t\treject with icmpx type admin-prohibited\n",
		      f);
	fputs("\t\tdrop\n\t}\n", f);
	if (!p->interactive)
		return;
	fputs("\tchain hold {\n\t\tlog group 1\n", f);
	if (p->capture)
		fputs("\t\tlog prefix \"held\" group 2\n", f);
	fputs("\t\tdrop\n\t}\n", f);
}

/* --pcap: what passed the filter chains, in each direction of the jail's link. */
static void put_capture(FILE *f)
{
	fputs("\tchain capture_fwd {\n"
	      "\t\ttype filter hook forward priority filter + 10; policy accept;\n"
	      "\t\tlog group 2\n"
	      "\t}\n"
	      "\tchain capture_in {\n"
	      "\t\ttype filter hook input priority filter + 10; policy accept;\n"
	      "\t\tiifname \"" EGRESS_GW_IF "\" log group 2\n"
	      "\t}\n"
	      "\tchain capture_out {\n"
	      "\t\ttype filter hook output priority filter + 10; policy accept;\n"
	      "\t\toifname \"" EGRESS_GW_IF "\" log group 2\n"
	      "\t}\n",
	      f);
}

/*
 * pasta (its 2023 versions, Debian 12's) takes the source address of every
 * IPv6 frame from the gateway as the address to send the jail's replies to.
 * In a gateway's first second its kernel sends MLD reports and DAD probes
 * from ::, and pasta then sent the next segments of a connection to ::,
 * where the gateway dropped them: the first fetch stalled until the jail's
 * retransmission. No frame from :: leaves by the uplink.
 */
static void put_uplink_out(FILE *f)
{
	fputs("\tchain uplink_out {\n"
	      "\t\ttype filter hook output priority filter; policy accept;\n"
	      "\t\toifname != \"" EGRESS_GW_IF "\" ip6 saddr :: drop\n"
	      "\t}\n",
	      f);
}

static void put_input(FILE *f, const struct egress_policy *p)
{
	fputs("\tchain input {\n"
	      "\t\ttype filter hook input priority filter; policy accept;\n"
	      "\t\tiifname != \"" EGRESS_GW_IF "\" accept\n"
	      "\t\tct state established,related accept\n"
	      "\t\tip daddr " EGRESS_GW_ADDR4 " meta l4proto { tcp, udp } th dport 53 accept\n"
	      "\t\tip6 daddr " EGRESS_GW_ADDR6 " meta l4proto { tcp, udp } th dport 53 accept\n",
	      f);
	/* --host-port: DNATed to pasta, on the gateway's loopback; pasta takes them to the host's */
	if (p->host_ports[0] && p->uplink != EGRESS_UPLINK_PROXY)
		fprintf(f,
			"\t\tip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport { %s } accept\n",
			p->host_ports);
	/* --host-port, IPv6, pasta: to nslab's own listeners in the gateway (put_pasta_ports) */
	if (p->host_ports[0] && p->uplink != EGRESS_UPLINK_PROXY && p->ipv6)
		fprintf(f,
			"\t\tip6 daddr " EGRESS_HOSTPORT6_ADDR
			" tcp dport %d ct status dnat accept\n"
			"\t\tip6 daddr " EGRESS_GW_ADDR6 " udp dport { %s } accept\n",
			EGRESS_RELAY_PORT, p->host_ports);
	fputs("\t\tmeta l4proto icmp icmp type echo-request accept\n"
	      "\t\tmeta l4proto ipv6-icmp accept\n"
	      "\t\tgoto deny\n"
	      "\t}\n",
	      f);
}

static void put_forward(FILE *f, const struct egress_policy *p)
{
	fputs("\tchain forward {\n"
	      "\t\ttype filter hook forward priority filter; policy drop;\n"
	      "\t\tct state established,related accept\n"
	      "\t\tiifname != \"" EGRESS_GW_IF "\" drop\n",
	      f);
	/* --host-port through the relay: DNATed to the relay's address, which connects to loopback */
	if (p->host_ports[0] && p->uplink == EGRESS_UPLINK_PROXY)
		fprintf(f,
			"\t\tip daddr " EGRESS_RELAY_ADDR4
			" meta l4proto { tcp, udp } th dport { %s } "
			"ct status dnat accept\n",
			p->host_ports);
	if (p->host_ports[0] && p->uplink == EGRESS_UPLINK_PROXY && p->ipv6)
		fprintf(f,
			"\t\tip6 daddr " EGRESS_RELAY_ADDR6
			" meta l4proto { tcp, udp } th dport { %s } "
			"ct status dnat accept\n",
			p->host_ports);
	if (!p->ipv6)
		fputs("\t\tmeta nfproto ipv6 goto deny\n", f);
	if (p->analyse) {
		/* --analyse: the jail reaches everything; the DNS gate logs what it asks */
		fputs("\t\taccept\n\t}\n", f);
		return;
	}
	for (size_t i = 0; i < p->allow.n; i++)
		if (p->allow.v[i].kind == EGRESS_PREFIX && p->allow.v[i].port)
			put_static_port(f, &p->allow.v[i]);
	fputs("\t\tip daddr . meta l4proto . th dport @" EGRESS_SET4 "_svc accept\n", f);
	if (p->ipv6)
		fputs("\t\tip6 daddr . meta l4proto . th dport @" EGRESS_SET6 "_svc accept\n", f);
	fputs("\t\tmeta l4proto { tcp, udp } th dport { 53, 853 } goto deny\n", f);
	put_static_any(f, p, AF_INET);
	if (p->ipv6)
		put_static_any(f, p, AF_INET6);
	fputs("\t\tip daddr @" EGRESS_SET4 " accept\n", f);
	if (p->ipv6)
		fputs("\t\tip6 daddr @" EGRESS_SET6 " accept\n", f);
	if (p->interactive) {
		fputs("\t\tip daddr . meta l4proto . th dport @" EGRESS_DENIED4 " goto deny\n", f);
		if (p->ipv6)
			fputs("\t\tip6 daddr . meta l4proto . th dport @" EGRESS_DENIED6
			      " goto deny\n",
			      f);
		fputs("\t\tgoto hold\n\t}\n", f);
		return;
	}
	fputs("\t\tgoto deny\n\t}\n", f);
}

/*
 * --host-port through the relay: the jail's packets to the gateway's address
 * and a host port go on to the relay's address, which the relay takes to the
 * caller's loopback (egress-relay.c); no loopback of the gateway is involved.
 */
static void put_relay_ports(FILE *f, const struct egress_policy *p)
{
	fprintf(f,
		"\tchain prerouting {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tiifname \"" EGRESS_GW_IF "\" ip daddr " EGRESS_GW_ADDR4
		" meta l4proto { tcp, udp } th dport { %s } dnat ip to " EGRESS_RELAY_ADDR4 "\n",
		p->host_ports);
	if (p->ipv6)
		fprintf(f,
			"\t\tiifname \"" EGRESS_GW_IF "\" ip6 daddr " EGRESS_GW_ADDR6
			" meta l4proto { tcp, udp } th dport { %s } dnat ip6 to " EGRESS_RELAY_ADDR6
			"\n",
			p->host_ports);
	fputs("\t}\n", f);
}

/*
 * --host-port through pasta: pasta listens on the gateway's loopback and
 * connects to the caller's; the jail's packets to the gateway's address are
 * DNATed to 127.0.0.1 (route_localnet) and SNATed to it (pasta splices only
 * connections from loopback and resets others).
 * IPv6 (--ipv6): pasta listens on the gateway's ::1 only, and IPv6 has no
 * route_localnet (the kernel routes no packet that came in on a link to
 * ::1, DNATed or not: Ip6InNoRoutes). So nslab carries those itself: TCP is
 * DNATed to its listener on [EGRESS_HOSTPORT6_ADDR]:EGRESS_RELAY_PORT (an
 * address of the gateway's lo: no port of pasta's or of the DNS gate is in
 * the way), UDP handed (TPROXY) to its transparent socket there
 * (egress-relay.c, run on the gateway), and its
 * threads connect to [::1]:PORT of the caller's namespace, for a listed
 * port only.
 */
static void put_pasta_ports(FILE *f, const struct egress_policy *p)
{
	fprintf(f,
		"\tchain prerouting {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tiifname \"" EGRESS_GW_IF "\" ip daddr " EGRESS_GW_ADDR4
		" meta l4proto { tcp, udp } th dport { %s } dnat ip to 127.0.0.1\n",
		p->host_ports);
	if (p->ipv6)
		fprintf(f,
			"\t\tiifname \"" EGRESS_GW_IF "\" ip6 daddr " EGRESS_GW_ADDR6
			" tcp dport { %s } dnat ip6 to [" EGRESS_HOSTPORT6_ADDR "]:%d\n"
			"\t}\n"
			"\tchain hostport6_udp {\n"
			"\t\ttype filter hook prerouting priority mangle; policy accept;\n"
			"\t\tiifname \"" EGRESS_GW_IF "\" ip6 daddr " EGRESS_GW_ADDR6
			" udp dport { %s } tproxy ip6 to [" EGRESS_HOSTPORT6_ADDR "]:%d\n",
			p->host_ports, EGRESS_RELAY_PORT, p->host_ports, EGRESS_RELAY_PORT);
	fprintf(f,
		"\t}\n"
		"\tchain hostport_src {\n"
		"\t\ttype nat hook input priority 100; policy accept;\n"
		"\t\tiifname \"" EGRESS_GW_IF "\" ip daddr 127.0.0.1 meta l4proto { tcp, "
		"udp } th dport { %s } snat ip to 127.0.0.1\n"
		"\t}\n",
		p->host_ports);
}

int egress_ruleset(const struct egress_policy *p, char **ret, nslab_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return nslab_err_set(err, errno, "gateway ruleset");
	fputs("table inet " EGRESS_TABLE " {\n", f);
	put_sets(f, p);
	put_deny(f, p);
	put_input(f, p);
	put_forward(f, p);
	if (p->ipv6 && p->uplink == EGRESS_UPLINK_PASTA)
		put_uplink_out(f);
	if (p->capture)
		put_capture(f);
	if (p->host_ports[0] && p->uplink == EGRESS_UPLINK_PROXY)
		put_relay_ports(f, p);
	else if (p->host_ports[0])
		put_pasta_ports(f, p);
	fputs("\tchain postrouting {\n"
	      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	      "\t\toifname != \"" EGRESS_GW_IF "\" masquerade\n"
	      "\t}\n}\n",
	      f);
	if (fclose(f) != 0 || !text) {
		free(text);
		return nslab_err_set(err, ENOMEM, "gateway ruleset");
	}
	*ret = text;
	return 0;
}

/*
 * One address of an answer allowed by rule r for ttl seconds. nft's "add"
 * leaves an existing element's timeout as it was, so the element is added,
 * deleted and added again in one transaction: the newest answer's timeout wins.
 */
static void put_elem(FILE *f, const char *set, const char *elem, uint64_t ttl)
{
	fprintf(f, "add element inet " EGRESS_TABLE " %s { %s timeout 1s }\n", set, elem);
	fprintf(f, "delete element inet " EGRESS_TABLE " %s { %s }\n", set, elem);
	fprintf(f, "add element inet " EGRESS_TABLE " %s { %s timeout %" PRIu64 "s }\n", set, elem,
		ttl);
}

int egress_elements(const struct egress_rule *r, const struct nslab_prefix *addr, uint64_t ttl,
		    FILE *f)
{
	char a[PREFIX_STRLEN], elem[PREFIX_STRLEN + 32];
	const char *set = addr->family == AF_INET ? EGRESS_SET4 : EGRESS_SET6;
	char svc[16];

	prefix_format(addr, false, a, sizeof(a));
	if (ttl == 0)
		ttl = 1;
	if (!r->port) {
		put_elem(f, set, a, ttl);
		return 0;
	}
	snprintf(svc, sizeof(svc), "%s_svc", set);
	for (uint8_t proto = IPPROTO_TCP; proto <= IPPROTO_UDP;
	     proto += IPPROTO_UDP - IPPROTO_TCP) {
		if (r->proto && r->proto != proto)
			continue;
		snprintf(elem, sizeof(elem), "%s . %s . %u", a, proto_name(proto), r->port);
		put_elem(f, svc, elem, ttl);
	}
	return 0;
}

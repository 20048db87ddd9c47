/* SPDX-License-Identifier: MIT */
/*
 * fwtest/check: a packet's or flow's observations against its expectations.
 * A check that needs the kernel's decision and finds none makes the test
 * inconclusive (never a pass, never a drop); any other mismatch fails it.
 */
#include "fwtest/run.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "pkt/pcap-dl.h"
#include <net/if.h>
#include <linux/netfilter/nf_conntrack_common.h>

struct check_ctx {
	struct fw_runner *r;
	const struct fw_track *t;
	struct fw_result *res;
	bool header_done;
};

static void header(struct check_ctx *c)
{
	const struct fw_track *t = c->t;

	if (c->header_done)
		return;
	c->header_done = true;
	fprintf(c->r->log, "  %s %zu%s: %s\n", t->is_flow ? "flow" : "packet", t->index + 1,
		t->copy ? " (copy)" : "", t->desc);
	if (t->dec.path[0])
		fprintf(c->r->log, "    trace: %s\n", t->dec.path);
	else if (t->n_evs)
		fprintf(c->r->log, "    trace: %zu events, no verdict\n", t->n_evs);
	else
		fprintf(c->r->log, "    trace: none\n");
}

/* A definite failure outranks an inconclusive check: both are reported. */
static void worsen(struct fw_result *res, enum fw_status s)
{
	if (res->status == FW_STATUS_PASS || s == FW_STATUS_FAIL)
		res->status = s;
}

_printf_(2, 3) static void fail(struct check_ctx *c, const char *fmt, ...)
{
	va_list ap;

	header(c);
	fputs("    ", c->r->log);
	va_start(ap, fmt);
	vfprintf(c->r->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->r->log);
	worsen(c->res, FW_STATUS_FAIL);
}

/* The decision is needed: without it the test is inconclusive. */
static bool need_decision(struct check_ctx *c, const char *what)
{
	if (c->t->decided)
		return true;
	header(c);
	fprintf(c->r->log,
		"    inconclusive: no verdict in the trace to check %s (%s); the packet was "
		"not dropped by a rule and never reached the end of the hooks\n",
		what, c->t->n_evs ? "it stopped part way" : "no trace event at all");
	if (!c->t->n_evs && c->t->spec.family == AF_INET6)
		fprintf(c->r->log,
			"    (an IPv6 ruleset that drops neighbour discovery keeps packets "
			"from ever being sent)\n");
	worsen(c->res, FW_STATUS_INCONCLUSIVE);
	return false;
}

static void check_verdict(struct check_ctx *c, const struct fw_expect *e)
{
	const struct fw_decision *d = &c->t->dec;

	if (!need_decision(c, "the verdict"))
		return;
	/* NSE's DROP is the kernel's: the packet died, by a drop or a reject */
	if (e->drop_or_reject && d->verdict == FW_VERDICT_REJECT)
		return;
	if (d->verdict != e->verdict)
		fail(c, "expected verdict %s%s, got %s", fw_verdict_name(e->verdict),
		     e->drop_or_reject ? " (or reject)" : "", fw_verdict_name(d->verdict));
}

/* What decided, for a message: the policy, the rule's text, or its handle and chain. */
static const char *decider_text(const struct fw_decision *d, char *buf, size_t len)
{
	if (d->by_policy)
		return "the chain's policy";
	if (d->rule_text)
		return d->rule_text;
	if (!d->decided)
		return "no rule (no user chain gave a verdict)";
	snprintf(buf, len, "rule handle %llu in %s %s %s (not in the listing: a bound chain?)",
		 (unsigned long long)d->handle, d->family, d->table, d->chain);
	return buf;
}

static void check_rule(struct check_ctx *c, const struct fw_expect *e)
{
	const struct fw_decision *d = &c->t->dec;
	char buf[256];

	if (!need_decision(c, "the rule"))
		return;
	if (!fw_rule_matches(d, e->rule))
		fail(c, "expected rule '%s', got %s", e->rule, decider_text(d, buf, sizeof(buf)));
}

static void check_chain(struct check_ctx *c, const struct fw_expect *e)
{
	if (!need_decision(c, "the chain"))
		return;
	if (strcmp(c->t->dec.chain, e->chain) != 0)
		fail(c, "expected chain '%s', got '%s'", e->chain,
		     c->t->dec.decided ? c->t->dec.chain : "(none)");
}

static void check_delivered(struct check_ctx *c, const struct fw_expect *e)
{
	if (!need_decision(c, "delivery"))
		return;
	if (c->t->dec.delivered != (e->delivered == 1))
		fail(c, "expected %s, it was %s", e->delivered ? "delivered" : "not delivered",
		     c->t->dec.delivered ? "delivered" : "not delivered");
}

static void check_reply(struct check_ctx *c, const struct fw_expect *e)
{
	enum fw_reply got = c->t->reply == FW_REPLY_UNSET ? FW_REPLY_NONE : c->t->reply;

	if (got != e->reply)
		fail(c, "expected reply %s, got %s", fw_reply_name(e->reply), fw_reply_name(got));
}

/* Why no trace event carried a ct state, for a message. */
static const char *no_ct_why(const struct fw_decision *d)
{
	if (!d->ct_used)
		return "no rule of the ruleset uses conntrack (no ct expression, no NAT chain), so "
		       "the kernel tracked nothing";
	if (!d->past_ct)
		return "the trace ends before conntrack (prerouting or output, priority -200) "
		       "saw the packet";
	return "this kernel puts no conntrack state in trace events (Linux 6.8 added it)";
}

static void check_ct(struct check_ctx *c, const struct fw_expect *e)
{
	char want[64], got[64];

	if (!c->t->dec.has_ct_state) {
		fail(c, "expected ct state %s, but no trace event carried one: %s",
		     fw_ct_state_format(e->ct_state, want, sizeof(want)), no_ct_why(&c->t->dec));
		return;
	}
	if (c->t->dec.ct_state != e->ct_state)
		fail(c, "expected ct state %s, got %s%s",
		     fw_ct_state_format(e->ct_state, want, sizeof(want)),
		     fw_ct_state_format(c->t->dec.ct_state, got, sizeof(got)),
		     c->t->dec.ct_derived ? " (conntrack gave it no entry)" : "");
}

/* Whether the address a (of family) is what ep names: a literal, or any address of a node. */
static bool endpoint_is(struct fw_runner *r, const struct fw_endpoint *ep, int family,
			const uint8_t *a)
{
	struct fw_node *n;

	if (ep->addr.family)
		return ep->addr.family == family &&
		       memcmp(ep->addr.addr, a, family == AF_INET ? 4 : 16) == 0;
	n = fw_topo_node_by_addr(r->env->topo, a, family);
	return n && ep->node && strcmp(n->name, ep->node) == 0;
}

/*
 * The packet as it arrived at another node than the sender and the rules
 * node (a captured frame carrying its tag), else as it left the rules node
 * (the trace's last headers, after NAT): the view "where it arrives". Flows
 * carry no tag: theirs is the trace's view.
 */
static const struct pkt_info *arrived(struct check_ctx *c, struct pkt_info *buf)
{
	size_t rules = c->r->env->topo->rules_node;
	bool found = false;

	for (size_t i = 0; !c->t->is_flow && i < c->r->n_caps; i++) {
		const struct fw_captured *k = &c->r->caps[i];
		struct pkt_info pi;

		if (k->outgoing || k->node == c->t->from || k->node == rules ||
		    pkt_parse(k->data, k->len, &pi, NULL) < 0)
			continue;
		if (pi.family == c->t->spec.family && pi.proto == c->t->spec.proto &&
		    pi.tag == c->t->spec.tag) {
			*buf = pi;
			found = true;
		}
	}
	return found ? buf : (c->t->dec.has_final ? &c->t->dec.final : NULL);
}

static void check_nat(struct check_ctx *c, const struct fw_nat_expect *nat)
{
	struct pkt_info seen;
	const struct pkt_info *f;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (!need_decision(c, "NAT"))
		return;
	f = arrived(c, &seen);
	if (!f) {
		fail(c, "expected NAT, but the packet was not seen leaving (verdict %s)",
		     fw_verdict_name(c->t->dec.verdict));
		return;
	}
	inet_ntop(f->family, f->src, a, sizeof(a));
	inet_ntop(f->family, f->dst, b, sizeof(b));
	if ((nat->src.node || nat->src.addr.family) &&
	    !endpoint_is(c->r, &nat->src, f->family, f->src))
		fail(c, "expected NAT source %s, got %s",
		     nat->src.node ? nat->src.node : "(address)", a);
	if ((nat->dst.node || nat->dst.addr.family) &&
	    !endpoint_is(c->r, &nat->dst, f->family, f->dst))
		fail(c, "expected NAT destination %s, got %s",
		     nat->dst.node ? nat->dst.node : "(address)", b);
	if (nat->sport >= 0 && (!f->has_ports || f->sport != nat->sport))
		fail(c, "expected NAT source port %d, got %u", nat->sport, f->sport);
	if (nat->dport >= 0 && (!f->has_ports || f->dport != nat->dport))
		fail(c, "expected NAT destination port %d, got %u", nat->dport, f->dport);
}

/* A captured frame of the sender's kernel resetting an answer (fw_is_kernel_reset()). */
static bool is_kernel_reset(const struct fw_runner *r, const struct fw_captured *k)
{
	struct pkt_info pi;

	return pkt_parse(k->data, k->len, &pi, NULL) >= 0 && fw_is_kernel_reset(r, &pi);
}

static long count_captured(struct check_ctx *c, const struct fw_capture_expect *ce, size_t node,
			   int ifindex, struct bpf_program *prog)
{
	long n = 0;

	for (size_t i = 0; i < c->r->n_caps; i++) {
		const struct fw_captured *k = &c->r->caps[i];
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)k->len,
					 .len = (bpf_u_int32)k->len };

		if (k->node != node || (ifindex && k->ifindex != ifindex) ||
		    is_kernel_reset(c->r, k))
			continue;
		if (!ce->filter || dl_pcap.pcap_offline_filter(prog, &h, k->data))
			n++;
	}
	return n;
}

#define CAPTURE_LINES_MAX 20

/* One captured frame as a line: "in eth0: tcp 10.0.0.1:40000 > 10.0.0.2:22 [S], 40 bytes". */
static void capture_line(struct check_ctx *c, const struct fw_captured *k)
{
	static const char letters[] = "FSRPAUEC";
	char a[INET6_ADDRSTRLEN] = "?", b[INET6_ADDRSTRLEN] = "?", flags[9] = "",
	     ifname[IF_NAMESIZE];
	struct pkt_info pi;
	size_t nf = 0;
	const char *dev = "?";
	bool v6;

	for (size_t i = 0; i < c->r->env->topo->nodes[k->node].n_ifaces; i++)
		if (c->r->env->topo->nodes[k->node].ifaces[i].ifindex == k->ifindex)
			dev = c->r->env->topo->nodes[k->node].ifaces[i].name;
	if (strcmp(dev, "?") == 0)
		dev = snprintf(ifname, sizeof(ifname), "if%d", k->ifindex) > 0 ? ifname : "?";
	fprintf(c->r->log, "      %s %s: ", k->outgoing ? "out" : "in", dev);
	if (pkt_parse(k->data, k->len, &pi, NULL) < 0) {
		fprintf(c->r->log, "(not parsed), %zu bytes\n", k->len);
		return;
	}
	inet_ntop(pi.family, pi.src, a, sizeof(a));
	inet_ntop(pi.family, pi.dst, b, sizeof(b));
	v6 = pi.family == AF_INET6;
	for (int i = 0; i < 8; i++)
		if (pi.tcp_flags & (1u << i))
			flags[nf++] = letters[i];
	flags[nf] = '\0';
	if (pi.has_ports)
		fprintf(c->r->log, "%s %s%s%s:%u > %s%s%s:%u%s%s%s",
			pi.proto == IPPROTO_TCP ? "tcp" : "udp", v6 ? "[" : "", a, v6 ? "]" : "",
			pi.sport, v6 ? "[" : "", b, v6 ? "]" : "", pi.dport,
			pi.proto == IPPROTO_TCP ? " [" : "", pi.proto == IPPROTO_TCP ? flags : "",
			pi.proto == IPPROTO_TCP ? "]" : "");
	else if (pi.is_icmp)
		fprintf(c->r->log, "icmp %s > %s type %u code %u", a, b, pi.icmp_type,
			pi.icmp_code);
	else
		fprintf(c->r->log, "proto %u %s > %s", pi.proto, a, b);
	fprintf(c->r->log, ", %zu bytes\n", k->len);
}

/* After a failed capture check: what was captured there (and passed the filter). */
static void list_captured(struct check_ctx *c, const struct fw_capture_expect *ce, size_t node,
			  int ifindex, struct bpf_program *prog)
{
	size_t shown = 0, n = 0;

	for (size_t i = 0; i < c->r->n_caps; i++) {
		const struct fw_captured *k = &c->r->caps[i];
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)k->len,
					 .len = (bpf_u_int32)k->len };

		if (k->node != node || (ifindex && k->ifindex != ifindex) ||
		    is_kernel_reset(c->r, k) ||
		    (ce->filter && !dl_pcap.pcap_offline_filter(prog, &h, k->data)))
			continue;
		if (!n++)
			fprintf(c->r->log, "    captured:\n");
		if (shown++ < CAPTURE_LINES_MAX)
			capture_line(c, k);
	}
	if (!n)
		fprintf(c->r->log, "    captured: nothing\n");
	else if (shown > CAPTURE_LINES_MAX)
		fprintf(c->r->log, "      (%zu more)\n", shown - CAPTURE_LINES_MAX);
}

static void check_capture(struct check_ctx *c, const struct fw_capture_expect *ce)
{
	struct fw_node *n = fw_topo_node(c->r->env->topo, ce->node);
	struct bpf_program prog = { 0 };
	char why[PCAP_ERRBUF_SIZE];
	int ifindex = 0;
	size_t node;
	bool ok = false;
	long got;

	if (!n) {
		fail(c, "capture at unknown node '%s'", ce->node);
		return;
	}
	for (size_t i = 0; ce->iface && i < n->n_ifaces; i++)
		if (strcmp(n->ifaces[i].name, ce->iface) == 0)
			ifindex = n->ifaces[i].ifindex;
	if (ce->iface && !ifindex) {
		fail(c, "capture at unknown interface '%s:%s'", ce->node, ce->iface);
		return;
	}
	if (ce->filter && fw_capture_filter_compile(ce->filter, &prog, why, sizeof(why)) < 0) {
		fail(c, "capture filter '%s' does not compile: %s (filters see IP packets)",
		     ce->filter, why);
		return;
	}
	node = (size_t)(n - c->r->env->topo->nodes);
	got = count_captured(c, ce, node, ifindex, &prog);
	if (ce->count >= 0 && got != ce->count)
		fail(c, "expected %ld packets captured at %s%s%s, got %ld", ce->count, ce->node,
		     ce->iface ? ":" : "", ce->iface ? ce->iface : "", got);
	else if (ce->min >= 0 && got < ce->min)
		fail(c, "expected at least %ld packets captured at %s, got %ld", ce->min, ce->node,
		     got);
	else if (ce->max >= 0 && got > ce->max)
		fail(c, "expected at most %ld packets captured at %s, got %ld", ce->max, ce->node,
		     got);
	else
		ok = true;
	if (!ok)
		list_captured(c, ce, node, ifindex, &prog);
	dl_pcap.pcap_freecode(&prog);
}

static void check_conntrack(struct check_ctx *c, const struct fw_conntrack_expect *ce)
{
	const struct ct_entry *e = &c->t->ct;

	if (ce->count >= 0 && (long)c->t->n_ct != ce->count)
		fail(c, "expected %ld conntrack entr%s for it, got %zu", ce->count,
		     ce->count == 1 ? "y" : "ies", c->t->n_ct);
	if (ce->tcp_state < 0 && ce->replied < 0 && ce->assured < 0)
		return;
	if (!c->t->n_ct) {
		fail(c, "expected a conntrack entry, the table has none for it");
		return;
	}
	if (ce->tcp_state >= 0 && (!e->has_tcp_state || e->tcp_state != ce->tcp_state))
		fail(c, "expected conntrack state %s, got %s",
		     ct_tcp_state_name((uint8_t)ce->tcp_state),
		     e->has_tcp_state ? ct_tcp_state_name(e->tcp_state) : "none (not TCP)");
	if (ce->replied >= 0 && !!(e->status & IPS_SEEN_REPLY) != ce->replied)
		fail(c, "expected the conntrack entry %sreplied", ce->replied ? "" : "not ");
	if (ce->assured >= 0 && !!(e->status & IPS_ASSURED) != ce->assured)
		fail(c, "expected the conntrack entry %sassured", ce->assured ? "" : "not ");
}

static const char *connect_name(enum fw_connect v)
{
	switch (v) {
	case FW_CONNECT_OK:
		return "ok";
	case FW_CONNECT_REFUSED:
		return "refused";
	case FW_CONNECT_TIMEOUT:
		return "timeout";
	case FW_CONNECT_UNSET:
		break;
	}
	return "(not attempted)";
}

static void check_connect(struct check_ctx *c, const struct fw_expect *e)
{
	if (c->t->connect != e->connect)
		fail(c, "expected connect %s, got %s", connect_name(e->connect),
		     connect_name(c->t->connect));
}

/* "packets N bytes M" of the named counter object in a `list counters` output. */
static bool counter_values(const char *listing, const char *name, int64_t *packets, int64_t *bytes)
{
	char head[128];
	const char *p;
	long long pk, by;

	snprintf(head, sizeof(head), "counter %s {", name);
	p = strstr(listing, head);
	if (!p || !(p = strstr(p, "packets ")))
		return false;
	if (sscanf(p, "packets %lld bytes %lld", &pk, &by) != 2)
		return false;
	*packets = pk;
	*bytes = by;
	return true;
}

/* Whether a rule's text updates the named counter ("counter name x", quoted or not). */
static bool rule_counts(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; (p = strstr(p, "counter name ")); p++) {
		const char *q = p + strlen("counter name ");

		if (*q == '"')
			q++;
		if (strncmp(q, name, n) == 0 && (q[n] == '"' || q[n] == ' ' || q[n] == '\0'))
			return true;
	}
	return false;
}

/* The IP length of a traced packet, as a counter adds it. */
static int64_t traced_bytes(const struct nftrace_event *ev)
{
	if (ev->nh_len >= 20 && (ev->nh[0] >> 4) == 4)
		return (int64_t)(ev->nh[2] << 8 | ev->nh[3]);
	if (ev->nh_len >= 40 && (ev->nh[0] >> 4) == 6)
		return 40 + (int64_t)(ev->nh[4] << 8 | ev->nh[5]);
	return 0;
}

/* What the senders' kernel resets added to a counter: once per packet and rule hit. */
static void resets_counted(const struct fw_runner *r, const char *name, int64_t *ret_packets,
			   int64_t *ret_bytes)
{
	for (size_t i = 0; i < r->n_resets; i++) {
		const struct nftrace_event *ev = &r->resets[i];
		const struct nftbl_rule *rule =
			nftbl_listing_find(&r->env->listing, fw_family_name(ev->family), ev->table,
					   ev->chain, ev->rule_handle);

		if (rule && rule_counts(rule->text, name)) {
			(*ret_packets)++;
			*ret_bytes += traced_bytes(ev);
		}
	}
}

/* What the test's packets and flows did to a counter, for a failed check: one line each. */
static void list_counted(struct check_ctx *c, const char *name, int64_t resets)
{
	const struct fw_runner *r = c->r;
	size_t lines = 0;

	for (size_t i = 0; i < r->n_tracks; i++) {
		const struct fw_track *t = &r->tracks[i];
		size_t hits = 0;

		for (size_t k = 0; k < t->n_evs; k++) {
			const struct nftrace_event *ev = &t->evs[k];
			const struct nftbl_rule *rule =
				ev->has_rule
					? nftbl_listing_find(&r->env->listing,
							     fw_family_name(ev->family), ev->table,
							     ev->chain, ev->rule_handle)
					: NULL;

			hits += rule && rule_counts(rule->text, name);
		}
		if (!hits)
			continue;
		fprintf(r->log, "    counted: %s (%zu rule hit%s)\n", t->desc, hits,
			hits == 1 ? "" : "s");
		lines++;
	}
	if (!lines)
		fprintf(r->log, "    counted: no packet of this test reached a rule counting %s\n",
			name);
	if (resets)
		fprintf(r->log,
			"    (and %lld reset%s of the sender's kernel, left out: not the test's)\n",
			(long long)resets, resets == 1 ? "" : "s");
}

static void check_counters(struct check_ctx *c, const struct fw_expect *e)
{
	struct fw_node *rn = &c->r->env->topo->nodes[c->r->env->topo->rules_node];
	_cleanup_free_ char *out = NULL;
	nslab_error err = { 0 };

	if (fw_io_nft(rn, &c->r->env->nft, "list counters", false, &out, &err) < 0) {
		fail(c, "list counters: %s", err.msg);
		return;
	}
	/* traces of what the counters hold are queued by now: read the resets among them */
	fw_collect_drain(c->r);
	for (size_t i = 0; i < e->n_counters; i++) {
		const struct fw_counter_expect *ce = &e->counters[i];
		int64_t pk, by, rpk = 0, rby = 0;

		if (!counter_values(out, ce->name, &pk, &by)) {
			fail(c, "no named counter '%s' in the ruleset", ce->name);
			continue;
		}
		resets_counted(c->r, ce->name, &rpk, &rby);
		pk -= rpk;
		by -= rby;
		if (ce->packets >= 0 && pk != ce->packets)
			fail(c, "expected counter %s packets %lld, got %lld", ce->name,
			     (long long)ce->packets, (long long)pk);
		if (ce->bytes >= 0 && by != ce->bytes)
			fail(c, "expected counter %s bytes %lld, got %lld", ce->name,
			     (long long)ce->bytes, (long long)by);
		if ((ce->packets >= 0 && pk != ce->packets) || (ce->bytes >= 0 && by != ce->bytes))
			list_counted(c, ce->name, rpk);
	}
}

void fw_check_track(struct fw_runner *r, const struct fw_track *t, const struct fw_expect *e,
		    struct fw_result *res)
{
	struct check_ctx c = { r, t, res, false };

	if (!e)
		return;
	if (e->verdict != FW_VERDICT_UNSET)
		check_verdict(&c, e);
	if (e->rule)
		check_rule(&c, e);
	if (e->chain)
		check_chain(&c, e);
	if (e->delivered >= 0)
		check_delivered(&c, e);
	if (e->reply != FW_REPLY_UNSET && !t->is_flow)
		check_reply(&c, e);
	if (e->ct_state)
		check_ct(&c, e);
	if (e->nat.set)
		check_nat(&c, &e->nat);
	for (size_t i = 0; i < e->n_captures; i++)
		check_capture(&c, &e->captures[i]);
	if (e->connect != FW_CONNECT_UNSET)
		check_connect(&c, e);
	if (e->n_counters)
		check_counters(&c, e);
	if (e->conntrack.set)
		check_conntrack(&c, &e->conntrack);
}

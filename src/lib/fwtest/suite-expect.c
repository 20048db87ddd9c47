/* SPDX-License-Identifier: MIT */
/* fwtest/suite-expect: expect: mappings into fw_expect (see suite-parse.h). */
#include "fwtest/suite-parse.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "pkt/pcap-dl.h"

#include "lab/spec.h"

/* Expectations */

void sp_expect_init(struct fw_expect *e, struct fw_loc loc)
{
	*e = (struct fw_expect){ .delivered = -1, .loc = loc };
	e->nat.sport = e->nat.dport = -1;
	e->conntrack = (struct fw_conntrack_expect){
		.tcp_state = -1, .replied = -1, .assured = -1, .count = -1
	};
}

enum { CT_STATE, CT_REPLIED, CT_ASSURED, CT_COUNT, CT__MAX };

/* TCP conntrack states in the kernel's order (tcp_conntrack_names); '_' reads as '-'. */
static const char *const tcp_state_names[] = { "none",	   "syn-sent",	 "syn-recv", "established",
					       "fin-wait", "close-wait", "last-ack", "time-wait",
					       "close",	   "syn-sent2",	 NULL };

/* conntrack: {state, replied, assured, count} */
static int decode_conntrack(struct sp *sp, const struct ynode *n, struct fw_conntrack_expect *c)
{
	static const char *const names[] = { "state", "replied", "assured", "count", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *k[CT__MAX] = { 0 }, *v[CT__MAX] = { 0 };
	uint64_t u = 0;
	bool b;
	int r = sp_collect(sp, n, "conntrack", &ks, k, v);

	c->set = true;
	c->loc = sp_loc(n);
	if (r >= 0 && !v[CT_STATE] && !v[CT_REPLIED] && !v[CT_ASSURED] && !v[CT_COUNT])
		return y_error(&sp->y, n, "conntrack: expected state, replied, assured or count");
	if (r >= 0 && v[CT_STATE]) {
		r = sp_name(sp, v[CT_STATE], "conntrack state", tcp_state_names,
			    "a TCP conntrack state: syn_sent, syn_recv, established, fin_wait, "
			    "close_wait, last_ack, time_wait, close");
		c->tcp_state = r;
	}
	if (r >= 0 && v[CT_REPLIED] && (r = y_bool(&sp->y, v[CT_REPLIED], "replied", &b)) >= 0)
		c->replied = b;
	if (r >= 0 && v[CT_ASSURED] && (r = y_bool(&sp->y, v[CT_ASSURED], "assured", &b)) >= 0)
		c->assured = b;
	if (r >= 0 && v[CT_COUNT]) {
		r = y_uint(&sp->y, v[CT_COUNT], "conntrack count", 0, 1000000, "0..1000000", &u);
		c->count = (long)u;
	}
	return r < 0 ? r : 0;
}

enum { N_SRC, N_SPORT, N_DST, N_DPORT, N__MAX };

static int decode_nat(struct sp *sp, const struct ynode *n, struct fw_nat_expect *nat)
{
	static const char *const names[] = { "src", "sport", "dst", "dport", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *k[N__MAX] = { 0 }, *v[N__MAX] = { 0 };
	int r = sp_collect(sp, n, "nat", &ks, k, v);

	if (r >= 0 && !k[N_SRC] && !k[N_SPORT] && !k[N_DST] && !k[N_DPORT])
		return y_error(&sp->y, n, "nat: expected one or more of src, sport, dst, dport");
	nat->set = true;
	nat->loc = sp_loc(n);
	if (r >= 0 && v[N_SRC])
		r = sp_endpoint(sp, v[N_SRC], "nat src", &nat->src);
	if (r >= 0 && v[N_SPORT])
		r = sp_int(sp, v[N_SPORT], "nat sport", 1, 65535, "1..65535", &nat->sport);
	if (r >= 0 && v[N_DST])
		r = sp_endpoint(sp, v[N_DST], "nat dst", &nat->dst);
	if (r >= 0 && v[N_DPORT])
		r = sp_int(sp, v[N_DPORT], "nat dport", 1, 65535, "1..65535", &nat->dport);
	return r;
}

/*
 * Capture filters. libpcap's code generator (backpatching) is quadratic in the
 * terms of an and/or chain and its optimizer worse: 250 'port N' terms took
 * 4.4 s optimized, 1000 more than a minute either way. Filters here only
 * count a test's captured packets, so they are compiled unoptimized, and the
 * terms are bounded.
 */
static bool is_word_char(char ch)
{
	return ch && !strchr(" \t\r\n()!", ch);
}

size_t fw_capture_filter_terms(const char *filter)
{
	size_t n = 1;

	for (const char *p = filter; *p; p++) {
		if ((p[0] == '&' && p[1] == '&') || (p[0] == '|' && p[1] == '|')) {
			n++;
			p++;
		} else if (!is_word_char(*p) || (p > filter && is_word_char(p[-1]))) {
			continue;
		} else if ((!strncasecmp(p, "or", 2) && !is_word_char(p[2])) ||
			   (!strncasecmp(p, "and", 3) && !is_word_char(p[3]))) {
			n++;
		}
	}
	return n;
}

int fw_capture_filter_compile(const char *filter, struct bpf_program *prog, char *why, size_t len)
{
	nslab_error e = { 0 };
	pcap_t *p;
	int r;

	if (dl_pcap_load(&e) < 0) {
		snprintf(why, len, "%s", e.msg);
		return -1;
	}
	/* SOCK_DGRAM packet sockets give L3: frames without a link-layer header */
	p = dl_pcap.pcap_open_dead(DLT_RAW, 65535);
	snprintf(why, len, "out of memory");
	if (!p)
		return -1;
	r = dl_pcap.pcap_compile(p, prog, filter, 0, PCAP_NETMASK_UNKNOWN);
	if (r < 0)
		snprintf(why, len, "%s", dl_pcap.pcap_geterr(p));
	dl_pcap.pcap_close(p);
	return r;
}

/* Bounded, and compiled once here so that a bad filter is a bad file, not a failed test. */
static int check_capture_filter(struct sp *sp, const struct ynode *v, const char *filter)
{
	struct bpf_program prog = { 0 };
	char why[PCAP_ERRBUF_SIZE];
	size_t terms = fw_capture_filter_terms(filter);

	if (terms > FW_FILTER_TERMS_MAX)
		return y_error(&sp->y, v,
			       "capture filter: %zu terms joined by and/or, at most %d (libpcap "
			       "compiles long chains in quadratic time)",
			       terms, FW_FILTER_TERMS_MAX);
	if (strlen(filter) > FW_FILTER_LEN_MAX)
		return y_error(&sp->y, v, "capture filter: longer than %d characters",
			       FW_FILTER_LEN_MAX);
	if (fw_capture_filter_compile(filter, &prog, why, sizeof(why)) < 0)
		return y_error(&sp->y, v,
			       "capture filter does not compile: %s (filters see IP "
			       "packets, without a link-layer header)",
			       why);
	dl_pcap.pcap_freecode(&prog);
	return 0;
}

/* "node" or "node:iface" */
static int decode_capture_at(struct sp *sp, const struct ynode *v, struct fw_capture_expect *c)
{
	const char *s, *colon;
	size_t iflen;
	int r = y_str(&sp->y, v, "capture at", &s);

	if (r < 0)
		return r;
	colon = strchr(s, ':');
	iflen = colon ? strlen(colon + 1) : 0;
	c->node = colon ? strndup(s, (size_t)(colon - s)) : strdup(s);
	if (!c->node)
		return sp_oom(sp, "capture");
	if (!spec_node_name_ok(c->node) ||
	    (colon && (iflen == 0 || iflen > 15 ||
		       strspn(colon + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_.-") != iflen)))
		return y_error(&sp->y, v,
			       "bad capture at '%s' (expected a node name, or node:interface)",
			       YAML_Q(s));
	if (colon && !(c->iface = strdup(colon + 1)))
		return sp_oom(sp, "capture");
	return sp_check_node(sp, v, "capture at", c->node, c->iface);
}

enum { C_AT, C_FILTER, C_COUNT, C_MIN, C_MAX, C__MAX };

static int decode_capture(struct sp *sp, const struct ynode *n, struct fw_capture_expect *c)
{
	static const char *const names[] = { "at", "filter", "count", "min", "max", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	static const char *const what[] = {
		[C_COUNT] = "capture count", [C_MIN] = "capture min", [C_MAX] = "capture max"
	};
	const struct ynode *k[C__MAX] = { 0 }, *v[C__MAX] = { 0 };
	long *bound[] = { [C_COUNT] = &c->count, [C_MIN] = &c->min, [C_MAX] = &c->max };
	int r;

	c->count = c->min = c->max = -1;
	c->loc = sp_loc(n);
	r = sp_collect(sp, n, "capture", &ks, k, v);
	if (r < 0)
		return r;
	if (!v[C_AT])
		return y_error(&sp->y, n, "capture needs 'at' (a node, or node:interface)");
	r = decode_capture_at(sp, v[C_AT], c);
	if (r >= 0 && v[C_FILTER])
		r = sp_strdup(sp, v[C_FILTER], "capture filter", true, &c->filter);
	if (r >= 0 && c->filter)
		r = check_capture_filter(sp, v[C_FILTER], c->filter);
	for (int i = C_COUNT; r >= 0 && i <= C_MAX; i++) {
		uint64_t u = 0;

		if (!v[i])
			continue;
		r = y_uint(&sp->y, v[i], what[i], 0, FW_CAPTURE_COUNT_MAX, "0..1000000", &u);
		*bound[i] = (long)u;
	}
	if (r < 0)
		return r;
	if (v[C_COUNT] && (v[C_MIN] || v[C_MAX]))
		return y_error(&sp->y, k[C_COUNT],
			       "capture: 'count' and 'min'/'max' cannot be used together");
	if (v[C_MIN] && v[C_MAX] && c->max < c->min)
		return y_error(&sp->y, v[C_MAX], "capture: max %ld is less than min %ld", c->max,
			       c->min);
	if (!v[C_COUNT] && !v[C_MIN] && !v[C_MAX])
		c->min = 1; /* a capture with no count asks for at least one packet */
	return 0;
}

static int decode_captures(struct sp *sp, const struct ynode *v, struct fw_expect *e)
{
	size_t n = sp_items(v);
	int r = 0;

	if (v->type != Y_SEQ && v->type != Y_MAP)
		return y_error(&sp->y, v,
			       "capture: expected a mapping or a sequence of them, not %s",
			       y_kind(v));
	if (n == 0)
		return y_error(&sp->y, v, "capture: expected at least one capture");
	e->captures = calloc(n, sizeof(*e->captures));
	if (!e->captures)
		return sp_oom(sp, "capture");
	e->n_captures = n;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = decode_capture(sp, sp_item(v, i), &e->captures[i]);
	return r;
}

enum { K_PACKETS, K_BYTES, K__MAX };

/* What counter: accepts, shown in each of its messages. */
#define COUNTER_SHAPES                                                   \
	"a mapping of counter names to packet counts, like {ssh: 1} or " \
	"{ssh: {packets: 1, bytes: 60}}"

/* "a mapping", or "an empty mapping" where a non-empty one is wanted. */
static const char *kind_of(const struct ynode *v)
{
	return v->type == Y_MAP && v->n == 0 ? "an empty mapping" : y_kind(v);
}

/* A counter's packets or bytes (which) into *ret; the examples name the counter. */
static int decode_counter_number(struct sp *sp, const struct ynode *v, const char *name,
				 const char *which, int64_t *ret)
{
	char what[32], expect[256];
	uint64_t u = 0;
	int r;

	snprintf(what, sizeof(what), "counter %s", which);
	if (strcmp(which, "packets") == 0)
		snprintf(expect, sizeof(expect),
			 "a number of packets, like {%s: 1} or {%s: {packets: 1, bytes: 60}}",
			 YAML_Q(name), YAML_Q(name));
	else
		snprintf(expect, sizeof(expect),
			 "a number of bytes, like {%s: {bytes: 60}} or {%s: {packets: 1, bytes: "
			 "60}}",
			 YAML_Q(name), YAML_Q(name));
	r = y_uint(&sp->y, v, what, 0, INT64_MAX, expect, &u);
	if (r >= 0)
		*ret = (int64_t)u;
	return r;
}

/* {packets: N, bytes: N}, one or both; any other key says which there are. */
static int decode_counter_map(struct sp *sp, const struct ynode *v, struct fw_counter_expect *c)
{
	static const char *const names[] = { "packets", "bytes", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *kk[K__MAX] = { 0 }, *vv[K__MAX] = { 0 };
	const char *key;
	int r;

	for (size_t i = 0; i + 1 < v->n; i += 2) {
		r = y_str(&sp->y, v->kids[i], "key", &key);
		if (r < 0)
			return r;
		if (strcmp(key, "packets") != 0 && strcmp(key, "bytes") != 0)
			return y_error(&sp->y, v->kids[i],
				       "counter '%s': unknown key '%s' (expected packets or bytes, "
				       "like {%s: {packets: 1, bytes: 60}})",
				       YAML_Q(c->name), YAML_Q(key), YAML_Q(c->name));
	}
	r = sp_collect(sp, v, "counter", &ks, kk, vv);
	if (r >= 0 && vv[K_PACKETS])
		r = decode_counter_number(sp, vv[K_PACKETS], c->name, "packets", &c->packets);
	if (r >= 0 && vv[K_BYTES])
		r = decode_counter_number(sp, vv[K_BYTES], c->name, "bytes", &c->bytes);
	return r;
}

/* name: N (packets) or name: {packets: N, bytes: N} */
static int decode_counter(struct sp *sp, const struct ynode *k, const struct ynode *v,
			  struct fw_counter_expect *c)
{
	const char *s;
	int r = y_str(&sp->y, k, "counter name", &s);

	c->packets = c->bytes = -1;
	c->loc = sp_loc(k);
	if (r < 0)
		return r;
	if (!*s || strlen(s) > 255 || strpbrk(s, " \t\"'{};"))
		return y_error(&sp->y, k,
			       "bad counter name '%s' (expected the name of an nft counter: 1 to "
			       "255 characters, no blanks, quotes, braces or ';')",
			       YAML_Q(s));
	r = sp_strdup(sp, k, "counter name", false, &c->name);
	if (r < 0)
		return r;
	if (v->type == Y_SCALAR && !y_is_null(v))
		return decode_counter_number(sp, v, c->name, "packets", &c->packets);
	if (v->type != Y_MAP || v->n == 0)
		return y_error(&sp->y, v,
			       "counter '%s': expected a packet count or {packets: N, bytes: N}, "
			       "like {%s: 1} or {%s: {packets: 1, bytes: 60}}, not %s",
			       YAML_Q(s), YAML_Q(s), YAML_Q(s), kind_of(v));
	return decode_counter_map(sp, v, c);
}

static int decode_counters(struct sp *sp, const struct ynode *v, struct fw_expect *e)
{
	int r = 0;

	if (v->type != Y_MAP || v->n == 0)
		return y_error(&sp->y, v, "counter: expected " COUNTER_SHAPES ", not %s",
			       kind_of(v));
	if (v->n / 2 > FW_COUNTERS_MAX)
		return y_error(&sp->y, v, "counter: more than %d counters", FW_COUNTERS_MAX);
	e->counters = calloc(v->n / 2, sizeof(*e->counters));
	if (!e->counters)
		return sp_oom(sp, "counter");
	e->n_counters = v->n / 2;
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2)
		r = decode_counter(sp, v->kids[i], v->kids[i + 1], &e->counters[i / 2]);
	for (size_t i = 0; r >= 0 && i < e->n_counters; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(e->counters[i].name, e->counters[j].name) == 0)
				return y_error(&sp->y, v->kids[2 * i], "duplicate counter '%s'",
					       YAML_Q(e->counters[i].name));
	return r;
}

enum {
	E_VERDICT,
	E_RULE,
	E_CHAIN,
	E_DELIVERED,
	E_REPLY,
	E_CT_STATE,
	E_NAT,
	E_CAPTURE,
	E_COUNTER,
	E_CONNECT,
	E_CONNTRACK,
	E__MAX
};

#define REPLY_EXPECT                                                                     \
	"none, rst, syn-ack, echo-reply, icmp-port-unreachable, icmp-admin-prohibited, " \
	"icmp-host-unreachable, icmp-net-unreachable, icmp-prot-unreachable or udp"

/* Scalar expectations: verdict, rule, chain, delivered, reply, ct_state, connect. */
static int decode_expect_scalars(struct sp *sp, const struct ynode **v, struct fw_expect *e)
{
	bool b;
	int r;

	if (v[E_VERDICT]) {
		r = sp_name(sp, v[E_VERDICT], "verdict", sp_verdict_names, VERDICT_EXPECT);
		if (r < 0)
			return r;
		e->verdict = (enum fw_verdict)(FW_VERDICT_ACCEPT + r);
	}
	if (v[E_RULE]) {
		r = sp_strdup(sp, v[E_RULE], "rule", false, &e->rule);
		if (r < 0)
			return r;
		if (!*e->rule)
			return y_error(&sp->y, v[E_RULE],
				       "rule: expected a comment or a part of a rule");
	}
	if (v[E_CHAIN] && (r = sp_strdup(sp, v[E_CHAIN], "chain", false, &e->chain)) < 0)
		return r;
	if (v[E_DELIVERED]) {
		r = y_bool(&sp->y, v[E_DELIVERED], "delivered", &b);
		if (r < 0)
			return r;
		e->delivered = b;
	}
	if (v[E_REPLY]) {
		r = sp_name(sp, v[E_REPLY], "reply", sp_reply_names, REPLY_EXPECT);
		if (r < 0)
			return r;
		e->reply = (enum fw_reply)(FW_REPLY_NONE + r);
	}
	if (v[E_CT_STATE]) {
		r = sp_name(sp, v[E_CT_STATE], "ct_state", sp_ct_names,
			    "new, established, related, invalid or untracked");
		if (r < 0)
			return r;
		e->ct_state = sp_ct_bits[r];
	}
	if (v[E_CONNECT]) {
		r = sp_name(sp, v[E_CONNECT], "connect", sp_connect_names,
			    "ok, refused or timeout");
		if (r < 0)
			return r;
		e->connect = (enum fw_connect)(FW_CONNECT_OK + r);
	}
	return 0;
}

/*
 * sp_decode_expect() - An expect: mapping into e (initialised here)
 * @ret_connect:  the connect: value if any (only tests with flows may have one), or
 *                NULL to refuse connect: here (packets)
 */
int sp_decode_expect(struct sp *sp, const struct ynode *n, struct fw_expect *e,
		     const struct ynode **ret_connect)
{
	static const char *const names[] = { "verdict", "rule",	    "chain",	 "delivered",
					     "reply",	"ct_state", "nat",	 "capture",
					     "counter", "connect",  "conntrack", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *k[E__MAX] = { 0 }, *v[E__MAX] = { 0 };
	int r;

	sp_expect_init(e, sp_loc(n));
	r = sp_collect(sp, n, "expect", &ks, k, v);
	if (r >= 0 && v[E_CONNECT] && !ret_connect)
		return y_error(&sp->y, k[E_CONNECT],
			       "connect: only in a test's expect (it checks the test's flows)");
	if (r >= 0)
		r = decode_expect_scalars(sp, v, e);
	if (r >= 0 && v[E_NAT])
		r = decode_nat(sp, v[E_NAT], &e->nat);
	if (r >= 0 && v[E_CAPTURE])
		r = decode_captures(sp, v[E_CAPTURE], e);
	if (r >= 0 && v[E_COUNTER])
		r = decode_counters(sp, v[E_COUNTER], e);
	if (r >= 0 && v[E_CONNTRACK])
		r = decode_conntrack(sp, v[E_CONNTRACK], &e->conntrack);
	if (r >= 0 && ret_connect)
		*ret_connect = v[E_CONNECT];
	return r;
}

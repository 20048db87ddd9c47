/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fwtest/suite: a firewall test suite (YAML) into a validated fw_suite.
 *
 * core/yaml reads the file into a tree that keeps line:col (literal block
 * scalars allowed, for rules); the decoders below fill the model. Each
 * mapping is decoded in two steps: its keys first (unknown keys, duplicates,
 * NSE's spellings folded into ours), then its values field by field, then the
 * checks that involve several fields (families, ports and protocols).
 */
#include "fwtest/suite.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/yaml.h"
#include "lab/spec.h"
#include "nl/nftables.h"

/* Parser state: the suite being filled and where messages go. */
struct sp {
	struct fw_suite *s;
	struct yctx y;
	bool allow_include;
};

static struct fw_loc floc(const struct ynode *n)
{
	return (struct fw_loc){ n->loc.line, n->loc.col };
}

static int oom(struct sp *sp, const char *what)
{
	return nslab_err_set(sp->y.err, ENOMEM, "parse suite: %s", what);
}

/* Freeing */

static void endpoint_clear(struct fw_endpoint *e)
{
	free(e->node);
	e->node = NULL;
}

static void expect_clear(struct fw_expect *e)
{
	free(e->rule);
	free(e->chain);
	endpoint_clear(&e->nat.src);
	endpoint_clear(&e->nat.dst);
	for (size_t i = 0; i < e->n_captures; i++) {
		free(e->captures[i].node);
		free(e->captures[i].iface);
		free(e->captures[i].filter);
	}
	free(e->captures);
	for (size_t i = 0; i < e->n_counters; i++)
		free(e->counters[i].name);
	free(e->counters);
}

static void test_clear(struct fw_test *t)
{
	free(t->name);
	free(t->rules);
	for (size_t i = 0; i < t->n_packets; i++) {
		struct fw_packet *p = &t->packets[i];

		endpoint_clear(&p->src);
		endpoint_clear(&p->dst);
		free(p->from);
		free(p->payload);
		expect_clear(&p->expect);
	}
	free(t->packets);
	for (size_t i = 0; i < t->n_flows; i++) {
		struct fw_flow *f = &t->flows[i];

		endpoint_clear(&f->src);
		endpoint_clear(&f->dst);
		free(f->from);
		free(f->send);
	}
	free(t->flows);
	expect_clear(&t->expect);
}

struct fw_suite *fw_suite_free(struct fw_suite *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_tests; i++)
		test_clear(&s->tests[i]);
	free(s->tests);
	free(s->path);
	free(s->lab_file);
	free(s->rules_in);
	free(s->rules);
	free(s->rules_file);
	free(s);
	return NULL;
}

/* Names */

static const char *const verdict_names[] = { "accept", "drop", "reject", NULL };
static const char *const reply_names[] = { "none",
					   "rst",
					   "syn-ack",
					   "echo-reply",
					   "icmp-port-unreachable",
					   "icmp-admin-prohibited",
					   "icmp-host-unreachable",
					   "icmp-net-unreachable",
					   "icmp-prot-unreachable",
					   "udp",
					   NULL };
static const char *const connect_names[] = { "ok", "refused", "timeout", NULL };
/* in bit order, as nft lists them */
static const char *const ct_names[] = { "invalid", "established", "related",
					"new",	   "untracked",	  NULL };
static const unsigned ct_bits[] = { FW_CT_INVALID, FW_CT_ESTABLISHED, FW_CT_RELATED, FW_CT_NEW,
				    FW_CT_UNTRACKED };

const char *fw_verdict_name(enum fw_verdict v)
{
	if (v < FW_VERDICT_ACCEPT || v > FW_VERDICT_REJECT)
		return "unset";
	return verdict_names[v - FW_VERDICT_ACCEPT];
}

const char *fw_reply_name(enum fw_reply r)
{
	if (r < FW_REPLY_NONE || r > FW_REPLY_UDP)
		return "unset";
	return reply_names[r - FW_REPLY_NONE];
}

const char *fw_connect_name(enum fw_connect c)
{
	if (c < FW_CONNECT_OK || c > FW_CONNECT_TIMEOUT)
		return "unset";
	return connect_names[c - FW_CONNECT_OK];
}

const char *fw_topology_name(enum fw_topology t)
{
	switch (t) {
	case FW_TOPO_DIRECT:
		return "direct";
	case FW_TOPO_GATEWAY:
		return "gateway";
	case FW_TOPO_LAB:
		return "lab";
	}
	return "unknown";
}

const char *fw_ct_state_format(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!bits) {
		snprintf(buf, len, "unset");
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ct_bits); i++)
		if (bits & ct_bits[i]) {
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      ct_names[i]);
			bits &= ~ct_bits[i];
		}
	if (bits && n < len)
		snprintf(buf + n, len - n, "%s0x%x", n ? "," : "", bits);
	return buf;
}

/* Scalars */

/* Names compare without case, and '_' stands for '-' ("ICMP_PORT_UNREACHABLE"). */
static bool name_eq(const char *s, const char *name)
{
	for (; *s && *name; s++, name++) {
		char a = *s == '_' ? '-' : *s;

		if (a != *name && !(a >= 'A' && a <= 'Z' && a - 'A' + 'a' == *name))
			return false;
	}
	return !*s && !*name;
}

/* One of names (NULL-terminated, lower case). Return: its index, or -EINVAL. */
static int y_name(struct sp *sp, const struct ynode *v, const char *what, const char *const *names,
		  const char *expect)
{
	const char *s;
	int r = y_str(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	for (int i = 0; names[i]; i++)
		if (name_eq(s, names[i]))
			return i;
	return y_error(&sp->y, v, "bad %s '%s' (expected %s)", what, YAML_Q(s), expect);
}

/* A number in min..max into *ret (an int field). */
static int y_int(struct sp *sp, const struct ynode *v, const char *what, unsigned min, unsigned max,
		 const char *expect, int *ret)
{
	uint64_t u;
	int r = y_uint(&sp->y, v, what, min, max, expect, &u);

	if (r >= 0)
		*ret = (int)u;
	return r;
}

/* A string copied into *ret (replacing what was there). */
static int y_strdup(struct sp *sp, const struct ynode *v, const char *what, bool multiline,
		    char **ret)
{
	const char *s;
	char *c;
	int r = multiline ? y_text(&sp->y, v, what, &s) : y_str(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	c = strdup(s);
	if (!c)
		return oom(sp, what);
	free(*ret);
	*ret = c;
	return 0;
}

/* A node name: as lab nodes are named ([a-z][a-z0-9-]*, no trailing '-'). */
static int y_node(struct sp *sp, const struct ynode *v, const char *what, char **ret)
{
	const char *s;
	int r = y_str(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	if (!spec_node_name_ok(s))
		return y_error(&sp->y, v,
			       "bad %s '%s' (expected a node name: a-z, 0-9 and '-', starting "
			       "with a letter)",
			       what, YAML_Q(s));
	return y_strdup(sp, v, what, false, ret);
}

/* A node name or a literal IPv4/IPv6 address (no prefix length). */
static int y_endpoint(struct sp *sp, const struct ynode *v, const char *what,
		      struct fw_endpoint *ret)
{
	struct nslab_prefix a;
	const char *s;
	int r = y_str(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	ret->loc = floc(v);
	if (!strchr(s, '/') && prefix_parse(s, false, &a, NULL) >= 0) {
		endpoint_clear(ret);
		ret->addr = a;
		return 0;
	}
	if (!spec_node_name_ok(s))
		return y_error(&sp->y, v, "bad %s '%s' (expected a node name or an IP address)",
			       what, YAML_Q(s));
	ret->addr = (struct nslab_prefix){ 0 };
	return y_strdup(sp, v, what, false, &ret->node);
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Bytes from hex digits, two per byte; with seps, spaces, tabs, line breaks
 * and ':' may stand between bytes. Return: the length, or -1.
 */
static ssize_t hex_decode(const char *s, bool seps, uint8_t *out)
{
	size_t n = 0;

	while (*s) {
		int hi, lo;

		if (seps && strchr(" \t\n:", *s)) {
			s++;
			continue;
		}
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (ssize_t)n;
}

/*
 * y_bytes() - Payload bytes: "hex:0a 0b:0c" (separators between bytes),
 * "0x0a0b" (digits only), anything else as text (UTF-8, as written)
 * Return: 0 with *ret (NULL when empty) and *ret_len, replacing what was there.
 */
static int y_bytes(struct sp *sp, const struct ynode *v, const char *what, uint8_t **ret,
		   size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	bool hex, prefixed;
	const char *s;
	ssize_t len;
	int r = y_text(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	prefixed = strncmp(s, "hex:", 4) == 0;
	hex = prefixed || strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0;
	buf = malloc(v->len + 1);
	if (!buf)
		return oom(sp, what);
	if (hex) {
		len = hex_decode(s + (prefixed ? 4 : 2), prefixed, buf);
		if (len < 0)
			return y_error(&sp->y, v, "bad %s '%s' (expected %s)", what, YAML_Q(s),
				       prefixed ? "hex: and two hex digits per byte, bytes "
						  "optionally separated by spaces or ':'"
						: "0x and two hex digits per byte");
	} else {
		len = (ssize_t)v->len;
		memcpy(buf, s, v->len);
	}
	if (len > FW_PAYLOAD_MAX)
		return y_error(&sp->y, v, "%s: too long (%zd bytes, at most %d)", what, len,
			       FW_PAYLOAD_MAX);
	free(*ret);
	*ret = len ? TAKE_PTR(buf) : NULL;
	*ret_len = (size_t)len;
	return 0;
}

#define PROTO_EXPECT "tcp, udp, icmp, icmpv6 or a number 0..255"

static int y_proto(struct sp *sp, const struct ynode *v, const char *what, int *ret)
{
	static const char *const names[] = { "tcp",   "udp",	   "icmp", "icmpv6",
					     "icmp6", "ipv6-icmp", NULL };
	static const int protos[] = { IPPROTO_TCP,    IPPROTO_UDP,    IPPROTO_ICMP,
				      IPPROTO_ICMPV6, IPPROTO_ICMPV6, IPPROTO_ICMPV6 };
	int i;

	if (v->type == Y_SCALAR && v->text[0] >= '0' && v->text[0] <= '9')
		return y_int(sp, v, what, 0, 255, PROTO_EXPECT, ret);
	i = y_name(sp, v, what, names, PROTO_EXPECT);
	if (i < 0)
		return i;
	*ret = protos[i];
	return 0;
}

const char *fw_proto_name(int proto, char buf[8])
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(buf, 8, "%d", proto & 0xff);
		return buf;
	}
}

/* TCP flags: a name (syn, ack, ...) or letters (S, SA), case-insensitive. Return: bits, or -1. */
static int flags_word(const char *w, size_t len)
{
	static const char letters[] = "FSRPAUEC";
	static const char *const names[] = {
		"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"
	};
	int bits = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (len == 3 && strncasecmp(w, names[i], 3) == 0)
			return 1 << i;
	for (size_t i = 0; i < len; i++) {
		const char *l = w[i] ? strchr(letters, w[i] & ~0x20) : NULL;

		if (!l)
			return -1;
		bits |= 1 << (l - letters);
	}
	return bits;
}

/* Words separated by ',', '|', '+' or blanks; "" is no flag at all. Return: bits, or -1. */
static int flags_text(const char *s)
{
	int bits = 0;

	while (*s) {
		size_t n = strcspn(s, ",|+ \t");
		int b = n ? flags_word(s, n) : 0;

		if (b < 0)
			return -1;
		bits |= b;
		s += n + (s[n] ? 1 : 0);
	}
	return bits;
}

#define FLAGS_EXPECT "letters of FSRPAUEC such as S or SA, or names such as syn,ack"

static int y_flags(struct sp *sp, const struct ynode *v, const char *what, int *ret)
{
	const char *s;
	int bits = 0, r;

	if (v->type != Y_SEQ) {
		r = y_str(&sp->y, v, what, &s);
		bits = r < 0 ? r : flags_text(s);
		if (bits == -1)
			return y_error(&sp->y, v, "bad %s '%s' (expected %s)", what, YAML_Q(s),
				       FLAGS_EXPECT);
		if (bits >= 0)
			*ret = bits;
		return bits < 0 ? bits : 0;
	}
	for (size_t i = 0; i < v->n; i++) {
		int b;

		r = y_str(&sp->y, v->kids[i], what, &s);
		if (r < 0)
			return r;
		b = *s ? flags_text(s) : -1;
		if (b < 0)
			return y_error(&sp->y, v->kids[i], "bad %s '%s' (expected %s)", what,
				       YAML_Q(s), FLAGS_EXPECT);
		bits |= b;
	}
	*ret = bits;
	return 0;
}

/* Mappings */

/* The keys of one kind of mapping: the first `shown` are advertised; field[] folds aliases. */
struct keys {
	const char *const *names; /* NULL-terminated, at most 32 */
	const uint8_t *field;	  /* per name, the field it sets; NULL: its index */
	size_t shown;
};

/*
 * collect() - The values of mapping n by field
 * @key, @val:  per field, the key and value given (NULL if none), arrays large enough
 * Unknown and duplicate keys, and a key given under two spellings, are errors.
 */
static int collect(struct sp *sp, const struct ynode *n, const char *what, const struct keys *ks,
		   const struct ynode **key, const struct ynode **val)
{
	uint32_t seen = 0;
	int r = y_map(&sp->y, n, what, NULL);

	for (size_t i = 0; r >= 0 && i + 1 < n->n; i += 2) {
		const struct ynode *k = n->kids[i];
		int f;

		r = y_key(&sp->y, k, ks->names, ks->shown, &seen);
		if (r < 0)
			break;
		f = ks->field ? ks->field[r] : r;
		if (key[f])
			return y_error(&sp->y, k, "duplicate key '%s' (same as '%s')", k->text,
				       key[f]->text);
		key[f] = k;
		val[f] = n->kids[i + 1];
	}
	return r < 0 ? r : 0;
}

/* Each item of a sequence, or a lone mapping as a sequence of one. */
static size_t items(const struct ynode *v)
{
	return v->type == Y_SEQ ? v->n : 1;
}

static const struct ynode *item(const struct ynode *v, size_t i)
{
	return v->type == Y_SEQ ? v->kids[i] : v;
}

/* Expectations */

static void expect_init(struct fw_expect *e, struct fw_loc loc)
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
	int r = collect(sp, n, "conntrack", &ks, k, v);

	c->set = true;
	c->loc = floc(n);
	if (r >= 0 && !v[CT_STATE] && !v[CT_REPLIED] && !v[CT_ASSURED] && !v[CT_COUNT])
		return y_error(&sp->y, n, "conntrack: expected state, replied, assured or count");
	if (r >= 0 && v[CT_STATE]) {
		r = y_name(sp, v[CT_STATE], "conntrack state", tcp_state_names,
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
	int r = collect(sp, n, "nat", &ks, k, v);

	if (r >= 0 && !k[N_SRC] && !k[N_SPORT] && !k[N_DST] && !k[N_DPORT])
		return y_error(&sp->y, n, "nat: expected one or more of src, sport, dst, dport");
	nat->set = true;
	nat->loc = floc(n);
	if (r >= 0 && v[N_SRC])
		r = y_endpoint(sp, v[N_SRC], "nat src", &nat->src);
	if (r >= 0 && v[N_SPORT])
		r = y_int(sp, v[N_SPORT], "nat sport", 1, 65535, "1..65535", &nat->sport);
	if (r >= 0 && v[N_DST])
		r = y_endpoint(sp, v[N_DST], "nat dst", &nat->dst);
	if (r >= 0 && v[N_DPORT])
		r = y_int(sp, v[N_DPORT], "nat dport", 1, 65535, "1..65535", &nat->dport);
	return r;
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
		return oom(sp, "capture");
	if (!spec_node_name_ok(c->node) ||
	    (colon && (iflen == 0 || iflen > 15 ||
		       strspn(colon + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_.-") != iflen)))
		return y_error(&sp->y, v,
			       "bad capture at '%s' (expected a node name, or node:interface)",
			       YAML_Q(s));
	if (colon && !(c->iface = strdup(colon + 1)))
		return oom(sp, "capture");
	return 0;
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
	c->loc = floc(n);
	r = collect(sp, n, "capture", &ks, k, v);
	if (r < 0)
		return r;
	if (!v[C_AT])
		return y_error(&sp->y, n, "capture needs 'at' (a node, or node:interface)");
	r = decode_capture_at(sp, v[C_AT], c);
	if (r >= 0 && v[C_FILTER])
		r = y_strdup(sp, v[C_FILTER], "capture filter", true, &c->filter);
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
	size_t n = items(v);
	int r = 0;

	if (v->type != Y_SEQ && v->type != Y_MAP)
		return y_error(&sp->y, v,
			       "capture: expected a mapping or a sequence of them, not %s",
			       y_kind(v));
	if (n == 0)
		return y_error(&sp->y, v, "capture: expected at least one capture");
	e->captures = calloc(n, sizeof(*e->captures));
	if (!e->captures)
		return oom(sp, "capture");
	e->n_captures = n;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = decode_capture(sp, item(v, i), &e->captures[i]);
	return r;
}

enum { K_PACKETS, K_BYTES, K__MAX };

static int decode_counter(struct sp *sp, const struct ynode *k, const struct ynode *v,
			  struct fw_counter_expect *c)
{
	static const char *const names[] = { "packets", "bytes", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *kk[K__MAX] = { 0 }, *vv[K__MAX] = { 0 };
	uint64_t u = 0;
	const char *s;
	int r = y_str(&sp->y, k, "counter name", &s);

	c->packets = c->bytes = -1;
	c->loc = floc(k);
	if (r < 0)
		return r;
	if (!*s || strlen(s) > 255 || strpbrk(s, " \t\"'{};"))
		return y_error(&sp->y, k, "bad counter name '%s'", YAML_Q(s));
	r = y_strdup(sp, k, "counter name", false, &c->name);
	if (r < 0)
		return r;
	if (v->type == Y_SCALAR && !y_is_null(v)) {
		r = y_uint(&sp->y, v, "counter packets", 0, INT64_MAX, "a number of packets", &u);
		c->packets = (int64_t)u;
		return r;
	}
	if (y_is_null(v) || (v->type == Y_MAP && v->n == 0))
		return y_error(&sp->y, v, "counter '%s': expected packets, or {packets, bytes}",
			       YAML_Q(s));
	r = collect(sp, v, "counter", &ks, kk, vv);
	if (r >= 0 && vv[K_PACKETS]) {
		r = y_uint(&sp->y, vv[K_PACKETS], "counter packets", 0, INT64_MAX,
			   "a number of packets", &u);
		c->packets = (int64_t)u;
	}
	if (r >= 0 && vv[K_BYTES]) {
		u = 0;
		r = y_uint(&sp->y, vv[K_BYTES], "counter bytes", 0, INT64_MAX, "a number of bytes",
			   &u);
		c->bytes = (int64_t)u;
	}
	return r;
}

static int decode_counters(struct sp *sp, const struct ynode *v, struct fw_expect *e)
{
	int r = y_map(&sp->y, v, "counter", NULL);

	if (r < 0)
		return r;
	if (v->n == 0)
		return y_error(&sp->y, v, "counter: expected at least one counter name");
	if (v->n / 2 > FW_COUNTERS_MAX)
		return y_error(&sp->y, v, "counter: more than %d counters", FW_COUNTERS_MAX);
	e->counters = calloc(v->n / 2, sizeof(*e->counters));
	if (!e->counters)
		return oom(sp, "counter");
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

#define VERDICT_EXPECT "accept, drop or reject"
#define REPLY_EXPECT                                                                     \
	"none, rst, syn-ack, echo-reply, icmp-port-unreachable, icmp-admin-prohibited, " \
	"icmp-host-unreachable, icmp-net-unreachable, icmp-prot-unreachable or udp"

/* Scalar expectations: verdict, rule, chain, delivered, reply, ct_state, connect. */
static int decode_expect_scalars(struct sp *sp, const struct ynode **v, struct fw_expect *e)
{
	bool b;
	int r;

	if (v[E_VERDICT]) {
		r = y_name(sp, v[E_VERDICT], "verdict", verdict_names, VERDICT_EXPECT);
		if (r < 0)
			return r;
		e->verdict = (enum fw_verdict)(FW_VERDICT_ACCEPT + r);
	}
	if (v[E_RULE]) {
		r = y_strdup(sp, v[E_RULE], "rule", false, &e->rule);
		if (r < 0)
			return r;
		if (!*e->rule)
			return y_error(&sp->y, v[E_RULE],
				       "rule: expected a comment or a part of a rule");
	}
	if (v[E_CHAIN] && (r = y_strdup(sp, v[E_CHAIN], "chain", false, &e->chain)) < 0)
		return r;
	if (v[E_DELIVERED]) {
		r = y_bool(&sp->y, v[E_DELIVERED], "delivered", &b);
		if (r < 0)
			return r;
		e->delivered = b;
	}
	if (v[E_REPLY]) {
		r = y_name(sp, v[E_REPLY], "reply", reply_names, REPLY_EXPECT);
		if (r < 0)
			return r;
		e->reply = (enum fw_reply)(FW_REPLY_NONE + r);
	}
	if (v[E_CT_STATE]) {
		r = y_name(sp, v[E_CT_STATE], "ct_state", ct_names,
			   "new, established, related, invalid or untracked");
		if (r < 0)
			return r;
		e->ct_state = ct_bits[r];
	}
	if (v[E_CONNECT]) {
		r = y_name(sp, v[E_CONNECT], "connect", connect_names, "ok, refused or timeout");
		if (r < 0)
			return r;
		e->connect = (enum fw_connect)(FW_CONNECT_OK + r);
	}
	return 0;
}

/*
 * decode_expect() - An expect: mapping into e (initialised here)
 * @ret_connect:  the connect: value if any (only tests with flows may have one), or
 *                NULL to refuse connect: here (packets)
 */
static int decode_expect(struct sp *sp, const struct ynode *n, struct fw_expect *e,
			 const struct ynode **ret_connect)
{
	static const char *const names[] = { "verdict", "rule",	    "chain",	 "delivered",
					     "reply",	"ct_state", "nat",	 "capture",
					     "counter", "connect",  "conntrack", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *k[E__MAX] = { 0 }, *v[E__MAX] = { 0 };
	int r;

	expect_init(e, floc(n));
	r = collect(sp, n, "expect", &ks, k, v);
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

static int decode_packet_fields(struct sp *sp, const struct ynode **k, const struct ynode **v,
				struct fw_packet *p)
{
	uint64_t u = 0;
	int r = 0;

	if (v[P_PROTO])
		r = y_proto(sp, v[P_PROTO], k[P_PROTO]->text, &p->proto);
	if (r >= 0 && v[P_SRC])
		r = y_endpoint(sp, v[P_SRC], k[P_SRC]->text, &p->src);
	if (r >= 0 && v[P_DST])
		r = y_endpoint(sp, v[P_DST], k[P_DST]->text, &p->dst);
	if (r >= 0 && v[P_SPORT])
		r = y_int(sp, v[P_SPORT], k[P_SPORT]->text, 1, 65535, "1..65535", &p->sport);
	if (r >= 0 && v[P_DPORT])
		r = y_int(sp, v[P_DPORT], k[P_DPORT]->text, 1, 65535, "1..65535", &p->dport);
	if (r >= 0 && v[P_FLAGS])
		r = y_flags(sp, v[P_FLAGS], k[P_FLAGS]->text, &p->tcp_flags);
	if (r >= 0 && v[P_ICMP_TYPE])
		r = y_int(sp, v[P_ICMP_TYPE], "icmp_type", 0, 255, "0..255", &p->icmp_type);
	if (r >= 0 && v[P_ICMP_CODE])
		r = y_int(sp, v[P_ICMP_CODE], "icmp_code", 0, 255, "0..255", &p->icmp_code);
	if (r >= 0 && v[P_TTL])
		r = y_int(sp, v[P_TTL], k[P_TTL]->text, 1, 255, "1..255", &p->ttl);
	if (r >= 0 && v[P_PAYLOAD])
		r = y_bytes(sp, v[P_PAYLOAD], "payload", &p->payload, &p->payload_len);
	if (r >= 0 && v[P_COUNT]) {
		r = y_uint(&sp->y, v[P_COUNT], "count", 1, FW_COUNT_MAX, "1..10000", &u);
		p->count = (unsigned)u;
	}
	if (r >= 0 && v[P_FROM])
		r = y_node(sp, v[P_FROM], "from", &p->from);
	return r;
}

static int decode_packet(struct sp *sp, const struct ynode *n, struct fw_packet *p)
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
				 .loc = floc(n) };
	expect_init(&p->expect, floc(n));
	r = collect(sp, n, "packet", &ks, k, v);
	if (r >= 0)
		r = decode_packet_fields(sp, k, v, p);
	if (r >= 0 && v[P_EXPECT]) {
		r = decode_expect(sp, v[P_EXPECT], &p->expect, NULL);
		p->has_expect = true;
	}
	if (r >= 0 && v[P_EXPECTED_VERDICT]) {
		r = y_name(sp, v[P_EXPECTED_VERDICT], "expected_verdict", verdict_names,
			   VERDICT_EXPECT);
		if (r < 0)
			return r;
		verdict = (unsigned)r;
		if (p->expect.verdict)
			return y_error(&sp->y, k[P_EXPECTED_VERDICT],
				       "'expected_verdict' and 'expect: {verdict}' cannot be used "
				       "together");
		if (!v[P_EXPECT])
			p->expect.loc = floc(v[P_EXPECTED_VERDICT]);
		p->expect.verdict = (enum fw_verdict)(FW_VERDICT_ACCEPT + verdict);
		p->has_expect = true;
	}
	if (r >= 0)
		r = check_packet_proto(sp, k, p);
	if (r >= 0)
		r = check_families(sp, n, "packet", v[P_PROTO], p->proto, &p->src, &p->dst);
	return r;
}

enum { F_PROTO, F_SRC, F_DST, F_FROM, F_SPORT, F_DPORT, F_SEND, F__MAX };

static int decode_flow(struct sp *sp, const struct ynode *n, struct fw_flow *f)
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

	*f = (struct fw_flow){ .proto = IPPROTO_TCP, .sport = -1, .dport = -1, .loc = floc(n) };
	r = collect(sp, n, "flow", &ks, k, v);
	if (r >= 0 && v[F_PROTO]) {
		r = y_name(sp, v[F_PROTO], k[F_PROTO]->text, protos, "tcp or udp");
		if (r < 0)
			return r;
		f->proto = r ? IPPROTO_UDP : IPPROTO_TCP;
	}
	if (r >= 0 && v[F_SRC])
		r = y_endpoint(sp, v[F_SRC], k[F_SRC]->text, &f->src);
	if (r >= 0 && v[F_DST])
		r = y_endpoint(sp, v[F_DST], k[F_DST]->text, &f->dst);
	if (r >= 0 && v[F_FROM])
		r = y_node(sp, v[F_FROM], "from", &f->from);
	if (r >= 0 && v[F_SPORT])
		r = y_int(sp, v[F_SPORT], k[F_SPORT]->text, 1, 65535, "1..65535", &f->sport);
	if (r >= 0 && v[F_DPORT])
		r = y_int(sp, v[F_DPORT], k[F_DPORT]->text, 1, 65535, "1..65535", &f->dport);
	if (r >= 0 && v[F_SEND])
		r = y_bytes(sp, v[F_SEND], "send", &f->send, &f->send_len);
	if (r >= 0 && !v[F_DPORT])
		return y_error(&sp->y, n, "flow needs 'dport'");
	if (r >= 0)
		r = check_families(sp, n, "flow", v[F_PROTO], f->proto, &f->src, &f->dst);
	return r;
}

/* Rules */

/* Refuse an include in rules from file (NULL: the suite) at rules_loc, unless allowed. */
static int check_rules(struct sp *sp, const char *rules, const char *file, struct fw_loc rules_loc)
{
	struct yctx in = { .file = file ? file : sp->y.file, .err = sp->y.err };
	unsigned line, col;
	struct fw_loc at;

	if (sp->allow_include || !nftbl_find_include(rules, &line, &col))
		return 0;
	at = fw_rules_loc(rules_loc, line, col);
	return yaml_error(&in, (struct yaml_loc){ at.line, at.col },
			  "'include' is not allowed in rules (they are loaded with privileges; "
			  "--allow-include accepts it)");
}

/* Inline rules: their text and where its first character is. */
static int decode_rules(struct sp *sp, const struct ynode *v, char **ret, struct fw_loc *ret_loc)
{
	int r = y_strdup(sp, v, "rules", true, ret);

	if (r < 0)
		return r;
	*ret_loc = floc(v);
	/* a quoted scalar's place is its opening quote */
	if (!v->plain && !v->block)
		ret_loc->col++;
	return check_rules(sp, *ret, NULL, *ret_loc);
}

/* A path relative to the suite's folder. */
static char *resolve(const struct sp *sp, const char *rel)
{
	const char *slash = sp->s->path ? strrchr(sp->s->path, '/') : NULL;
	char *p;

	if (rel[0] == '/' || !slash)
		return strdup(rel);
	if (asprintf(&p, "%.*s/%s", (int)(slash - sp->s->path), sp->s->path, rel) < 0)
		return NULL;
	return p;
}

static int read_rules_file(struct sp *sp, const struct ynode *v)
{
	struct fw_suite *s = sp->s;
	struct stat st;
	size_t len = 0;
	const char *rel;
	int r = y_str(&sp->y, v, "rules_file", &rel);

	if (r < 0)
		return r;
	if (!*rel)
		return y_error(&sp->y, v, "rules_file: expected a path");
	s->rules_file = resolve(sp, rel);
	if (!s->rules_file)
		return oom(sp, "rules_file");
	/* a FIFO or a device could block or never end */
	if (stat(s->rules_file, &st) == 0 && !S_ISREG(st.st_mode))
		return y_error(&sp->y, v, "rules_file '%s' is not a regular file",
			       YAML_Q(s->rules_file));
	r = yaml_read_file(s->rules_file, FW_SUITE_SIZE_MAX, &s->rules, &len, sp->y.err);
	if (r < 0) {
		if (sp->y.err && sp->y.file)
			(void)nslab_err_prefix(sp->y.err, "%s:%u:%u", sp->y.file, v->loc.line,
					       v->loc.col);
		return r;
	}
	if (!s->rules && !(s->rules = strdup("")))
		return oom(sp, "rules_file");
	if (strlen(s->rules) != len)
		return y_error(&sp->y, v, "rules_file '%s' holds a NUL character",
			       YAML_Q(s->rules_file));
	s->rules_loc = (struct fw_loc){ 1, 1 };
	return check_rules(sp, s->rules, s->rules_file, s->rules_loc);
}

/* Tests */

enum { T_NAME, T_RULES, T_TOPOLOGY, T_PACKETS, T_FLOWS, T_EXPECT, T_LISTEN, T__MAX };

static int decode_list(struct sp *sp, const struct ynode *v, const char *what, void **ret,
		       size_t *ret_n, size_t size)
{
	int r = y_seq(&sp->y, v, what);

	if (r < 0 || v->n == 0)
		return r;
	*ret = calloc(v->n, size);
	if (!*ret)
		return oom(sp, what);
	*ret_n = v->n;
	return 0;
}

static int decode_test_items(struct sp *sp, const struct ynode **v, struct fw_test *t)
{
	int r = 0;

	if (v[T_PACKETS])
		r = decode_list(sp, v[T_PACKETS], "packets", (void **)&t->packets, &t->n_packets,
				sizeof(*t->packets));
	for (size_t i = 0; r >= 0 && i < t->n_packets; i++)
		r = decode_packet(sp, v[T_PACKETS]->kids[i], &t->packets[i]);
	if (r >= 0 && v[T_FLOWS])
		r = decode_list(sp, v[T_FLOWS], "flows", (void **)&t->flows, &t->n_flows,
				sizeof(*t->flows));
	for (size_t i = 0; r >= 0 && i < t->n_flows; i++)
		r = decode_flow(sp, v[T_FLOWS]->kids[i], &t->flows[i]);
	return r;
}

static int decode_test(struct sp *sp, const struct ynode *n, struct fw_test *t)
{
	static const char *const names[] = { "name",  "rules",	"topology", "packets",
					     "flows", "expect", "listen",   NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	static const char *const topos[] = { "direct", "gateway", "simple", NULL };
	const struct ynode *k[T__MAX] = { 0 }, *v[T__MAX] = { 0 }, *connect = NULL;
	int r;

	t->listen = true;
	t->loc = floc(n);
	expect_init(&t->expect, floc(n));
	r = collect(sp, n, "test", &ks, k, v);
	if (r >= 0 && !v[T_NAME])
		return y_error(&sp->y, n, "test needs 'name'");
	if (r >= 0)
		r = y_strdup(sp, v[T_NAME], "name", false, &t->name);
	if (r >= 0 && !*t->name)
		return y_error(&sp->y, v[T_NAME], "name: expected a test name, not ''");
	if (r >= 0 && v[T_RULES])
		r = decode_rules(sp, v[T_RULES], &t->rules, &t->rules_loc);
	if (r >= 0 && v[T_TOPOLOGY]) {
		r = y_name(sp, v[T_TOPOLOGY], "topology", topos, "direct, gateway or simple");
		if (r < 0)
			return r;
		t->has_topology = true;
		t->topology = r == 1 ? FW_TOPO_GATEWAY : FW_TOPO_DIRECT;
	}
	if (r >= 0)
		r = decode_test_items(sp, v, t);
	if (r >= 0 && v[T_EXPECT])
		r = decode_expect(sp, v[T_EXPECT], &t->expect, &connect);
	if (r >= 0 && v[T_LISTEN])
		r = y_bool(&sp->y, v[T_LISTEN], "listen", &t->listen);
	if (r < 0)
		return r;
	if (!t->n_packets && !t->n_flows)
		return y_error(&sp->y, n, "test '%s' has no packets or flows", YAML_Q(t->name));
	if (connect && !t->n_flows)
		return y_error(&sp->y, connect, "connect: test '%s' has no flows", YAML_Q(t->name));
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	const struct fw_test *x = *(struct fw_test *const *)a, *y = *(struct fw_test *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : x < y ? -1 : x > y;
}

/* Test names are unique: report the first test (in the file) that repeats a name. */
static int check_names(struct sp *sp)
{
	struct fw_suite *s = sp->s;
	_cleanup_free_ struct fw_test **by_name = calloc(s->n_tests, sizeof(*by_name));
	struct fw_test *dup = NULL, *first = NULL;

	if (!by_name)
		return oom(sp, "tests");
	for (size_t i = 0; i < s->n_tests; i++)
		by_name[i] = &s->tests[i];
	/* by name, then in file order: the second of a run is its first repeat */
	qsort(by_name, s->n_tests, sizeof(*by_name), cmp_names);
	for (size_t i = 0, j; i < s->n_tests; i = j) {
		for (j = i + 1; j < s->n_tests && strcmp(by_name[j]->name, by_name[i]->name) == 0;
		     j++)
			;
		if (j - i > 1 && (!dup || by_name[i + 1] < dup)) {
			first = by_name[i];
			dup = by_name[i + 1];
		}
	}
	if (!dup)
		return 0;
	return yaml_error(&sp->y, (struct yaml_loc){ dup->loc.line, dup->loc.col },
			  "duplicate test name '%s' (already used by the test at %u:%u)",
			  YAML_Q(dup->name), first->loc.line, first->loc.col);
}

static int decode_tests(struct sp *sp, const struct ynode *v)
{
	struct fw_suite *s = sp->s;
	int r = decode_list(sp, v, "tests", (void **)&s->tests, &s->n_tests, sizeof(*s->tests));

	if (r >= 0 && !s->n_tests)
		return y_error(&sp->y, v, "tests: expected at least one test");
	for (size_t i = 0; r >= 0 && i < s->n_tests; i++)
		r = decode_test(sp, v->kids[i], &s->tests[i]);
	if (r >= 0)
		r = check_names(sp);
	return r;
}

/* The suite */

enum { S_TOPOLOGY, S_LAB, S_RULES_IN, S_RULES, S_RULES_FILE, S_TESTS, S__MAX };

static int decode_topology(struct sp *sp, const struct ynode **k, const struct ynode **v)
{
	static const char *const topos[] = { "direct", "gateway", "lab", "simple", NULL };
	static const enum fw_topology values[] = { FW_TOPO_DIRECT, FW_TOPO_GATEWAY, FW_TOPO_LAB,
						   FW_TOPO_DIRECT };
	struct fw_suite *s = sp->s;
	const char *lab;
	int r;

	if (v[S_TOPOLOGY]) {
		r = y_name(sp, v[S_TOPOLOGY], "topology", topos, "direct, gateway, simple or lab");
		if (r < 0)
			return r;
		s->topology = values[r];
	} else if (v[S_LAB]) {
		s->topology = FW_TOPO_LAB;
	}
	if (s->topology != FW_TOPO_LAB) {
		if (k[S_LAB] || k[S_RULES_IN])
			return y_error(&sp->y, k[S_LAB] ? k[S_LAB] : k[S_RULES_IN],
				       "'%s' needs 'topology: lab'", k[S_LAB] ? "lab" : "rules_in");
		return 0;
	}
	if (!v[S_LAB])
		return y_error(&sp->y, v[S_TOPOLOGY], "topology lab needs 'lab: FILE'");
	if (!v[S_RULES_IN])
		return y_error(&sp->y, v[S_LAB], "topology lab needs 'rules_in: NODE'");
	r = y_str(&sp->y, v[S_LAB], "lab", &lab);
	if (r >= 0 && !*lab)
		return y_error(&sp->y, v[S_LAB], "lab: expected a path");
	if (r >= 0 && !(s->lab_file = resolve(sp, lab)))
		return oom(sp, "lab");
	if (r >= 0)
		r = y_node(sp, v[S_RULES_IN], "rules_in", &s->rules_in);
	return r;
}

/* Every test has rules: its own or the suite's. */
static int check_has_rules(struct sp *sp)
{
	struct fw_suite *s = sp->s;

	for (size_t i = 0; !s->rules && i < s->n_tests; i++)
		if (!s->tests[i].rules)
			return yaml_error(
				&sp->y,
				(struct yaml_loc){ s->tests[i].loc.line, s->tests[i].loc.col },
				"test '%s' has no rules: set 'rules' in the test, or "
				"'rules' or 'rules_file' in the suite",
				YAML_Q(s->tests[i].name));
	return 0;
}

static int decode_suite_map(struct sp *sp, const struct ynode *root)
{
	static const char *const names[] = { "topology",   "lab",   "rules_in", "rules",
					     "rules_file", "tests", NULL };
	static const struct keys ks = { names, NULL, SIZE_MAX };
	const struct ynode *k[S__MAX] = { 0 }, *v[S__MAX] = { 0 };
	int r = collect(sp, root, "suite", &ks, k, v);

	if (r >= 0)
		r = decode_topology(sp, k, v);
	if (r >= 0 && v[S_RULES] && v[S_RULES_FILE])
		return y_error(&sp->y, k[S_RULES_FILE],
			       "'rules' and 'rules_file' cannot be used together");
	if (r >= 0 && v[S_RULES])
		r = decode_rules(sp, v[S_RULES], &sp->s->rules, &sp->s->rules_loc);
	if (r >= 0 && v[S_RULES_FILE])
		r = read_rules_file(sp, v[S_RULES_FILE]);
	if (r >= 0 && !v[S_TESTS])
		return y_error(&sp->y, root, "suite needs 'tests'");
	if (r >= 0)
		r = decode_tests(sp, v[S_TESTS]);
	return r;
}

static int decode_suite(struct sp *sp, const struct ynode *root)
{
	int r;

	if (!root || y_is_null(root))
		return yaml_error(&sp->y, (struct yaml_loc){ 1, 1 },
				  "empty suite: expected 'tests:' or a list of tests");
	if (root->type == Y_SEQ) /* NSE's documented format: a list of tests */
		r = decode_tests(sp, root);
	else if (root->type == Y_MAP)
		r = decode_suite_map(sp, root);
	else
		r = y_error(&sp->y, root, "suite: expected a mapping or a list of tests, not %s",
			    y_kind(root));
	if (r >= 0)
		r = check_has_rules(sp);
	return r;
}

int fw_suite_parse_string(const char *text, size_t len, const char *filename, bool allow_include,
			  struct fw_suite **ret, nslab_error *err)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = calloc(1, sizeof(*s));
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct sp sp = { .s = s, .allow_include = allow_include };
	int r;

	if (!s || (filename && !(s->path = strdup(filename))))
		return nslab_err_set(err, ENOMEM, "parse suite");
	sp.y = (struct yctx){ .file = s->path, .err = err };
	r = yaml_read(&sp.y, text ? text : "", text ? len : 0, YAML_LITERAL_BLOCKS, &root);
	if (r >= 0)
		r = decode_suite(&sp, root);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int fw_suite_parse(const char *path, bool allow_include, struct fw_suite **ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = yaml_read_file(path, FW_SUITE_SIZE_MAX, &text, &len, err);

	if (r < 0)
		return r;
	return fw_suite_parse_string(text ? text : "", len, path, allow_include, ret, err);
}

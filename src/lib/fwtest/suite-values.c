/* SPDX-License-Identifier: MIT */
/*
 * fwtest/suite-values: a suite's scalars and mappings: names, numbers, node
 * names and addresses, bytes, protocols, TCP flags, keys (see suite-parse.h).
 */
#include "fwtest/suite-parse.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab/spec.h"
#include "shared/macro.h"

struct fw_loc sp_loc(const struct ynode *n)
{
	return (struct fw_loc){ n->loc.line, n->loc.col };
}

int sp_oom(struct sp *sp, const char *what)
{
	return nslab_err_set(sp->y.err, ENOMEM, "parse suite: %s", what);
}

int sp_warn(struct sp *sp, const struct ynode *n, const char *fmt, ...)
{
	size_t had = sp->s->warnings ? strlen(sp->s->warnings) : 0;
	_cleanup_free_ char *line = NULL;
	char msg[NSLAB_ERROR_MSG_MAX], *all;
	va_list ap;
	int len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = asprintf(&line, "%s:%u:%u: %s\n", sp->y.file ? sp->y.file : "-", n->loc.line,
		       n->loc.col, msg);
	if (len < 0)
		return sp_oom(sp, "warning");
	all = realloc(sp->s->warnings, had + (size_t)len + 1);
	if (!all)
		return sp_oom(sp, "warning");
	memcpy(all + had, line, (size_t)len + 1);
	sp->s->warnings = all;
	return 0;
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
int sp_name(struct sp *sp, const struct ynode *v, const char *what, const char *const *names,
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
int sp_int(struct sp *sp, const struct ynode *v, const char *what, unsigned min, unsigned max,
	   const char *expect, int *ret)
{
	uint64_t u;
	int r = y_uint(&sp->y, v, what, min, max, expect, &u);

	if (r >= 0)
		*ret = (int)u;
	return r;
}

/* A string copied into *ret (replacing what was there). */
int sp_strdup(struct sp *sp, const struct ynode *v, const char *what, bool multiline, char **ret)
{
	const char *s;
	char *c;
	int r = multiline ? y_text(&sp->y, v, what, &s) : y_str(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	c = strdup(s);
	if (!c)
		return sp_oom(sp, what);
	free(*ret);
	*ret = c;
	return 0;
}

/* A node name: as lab nodes are named ([a-z][a-z0-9-]*, no trailing '-'). */
int sp_node(struct sp *sp, const struct ynode *v, const char *what, char **ret)
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
	return sp_strdup(sp, v, what, false, ret);
}

/* A node name (of the test's topology) or a literal IPv4/IPv6 address (no prefix length). */
int sp_endpoint(struct sp *sp, const struct ynode *v, const char *what, struct fw_endpoint *ret)
{
	struct nslab_prefix a;
	const char *s;
	int r = y_str(&sp->y, v, what, &s);

	if (r < 0)
		return r;
	ret->loc = sp_loc(v);
	if (!strchr(s, '/') && prefix_parse(s, false, &a, NULL) >= 0) {
		sp_endpoint_clear(ret);
		ret->addr = a;
		return 0;
	}
	if (!spec_node_name_ok(s))
		return y_error(&sp->y, v, "bad %s '%s' (expected a node name or an IP address)",
			       what, YAML_Q(s));
	ret->addr = (struct nslab_prefix){ 0 };
	r = sp_strdup(sp, v, what, false, &ret->node);
	return r < 0 ? r : sp_check_node(sp, v, what, ret->node, NULL);
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
		hi = unhexchar(s[0]);
		lo = hi < 0 ? -1 : unhexchar(s[1]);
		if (lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (ssize_t)n;
}

/*
 * sp_bytes() - Payload bytes: "hex:0a 0b:0c" (separators between bytes),
 * "0x0a0b" (digits only), anything else as text (UTF-8, as written)
 * Return: 0 with *ret (NULL when empty) and *ret_len, replacing what was there.
 */
int sp_bytes(struct sp *sp, const struct ynode *v, const char *what, uint8_t **ret, size_t *ret_len)
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
		return sp_oom(sp, what);
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

int sp_proto(struct sp *sp, const struct ynode *v, const char *what, int *ret)
{
	static const char *const names[] = { "tcp",   "udp",	   "icmp", "icmpv6",
					     "icmp6", "ipv6-icmp", NULL };
	static const int protos[] = { IPPROTO_TCP,    IPPROTO_UDP,    IPPROTO_ICMP,
				      IPPROTO_ICMPV6, IPPROTO_ICMPV6, IPPROTO_ICMPV6 };
	int i;

	if (v->type == Y_SCALAR && v->text[0] >= '0' && v->text[0] <= '9')
		return sp_int(sp, v, what, 0, 255, PROTO_EXPECT, ret);
	i = sp_name(sp, v, what, names, PROTO_EXPECT);
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

int sp_flags(struct sp *sp, const struct ynode *v, const char *what, int *ret)
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

/*
 * sp_collect() - The values of mapping n by field
 * @key, @val:  per field, the key and value given (NULL if none), arrays large enough
 * Unknown and duplicate keys, and a key given under two spellings, are errors.
 */
int sp_collect(struct sp *sp, const struct ynode *n, const char *what, const struct keys *ks,
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
size_t sp_items(const struct ynode *v)
{
	return v->type == Y_SEQ ? v->n : 1;
}

const struct ynode *sp_item(const struct ynode *v, size_t i)
{
	return v->type == Y_SEQ ? v->kids[i] : v;
}

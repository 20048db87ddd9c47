/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lab/labfile: the YAML lab file into a validated lab_spec.
 *
 * libfyaml's event parser feeds a small tree that keeps a 1-based line:col for
 * every node (libfyaml 0.7 has no start mark on document nodes); the decoders
 * below walk that tree, so every complaint reads "FILE:LINE:COL: message".
 * libfyaml's own diagnostics are collected, never printed.
 */
#include "lab/labfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define LABFILE_SIZE_MAX (16u << 20)

enum ytype { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ytype type;
	bool plain;	     /* scalars: unquoted, so that `~` and `null` mean null */
	struct spec_loc loc; /* 1-based */
	char *text;	     /* scalars: NUL-terminated copy */
	size_t len;
	struct ynode **kids; /* maps: key, value, key, value, ...; sequences: items */
	size_t n, cap;
};

static struct ynode *ynode_free(struct ynode *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct ynode, ynode_free)

/* Reading YAML events into ynodes */

struct yreader {
	struct fy_parser *fyp;
	struct fy_diag *diag;
	const char *text; /* the input, for raw scalar checks */
	size_t len;
	const struct lab_spec *spec; /* for the file name in messages */
	struct spec_loc last;	     /* last known location, for events without a mark */
	nslab_error *err;
};

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	(void)user;
	(void)buf;
	(void)len;
}

/* The parser stopped: report libfyaml's first collected error at its place. */
static int read_failure(struct yreader *rd)
{
	struct fy_diag_error *e;
	void *iter = NULL;

	while ((e = fy_diag_errors_iterate(rd->diag, &iter)))
		if (e->type >= FYET_ERROR && e->msg) {
			/* collected errors carry 1-based positions already */
			struct spec_loc loc = { e->line > 0 ? (unsigned)e->line : 1,
						e->column > 0 ? (unsigned)e->column : 1 };

			return spec_error(rd->err, rd->spec, loc, EINVAL, "%s", SPEC_Q(e->msg));
		}
	return spec_error(rd->err, rd->spec, rd->last, EINVAL, "invalid YAML");
}

static int next_event(struct yreader *rd, struct fy_event **ret)
{
	struct fy_event *ev = fy_parser_parse(rd->fyp);

	if (!ev)
		return read_failure(rd);
	*ret = ev;
	return 0;
}

static struct spec_loc event_loc(struct yreader *rd, struct fy_event *ev)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	/* marks are 0-based; events without one (an empty value) take the previous place */
	if (m && m->line >= 0 && m->column >= 0)
		rd->last = (struct spec_loc){ (unsigned)m->line + 1, (unsigned)m->column + 1 };
	return rd->last;
}

/*
 * Lab file values are names, prefixes and numbers: refuse block scalars,
 * multi-line values and escape sequences. Besides stopping nonsense early,
 * this keeps libfyaml 0.7 off its text assembly for scalars of many pieces,
 * which leaks (pantoniou/libfyaml#337) and miscounts long runs of ''.
 */
static int check_scalar_source(struct yreader *rd, struct fy_token *tok, enum fy_scalar_style style,
			       struct spec_loc loc, struct spec_loc prev)
{
	const struct fy_mark *s = fy_token_start_mark(tok), *e = fy_token_end_mark(tok);
	const char *raw;
	size_t len;

	/* a block scalar's mark is on its first content line: point at its key instead */
	if (style == FYSS_LITERAL || style == FYSS_FOLDED)
		return spec_error(rd->err, rd->spec, prev, EINVAL,
				  "block scalars ('|', '>') are not supported");
	if (!s || !e)
		return 0;
	if (s->line != e->line || s->input_pos > e->input_pos || e->input_pos > rd->len)
		return spec_error(rd->err, rd->spec, loc, EINVAL,
				  "multi-line values are not supported");
	raw = rd->text + s->input_pos;
	len = e->input_pos - s->input_pos;
	if ((style == FYSS_DOUBLE_QUOTED && memchr(raw, '\\', len)) ||
	    (style == FYSS_SINGLE_QUOTED && memchr(raw, '\'', len)))
		return spec_error(rd->err, rd->spec, loc, EINVAL,
				  "escape sequences are not supported");
	return 0;
}

static int read_scalar(struct yreader *rd, struct fy_event *ev, struct ynode *n,
		       struct spec_loc prev)
{
	enum fy_scalar_style style = fy_token_scalar_style(ev->scalar.value);
	const char *text;
	size_t len = 0;
	int r;

	n->type = Y_SCALAR;
	n->plain = style == FYSS_PLAIN;
	/* a quoted scalar's mark is inside the quotes: point at the opening quote */
	if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && n->loc.col > 1)
		n->loc.col--;
	r = check_scalar_source(rd, ev->scalar.value, style, n->loc, prev);
	if (r < 0)
		return r;
	text = fy_token_get_text(ev->scalar.value, &len);
	n->text = malloc(len + 1);
	if (!n->text)
		return nslab_err_set(rd->err, ENOMEM, "read YAML scalar");
	if (text && len)
		memcpy(n->text, text, len);
	n->text[len] = '\0';
	n->len = len;
	return 0;
}

static int add_kid(struct yreader *rd, struct ynode *n, struct ynode *kid)
{
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 8;
		struct ynode **k = reallocarray(n->kids, cap, sizeof(*k));

		if (!k) {
			ynode_free(kid);
			return nslab_err_set(rd->err, ENOMEM, "read YAML collection");
		}
		n->kids = k;
		n->cap = cap;
	}
	n->kids[n->n++] = kid;
	return 0;
}

/*
 * read_node() - The node that starts with event ev (consumed), children included
 * Depth is bounded by libfyaml's nesting limit, so recursion is too.
 */
static int read_node(struct yreader *rd, struct fy_event *ev, struct ynode **ret);

/* The children of collection n, up to its end event. */
static int read_children(struct yreader *rd, struct ynode *n, enum fy_event_type end)
{
	for (;;) {
		struct fy_event *ev = NULL;
		struct ynode *kid;
		int r = next_event(rd, &ev);

		if (r < 0)
			return r;
		if (ev->type == end) {
			fy_parser_event_free(rd->fyp, ev);
			return 0;
		}
		r = read_node(rd, ev, &kid);
		if (r >= 0)
			r = add_kid(rd, n, kid);
		if (r < 0)
			return r;
	}
}

static int read_node(struct yreader *rd, struct fy_event *ev, struct ynode **ret)
{
	_cleanup_(ynode_freep) struct ynode *n = calloc(1, sizeof(*n));
	enum fy_event_type type = ev->type;
	struct spec_loc prev = rd->last;
	int r = 0;

	if (n)
		n->loc = event_loc(rd, ev);
	if (n && type == FYET_SCALAR)
		r = read_scalar(rd, ev, n, prev);
	fy_parser_event_free(rd->fyp, ev);
	if (!n)
		return nslab_err_set(rd->err, ENOMEM, "read YAML node");
	if (r < 0)
		return r;
	if (type == FYET_MAPPING_START || type == FYET_SEQUENCE_START) {
		n->type = type == FYET_MAPPING_START ? Y_MAP : Y_SEQ;
		r = read_children(rd, n, n->type == Y_MAP ? FYET_MAPPING_END : FYET_SEQUENCE_END);
	} else if (type == FYET_ALIAS) {
		/* the mark is on the alias name: point at the '*' */
		if (n->loc.col > 1)
			n->loc.col--;
		r = spec_error(rd->err, rd->spec, n->loc, EINVAL, "aliases are not supported");
	} else if (type != FYET_SCALAR) {
		r = spec_error(rd->err, rd->spec, n->loc, EINVAL, "unexpected YAML event");
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(n);
	return 0;
}

/* Expect an event of type want and drop it. */
static int skip_event(struct yreader *rd, enum fy_event_type want, const char *what)
{
	struct fy_event *ev = NULL;
	struct spec_loc loc;
	int r = next_event(rd, &ev);

	if (r < 0)
		return r;
	loc = event_loc(rd, ev);
	r = ev->type == want ? 0 : spec_error(rd->err, rd->spec, loc, EINVAL, "%s", what);
	fy_parser_event_free(rd->fyp, ev);
	return r;
}

/* One document, or *ret = NULL for an empty stream. */
static int read_document(struct yreader *rd, struct ynode **ret)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct fy_event *ev = NULL;
	int r;

	r = skip_event(rd, FYET_STREAM_START, "expected a YAML stream");
	if (r >= 0)
		r = next_event(rd, &ev);
	if (r < 0)
		return r;
	if (ev->type == FYET_STREAM_END) {
		fy_parser_event_free(rd->fyp, ev);
		*ret = NULL;
		return 0;
	}
	fy_parser_event_free(rd->fyp, ev); /* DOCUMENT_START */
	r = next_event(rd, &ev);
	if (r >= 0)
		r = read_node(rd, ev, &root);
	if (r >= 0)
		r = skip_event(rd, FYET_DOCUMENT_END, "expected the end of the document");
	if (r >= 0)
		r = skip_event(rd, FYET_STREAM_END, "expected a single YAML document");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(root);
	return 0;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 if invalid (RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80		   ? 1
		     : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
		     : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		     : s[0] >= 0xf0 && s[0] < 0xf5 ? 4
						   : 0;

	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, past U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/*
 * precheck() - What libfyaml 0.7 must never see
 * Invalid UTF-8, NUL bytes and directives: a lab file has no use for
 * `%YAML`/`%TAG`, and 0.7's directive scanner hangs or reads out of bounds on
 * malformed ones (pantoniou/libfyaml#101, #175).
 */
static int precheck(const char *text, size_t len, const struct lab_spec *spec, nslab_error *err)
{
	const unsigned char *s = (const unsigned char *)text;
	struct spec_loc loc = { 1, 1 };

	for (size_t i = 0; i < len; loc.col++) {
		size_t n = utf8_len(s + i, len - i);

		if (s[i] == '\0')
			return spec_error(err, spec, loc, EINVAL, "unexpected NUL character");
		if (n == 0)
			return spec_error(err, spec, loc, EINVAL, "invalid UTF-8");
		if (s[i] == '%' && loc.col == 1)
			return spec_error(err, spec, loc, EINVAL,
					  "directives ('%%') are not supported");
		if (s[i] == '\n') {
			loc.line++;
			loc.col = 0;
		}
		i += n;
	}
	return 0;
}

static int read_yaml(const char *text, size_t len, const struct lab_spec *spec, struct ynode **ret,
		     nslab_error *err)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg pcfg = { .flags = FYPCF_DEFAULT_PARSE | FYPCF_QUIET };
	struct yreader rd = {
		.text = text, .len = len, .spec = spec, .last = { 1, 1 }, .err = err
	};
	int r = precheck(text, len, spec, err);

	if (r < 0)
		return r;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = diag_discard;
	dcfg.colorize = false;
	rd.diag = fy_diag_create(&dcfg);
	if (!rd.diag)
		return nslab_err_set(err, ENOMEM, "create YAML diagnostics");
	fy_diag_set_collect_errors(rd.diag, true);
	pcfg.diag = rd.diag;
	rd.fyp = fy_parser_create(&pcfg);
	if (!rd.fyp || fy_parser_set_string(rd.fyp, text, len) < 0)
		r = nslab_err_set(err, ENOMEM, "create YAML parser");
	else
		r = read_document(&rd, ret);
	if (rd.fyp)
		fy_parser_destroy(rd.fyp);
	fy_diag_destroy(rd.diag);
	return r;
}

/* Decoding ynodes into the spec */

struct lf {
	struct lab_spec *spec;
	nslab_error *err;
	size_t n_ifaces; /* device interfaces so far, against LAB_IFACES_MAX */
};

static int lf_error(struct lf *lf, const struct ynode *n, const char *fmt, ...) _printf_(3, 4);
static int lf_error(struct lf *lf, const struct ynode *n, const char *fmt, ...)
{
	char msg[NSLAB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return spec_error(lf->err, lf->spec, n->loc, EINVAL, "%s", msg);
}

static bool y_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != Y_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (strcmp(n->text, nulls[i]) == 0)
			return true;
	return false;
}

static const char *y_kind(const struct ynode *n)
{
	if (n->type == Y_SCALAR)
		return y_is_null(n) ? "null" : "a scalar";
	return n->type == Y_MAP ? "a mapping" : "a sequence";
}

/* what (and name, if not NULL) say whose value n is. */
static int y_map(struct lf *lf, const struct ynode *n, const char *what, const char *name)
{
	if (n->type == Y_MAP)
		return 0;
	if (name)
		return lf_error(lf, n, "%s '%s': expected a mapping, not %s", what, SPEC_Q(name),
				y_kind(n));
	return lf_error(lf, n, "%s: expected a mapping, not %s", what, y_kind(n));
}

/* A non-null scalar without NUL bytes. */
static int y_str(struct lf *lf, const struct ynode *n, const char *what, const char **ret)
{
	if (n->type != Y_SCALAR || y_is_null(n))
		return lf_error(lf, n, "%s: expected a string, not %s", what, y_kind(n));
	if (memchr(n->text, '\0', n->len))
		return lf_error(lf, n, "%s: unexpected NUL character", what);
	*ret = n->text;
	return 0;
}

/* A decimal in min..max; expect says what is accepted. */
static int y_uint(struct lf *lf, const struct ynode *n, const char *what, uint64_t min,
		  uint64_t max, const char *expect, uint64_t *ret)
{
	uint64_t v = 0;
	bool ok = n->type == Y_SCALAR && n->len > 0 && n->len <= 20;

	if (n->type != Y_SCALAR)
		return lf_error(lf, n, "%s: expected %s, not %s", what, expect, y_kind(n));
	for (size_t i = 0; ok && i < n->len; i++) {
		unsigned d = (unsigned)(n->text[i] - '0');

		ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
		v = v * 10 + d;
	}
	if (!ok || v < min || v > max)
		return lf_error(lf, n, "bad %s '%s' (expected %s)", what, SPEC_Q(n->text), expect);
	*ret = v;
	return 0;
}

/* One of vals (NULL-terminated); its index in *ret. */
static int y_enum(struct lf *lf, const struct ynode *n, const char *what, const char *const *vals,
		  const char *expect, unsigned *ret)
{
	const char *s;
	int r = n->type == Y_SCALAR ? 0 : y_str(lf, n, what, &s);

	if (r < 0)
		return r;
	for (unsigned i = 0; vals[i]; i++)
		if (strcmp(n->text, vals[i]) == 0) {
			*ret = i;
			return 0;
		}
	return lf_error(lf, n, "bad %s '%s' (expected %s)", what, SPEC_Q(n->text), expect);
}

/*
 * y_key() - Which of keys (NULL-terminated) the mapping key k is
 * Unknown keys name the allowed ones; a key seen before (bit in *seen) is a duplicate.
 * Return: the index, or -EINVAL.
 */
static int y_key(struct lf *lf, const struct ynode *k, const char *const *keys, uint32_t *seen)
{
	char list[256] = "";
	const char *s;
	int r = y_str(lf, k, "key", &s);

	if (r < 0)
		return r;
	for (int i = 0; keys[i]; i++) {
		if (strcmp(s, keys[i]) != 0)
			continue;
		if (*seen & (1u << i))
			return lf_error(lf, k, "duplicate key '%s'", s);
		*seen |= 1u << i;
		return i;
	}
	for (int i = 0; keys[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 keys[i]);
	return lf_error(lf, k, "unknown key '%s' (expected one of: %s)", SPEC_Q(s), list);
}

static int decode_lab(struct lf *lf, const struct ynode *v)
{
	const char *s;
	char *copy;
	int r = y_str(lf, v, "lab", &s);

	if (r < 0)
		return r;
	if (!spec_lab_name_ok(s))
		return lf_error(lf, v,
				"bad lab name '%s': use a-z, 0-9 and '-', start with a letter, "
				"at most %d characters",
				SPEC_Q(s), LAB_NAME_MAX);
	copy = strdup(s);
	if (!copy)
		return nslab_err_set(lf->err, ENOMEM, "set lab name");
	free(lf->spec->name);
	lf->spec->name = copy;
	return 0;
}

static int decode_bool(struct lf *lf, const struct ynode *v, const char *what, bool *ret)
{
	static const char *const vals[] = {
		"false", "False", "FALSE", "true", "True", "TRUE", NULL
	};
	unsigned i;
	int r = y_enum(lf, v, what, vals, "true or false", &i);

	if (r < 0)
		return r;
	*ret = i >= 3;
	return 0;
}

static int decode_range(struct lf *lf, enum spec_range_id id, const struct ynode *v)
{
	static const char *const examples[] = { "198.18.0.0/22",   "2001:db8::/64", "198.18.0.0/15",
						"2001:db8:1::/48", "10.0.0.0/8",    "fd10::/48" };
	struct spec_ranges *rg = &lf->spec->ranges;
	const char *name = spec_range_name(id), *s;
	uint64_t len;
	int r;

	rg->at[id] = v->loc;
	if (id == SPEC_RANGE_SUB4 || id == SPEC_RANGE_SUB6) {
		bool v4 = id == SPEC_RANGE_SUB4;

		r = y_uint(lf, v, name, 0, v4 ? 32 : 128,
			   v4 ? "a prefix length 0..32" : "a prefix length 0..128", &len);
		if (r >= 0)
			*(v4 ? &rg->sub4 : &rg->sub6) = (unsigned)len;
		return r;
	}
	r = y_str(lf, v, name, &s);
	if (r < 0)
		return r;
	if (prefix_parse(s, true, spec_range_prefix(rg, id), NULL) < 0)
		return lf_error(lf, v, "bad %s '%s' (expected a prefix such as %s)", name,
				SPEC_Q(s), examples[id]);
	return 0;
}

static int decode_ranges(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	const char *keys[SPEC_RANGE__MAX + 1] = { NULL };
	uint32_t seen = 0;
	int r;

	lf->spec->ranges.loc = k->loc;
	if (y_is_null(v))
		return 0;
	r = y_map(lf, v, "ranges", NULL);
	if (r < 0)
		return r;
	for (int id = 0; id < SPEC_RANGE__MAX; id++)
		keys[id] = spec_range_name((enum spec_range_id)id);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		int id = y_key(lf, v->kids[i], keys, &seen);

		if (id < 0)
			return id;
		r = decode_range(lf, (enum spec_range_id)id, v->kids[i + 1]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int decode_router_key(struct lf *lf, int key, const struct ynode *v, struct spec_router *rt)
{
	static const char *const pools[] = { "public", "private", NULL };
	static const char *const ips[] = { "dual", "v4", "v6", NULL };
	const char *s;
	uint64_t mtu;
	unsigned e;
	int r;

	switch (key) {
	case 0:
		r = y_str(lf, v, "upstream", &s);
		rt->upstream = (char *)s;
		rt->upstream_loc = v->loc;
		return r;
	case 1:
		r = y_enum(lf, v, "pool", pools, "public or private", &e);
		rt->pool = (enum lab_pool)e;
		return r;
	case 2:
		r = y_enum(lf, v, "ip", ips, "v4, v6 or dual", &e);
		rt->ip = (enum lab_ipmode)e;
		return r;
	default:
		r = y_uint(lf, v, "mtu", LAB_MTU_MIN, LAB_MTU_MAX, "576..9000", &mtu);
		rt->mtu = (unsigned)mtu;
		return r;
	}
}

static int decode_router(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	static const char *const keys[] = { "upstream", "pool", "ip", "mtu", NULL };
	struct spec_router rt = { .loc = k->loc };
	const char *name;
	uint32_t seen = 0;
	int r = y_str(lf, k, "router name", &name);

	if (r < 0)
		return r;
	rt.name = (char *)name;
	if (!y_is_null(v)) {
		r = y_map(lf, v, "router", name);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; v->type == Y_MAP && i + 1 < v->n; i += 2) {
		int key = y_key(lf, v->kids[i], keys, &seen);

		if (key < 0)
			return key;
		r = decode_router_key(lf, key, v->kids[i + 1], &rt);
		if (r < 0)
			return r;
	}
	return lab_spec_add_router(lf->spec, &rt, lf->err);
}

/* A mapping of name -> value decoded one pair at a time; null is empty. */
static int decode_each(struct lf *lf, const struct ynode *v, const char *what,
		       int (*fn)(struct lf *, const struct ynode *, const struct ynode *))
{
	int r;

	if (y_is_null(v))
		return 0;
	r = y_map(lf, v, what, NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2)
		r = fn(lf, v->kids[i], v->kids[i + 1]);
	return r;
}

/* A device entry before `count:` expansion; strings borrowed from the tree. */
struct dev_entry {
	const struct ynode *key, *router_key, *router, *ifaces, *via, *count;
	struct spec_iface ifs[LAB_DEVICE_IFACES_MAX];
	size_t n_ifs;
	uint64_t copies; /* 0: no count, one device called as the key */
};

static int decode_iface(struct lf *lf, struct dev_entry *d, const struct ynode *k,
			const struct ynode *v)
{
	static const char *const keys[] = { "router", NULL };
	struct spec_iface *f = &d->ifs[d->n_ifs];
	const char *s;
	uint32_t seen = 0;
	int r = y_str(lf, k, "interface name", &s);

	if (r < 0)
		return r;
	if (d->n_ifs == LAB_DEVICE_IFACES_MAX)
		return lf_error(lf, k, "device '%s': too many interfaces (at most %d)",
				SPEC_Q(d->key->text), LAB_DEVICE_IFACES_MAX);
	*f = (struct spec_iface){ .name = (char *)s, .loc = k->loc };
	if (y_is_null(v))
		return lf_error(lf, k, "interface '%s' needs 'router'", SPEC_Q(s));
	r = y_map(lf, v, "interface", f->name);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		r = y_key(lf, v->kids[i], keys, &seen);
		if (r >= 0)
			r = y_str(lf, v->kids[i + 1], "router", &s);
		f->router = (char *)s;
		f->router_loc = v->kids[i + 1]->loc;
	}
	if (r >= 0 && !seen)
		return lf_error(lf, k, "interface '%s' needs 'router'", f->name);
	if (r >= 0)
		d->n_ifs++;
	return r;
}

static int decode_device_fields(struct lf *lf, struct dev_entry *d, const struct ynode *v)
{
	static const char *const keys[] = { "router", "ifaces", "default_via", "count", NULL };
	const struct ynode **slots[] = { &d->router, &d->ifaces, &d->via, &d->count };
	uint32_t seen = 0;
	int r;

	if (y_is_null(v))
		return lf_error(lf, d->key, "device '%s' needs 'router' or 'ifaces'",
				SPEC_Q(d->key->text));
	r = y_map(lf, v, "device", d->key->text);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2) {
		r = y_key(lf, v->kids[i], keys, &seen);
		if (r < 0)
			return r;
		if ((r == 0 && d->ifaces) || (r == 1 && d->router))
			return lf_error(lf, v->kids[i],
					"'router' and 'ifaces' cannot be used together");
		if (r == 0)
			d->router_key = v->kids[i];
		*slots[r] = v->kids[i + 1];
	}
	if (r >= 0 && !d->router && !d->ifaces)
		return lf_error(lf, d->key, "device '%s' needs 'router' or 'ifaces'",
				SPEC_Q(d->key->text));
	return r < 0 ? r : 0;
}

static int decode_device_ifaces(struct lf *lf, struct dev_entry *d)
{
	const struct ynode *v = d->ifaces;
	const char *s;
	int r;

	if (d->router) {
		r = y_str(lf, d->router, "router", &s);
		d->ifs[0] = (struct spec_iface){ .name = (char *)"eth0",
						 .router = (char *)s,
						 .loc = d->router_key->loc,
						 .router_loc = d->router->loc };
		d->n_ifs = r < 0 ? 0 : 1;
		return r;
	}
	if (y_is_null(v))
		return 0;
	r = y_map(lf, v, "ifaces", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < v->n; i += 2)
		r = decode_iface(lf, d, v->kids[i], v->kids[i + 1]);
	return r;
}

/* Add the device (or its `count:` copies) to the spec. */
static int add_devices(struct lf *lf, struct dev_entry *d, const char *via)
{
	size_t n = d->copies ? d->copies : 1;
	char name[NODE_NAME_MAX + 32];
	int r;

	if (lf->spec->n_devices + n > LAB_DEVICES_MAX)
		return lf_error(lf, d->count ? d->count : d->key, "too many devices (at most %d)",
				LAB_DEVICES_MAX);
	if (lf->n_ifaces + n * d->n_ifs > LAB_IFACES_MAX)
		return lf_error(lf, d->count ? d->count : d->key,
				"too many interfaces in the lab (at most %d)", LAB_IFACES_MAX);
	lf->n_ifaces += n * d->n_ifs;
	for (size_t c = 1; c <= n; c++) {
		size_t idx = lf->spec->n_devices;

		if (d->copies)
			snprintf(name, sizeof(name), "%s-%zu", d->key->text, c);
		else
			snprintf(name, sizeof(name), "%s", d->key->text);
		r = lab_spec_add_device(lf->spec, name, d->key->loc, lf->err);
		for (size_t j = 0; r >= 0 && j < d->n_ifs; j++)
			r = lab_spec_add_iface(lf->spec, idx, &d->ifs[j], lf->err);
		if (r >= 0 && via)
			r = lab_spec_set_default_via(lf->spec, idx, via, d->via->loc, lf->err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int decode_device(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	_cleanup_free_ struct dev_entry *d = calloc(1, sizeof(*d));
	const char *name, *via = NULL;
	int r;

	if (!d)
		return nslab_err_set(lf->err, ENOMEM, "decode device");
	d->key = k;
	r = y_str(lf, k, "device name", &name);
	if (r >= 0)
		r = decode_device_fields(lf, d, v);
	if (r >= 0)
		r = decode_device_ifaces(lf, d);
	if (r >= 0 && d->via)
		r = y_str(lf, d->via, "default_via", &via);
	if (r >= 0 && d->count)
		r = y_uint(lf, d->count, "count", 1, LAB_COUNT_MAX, "1..4096", &d->copies);
	if (r < 0)
		return r;
	/* Check the name itself, before "-N" makes the message confusing */
	if (d->copies && !spec_node_name_ok(name))
		return lf_error(lf, k,
				"bad device name '%s': use a-z, 0-9 and '-', start with a letter, "
				"do not end with '-'",
				SPEC_Q(name));
	return add_devices(lf, d, via);
}

static int decode_dns(struct lf *lf, const struct ynode *k, const struct ynode *v)
{
	struct spec_dns d = { .loc = k->loc, .target_loc = v->loc };
	const char *name, *target;
	int r = y_str(lf, k, "host name", &name);

	if (r >= 0)
		r = y_str(lf, v, "dns target", &target);
	if (r < 0)
		return r;
	d.name = (char *)name;
	d.target = (char *)target;
	return lab_spec_add_dns(lf->spec, &d, lf->err);
}

enum { K_LAB, K_SEED, K_DAD, K_RANGES, K_ROUTERS, K_DEVICES, K_DNS };

static int decode_top_key(struct lf *lf, int key, const struct ynode *k, const struct ynode *v)
{
	uint64_t seed;
	int r;

	switch (key) {
	case K_LAB:
		return decode_lab(lf, v);
	case K_SEED:
		r = y_uint(lf, v, "seed", 0, UINT64_MAX, "an unsigned integer", &seed);
		if (r >= 0)
			lf->spec->seed = seed;
		return r;
	case K_DAD:
		return decode_bool(lf, v, "dad", &lf->spec->dad);
	case K_RANGES:
		return decode_ranges(lf, k, v);
	case K_ROUTERS:
		return decode_each(lf, v, "routers", decode_router);
	case K_DEVICES:
		return decode_each(lf, v, "devices", decode_device);
	default:
		return decode_each(lf, v, "dns", decode_dns);
	}
}

static int decode_top(struct lf *lf, const struct ynode *root, bool *named)
{
	static const char *const keys[] = { "lab",     "seed",	  "dad", "ranges",
					    "routers", "devices", "dns", NULL };
	uint32_t seen = 0;
	int r;

	if (!root || y_is_null(root))
		return 0;
	r = y_map(lf, root, "lab file", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		r = y_key(lf, root->kids[i], keys, &seen);
		if (r >= 0)
			r = decode_top_key(lf, r, root->kids[i], root->kids[i + 1]);
	}
	*named = seen & (1u << K_LAB);
	return r < 0 ? r : 0;
}

/* "dir/office.yaml" -> "office"; the caller frees. */
static char *file_stem(const char *filename)
{
	const char *base, *dot;

	if (!filename)
		return strdup("lab");
	base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	dot = strrchr(base, '.');
	return strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

int labfile_parse_string(const char *text, size_t len, const char *filename, struct lab_spec **ret,
			 nslab_error *err)
{
	_cleanup_(lab_spec_freep) struct lab_spec *spec = NULL;
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *stem = file_stem(filename);
	struct lf lf = { .err = err };
	bool named = false;
	int r;

	if (!stem)
		return nslab_err_set(err, ENOMEM, "parse lab file");
	r = lab_spec_new(stem, &spec, err);
	if (r < 0)
		return r;
	if (filename && !(spec->file = strdup(filename)))
		return nslab_err_set(err, ENOMEM, "parse lab file");
	lf.spec = spec;
	r = read_yaml(text, len, spec, &root, err);
	if (r >= 0)
		r = decode_top(&lf, root, &named);
	if (r < 0)
		return r;
	if (!named && !spec_lab_name_ok(spec->name))
		return spec_error(err, spec, (struct spec_loc){ 1, 1 }, EINVAL,
				  "lab name '%s' from the file name is not valid (use a-z, 0-9 "
				  "and '-', at most %d characters): set 'lab:'",
				  SPEC_Q(spec->name), LAB_NAME_MAX);
	r = lab_spec_validate(spec, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(spec);
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len, nslab_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return nslab_err_set(err, errno, "open '%s'", path);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *p;

			if (cap >= LABFILE_SIZE_MAX)
				return nslab_err_setx(err, EFBIG, "'%s': larger than %u bytes",
						      path, LABFILE_SIZE_MAX);
			cap = cap ? cap * 2 : 16384;
			p = realloc(buf, cap);
			if (!p)
				return nslab_err_set(err, ENOMEM, "read '%s'", path);
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nslab_err_set(err, errno, "read '%s'", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int labfile_parse(const char *path, struct lab_spec **ret, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file(path, &text, &len, err);

	if (r < 0)
		return r;
	return labfile_parse_string(text ? text : "", len, path, ret, err);
}

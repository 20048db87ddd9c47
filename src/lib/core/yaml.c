/* SPDX-License-Identifier: MIT */
/*
 * core/yaml: libfyaml's event parser feeds a small tree that keeps a 1-based
 * line:col for every node (libfyaml 0.7 has no start mark on document nodes);
 * the decoders below check that tree, so every complaint reads
 * "FILE:LINE:COL: message". libfyaml's own diagnostics are collected, never
 * printed.
 *
 * Scalar text is taken from libfyaml only for single-line plain scalars,
 * which it hands back as a slice of the input; one-line quoted scalars are
 * decoded here ('' and escapes), from the input between the quotes. Its
 * text assembly for scalars of many pieces leaks (pantoniou/libfyaml#337)
 * and miscounts some (#397, #398), so literal block scalars are copied from
 * the input here, between the token's marks, with the block indentation and
 * chomping applied by block_text().
 */
#include "core/yaml.h"
#include "shared/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include "core/fyaml-dl.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ynode *ynode_free(struct ynode *n)
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

int yaml_error(const struct yctx *c, struct yaml_loc loc, const char *fmt, ...)
{
	char msg[NSLAB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->file && loc.line)
		return nslab_err_setx(c->err, EINVAL, "%s:%u:%u: %s", c->file, loc.line, loc.col,
				      msg);
	return nslab_err_setx(c->err, EINVAL, "%s", msg);
}

int y_error(const struct yctx *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[NSLAB_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return yaml_error(c, n->loc, "%s", msg);
}

const char *yaml_quote(const char *s, char buf[YAML_QUOTE_MAX])
{
	size_t n;

	for (n = 0; n < 64 && s[n]; n++)
		buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	strcpy(buf + n, s[n] ? "..." : "");
	return buf;
}

/* Reading YAML events into ynodes */

struct yreader {
	struct fy_parser *fyp;
	struct fy_diag *diag;
	const char *text; /* the input, for raw scalar checks and block scalars */
	size_t len;
	unsigned flags;
	const struct yctx *c;
	struct yaml_loc last; /* last known location, for events without a mark */
	size_t prev_end;      /* input offset where the previous event ended */
	int parent_col;	      /* 0-based column of the enclosing collection, -1 at the root */
	unsigned depth;	      /* collections open around the node being read */
	size_t nodes;	      /* nodes read so far */
};

/*
 * libfyaml's event parser takes any nesting (its limit is the document
 * builder's) and any number of nodes: a file of '[' would overflow the stack
 * of read_node(), a long flow sequence take gigabytes. Real files are far
 * inside these bounds.
 */
#define YAML_DEPTH_MAX 64
#define YAML_NODES_MAX 500000

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

	while ((e = dl_fy.fy_diag_errors_iterate(rd->diag, &iter)))
		if (e->type >= FYET_ERROR && e->msg) {
			/* collected errors carry 1-based positions already */
			struct yaml_loc loc = { e->line > 0 ? (unsigned)e->line : 1,
						e->column > 0 ? (unsigned)e->column : 1 };

			return yaml_error(rd->c, loc, "%s", YAML_Q(e->msg));
		}
	return yaml_error(rd->c, rd->last, "invalid YAML");
}

static int next_event(struct yreader *rd, struct fy_event **ret)
{
	struct fy_event *ev = dl_fy.fy_parser_parse(rd->fyp);

	if (!ev)
		return read_failure(rd);
	*ret = ev;
	return 0;
}

/* Remember where ev ended (the header of a block scalar lies after it), then free it. */
static void event_done(struct yreader *rd, struct fy_event *ev)
{
	const struct fy_mark *m = dl_fy.fy_event_end_mark(ev);

	if (m && m->input_pos <= rd->len)
		rd->prev_end = m->input_pos;
	dl_fy.fy_parser_event_free(rd->fyp, ev);
}

static struct yaml_loc event_loc(struct yreader *rd, struct fy_event *ev)
{
	const struct fy_mark *m = dl_fy.fy_event_start_mark(ev);

	/* marks are 0-based; events without one (an empty value) take the previous place */
	if (m && m->line >= 0 && m->column >= 0)
		rd->last = (struct yaml_loc){ (unsigned)m->line + 1, (unsigned)m->column + 1 };
	return rd->last;
}

/* Literal block scalars, copied from the input */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * block_header() - The indicators after '|': explicit indentation (0: none) and chomping
 * The header is the last word before any comment on the line that ends where
 * the content starts (or on the content's line, for an empty scalar at the
 * end of the input), and after the previous event, which may be a quoted key
 * holding '#' or '|'. libfyaml has accepted it already: this only reads it.
 */
static int block_header(struct yreader *rd, size_t start, unsigned *ret_indent, char *ret_chomp)
{
	const char *t = rd->text;
	size_t end = start, from, word;
	unsigned indent = 0;
	char chomp = 0;

	if (end > 0 && t[end - 1] == '\n')
		end--;
	if (end > 0 && t[end - 1] == '\r')
		end--;
	for (from = end; from > 0 && t[from - 1] != '\n' && t[from - 1] != '\r'; from--)
		;
	if (rd->prev_end > from && rd->prev_end <= end)
		from = rd->prev_end;
	for (size_t i = from; i < end; i++)
		if (t[i] == '#' && (i == from || is_blank(t[i - 1]))) {
			end = i;
			break;
		}
	while (end > from && is_blank(t[end - 1]))
		end--;
	for (word = end; word > from && !is_blank(t[word - 1]); word--)
		;
	if (word == end || t[word] != '|' || end - word > 3)
		return -EINVAL;
	for (size_t i = word + 1; i < end; i++) {
		if (t[i] >= '1' && t[i] <= '9' && !indent)
			indent = (unsigned)(t[i] - '0');
		else if ((t[i] == '-' || t[i] == '+') && !chomp)
			chomp = t[i];
		else
			return -EINVAL;
	}
	*ret_indent = indent;
	*ret_chomp = chomp;
	return 0;
}

/* Length of the line at p (up to end) and of its line break (0 at the end of the input). */
static size_t line_len(const char *p, const char *end, size_t *ret_brk)
{
	size_t n = 0;

	while (p + n < end && p[n] != '\n' && p[n] != '\r')
		n++;
	*ret_brk = p + n == end ? 0 : p[n] == '\r' && p + n + 1 < end && p[n + 1] == '\n' ? 2 : 1;
	return n;
}

static size_t leading_spaces(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] == ' ')
		i++;
	return i;
}

/*
 * block_indent() - The indentation of a literal block scalar without an explicit one
 * The longest run of leading spaces on the lines up to the first one with
 * text (blank lines before it may not be less indented), at least min: as the
 * YAML spec and PyYAML, which NSE's suites were written for, have it.
 */
static size_t block_indent(const char *src, const char *end, size_t min)
{
	size_t indent = min;

	for (const char *p = src; p < end;) {
		size_t brk, n = line_len(p, end, &brk), sp = leading_spaces(p, n);

		if (sp > indent)
			indent = sp;
		if (sp < n)
			break;
		p += n + brk;
	}
	return indent;
}

/*
 * block_text() - The content of a literal block scalar from its source lines
 * @src, @end:  from the first line after the header to at most where libfyaml
 *              ended the token (libfyaml 0.7 ends an empty one a line too late)
 * @indent:     block indentation
 * @chomp:      '-' strip, '+' keep, 0 clip
 * @out:        at least end - src + 1 bytes
 * The scalar ends at the first line with text that is less indented. Lines
 * lose @indent spaces and their line breaks become '\n'; a line of at most
 * @indent spaces is empty.
 * @ret_end:    where the scalar ended
 * Return: the length written (NUL-terminated).
 */
static size_t block_text(const char *src, const char *end, size_t indent, char chomp, char *out,
			 const char **ret_end)
{
	size_t o = 0, content_end = 0;
	bool content = false, brk_after = false;
	const char *p;

	for (p = src; p < end;) {
		size_t brk, n = line_len(p, end, &brk), sp = leading_spaces(p, n);

		if (sp < n && sp < indent)
			break;
		if (n > indent) {
			memcpy(out + o, p + indent, n - indent);
			o += n - indent;
			content = true;
			content_end = o;
			brk_after = brk > 0;
		}
		if (brk)
			out[o++] = '\n';
		p += n + brk;
	}
	if (chomp == '-')
		o = content_end;
	else if (chomp != '+')
		o = content ? content_end + brk_after : 0;
	out[o] = '\0';
	*ret_end = p;
	return o;
}

static int read_literal(struct yreader *rd, struct fy_token *tok, struct ynode *n,
			struct yaml_loc header)
{
	const struct fy_mark *s = dl_fy.fy_token_start_mark(tok), *e = dl_fy.fy_token_end_mark(tok);
	/* content is indented more than the enclosing collection (at least 1) */
	size_t min = rd->parent_col >= 0 ? (size_t)rd->parent_col + 1 : 1, indent;
	const char *stop;
	unsigned explicit;
	char chomp;

	if (!s || !e || s->input_pos > e->input_pos || e->input_pos > rd->len ||
	    block_header(rd, s->input_pos, &explicit, &chomp) < 0)
		return yaml_error(rd->c, header, "unexpected block scalar header");
	indent = explicit ? min + explicit - 1
			  : block_indent(rd->text + s->input_pos, rd->text + e->input_pos, min);
	n->text = malloc(e->input_pos - s->input_pos + 1);
	if (!n->text)
		return nslab_err_set(rd->c->err, ENOMEM, "read YAML block scalar");
	n->len = block_text(rd->text + s->input_pos, rd->text + e->input_pos, indent, chomp,
			    n->text, &stop);
	/*
	 * libfyaml 0.7 reads the line after an empty block scalar into it when
	 * that line is as indented as the scalar's key, and that line's key is
	 * lost: refuse what it took beyond the scalar's end.
	 */
	while (stop < rd->text + e->input_pos && strchr(" \t\r\n", *stop) && *stop)
		stop++;
	if (stop < rd->text + e->input_pos)
		return yaml_error(rd->c, header,
				  "empty block scalar followed by a line of its key's indentation "
				  "(not supported: write '' for an empty value)");
	n->block = true;
	n->loc.col = indent < UINT_MAX ? (unsigned)indent + 1 : 1;
	return 0;
}

/*
 * Values are names, prefixes, numbers or (with YAML_LITERAL_BLOCKS) literal
 * text: refuse folded scalars and multi-line flow values. Besides stopping
 * nonsense early, this keeps libfyaml 0.7 off its text assembly for scalars
 * of many pieces, which leaks (pantoniou/libfyaml#337) and miscounts long
 * runs of '' (quoted scalars are decoded by quoted_text() instead).
 */
static int check_scalar_source(struct yreader *rd, struct fy_token *tok, enum fy_scalar_style style,
			       struct yaml_loc loc, struct yaml_loc prev)
{
	const struct fy_mark *s = dl_fy.fy_token_start_mark(tok), *e = dl_fy.fy_token_end_mark(tok);

	/* a block scalar's mark is on its first content line: point at its key instead */
	if (style == FYSS_FOLDED && (rd->flags & YAML_LITERAL_BLOCKS))
		return yaml_error(rd->c, prev,
				  "folded block scalars ('>') are not supported: "
				  "use '|'");
	if (style == FYSS_LITERAL || style == FYSS_FOLDED)
		return yaml_error(rd->c, prev, "block scalars ('|', '>') are not supported");
	if (!s || !e)
		return 0;
	if (s->line != e->line || s->input_pos > e->input_pos || e->input_pos > rd->len)
		return yaml_error(rd->c, loc, "multi-line values are not supported");
	return 0;
}

/* Quoted scalars, decoded from the input */

/* n hex digits at p into *ret. Return: false if any is not one. */
static bool hex_digits(const char *p, size_t avail, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	if (avail < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = unhexchar(p[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return true;
}

/* Code point cp as UTF-8 at out. Return: bytes written (1..4). */
static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * escape_value() - The code point of the escape sequence after a '\' at p
 * YAML 1.2's escapes (a superset of JSON's); a JSON surrogate pair
 * (\uD83D\uDE00) is one code point, as JSON readers (NSE's json.load) take it.
 * Return: the characters it takes after the '\\', or 0 if it is not one.
 */
static size_t escape_value(const char *p, size_t avail, uint32_t *ret)
{
	static const char simple[] = "0abt\tnvfre \"/\\N_LP";
	static const uint32_t values[] = { 0,  7,   8,	 9,   9,    10,	  11,	12,	13,
					   27, ' ', '"', '/', '\\', 0x85, 0xa0, 0x2028, 0x2029 };
	const char *at = avail ? memchr(simple, p[0], sizeof(simple) - 1) : NULL;
	uint32_t lo;
	size_t n;

	if (at) {
		*ret = values[at - simple];
		return 1;
	}
	n = !avail ? 0 : p[0] == 'x' ? 2 : p[0] == 'u' ? 4 : p[0] == 'U' ? 8 : 0;
	if (!n || !hex_digits(p + 1, avail - 1, n, ret))
		return 0;
	if (n == 4 && *ret >= 0xd800 && *ret < 0xdc00 && avail >= 11 && p[5] == '\\' &&
	    p[6] == 'u' && hex_digits(p + 7, avail - 7, 4, &lo) && lo >= 0xdc00 && lo < 0xe000) {
		*ret = 0x10000 + ((*ret - 0xd800) << 10) + (lo - 0xdc00);
		return 11;
	}
	if ((*ret >= 0xd800 && *ret < 0xe000) || *ret > 0x10ffff)
		return 0;
	return n + 1;
}

/* Columns (characters, not bytes) from p to q, for messages. */
static unsigned columns(const char *p, const char *q)
{
	unsigned n = 0;

	for (; p < q; p++)
		n += ((unsigned char)*p & 0xc0) != 0x80;
	return n;
}

/*
 * quoted_text() - A one-line quoted scalar's text from its source between the quotes
 * '' in a single-quoted scalar is one '; in a double-quoted one, escapes
 * are decoded (escape_value()). A NUL ("\0") is kept, and refused where a
 * string is read (y_text()). The text is at most twice the source (\L is
 * 3 bytes of UTF-8).
 */
static int quoted_text(struct yreader *rd, const char *raw, size_t len, bool dq, struct ynode *n)
{
	char *out = malloc(2 * len + 1);
	size_t o = 0;

	if (!out)
		return nslab_err_set(rd->c->err, ENOMEM, "read YAML scalar");
	n->text = out;
	for (size_t i = 0; i < len; i++) {
		uint32_t cp;
		size_t k;

		if (!dq && raw[i] == '\'' && i + 1 < len && raw[i + 1] == '\'') {
			out[o++] = raw[i++];
			continue;
		}
		if (!dq || raw[i] != '\\') {
			out[o++] = raw[i];
			continue;
		}
		k = escape_value(raw + i + 1, len - i - 1, &cp);
		if (!k)
			return yaml_error(
				rd->c,
				(struct yaml_loc){ n->loc.line,
						   n->loc.col + 1 + columns(raw, raw + i) },
				"bad escape sequence '\\%c' (expected one of YAML's, like "
				"\\n, \\t, \\\" or \\u00e9)",
				i + 1 < len && raw[i + 1] > 0x20 && raw[i + 1] < 0x7f ? raw[i + 1]
										      : '?');
		o += utf8_put(cp, out + o);
		i += k;
	}
	out[o] = '\0';
	n->len = o;
	return 0;
}

static int read_scalar(struct yreader *rd, struct fy_event *ev, struct ynode *n,
		       struct yaml_loc prev)
{
	enum fy_scalar_style style = dl_fy.fy_token_scalar_style(ev->scalar.value);
	const char *text;
	size_t len = 0;
	int r;

	n->type = Y_SCALAR;
	n->plain = style == FYSS_PLAIN;
	if (style == FYSS_LITERAL && (rd->flags & YAML_LITERAL_BLOCKS))
		return read_literal(rd, ev->scalar.value, n, prev);
	/* a quoted scalar's mark is inside the quotes: point at the opening quote */
	if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && n->loc.col > 1)
		n->loc.col--;
	r = check_scalar_source(rd, ev->scalar.value, style, n->loc, prev);
	if (r < 0)
		return r;
	if (style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) {
		const struct fy_mark *s = dl_fy.fy_token_start_mark(ev->scalar.value),
				     *e = dl_fy.fy_token_end_mark(ev->scalar.value);

		if (s && e) /* one line, inside the input: checked above */
			return quoted_text(rd, rd->text + s->input_pos, e->input_pos - s->input_pos,
					   style == FYSS_DOUBLE_QUOTED, n);
	}
	text = dl_fy.fy_token_get_text(ev->scalar.value, &len);
	n->text = malloc(len + 1);
	if (!n->text)
		return nslab_err_set(rd->c->err, ENOMEM, "read YAML scalar");
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
			return nslab_err_set(rd->c->err, ENOMEM, "read YAML collection");
		}
		n->kids = k;
		n->cap = cap;
	}
	n->kids[n->n++] = kid;
	return 0;
}

/*
 * read_node() - The node that starts with event ev (consumed), children included
 * Recursion is bounded by YAML_DEPTH_MAX (read_children() refuses deeper).
 */
static int read_node(struct yreader *rd, struct fy_event *ev, struct ynode **ret);

/* The children of collection n, up to its end event. */
static int read_children(struct yreader *rd, struct ynode *n, enum fy_event_type end)
{
	int parent_col = rd->parent_col, r = 0;

	if (rd->depth >= YAML_DEPTH_MAX)
		return yaml_error(rd->c, n->loc, "nesting deeper than %d levels", YAML_DEPTH_MAX);
	rd->depth++;
	rd->parent_col = (int)n->loc.col - 1;
	while (r >= 0) {
		struct fy_event *ev = NULL;
		struct ynode *kid;

		r = next_event(rd, &ev);
		if (r < 0)
			break;
		if (ev->type == end) {
			event_done(rd, ev);
			break;
		}
		r = read_node(rd, ev, &kid);
		if (r >= 0)
			r = add_kid(rd, n, kid);
	}
	rd->parent_col = parent_col;
	rd->depth--;
	return r;
}

/* Where a token starts (1-based), or dflt without a mark. */
static struct yaml_loc token_loc(struct fy_token *t, struct yaml_loc dflt)
{
	const struct fy_mark *m = dl_fy.fy_token_start_mark(t);

	if (!m || m->line < 0 || m->column < 0)
		return dflt;
	return (struct yaml_loc){ (unsigned)m->line + 1, (unsigned)m->column + 1 };
}

/* The node's tag token, if it has one ("!!binary", "!x"). */
static struct fy_token *event_tag(struct fy_event *ev)
{
	if (ev->type == FYET_SCALAR)
		return ev->scalar.tag;
	if (ev->type == FYET_MAPPING_START)
		return ev->mapping_start.tag;
	if (ev->type == FYET_SEQUENCE_START)
		return ev->sequence_start.tag;
	return NULL;
}

static int read_node(struct yreader *rd, struct fy_event *ev, struct ynode **ret)
{
	_cleanup_(ynode_freep) struct ynode *n = calloc(1, sizeof(*n));
	enum fy_event_type type = ev->type;
	struct yaml_loc prev = rd->last;
	int r = 0;

	if (n)
		n->loc = event_loc(rd, ev);
	/* a tag changes what a value means (!!binary decodes): refused, not ignored */
	if (n && event_tag(ev))
		r = yaml_error(rd->c, token_loc(event_tag(ev), n->loc),
			       "tags ('!') are not supported");
	else if (n && ++rd->nodes > YAML_NODES_MAX)
		r = yaml_error(rd->c, n->loc, "more than %d YAML nodes", YAML_NODES_MAX);
	else if (n && type == FYET_SCALAR)
		r = read_scalar(rd, ev, n, prev);
	event_done(rd, ev);
	if (!n)
		return nslab_err_set(rd->c->err, ENOMEM, "read YAML node");
	if (r < 0)
		return r;
	if (type == FYET_MAPPING_START || type == FYET_SEQUENCE_START) {
		n->type = type == FYET_MAPPING_START ? Y_MAP : Y_SEQ;
		r = read_children(rd, n, n->type == Y_MAP ? FYET_MAPPING_END : FYET_SEQUENCE_END);
	} else if (type == FYET_ALIAS) {
		/* the mark is on the alias name: point at the '*' */
		if (n->loc.col > 1)
			n->loc.col--;
		r = yaml_error(rd->c, n->loc, "aliases are not supported");
	} else if (type != FYET_SCALAR) {
		r = yaml_error(rd->c, n->loc, "unexpected YAML event");
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
	struct yaml_loc loc;
	int r = next_event(rd, &ev);

	if (r < 0)
		return r;
	loc = event_loc(rd, ev);
	r = ev->type == want ? 0 : yaml_error(rd->c, loc, "%s", what);
	event_done(rd, ev);
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
		event_done(rd, ev);
		*ret = NULL;
		return 0;
	}
	event_done(rd, ev); /* DOCUMENT_START */
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
 * Invalid UTF-8, NUL bytes and directives: our files have no use for
 * `%YAML`/`%TAG`, and 0.7's directive scanner hangs or reads out of bounds on
 * malformed ones (pantoniou/libfyaml#101, #175).
 */
static int precheck(const struct yctx *c, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	struct yaml_loc loc = { 1, 1 };
	size_t i = 0;

	/* a byte order mark is not a column: a '%' after it starts the line */
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		i = 3;
	for (; i < len; loc.col++) {
		size_t n = utf8_len(s + i, len - i);

		if (s[i] == '\0')
			return yaml_error(c, loc, "unexpected NUL character");
		if (n == 0)
			return yaml_error(c, loc, "invalid UTF-8");
		if (s[i] == '%' && loc.col == 1)
			return yaml_error(c, loc, "directives ('%%') are not supported");
		/* libfyaml breaks lines at "\n", "\r\n" and a lone "\r" */
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))) {
			loc.line++;
			loc.col = 0;
		}
		i += n;
	}
	return 0;
}

int yaml_read(const struct yctx *c, const char *text, size_t len, unsigned flags,
	      struct ynode **ret)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg pcfg = { .flags = FYPCF_DEFAULT_PARSE | FYPCF_QUIET };
	struct yreader rd = {
		.text = text, .len = len, .flags = flags, .c = c, .last = { 1, 1 }, .parent_col = -1
	};
	int r = precheck(c, text, len);

	if (r >= 0)
		r = dl_fy_load(c->err);
	if (r < 0)
		return r;
	dl_fy.fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = diag_discard;
	dcfg.colorize = false;
	rd.diag = dl_fy.fy_diag_create(&dcfg);
	if (!rd.diag)
		return nslab_err_set(c->err, ENOMEM, "create YAML diagnostics");
	dl_fy.fy_diag_set_collect_errors(rd.diag, true);
	pcfg.diag = rd.diag;
	rd.fyp = dl_fy.fy_parser_create(&pcfg);
	if (!rd.fyp || dl_fy.fy_parser_set_string(rd.fyp, text, len) < 0)
		r = nslab_err_set(c->err, ENOMEM, "create YAML parser");
	else
		r = read_document(&rd, ret);
	if (rd.fyp)
		dl_fy.fy_parser_destroy(rd.fyp);
	dl_fy.fy_diag_destroy(rd.diag);
	return r;
}

int yaml_read_file(const char *path, size_t max, char **ret, size_t *ret_len, nslab_error *err)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (fstat() refuses it next) */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	if (fd < 0)
		return nslab_err_set(err, errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "stat '%s'", path);
	/* a FIFO, socket or device could block forever or never end */
	if (!S_ISREG(st.st_mode))
		return nslab_err_setx(err, S_ISDIR(st.st_mode) ? EISDIR : EINVAL,
				      "'%s': not a regular file", path);
	for (;;) {
		ssize_t n;

		/* one byte more than max, so that a file of exactly max bytes fits */
		if (len == cap) {
			char *p;

			if (cap > max)
				return nslab_err_setx(err, EFBIG, "'%s': larger than %zu bytes",
						      path, max);
			cap = cap ? cap * 2 : 16384;
			p = realloc(buf, cap + 1);
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
	if (len > max)
		return nslab_err_setx(err, EFBIG, "'%s': larger than %zu bytes", path, max);
	if (buf)
		buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Decoding */

bool y_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != Y_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (strcmp(n->text, nulls[i]) == 0)
			return true;
	return false;
}

const char *y_kind(const struct ynode *n)
{
	if (n->type == Y_SCALAR)
		return y_is_null(n) ? "null" : "a scalar";
	return n->type == Y_MAP ? "a mapping" : "a sequence";
}

int y_map(const struct yctx *c, const struct ynode *n, const char *what, const char *name)
{
	if (n->type == Y_MAP)
		return 0;
	if (name)
		return y_error(c, n, "%s '%s': expected a mapping, not %s", what, YAML_Q(name),
			       y_kind(n));
	return y_error(c, n, "%s: expected a mapping, not %s", what, y_kind(n));
}

int y_seq(const struct yctx *c, const struct ynode *n, const char *what)
{
	if (n->type == Y_SEQ)
		return 0;
	return y_error(c, n, "%s: expected a sequence, not %s", what, y_kind(n));
}

int y_text(const struct yctx *c, const struct ynode *n, const char *what, const char **ret)
{
	if (n->type != Y_SCALAR || y_is_null(n))
		return y_error(c, n, "%s: expected a string, not %s", what, y_kind(n));
	if (memchr(n->text, '\0', n->len))
		return y_error(c, n, "%s: unexpected NUL character", what);
	*ret = n->text;
	return 0;
}

int y_str(const struct yctx *c, const struct ynode *n, const char *what, const char **ret)
{
	const char *s;
	int r = y_text(c, n, what, &s);

	if (r < 0)
		return r;
	if (memchr(s, '\n', n->len))
		return y_error(c, n, "%s: expected a single line", what);
	*ret = s;
	return 0;
}

int y_uint(const struct yctx *c, const struct ynode *n, const char *what, uint64_t min,
	   uint64_t max, const char *expect, uint64_t *ret)
{
	uint64_t v = 0;
	bool ok = n->type == Y_SCALAR && n->len > 0 && n->len <= 20;

	if (n->type != Y_SCALAR)
		return y_error(c, n, "%s: expected %s, not %s", what, expect, y_kind(n));
	for (size_t i = 0; ok && i < n->len; i++) {
		unsigned d = (unsigned)(n->text[i] - '0');

		ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
		v = v * 10 + d;
	}
	if (!ok || v < min || v > max)
		return y_error(c, n, "bad %s '%s' (expected %s)", what, YAML_Q(n->text), expect);
	/* YAML 1.1 readers (PyYAML, so NSE) take 022 for octal 18: say which, don't guess */
	if (n->len > 1 && n->text[0] == '0')
		return y_error(
			c, n, "bad %s '%s' (a leading zero reads as octal to YAML 1.1: write %llu)",
			what, YAML_Q(n->text), (unsigned long long)v);
	*ret = v;
	return 0;
}

int y_enum(const struct yctx *c, const struct ynode *n, const char *what, const char *const *vals,
	   const char *expect, unsigned *ret)
{
	const char *s;
	int r = n->type == Y_SCALAR ? 0 : y_str(c, n, what, &s);

	if (r < 0)
		return r;
	for (unsigned i = 0; vals[i]; i++)
		if (strcmp(n->text, vals[i]) == 0) {
			*ret = i;
			return 0;
		}
	return y_error(c, n, "bad %s '%s' (expected %s)", what, YAML_Q(n->text), expect);
}

int y_bool(const struct yctx *c, const struct ynode *n, const char *what, bool *ret)
{
	static const char *const vals[] = {
		"false", "False", "FALSE", "true", "True", "TRUE", NULL
	};
	unsigned i;
	int r = y_enum(c, n, what, vals, "true or false", &i);

	if (r < 0)
		return r;
	*ret = i >= 3;
	return 0;
}

/*
 * Whether an unknown key may be quoted back. A file that is not a lab file or
 * a suite (a password file named by mistake, or on purpose by someone who may
 * run nslab but not read the file) reads as one key per line: "root:$6$...".
 * Only what looks like a key name (a word of at most 32 characters) is shown.
 */
static bool is_key_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

	return n > 0 && n <= 32 && !s[n];
}

int y_key(const struct yctx *c, const struct ynode *k, const char *const *keys, size_t shown,
	  uint32_t *seen)
{
	char list[256] = "";
	const char *s;
	int r = y_str(c, k, "key", &s);

	if (r < 0)
		return r;
	for (int i = 0; keys[i] && i < 32; i++) {
		if (strcmp(s, keys[i]) != 0)
			continue;
		if (*seen & (1u << i))
			return y_error(c, k, "duplicate key '%s'", s);
		*seen |= 1u << i;
		return i;
	}
	for (size_t i = 0; keys[i] && i < shown; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 keys[i]);
	if (!is_key_name(s))
		return y_error(c, k, "unknown key (expected one of: %s)", list);
	return y_error(c, k, "unknown key '%s' (expected one of: %s)", YAML_Q(s), list);
}

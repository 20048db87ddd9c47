/* SPDX-License-Identifier: MIT */
/* core/json: writer with RFC 8259 string escaping; no parser (we never read JSON from outside). */
#include "core/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->oom = false;
	w->depth = 0;
	w->need_comma[0] = false;
	if (w->buf)
		w->buf[0] = '\0';
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

const char *jw_get(const struct jw *w)
{
	if (w->oom)
		return NULL;
	return w->buf ? w->buf : "";
}

static bool jw_reserve(struct jw *w, size_t more)
{
	size_t want = w->len + more + 1;
	char *nbuf;

	if (w->oom)
		return false;
	if (want <= w->cap)
		return true;
	size_t ncap = w->cap ? w->cap : 256;
	while (ncap < want)
		ncap *= 2;
	nbuf = realloc(w->buf, ncap);
	if (!nbuf) {
		w->oom = true;
		return false;
	}
	w->buf = nbuf;
	w->cap = ncap;
	return true;
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (!jw_reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void jw_puts(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

/*
 * Length of the well-formed UTF-8 sequence at p, or 0 if there is none
 * (Unicode 15, table 3-7): no overlong forms, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF, no truncated sequence. The second byte's range
 * depends on the lead byte; later ones are always 80..BF. A NUL is never a
 * continuation byte, so a truncated sequence at the end of s stops there.
 */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (*p < 0x80)
		return 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, C0/C1 (overlong) or F5..FF */
	if (*p == 0xe0)
		lo = 0xa0; /* overlong below U+0800 */
	else if (*p == 0xed)
		hi = 0x9f; /* surrogates */
	else if (*p == 0xf0)
		lo = 0x90; /* overlong below U+10000 */
	else if (*p == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Strings come from anywhere (command lines from clients end up in events), so
 * the output is made valid JSON whatever the input: each byte that does not
 * start a well-formed UTF-8 sequence becomes the escape \ufffd (U+FFFD, the
 * replacement character), and the writer's output stays plain ASCII apart
 * from the valid multibyte sequences it copies unchanged.
 */
static void jw_quoted(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jw_put(w, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7] = "\\u00";
		size_t n;

		switch (*p) {
		case '"':
			jw_put(w, "\\\"", 2);
			break;
		case '\\':
			jw_put(w, "\\\\", 2);
			break;
		case '\n':
			jw_put(w, "\\n", 2);
			break;
		case '\r':
			jw_put(w, "\\r", 2);
			break;
		case '\t':
			jw_put(w, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 0xf];
				jw_put(w, esc, 6);
			} else if ((n = utf8_len(p)) == 0) {
				jw_put(w, "\\ufffd", 6);
			} else {
				jw_put(w, (const char *)p, n);
				p += n - 1;
			}
		}
	}
	jw_put(w, "\"", 1);
}

/* Comma and key before a value. */
static void jw_prefix(struct jw *w, const char *key)
{
	if (w->need_comma[w->depth])
		jw_put(w, ",", 1);
	w->need_comma[w->depth] = true;
	if (key) {
		jw_quoted(w, key);
		jw_put(w, ":", 1);
	}
}

static void jw_open(struct jw *w, const char *key, const char *bracket)
{
	jw_prefix(w, key);
	jw_puts(w, bracket);
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->oom = true; /* too deep is a programming error; make it visible */
		return;
	}
	w->need_comma[++w->depth] = false;
}

static void jw_close(struct jw *w, const char *bracket)
{
	if (w->depth > 0)
		w->depth--;
	jw_puts(w, bracket);
}

void jw_obj_open(struct jw *w, const char *key)
{
	jw_open(w, key, "{");
}

void jw_obj_close(struct jw *w)
{
	jw_close(w, "}");
}

void jw_arr_open(struct jw *w, const char *key)
{
	jw_open(w, key, "[");
}

void jw_arr_close(struct jw *w)
{
	jw_close(w, "]");
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_prefix(w, key);
	if (val)
		jw_quoted(w, val);
	else
		jw_puts(w, "null");
}

void jw_int(struct jw *w, const char *key, int64_t val)
{
	char buf[32];

	jw_prefix(w, key);
	snprintf(buf, sizeof(buf), "%" PRId64, val);
	jw_puts(w, buf);
}

void jw_uint(struct jw *w, const char *key, uint64_t val)
{
	char buf[32];

	jw_prefix(w, key);
	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	jw_puts(w, buf);
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	jw_prefix(w, key);
	jw_puts(w, val ? "true" : "false");
}

void jw_double(struct jw *w, const char *key, double val, int decimals)
{
	char buf[64];

	jw_prefix(w, key);
	if (!isfinite(val)) {
		jw_puts(w, "null"); /* JSON has no NaN or infinity */
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", decimals, val);
	jw_puts(w, buf);
}

void jw_raw(struct jw *w, const char *key, const char *json)
{
	jw_prefix(w, key);
	jw_puts(w, json);
}

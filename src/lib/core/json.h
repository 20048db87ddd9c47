/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/json: a small JSON writer into a growing buffer (events, status, state.json). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 16

struct jw {
	char *buf;
	size_t len, cap;
	bool oom; /* sticky: any allocation failure makes jw_get() return NULL */
	int depth;
	bool need_comma[JW_MAX_DEPTH];
};

void jw_init(struct jw *w);
void jw_reset(struct jw *w); /* empty, keep the allocation */
void jw_free(struct jw *w);
/* The text so far, NUL-terminated, or NULL after an allocation failure. Borrowed. */
const char *jw_get(const struct jw *w);

/* key is NULL inside arrays and at top level, a member name inside objects. */
void jw_obj_open(struct jw *w, const char *key);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);
/*
 * NULL val writes null. Keys and values are escaped per RFC 8259 and need not be
 * valid UTF-8: each byte that does not start a well-formed sequence is written
 * as the escape \ufffd, so the output is valid JSON whatever the input.
 */
void jw_str(struct jw *w, const char *key, const char *val);
void jw_int(struct jw *w, const char *key, int64_t val);
void jw_uint(struct jw *w, const char *key, uint64_t val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_double(struct jw *w, const char *key, double val, int decimals);
/* Insert already-formatted JSON text as a value. */
void jw_raw(struct jw *w, const char *key, const char *json);

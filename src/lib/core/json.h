/* SPDX-License-Identifier: MIT */
/* core/json: a small JSON writer into a growing buffer (events, status, state.json). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 16

struct jw {
	char *buf;
	size_t len, cap;
	bool oom; /* sticky: a failed allocation, or nesting too deep, makes jw_get() return NULL */
	int depth;
	bool need_comma[JW_MAX_DEPTH];
};

/*
 * Writers never fail on the spot: an allocation failure (or nesting past
 * JW_MAX_DEPTH, a programming error) is remembered, and jw_get() reports it.
 */

/**
 * jw_init() - Start an empty writer (allocates nothing yet)
 * @w:  writer; its previous buffer, if any, is not freed (see jw_free())
 */
void jw_init(struct jw *w);
/**
 * jw_reset() - Empty the writer and clear a recorded failure, keeping the allocation
 * @w:  writer
 */
void jw_reset(struct jw *w);
/**
 * jw_free() - Free the buffer and leave the writer empty, as after jw_init()
 * @w:  writer
 */
void jw_free(struct jw *w);
/**
 * jw_get() - The text written so far
 * @w:  writer
 * Return: NUL-terminated text ("" if nothing was written), borrowed: valid until the
 * next write, jw_reset() or jw_free(); NULL after an allocation failure or nesting too deep
 */
const char *jw_get(const struct jw *w);

/*
 * In all writers below, key is NULL inside arrays and at top level, a member
 * name inside objects; it is copied (escaped like jw_str()'s values).
 */

/**
 * jw_obj_open() - Open an object ("{"); close it with jw_obj_close()
 * @w:    writer
 * @key:  member name, or NULL
 */
void jw_obj_open(struct jw *w, const char *key);
/**
 * jw_obj_close() - Close the innermost object ("}")
 * @w:  writer
 */
void jw_obj_close(struct jw *w);
/**
 * jw_arr_open() - Open an array ("["); close it with jw_arr_close()
 * @w:    writer
 * @key:  member name, or NULL
 */
void jw_arr_open(struct jw *w, const char *key);
/**
 * jw_arr_close() - Close the innermost array ("]")
 * @w:  writer
 */
void jw_arr_close(struct jw *w);
/**
 * jw_str() - Write a string value
 * @w:    writer
 * @key:  member name, or NULL
 * @val:  NUL-terminated text, copied; NULL writes null
 *
 * Keys and values are escaped per RFC 8259 and need not be valid UTF-8: each
 * byte that does not start a well-formed sequence is written as the escape
 * \ufffd, so the output is valid JSON whatever the input.
 */
void jw_str(struct jw *w, const char *key, const char *val);
/**
 * jw_int() - Write a signed integer value
 * @w:    writer
 * @key:  member name, or NULL
 * @val:  value
 */
void jw_int(struct jw *w, const char *key, int64_t val);
/**
 * jw_uint() - Write an unsigned integer value
 * @w:    writer
 * @key:  member name, or NULL
 * @val:  value
 */
void jw_uint(struct jw *w, const char *key, uint64_t val);
/**
 * jw_bool() - Write true or false
 * @w:    writer
 * @key:  member name, or NULL
 * @val:  value
 */
void jw_bool(struct jw *w, const char *key, bool val);
/**
 * jw_double() - Write a number in fixed notation ("%.*f")
 * @w:         writer
 * @key:       member name, or NULL
 * @val:       value; must be finite (NaN and infinities come out as invalid JSON)
 * @decimals:  digits after the point
 */
void jw_double(struct jw *w, const char *key, double val, int decimals);
/**
 * jw_raw() - Insert already-formatted JSON text as a value
 * @w:     writer
 * @key:   member name, or NULL
 * @json:  one complete JSON value, copied as is (not checked, not NULL)
 */
void jw_raw(struct jw *w, const char *key, const char *json);

/* SPDX-License-Identifier: MIT */
/*
 * sim/expr: the pure parts of a sim file's values: numbers with SI suffixes,
 * durations, ${...} interpolation, assertions, captures from text and JSON.
 *
 * DOC: assertions
 * "LEFT OP RIGHT", OP one of == != < <= > >= contains matches, each side a
 * bare word (which may hold ${...}) or a quoted string ('...' or "...",
 * also interpolated). Sides are interpolated after the expression is split,
 * so a value holding an operator cannot change its meaning. < <= > >= compare
 * numbers (both sides must be numbers); == and != compare numbers when both
 * sides are numbers (5e6 == 5M), text otherwise; contains is a substring
 * test; matches a POSIX extended regular expression (RIGHT) searched in LEFT.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"

/*
 * sim_number() - A number with an optional SI suffix
 * k M G T P (x1000 each), Ki Mi Gi Ti (x1024 each), m u n (milli, micro,
 * nano); "5e6", "1.5k", "2Gi", "-3". Return: true and *ret, false if s is not one.
 */
bool sim_number(const char *s, double *ret);

/*
 * sim_duration_ms() - "250ms", "10s", "2m", "1h", "1.5s" (a bare number is seconds)
 * Return: 0, or -EINVAL naming the value.
 */
int sim_duration_ms(const char *s, uint64_t *ret, nslab_error *err);

/* A ${NAME}'s value, or NULL when there is none (the caller reports it). */
typedef const char *(*sim_lookup_fn)(const char *name, void *data);

/*
 * sim_interpolate() - in with every ${NAME} replaced by its value ($$ is a $)
 * Return: 0 and a malloc'd string, or -EINVAL "unknown ${NAME}" / an unclosed ${.
 */
int sim_interpolate(const char *in, sim_lookup_fn fn, void *data, char **ret, nslab_error *err);

/*
 * sim_assert() - Evaluate one assertion (see DOC: assertions)
 * @detail: on return, malloc'd "LEFT OP RIGHT" with both values interpolated
 * Return: 1 holds, 0 does not, -EINVAL for an expression that is not one (err says why).
 */
int sim_assert(const char *expr, sim_lookup_fn fn, void *data, char **detail, nslab_error *err);

/*
 * sim_json_pick() - The value at a path in a JSON text: ".a.b[2].c" ("." is the whole)
 * Scalars as their text, objects and arrays as JSON-ish text.
 * Return: 0 and a malloc'd string, -ENOENT when the path leads nowhere, -EINVAL bad JSON or path.
 */
int sim_json_pick(const char *json, const char *path, char **ret, nslab_error *err);

/*
 * sim_regex_capture() - Group 1 (or the whole match without groups) of the first match
 * Return: 0 and a malloc'd string, -ENOENT no match, -EINVAL a bad expression.
 */
int sim_regex_capture(const char *text, const char *re, char **ret, nslab_error *err);

/*
 * sim_ndjson_capture() - From NDJSON output: path picked in the first line
 * that matches the regular expression match (POSIX ERE) and holds it
 * Return: 0 and *ret (free it), -EINVAL (a bad regex), -ENOENT (no such line).
 */
int sim_ndjson_capture(const char *text, const char *match, const char *path, char **ret,
		       nslab_error *err);
/*
 * sim_json_object() - A JSON object's text again, on one line (a program's event)
 * Return: 0 and a malloc'd string, -EINVAL when the text is not one JSON object.
 */
int sim_json_object(const char *text, size_t len, char **ret);

/* SPDX-License-Identifier: MIT */
/*
 * link/cond: link conditions as people write them (lab file, command line,
 * presets) into nslab_link_condition, and back into netem's words.
 *
 * One decoder serves all three: the lab file's YAML node, presets (YAML flow
 * text compiled in) and the command line's words (turned into a flow mapping
 * first), so that a value is spelled the same way everywhere.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/yaml.h"
#include "nslab/link.h"

/* A lab's own preset (`links:` in the lab file). */
struct linkcond_named {
	char *name;
	nslab_link_condition cond;
};

/* Presets a decoder may refer to beyond the built-in ones (may be empty). */
struct linkcond_user {
	const struct linkcond_named *v;
	size_t n;
};

/**
 * linkcond_decode() - A condition from a YAML node
 * @c:     file and error for messages
 * @v:     a preset name (scalar) or a mapping of parameters, `preset:`, `up:`,
 *         `down:`, `seed:`
 * @user:  the lab's presets, searched before the built-in ones; may be NULL
 * @ret:   written only on success
 * Return: 0, or -EINVAL with "FILE:LINE:COL: message".
 */
int linkcond_decode(const struct yctx *c, const struct ynode *v, const struct linkcond_user *user,
		    nslab_link_condition *ret);

/**
 * linkcond_from_words() - A condition from command-line words (see nslab_link_condition_parse())
 * @which:  on success, the direction the words asked for (a final `up`/`down`), or BOTH
 * Return: 0, or -EINVAL naming the word.
 */
int linkcond_from_words(const char *const *argv, size_t argc, const struct linkcond_user *user,
			nslab_link_condition *ret, enum nslab_link_which *which, nslab_error *err);

/* A built-in preset; NULL if name is none. */
const char *linkcond_preset_text(const char *name);

/* Value parsers (exported for tests). Each returns 0, -EINVAL or -ERANGE. */
int linkcond_parse_time(const char *s, uint64_t *ret_ns);
int linkcond_parse_percent(const char *s, uint32_t *ret_ppb);
int linkcond_parse_rate(const char *s, uint64_t *ret_bps);
int linkcond_parse_bytes(const char *s, uint64_t *ret);

/* Formatters: time "5ms"/"250us", percent "0.1%", rate "5mbit", into buf; return buf. */
const char *linkcond_fmt_time(uint64_t ns, char *buf, size_t len);
const char *linkcond_fmt_percent(uint32_t ppb, char *buf, size_t len);
const char *linkcond_fmt_rate(uint64_t bps, char *buf, size_t len);

/* SPDX-License-Identifier: MIT */
/*
 * core/yaml: a YAML document (libfyaml's event parser) read into a small tree
 * that keeps a 1-based line:col for every node, and the checks that decode
 * it, so that every complaint reads "FILE:LINE:COL: message".
 *
 * Shared by the lab file and the firewall test suite parsers. What libfyaml
 * 0.7 handles badly is refused before it is reached (see yaml_read()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nslab/error.h"
#include "shared/macro.h"

struct yaml_loc {
	unsigned line, col; /* 1-based; 0 when not from a file */
};

enum ytype { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ytype type;
	bool plain;	     /* scalars: unquoted, so that `~` and `null` mean null */
	bool block;	     /* scalars: a literal block scalar ('|'), text may hold line breaks */
	struct yaml_loc loc; /* block scalars: first line of the content, at its indentation */
	char *text;	     /* scalars: NUL-terminated copy */
	size_t len;
	struct ynode **kids; /* maps: key, value, key, value, ...; sequences: items */
	size_t n, cap;
};

/* Free n and its children. Return: NULL. */
struct ynode *ynode_free(struct ynode *n);
DEFINE_CLEANUP_FUNC(struct ynode, ynode_free)

/* What a reader accepts beyond single-line plain and quoted scalars. */
enum yaml_read_flags {
	YAML_LITERAL_BLOCKS = 1u << 0, /* literal block scalars ('|', '|-', '|+', '|2') */
};

/* Where messages go: the file they name (none when NULL) and the error to fill. */
struct yctx {
	const char *file;
	nslab_error *err;
};

/**
 * yaml_read() - Parse one YAML document into a tree
 * @c:      file name for messages, error to fill
 * @text:   the document (need not be NUL-terminated)
 * @len:    its length
 * @flags:  YAML_* flags
 * @ret:    on success, the root, or NULL for an empty stream; free with ynode_free()
 * Refused with -EINVAL and the place: malformed YAML, invalid UTF-8, NUL bytes,
 * directives, tags, aliases, several documents, multi-line flow scalars,
 * block scalars (literal ones allowed with YAML_LITERAL_BLOCKS, folded ones
 * never), bad escape sequences. Quoted scalars decode '' and YAML's escapes
 * (JSON's included), so a JSON document reads as its YAML flow form.
 * Return: 0, -EINVAL or -ENOMEM.
 */
int yaml_read(const struct yctx *c, const char *text, size_t len, unsigned flags,
	      struct ynode **ret);

/**
 * yaml_read_file() - A whole file into memory
 * @path:     file to read
 * @max:      refuse files larger than this (-EFBIG)
 * @ret:      on success, its contents (NUL-terminated; NULL for an empty file); free()
 * @ret_len:  on success, their length
 * @err:      on failure, the cause naming @path
 * Only regular files are read: anything else (a FIFO, a socket, a device)
 * is refused with "'PATH': not a regular file" (-EINVAL, -EISDIR for a
 * directory) without blocking, so that a FIFO named by mistake cannot hang.
 * Return: 0 or -errno.
 */
int yaml_read_file(const char *path, size_t max, char **ret, size_t *ret_len, nslab_error *err);

/**
 * yaml_error() - Fill c->err with EINVAL and "FILE:LINE:COL: message"
 * Without a file or with loc.line == 0 the location part is left out.
 * Return: -EINVAL.
 */
int yaml_error(const struct yctx *c, struct yaml_loc loc, const char *fmt, ...) _printf_(3, 4);
/* yaml_error() at node n. Return: -EINVAL. */
int y_error(const struct yctx *c, const struct ynode *n, const char *fmt, ...) _printf_(3, 4);

#define YAML_QUOTE_MAX 72
/* s for a message: printable ASCII kept, other bytes as '?', cut to 64 with "...". Return: buf. */
const char *yaml_quote(const char *s, char buf[YAML_QUOTE_MAX]);
/* yaml_quote() into a temporary that lives until the end of the enclosing block. */
#define YAML_Q(s) yaml_quote((s), (char[YAML_QUOTE_MAX]){ 0 })

/* Decoding helpers: each returns 0, or -EINVAL with a message at the node; what names the value. */

/* A plain empty, `~` or `null` scalar. */
bool y_is_null(const struct ynode *n);
/* "null", "a scalar", "a mapping" or "a sequence", for messages. */
const char *y_kind(const struct ynode *n);
/* n is a mapping; what (and name, if not NULL) say whose value it is. */
int y_map(const struct yctx *c, const struct ynode *n, const char *what, const char *name);
/* n is a sequence. */
int y_seq(const struct yctx *c, const struct ynode *n, const char *what);
/* A non-null scalar on one line; *ret borrowed from n. */
int y_str(const struct yctx *c, const struct ynode *n, const char *what, const char **ret);
/* A non-null scalar, line breaks allowed (block scalars); *ret borrowed from n. */
int y_text(const struct yctx *c, const struct ynode *n, const char *what, const char **ret);
/* A decimal in min..max; expect says what is accepted ("1..65535"). */
int y_uint(const struct yctx *c, const struct ynode *n, const char *what, uint64_t min,
	   uint64_t max, const char *expect, uint64_t *ret);
/* One of vals (NULL-terminated), case-sensitive; its index in *ret. */
int y_enum(const struct yctx *c, const struct ynode *n, const char *what, const char *const *vals,
	   const char *expect, unsigned *ret);
/* true/True/TRUE or false/False/FALSE. */
int y_bool(const struct yctx *c, const struct ynode *n, const char *what, bool *ret);
/**
 * y_key() - Which of keys (NULL-terminated, at most 32) the mapping key k is
 * @shown:  how many of keys (the first ones) an "unknown key" message lists
 *          (SIZE_MAX: all); the rest are accepted but not advertised (aliases)
 * @seen:   keys seen so far in this mapping (bit i for keys[i]), to refuse duplicates
 * An unknown key is quoted in the message only if it is a word ([A-Za-z0-9_-],
 * at most 32 characters): a file that is no YAML of ours reads as one key per
 * line, and its lines are not repeated.
 * Return: the index, or -EINVAL.
 */
int y_key(const struct yctx *c, const struct ynode *k, const char *const *keys, size_t shown,
	  uint32_t *seen);

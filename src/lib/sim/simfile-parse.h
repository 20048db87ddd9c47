/* SPDX-License-Identifier: MIT */
/*
 * sim/simfile-parse: the parser's own state and calls, shared by its three
 * files: simfile.c (a step, its keys and values, the whole file),
 * simfile-kinds.c (the mapping each change step takes: link, device,
 * router, capture, dns, gen-certs, repeat) and simfile-compose.c (extends,
 * step templates and use, inline labs).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simfile.h"

#define SIM_FILE_MAX  (4u << 20)
#define SIM_ID_MAX    64
#define SIM_DEPTH_MAX 16 /* extends: and use: nested this deep at most (a cycle otherwise) */

/* A step template: its steps (a sequence, or one step) in a tree kept until the parse ends. */
struct sim_template {
	const char *name;
	const struct ynode *steps;
	const char *file; /* for messages about its steps */
};

struct sp {
	struct yctx y;
	struct sim_file *s;
	size_t cap; /* of s->steps */
	unsigned depth;
	/* extends: and use: make trees and names that live until the parse ends */
	struct ynode **trees;
	size_t n_trees;
	char **paths;
	size_t n_paths;
	struct sim_template *templates; /* the base's first: a lookup goes from the end */
	size_t n_templates;
};

enum step_key {
	K_ID,
	K_RUN,
	K_SPAWN,
	K_WAIT,
	K_WAIT_FOR,
	K_ASSERT,
	K_NODE,
	K_TIMEOUT,
	K_READY,
	K_PARSE,
	K_CAPTURES,
	K_RESULTS,
	K_EXPECT_EXIT,
	K_GEN_FILE,
	K_CONTENT,
	K_LINK,
	K_ROUTER,
	K_DEVICE,
	K_CAPTURE,
	K_DNS,
	K_GEN_CERTS,
	K_REPEAT,
	K_EVERY,
	K_FOR,
	K_TIMES,
	K_SEED,
	K_STEPS,
	K_CHOOSE,
	K_USE,
	K_WITH,
	K_REGION,
	K_N
};

/* simfile.c */

/* -ENOMEM, said once for the file. */
int simf_oom(struct sp *p);
/* A scalar's copy into *ret. */
int simf_dup_str(struct sp *p, const struct ynode *n, const char *what, char **ret);
int simf_duration(struct sp *p, const struct ynode *n, const char *what, uint64_t *ret);
/* A command: a sequence of words (a word may be a literal block) or one string split on blanks. */
int simf_command(struct sp *p, const struct ynode *n, struct sim_step *st);
/* Letters, digits, '-' and '_', 1 to SIM_ID_MAX of them. */
bool simf_is_id(const char *s);
/* One step (and its body) at the end of steps[]; *index counts the entries. */
int simf_parse_step(struct sp *p, const struct ynode *n, size_t *index);
/* A sequence of steps; ret_direct: how many are its own (a body's are not). */
int simf_parse_steps(struct sp *p, const struct ynode *seq, const char *what, size_t *index,
		     size_t *ret_direct);

/* simfile-kinds.c: each fills st from its step's mapping (or scalar) n */

int simf_file_name(struct sp *p, const struct ynode *n, struct sim_step *st);
int simf_link_change(struct sp *p, const struct ynode *n, struct sim_step *st, bool device);
int simf_router_change(struct sp *p, const struct ynode *n, struct sim_step *st);
int simf_region_change(struct sp *p, const struct ynode *n, struct sim_step *st);
int simf_capture_change(struct sp *p, const struct ynode *n, const struct ynode *idn,
			struct sim_step *st);
int simf_certs_change(struct sp *p, const struct ynode *n, struct sim_step *st);
int simf_repeat_how(struct sp *p, const struct ynode *n, struct sim_step *st);
int simf_dns_change(struct sp *p, const struct ynode *n, struct sim_step *st);

/* simfile-compose.c */

/* One file's top level (base: read through extends:, its steps: optional). */
int simf_parse_top(struct sp *p, const struct ynode *root, bool base);
/* The sim's name from its file's. */
int simf_default_name(struct sp *p);
/* use: NAME with: {...}: the template's steps filled in, as step at's body. */
int simf_use_template(struct sp *p, const struct ynode *const *v, size_t at, size_t *index);
/* The trees, paths and templates the parse kept. */
void simf_clear(struct sp *p);

/* SPDX-License-Identifier: MIT */
/*
 * fwtest/suite-parse: what the suite decoders share (suite.c: the file, its
 * rules and tests; suite-values.c: scalars and mappings; suite-expect.c:
 * expectations; suite-packet.c: packets and flows). Never installed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/yaml.h"
#include "fwtest/suite.h"

struct lab_spec;
struct lab_plan;

/* Parser state: the suite being filled and where messages go. */
struct sp {
	struct fw_suite *s;
	struct yctx y;
	bool allow_include;
	bool rules_later;      /* FW_SUITE_RULES_LATER */
	struct lab_spec *lab;  /* topology lab: the lab file, read while parsing (owned) */
	struct lab_plan *plan; /* and its plan: node and interface names (owned) */
	enum fw_topology topo; /* of the test being decoded: node names are checked against it */
};

/* The keys of one kind of mapping: the first `shown` are advertised; field[] folds aliases. */
struct keys {
	const char *const *names; /* NULL-terminated, at most 32 */
	const uint8_t *field;	  /* per name, the field it sets; NULL: its index */
	size_t shown;
};

#define VERDICT_EXPECT "accept, drop or reject"

/* Names of values, in the order of their enums (NULL-terminated); ct states in bit order. */
extern const char *const sp_verdict_names[];
extern const char *const sp_reply_names[];
extern const char *const sp_connect_names[];
extern const char *const sp_ct_names[];
extern const unsigned sp_ct_bits[];

/* Places, failures, freeing */
void sp_endpoint_clear(struct fw_endpoint *e);
struct fw_loc sp_loc(const struct ynode *n);
int sp_oom(struct sp *sp, const char *what);
/* A warning at n, "FILE:LINE:COL: message", added to the suite's warnings. Return: 0 or -ENOMEM */
int sp_warn(struct sp *sp, const struct ynode *n, const char *fmt, ...) _printf_(3, 4);

/* Scalars: each checks, converts and says what was expected (suite-values.c) */
int sp_name(struct sp *sp, const struct ynode *v, const char *what, const char *const *names,
	    const char *expect);
int sp_int(struct sp *sp, const struct ynode *v, const char *what, unsigned min, unsigned max,
	   const char *expect, int *ret);
int sp_strdup(struct sp *sp, const struct ynode *v, const char *what, bool multiline, char **ret);
int sp_node(struct sp *sp, const struct ynode *v, const char *what, char **ret);
int sp_endpoint(struct sp *sp, const struct ynode *v, const char *what, struct fw_endpoint *ret);
int sp_bytes(struct sp *sp, const struct ynode *v, const char *what, uint8_t **ret,
	     size_t *ret_len);
int sp_proto(struct sp *sp, const struct ynode *v, const char *what, int *ret);
int sp_flags(struct sp *sp, const struct ynode *v, const char *what, int *ret);

/*
 * sp_collect() - The values of mapping n by field
 * @key, @val:  per field, the key and value given (NULL if none), arrays large enough
 * Unknown and duplicate keys, and a key given under two spellings, are errors.
 */
int sp_collect(struct sp *sp, const struct ynode *n, const char *what, const struct keys *ks,
	       const struct ynode **key, const struct ynode **val);
/* Each item of a sequence, or a lone mapping as a sequence of one. */
size_t sp_items(const struct ynode *v);
const struct ynode *sp_item(const struct ynode *v, size_t i);

/*
 * Node names against the topology of the test being decoded (suite-nodes.c):
 * direct and gateway as fw_topo_new() builds them, a lab as planned from its
 * file. sp_check_node() checks node (and iface, if not NULL), with an error at v
 * naming what and listing the names there are.
 */
int sp_check_node(struct sp *sp, const struct ynode *v, const char *what, const char *node,
		  const char *iface);
/* sp_node() of a node of the topology. */
int sp_topo_node(struct sp *sp, const struct ynode *v, const char *what, char **ret);

/* Expectations (suite-expect.c) */
void sp_expect_init(struct fw_expect *e, struct fw_loc loc);
int sp_decode_expect(struct sp *sp, const struct ynode *n, struct fw_expect *e,
		     const struct ynode **ret_connect);

/* Packets and flows (suite-packet.c) */
int sp_decode_packet(struct sp *sp, const struct ynode *n, struct fw_packet *p);
/* NSE's formats: every packet of t is checked for a verdict, ACCEPT unless said otherwise. */
void sp_nse_default_verdicts(struct fw_test *t);
/* NSE's DROP (passes for a reject) in e, if it expects drop. */
void sp_nse_drop(struct fw_expect *e);
int sp_decode_flow(struct sp *sp, const struct ynode *n, struct fw_flow *f);

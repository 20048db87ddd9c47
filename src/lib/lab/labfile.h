/* SPDX-License-Identifier: MIT */
/* lab/labfile: the YAML lab file (libfyaml) into a validated lab_spec. */
#pragma once

#include <stddef.h>

#include "core/yaml.h"
#include "lab/spec.h"

/*
 * labfile_parse() - Read, parse and validate a lab file
 * Unknown keys, wrong types, bad values, unknown routers, cycles, duplicates:
 * -EINVAL with "FILE:LINE:COL: message". Unreadable file: -errno naming the path.
 * Return: 0 and *ret (free with lab_spec_free()), or -errno.
 */
int labfile_parse(const char *path, struct lab_spec **ret, nslab_error *err);
/* Same, from memory; filename is used for messages and for the default lab name (its stem). */
/*
 * labfile_decode_nodes() - Decode a document of `routers:` and `devices:` into spec
 * (a node added at run time), with the lab file's keys and messages ("WHAT:LINE:COL: ...").
 * Nothing is validated against the rest of the lab: lab_spec_validate() does.
 * Return: 0, or -errno; entries decoded before the error stay in spec
 */
int labfile_decode_nodes(struct lab_spec *spec, const char *text, size_t len, const char *what,
			 nslab_error *err);
int labfile_parse_string(const char *text, size_t len, const char *filename, struct lab_spec **ret,
			 nslab_error *err);
/* Same, from a mapping read already (a lab inline in a sim file); messages at its places. */
int labfile_parse_tree(const struct ynode *tree, const char *filename, struct lab_spec **ret,
		       nslab_error *err);

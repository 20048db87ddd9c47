/* SPDX-License-Identifier: MIT */
/* lab/nat-file: decoding a router's `nat:` value (see nat-file.c). */
#pragma once

#include "core/yaml.h"
#include "lab/nat.h"

/**
 * nat_decode() - A preset name or a custom mapping into *ret
 * @y:   file name and error sink
 * @v:   the value of `nat:`
 * @ret: on success, the configuration (written only then)
 * Return: 0, or -EINVAL with "FILE:LINE:COL: message"
 */
int nat_decode(const struct yctx *y, const struct ynode *v, struct nat_config *ret);

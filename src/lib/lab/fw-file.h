/* SPDX-License-Identifier: MIT */
/* lab/fw-file: decoding a router's `firewall:` value (see fw-file.c). */
#pragma once

#include "core/yaml.h"
#include "lab/fw.h"

/**
 * fw_decode() - A preset name or a custom mapping into *ret
 * @y:   file name and error sink
 * @v:   the value of `firewall:`
 * @ret: on success, the configuration (written only then)
 * Return: 0, or -EINVAL with "FILE:LINE:COL: message"
 */
int fw_decode(const struct yctx *y, const struct ynode *v, struct fw_config *ret);

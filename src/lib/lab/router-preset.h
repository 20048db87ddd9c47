/* SPDX-License-Identifier: MIT */
/*
 * lab/router-preset: router presets as data: a name for a NAT, a firewall
 * and an IP mode that go together in the networks patchbay's users test on
 * (home, public, public-v4, isp-cgnat, isp-v6, corporate, hotel, cloud).
 */
#pragma once

#include "lab/spec.h"

/**
 * router_preset_apply() - Set what the preset sets on a router
 * @name: the preset's name
 * @rt:   the router: its nat, fw, ip and preset fields (the pool follows the
 *        NAT, as for `nat:`, unless the lab file gives one)
 * Return: 0, or -ENOENT for an unknown name (rt untouched)
 */
int router_preset_apply(const char *name, struct spec_router *rt);
/* "home, public, ...": every router preset, for messages. */
const char *router_preset_list(void);

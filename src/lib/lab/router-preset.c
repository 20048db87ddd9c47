/* SPDX-License-Identifier: MIT */
/*
 * lab/router-preset: the router presets. The table is patchbay's (its IPv6
 * reference), with nslab's own NAT and firewall presets; `isp-v6` is an
 * IPv6-only carrier with NAT64 (nslab's translator, lab/nat64-run).
 */
#include "lab/router-preset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/macro.h"

struct router_preset_def {
	const char *name, *nat, *fw;
	enum lab_ipmode ip;
	enum nat6_mode nat6;
};

static const struct router_preset_def presets[] = {
	{ "home", "home", "block-inbound", LAB_IP_DUAL },
	{ "public", "none", "none", LAB_IP_DUAL },
	{ "public-v4", "none", "none", LAB_IP_V4 },
	{ "isp-cgnat", "cgnat", "none", LAB_IP_DUAL },
	{ "isp-v6", "none", "block-inbound", LAB_IP_V6, NAT6_NAT64 },
	{ "corporate", "corporate", "corporate", LAB_IP_DUAL },
	{ "hotel", "corporate", "captive-portal", LAB_IP_V4 },
	{ "cloud", "cloud-nat", "none", LAB_IP_DUAL },
};

int router_preset_apply(const char *name, struct spec_router *rt)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++) {
		const struct router_preset_def *p = &presets[i];

		if (strcmp(p->name, name) != 0)
			continue;
		/* both names are in their tables: the unit test holds every preset to it */
		if (nat_preset(p->nat, &rt->nat) < 0 || fw_preset(p->fw, &rt->fw) < 0)
			return -ENOENT;
		rt->ip = p->ip;
		rt->nat6 = p->nat6;
		rt->pool = !rt->nat.enabled  ? LAB_POOL_PUBLIC
			   : rt->nat.carrier ? LAB_POOL_CGNAT
					     : LAB_POOL_PRIVATE;
		snprintf(rt->preset, sizeof(rt->preset), "%s", p->name);
		return 0;
	}
	return -ENOENT;
}

const char *router_preset_list(void)
{
	return "home, public, public-v4, isp-cgnat, isp-v6, corporate, hotel or cloud";
}

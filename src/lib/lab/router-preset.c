/* SPDX-License-Identifier: MIT */
/*
 * lab/router-preset: the router presets. The table is patchbay's (its IPv6
 * reference), with nslab's own NAT and firewall presets; `isp-v6` wants a
 * NAT64 that nslab does not have yet, so its devices reach IPv6 hosts only.
 */
#include "lab/router-preset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/macro.h"

struct router_preset_def {
	const char *name, *nat, *fw;
	enum lab_ipmode ip;
};

static const struct router_preset_def presets[] = {
	{ "home", "home", "block-inbound", LAB_IP_DUAL },
	{ "public", "none", "none", LAB_IP_DUAL },
	{ "public-v4", "none", "none", LAB_IP_V4 },
	{ "isp-cgnat", "cgnat", "none", LAB_IP_DUAL },
	{ "isp-v6", "none", "block-inbound", LAB_IP_V6 },
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

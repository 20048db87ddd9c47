/* SPDX-License-Identifier: MIT */
/* cli/cmd-router: run-time changes of a router in a running lab (its NAT, IPv6 NAT and
 * firewall). */
#include "cli.h"

#include <string.h>

static int cmd_router(int argc, char **argv);

const struct cli_cmd cli_cmd_router = {
	.name = "router",
	.run = cmd_router,
	.forms = (const char *const[]){ "LAB ROUTER nat MODE", "LAB ROUTER flush-nat",
					"LAB ROUTER firewall MODE", "LAB ROUTER nat6 MODE", NULL },
	.help = "change a router of a running lab: its NAT (none, home, full-cone, "
		"restricted-cone, corporate, cloud-nat, cgnat), its firewall (none, "
		"block-inbound, corporate, captive-portal, or release a captive portal), "
		"its IPv6 NAT (none, masquerade, nptv6), or forget its NAT mappings",
};

static int cmd_router(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_router, argc, argv, NULL, NULL, &a);
	const char *change;

	if (r != CLI_GO_ON)
		return r;
	change = a.n_ops >= 3 ? a.ops[2] : NULL;
	if (a.n_ops == 4 && strcmp(change, "nat") == 0)
		r = nslab_ctl_set_nat(a.ops[0], a.ops[1], a.ops[3], &err);
	else if (a.n_ops == 3 && strcmp(change, "flush-nat") == 0)
		r = nslab_ctl_flush_nat(a.ops[0], a.ops[1], &err);
	else if (a.n_ops == 4 && strcmp(change, "firewall") == 0)
		r = nslab_ctl_set_firewall(a.ops[0], a.ops[1], a.ops[3], &err);
	else if (a.n_ops == 4 && strcmp(change, "nat6") == 0)
		r = nslab_ctl_set_nat6(a.ops[0], a.ops[1], a.ops[3], &err);
	else if (change && strcmp(change, "nat") != 0 && strcmp(change, "flush-nat") != 0 &&
		 strcmp(change, "firewall") != 0 && strcmp(change, "nat6") != 0)
		return cli_usage_error(
			&cli_cmd_router,
			"unknown router change '%s' (expected nat, nat6, flush-nat or firewall)",
			change);
	else
		return cli_usage_error(&cli_cmd_router,
				       "expected LAB ROUTER nat|nat6|firewall MODE, or LAB ROUTER "
				       "flush-nat");
	return r < 0 ? cli_fail(&err, 1) : 0;
}

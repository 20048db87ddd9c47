/* SPDX-License-Identifier: MIT */
/* cli/cmd-router: run-time changes of a router in a running lab (its NAT for now). */
#include "cli.h"

#include <string.h>

static int cmd_router(int argc, char **argv);

const struct cli_cmd cli_cmd_router = {
	.name = "router",
	.run = cmd_router,
	.forms = (const char *const[]){ "LAB ROUTER nat MODE", "LAB ROUTER flush-nat", NULL },
	.help = "change a router of a running lab: its NAT (none, home, full-cone, "
		"restricted-cone, corporate, cloud-nat, cgnat), or forget its NAT mappings",
};

static int cmd_router(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_router, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops == 4 && strcmp(a.ops[2], "nat") == 0)
		r = nslab_ctl_set_nat(a.ops[0], a.ops[1], a.ops[3], &err);
	else if (a.n_ops == 3 && strcmp(a.ops[2], "flush-nat") == 0)
		r = nslab_ctl_flush_nat(a.ops[0], a.ops[1], &err);
	else if (a.n_ops >= 3 && strcmp(a.ops[2], "nat") != 0 && strcmp(a.ops[2], "flush-nat") != 0)
		return cli_usage_error(&cli_cmd_router,
				       "unknown router change '%s' (expected nat or flush-nat)",
				       a.ops[2]);
	else
		return cli_usage_error(&cli_cmd_router,
				       "expected LAB ROUTER nat MODE, or LAB ROUTER flush-nat");
	return r < 0 ? cli_fail(&err, 1) : 0;
}

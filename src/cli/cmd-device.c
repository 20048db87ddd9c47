/* SPDX-License-Identifier: MIT */
/* cli/cmd-device: run-time changes of a device in a running lab (its default interface). */
#include "cli.h"

#include <string.h>

static int cmd_device(int argc, char **argv);

const struct cli_cmd cli_cmd_device = {
	.name = "device",
	.run = cmd_device,
	.forms = (const char *const[]){ "LAB DEVICE default-via IFACE", NULL },
	.help = "change a device of a running lab: the interface its default routes take",
};

static int cmd_device(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_device, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops >= 3 && strcmp(a.ops[2], "default-via") != 0)
		return cli_usage_error(&cli_cmd_device,
				       "unknown device change '%s' (expected default-via)",
				       a.ops[2]);
	if (a.n_ops != 4)
		return cli_usage_error(&cli_cmd_device, "expected LAB DEVICE default-via IFACE");
	r = nslab_ctl_set_default_via(a.ops[0], a.ops[1], a.ops[3], &err);
	return r < 0 ? cli_fail(&err, 1) : 0;
}

/* SPDX-License-Identifier: MIT */
/* cli/cmd-device: run-time changes of a device in a running lab (default interface, replug,
 * new addresses). */
#include "cli.h"

#include <string.h>

static int cmd_device(int argc, char **argv);

const struct cli_cmd cli_cmd_device = {
	.name = "device",
	.run = cmd_device,
	.forms = (const char *const[]){ "LAB DEVICE default-via IFACE",
					"LAB DEVICE replug IFACE ROUTER",
					"LAB DEVICE renew-ip IFACE", NULL },
	.help = "change a device of a running lab: the interface its default routes take, "
		"the router one of its interfaces is plugged into, or its addresses",
};

static int cmd_device(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_device, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops >= 3 && strcmp(a.ops[2], "default-via") != 0 &&
	    strcmp(a.ops[2], "replug") != 0 && strcmp(a.ops[2], "renew-ip") != 0)
		return cli_usage_error(&cli_cmd_device,
				       "unknown device change '%s' (expected default-via, replug "
				       "or renew-ip)",
				       a.ops[2]);
	if (a.n_ops == 4 && strcmp(a.ops[2], "default-via") == 0)
		r = nslab_ctl_set_default_via(a.ops[0], a.ops[1], a.ops[3], &err);
	else if (a.n_ops == 4 && strcmp(a.ops[2], "renew-ip") == 0)
		r = nslab_ctl_renew_ip(a.ops[0], a.ops[1], a.ops[3], &err);
	else if (a.n_ops == 5 && strcmp(a.ops[2], "replug") == 0)
		r = nslab_ctl_replug(a.ops[0], a.ops[1], a.ops[3], a.ops[4], &err);
	else
		return cli_usage_error(&cli_cmd_device, "expected LAB DEVICE default-via IFACE, "
							"LAB DEVICE replug IFACE ROUTER, or "
							"LAB DEVICE renew-ip IFACE");
	return r < 0 ? cli_fail(&err, 1) : 0;
}

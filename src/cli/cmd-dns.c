/* SPDX-License-Identifier: MIT */
/* cli/cmd-dns: a name of a running lab's DNS and /etc/hosts set or removed. */
#include "cli.h"

#include <string.h>

static int cmd_dns(int argc, char **argv);

const struct cli_cmd cli_cmd_dns = {
	.name = "dns",
	.run = cmd_dns,
	.forms = (const char *const[]){ "LAB set NAME TARGET", "LAB remove NAME", NULL },
	.help = "set a name of a running lab's DNS and /etc/hosts to a node or an address, or "
		"remove it",
};

static int cmd_dns(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_dns, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops >= 2 && strcmp(a.ops[1], "set") != 0 && strcmp(a.ops[1], "remove") != 0)
		return cli_usage_error(
			&cli_cmd_dns, "unknown dns change '%s' (expected set or remove)", a.ops[1]);
	if (a.n_ops == 4 && strcmp(a.ops[1], "set") == 0)
		r = nslab_ctl_set_dns(a.ops[0], a.ops[2], a.ops[3], &err);
	else if (a.n_ops == 3 && strcmp(a.ops[1], "remove") == 0)
		r = nslab_ctl_set_dns(a.ops[0], a.ops[2], NULL, &err);
	else
		return cli_usage_error(&cli_cmd_dns,
				       "expected LAB set NAME TARGET, or LAB remove NAME");
	return r < 0 ? cli_fail(&err, 1) : 0;
}

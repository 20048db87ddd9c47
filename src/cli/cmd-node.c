/* SPDX-License-Identifier: MIT */
/* cli/cmd-node: a router or device added to a running lab (`add`), or removed from it (`remove`). */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A relative rules_file is the caller's, from their directory: the supervisor
 * reads it from elsewhere (relative to the lab file, as its own entries).
 */
static int rules_file_absolute(char **kv, int n)
{
	static char path[PATH_MAX];
	char cwd[PATH_MAX];

	for (int i = 0; i + 1 < n; i += 2) {
		if (strcmp(kv[i], "rules_file") != 0 || kv[i + 1][0] == '/')
			continue;
		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(path, sizeof(path), "%s/%s", cwd, kv[i + 1]) >= (int)sizeof(path))
			return cli_input_error(&cli_cmd_add, "rules_file '%s': path too long",
					       kv[i + 1]);
		kv[i + 1] = path; /* one rules_file per node: the lab file decoder refuses two */
	}
	return CLI_GO_ON;
}

static int cmd_add(int argc, char **argv);
static int cmd_remove(int argc, char **argv);

/*
 * Keys and values are taken as they are after the lead operands: a value
 * may start with '-' (a YAML value), so nothing past NAME is an option.
 */
const struct cli_cmd cli_cmd_add = {
	.name = "add",
	.run = cmd_add,
	.forms = (const char *const[]){ "LAB router NAME [KEY VALUE]...",
					"LAB device NAME [KEY VALUE]...", NULL },
	.help = "add a router or a device to a running lab, with the keys of its entry in a lab "
		"file (upstream, preset, nat, firewall, ip, pool, mtu...; router, ifaces...)",
	.lead = 3,
	.verbatim = true,
};

enum { OPT_FORCE = 'f' };

const struct cli_cmd cli_cmd_remove = {
	.name = "remove",
	.run = cmd_remove,
	.forms = (const char *const[]){ "[--force] LAB NODE", NULL },
	.help = "remove a router or a device from a running lab; its processes are killed",
	.opts = (const struct cli_opt[]){ { OPT_FORCE, "force", NULL,
					    "a router's devices and downstream routers go too" },
					  { 0 } },
};

static int cmd_add(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_add, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops != 3)
		return cli_usage_error(&cli_cmd_add,
				       "expected LAB router|device NAME, then keys and values");
	if (strcmp(a.ops[1], "router") != 0 && strcmp(a.ops[1], "device") != 0)
		return cli_usage_error(&cli_cmd_add,
				       "unknown node kind '%s' (expected router or "
				       "device)",
				       a.ops[1]);
	if (a.n_rest % 2)
		return cli_usage_error(&cli_cmd_add, "key '%s' has no value", a.rest[a.n_rest - 1]);
	r = rules_file_absolute(a.rest, a.n_rest);
	if (r != CLI_GO_ON)
		return r;
	r = nslab_ctl_add_node(a.ops[0], a.ops[1], a.ops[2], (const char *const *)a.rest, &err);
	return r < 0 ? cli_fail(&err, 1) : 0;
}

static int remove_opt(int key, char *arg, void *data)
{
	(void)arg;
	if (key == OPT_FORCE)
		*(unsigned *)data |= NSLAB_REMOVE_FORCE;
	return CLI_GO_ON;
}

static int cmd_remove(int argc, char **argv)
{
	nslab_error err = { 0 };
	unsigned flags = 0;
	struct cli_args a;
	int r = cli_parse(&cli_cmd_remove, argc, argv, remove_opt, &flags, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops != 2)
		return cli_usage_error(&cli_cmd_remove, "expected LAB NODE");
	r = nslab_ctl_remove_node(a.ops[0], a.ops[1], flags, &err);
	return r < 0 ? cli_fail(&err, 1) : 0;
}

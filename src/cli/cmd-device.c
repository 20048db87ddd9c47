/* SPDX-License-Identifier: MIT */
/* cli/cmd-device: run-time changes of a device in a running lab (default interface, replug,
 * new addresses, interfaces added and removed). */
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
		"the router one of its interfaces is plugged into, its addresses, or its "
		"interfaces",
};

/* The changes: their word, operand count after it, and the call (router NULL when none). */
static const struct device_change {
	const char *word;
	int n_args;
} changes[] = {
	{ "default-via", 1 }, { "replug", 2 },	     { "renew-ip", 1 },
	{ "add-iface", 2 },   { "remove-iface", 1 },
};

static int device_call(const char *word, char **ops, nslab_error *err)
{
	if (strcmp(word, "default-via") == 0)
		return nslab_ctl_set_default_via(ops[0], ops[1], ops[3], err);
	if (strcmp(word, "replug") == 0)
		return nslab_ctl_replug(ops[0], ops[1], ops[3], ops[4], err);
	if (strcmp(word, "renew-ip") == 0)
		return nslab_ctl_renew_ip(ops[0], ops[1], ops[3], err);
	if (strcmp(word, "add-iface") == 0)
		return nslab_ctl_add_iface(ops[0], ops[1], ops[3], ops[4], err);
	return nslab_ctl_remove_iface(ops[0], ops[1], ops[3], err);
}

static int cmd_device(int argc, char **argv)
{
	const struct device_change *c = NULL;
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_device, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	for (size_t i = 0; a.n_ops >= 3 && !c && i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(a.ops[2], changes[i].word) == 0)
			c = &changes[i];
	if (a.n_ops >= 3 && !c)
		return cli_usage_error(&cli_cmd_device,
				       "unknown device change '%s' (expected default-via, replug, "
				       "renew-ip, add-iface or remove-iface)",
				       a.ops[2]);
	if (!c || a.n_ops != 3 + c->n_args)
		return cli_usage_error(
			&cli_cmd_device,
			"expected LAB DEVICE default-via|renew-ip|remove-iface IFACE, "
			"or LAB DEVICE replug|add-iface IFACE ROUTER");
	r = device_call(c->word, a.ops, &err);
	return r < 0 ? cli_fail(&err, 1) : 0;
}

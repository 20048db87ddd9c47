/* SPDX-License-Identifier: MIT */
/* cli: `nslab link`: a running lab's link conditions, and the list of presets. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "nslab/link.h"

static int cmd_link(int argc, char **argv);

enum { OPT_JSON = CLI_LONG + 1, OPT_PRESETS };

const struct cli_cmd cli_cmd_link = {
	.name = "link",
	.run = cmd_link,
	.forms = (const char *const[]){ "LAB NODE IFACE [show] [--json]",
					"LAB NODE IFACE [set] PRESET | PARAM VALUE... [up|down]",
					"LAB NODE IFACE clear", "LAB NODE IFACE set down|up",
					"--presets", NULL },
	.help = "show or change a link's condition (netem's words: delay 50ms jitter 5ms loss 2% "
		"rate 5mbit ...)",
	.opts = (const struct cli_opt[]){ { OPT_JSON, "json", NULL, "the answer as JSON" },
					  { OPT_PRESETS, "presets", NULL,
					    "list the built-in presets with their numbers" },
					  { 0 } },
};

struct link_opts {
	bool json, presets;
};

static int link_opt(int key, char *arg, void *data)
{
	struct link_opts *o = data;

	(void)arg;
	if (key == OPT_JSON)
		o->json = true;
	else if (key == OPT_PRESETS)
		o->presets = true;
	return CLI_GO_ON;
}

static int list_presets(void)
{
	const char *name, *text;
	nslab_link_condition c;
	nslab_error err = { 0 };
	char up[512], down[512];

	for (size_t i = 0; nslab_link_preset_at(i, &name, &text); i++) {
		if (nslab_link_preset(name, &c, &err) < 0)
			return cli_fail(&err, 1);
		nslab_link_dir_format(&c.up, up, sizeof(up));
		nslab_link_dir_format(&c.down, down, sizeof(down));
		if (strcmp(up, down) == 0)
			printf("%-14s %s\n", name, up);
		else
			printf("%-14s up:   %s\n%-14s down: %s\n", name, up, "", down);
	}
	return 0;
}

static int cmd_link(int argc, char **argv)
{
	struct link_opts o = { 0 };
	nslab_error err = { 0 };
	unsigned flags = 0;
	char *text = NULL;
	const char *const *words;
	size_t n;
	struct cli_args a;
	int r = cli_parse(&cli_cmd_link, argc, argv, link_opt, &o, &a);

	if (r != CLI_GO_ON)
		return r;
	if (o.presets)
		return a.n_ops ? cli_usage_error(&cli_cmd_link, "--presets takes no operands")
			       : list_presets();
	if (a.n_ops < 3)
		return cli_usage_error(&cli_cmd_link, "expected LAB NODE IFACE");
	words = (const char *const *)a.ops + 3;
	n = (size_t)a.n_ops - 3;
	if (n && (strcmp(words[0], "set") == 0 || strcmp(words[0], "show") == 0)) {
		if (strcmp(words[0], "show") == 0 && n > 1)
			return cli_usage_error(&cli_cmd_link, "show takes no words");
		if (strcmp(words[0], "set") == 0 && n == 1)
			return cli_usage_error(&cli_cmd_link, "set needs a preset or PARAM VALUE");
		words++;
		n--;
		/* `set down` / `set up` alone: the link itself, not a direction */
		if (n == 1 && (strcmp(words[0], "down") == 0 || strcmp(words[0], "up") == 0)) {
			flags |= words[0][0] == 'd' ? NSLAB_CTL_LINK_DOWN : NSLAB_CTL_LINK_UP;
			n = 0;
		}
	} else if (n == 1 && strcmp(words[0], "clear") == 0) {
		flags |= NSLAB_CTL_LINK_CLEAR;
		n = 0;
	}
	if (o.json)
		flags |= NSLAB_CTL_LINK_JSON;
	if (nslab_ctl_link(a.ops[0], a.ops[1], a.ops[2], words, n, flags, &text, &err) < 0)
		return cli_fail(&err, 1);
	fputs(text, stdout);
	if (o.json)
		fputc('\n', stdout);
	free(text);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* cli: `nslab region`: break, restore, condition or show the link between two regions. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "nslab/control.h"

static int cmd_region(int argc, char **argv);

enum { OPT_JSON = CLI_LONG + 1 };

const struct cli_cmd cli_cmd_region = {
	.name = "region",
	.run = cmd_region,
	.forms = (const char *const[]){ "LAB A B [show] [--json]", "LAB A B break|restore",
					"LAB A B [set] PRESET | PARAM VALUE... [up|down]",
					"LAB A B clear", NULL },
	.help = "break or restore the link between two regions (traffic goes around it through "
		"a third region, or stops), change its condition (up: A to B), or show it",
	.opts = (const struct cli_opt[]){ { OPT_JSON, "json", NULL, "the answer as JSON" }, { 0 } },
};

static int region_opt(int key, char *arg, void *data)
{
	bool *json = data;

	(void)arg;
	if (key == OPT_JSON)
		*json = true;
	return CLI_GO_ON;
}

/* The flags one command word asks for, or 0 when it is a condition's word. */
static unsigned word_flags(const char *w)
{
	if (strcmp(w, "break") == 0)
		return NSLAB_CTL_LINK_DOWN;
	if (strcmp(w, "restore") == 0)
		return NSLAB_CTL_LINK_UP;
	if (strcmp(w, "clear") == 0)
		return NSLAB_CTL_LINK_CLEAR;
	return 0;
}

static int cmd_region(int argc, char **argv)
{
	nslab_error err = { 0 };
	bool json = false;
	unsigned flags = 0;
	char *text = NULL;
	const char *const *words;
	size_t n;
	struct cli_args a;
	int r = cli_parse(&cli_cmd_region, argc, argv, region_opt, &json, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops < 3)
		return cli_usage_error(&cli_cmd_region, "expected LAB A B (two regions)");
	words = (const char *const *)a.ops + 3;
	n = (size_t)a.n_ops - 3;
	if (n == 1 && (flags = word_flags(words[0])) != 0) {
		n = 0;
	} else if (n && strcmp(words[0], "show") == 0) {
		if (n > 1)
			return cli_usage_error(&cli_cmd_region, "show takes no words");
		n = 0;
	} else if (n && strcmp(words[0], "set") == 0) {
		if (n == 1)
			return cli_usage_error(&cli_cmd_region,
					       "set needs a preset or PARAM VALUE");
		words++;
		n--;
	}
	if (json)
		flags |= NSLAB_CTL_LINK_JSON;
	if (nslab_ctl_region(a.ops[0], a.ops[1], a.ops[2], words, n, flags, &text, &err) < 0)
		return cli_fail(&err, 1);
	fputs(text, stdout);
	if (json)
		fputc('\n', stdout);
	free(text);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* cli/nslab: main and the command table (after iproute2's ip/ip.c). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "shared/macro.h"

#ifndef NSLAB_VERSION
#error "NSLAB_VERSION must be defined (src/cli/meson.build passes meson's project version)"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cli_cmd cli_cmd_help = {
	.name = "help",
	.run = cmd_help,
	.forms = (const char *const[]){ "[COMMAND]", NULL },
	.help = "print the commands, or a command's usage and options",
};

static const struct cli_cmd cli_cmd_version = {
	.name = "version",
	.run = cmd_version,
	.forms = (const char *const[]){ "", NULL },
	.help = "print nslab's version (also nslab --version)",
};

static const struct cli_cmd *const commands[] = {
	&cli_cmd_up,	  &cli_cmd_ls,	   &cli_cmd_status, &cli_cmd_exec,   &cli_cmd_shell,
	&cli_cmd_router,  &cli_cmd_device, &cli_cmd_add,    &cli_cmd_remove, &cli_cmd_down,
	&cli_cmd_cleanup, &cli_cmd_test,   &cli_cmd_trace,  &cli_cmd_run,    &cli_cmd_sim,
	&cli_cmd_link,	  &cli_cmd_region, &cli_cmd_dns,    &cli_cmd_serve,  &cli_cmd_help,
	&cli_cmd_version,
};

enum { OPT_VERSION = CLI_LONG };

/* nslab's own options, before the command (-h and -v are everyone's). */
static const struct cli_cmd nslab_cmd = {
	.opts =
		(const struct cli_opt[]){
			{ OPT_VERSION, "version", NULL, "print nslab's version and exit" }, { 0 } },
	.verbatim = true,
	.usage = cli_main_usage,
};

int cli_fail(const nslab_error *err, int status)
{
	fprintf(stderr, "nslab: %s\n", err->code ? err->msg : "unknown error");
	return status;
}

int cli_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

void cli_main_usage(FILE *f)
{
	char label[64];
	int width = 0;

	fprintf(f, "usage: nslab [-v] [-h] [--version] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		int n = snprintf(label, sizeof(label), "%s %s", commands[i]->name,
				 commands[i]->forms[0]);

		width = n > width ? n : width;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		snprintf(label, sizeof(label), "%s %s", commands[i]->name, commands[i]->forms[0]);
		fprintf(f, "  %-*s  %s\n", width, label, commands[i]->help);
	}
	fputc('\n', f);
	cli_print_opts(&nslab_cmd, f);
	fprintf(f,
		"\nsee 'nslab help COMMAND' or 'nslab COMMAND --help' for a command's options\n");
}

static const struct cli_cmd *find_command(const struct cli_cmd *by, const char *name)
{
	const char *names[ARRAY_SIZE(commands)], *close;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
		names[i] = commands[i]->name;
	}
	close = cli_closest(name, names, ARRAY_SIZE(names));
	if (close)
		cli_usage_error(by, "unknown command '%s'; did you mean '%s'?", name, close);
	else
		cli_usage_error(by, "unknown command '%s'", name);
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	struct cli_args a;
	int r = cli_parse(&cli_cmd_help, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops > 1)
		return cli_usage_error(&cli_cmd_help, "expected at most one command");
	if (a.n_ops == 0) {
		cli_main_usage(stdout);
		return 0;
	}
	cmd = find_command(&cli_cmd_help, a.ops[0]);
	if (!cmd)
		return EXIT_USAGE;
	cli_help(cmd, stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse(&cli_cmd_version, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops)
		return cli_usage_error(&cli_cmd_version, "no arguments expected");
	printf("nslab %s\n", NSLAB_VERSION);
	return 0;
}

static int main_opt(int key, char *arg, void *data)
{
	(void)arg;
	(void)data;
	if (key == OPT_VERSION) {
		printf("nslab %s\n", NSLAB_VERSION);
		return 0;
	}
	return CLI_GO_ON;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	struct cli_args a;
	int r;

	r = cli_start();
	if (r != 0)
		return r;
	r = cli_parse(&nslab_cmd, argc, argv, main_opt, NULL, &a);
	if (r != CLI_GO_ON)
		return r;
	if (a.n_rest == 0) {
		cli_main_usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(&nslab_cmd, a.rest[0]);
	if (!cmd)
		return EXIT_USAGE;
	return cmd->run(a.n_rest, a.rest);
}

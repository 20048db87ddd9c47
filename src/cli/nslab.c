/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli/nslab: main and the command table (after iproute2's ip/ip.c). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int cli_verbose;

static const struct cli_cmd commands[] = {
	{ "up", cmd_up, "up FILE [-d] [--name N] [--outdir DIR] [--persist] [-q]",
	  "build a lab from a YAML file and hold it until Ctrl-C or `nslab down`" },
	{ "down", cmd_down, "down LAB", "tear a lab down" },
	{ "ls", cmd_ls, "ls", "list your labs that are up" },
	{ "status", cmd_status, "status LAB [--json]", "nodes, interfaces and addresses of a lab" },
	{ "exec", cmd_exec, "exec LAB NODE -- CMD [ARG...]", "run a command inside a node" },
	{ "shell", cmd_shell, "shell LAB NODE", "an interactive shell inside a node" },
	{ "test", cmd_test,
	  "test SUITE [--format F] [-o FILE] [--coverage] | --check RULES | --compare OLD NEW "
	  "SUITE",
	  "run firewall tests: nftables rulesets against crafted packets and flows" },
	{ "trace", cmd_trace, "trace --rules FILE [--topology T] 'tcp SRC:PORT > DST:PORT S'",
	  "one packet through a ruleset, every trace event shown" },
	{ "cleanup", cmd_cleanup, "cleanup [--all] [LAB]",
	  "remove what `up --persist` left behind (--all: every user's)" },
};

int cli_fail(const nslab_error *err, int status)
{
	fprintf(stderr, "nslab: %s\n", err->code ? err->msg : "unknown error");
	return status;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nslab %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, cmd) == 0)
			fprintf(stderr, "usage: nslab %s\n", commands[i].usage);
	return EXIT_USAGE;
}

int cli_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nslab [-v] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-52s %s\n", commands[i].usage, commands[i].help);
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			cli_verbose++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "nslab: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(commands[k].name, argv[i]) == 0)
			return commands[k].run(argc - i, argv + i);
	fprintf(stderr, "nslab: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli/cmd-ctl: the small client commands: down, ls, status, exec, shell, cleanup. */
#include "cli.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>

int cmd_down(int argc, char **argv)
{
	nslab_error err = { 0 };

	if (argc != 2)
		return cli_usage_error("down", "expected one lab name");
	if (nslab_ctl_down(argv[1], &err) < 0)
		return cli_fail(&err, 1);
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	nslab_error err = { 0 };
	char **names;

	(void)argv;
	if (argc != 1)
		return cli_usage_error("ls", "no arguments expected");
	if (nslab_ctl_list(&names, &err) < 0)
		return cli_fail(&err, 1);
	for (char **n = names; *n; n++)
		printf("%s\n", *n);
	nslab_strv_free(names);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	nslab_error err = { 0 };
	bool json = false;
	const char *lab = NULL;
	char *text;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (argv[i][0] == '-')
			return cli_usage_error("status", "unknown option '%s'", argv[i]);
		else if (!lab)
			lab = argv[i];
		else
			return cli_usage_error("status", "unexpected argument '%s'", argv[i]);
	}
	if (!lab)
		return cli_usage_error("status", "expected a lab name");
	if ((json ? nslab_ctl_status(lab, &text, &err) : nslab_ctl_table(lab, &text, &err)) < 0)
		return cli_fail(&err, 1);
	fputs(text, stdout);
	if (json)
		fputc('\n', stdout);
	free(text);
	return 0;
}

static int run_in_node(const char *lab, const char *node, char **cmd)
{
	nslab_error err = { 0 };
	int status;

	fflush(stdout);
	if (nslab_ctl_exec(lab, node, cmd, &status, &err) < 0)
		return cli_fail(&err, err.code == ENOENT ? 127 : 1);
	return cli_exit_status(status);
}

int cmd_exec(int argc, char **argv)
{
	int cmd = 3;

	if (argc < 4)
		return cli_usage_error("exec", "expected LAB NODE -- CMD");
	if (strcmp(argv[3], "--") == 0)
		cmd = 4;
	if (cmd >= argc)
		return cli_usage_error("exec", "missing the command after '--'");
	return run_in_node(argv[1], argv[2], argv + cmd);
}

int cmd_shell(int argc, char **argv)
{
	char *shell = getenv("SHELL");
	char *cmd[] = { shell && *shell ? shell : "/bin/sh", NULL };

	if (argc != 3)
		return cli_usage_error("shell", "expected LAB NODE");
	return run_in_node(argv[1], argv[2], cmd);
}

int cmd_cleanup(int argc, char **argv)
{
	nslab_error err = { 0 };
	const char *lab = NULL;
	unsigned flags = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			flags |= NSLAB_CLEANUP_ALL_USERS;
		else if (argv[i][0] == '-')
			return cli_usage_error("cleanup", "unknown option '%s'", argv[i]);
		else if (!lab)
			lab = argv[i];
		else
			return cli_usage_error("cleanup", "expected at most one lab name");
	}
	if (nslab_cleanup_flags(lab, flags, &err) < 0)
		return cli_fail(&err, 1);
	return 0;
}

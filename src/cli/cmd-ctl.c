/* SPDX-License-Identifier: MIT */
/* cli/cmd-ctl: the small client commands: down, ls, status, exec, shell, cleanup. */
#include "cli.h"
#include "egress-log.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static int cmd_down(int argc, char **argv);
static int cmd_ls(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_exec(int argc, char **argv);
static int cmd_shell(int argc, char **argv);
static int cmd_cleanup(int argc, char **argv);

const struct cli_cmd cli_cmd_down = {
	.name = "down",
	.run = cmd_down,
	.forms = (const char *const[]){ "LAB", NULL },
	.help = "tear a lab down (returns once it is gone)",
};

enum { OPT_JSON = CLI_LONG, OPT_SANDBOX };

const struct cli_cmd cli_cmd_ls = {
	.name = "ls",
	.run = cmd_ls,
	.forms = (const char *const[]){ "[--json | -q]", NULL },
	.help = "list your labs that are up: name, mode, nodes, age, supervisor pid, outdir",
	.opts = (const struct cli_opt[]){ { OPT_JSON, "json", NULL, "the list as a JSON array" },
					  { 'q', "quiet", NULL, "only the names, one a line" },
					  { 0 } },
};

const struct cli_cmd cli_cmd_status = {
	.name = "status",
	.run = cmd_status,
	.forms = (const char *const[]){ "LAB [--json]", NULL },
	.help = "nodes, interfaces and addresses of a lab",
	.opts = (const struct cli_opt[]){ { OPT_JSON, "json", NULL, "the lab's state as JSON" },
					  { 0 } },
};

const struct cli_cmd cli_cmd_exec = {
	.name = "exec",
	.run = cmd_exec,
	.forms = (const char *const[]){ "[-d | --sandbox PROFILE] LAB NODE -- CMD [ARG...]", NULL },
	.help = "run a command inside a node (its exit status is the command's; it dies with "
		"nslab exec unless detached)",
	.opts = (const struct cli_opt[]){ { 'd', "detach", NULL,
					    "let it run in the background until it ends or the "
					    "lab goes down; print its pid in the lab" },
					  { OPT_SANDBOX, "sandbox", "PROFILE",
					    "in a sandbox in the node's network: nslab run "
					    "--profile PROFILE --in LAB NODE" },
					  { 0 } },
	.lead = 2,
	.verbatim = true,
};

const struct cli_cmd cli_cmd_shell = {
	.name = "shell",
	.run = cmd_shell,
	.forms = (const char *const[]){ "LAB NODE", NULL },
	.help = "an interactive shell ($SHELL or /bin/sh) inside a node",
};

enum { OPT_ALL = CLI_LONG + 1 };

const struct cli_cmd cli_cmd_cleanup = {
	.name = "cleanup",
	.run = cmd_cleanup,
	.forms = (const char *const[]){ "[--all] [LAB]", NULL },
	.help = "remove what `up --persist` left in /run/netns (labs that are up are left alone) "
		"and what a killed `run --allow` could leave",
	.opts =
		(const struct cli_opt[]){
			{ OPT_ALL, "all", NULL, "every user's labs, not only yours" }, { 0 } },
};

static int cmd_down(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_down, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops != 1)
		return cli_usage_error(&cli_cmd_down, "expected one lab name");
	if (nslab_ctl_down(a.ops[0], &err) < 0)
		return cli_fail(&err, 1);
	return 0;
}

enum { LS_TABLE, LS_JSON, LS_NAMES };

static int ls_opt(int key, char *arg, void *data)
{
	(void)arg;
	if (key == OPT_JSON)
		*(unsigned *)data = LS_JSON;
	else if (key == 'q')
		*(unsigned *)data = LS_NAMES;
	return CLI_GO_ON;
}

static int cmd_ls(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	unsigned how = 0;
	char **names, *text;
	int r = cli_parse(&cli_cmd_ls, argc, argv, ls_opt, &how, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops)
		return cli_usage_error(&cli_cmd_ls, "no arguments expected");
	if (how == LS_NAMES) {
		if (nslab_ctl_list(&names, &err) < 0)
			return cli_fail(&err, 1);
		for (char **n = names; *n; n++)
			printf("%s\n", *n);
		nslab_strv_free(names);
		return 0;
	}
	if (nslab_ctl_ls(how == LS_JSON ? NSLAB_LS_JSON : 0, &text, &err) < 0)
		return cli_fail(&err, 1);
	fputs(text, stdout);
	free(text);
	return 0;
}

static int status_opt(int key, char *arg, void *data)
{
	(void)arg;
	if (key == OPT_JSON)
		*(bool *)data = true;
	return CLI_GO_ON;
}

static int cmd_status(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	bool json = false;
	char *text;
	int r = cli_parse(&cli_cmd_status, argc, argv, status_opt, &json, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops != 1)
		return cli_usage_error(&cli_cmd_status, "expected one lab name");
	if ((json ? nslab_ctl_status(a.ops[0], &text, &err)
		  : nslab_ctl_table(a.ops[0], &text, &err)) < 0)
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

struct exec_opts {
	bool detach;
	const char *sandbox; /* --sandbox: a profile */
};

static int exec_opt(int key, char *arg, void *data)
{
	struct exec_opts *o = data;

	if (key == 'd')
		o->detach = true;
	else if (key == OPT_SANDBOX)
		o->sandbox = arg;
	return CLI_GO_ON;
}

static int run_detached(const char *lab, const char *node, char **cmd)
{
	nslab_error err = { 0 };
	int pid;

	fflush(stdout);
	if (nslab_ctl_exec_detached(lab, node, cmd, &pid, &err) < 0)
		return cli_fail(&err, err.code == ENOENT ? 127 : 1);
	printf("%d\n", pid);
	if (isatty(STDERR_FILENO)) /* the pid on stdout is for scripts */
		fprintf(stderr, "nslab: '%s' runs in the background in %s (pid %d in the lab)\n",
			cmd[0], node, pid);
	return 0;
}

/* Options are taken up to NODE; what follows (after an optional "--") is the command's. */
static int cmd_exec(int argc, char **argv)
{
	struct cli_args a;
	struct exec_opts o = { 0 };
	int r = cli_parse(&cli_cmd_exec, argc, argv, exec_opt, &o, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops == 0)
		return cli_usage_error(&cli_cmd_exec,
				       "expected a lab name, a node name and a command");
	if (a.n_ops == 1)
		return cli_usage_error(&cli_cmd_exec, "expected a node name after the lab '%s'%s",
				       a.ops[0], a.dashdash ? ", before '--'" : "");
	if (a.n_rest == 0)
		return cli_usage_error(&cli_cmd_exec, "expected a command to run%s",
				       a.dashdash ? " after '--'" : "");
	if (o.detach && o.sandbox)
		return cli_usage_error(&cli_cmd_exec, "--detach and --sandbox do not go together");
	if (o.sandbox)
		return cli_run_in_lab(o.sandbox, a.ops[0], a.ops[1], a.rest);
	if (o.detach)
		return run_detached(a.ops[0], a.ops[1], a.rest);
	return run_in_node(a.ops[0], a.ops[1], a.rest);
}

static int cmd_shell(int argc, char **argv)
{
	char *shell = getenv("SHELL");
	char *cmd[] = { shell && *shell ? shell : "/bin/sh", NULL };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_shell, argc, argv, NULL, NULL, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops != 2)
		return cli_usage_error(&cli_cmd_shell, "expected LAB NODE");
	return run_in_node(a.ops[0], a.ops[1], cmd);
}

static int cleanup_opt(int key, char *arg, void *data)
{
	(void)arg;
	if (key == OPT_ALL)
		*(unsigned *)data |= NSLAB_CLEANUP_ALL_USERS;
	return CLI_GO_ON;
}

static int cmd_cleanup(int argc, char **argv)
{
	nslab_error err = { 0 };
	struct cli_args a;
	unsigned flags = 0;
	int r = cli_parse(&cli_cmd_cleanup, argc, argv, cleanup_opt, &flags, &a);

	if (r != CLI_GO_ON)
		return r;
	if (a.n_ops > 1)
		return cli_usage_error(&cli_cmd_cleanup, "expected at most one lab name");
	if (nslab_cleanup_flags(a.n_ops ? a.ops[0] : NULL, flags, &err) < 0)
		return cli_fail(&err, 1);
	/* a killed `nslab run --allow` leaves nothing else: its namespaces, pasta and tables die with it */
	if (!a.n_ops) {
		unsigned n = egress_cleanup();

		if (n)
			printf("removed %u resolv.conf file%s of killed nslab run --allow\n", n,
			       n == 1 ? "" : "s");
	}
	return 0;
}

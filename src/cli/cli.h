/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli: the nslab command; one cmd-<name>.c per subcommand, thin over the public API. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "nslab/nslab.h"

#define EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

extern int cli_verbose;

/* Print "nslab: <msg>" once and return the exit status to use. */
int cli_fail(const nslab_error *err, int status);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Turn a waitpid() status into the shell's convention (128 + signal). */
int cli_exit_status(int status);

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_trace(int argc, char **argv);

/* SPDX-License-Identifier: MIT */
/* cli: the nslab command; one cmd-<name>.c per subcommand, thin over the public API. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "nslab/nslab.h"

#define EXIT_USAGE 2

/* cli_parse() and option handlers: go on parsing (any other value is an exit status). */
#define CLI_GO_ON (-1)
/* Keys of long-only options start here (short ones are their letter). */
#define CLI_LONG  256

/**
 * struct cli_opt - one option of a command, for getopt_long() and for --help
 * @key:  the short option letter, or CLI_LONG + n for a long-only option; 0 ends a table
 * @name: the long name, without "--"
 * @arg:  the argument's name in the help ("FILE"), NULL for a flag
 * @help: one line for --help
 */
struct cli_opt {
	int key;
	const char *name;
	const char *arg;
	const char *help;
};

/**
 * struct cli_cmd - a subcommand
 * @name:  what the user types; NULL for nslab itself (its global options)
 * @run:   the command; argv[0] is @name
 * @forms: the synopsis lines after "nslab NAME", NULL-terminated; the first is the command list's
 * @help:  one line for the command list and the top of --help
 * @opts:  its options (besides -h and -v, which every command takes), NULL if none
 * @lead:  with @verbatim: operands taken before the rest of argv, which is passed on untouched
 * @verbatim: stop taking options after @lead operands or "--" (exec: the rest is a command)
 * @usage: nslab itself: prints its --help (a command's is cli_help()'s)
 */
struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *const *forms;
	const char *help;
	const struct cli_opt *opts;
	int lead;
	bool verbatim;
};

/**
 * struct cli_args - what cli_parse() left after the options
 * @ops:    the operands (argv reordered: points into it)
 * @n_ops:  how many
 * @rest:   @verbatim commands: the words after the lead operands (and "--"), NULL-terminated
 * @n_rest: how many
 * @dashdash: a "--" ended the options
 */
struct cli_args {
	char **ops;
	int n_ops;
	char **rest;
	int n_rest;
	bool dashdash;
};

typedef int (*cli_opt_fn)(int key, char *arg, void *data);

extern int cli_verbose;
extern const struct cli_cmd cli_cmd_up, cli_cmd_down, cli_cmd_ls, cli_cmd_status, cli_cmd_exec,
	cli_cmd_shell, cli_cmd_cleanup, cli_cmd_test, cli_cmd_trace, cli_cmd_run, cli_cmd_sim,
	cli_cmd_link, cli_cmd_router, cli_cmd_device, cli_cmd_region, cli_cmd_dns, cli_cmd_serve,
	cli_cmd_add, cli_cmd_remove;

/* Print "nslab: <msg>" once and return the exit status to use. */
int cli_fail(const nslab_error *err, int status);
/* Print "nslab CMD: <msg>", the command's synopsis and where its help is; return EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print "nslab CMD: <msg>" alone (the message says what to do); return EXIT_USAGE. */
int cli_input_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * cli_run_in_lab() - `nslab run --profile PROFILE --in LAB NODE -- argv` (exec --sandbox)
 * Return: the exit status, as nslab run's.
 */
int cli_run_in_lab(const char *profile, const char *lab, const char *node, char **argv);
/* s as a JSON string, quoted and escaped ("" for NULL). */
void cli_json_str(FILE *f, const char *s);
/* Turn a waitpid() status into the shell's convention (128 + signal). */
int cli_exit_status(int status);
/*
 * cli_start() - what main() does first: refuse to run setuid, setgid or with
 * file capabilities; reopen a closed stdin, stdout or stderr on /dev/null;
 * name the process "nslab" (nslab-full's own name is the file's).
 * Return: 0, or the exit status to return now (the refusal printed).
 */
int cli_start(void);

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, cli_opt_fn fn, void *data,
	      struct cli_args *ret);
/* Print a command's synopsis, its line of description and every option (--help). */
void cli_help(const struct cli_cmd *cmd, FILE *f);
/* "options:" and one aligned line per option. */
void cli_print_opts(const struct cli_cmd *cmd, FILE *f);
/* nslab's own usage: global options and every command (nslab.c). */
void cli_main_usage(FILE *f);
/* The candidate closest to @word by edit distance or as its prefix, NULL if none is close. */
const char *cli_closest(const char *word, const char *const *cands, size_t n);

/* SPDX-License-Identifier: MIT */
/*
 * cli/run: what the pieces of `nslab run` share: cmd-run.c (the full
 * binary's command, the filtered run), run-lean.c (the lean binary's),
 * run-options.c (the option table, taking and applying the options),
 * run-plain.c (the run), run-report.c (exit status, --json, --stats).
 */
#pragma once

#include "cli.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "egress-log.h"

/* Exit statuses besides the command's own and 128+N (cmd-run.c's DOC). */
#define EXIT_TIMEOUT	 124
#define EXIT_NOT_STARTED 125
#define EXIT_NOT_EXEC	 126
#define EXIT_NOT_FOUND	 127

/* The options' keys (run-options.c's table, cli_cmd_run). */
enum {
	OPT_NET = CLI_LONG,
	OPT_IN,
	OPT_MEM,
	OPT_CPU,
	OPT_PIDS,
	OPT_FDS,
	OPT_FSIZE,
	OPT_TIMEOUT,
	OPT_ROOTFS,
	OPT_RO,
	OPT_BIND,
	OPT_RO_BIND,
	OPT_TMPFS,
	OPT_CHDIR,
	OPT_SECCOMP,
	OPT_CAP_ADD,
	OPT_UID,
	OPT_GID,
	OPT_AS_ROOT,
	OPT_HOSTNAME,
	OPT_ENV,
	OPT_CLEARENV,
	OPT_PROFILE,
	OPT_DRY_RUN,
	OPT_STATS,
	OPT_JSON,
	OPT_ALLOW,
	OPT_ALLOW_FILE,
	OPT_DENY,
	OPT_DNS_DENY,
	OPT_DNS_UPSTREAM,
	OPT_TTL_GRACE,
	OPT_IPV6,
	OPT_EGRESS,
	OPT_ANALYSE,
	OPT_LOG,
	OPT_INTERACTIVE,
	OPT_ASK_TIMEOUT,
	OPT_PCAP,
	OPT_NO_LOG,
	OPT_HOST_PORT,
};

#define ASK_TIMEOUT_DEFAULT 30

/* One option as given, applied once every option is known (after the profiles). */
struct run_opt {
	int key;
	const char *arg, *arg2; /* arg2: --in's NODE */
};

struct run_opts {
	struct run_opt *v;
	size_t n;
	const char **profiles;
	size_t n_profiles;
	bool dry_run, stats, ro, rootfs, analyse, interactive, no_log;
	bool quiet; /* -q: a filtered run's live lines left out (the --log file is still written) */
	unsigned ask_timeout;
	const char *pcap;
	const char *json;
	nslab_egress *egress;	      /* any egress option given: a filtered run */
	struct egress_log_opt eg[64]; /* the egress options as given, for the log */
	size_t n_eg;
	const char *log;
	bool net_given;
	size_t n_in;
	int argc; /* for --in, whose NODE is the word after LAB */
	char **argv;
};

/* "run", or "exec" for nslab exec --sandbox (cli_run_in_lab()): the messages' prefix. */
extern const char *run_who;

/*
 * The command, cli_cmd_run's run: cmd-run.c's in the full binary, run-lean.c's
 * in the lean one (which hands what it does not serve to the full one).
 */
int run_main(int argc, char **argv);
/*
 * run_main()'s body: the options taken by @take (run_opts_take() for a
 * sandbox's own), then @run with them and the command. Return: the exit status.
 */
int run_command(int argc, char **argv, cli_opt_fn take, int (*run)(struct run_opts *, char **));

/* Free what the options took (o->egress included). */
void run_opts_free(struct run_opts *o);
/* "nslab run: <message>" on stderr. Return: 125 (EXIT_NOT_STARTED) */
int run_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * For each option of cli_cmd_run but a filtered run's (cmd-run.c takes those),
 * as cli_parse()'s callback (data: struct run_opts).
 */
int run_opts_take(int key, char *arg, void *data);
/* The option's long name ("mem"), or "?". */
const char *run_opt_name(int key);
/* A whole decimal number 0..max, no sign, no spaces. */
bool run_parse_uint(const char *s, uint64_t max, uint64_t *ret);
/* The profiles, then the options in order. Return: 0, or an exit status (message printed). */
int run_build_config(const struct run_opts *o, nslab_sandbox_config **ret);
/* A filtered run's resolv.conf, unlinked once the sandbox has its mounts (NULL: none). */
extern const char *run_resolv_path;
/* --dry-run: the effective policy, as JSON on stdout. Return: 0 or an exit status. */
int run_dry(const nslab_sandbox_config *c);
/* Everything is checked: run argv, wait, report (--stats, --json). Return: the exit status. */
int run_and_report(const struct run_opts *o, const nslab_sandbox_config *c, char **argv);
/* A run without egress: the configuration from the options, then a dry or real run of argv. */
int run_plain(struct run_opts *o, char **argv);

/* The exit status of nslab run: the library's, or for a failure to start, from its code. */
int run_exit_code(int r, const struct nslab_sandbox_result *res);
/* The result record (docs/sandbox-json.md), schema 1. */
void run_write_json(FILE *f, char **argv, int r, const struct nslab_sandbox_result *res,
		    const nslab_error *err);
/* --stats: the accounting, for people, on stderr. */
void run_print_stats(int r, const struct nslab_sandbox_result *res);

/* SPDX-License-Identifier: MIT */
/*
 * cli/run-report: what nslab run says about a run: its exit status (as
 * container users expect), the --json record and the --stats accounting.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/units.h"
#include "egress-log.h"

/* --- reporting ---------------------------------------------------------------- */

enum run_status { RUN_EXITED, RUN_SIGNALED, RUN_TIMEOUT, RUN_LIMIT, RUN_ERROR };

static const char *const status_names[] = { "exited", "signaled", "timeout", "limit", "error" };

static enum run_status run_status(int r, const struct nslab_sandbox_result *res)
{
	if (r < 0)
		return RUN_ERROR;
	if (res->ended_by == NSLAB_SANDBOX_LIMIT_TIMEOUT)
		return RUN_TIMEOUT;
	if (res->ended_by != NSLAB_SANDBOX_LIMIT_NONE)
		return RUN_LIMIT;
	return WIFSIGNALED(res->status) ? RUN_SIGNALED : RUN_EXITED;
}

/* The exit status of nslab run: the library's, or for a failure to start, from its code. */
int run_exit_code(int r, const struct nslab_sandbox_result *res)
{
	if (r >= 0)
		return res->exit_code;
	if (res->exit_code >= EXIT_NOT_STARTED && res->exit_code <= EXIT_NOT_FOUND)
		return res->exit_code;
	return r == -ENOENT ? EXIT_NOT_FOUND : r == -EACCES ? EXIT_NOT_EXEC : EXIT_NOT_STARTED;
}

static void json_limits(FILE *f, const struct nslab_sandbox_result *res)
{
	bool first = true;

	fputs("\"limits_reached\":[", f);
	for (int l = 1; l < NSLAB_SANDBOX_LIMIT__COUNT; l++)
		if (res->limits_reached & (1u << l)) {
			fprintf(f, "%s\"%s\"", first ? "" : ",", nslab_sandbox_limit_name(l));
			first = false;
		}
	fputs("],\"mechanism\":{", f);
	for (int l = 1; l < NSLAB_SANDBOX_LIMIT__COUNT; l++)
		fprintf(f, "%s\"%s\":\"%s\"", l > 1 ? "," : "", nslab_sandbox_limit_name(l),
			nslab_sandbox_mechanism_name(res->mechanism[l]));
	fputs("},", f);
}

/* The result record (docs/sandbox-json.md), schema 1. */
void run_write_json(FILE *f, char **argv, int r, const struct nslab_sandbox_result *res,
		    const nslab_error *err)
{
	enum run_status st = run_status(r, res);

	fputs("{\"schema\":1,\"command\":[", f);
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			fputc(',', f);
		cli_json_str(f, argv[i]);
	}
	fprintf(f, "],\"status\":\"%s\",\"exit_code\":%d,", status_names[st],
		run_exit_code(r, res));
	if (r >= 0 && WIFSIGNALED(res->status))
		fprintf(f, "\"signal\":%d,", WTERMSIG(res->status));
	else
		fputs("\"signal\":null,", f);
	fprintf(f, "\"ended_by\":\"%s\",", nslab_sandbox_limit_name(r < 0 ? 0 : res->ended_by));
	json_limits(f, res);
	fprintf(f,
		"\"wall_usec\":%" PRIu64 ",\"user_usec\":%" PRIu64 ",\"sys_usec\":%" PRIu64
		",\"maxrss_kib\":%" PRIu64 ",\"minflt\":%" PRIu64 ",\"majflt\":%" PRIu64
		",\"nvcsw\":%" PRIu64 ",\"nivcsw\":%" PRIu64 ",\"error\":",
		res->wall_usec, res->user_usec, res->sys_usec, res->maxrss_kib, res->minflt,
		res->majflt, res->nvcsw, res->nivcsw);
	if (r < 0)
		cli_json_str(f, err->code ? err->msg : "unknown error");
	else
		fputs("null", f);
	fputs("}\n", f);
}

static double ms(uint64_t usec)
{
	return (double)usec / 1000.0;
}

/* --stats: the accounting, for people, on stderr. */
void run_print_stats(int r, const struct nslab_sandbox_result *res)
{
	enum run_status st = run_status(r, res);
	bool any = false;

	fprintf(stderr, "nslab %s: %s", run_who, status_names[st]);
	if (st == RUN_SIGNALED)
		fprintf(stderr, " by signal %d (%s)", WTERMSIG(res->status),
			sigabbrev_np(WTERMSIG(res->status)) ?: "?");
	else if (st == RUN_LIMIT)
		fprintf(stderr, " (the %s limit)", nslab_sandbox_limit_name(res->ended_by));
	fprintf(stderr, ", exit status %d\n", run_exit_code(r, res));
	if (r < 0)
		return;
	fprintf(stderr, "  time: wall %.1f ms, user %.1f ms, system %.1f ms\n", ms(res->wall_usec),
		ms(res->user_usec), ms(res->sys_usec));
	fprintf(stderr,
		"  memory: max RSS %.1f MiB; page faults %" PRIu64 " minor, %" PRIu64 " major\n",
		(double)res->maxrss_kib / 1024.0, res->minflt, res->majflt);
	fprintf(stderr, "  context switches: %" PRIu64 " voluntary, %" PRIu64 " involuntary\n",
		res->nvcsw, res->nivcsw);
	fputs("  limits:", stderr);
	for (int l = 1; l < NSLAB_SANDBOX_LIMIT__COUNT; l++) {
		if (res->mechanism[l] == NSLAB_SANDBOX_MECH_UNSET)
			continue;
		fprintf(stderr, "%s %s (%s%s)", any ? "," : "", nslab_sandbox_limit_name(l),
			nslab_sandbox_mechanism_name(res->mechanism[l]),
			res->limits_reached & (1u << l) ? ", reached" : "");
		any = true;
	}
	fputs(any ? "\n" : " none\n", stderr);
}

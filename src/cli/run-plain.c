/* SPDX-License-Identifier: MIT */
/*
 * cli/run-plain: the run itself, once every option is checked: the sandbox
 * started, the terminal's signals passed on to it, its end waited for and
 * reported (run-report.c); or, for --dry-run, the policy printed. Shared by
 * the full binary (cmd-run.c) and the lean one (run-lean.c).
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"

/*
 * The command has a session of its own: the terminal's ^C reaches us, not it.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on by a handler (not a
 * blocked mask: the mask would be inherited by the command).
 */
static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
/* The sandbox the handler passes signals to; NULL before it started and from its free on. */
static nslab_sandbox *volatile fwd_to;
/* A signal that came before the sandbox started: passed on once it has. */
static volatile sig_atomic_t fwd_pending;

/* nslab_sandbox_kill() is one pidfd_send_signal(), its error (err NULL) never formatted. */
static void on_signal(int sig)
{
	nslab_sandbox *s = fwd_to;
	int saved = errno;

	/* ESRCH once it has ended: nothing to pass on then */
	if (s && nslab_sandbox_kill(s, sig, NULL) < 0)
		sig = 0;
	else if (!s)
		fwd_pending = sig;
	errno = saved;
}

static void forward_signals(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_signal : SIG_DFL };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &sa, NULL);
}

static void block_forwarded(bool on)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&set, fwd_signals[i]);
	(void)sigprocmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/*
 * Signals go on from the handler itself, so that the wait is one blocking
 * call: the caller wakes once, when the sandbox has ended (a poll on the
 * command's pidfd woke it at the command's end, then again for init's).
 */
static int wait_forwarding(nslab_sandbox *s, struct nslab_sandbox_result *res, nslab_error *err)
{
	int sig;

	fwd_to = s;
	sig = fwd_pending;
	fwd_pending = 0;
	/* ESRCH once it has ended: nothing to pass on then */
	if (sig && nslab_sandbox_kill(s, sig, NULL) < 0)
		sig = 0;
	return nslab_sandbox_wait(s, res, err);
}

/* A filtered run's resolv.conf (run.h), removed once the sandbox started. */
const char *run_resolv_path;

static int run_sandboxed(const nslab_sandbox_config *c, char **argv,
			 struct nslab_sandbox_result *res, nslab_error *err)
{
	nslab_sandbox *s = NULL;
	int r;

	forward_signals(true);
	/* set_shared_init(): no handler on this thread while spawn runs; a signal waits for its end */
	block_forwarded(true);
	r = nslab_sandbox_spawn_ex(c, argv, &s, &res->exit_code, err);
	block_forwarded(false);
	/* the sandbox has its mounts: the resolv.conf bound in it is no longer needed outside */
	if (run_resolv_path)
		(void)unlink(run_resolv_path);
	if (r >= 0)
		r = wait_forwarding(s, res, err);
	fwd_to = NULL;
	forward_signals(false);
	nslab_sandbox_free(s);
	return r;
}

/* --- the command -------------------------------------------------------------- */

static int open_json(const char *path, FILE **ret)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return run_error("--json '%s': %s", path, strerrordesc_np(errno));
	*ret = fdopen(fd, "w");
	if (!*ret) {
		(void)close(fd);
		return run_error("--json '%s': %s", path, strerrordesc_np(errno));
	}
	return 0;
}

int run_dry(const nslab_sandbox_config *c)
{
	char *text = nslab_sandbox_config_describe(c);

	if (!text)
		return run_error("describe the policy: out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

int run_and_report(const struct run_opts *o, const nslab_sandbox_config *c, char **argv)
{
	struct nslab_sandbox_result res = { 0 };
	nslab_error err = { 0 };
	FILE *json = NULL;
	int r;

	if (o->json && open_json(o->json, &json) != 0)
		return EXIT_NOT_STARTED;
	fflush(stdout);
	r = run_sandboxed(c, argv, &res, &err);
	if (r < 0)
		(void)run_error("%s", err.code ? err.msg : "unknown error");
	if (o->stats)
		run_print_stats(r, &res);
	if (json) {
		run_write_json(json, argv, r, &res, &err);
		if (fclose(json) != 0)
			(void)run_error("--json '%s': %s", o->json, strerrordesc_np(errno));
	}
	return run_exit_code(r, &res);
}

int run_plain(struct run_opts *o, char **argv)
{
	nslab_sandbox_config *c = NULL;
	int r = run_build_config(o, &c);

	if (r != 0)
		return r;
	r = o->dry_run ? run_dry(c) : run_and_report(o, c, argv);
	nslab_sandbox_config_free(c);
	return r;
}

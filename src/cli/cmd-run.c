/* SPDX-License-Identifier: MIT */
/*
 * cli/cmd-run: a command in the process sandbox (nslab/sandbox.h).
 *   nslab run [OPTIONS] [--] CMD [ARG...]
 *   nslab exec --sandbox PROFILE LAB NODE -- CMD  (cli_run_in_lab())
 *
 * Options are taken first and checked all before anything starts: profiles
 * (--profile, in order) are applied first, then every other option in the
 * order given, so that the command line overrides or adds to a profile.
 * Exit: the command's status; 128+N for signal N; 124 timeout; 125 nslab
 * failed before the command started (a bad option value included); 126 not
 * executable; 127 not found; 2 a usage error (as every nslab command).
 *
 * Here: the option table, the signals passed on, the runs (plain, filtered
 * egress, dry). run-options.c takes and applies the options, run-report.c
 * turns a result into the exit status, --json and --stats (run.h).
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/units.h"
#include "egress-ask.h"
#include "egress-log.h"

static int cmd_run(int argc, char **argv);

const struct cli_cmd cli_cmd_run = {
	.name = "run",
	.run = cmd_run,
	.forms = (const char *const[]){ "[OPTIONS] [--] CMD [ARG...]", NULL },
	.help = "run a command in a sandbox: its own namespaces, no network, a read-only root, "
		"limits, seccomp, no capabilities",
	.opts =
		(const struct cli_opt[]){
			{ OPT_NET, "net", "MODE",
			  "none (default: loopback only) or host (the caller's network)" },
			{ OPT_IN, "in", "LAB NODE",
			  "in the network of a node of a lab that is up" },
			{ OPT_MEM, "mem", "SIZE", "memory limit (K, M, G, T: 1024 multiples)" },
			{ OPT_CPU, "cpu", "SECONDS", "CPU time of the whole tree, whole seconds" },
			{ OPT_PIDS, "pids", "N", "processes at once" },
			{ OPT_FDS, "fds", "N", "open files per process" },
			{ OPT_FSIZE, "fsize", "SIZE", "largest file a process may write" },
			{ OPT_TIMEOUT, "timeout", "SECONDS",
			  "wall-clock limit (1.5, 500ms, 2m): then the tree is killed, exit 124" },
			{ OPT_ROOTFS, "rootfs", "DIR",
			  "DIR as the root, writable unless --ro (default: the host's, "
			  "read-only)" },
			{ OPT_RO, "ro", NULL, "the root read-only" },
			{ OPT_BIND, "bind", "SRC[:DST]",
			  "bind SRC at DST (default: the same path)" },
			{ OPT_RO_BIND, "ro-bind", "SRC[:DST]", "the same, read-only" },
			{ OPT_TMPFS, "tmpfs", "DST", "an empty tmpfs at DST" },
			{ OPT_CHDIR, "chdir", "DIR", "the working directory inside" },
			{ OPT_SECCOMP, "seccomp", "PROFILE",
			  "default (what containers refuse), none, or an OCI/Docker FILE.json" },
			{ OPT_CAP_ADD, "cap-add", "CAP",
			  "keep this capability (CAP_NET_RAW, net_raw)" },
			{ OPT_UID, "uid", "N",
			  "the uid inside (default: yours; under sudo, the user's)" },
			{ OPT_GID, "gid", "N", "the gid inside" },
			{ OPT_AS_ROOT, "as-root", NULL, "be uid 0 inside (still no capabilities)" },
			{ OPT_HOSTNAME, "hostname", "NAME",
			  "the host name inside (default: nslab)" },
			{ OPT_ENV, "env", "K=V", "set K (K alone: remove it)" },
			{ OPT_CLEARENV, "clearenv", NULL, "start from an empty environment" },
			{ OPT_PROFILE, "profile", "FILE",
			  "options from a YAML file, applied before the command line's" },
			{ OPT_DRY_RUN, "dry-run", NULL,
			  "print the effective policy as JSON and exit; nothing runs" },
			{ OPT_STATS, "stats", NULL, "print the accounting on stderr afterwards" },
			{ OPT_JSON, "json", "FILE", "write the result record (JSON) to FILE" },
			{ OPT_ALLOW, "allow", "LIST",
			  "filtered egress: allow these names (*.wildcards), addresses, prefixes, "
			  "each with :PORT[/PROTO] (docs/egress.md)" },
			{ OPT_ALLOW_FILE, "allow-file", "FILE",
			  "the same, one or more a line, # comments" },
			{ OPT_DENY, "deny", "MODE",
			  "drop (default) or reject: what a packet not allowed gets" },
			{ OPT_DNS_DENY, "dns-deny", "ANSWER",
			  "refused (default) or nxdomain: the answer to a name not allowed" },
			{ OPT_DNS_UPSTREAM, "dns-upstream", "IP",
			  "where allowed queries go (default: /etc/resolv.conf's)" },
			{ OPT_TTL_GRACE, "ttl-grace", "SECONDS",
			  "an answer's addresses stay allowed TTL + this (default 60)" },
			{ OPT_ANALYSE, "analyse", NULL,
			  "filtered egress that allows everything and reports every DNS "
			  "query on stderr" },
			{ OPT_LOG, "log", "FILE",
			  "a filtered run's JSON log: session, every DNS query, summary "
			  "(docs/egress.md)" },
			{ OPT_INTERACTIVE, "interactive", NULL,
			  "filtered egress that asks on the terminal about each destination no "
			  "--allow entry allows" },
			{ OPT_ASK_TIMEOUT, "ask-timeout", "SECONDS",
			  "--interactive: no answer within this is a deny (default 30)" },
			{ OPT_PCAP, "pcap", "FILE",
			  "a filtered run's packets as pcapng, the blocked ones with a comment" },
			{ OPT_NO_LOG, "no-log", NULL,
			  "no JSON log (cancels an earlier --log) and no live lines on stderr" },
			{ 'q', "quiet", NULL,
			  "a filtered run: no live lines on stderr (--log is still written, "
			  "--interactive still asks)" },
			{ OPT_HOST_PORT, "host-port", "PORTS",
			  "expose these ports of the host's loopback (TCP, UDP) at 169.254.53.1 "
			  "inside: a bypass of the policy" },
			{ OPT_IPV6, "ipv6", NULL, "IPv6 in the jail (default: no IPv6 at all)" },
			{ OPT_EGRESS, "egress", "UPLINK",
			  "pasta, veth or proxy: the gateway's way out (default: pasta where "
			  "/dev/net/tun opens, else proxy)" },
			{ 0 } },
	.verbatim = true,
};

/* --- running ----------------------------------------------------------------- */

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

/* A filtered run's resolv.conf, removed once the sandbox started. */
static const char *resolv_path;

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
	if (resolv_path)
		(void)unlink(resolv_path);
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

static int dry_run(const nslab_sandbox_config *c)
{
	char *text = nslab_sandbox_config_describe(c);

	if (!text)
		return run_error("describe the policy: out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

/*
 * --dry-run of a filtered run: the sandbox, then the egress policy it would
 * enforce (nslab_egress_describe()); no namespace, no pasta, no file.
 */
static int dry_run_filtered(struct run_opts *o, const nslab_sandbox_config *c)
{
	nslab_error err = { 0 };
	char *text = NULL;
	int r = dry_run(c);

	if (r != 0)
		return r;
	/* the mode is the policy's: --interactive sets an ask function (never called here) */
	if (o->interactive)
		nslab_egress_set_ask_func(o->egress, egress_ask, NULL);
	if (nslab_egress_describe(o->egress, &text, &err) < 0)
		return run_error("egress: %s", err.msg);
	printf("%s", text);
	free(text);
	return 0;
}

/* Everything is checked; run argv and report. */
static int run_and_report(const struct run_opts *o, const nslab_sandbox_config *c, char **argv)
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

/*
 * The jail's resolv.conf: the gateway's DNS gate. A file of ours bound over
 * /etc/resolv.conf; removed once the sandbox has its mounts (after spawn).
 */
static int egress_resolv(nslab_sandbox_config *c, char *path, size_t len)
{
	nslab_error err = { 0 };
	const char *dir = getenv("XDG_RUNTIME_DIR");
	int fd;

	/* the PID in the name: `nslab cleanup` knows one whose run was killed (egress_cleanup()) */
	snprintf(path, len, "%s/" EGRESS_RESOLV_PREFIX "%d-XXXXXX", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return run_error("%s: %s", path, strerrordesc_np(errno));
	if (dprintf(fd, "nameserver %s\noptions edns0\n", "169.254.53.1") < 0 ||
	    fchmod(fd, 0644) < 0) {
		(void)close(fd);
		(void)unlink(path);
		return run_error("%s: %s", path, strerrordesc_np(errno));
	}
	(void)close(fd);
	if (nslab_sandbox_config_add_bind(c, path, "/etc/resolv.conf", NSLAB_SANDBOX_BIND_RO,
					  &err) < 0) {
		(void)unlink(path);
		return run_error("%s", err.msg);
	}
	return 0;
}

/*
 * --pcap FILE: opened here (so that under sudo it belongs to the user) and
 * handed to the session, which writes it. Return: 0 or an exit status.
 */
static int open_pcap(const struct run_opts *o)
{
	nslab_error err = { 0 };
	int fd, r;

	if (!o->pcap)
		return 0;
	fd = open(o->pcap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return run_error("--pcap '%s': %s", o->pcap, strerrordesc_np(errno));
	egress_log_own(fd);
	r = nslab_egress_set_capture(o->egress, fd, &err);
	(void)close(fd);
	if (r < 0) {
		(void)unlink(o->pcap);
		return run_error("--pcap '%s': %s", o->pcap, err.msg);
	}
	return 0;
}

/* What a filtered run needs before its gateway: the terminal, the capture file, the log. */
static int filtered_prepare(struct run_opts *o, struct egress_ask *ask, struct egress_log *log,
			    char **argv)
{
	char *policy = NULL;
	nslab_error err = { 0 };
	int r;

	if (o->interactive) {
		r = egress_ask_open(ask, o->ask_timeout ? o->ask_timeout : ASK_TIMEOUT_DEFAULT);
		if (r < 0)
			return run_error("--interactive asks on the terminal, and there is none: "
					 "/dev/tty: %s",
					 strerrordesc_np(-r));
		nslab_egress_set_ask_func(o->egress, egress_ask, ask);
	}
	r = open_pcap(o);
	if (r != 0)
		return r;
	r = egress_log_open(log, o->log);
	if (r < 0) {
		if (o->pcap)
			(void)unlink(o->pcap);
		return run_error("--log '%s': %s", o->log, strerrordesc_np(-r));
	}
	/* -v, --analyse and --interactive: one line per DNS query (and decision) on stderr */
	log->lines = !o->no_log && !o->quiet && (cli_verbose || o->analyse || o->interactive);
	ask->log = log;
	nslab_egress_set_event_func(o->egress, egress_log_event, log);
	/* connections as they start and end: only when someone reads them */
	if (log->f || log->lines)
		nslab_egress_set_connection_func(o->egress, egress_log_flow, log);
	/* the policy as parsed; none when it cannot be (no upstream: the start fails and says so) */
	if (log->f && nslab_egress_policy_json(o->egress, &policy, &err) < 0)
		policy = NULL;
	egress_log_session(log, argv,
			   o->interactive ? "interactive"
			   : o->analyse	  ? "analyse"
					  : "allow",
			   o->eg, o->n_eg, policy);
	free(policy);
	return 0;
}

/* After the command: the connections into the log, the session stopped, the log closed. */
static int filtered_finish(const struct run_opts *o, nslab_egress_session *s,
			   struct egress_log *log, int r)
{
	nslab_error err = { 0 };
	uint64_t lost;

	if ((log->f || log->lines) &&
	    nslab_egress_session_connections(s, egress_log_connection, log, &err) < 0)
		(void)run_error("egress: connections: %s", err.msg);
	lost = o->pcap ? nslab_egress_session_capture_lost(s) : 0;
	nslab_egress_session_free(s); /* the gate's thread is joined: the log is ours alone */
	if (lost)
		(void)run_error("--pcap '%s': the kernel dropped %" PRIu64
				" batches of packets before they were written",
				o->pcap, lost);
	if (egress_log_close(log, r) < 0)
		(void)run_error("--log '%s': %s", o->log, strerrordesc_np(errno));
	return r;
}

static bool has_opt(const struct run_opts *o, int key, const char *arg)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].key == key && (!arg || strcmp(o->v[i].arg, arg) == 0))
			return true;
	return false;
}

/*
 * Without root, the gateway's namespaces belong to a user namespace of
 * nslab's, entered now (before any thread; docs/egress.md "Rootless"). The
 * command keeps the caller's ids: they are mapped to that namespace's root,
 * which is the caller outside. Return: 0 or an exit status.
 */
static int filtered_userns(const struct run_opts *o, nslab_sandbox_config *c)
{
	nslab_error err = { 0 };
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (geteuid() == 0 || has_opt(o, OPT_EGRESS, "veth"))
		return 0;
	if (nslab_bootstrap(&err) < 0)
		return run_error("egress without root: %s", err.msg);
	if ((!has_opt(o, OPT_UID, NULL) && nslab_sandbox_config_set_uid(c, uid, &err) < 0) ||
	    (!has_opt(o, OPT_GID, NULL) && nslab_sandbox_config_set_gid(c, gid, &err) < 0))
		return run_error("%s", err.msg);
	return 0;
}

/* A filtered run: the gateway first, the jail's namespace given to the sandbox. */
static int run_filtered(struct run_opts *o, nslab_sandbox_config *c, char **argv)
{
	struct egress_ask ask = { .tty = -1 };
	nslab_egress_session *s = NULL;
	nslab_error err = { 0 };
	struct egress_log log;
	char resolv[PATH_MAX];
	int r;

	if (o->net_given || o->n_in)
		return run_error("--allow and the other egress options make a network of their "
				 "own: not with --net or --in");
	if (o->ask_timeout && !o->interactive)
		return run_error("--ask-timeout: only with --interactive");
	if (o->analyse && o->interactive)
		return run_error("--analyse allows everything, --interactive asks: not both");
	if (o->dry_run)
		return dry_run_filtered(o, c);
	r = filtered_userns(o, c);
	if (r != 0)
		return r;
	r = filtered_prepare(o, &ask, &log, argv);
	if (r != 0) {
		egress_ask_close(&ask);
		return r;
	}
	r = egress_resolv(c, resolv, sizeof(resolv));
	if (r != 0) {
		if (o->pcap)
			(void)unlink(o->pcap);
		(void)egress_log_close(&log, r);
		egress_ask_close(&ask);
		return r;
	}
	resolv_path = resolv;
	if (nslab_egress_start(o->egress, &s, &err) < 0 ||
	    nslab_sandbox_config_set_netns(c, -1, nslab_egress_session_netns_fd(s), &err) < 0) {
		(void)unlink(resolv);
		nslab_egress_session_free(s);
		if (o->pcap)
			(void)unlink(o->pcap);
		(void)egress_log_close(&log, EXIT_NOT_STARTED);
		egress_ask_close(&ask);
		return run_error("egress: %s", err.msg);
	}
	r = run_and_report(o, c, argv);
	resolv_path = NULL;
	(void)unlink(resolv);
	r = filtered_finish(o, s, &log, r);
	egress_ask_close(&ask);
	return r;
}

static int run_with(struct run_opts *o, char **argv)
{
	nslab_sandbox_config *c = NULL;
	int r = run_build_config(o, &c);

	if (r != 0)
		return r;
	if (o->log && !o->egress)
		r = run_error("--log '%s': only for a filtered run (--allow, --allow-file, "
			      "--analyse, --interactive)",
			      o->log);
	else if (o->pcap && !o->egress)
		r = run_error("--pcap '%s': only for a filtered run (--allow, --allow-file, "
			      "--analyse, --interactive)",
			      o->pcap);
	else if (o->ask_timeout && !o->egress)
		r = run_error("--ask-timeout: only with --interactive");
	else if (o->egress)
		r = run_filtered(o, c, argv);
	else
		r = o->dry_run ? dry_run(c) : run_and_report(o, c, argv);
	nslab_sandbox_config_free(c);
	return r;
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .argc = argc, .argv = argv };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_run, argc, argv, run_opts_take, &o, &a);

	if (r == CLI_GO_ON && a.n_rest == 0 && !o.dry_run)
		r = cli_usage_error(&cli_cmd_run, "expected a command to run%s",
				    a.dashdash ? " after '--'" : "");
	if (r == CLI_GO_ON)
		r = run_with(&o, a.rest);
	run_opts_free(&o);
	return r;
}

int cli_run_in_lab(const char *profile, const char *lab, const char *node, char **argv)
{
	struct run_opt in = { OPT_IN, lab, node };
	struct run_opts o = { .v = &in, .n = 1, .profiles = &profile, .n_profiles = 1 };

	run_who = "exec";
	return run_with(&o, argv);
}

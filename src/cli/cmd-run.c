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
 * Here: the full binary's command: the options of a filtered run (egress),
 * the filtered run, nslab exec --sandbox. run-options.c holds the option
 * table and takes and applies the others, run-plain.c runs (or --dry-run
 * prints) a sandbox, run-report.c turns a result into the exit status,
 * --json and --stats (run.h). run-lean.c is the same command in the lean
 * binary, which hands this file's cases to the full one.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/units.h"
#include "egress-ask.h"
#include "egress-log.h"

/* --- egress options (nslab/egress.h): checked as they come ------------------ */

static int egress_value(nslab_egress *e, int key, const char *arg, nslab_error *err)
{
	uint64_t v;

	switch (key) {
	case OPT_ALLOW:
		return nslab_egress_allow(e, arg, err);
	case OPT_ALLOW_FILE:
		return nslab_egress_allow_file(e, arg, err);
	case OPT_DENY:
		if (strcmp(arg, "drop") && strcmp(arg, "reject"))
			return nslab_err_setx(err, EINVAL, "'%s': must be drop or reject", arg);
		nslab_egress_set_deny(e, arg[0] == 'r' ? NSLAB_EGRESS_DENY_REJECT
						       : NSLAB_EGRESS_DENY_DROP);
		return 0;
	case OPT_DNS_DENY:
		if (strcmp(arg, "refused") && strcmp(arg, "nxdomain"))
			return nslab_err_setx(err, EINVAL, "'%s': must be refused or nxdomain",
					      arg);
		nslab_egress_set_dns_deny(e, arg[0] == 'n' ? NSLAB_EGRESS_DNS_NXDOMAIN
							   : NSLAB_EGRESS_DNS_REFUSED);
		return 0;
	case OPT_DNS_UPSTREAM:
		return nslab_egress_set_dns_upstream(e, arg, err);
	case OPT_TTL_GRACE:
		if (!run_parse_uint(arg, 86400 * 7, &v))
			return nslab_err_setx(err, EINVAL,
					      "'%s' is not a whole number of seconds "
					      "0..604800",
					      arg);
		nslab_egress_set_ttl_grace(e, (unsigned)v);
		return 0;
	case OPT_IPV6:
		nslab_egress_set_ipv6(e, true);
		return 0;
	case OPT_ANALYSE:
		nslab_egress_set_analyse(e, true);
		return 0;
	case OPT_INTERACTIVE:
		return 0; /* the terminal is opened when the run starts */
	case OPT_HOST_PORT:
		return nslab_egress_set_host_ports(e, arg, err);
	default:
		if (strcmp(arg, "pasta") && strcmp(arg, "veth") && strcmp(arg, "proxy"))
			return nslab_err_setx(err, EINVAL, "'%s': must be pasta, veth or proxy",
					      arg);
		return nslab_egress_set_uplink(e,
					       arg[0] == 'v'   ? NSLAB_EGRESS_UPLINK_VETH
					       : arg[1] == 'r' ? NSLAB_EGRESS_UPLINK_PROXY
							       : NSLAB_EGRESS_UPLINK_PASTA,
					       err);
	}
}

/* An option of a filtered run that does not make one by itself: kept for the log. */
static int note_egress_opt(struct run_opts *o, int key, const char *arg)
{
	if (o->n_eg < ARRAY_SIZE(o->eg))
		o->eg[o->n_eg++] = (struct egress_log_opt){ run_opt_name(key), arg };
	return CLI_GO_ON;
}

static int egress_opt(struct run_opts *o, int key, const char *arg)
{
	nslab_error err = { 0 };

	(void)note_egress_opt(o, key, arg);

	if (!o->egress && nslab_egress_new(&o->egress, &err) < 0)
		return run_error("%s", err.msg);
	if (egress_value(o->egress, key, arg, &err) < 0)
		return run_error("--%s: %s", run_opt_name(key), err.msg);
	return CLI_GO_ON;
}

/* cli_parse()'s callback: the options of a filtered run here, the others in run-options.c. */
static int take_opt(int key, char *arg, void *data)
{
	struct run_opts *o = data;
	uint64_t n;

	switch (key) {
	case OPT_ALLOW:
	case OPT_ALLOW_FILE:
	case OPT_DENY:
	case OPT_DNS_DENY:
	case OPT_DNS_UPSTREAM:
	case OPT_TTL_GRACE:
	case OPT_IPV6:
	case OPT_EGRESS:
	case OPT_HOST_PORT:
		return egress_opt(o, key, arg);
	case OPT_ANALYSE:
		o->analyse = true;
		return egress_opt(o, key, arg);
	case OPT_LOG:
		o->log = arg;
		o->no_log = false;
		return CLI_GO_ON;
	case OPT_NO_LOG:
		o->log = NULL;
		o->no_log = true;
		return CLI_GO_ON;
	case 'q':
		o->quiet = true;
		return CLI_GO_ON;
	case OPT_PCAP:
		o->pcap = arg;
		return note_egress_opt(o, key, arg);
	case OPT_INTERACTIVE:
		o->interactive = true;
		return egress_opt(o, key, arg);
	case OPT_ASK_TIMEOUT:
		if (!run_parse_uint(arg, 86400, &n) || n == 0)
			return run_error("--ask-timeout: '%s' is not a whole number of seconds "
					 "1..86400",
					 arg);
		o->ask_timeout = (unsigned)n;
		return note_egress_opt(o, key, arg);
	default:
		return run_opts_take(key, arg, data);
	}
}

/*
 * --dry-run of a filtered run: the sandbox, then the egress policy it would
 * enforce (nslab_egress_describe()); no namespace, no pasta, no file.
 */
static int dry_run_filtered(struct run_opts *o, const nslab_sandbox_config *c)
{
	nslab_error err = { 0 };
	char *text = NULL;
	int r = run_dry(c);

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
	run_resolv_path = resolv;
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
	run_resolv_path = NULL;
	(void)unlink(resolv);
	r = filtered_finish(o, s, &log, r);
	egress_ask_close(&ask);
	return r;
}

static int run_with(struct run_opts *o, char **argv)
{
	nslab_sandbox_config *c = NULL;
	int r;

	if (!o->egress && !o->log && !o->pcap && !o->ask_timeout)
		return run_plain(o, argv);
	r = run_build_config(o, &c);
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
	else
		r = run_filtered(o, c, argv);
	nslab_sandbox_config_free(c);
	return r;
}

/* The command (cli_cmd_run's run): this, the full binary's, runs every kind of run. */
int run_main(int argc, char **argv)
{
	return run_command(argc, argv, take_opt, run_with);
}

int cli_run_in_lab(const char *profile, const char *lab, const char *node, char **argv)
{
	struct run_opt in = { OPT_IN, lab, node };
	struct run_opts o = { .v = &in, .n = 1, .profiles = &profile, .n_profiles = 1 };

	run_who = "exec";
	return run_with(&o, argv);
}

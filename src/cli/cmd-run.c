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
 */
#include "cli.h"

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
#include "egress-ask.h"
#include "egress-log.h"

#define EXIT_TIMEOUT	 124
#define EXIT_NOT_STARTED 125
#define EXIT_NOT_EXEC	 126
#define EXIT_NOT_FOUND	 127

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
			{ OPT_HOST_PORT, "host-port", "PORTS",
			  "expose these ports of the host's loopback (TCP, UDP) at 169.254.53.1 "
			  "inside: a bypass of the policy" },
			{ OPT_IPV6, "ipv6", NULL, "IPv6 in the jail (default: no IPv6 at all)" },
			{ OPT_EGRESS, "egress", "UPLINK",
			  "pasta (default) or veth: the gateway's way out" },
			{ 0 } },
	.verbatim = true,
};

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

static void run_opts_free(struct run_opts *o)
{
	nslab_egress_free(o->egress);
	free(o->v);
	free(o->profiles);
}

/* Who speaks in messages: "run", or "exec" for exec --sandbox. */
static const char *run_who = "run";

static int run_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nslab %s: ", run_who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_NOT_STARTED;
}

/* --in LAB NODE: getopt gave LAB; NODE is the next word, taken here. */
static int take_node(struct run_opts *o, const char **ret)
{
	if (optind >= o->argc || strcmp(o->argv[optind], "--") == 0)
		return cli_usage_error(&cli_cmd_run, "option '--in' needs a lab and a node: --in "
						     "LAB NODE");
	*ret = o->argv[optind++];
	return CLI_GO_ON;
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *ret);
static const char *opt_name(int key);

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
		if (!parse_uint(arg, 86400 * 7, &v))
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
		if (strcmp(arg, "pasta") && strcmp(arg, "veth"))
			return nslab_err_setx(err, EINVAL, "'%s': must be pasta or veth", arg);
		return nslab_egress_set_uplink(
			e, arg[0] == 'v' ? NSLAB_EGRESS_UPLINK_VETH : NSLAB_EGRESS_UPLINK_PASTA,
			err);
	}
}

/* An option of a filtered run that does not make one by itself: kept for the log. */
static int note_egress_opt(struct run_opts *o, int key, const char *arg)
{
	if (o->n_eg < ARRAY_SIZE(o->eg))
		o->eg[o->n_eg++] = (struct egress_log_opt){ opt_name(key), arg };
	return CLI_GO_ON;
}

static int egress_opt(struct run_opts *o, int key, const char *arg)
{
	nslab_error err = { 0 };

	(void)note_egress_opt(o, key, arg);

	if (!o->egress && nslab_egress_new(&o->egress, &err) < 0)
		return run_error("%s", err.msg);
	if (egress_value(o->egress, key, arg, &err) < 0)
		return run_error("--%s: %s", opt_name(key), err.msg);
	return CLI_GO_ON;
}

static int run_opt(int key, char *arg, void *data)
{
	struct run_opts *o = data;
	struct run_opt *v;
	const char *node = NULL, **p;
	uint64_t n;
	int r;

	switch (key) {
	case OPT_DRY_RUN:
		o->dry_run = true;
		return CLI_GO_ON;
	case OPT_STATS:
		o->stats = true;
		return CLI_GO_ON;
	case OPT_JSON:
		o->json = arg;
		return CLI_GO_ON;
	case OPT_RO:
		o->ro = true;
		return CLI_GO_ON;
	case OPT_PROFILE:
		p = reallocarray(o->profiles, o->n_profiles + 1, sizeof(*p));
		if (!p)
			return run_error("out of memory");
		o->profiles = p;
		o->profiles[o->n_profiles++] = arg;
		return CLI_GO_ON;
	case OPT_IN:
		r = take_node(o, &node);
		if (r != CLI_GO_ON)
			return r;
		o->n_in++;
		break;
	case OPT_ROOTFS:
		o->rootfs = true;
		break;
	case OPT_NET:
		o->net_given = true;
		break;
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
	case OPT_PCAP:
		o->pcap = arg;
		return note_egress_opt(o, key, arg);
	case OPT_INTERACTIVE:
		o->interactive = true;
		return egress_opt(o, key, arg);
	case OPT_ASK_TIMEOUT:
		if (!parse_uint(arg, 86400, &n) || n == 0)
			return run_error("--ask-timeout: '%s' is not a whole number of seconds "
					 "1..86400",
					 arg);
		o->ask_timeout = (unsigned)n;
		return note_egress_opt(o, key, arg);
	default:
		break;
	}
	v = reallocarray(o->v, o->n + 1, sizeof(*v));
	if (!v)
		return run_error("out of memory");
	o->v = v;
	o->v[o->n++] = (struct run_opt){ key, arg, node };
	return CLI_GO_ON;
}

/* --- option values ------------------------------------------------------- */

static const char *opt_name(int key)
{
	for (const struct cli_opt *o = cli_cmd_run.opts; o->key; o++)
		if (o->key == key)
			return o->name;
	return "?";
}

/* A whole decimal number 0..max, no sign, no spaces. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	const char *p = s;
	uint64_t v;
	int n = units_digits(&p, &v);

	if (n <= 0 || *p || v > max)
		return false;
	*ret = v;
	return true;
}

static int apply_size(nslab_sandbox_config *c, const struct run_opt *o, nslab_error *err)
{
	enum nslab_sandbox_limit l =
		o->key == OPT_MEM ? NSLAB_SANDBOX_LIMIT_MEMORY : NSLAB_SANDBOX_LIMIT_FSIZE;
	uint64_t v;

	if (parse_size(o->arg, &v) < 0)
		return nslab_err_setx(err, EINVAL,
				      "'%s' is not a size (bytes, or a number with K, M, G or T: "
				      "1024 multiples)",
				      o->arg);
	return nslab_sandbox_config_set_limit(c, l, v, err);
}

static int apply_duration(nslab_sandbox_config *c, const struct run_opt *o, nslab_error *err)
{
	uint64_t ms;

	if (parse_duration_ms(o->arg, &ms) < 0)
		return nslab_err_setx(err, EINVAL,
				      "'%s' is not a duration (seconds, decimals allowed, or a "
				      "number with ms, s, m or h)",
				      o->arg);
	if (o->key == OPT_TIMEOUT)
		return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_TIMEOUT, ms, err);
	if (ms % 1000)
		return nslab_err_setx(err, EINVAL, "'%s': CPU time is limited in whole seconds",
				      o->arg);
	return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_CPU, ms / 1000, err);
}

static int apply_number(nslab_sandbox_config *c, const struct run_opt *o, nslab_error *err)
{
	uint64_t max = o->key == OPT_UID || o->key == OPT_GID ? UINT32_MAX - 1 : UINT32_MAX;
	uint64_t v;

	if (!parse_uint(o->arg, max, &v))
		return nslab_err_setx(err, EINVAL, "'%s' is not a whole number 0..%" PRIu64, o->arg,
				      max);
	switch (o->key) {
	case OPT_PIDS:
		return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_PIDS, v, err);
	case OPT_FDS:
		return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_FILES, v, err);
	case OPT_UID:
		return nslab_sandbox_config_set_uid(c, (uid_t)v, err);
	default:
		return nslab_sandbox_config_set_gid(c, (gid_t)v, err);
	}
}

static int apply_net(nslab_sandbox_config *c, const char *s, nslab_error *err)
{
	if (strcmp(s, "none") == 0)
		return nslab_sandbox_config_set_network(c, NSLAB_SANDBOX_NET_NONE, err);
	if (strcmp(s, "host") == 0)
		return nslab_sandbox_config_set_network(c, NSLAB_SANDBOX_NET_HOST, err);
	return nslab_err_setx(
		err, EINVAL, "'%s': must be none or host (a lab node's network: --in LAB NODE)", s);
}

/* SRC[:DST], split at the first ':'. */
static int apply_bind(nslab_sandbox_config *c, const struct run_opt *o, nslab_error *err)
{
	const char *colon = strchr(o->arg, ':');
	_cleanup_free_ char *src =
		strndup(o->arg, colon ? (size_t)(colon - o->arg) : strlen(o->arg));

	if (!src)
		return nslab_err_set(err, ENOMEM, "'%s'", o->arg);
	if (colon && !colon[1])
		return nslab_err_setx(err, EINVAL, "'%s': empty destination after ':'", o->arg);
	return nslab_sandbox_config_add_bind(c, src, colon ? colon + 1 : NULL,
					     o->key == OPT_RO_BIND ? NSLAB_SANDBOX_BIND_RO : 0,
					     err);
}

/* K=V sets K; K alone removes it. */
static int apply_env(nslab_sandbox_config *c, const char *s, nslab_error *err)
{
	const char *eq = strchr(s, '=');
	_cleanup_free_ char *name = strndup(s, eq ? (size_t)(eq - s) : strlen(s));

	if (!name)
		return nslab_err_set(err, ENOMEM, "'%s'", s);
	return nslab_sandbox_config_set_env(c, name, eq ? eq + 1 : NULL, err);
}

static int apply_seccomp(nslab_sandbox_config *c, const char *s, nslab_error *err)
{
	if (strcmp(s, "default") == 0)
		return nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_DEFAULT, NULL,
							err);
	if (strcmp(s, "none") == 0)
		return nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_NONE, NULL, err);
	const char *const *warn;
	size_t n;
	int r;

	r = nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_FILE, s, err);
	if (r < 0)
		return r;
	n = nslab_sandbox_config_warnings(c, &warn);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "nslab: warning: %s\n", warn[i]);
	return 0;
}

static int apply_one(nslab_sandbox_config *c, const struct run_opt *o, nslab_error *err)
{
	switch (o->key) {
	case OPT_NET:
		return apply_net(c, o->arg, err);
	case OPT_IN:
		return nslab_sandbox_config_set_lab_node(c, o->arg, o->arg2, err);
	case OPT_MEM:
	case OPT_FSIZE:
		return apply_size(c, o, err);
	case OPT_CPU:
	case OPT_TIMEOUT:
		return apply_duration(c, o, err);
	case OPT_PIDS:
	case OPT_FDS:
	case OPT_UID:
	case OPT_GID:
		return apply_number(c, o, err);
	case OPT_ROOTFS:
		return nslab_sandbox_config_set_rootfs(c, o->arg, err);
	case OPT_BIND:
	case OPT_RO_BIND:
		return apply_bind(c, o, err);
	case OPT_TMPFS:
		return nslab_sandbox_config_add_tmpfs(c, o->arg, err);
	case OPT_CHDIR:
		return nslab_sandbox_config_set_cwd(c, o->arg, err);
	case OPT_SECCOMP:
		return apply_seccomp(c, o->arg, err);
	case OPT_CAP_ADD:
		/*
		 * With SECBIT_NOROOT locked a kept capability would not survive
		 * the exec of an ordinary program: --cap-add means usable by
		 * the command, so it is raised in the ambient set too.
		 */
		if (nslab_sandbox_config_keep_cap_name(c, o->arg, err) < 0)
			return -EINVAL;
		nslab_sandbox_config_set_ambient(c, true);
		return 0;
	case OPT_AS_ROOT:
		nslab_sandbox_config_set_as_root(c, true);
		return 0;
	case OPT_HOSTNAME:
		return nslab_sandbox_config_set_hostname(c, o->arg, err);
	case OPT_ENV:
		return apply_env(c, o->arg, err);
	case OPT_CLEARENV:
		nslab_sandbox_config_clear_env(c);
		return 0;
	}
	return nslab_err_setx(err, EINVAL, "unhandled option");
}

/* The profiles, then the options in order. Return: 0, or an exit status (message printed). */
static int build_config(const struct run_opts *o, nslab_sandbox_config **ret)
{
	nslab_sandbox_config *c = NULL;
	nslab_error err = { 0 };

	if (nslab_sandbox_config_new(&c, &err) < 0)
		return run_error("%s", err.msg);
	for (size_t i = 0; i < o->n_profiles; i++)
		if (nslab_sandbox_config_load(c, o->profiles[i], &err) < 0) {
			nslab_sandbox_config_free(c);
			return run_error("%s", err.msg);
		}
	for (size_t i = 0; i < o->n; i++)
		if (apply_one(c, &o->v[i], &err) < 0) {
			nslab_sandbox_config_free(c);
			if (o->v[i].key == OPT_IN && strcmp(run_who, "exec") == 0)
				return run_error("%s", err.msg); /* no --in there */
			return run_error("--%s: %s", opt_name(o->v[i].key), err.msg);
		}
	/* a root of one's own is writable unless --ro; the host's root always read-only */
	if (o->rootfs || o->ro)
		nslab_sandbox_config_set_readonly_root(c, o->ro);
	*ret = c;
	return 0;
}

/* --- running ----------------------------------------------------------------- */

/*
 * The command has a session of its own: the terminal's ^C reaches us, not it.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on through a self-pipe (a
 * handler, not a blocked mask: the mask would be inherited by the command).
 */
static int sig_pipe[2] = { -1, -1 };
static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static void forward_signals(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_signal : SIG_DFL };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &sa, NULL);
}

static int wait_forwarding(nslab_sandbox *s, struct nslab_sandbox_result *res, nslab_error *err)
{
	struct pollfd pfd[2] = { { .fd = nslab_sandbox_pidfd(s), .events = POLLIN },
				 { .fd = sig_pipe[0], .events = POLLIN } };
	unsigned char sig;

	while (pfd[0].fd >= 0) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if ((pfd[1].revents & POLLIN) && read(sig_pipe[0], &sig, 1) == 1 &&
		    nslab_sandbox_kill(s, sig, NULL) < 0)
			continue; /* it ended meanwhile: the pidfd says so next */
	}
	return nslab_sandbox_wait(s, res, err);
}

/* A filtered run's resolv.conf, removed once the sandbox started. */
static const char *resolv_path;

static int run_sandboxed(const nslab_sandbox_config *c, char **argv,
			 struct nslab_sandbox_result *res, nslab_error *err)
{
	nslab_sandbox *s = NULL;
	int r;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return nslab_err_set(err, errno, "pipe");
	forward_signals(true);
	r = nslab_sandbox_spawn(c, argv, &s, err);
	/* the sandbox has its mounts: the resolv.conf bound in it is no longer needed outside */
	if (resolv_path)
		(void)unlink(resolv_path);
	if (r >= 0)
		r = wait_forwarding(s, res, err);
	nslab_sandbox_free(s);
	forward_signals(false);
	sig_pipe[0] = close_fd(sig_pipe[0]);
	sig_pipe[1] = close_fd(sig_pipe[1]);
	return r;
}

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
static int run_exit_code(int r, const struct nslab_sandbox_result *res)
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
static void write_json(FILE *f, char **argv, int r, const struct nslab_sandbox_result *res,
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
static void print_stats(int r, const struct nslab_sandbox_result *res)
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
		print_stats(r, &res);
	if (json) {
		write_json(json, argv, r, &res, &err);
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
	log->lines = !o->no_log && (cli_verbose || o->analyse || o->interactive);
	nslab_egress_set_event_func(o->egress, egress_log_event, log);
	/* connections as they start and end: only when someone reads them */
	if (log->f || log->lines)
		nslab_egress_set_connection_func(o->egress, egress_log_flow, log);
	egress_log_session(log, argv,
			   o->interactive ? "interactive"
			   : o->analyse	  ? "analyse"
					  : "allow",
			   o->eg, o->n_eg);
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
		return dry_run(c);
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
	int r = build_config(o, &c);

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
	int r = cli_parse(&cli_cmd_run, argc, argv, run_opt, &o, &a);

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

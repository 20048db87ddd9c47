/* SPDX-License-Identifier: MIT */
/*
 * cli/run-options: nslab run's options: the table (cli_cmd_run), the
 * options of a sandbox taken as they come (a filtered run's are cmd-run.c's),
 * then applied to a sandbox configuration in order, after the profiles; each
 * bad value names its option.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/units.h"
#include "egress-log.h"

/* --- the option table --------------------------------------------------------- */

const struct cli_cmd cli_cmd_run = {
	.name = "run",
	.run = run_main,
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

/* --- taking the options ------------------------------------------------------- */

void run_opts_free(struct run_opts *o)
{
	nslab_egress_free(o->egress);
	free(o->v);
	free(o->profiles);
}

int run_command(int argc, char **argv, cli_opt_fn take, int (*run)(struct run_opts *, char **))
{
	struct run_opts o = { .argc = argc, .argv = argv };
	struct cli_args a;
	int r = cli_parse(&cli_cmd_run, argc, argv, take, &o, &a);

	if (r == CLI_GO_ON && a.n_rest == 0 && !o.dry_run)
		r = cli_usage_error(&cli_cmd_run, "expected a command to run%s",
				    a.dashdash ? " after '--'" : "");
	if (r == CLI_GO_ON)
		r = run(&o, a.rest);
	run_opts_free(&o);
	return r;
}

/* Who speaks in messages: "run", or "exec" for exec --sandbox. */
const char *run_who = "run";

int run_error(const char *fmt, ...)
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


int run_opts_take(int key, char *arg, void *data)
{
	struct run_opts *o = data;
	struct run_opt *v;
	const char *node = NULL, **p;
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

const char *run_opt_name(int key)
{
	for (const struct cli_opt *o = cli_cmd_run.opts; o->key; o++)
		if (o->key == key)
			return o->name;
	return "?";
}

bool run_parse_uint(const char *s, uint64_t max, uint64_t *ret)
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

	if (!run_parse_uint(o->arg, max, &v))
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
int run_build_config(const struct run_opts *o, nslab_sandbox_config **ret)
{
	nslab_sandbox_config *c = NULL;
	nslab_error err = { 0 };

	if (nslab_sandbox_config_new(&c, &err) < 0)
		return run_error("%s", err.msg);
	/* this thread only waits for the sandbox (cmd-run.c): init may share our memory */
	nslab_sandbox_config_set_shared_init(c, true);
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
			return run_error("--%s: %s", run_opt_name(o->v[i].key), err.msg);
		}
	/* a root of one's own is writable unless --ro; the host's root always read-only */
	if (o->rootfs || o->ro)
		nslab_sandbox_config_set_readonly_root(c, o->ro);
	*ret = c;
	return 0;
}

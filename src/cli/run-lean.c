/* SPDX-License-Identifier: MIT */
/*
 * cli/run-lean: main() of the lean nslab, a static binary built against musl
 * where Debian's musl-tools is installed (src/cli/meson.build): `nslab run`
 * without glibc's start.
 *
 * Why: glibc's start costs about 0.7 ms an exec on a machine that traps
 * CPUID (it probes the caches at each start), a quarter of a sandbox's start
 * here; musl's costs a few µs. `nslab run` is the command whose start is the
 * point (docs/performance.md, Round 7).
 *
 * What: it serves `nslab run` when each option is one lean_serves() takes:
 * the sandbox's own (namespaces, limits, filesystem, the default seccomp
 * profile or none, ids, environment, --dry-run, --stats, --json). The others
 * need a library loaded with dlopen(), which a static binary cannot do
 * (--profile: libfyaml; --cap-add: libcap; a seccomp FILE: libseccomp), or
 * libmnl (a filtered run, --in). For those, and for every other command, the
 * whole command line goes unchanged to the full binary with execv(): nothing
 * has started by then, the options are only taken (in order, up to the first
 * that is not served). That hand-over costs every other command about 0.1 ms
 * (this binary's start and the exec), nslab exec included.
 */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#ifndef NSLAB_FULL_PATH
#error "NSLAB_FULL_PATH must be defined (src/cli/meson.build: where nslab-full is installed)"
#endif
#define FULL_NAME "nslab-full"

/*
 * main()'s argv, handed over as it is: nothing reorders it before then (run
 * is a verbatim command without lead operands: cli_parse() moves no word, and
 * the first option not served is handed over as it is taken).
 */
static char **given_argv;
static int given_argc;

/*
 * The full binary: next to this one (a build tree), else where it is
 * installed. /proc/self/exe, not argv[0]: a PATH lookup gives no directory.
 */
static const char *full_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len);
	char *slash = n > 0 && (size_t)n < len ? memrchr(buf, '/', (size_t)n) : NULL;

	if (slash && (size_t)(slash + 1 - buf) + sizeof(FULL_NAME) <= len) {
		memcpy(slash + 1, FULL_NAME, sizeof(FULL_NAME));
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NSLAB_FULL_PATH;
}

/* Hand the command line to the full binary. Return: only when that failed, the exit status. */
static int exec_full(void)
{
	char buf[PATH_MAX];
	const char *path = full_path(buf, sizeof(buf));
	bool run = given_argc >= 2 && strcmp(given_argv[1], "run") == 0;

	execv(path, given_argv);
	fprintf(stderr, "nslab: %s: %s (the full nslab, which this command needs)\n", path,
		strerror(errno));
	return run ? EXIT_NOT_STARTED : 1;
}

static bool lean_serves(int key, const char *arg)
{
	switch (key) {
	case OPT_NET:
	case OPT_MEM:
	case OPT_CPU:
	case OPT_PIDS:
	case OPT_FDS:
	case OPT_FSIZE:
	case OPT_TIMEOUT:
	case OPT_ROOTFS:
	case OPT_RO:
	case OPT_BIND:
	case OPT_RO_BIND:
	case OPT_TMPFS:
	case OPT_CHDIR:
	case OPT_UID:
	case OPT_GID:
	case OPT_AS_ROOT:
	case OPT_HOSTNAME:
	case OPT_ENV:
	case OPT_CLEARENV:
	case OPT_DRY_RUN:
	case OPT_STATS:
	case OPT_JSON:
		return true;
	case OPT_SECCOMP:
		return strcmp(arg, "default") == 0 || strcmp(arg, "none") == 0;
	default:
		return false;
	}
}

/* cli_parse()'s callback: an option served is taken, the first other one goes to nslab-full. */
static int lean_take(int key, char *arg, void *data)
{
	if (!lean_serves(key, arg))
		return exec_full();
	return run_opts_take(key, arg, data);
}

int run_main(int argc, char **argv)
{
	return run_command(argc, argv, lean_take, run_plain);
}

int main(int argc, char **argv)
{
	int r = cli_start();

	if (r != 0)
		return r;
	given_argc = argc;
	given_argv = argv;
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return exec_full();
	return cli_cmd_run.run(argc - 1, argv + 1);
}

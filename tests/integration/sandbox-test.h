/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/sandbox-test.h: what test-sandbox and test-sandbox-init
 * share: a config that this binary can run in, a run that must start, the
 * processes of a PID namespace as /proc shows them, and main()'s setup.
 */
#pragma once

#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nslab/sandbox.h>

#include "nslab-test.h"

/* this binary's path (sandbox_test_start()): config() binds its directory */
static char self_exe[PATH_MAX];

static inline nslab_sandbox_config *config(void)
{
	nslab_sandbox_config *c;
	nslab_error err = { 0 };

	char dir[PATH_MAX], *slash;

	CHECK(nslab_sandbox_config_new(&c, &err) == 0, "%s", err.msg);
	/* this binary runs inside as a command: visible even from a build under /tmp (private inside) */
	snprintf(dir, sizeof(dir), "%s", self_exe);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	CHECK(nslab_sandbox_config_add_bind(c, dir, NULL, NSLAB_SANDBOX_BIND_RO, &err) == 0, "%s",
	      err.msg);
	return c;
}

static inline void set_limit(nslab_sandbox_config *c, enum nslab_sandbox_limit l, uint64_t v)
{
	nslab_error err = { 0 };

	CHECK(nslab_sandbox_config_set_limit(c, l, v, &err) == 0, "%s", err.msg);
}

static inline struct nslab_sandbox_result run(const nslab_sandbox_config *c, char **argv)
{
	struct nslab_sandbox_result res;
	nslab_error err = { 0 };
	int r = nslab_sandbox_run(c, argv, &res, &err);

	CHECK(r == 0, "run '%s': %d %s", argv[0], r, err.msg);
	return res;
}

static inline bool ns_of(pid_t pid, const char *ns, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	return stat(path, st) == 0;
}

/* The pids of every process whose PID namespace is ino (our view). */
static inline size_t pids_in_pidns(ino_t ino, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	CHECK(d, "opendir /proc");
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		struct stat st;

		if (pid > 0 && ns_of(pid, "pid", &st) && st.st_ino == ino && n < max)
			out[n++] = pid;
	}
	closedir(d);
	return n;
}

static inline void host_capable(void)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 ? 0 : 1);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		nslab_test_skip("no user namespace for this user");
}

/*
 * sandbox_test_start() - main()'s setup, before any case: this binary's path,
 * skip (77/99) without user namespaces, and orphans reaped by us
 */
static inline void sandbox_test_start(void)
{
	CHECK(realpath("/proc/self/exe", self_exe), "realpath");
	/*
	 * This binary run again inside a sandbox (sanitizer builds): no leak
	 * check there, it needs ptrace and fds that the sandbox refuses. This
	 * process read its own options at start, before this.
	 */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	host_capable();
	/* orphans of a killed owner come to us, not to a host init that may not reap */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, "subreaper");
}

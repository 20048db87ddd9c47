/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/nslab-test.h: how the integration tests get their
 * namespaces, and Meson's exitcode protocol for what goes wrong on the way.
 *
 * 77 (skip) only for a missing environment: the host gives no network
 * namespace, neither directly (root) nor through a user namespace (rootless).
 * With NSLAB_TEST_REQUIRE_PRIV set (CI), that skip is an error, 99.
 * A setup that fails on a host where namespaces work (nslab_bootstrap() or
 * unshare() failing although the probe succeeded) is an error, 99, always:
 * skipping would hide a bug (STYLE.md section 11).
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <nslab/nslab.h>

/* checks made so far: a test may print it at the end ("ok: N checks") */
static unsigned checks __attribute__((unused));

/* A check that must hold; on failure say where and what, and exit 1. */
#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		checks++;                                                               \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fputc('\n', stderr);                                            \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

#define NSLAB_TEST_SKIP	 77
#define NSLAB_TEST_ERROR 99

static inline bool nslab_test_require_priv(void)
{
	const char *v = getenv("NSLAB_TEST_REQUIRE_PRIV");

	return v && *v;
}

/* A missing environment: exit 77, or 99 under NSLAB_TEST_REQUIRE_PRIV. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void nslab_test_skip(const char *fmt,
										   ...)
{
	va_list ap;

	fputs("SKIP: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (nslab_test_require_priv()) {
		fputs("NSLAB_TEST_REQUIRE_PRIV is set: a skip is an error\n", stderr);
		exit(NSLAB_TEST_ERROR);
	}
	exit(NSLAB_TEST_SKIP);
}

/* A setup that failed on a capable host: exit 99. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void
nslab_test_setup_failed(const char *fmt, ...)
{
	va_list ap;

	fputs("ERROR: setup failed on a host that has namespaces: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(NSLAB_TEST_ERROR);
}

/* The path nslab_bootstrap() takes: a user namespace unless root (NSLAB_ROOTLESS=1 forces it). */
static inline bool nslab_test_rootless_path(void)
{
	const char *force = getenv("NSLAB_ROOTLESS");

	return geteuid() != 0 || (force && strcmp(force, "1") == 0);
}

static inline bool nslab_test_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	(void)close(fd);
	return ok;
}

/*
 * nslab_test_host_capable() - Whether this host gives the test a network namespace by the
 * path nslab_bootstrap() will take, tried in a child with raw syscalls (not with the code
 * under test, so that a bug in it cannot pass for a missing environment)
 * Return: true if the child got its namespaces
 */
static inline bool nslab_test_host_capable(void)
{
	bool rootless = nslab_test_rootless_path();
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		nslab_test_setup_failed("fork: %s", strerrordesc_np(errno));
	if (pid == 0) {
		char map[64];

		if (rootless) {
			if (unshare(CLONE_NEWUSER) < 0)
				_exit(1);
			snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
			if (!nslab_test_write("/proc/self/setgroups", "deny") ||
			    !nslab_test_write("/proc/self/uid_map", map))
				_exit(1);
			snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
			if (!nslab_test_write("/proc/self/gid_map", map))
				_exit(1);
		}
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		nslab_test_setup_failed("waitpid: %s", strerrordesc_np(errno));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * nslab_test_bootstrap() - nslab_bootstrap(), first thing in main(); skip (77/99) if the host
 * has no namespaces for us, error (99) if it has and the bootstrap still failed
 * Return: what nslab_bootstrap() returned (0 root, 1 rootless)
 */
static inline int nslab_test_bootstrap(void)
{
	bool capable = nslab_test_host_capable();
	nslab_error err = { 0 };
	int r = nslab_bootstrap(&err);

	if (r >= 0 && capable)
		return r;
	if (!capable)
		nslab_test_skip("no network namespace on this host (%s)",
				r < 0 ? err.msg : "probe failed");
	nslab_test_setup_failed("nslab_bootstrap: %s", err.msg);
}

/*
 * nslab_test_enter_netns() - nslab_test_bootstrap(), then a private network namespace for the
 * calling process, so that the test never touches the host's
 * Return: what nslab_bootstrap() returned (0 root, 1 rootless)
 */
static inline int nslab_test_enter_netns(void)
{
	int r = nslab_test_bootstrap();

	if (unshare(CLONE_NEWNET) < 0)
		nslab_test_setup_failed("unshare(CLONE_NEWNET): %s", strerrordesc_np(errno));
	return r;
}

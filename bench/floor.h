// SPDX-License-Identifier: MIT
/*
 * bench/floor.h: what the benchmarks' C programs share: a clock and an order
 * for qsort() (all of them), a fatal error, namespaces as fds and the fd limit
 * (the kernel floors, bench-floor and bench-natfloor). No nslab code.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* qsort()'s order of doubles, for medians and percentiles. */
static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "PROGRAM: WHAT: ERRNO TEXT" on stderr, exit 1: a floor with a failed step means nothing. */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

/* The calling thread's network namespace, as an fd. */
static inline int open_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /proc/thread-self/ns/net");
	return fd;
}

/* A new network namespace, entered by the calling thread, as an fd. */
static inline int new_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET)");
	return open_netns();
}

/* The soft fd limit raised to the hard one: every namespace is held by an fd. */
static inline void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

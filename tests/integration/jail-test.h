/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/jail-test.h: what the jail tests share: running a check in
 * a forked child (so that filters, capability drops and namespaces never
 * reach the test process), reading what it reports, and /proc fields.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "nslab-test.h"
#include "jail/jail.h"

/* fn(arg) in a forked child, whose exit status is fn's result. Return: the wait status. */
static inline int jt_run(int (*fn)(void *), void *arg)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn(arg));
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
	return st;
}

/* "exited with 3", "killed by SIGSYS" */
static inline const char *jt_status(int st)
{
	static char buf[64];

	if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exited with %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "killed by %s", sigabbrev_np(WTERMSIG(st)) ?: "?");
	else
		snprintf(buf, sizeof(buf), "status 0x%x", st);
	return buf;
}

/* Child side: no_new_privs and the filter, or exit 98 saying why. */
static inline void jt_enter_filter(const struct sock_fprog *prog)
{
	nslab_error err = { 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || jail_seccomp_install(prog, &err) < 0) {
		fprintf(stderr, "child: install the filter: %s\n", err.msg);
		_exit(98);
	}
}

/* Read exactly len bytes (a child's report). Return: false at end of file. */
static inline bool jt_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* A hexadecimal field of /proc/PID/status ("CapEff"), or of a thread's with tid > 0. */
static inline uint64_t jt_status_hex(pid_t pid, pid_t tid, const char *key)
{
	char path[96], line[256];
	size_t klen = strlen(key);
	uint64_t v = UINT64_MAX;
	FILE *f;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	CHECK(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, 16);
	fclose(f);
	CHECK(v != UINT64_MAX, "%s: no %s", path, key);
	return v;
}

/* Map the caller to 0 in a new user namespace (and the namespaces in extra). */
static inline bool jt_userns_as_root(int extra)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int fd;

	if (unshare(CLONE_NEWUSER | extra) < 0)
		return false;
	fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "deny", 4);
		close(fd);
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (!nslab_test_write("/proc/self/uid_map", map))
		return false;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	return nslab_test_write("/proc/self/gid_map", map);
}

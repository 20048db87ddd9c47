/* SPDX-License-Identifier: MIT */
/*
 * The integration tests' entry (nslab-test.h) tells a missing environment from
 * a failed setup. Each case runs in a child and its exit status is checked:
 * - a host without namespaces (unshare() refused by a seccomp filter, as a
 *   container's profile does): 77, or 99 with NSLAB_TEST_REQUIRE_PRIV=1;
 * - a capable host where nslab_bootstrap() fails (rootless path forced with
 *   NSLAB_ROOTLESS=1, and a second thread, so it returns -EBUSY): 99, not a skip;
 * - a capable host: the child ends up in a network namespace of its own.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "nslab-test.h"

static unsigned failures;

/* Make unshare() fail with EPERM in this process and its children (arch not checked: test only). */
static void refuse_unshare(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "seccomp: %s\n", strerror(errno));
		_exit(2);
	}
}

static void *idle_thread(void *arg)
{
	char c;

	/* blocks until the process exits: the pipe's write end is never written */
	(void)read(*(int *)arg, &c, 1);
	return NULL;
}

enum scenario { NO_NAMESPACES, BOOTSTRAP_FAILS, CAPABLE };

static void child(enum scenario s, const char *parent_ns)
{
	char ns[PATH_MAX] = "";
	static int fds[2];
	pthread_t t;

	switch (s) {
	case NO_NAMESPACES:
		refuse_unshare();
		(void)nslab_test_enter_netns();
		_exit(0); /* must not get here */
	case BOOTSTRAP_FAILS:
		setenv("NSLAB_ROOTLESS", "1", 1);
		if (pipe(fds) < 0 || pthread_create(&t, NULL, idle_thread, &fds[0]) != 0)
			_exit(2);
		(void)nslab_test_bootstrap();
		_exit(0); /* must not get here */
	case CAPABLE:
		(void)nslab_test_enter_netns();
		if (readlink("/proc/self/ns/net", ns, sizeof(ns) - 1) < 0)
			_exit(2);
		_exit(strcmp(ns, parent_ns) != 0 ? 0 : 3);
	}
	_exit(2);
}

static void expect(const char *what, enum scenario s, const char *require_priv, int want,
		   const char *parent_ns)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		nslab_test_setup_failed("fork: %s", strerror(errno));
	if (pid == 0) {
		if (require_priv)
			setenv("NSLAB_TEST_REQUIRE_PRIV", require_priv, 1);
		else
			unsetenv("NSLAB_TEST_REQUIRE_PRIV");
		child(s, parent_ns);
	}
	if (waitpid(pid, &status, 0) != pid)
		nslab_test_setup_failed("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == want) {
		printf("ok: %s: exit %d\n", what, want);
		return;
	}
	fprintf(stderr, "FAIL: %s: exit %d (signal %d), want %d\n", what,
		WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		WIFSIGNALED(status) ? WTERMSIG(status) : 0, want);
	failures++;
}

int main(void)
{
	char ns[PATH_MAX] = "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (readlink("/proc/self/ns/net", ns, sizeof(ns) - 1) < 0)
		nslab_test_setup_failed("readlink /proc/self/ns/net: %s", strerror(errno));
	expect("no namespaces on the host: skip", NO_NAMESPACES, NULL, NSLAB_TEST_SKIP, ns);
	expect("no namespaces, NSLAB_TEST_REQUIRE_PRIV=1: error", NO_NAMESPACES, "1",
	       NSLAB_TEST_ERROR, ns);
	if (!nslab_test_host_capable())
		nslab_test_skip("this host has no namespaces: the capable-host cases cannot run");
	expect("bootstrap fails on a capable host: error, not a skip", BOOTSTRAP_FAILS, NULL,
	       NSLAB_TEST_ERROR, ns);
	expect("capable host: a network namespace of its own", CAPABLE, NULL, 0, ns);
	expect("capable host, NSLAB_TEST_REQUIRE_PRIV=1: a network namespace of its own", CAPABLE,
	       "1", 0, ns);
	return failures ? 1 : 0;
}

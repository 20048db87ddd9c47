/* SPDX-License-Identifier: MIT */
/*
 * The control socket's client as a library caller uses it: a threaded process
 * that stays in its own namespaces runs commands in two labs, each served by
 * a supervisor of its own (rootless: each in a user namespace of its own).
 * nslab_ctl_exec() must never move the caller (it once entered the first
 * lab's user namespace for good: a threaded caller failed, a second lab then
 * failed with EPERM), and must pass each command's exit status through.
 */
#include "nslab-test.h"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>

/* A supervisor in a child: bootstrap, build a one-device lab, serve; "ready" on ready_fd. */
static pid_t start_supervisor(const char *name)
{
	int pfd[2];
	char buf[8] = { 0 };
	pid_t pid;

	CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		nslab_error err = { 0 };
		nslab_lab *lab = NULL;

		(void)close(pfd[0]);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves no lab behind */
		if (nslab_bootstrap(&err) < 0 || nslab_lab_new(name, &lab, &err) < 0 ||
		    nslab_lab_add_router(lab, "isp", NULL, &err) < 0 ||
		    nslab_lab_add_device(lab, "box", "isp", &err) < 0 ||
		    nslab_lab_listen(lab, &err) < 0 || nslab_lab_build(lab, &err) < 0 ||
		    nslab_lab_serve(lab, pfd[1], &err) < 0) {
			fprintf(stderr, "supervisor '%s': %s\n", name, err.msg);
			_exit(99);
		}
		nslab_lab_free(lab);
		_exit(0);
	}
	(void)close(pfd[1]);
	CHECK(read(pfd[0], buf, sizeof(buf) - 1) > 0 && strcmp(buf, "ready\n") == 0,
	      "supervisor of '%s' never got ready", name);
	(void)close(pfd[0]);
	return pid;
}

static void *idle_thread(void *arg)
{
	int fd = *(int *)arg;
	char c;

	(void)!read(fd, &c, 1); /* until main closes the pipe */
	return NULL;
}

static void ns_of(const char *which, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", which);
	CHECK(stat(path, st) == 0, "stat %s: %s", path, strerror(errno));
}

static void run_in(const char *lab, int code)
{
	char script[32];
	char *argv[] = { "sh", "-c", script, NULL };
	nslab_error err = { 0 };
	int status = -1;

	snprintf(script, sizeof(script), "exit %d", code);
	CHECK(nslab_ctl_exec(lab, "box", argv, &status, &err) == 0, "exec in '%s': %s", lab,
	      err.msg);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == code, "exec in '%s': status %#x", lab,
	      status);
}

int main(void)
{
	char a[64], b[64];
	struct stat user0, net0, user1, net1;
	nslab_error err = { 0 };
	pthread_t tid;
	int pfd[2], status;
	pid_t sa, sb;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!nslab_test_host_capable())
		nslab_test_skip("no network namespaces for this user");
	snprintf(a, sizeof(a), "ctl-a-%d", (int)getpid());
	snprintf(b, sizeof(b), "ctl-b-%d", (int)getpid());
	sa = start_supervisor(a);
	sb = start_supervisor(b);

	/* threaded, as a library caller may be: setns(CLONE_NEWUSER) would fail here */
	CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
	CHECK(pthread_create(&tid, NULL, idle_thread, &pfd[0]) == 0, "pthread_create");
	ns_of("user", &user0);
	ns_of("net", &net0);
	run_in(a, 3);
	run_in(b, 4);
	run_in(a, 5);
	ns_of("user", &user1);
	ns_of("net", &net1);
	CHECK(user0.st_ino == user1.st_ino && net0.st_ino == net1.st_ino,
	      "the caller changed namespace (user %lu -> %lu, net %lu -> %lu)",
	      (unsigned long)user0.st_ino, (unsigned long)user1.st_ino, (unsigned long)net0.st_ino,
	      (unsigned long)net1.st_ino);
	(void)close(pfd[1]);
	(void)pthread_join(tid, NULL);

	CHECK(nslab_ctl_down(a, &err) == 0, "down '%s': %s", a, err.msg);
	CHECK(nslab_ctl_down(b, &err) == 0, "down '%s': %s", b, err.msg);
	CHECK(waitpid(sa, &status, 0) == sa && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "supervisor of '%s' ended with %#x", a, status);
	CHECK(waitpid(sb, &status, 0) == sb && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "supervisor of '%s' ended with %#x", b, status);
	printf("ok: %u checks\n", checks);
	return 0;
}

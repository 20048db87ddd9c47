/* SPDX-License-Identifier: MIT */
/*
 * ns/pidns: DOC: nslab-init, pid 1 of the lab's PID namespace
 * 1. PR_SET_PDEATHSIG(SIGKILL), then make sure the parent did not die already
 *    (through a pidfd of the parent: getppid() is 0 across a PID namespace)
 * 2. mount a /proc of the new namespace in the lab's mount namespace (best effort:
 *    some hosts mask parts of /proc and the kernel then refuses a new one);
 *    first, since entering that mount namespace needs its inherited fd. The
 *    parent waits for it: a node's mount namespace is a copy of the lab's
 *    made later, and a slave mount does not pass on the mounts made on it,
 *    so one copied before this mount kept the host's /proc, where the pid of
 *    a process of the lab names another one (`nslab run` from a node then
 *    wrote "/proc/3/uid_map" of the host's pid 3: EACCES)
 * 3. enter the lab root's network namespace: every lab process can see pid 1,
 *    and in a rootless lab may ptrace it (it holds CAP_SYS_PTRACE in the lab's
 *    user namespace), so pid 1 must give no way to the host's network or its
 *    abstract sockets; non-dumpable (once the parent opened its PID namespace
 *    through /proc, which then needs no CAP_SYS_PTRACE)
 * 4. close every inherited fd (it must not keep the lab's namespaces alive)
 * 5. reap children forever; SIGCHLD is blocked and taken by sigsuspend() so
 *    that no exit is missed between a wait and the sleep
 */
#include "ns/pidns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns/spawn.h"

static void on_sigchld(int sig)
{
	(void)sig;
}

static _Noreturn void init_main(int mntns_fd, int netns_fd, int parent_pidfd, const int go[2],
				const int up[2])
{
	struct sigaction sa = { .sa_handler = on_sigchld };
	struct pollfd pfd = { .fd = parent_pidfd, .events = POLLIN };
	sigset_t chld, none;
	char c;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&pfd, 1, 0) != 0)
		_exit(1);
	(void)prctl(PR_SET_NAME, "nslab-init");
	if (mntns_fd >= 0 && setns(mntns_fd, CLONE_NEWNS) == 0)
		(void)mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
		_exit(1); /* never a pid 1 in the host's network (the supervisor sees it die) */
	(void)close(up[0]);
	if (write(up[1], "", 1) != 1) /* /proc is mounted (DOC: step 2) */
		_exit(1);
	(void)close(up[1]);
	/* non-dumpable only once the parent opened /proc/<pid>/ns/pid (no CAP_SYS_PTRACE needed) */
	(void)close(go[1]);
	while (read(go[0], &c, 1) < 0 && errno == EINTR)
		;
	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)syscall(SYS_close_range, 0U, ~0U, 0U);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigemptyset(&none);
	(void)sigprocmask(SIG_BLOCK, &chld, NULL);
	(void)sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		(void)sigsuspend(&none);
	}
}

int pidns_init_start(int mntns_fd, int netns_fd, struct pidns_init *ret, nslab_error *err)
{
	struct pidns_init init = { .pidfd = -1, .nsfd = -1 };
	struct clone_args args = { .flags = CLONE_NEWPID | CLONE_PIDFD,
				   .pidfd = (uint64_t)(uintptr_t)&init.pidfd,
				   .exit_signal = SIGCHLD };
	int parent_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int go[2] = { -1, -1 }, up[2] = { -1, -1 };
	char path[64], c;
	ssize_t n;

	if (parent_pidfd < 0)
		return nslab_err_set(err, errno, "pidfd_open(self)");
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0) {
		int r = nslab_err_set(err, errno, "pipe2");

		(void)close(parent_pidfd);
		if (up[0] < 0 && go[0] >= 0) { /* the second pipe2() failed */
			(void)close(go[0]);
			(void)close(go[1]);
		}
		return r;
	}
	init.pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (init.pid == 0)
		init_main(mntns_fd, netns_fd, parent_pidfd, go, up);
	(void)close(parent_pidfd);
	(void)close(go[0]);
	(void)close(up[1]);
	if (init.pid < 0) {
		(void)close(go[1]);
		(void)close(up[0]);
		return nslab_err_set(err, errno, "start the lab's PID namespace");
	}
	/* its /proc mounted before any node's mount namespace is copied (DOC: step 2) */
	do
		n = read(up[0], &c, 1);
	while (n < 0 && errno == EINTR);
	(void)close(up[0]);
	if (n != 1) {
		(void)close(go[1]);
		init.nsfd = -1;
		pidns_init_stop(&init);
		return nslab_err_setx(err, EIO,
				      "pid 1 of the lab's PID namespace ended at its start");
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init.pid);
	init.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	(void)close(go[1]); /* end of file: pid 1 may go non-dumpable now */
	if (init.nsfd < 0) {
		int r = nslab_err_set(err, errno, "open %s", path);

		pidns_init_stop(&init);
		return r;
	}
	*ret = init;
	return 0;
}

void pidns_init_stop(struct pidns_init *init)
{
	struct pollfd pfd = { .fd = init->pidfd, .events = POLLIN };
	int status;

	if (init->pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, init->pidfd, SIGKILL, NULL, 0);
		/*
		 * pid 1's exit waits until every process of the namespace is
		 * reaped, and one whose parent lives outside (a stopped client's
		 * child) may never be: wait a bounded time, then leave pid 1 to
		 * finish on its own (our zombie, or init's once we are gone).
		 */
		while (poll(&pfd, 1, PIDNS_STOP_TIMEOUT_MS) < 0 && errno == EINTR)
			;
		if (pfd.revents)
			(void)spawn_wait(init->pidfd, &status, NULL);
		(void)close(init->pidfd);
	}
	if (init->nsfd >= 0)
		(void)close(init->nsfd);
	init->pidfd = init->nsfd = -1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ns/spawn: see the DOC block in spawn.h for the child's steps. */
#include "ns/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/macro.h"

extern char **environ;

/* Async-signal-safe: copy what into the error, add ": " and the errno text, send, exit. */
static _Noreturn void child_fail(int pipe_fd, const char *what, const char *arg)
{
	nslab_error e = { .code = errno ? errno : EIO };
	const char *cause = strerrordesc_np(e.code);
	size_t n = 0;
	const char *parts[] = { what, arg ? " '" : "",	      arg ? arg : "", arg ? "'" : "",
				": ", cause ? cause : "error" };

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (const char *p = parts[i]; *p && n < sizeof(e.msg) - 1; p++)
			e.msg[n++] = *p;
	e.msg[n] = '\0';
	(void)!write(pipe_fd, &e, sizeof(e));
	_exit(127);
}

static void child_enter(const struct spawn_opts *o, int pipe_fd)
{
	if (o->userns_fd >= 0 && setns(o->userns_fd, CLONE_NEWUSER) < 0)
		child_fail(pipe_fd, "setns(user namespace)", NULL);
	if (o->mntns_fd >= 0 && setns(o->mntns_fd, CLONE_NEWNS) < 0)
		child_fail(pipe_fd, "setns(mount namespace)", NULL);
	if (o->netns_fd >= 0 && setns(o->netns_fd, CLONE_NEWNET) < 0)
		child_fail(pipe_fd, "setns(network namespace)", NULL);
	/* a UTS namespace of its own, so that `hostname` and shell prompts name the node */
	if (o->hostname &&
	    (unshare(CLONE_NEWUTS) < 0 || sethostname(o->hostname, strlen(o->hostname)) < 0))
		child_fail(pipe_fd, "set the host name", o->hostname);
	if (o->cwd && chdir(o->cwd) < 0 && chdir("/") < 0)
		child_fail(pipe_fd, "chdir", o->cwd);
	else if (!o->cwd && o->mntns_fd >= 0 && chdir("/") < 0)
		child_fail(pipe_fd, "chdir", "/");
}

/*
 * dup2 each given fd to 0, 1, 2. Sources are first moved above 2 so that one
 * target never overwrites another's source (stderr_fd == 1, say), and every
 * target ends up without FD_CLOEXEC, even one that already had its number.
 */
static void child_stdio(const struct spawn_opts *o, int pipe_fd)
{
	const int want[3] = { o->stdin_fd, o->stdout_fd, o->stderr_fd };
	int high[3];

	for (int i = 0; i < 3; i++) {
		high[i] = want[i] >= 0 ? fcntl(want[i], F_DUPFD_CLOEXEC, 3) : -1;
		if (want[i] >= 0 && high[i] < 0)
			child_fail(pipe_fd, "dup stdio", NULL);
	}
	for (int i = 0; i < 3; i++)
		if (high[i] >= 0 && dup2(high[i], i) < 0)
			child_fail(pipe_fd, "dup2 stdio", NULL);
}

static void child_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)signal(s, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void child_main(const struct spawn_opts *o, pid_t parent, int pipe_fd)
{
	if (o->die_with_parent && o->pidns_fd < 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			child_fail(pipe_fd, "prctl(PR_SET_PDEATHSIG)", NULL);
		if (getppid() != parent)
			_exit(127); /* the parent died before the prctl */
	}
	if (o->new_session)
		(void)setsid();
	child_enter(o, pipe_fd);
	child_stdio(o, pipe_fd);
	child_signals();
	execvpe(o->argv[0], o->argv, o->envp ? o->envp : environ);
	child_fail(pipe_fd, "exec", o->argv[0]);
}

static pid_t clone_with_pidfd(int *ret_pidfd)
{
	struct clone_args args = { .flags = CLONE_PIDFD,
				   .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
				   .exit_signal = SIGCHLD };

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

struct clone_req {
	const struct spawn_opts *o;
	pid_t parent;
	int pipe_fd;
	pid_t pid;
	int pidfd;
	int error;
};

static void *clone_in_pidns(void *arg)
{
	struct clone_req *req = arg;

	if (setns(req->o->pidns_fd, CLONE_NEWPID) < 0) {
		req->error = errno;
		return NULL;
	}
	req->pid = clone_with_pidfd(&req->pidfd);
	if (req->pid == 0)
		child_main(req->o, req->parent, req->pipe_fd);
	if (req->pid < 0)
		req->error = errno;
	return NULL;
}

/* clone on this thread, or on a thread that entered the PID namespace first. */
static pid_t spawn_clone(const struct spawn_opts *o, pid_t parent, int pipe_fd, int *ret_pidfd,
			 nslab_error *err)
{
	struct clone_req req = { .o = o, .parent = parent, .pipe_fd = pipe_fd, .pidfd = -1 };
	pthread_t tid;
	int r;

	if (o->pidns_fd < 0) {
		req.pid = clone_with_pidfd(ret_pidfd);
		if (req.pid == 0)
			child_main(o, parent, pipe_fd);
		if (req.pid < 0)
			return nslab_err_set(err, errno, "spawn '%s': clone3", o->argv[0]);
		return req.pid;
	}
	r = pthread_create(&tid, NULL, clone_in_pidns, &req);
	if (r != 0)
		return nslab_err_set(err, r, "spawn '%s': start a thread", o->argv[0]);
	(void)pthread_join(tid, NULL);
	if (req.error)
		return nslab_err_set(err, req.error, "spawn '%s' in the lab's PID namespace",
				     o->argv[0]);
	*ret_pidfd = req.pidfd;
	return req.pid;
}

/* Read the child's error, if any: EOF means exec succeeded. */
static int read_child_error(int pipe_fd, nslab_error *err)
{
	nslab_error e;
	ssize_t n;

	do
		n = read(pipe_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(e))
		return nslab_err_setx(err, EIO, "spawn: short error report from child");
	e.msg[sizeof(e.msg) - 1] = '\0';
	if (err)
		*err = e;
	return -e.code;
}

/* True if fd is the namespace at path (entering one's own user namespace is EINVAL). */
static bool same_ns(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

int spawn_in_ns(const struct spawn_opts *opts, pid_t *ret_pid, int *ret_pidfd, nslab_error *err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	struct spawn_opts local = *opts;
	const struct spawn_opts *o = &local;
	int pipefd[2], pidfd = -1, r, status;
	pid_t parent = getpid(), pid;

	if (!o->argv || !o->argv[0])
		return nslab_err_setx(err, EINVAL, "spawn: empty command");
	if (o->pidns_fd >= 0 && o->userns_fd >= 0) {
		/* joining the PID namespace needs its owner's capabilities first */
		if (!same_ns(o->userns_fd, "/proc/self/ns/user") &&
		    setns(o->userns_fd, CLONE_NEWUSER) < 0)
			return nslab_err_set(err, errno, "setns(user namespace)");
		local.userns_fd = -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nslab_err_set(err, errno, "spawn: pipe2");
	rd = pipefd[0];
	wr = pipefd[1];
	pid = spawn_clone(o, parent, wr, &pidfd, err);
	if (pid < 0)
		return pid;
	wr = close_fd(wr);
	r = read_child_error(rd, err);
	if (r < 0) {
		(void)spawn_wait(pidfd, &status, NULL);
		(void)close(pidfd);
		return r;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	return 0;
}

int spawn_wait(int pidfd, int *ret_status, nslab_error *err)
{
	siginfo_t si = { 0 };

	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			return nslab_err_set(err, errno, "waitid");
	*ret_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status & 0x7f;
	return 0;
}

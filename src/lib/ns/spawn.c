/* SPDX-License-Identifier: MIT */
/* ns/spawn: see the DOC block in spawn.h for the child's steps. */
#include "ns/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/signals.h"

extern char **environ;

/*
 * RLIMIT_NOFILE's soft limit before spawn_raise_nofile(), 0 if never raised.
 * A process-wide value because the limit is one (the one mutable global of the
 * library; written once at start, read by children).
 */
static rlim_t nofile_before_raise;

unsigned long spawn_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t before = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && !nofile_before_raise)
			nofile_before_raise = before;
	}
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	return (unsigned long)rl.rlim_cur;
}

/* Async-signal-safe: write the parts to stderr (warnings of a child before exec). */
static void child_say(const char *const *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)!write(STDERR_FILENO, parts[i], strlen(parts[i]));
}

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

/* The caller's directory if the mount namespace has it, else / (and say so). */
static void child_chdir(const struct spawn_opts *o, int pipe_fd)
{
	if (o->cwd && chdir(o->cwd) == 0)
		return;
	if (o->cwd) {
		const char *parts[] = { "nslab: warning: '", o->cwd,
					"' does not exist in the lab; running in /\n" };

		child_say(parts, ARRAY_SIZE(parts));
	}
	if ((o->cwd || o->mntns_fd >= 0) && chdir("/") < 0)
		child_fail(pipe_fd, "chdir", "/");
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
	child_chdir(o, pipe_fd);
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
	struct rlimit rl;

	if (nofile_before_raise && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = nofile_before_raise;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signals_reset_all();
}

/* Steps 1 (session) to 6 of the DOC block, once the child is tied to its parent. */
static _Noreturn void child_exec(const struct spawn_opts *o, int pipe_fd)
{
	if (o->new_session)
		(void)setsid();
	child_enter(o, pipe_fd);
	child_stdio(o, pipe_fd);
	child_signals();
	execvpe(o->argv[0], o->argv, o->envp ? o->envp : environ);
	child_fail(pipe_fd, "exec", o->argv[0]);
}

static _Noreturn void child_main(const struct spawn_opts *o, pid_t parent, int pipe_fd)
{
	if (o->die_with_parent && o->pidns_fd < 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			child_fail(pipe_fd, "prctl(PR_SET_PDEATHSIG)", NULL);
		if (getppid() != parent)
			_exit(127); /* the parent died before the prctl */
	}
	child_exec(o, pipe_fd);
}

/* clone3() like fork(), with a pidfd into *ret_pidfd unless it is NULL. */
static pid_t clone_with_pidfd(int *ret_pidfd)
{
	struct clone_args args = { .flags = ret_pidfd ? CLONE_PIDFD : 0,
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
		/*
		 * Joining the PID namespace needs its owner's capabilities first, and
		 * only a single-threaded process can change user namespace: never the
		 * caller (spawn_relayed() does it in a helper).
		 */
		if (!same_ns(o->userns_fd, "/proc/self/ns/user"))
			return nslab_err_setx(
				err, EINVAL,
				"spawn: use a relayed spawn to enter a user namespace");
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

/*
 * The command under a relay helper: it dies with the helper, whose pid it
 * cannot see from inside the PID namespace (getppid() is 0), hence the pidfd.
 * A detached one (helper_pidfd -1) has no such tie.
 */
static _Noreturn void relayed_cmd_main(const struct spawn_opts *o, int helper_pidfd, int pipe_fd)
{
	struct pollfd pfd = { .fd = helper_pidfd, .events = POLLIN };

	if (helper_pidfd >= 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(pipe_fd, "prctl(PR_SET_PDEATHSIG)", NULL);
	if (helper_pidfd >= 0 && poll(&pfd, 1, 0) != 0)
		_exit(127); /* the helper died before the prctl */
	child_exec(o, pipe_fd);
}

/* Helper: pass SIGTERM and SIGHUP on until the command ends; reap it; report. */
static _Noreturn void relay_loop(int cmd_pidfd, int status_fd)
{
	struct pollfd pfd[2] = { { .fd = cmd_pidfd, .events = POLLIN }, { .events = POLLIN } };
	struct signalfd_siginfo si;
	siginfo_t info = { 0 };
	sigset_t fwd;
	int status;

	sigemptyset(&fwd);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &fwd, NULL);
	pfd[1].fd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	while (!pfd[0].revents) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			_exit(126);
		if (pfd[1].revents && read(pfd[1].fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			(void)syscall(SYS_pidfd_send_signal, cmd_pidfd, (int)si.ssi_signo, NULL, 0);
	}
	while (waitid(P_PIDFD, (id_t)cmd_pidfd, &info, WEXITED) < 0)
		if (errno != EINTR)
			_exit(126);
	status = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0) : info.si_status & 0x7f;
	(void)!write(status_fd, &status, sizeof(status));
	_exit(0);
}

/*
 * Detached: a first child inside the PID namespace starts the command in a
 * session of its own and exits at once, so that the command's parent becomes
 * the lab's pid 1 (an orphan is given to the reaper of its parent's PID
 * namespace). It lives until it ends or the lab goes; the helper reports its
 * pid as the lab sees it, and the status 0.
 */
static _Noreturn void detach_main(const struct spawn_opts *o, int pipe_fd, int status_fd)
{
	struct spawn_opts cmd_opts = *o;
	int status = 0;
	pid_t pid;

	cmd_opts.new_session = true;
	pid = clone_with_pidfd(NULL);
	if (pid == 0)
		relayed_cmd_main(&cmd_opts, -1, pipe_fd);
	if (pid < 0)
		child_fail(pipe_fd, "clone3", NULL);
	(void)!write(status_fd, &pid, sizeof(pid));
	(void)!write(status_fd, &status, sizeof(status));
	_exit(0);
}

/* The helper: enter the user and PID namespaces, start the command, relay. */
static _Noreturn void relay_main(const struct spawn_opts *o, pid_t parent, int pipe_fd,
				 int status_fd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct spawn_opts cmd_opts;
	int self_pidfd, cmd_pidfd = -1;
	pid_t pid;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(pipe_fd, "prctl(PR_SET_PDEATHSIG)", NULL);
	if (getppid() != parent)
		_exit(127);
	/* the terminal's ^C and ^\ are for the command (as system() does) */
	(void)sigaction(SIGINT, &ign, NULL);
	(void)sigaction(SIGQUIT, &ign, NULL);
	if (o->userns_fd >= 0 && setns(o->userns_fd, CLONE_NEWUSER) < 0)
		child_fail(pipe_fd, "setns(user namespace)", NULL);
	cmd_opts = *o;
	cmd_opts.userns_fd = -1; /* the command is born in it */
	if (setns(o->pidns_fd, CLONE_NEWPID) < 0)
		child_fail(pipe_fd, "setns(PID namespace)", NULL);
	if (o->detach) {
		pid = clone_with_pidfd(NULL);
		if (pid == 0)
			detach_main(&cmd_opts, pipe_fd, status_fd);
		if (pid < 0)
			child_fail(pipe_fd, "clone3", NULL);
		(void)close(pipe_fd);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			; /* it reports and exits at once */
		_exit(0);
	}
	self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (self_pidfd < 0)
		child_fail(pipe_fd, "pidfd_open(self)", NULL);
	pid = clone_with_pidfd(&cmd_pidfd);
	if (pid == 0)
		relayed_cmd_main(&cmd_opts, self_pidfd, pipe_fd);
	if (pid < 0)
		child_fail(pipe_fd, "clone3", NULL);
	(void)close(self_pidfd);
	(void)close(pipe_fd); /* the command's copy alone now says whether exec worked */
	(void)!write(status_fd, &pid, sizeof(pid));
	relay_loop(cmd_pidfd, status_fd);
}

/* Read the command's pid, which the helper writes before anything else. */
static int read_relayed_pid(int status_fd, pid_t *ret, nslab_error *err)
{
	ssize_t n;

	do
		n = read(status_fd, ret, sizeof(*ret));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*ret))
		return nslab_err_setx(err, EPROTO, "spawn: the helper did not report the command");
	return 0;
}

int spawn_relayed(const struct spawn_opts *opts, struct spawn_relay *ret, nslab_error *err)
{
	_cleanup_close_ int rd = -1, wr = -1, status_rd = -1, status_wr = -1;
	struct spawn_opts o = *opts;
	int pipefd[2], pidfd = -1, r, status;
	pid_t parent = getpid(), pid, cmd_pid = 0;

	if (!o.argv || !o.argv[0])
		return nslab_err_setx(err, EINVAL, "spawn: empty command");
	if (o.pidns_fd < 0)
		return nslab_err_setx(err, EINVAL, "spawn: a relayed spawn needs a PID namespace");
	if (o.userns_fd >= 0 && same_ns(o.userns_fd, "/proc/self/ns/user"))
		o.userns_fd = -1; /* entering one's own user namespace is EINVAL */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nslab_err_set(err, errno, "spawn: pipe2");
	rd = pipefd[0];
	wr = pipefd[1];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return nslab_err_set(err, errno, "spawn: pipe2");
	status_rd = pipefd[0];
	status_wr = pipefd[1];
	pid = clone_with_pidfd(&pidfd);
	if (pid == 0) {
		(void)close(rd);
		(void)close(status_rd);
		relay_main(&o, parent, wr, status_wr);
	}
	if (pid < 0)
		return nslab_err_set(err, errno, "spawn '%s': clone3", o.argv[0]);
	wr = close_fd(wr);
	status_wr = close_fd(status_wr);
	r = read_child_error(rd, err);
	if (r >= 0)
		r = read_relayed_pid(status_rd, &cmd_pid, err);
	if (r < 0) {
		(void)spawn_wait(pidfd, &status, NULL);
		(void)close(pidfd);
		return r;
	}
	*ret = (struct spawn_relay){ .helper_pid = pid,
				     .helper_pidfd = pidfd,
				     .cmd_pid = cmd_pid,
				     .status_fd = TAKE_FD(status_rd) };
	return 0;
}

int spawn_relay_wait(struct spawn_relay *rel, int *ret_status, nslab_error *err)
{
	int helper_status, cmd_status;
	ssize_t n;
	int r = spawn_wait(rel->helper_pidfd, &helper_status, err);

	if (r >= 0) {
		do
			n = read(rel->status_fd, &cmd_status, sizeof(cmd_status));
		while (n < 0 && errno == EINTR);
		*ret_status = n == (ssize_t)sizeof(cmd_status) ? cmd_status : helper_status;
	}
	rel->helper_pidfd = close_fd(rel->helper_pidfd);
	rel->status_fd = close_fd(rel->status_fd);
	return r;
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

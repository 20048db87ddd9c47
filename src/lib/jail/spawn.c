/* SPDX-License-Identifier: MIT */
/*
 * jail/spawn: the parent's side of a sandbox's start (core.h's DOC: the start
 * sequence, steps 2 and 3): clone3 into the namespaces (or through the
 * NET_JOIN helper), the uid/gid maps, GO, and the wait for STARTED or READY;
 * nslab_sandbox_spawn() and nslab_sandbox_run(). The plan is plan.c's, the
 * handle's other calls handle.c's, dynamic updates update.c's.
 */
#include "jail/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail/egress.h"
#include "ns/userns.h"
#include "shared/macro.h"

/* --- starting --------------------------------------------------------------- */

static int write_file(const char *path, const char *text, nslab_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		return nslab_err_set(err, errno, "write %s", path);
	return 0;
}

/* Whether /proc shows our PID namespace (its "self" is our pid): asked only after a failure. */
static bool proc_is_ours(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strtol(buf, NULL, 10) == (long)getpid();
}

static int write_maps(pid_t pid, const struct jail_plan *p, nslab_error *err)
{
	char path[64];
	int r = 0;

	if (p->deny_setgroups) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		r = write_file(path, "deny", err);
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (r >= 0)
		r = write_file(path, p->uid_map, err);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (r >= 0)
		r = write_file(path, p->gid_map, err);
	if (r < 0 && !proc_is_ours())
		return nslab_err_prefix(err, r,
					"sandbox user namespace (/proc is not this process's PID "
					"namespace's: its pid %d is another process)",
					(int)pid);
	if (r < 0)
		return nslab_err_prefix(err, r, "sandbox user namespace");
	return 0;
}

/* Async-signal-safe map writing for the NET_JOIN helper. */
static int helper_write(pid_t pid, const char *file, const char *text)
{
	char path[64] = "/proc/";
	size_t n = 6;
	int fd, r = 0;
	char num[16], *s = num + sizeof(num);

	*--s = '\0';
	for (unsigned v = (unsigned)pid; v || s == num + sizeof(num) - 1; v /= 10)
		*--s = (char)('0' + v % 10);
	memcpy(path + n, s, strlen(s));
	n += strlen(s);
	path[n++] = '/';
	memcpy(path + n, file, strlen(file) + 1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

struct helper_report {
	pid_t init_pid;
	nslab_error err;
};

static _Noreturn void helper_fail(int rep, const char *what)
{
	struct helper_report hr = { .init_pid = -1 };
	/* no errno, no cause: "what: Success" would say the opposite */
	const char *cause = errno ? strerrordesc_np(errno) : NULL;

	hr.err.code = errno ? errno : EIO;
	memcpy(hr.err.msg, what, strlen(what) + 1);
	if (cause && strlen(what) + strlen(cause) + 3 < sizeof(hr.err.msg)) {
		strcat(hr.err.msg, ": ");
		strcat(hr.err.msg, cause);
	}
	(void)!write(rep, &hr, sizeof(hr));
	_exit(1);
}

/*
 * NET_JOIN: enter the lab's user namespace (setns into its network namespace
 * needs CAP_SYS_ADMIN over that namespace's owner) and network namespace, then
 * clone init as the caller's child (CLONE_PARENT: its PR_SET_PDEATHSIG is tied
 * to the calling thread, and the caller reaps it), write its maps, report, exit.
 */
static _Noreturn void helper_main(const struct jail_plan *p, char *const *argv, int sock,
				  int parent_pidfd, int rep)
{
	struct clone_args a = { .flags = p->clone_flags | CLONE_PARENT };
	char um[32], gm[32];
	pid_t pid;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		helper_fail(rep, "prctl");
	if (p->join_userns_fd >= 0 && setns(p->join_userns_fd, CLONE_NEWUSER) < 0)
		helper_fail(rep, "enter the lab's user namespace");
	if (setns(p->join_netns_fd, CLONE_NEWNET) < 0)
		helper_fail(rep, "enter the network namespace");
	if (p->userns && p->join_userns_fd >= 0 &&
	    (!jail_map_line(um, sizeof(um), p->uid, geteuid()) ||
	     !jail_map_line(gm, sizeof(gm), p->gid, getegid())))
		helper_fail(rep, "map ids");
	pid = jail_clone(&a);
	if (pid == 0)
		jail_init_main(p, argv, sock, parent_pidfd, NULL);
	if (pid < 0)
		helper_fail(rep, "clone3 the sandbox's namespaces");
	if (p->userns &&
	    ((p->deny_setgroups && helper_write(pid, "setgroups", "deny") < 0) ||
	     helper_write(pid, "uid_map", p->join_userns_fd >= 0 ? um : p->uid_map) < 0 ||
	     helper_write(pid, "gid_map", p->join_userns_fd >= 0 ? gm : p->gid_map) < 0)) {
		(void)kill(pid, SIGKILL);
		helper_fail(rep, "write the sandbox's uid/gid maps");
	}
	(void)!write(rep, &(struct helper_report){ .init_pid = pid }, sizeof(struct helper_report));
	_exit(0);
}

static int start_joined(nslab_sandbox *s, char *const *argv, int sock, int other, int parent_pidfd,
			nslab_error *err)
{
	struct clone_args a = { .exit_signal = 0 };
	struct helper_report hr;
	int rep[2], status;
	pid_t helper;
	ssize_t n;

	if (pipe2(rep, O_CLOEXEC) < 0)
		return nslab_err_set(err, errno, "pipe2");
	helper = jail_clone(&a);
	if (helper == 0) {
		(void)close(rep[0]);
		(void)close(other);
		helper_main(s->plan, argv, sock, parent_pidfd, rep[1]);
	}
	(void)close(rep[1]);
	if (helper < 0) {
		(void)close(rep[0]);
		return nslab_err_set(err, errno, "start the namespace helper");
	}
	do
		n = read(rep[0], &hr, sizeof(hr));
	while (n < 0 && errno == EINTR);
	(void)close(rep[0]);
	while (waitpid(helper, &status, __WALL) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(hr))
		return nslab_err_setx(err, EIO, "the namespace helper died");
	if (hr.init_pid < 0) {
		hr.err.msg[sizeof(hr.err.msg) - 1] = '\0';
		if (err)
			*err = hr.err;
		return -hr.err.code;
	}
	s->init_pid = hr.init_pid;
	s->init_pidfd = (int)syscall(SYS_pidfd_open, s->init_pid, 0);
	if (s->init_pidfd < 0)
		return nslab_err_set(err, errno, "pidfd_open(init)");
	return 0;
}

/*
 * Whether setgroups(2) is denied to everyone where the command will call it:
 * init's user namespace, which inherits the flag (a rootless lab's, `unshare
 * -r`'s). No capability overrides it, so the groups cannot change there and
 * the command leaves them; it must not try and fail (it may share errno with
 * init, init-early.c's DOC). Unreadable: not denied, so a refusal is an error.
 */
static bool setgroups_denied(pid_t init_pid)
{
	char path[64], buf[8] = "";
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)init_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		return false;
	return strncmp(buf, "deny", 4) == 0;
}

/*
 * DOC: init sharing the caller's memory (plan->init_vm)
 * With nslab_sandbox_config_set_shared_init() (`nslab run` sets it), a run's
 * init is cloned with CLONE_VM onto a stack of the caller's (glibc's clone():
 * clone3() has no stack-switching wrapper), instead of with a copy of the
 * caller's memory: the copy of its page tables took the clone about 50 us,
 * and init's copy-on-write faults and its exit's teardown of the copy as much
 * again (about 90 us a start in all, interleaved medians of 200). What init
 * reads of the caller's (the plan, argv, envp) lives until init is reaped;
 * the command forked early gets the bottom of the same mapping as its stack,
 * so nothing else is left mapped whichever way init ends. That mapping is kept
 * for the next start once init is reaped (one spare for the process, whose
 * memory it is, whichever thread starts next: jail_init_stack_put()):
 * unmapping it frees page tables, which takes a TLB shootdown on every CPU
 * that ran init or the command, and on this VM an idle CPU halts at once, so
 * the unmap waited about 50 us for it to wake, on the path from the
 * command's end to the caller's (interleaved medians of 300: 35-80 us less
 * a `nslab run`). The spare's pages stay resident, about 28 KiB of the 2 MiB
 * reserved; the caller's exit unmaps it with everything else.
 * The price: init and the command run on the calling thread's TLS, errno
 * among it. The caller's thread does nothing but wait meanwhile (the
 * contract of set_shared_init()), and takes no signal during the start;
 * later, a failed wait of its own is believed only once init has ended
 * (jail_sandbox_wait_init()), and init's loop retries whatever errno it
 * reads. init leaves the memory's dumpable flag alone (the caller would keep
 * it): with no capability kept, the command holds none of init's and the
 * kernel refuses it init's memory, ours; a kept one (CAP_SYS_PTRACE: that
 * memory read and written through /proc/1/mem) gets a copy as before. The
 * command's own set*id() to other ids clears the flag of the memory, ours:
 * the caller is then no longer dumpable. A caller that is not dumpable gets a
 * copy (rootless, init could not write its maps), and so does a sandbox with
 * no PID namespace (init's end would not end a command still on our memory
 * before its exec). Not for a pool, a cgroup (CLONE_INTO_CGROUP), NET_JOIN
 * or under AddressSanitizer.
 */
struct init_args {
	const struct jail_plan *p;
	char *const *argv;
	int sock, other, parent_pidfd;
	char *cmd_stack;
};

static int init_trampoline(void *arg)
{
	const struct init_args *a = arg;

	(void)close(a->other);
	jail_init_main(a->p, a->argv, a->sock, a->parent_pidfd, a->cmd_stack);
}

/* The spare stack (the DOC above): taken by a start, given back once its init is reaped. */
static char *_Atomic spare_init_stack;

char *jail_init_stack_get(void)
{
	char *stack = atomic_exchange(&spare_init_stack, NULL);

	if (stack)
		return stack;
	stack = jail_stack_map(JAIL_INIT_STACK_SIZE);
	return stack == MAP_FAILED ? NULL : stack;
}

void jail_init_stack_put(char *stack)
{
	char *none = NULL;

	if (stack && !atomic_compare_exchange_strong(&spare_init_stack, &none, stack))
		(void)munmap(stack, JAIL_INIT_STACK_SIZE);
}

/*
 * init on a stack of its own, sharing our memory; its args at the stack's
 * top, the command's stack at the bottom (both given back once init is reaped).
 */
static pid_t clone_init_vm(nslab_sandbox *s, char *const *argv, int sock, int other,
			   int parent_pidfd)
{
	struct init_args *a;

	s->init_stack = jail_init_stack_get();
	if (!s->init_stack)
		return -1;
	a = (struct init_args *)(s->init_stack + JAIL_INIT_STACK_SIZE) - 1;
	*a = (struct init_args){ s->plan, argv, sock, other, parent_pidfd, s->init_stack };
	/* exit signal 0, as with clone3(): a caller's waitpid(-1) cannot reap init */
	return clone(init_trampoline, a, (int)(s->plan->clone_flags | CLONE_VM | CLONE_PIDFD), a,
		     &s->init_pidfd);
}

static int start_direct(nslab_sandbox *s, char *const *argv, int sock, int other, int parent_pidfd,
			nslab_error *err)
{
	/* exit_signal 0: a caller's waitpid(-1) (a SIGCHLD handler) cannot reap init; we use __WALL */
	struct clone_args a = { .flags = s->plan->clone_flags | CLONE_PIDFD,
				.pidfd = (uint64_t)(uintptr_t)&s->init_pidfd,
				.exit_signal = 0 };
	pid_t pid;

	if (s->plan->init_vm && argv) {
		pid = clone_init_vm(s, argv, sock, other, parent_pidfd);
	} else {
		pid = jail_clone(&a);
		if (pid == 0) {
			(void)close(other);
			jail_init_main(s->plan, argv, sock, parent_pidfd, NULL);
		}
	}
	if (pid < 0)
		return nslab_err_set(err, errno, "clone3 the sandbox's namespaces%s",
				     errno == EPERM || errno == ENOSPC
					     ? " (are user namespaces allowed for this user?)"
					     : "");
	s->init_pid = pid;
	if (s->plan->userns && !s->plan->self_maps)
		return write_maps(pid, s->plan, err);
	return 0;
}

/* The pid of a pidfd's process in our PID namespace (fdinfo's "Pid:"). */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	return p ? (pid_t)strtol(p + 5, NULL, 10) : -1;
}

int jail_sandbox_wait_init(nslab_sandbox *s, struct rusage *ru)
{
	struct pollfd pfd = { .fd = s->init_pidfd, .events = POLLIN };
	bool ended = false;
	siginfo_t si;

	/* no pidfd, no way to know init has ended: the poll below would wait for ever */
	if (s->init_pidfd < 0)
		return -EBADF;
	/* raw waitid: glibc's has no rusage; it is the whole reaped tree's */
	while (syscall(SYS_waitid, P_PIDFD, s->init_pidfd, &si, WEXITED | __WALL, ru) < 0) {
		/*
		 * an init sharing our memory may have set errno meanwhile (this
		 * file's DOC): a failure counts once init has ended (its pidfd
		 * readable) and it fails again
		 */
		if (errno == EINTR)
			continue;
		if (ended)
			return -errno;
		while (poll(&pfd, 1, -1) != 1)
			;
		ended = true;
	}
	s->reaped = true;
	return 0;
}

/* Reap init after a failed start (it exits on its own after an ERROR) or at free. */
void jail_sandbox_reap_init(nslab_sandbox *s, int sig)
{
	struct rusage ru;

	if (s->init_pidfd < 0 || s->reaped)
		return;
	if (sig)
		(void)syscall(SYS_pidfd_send_signal, s->init_pidfd, sig, NULL, 0);
	(void)jail_sandbox_wait_init(s, &ru);
	s->reaped = true;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = close_fd(fds[i]);
}

/* The exec step's errors keep their code; a setup step's never reads as 126/127. */
static int start_failed(nslab_sandbox *s, nslab_error *e, bool exec_step, nslab_error *err)
{
	e->msg[sizeof(e->msg) - 1] = '\0';
	if (!e->code)
		e->code = EIO;
	if (err)
		*err = *e;
	s->res.exit_code = !exec_step							 ? 125
			   : e->code == ENOENT						 ? 127
			   : e->code == EACCES || e->code == ENOEXEC || e->code == EPERM ? 126
											 : 125;
	return -e->code;
}

/* The command's pid in our PID namespace, from STARTED (core.h: enum jail_pid_in). */
static pid_t started_pid(const nslab_sandbox *s, const struct jail_msg *m, const struct ucred *cred)
{
	if (m->pid_in == JAIL_PID_IN_CRED && cred->pid > 0)
		return cred->pid;
	if (m->pid_in == JAIL_PID_IN_VALUE && m->value > 0 && m->value <= INT_MAX)
		return (pid_t)m->value;
	return pidfd_pid(s->cmd_pidfd);
}

/*
 * Wait for READY (pool: with the prepared command's argv socket, exec pipe
 * and pidfd, when it has one) or STARTED (the command's pidfd), or the ERROR
 * that ends the start.
 */
static int await_start(nslab_sandbox *s, uint32_t want, nslab_error *err)
{
	int fds[JAIL_MSG_FDS_MAX], r;
	struct jail_msg m;
	struct ucred cred;

	/*
	 * STARTED names the command's pid in SCM_CREDENTIALS, which the kernel
	 * gives only to a socket that asks when it reads; asked only here (a
	 * socket with SO_PASSCRED set when it sends is bound to an abstract name)
	 */
	if (want == JAIL_MSG_STARTED)
		(void)setsockopt(s->sock, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int));
	r = jail_msg_recv_cred(s->sock, &m, fds, JAIL_MSG_FDS_MAX, &cred);
	if (want == JAIL_MSG_STARTED)
		(void)setsockopt(s->sock, SOL_SOCKET, SO_PASSCRED, &(int){ 0 }, sizeof(int));
	if (r <= 0 || (m.kind != want && m.kind != JAIL_MSG_ERROR)) {
		close_fds(fds, JAIL_MSG_FDS_MAX);
		jail_sandbox_reap_init(s, SIGKILL);
		return nslab_err_setx(err, r < 0 ? -r : EPROTO, "the sandbox's init ended early");
	}
	if (m.kind == JAIL_MSG_ERROR) {
		close_fds(fds, JAIL_MSG_FDS_MAX);
		jail_sandbox_reap_init(s, 0);
		return start_failed(s, &m.err, m.value, err);
	}
	s->pidns_dev = (dev_t)m.ns_dev;
	s->pidns_ino = (ino_t)m.ns_ino;
	if (want == JAIL_MSG_STARTED) {
		s->cmd_pidfd = TAKE_FD(fds[0]);
		s->cmd_pid = started_pid(s, &m, &cred);
	} else if (fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0) {
		s->prep_go = TAKE_FD(fds[0]);
		s->prep_ep = TAKE_FD(fds[1]);
		s->cmd_pidfd = TAKE_FD(fds[2]);
		/*
		 * now, while it waits for its argv: once it runs, init may reap it
		 * before we look, and a reaped pidfd's fdinfo says -1
		 */
		s->cmd_pid = pidfd_pid(s->cmd_pidfd);
	}
	close_fds(fds, JAIL_MSG_FDS_MAX);
	return 0;
}

static nslab_sandbox *sandbox_new(struct jail_plan *p)
{
	nslab_sandbox *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->plan = jail_plan_ref(p);
	s->init_pidfd = s->sock = s->cmd_pidfd = s->prep_go = s->prep_ep = -1;
	s->init_pid = s->cmd_pid = -1;
	memcpy(s->limit, p->limits.value, sizeof(s->limit));
	memcpy(s->mech, p->limits.mech, sizeof(s->mech));
	s->t0 = jail_mono_ns();
	return s;
}

int jail_sandbox_start(struct jail_plan *p, char *const argv[], nslab_sandbox **ret,
		       int *ret_exit_code, nslab_error *err)
{
	nslab_sandbox *s = sandbox_new(p);
	struct jail_msg go = { .kind = JAIL_MSG_GO };
	int sv[2], r, self;

	if (!s)
		return nslab_err_set(err, ENOMEM, "sandbox");
	/* init checks through it that we did not die before its PR_SET_PDEATHSIG */
	self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (self < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = nslab_err_set(err, errno, "pidfd_open(self) or socketpair");
		(void)close_fd(self);
		goto fail;
	}
	s->sock = sv[0];
	r = p->join ? start_joined(s, argv, sv[1], sv[0], self, err)
		    : start_direct(s, argv, sv[1], sv[0], self, err);
	(void)close(sv[1]);
	(void)close(self);
	if (r >= 0 && p->set_groups)
		go.value = setgroups_denied(s->init_pid);
	if (r >= 0 && !p->self_maps && (r = jail_msg_send(s->sock, &go, -1)) < 0)
		(void)nslab_err_set(err, -r, "release the sandbox's init");
	if (r >= 0)
		r = await_start(s, argv ? JAIL_MSG_STARTED : JAIL_MSG_READY, err);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	if (ret_exit_code)
		*ret_exit_code = s->res.exit_code ? s->res.exit_code : 125;
	(void)nslab_sandbox_free(s);
	return r;
}

static size_t argv_blob(char *const argv[], char *buf, size_t len)
{
	size_t argc = 0, n;

	while (argv[argc])
		argc++;
	n = (size_t)snprintf(buf, len, "%zu", argc) + 1;
	for (size_t i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;

		if (buf && n + l <= len)
			memcpy(buf + n, argv[i], l);
		n += l;
	}
	return n;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/*
 * A prepared command (init-pool.c's DOC: the pool's command): argv straight to it,
 * then its exec pipe. Return: 0 once it exec'd, or -errno (its error, as
 * ERROR's from init).
 */
static int run_direct(nslab_sandbox *s, char *const argv[], size_t len, nslab_error *err)
{
	_cleanup_free_ char *buf = malloc(sizeof(uint64_t) + len);
	uint64_t hdr = len;
	nslab_error e = { 0 };
	ssize_t n;

	if (!buf)
		return nslab_err_set(err, ENOMEM, "the command's arguments");
	memcpy(buf, &hdr, sizeof(hdr));
	(void)argv_blob(argv, buf + sizeof(hdr), len);
	s->t0 = jail_mono_ns();
	/* a command that died in its setup reads nothing: its error is in the exec pipe */
	(void)send_all(s->prep_go, buf, sizeof(hdr) + len);
	s->prep_go = close_fd(s->prep_go);
	do
		n = read(s->prep_ep, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	s->prep_ep = close_fd(s->prep_ep);
	if (n == 0) {
		if (s->cmd_pid <= 0)
			s->cmd_pid = pidfd_pid(s->cmd_pidfd);
		return 0;
	}
	if (n != (ssize_t)sizeof(e))
		return nslab_err_setx(err, EIO, "the sandbox's command ended before its exec");
	return start_failed(s, &e, true, err);
}

int jail_sandbox_run_prepared(nslab_sandbox *s, char *const argv[], nslab_error *err)
{
	struct jail_msg m = { .kind = JAIL_MSG_RUN };
	size_t len = argv_blob(argv, NULL, 0), argc = 0;
	_cleanup_close_ int fd = -1;
	char *buf;
	int r;

	while (argv[argc])
		argc++;
	if (s->prep_go >= 0 && jail_prep_fits(len, argc))
		return run_direct(s, argv, len, err);
	/* init starts one: the prepared command goes (init kills it when RUN comes) */
	s->prep_go = close_fd(s->prep_go);
	s->prep_ep = close_fd(s->prep_ep);
	s->cmd_pidfd = close_fd(s->cmd_pidfd);
	fd = memfd_create("nslab-argv", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
		return nslab_err_set(err, errno, "memfd for the command");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED)
		return nslab_err_set(err, errno, "memfd for the command");
	(void)argv_blob(argv, buf, len);
	(void)munmap(buf, len);
	s->t0 = jail_mono_ns();
	r = jail_msg_send(s->sock, &m, fd);
	if (r < 0)
		return nslab_err_set(err, -r, "send the command to the sandbox");
	return await_start(s, JAIL_MSG_STARTED, err);
}

/* --- public: run, spawn, the handle ---------------------------------------- */

/* spawn, with the exit code a failed start stands for (125, or 126/127 from exec) */
static int sandbox_spawn(const nslab_sandbox_config *c, char *const argv[], nslab_sandbox **ret,
			 int *ret_exit_code, nslab_error *err)
{
	struct jail_plan *p = NULL;
	int r;

	*ret_exit_code = 125;
	if (!argv || !argv[0])
		return nslab_err_setx(err, EINVAL, "sandbox: empty command");
	r = jail_plan_prepare(c, &p, err);
	if (r < 0)
		return r;
	r = jail_sandbox_start(p, argv, ret, ret_exit_code, err);
	jail_plan_unref(p);
	return r;
}

/*
 * set_egress(): a session of the policy, and the command in its jail, with
 * /etc/resolv.conf naming the gate (a file bound over it, removed once the
 * sandbox has its mounts), from a copy of c.
 */
static int spawn_filtered(const nslab_sandbox_config *c, char *const argv[], nslab_sandbox **ret,
			  int *ret_exit_code, nslab_error *err)
{
	nslab_egress_session *es = NULL;
	nslab_sandbox_config *d = NULL;
	char resolv[PATH_MAX] = "";
	int r;

	*ret_exit_code = 125;
	r = nslab_egress_start(c->egress, &es, err);
	if (r >= 0)
		r = jail_config_dup(c, &d, err);
	if (r >= 0)
		r = nslab_sandbox_config_set_netns(d, -1, nslab_egress_session_netns_fd(es), err);
	if (r >= 0)
		r = egress_resolv_file(resolv, sizeof(resolv), err);
	if (r >= 0)
		r = nslab_sandbox_config_add_bind(d, resolv, "/etc/resolv.conf",
						  NSLAB_SANDBOX_BIND_RO, err);
	if (r >= 0)
		r = sandbox_spawn(d, argv, ret, ret_exit_code, err);
	if (resolv[0])
		(void)unlink(resolv);
	nslab_sandbox_config_free(d);
	if (r < 0) {
		nslab_egress_session_free(es);
		return r;
	}
	(*ret)->egress = es;
	return 0;
}

int nslab_sandbox_spawn(const nslab_sandbox_config *c, char *const argv[], nslab_sandbox **ret,
			nslab_error *err)
{
	return nslab_sandbox_spawn_ex(c, argv, ret, NULL, err);
}

int nslab_sandbox_spawn_ex(const nslab_sandbox_config *c, char *const argv[], nslab_sandbox **ret,
			   int *ret_exit_code, nslab_error *err)
{
	int code, r = c->egress ? spawn_filtered(c, argv, ret, &code, err)
				: sandbox_spawn(c, argv, ret, &code, err);

	if (r < 0 && ret_exit_code)
		*ret_exit_code = code;
	return r;
}

int nslab_sandbox_run(const nslab_sandbox_config *c, char *const argv[],
		      struct nslab_sandbox_result *res, nslab_error *err)
{
	nslab_sandbox *s = NULL;
	int code, r = c->egress ? spawn_filtered(c, argv, &s, &code, err)
				: sandbox_spawn(c, argv, &s, &code, err);

	if (r < 0) {
		if (res)
			*res = (struct nslab_sandbox_result){ .exit_code = code };
		return r;
	}
	r = nslab_sandbox_wait(s, res, err);
	(void)nslab_sandbox_free(s);
	return r;
}

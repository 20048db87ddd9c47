/* SPDX-License-Identifier: MIT */
/*
 * jail/init: pid 1 of the sandbox: its start (maps, root, network, the
 * command's start), its loop (reaping, the parent's messages, the limits'
 * timers) and its end (kill, reap, REPORT). See core.h's DOC: the start
 * sequence; the command between fork and exec is command.c's, a run's
 * command forked early init-early.c's, the network namespace init-net.c's,
 * the pool's prepared command init-pool.c's, the limits' sampling
 * init-watch.c's (init.h: what they share). Everything here runs in a child
 * of a possibly multi-threaded caller and never execs itself:
 * async-signal-safe calls only (raw syscalls, no malloc, no stdio, no locks).
 *
 * DOC: what init watches (rlimit mode; the cgroup's own counters otherwise)
 * While a memory, CPU or pids limit is set, init samples its PID namespace's
 * /proc every JAIL_SAMPLE_MS: each process's /proc/PID/stat (tasks, CPU time
 * of itself and of its reaped children) and, for a memory limit, VmPeak from
 * /proc/PID/status. Every reaped process adds its rusage (ru_maxrss).
 * - memory reached: a VmPeak or a maxrss at JAIL_MEM_NEAR_NUM/DEN (7/8) of
 *   the limit. RLIMIT_AS makes allocations fail; the program decides what
 *   then, so the sandbox ends by *memory* when it was reached and the command
 *   then failed (a non-zero exit or a fatal signal).
 * - pids reached: the tasks at the limit (a fork or a thread refused). A fork
 *   bomb under RLIMIT_NPROC never ends by itself (shells retry), so a limit
 *   that stays reached JAIL_PIDS_GRACE_MS ends the sandbox, ended by *pids*,
 *   as the OOM killer ends a memory cgroup that cannot reclaim. Above the
 *   limit (the host's root, which RLIMIT_NPROC does not hold) it ends at once.
 * - CPU: the sum over live processes plus init's reaped children passes the
 *   limit: the sandbox ends, by *cpu* (RLIMIT_CPU holds each process too).
 * - fsize: a process killed by SIGXFSZ. files: never seen (EMFILE is silent).
 * - timeout: a timerfd from the command's start.
 * The end: kill(-1, SIGKILL) (pid 1 of its namespace: every other process)
 * while init has a child left (none: the kernel empties the namespace as init
 * exits, init_finish()), reap everything, report the command's status, what
 * was reached, the wall time and RUSAGE_CHILDREN (every process of the
 * sandbox, init excluded).
 */
#include "jail/init.h"

#include "jail/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"
#include "shared/signals.h"

/* --- init ------------------------------------------------------------------------- */

_Noreturn void jail_init_fail(struct init *in, const nslab_error *e, bool exec_failed)
{
	struct jail_msg m = { .kind = JAIL_MSG_ERROR, .value = exec_failed, .err = *e };

	(void)jail_msg_send(in->sock, &m, -1);
	_exit(1);
}

void jail_init_reach(struct init *in, enum nslab_sandbox_limit limit)
{
	struct jail_msg m = { .kind = JAIL_MSG_REACHED, .limit = limit };

	if (in->reached & (1u << limit))
		return;
	in->reached |= 1u << limit;
	if (in->sock >= 0)
		(void)jail_msg_send(in->sock, &m, -1);
}

void jail_init_end(struct init *in, enum nslab_sandbox_limit by)
{
	jail_init_reach(in, by);
	if (!in->ended_by)
		in->ended_by = by;
}

void jail_spin_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = now_ns() + JAIL_SPIN_NS;

	while (poll(&pfd, 1, 0) == 0 && now_ns() < end)
		(void)sched_yield();
}

int jail_loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	(void)close(fd);
	return r;
}

/*
 * The /proc init samples and kills through. In a PID namespace it must be that
 * namespace's (pid 1 is init itself); the filesystem step mounts one, and if it
 * did not (no mount namespace change asked), init mounts one over /proc in its
 * own mount namespace. Without a PID namespace: the caller's /proc.
 */
static int open_proc(const struct jail_plan *p)
{
	char self[16];
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (!p->pidns)
		return fd;
	if (fd >= 0 && readlinkat(fd, "self", self, sizeof(self)) == 1 && self[0] == '1')
		return fd;
	fd = close_fd(fd);
	if (!(p->clone_flags & CLONE_NEWNS) ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -1;
	return open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void close_others(const struct init *in)
{
	int keep[12], n = 0;

	keep[n++] = in->sock;
	for (int i = 0; i < 3; i++)
		keep[n++] = in->p->stdio[i];
	keep[n++] = in->p->limits.cgroup_fd;
	keep[n++] = in->procfd;
	keep[n++] = in->sigfd;
	keep[n++] = in->early_go;
	keep[n++] = in->early_ep;
	keep[n++] = in->early_pidfd;
	/* close everything from 3 up except keep[]: sort, then close the gaps */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (int i = 0, from = 3; i <= n; i++) {
		int upto = i < n ? keep[i] : -1;

		if (i < n && upto < from)
			continue;
		if (i == n) {
			(void)syscall(SYS_close_range, (unsigned)from, ~0U, 0U);
			break;
		}
		if (upto > from)
			(void)syscall(SYS_close_range, (unsigned)from, (unsigned)upto - 1, 0U);
		from = upto + 1;
	}
}

/* early: the command was forked at once (init-early.c) */
static void init_setup(struct init *in, bool early)
{
	const struct jail_plan *p = in->p;
	struct net_helper net = { .fd = -1 };
	jail_fs_hook hook = NULL;
	void *hook_data = &net;
	nslab_error e = { 0 };

	if (early) {
		if (p->net_late)
			hook = jail_early_net_join, hook_data = in;
	} else if (p->net_late) {
		jail_net_start(&net);
		hook = jail_net_join;
	}
	if (p->new_net && !p->net_late && jail_loopback_up() < 0)
		child_err(&e, errno, "bring loopback up", NULL), jail_init_fail(in, &e, false);
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		child_err(&e, errno, "set the host name", p->hostname),
			jail_init_fail(in, &e, false);
	if (jail_fs_enter_hooked(p->fs, hook, hook_data, &e) < 0)
		jail_init_fail(in, &e, false);
	in->procfd = open_proc(p);
	if (p->net_late && p->pidns && !early)
		jail_reset_last_pid(in->procfd);
	if (!p->pidns)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/*
	 * the command may share init's uid: it must not ptrace or read init's
	 * memory. Not when that memory is the caller's (in->cmd_stack): the flag
	 * is the memory's, and the caller would keep it; init's capabilities,
	 * which the command has none of, refuse the command that access anyway.
	 */
	if (!in->cmd_stack)
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_NAME, "nslab-init", 0, 0, 0);
	close_others(in);
}

/* The argc of a blob "argc\0arg0\0arg1\0..." (from the caller: trusted). */
uint64_t jail_blob_argc(const char *blob)
{
	return parse_u64(&blob);
}

/* blob's argv array, in argv (jail_blob_argc() + 1 slots), or mapped if NULL. Return: NULL on ENOMEM */
char *const *jail_argv_of_blob(const char *blob, char **argv)
{
	const char *s = blob;
	uint64_t argc = parse_u64(&s);

	if (!argv)
		argv = mmap(NULL, (argc + 1) * sizeof(char *), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (argv == MAP_FAILED)
		return NULL;
	s += strlen(s) + 1;
	for (uint64_t i = 0; i < argc; i++, s += strlen(s) + 1)
		argv[i] = (char *)s;
	argv[argc] = NULL;
	return argv;
}

/* Pool: the command's argv arrives in a memfd, as a blob (jail_argv_of_blob()). */
const char *jail_init_recv_blob(struct init *in, size_t *ret_len)
{
	struct jail_msg m;
	struct stat st;
	nslab_error e = { 0 };
	char *blob;
	int fd = -1;

	if (jail_msg_recv(in->sock, &m, &fd) <= 0 || m.kind != JAIL_MSG_RUN || fd < 0 ||
	    fstat(fd, &st) < 0 || st.st_size < 2)
		_exit(1); /* the pool went away */
	blob = mmap(NULL, (size_t)st.st_size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (blob == MAP_FAILED)
		child_err(&e, errno, "map the command", NULL), jail_init_fail(in, &e, false);
	*ret_len = (size_t)st.st_size;
	return blob;
}

struct cmd_args {
	const struct jail_plan *p;
	char *const *argv;
	bool set_groups;
	int pipe_fd, close1, close2;
};

static int cmd_trampoline(void *arg)
{
	const struct cmd_args *a = arg;

	(void)close(a->close1);
	(void)close(a->close2);
	jail_cmd_main(a->p, a->argv, a->set_groups, a->pipe_fd);
}

/*
 * The command's process. Like posix_spawn(): CLONE_VM | CLONE_VFORK, so that
 * no page table is copied (init is a copy of the caller, which may be big) and
 * init sleeps until the exec. A cgroup needs clone3()'s CLONE_INTO_CGROUP, and
 * AddressSanitizer does not follow a stack switch: both fork as usual.
 */
static pid_t cmd_clone(const struct jail_plan *p, struct cmd_args *a, int *ret_pidfd)
{
	struct clone_args ca = { .flags = CLONE_PIDFD,
				 .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
				 .exit_signal = SIGCHLD };
	bool vfork = p->limits.cgroup_fd < 0;
	pid_t pid;
	char *stack;

#ifdef JAIL_ASAN
	vfork = false;
#endif
	if (vfork) {
		stack = jail_stack_map(JAIL_CMD_STACK_SIZE);
		if (stack == MAP_FAILED)
			return -1;
		pid = clone(cmd_trampoline, stack + JAIL_CMD_STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, a, ret_pidfd);
		(void)munmap(stack, JAIL_CMD_STACK_SIZE);
		return pid;
	}
	if (p->limits.cgroup_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)p->limits.cgroup_fd;
	}
	pid = jail_clone(&ca);
	if (pid == 0)
		cmd_trampoline(a);
	return pid;
}

/* The command's exec pipe: end of file when execve() worked, else its error (then init ends). */
void jail_init_await_exec(struct init *in, int ep)
{
	nslab_error e = { 0 };
	int status;
	ssize_t n;

	do
		n = read(ep, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	(void)close(ep);
	if (n == 0)
		return;
	while (waitpid(in->cmd, &status, __WALL) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(e))
		child_err(&e, EIO, "the command's exec report", NULL);
	e.msg[sizeof(e.msg) - 1] = '\0';
	jail_init_fail(in, &e, true);
}

/* Start the command; its exec pipe tells whether execve() worked. */
void jail_init_start_command(struct init *in, int *ret_pidfd)
{
	nslab_error e = { 0 };
	struct cmd_args a;
	int ep[2];

	if (in->early_pidfd >= 0) {
		jail_early_go(in, ret_pidfd);
		return;
	}

	if (pipe2(ep, O_CLOEXEC) < 0)
		child_err(&e, errno, "pipe2", NULL), jail_init_fail(in, &e, false);
	a = (struct cmd_args){
		.p = in->p,
		.argv = in->argv,
		.set_groups = in->set_groups,
		.pipe_fd = ep[1],
		.close1 = ep[0],
		.close2 = in->sock,
	};
	in->t0 = now_ns();
	in->cmd = cmd_clone(in->p, &a, ret_pidfd);
	if (in->cmd < 0)
		child_err(&e, errno, "start the command", NULL), jail_init_fail(in, &e, false);
	(void)close(ep[1]);
	jail_init_await_exec(in, ep[0]);
}

/* Account for a reaped process: what its end says about the limits. */
static void init_reaped(struct init *in, pid_t pid, int status, const struct rusage *ru)
{
	uint64_t mem = in->limit[NSLAB_SANDBOX_LIMIT_MEMORY];

	if (mem && (uint64_t)ru->ru_maxrss * 1024 >= mem / JAIL_MEM_NEAR_DEN * JAIL_MEM_NEAR_NUM)
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ)
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_FSIZE);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_CPU);
	if (pid != in->cmd)
		return;
	in->cmd_done = true;
	in->cmd_status = status;
	in->wall_usec = (now_ns() - in->t0) / 1000;
}

/* Reap what ended (block: everything, killing what is left); false once no child is left. */
static bool init_reap(struct init *in, bool block)
{
	struct rusage ru;
	int status;
	pid_t pid;

	for (;;) {
		pid = wait4(-1, &status, __WALL | (block ? 0 : WNOHANG), &ru);
		if (pid > 0) {
			init_reaped(in, pid, status, &ru);
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0 && errno == ECHILD)
			return false;
		if (!block)
			return true;
		if (in->p->pidns)
			(void)kill(-1, SIGKILL); /* in case one was forked while we killed */
	}
}

/* A message from the parent: a lowered limit, or end of file (the owner is gone). */
static void init_control(struct init *in)
{
	struct jail_msg m;

	if (jail_msg_recv(in->sock, &m, NULL) <= 0) {
		in->sock = close_fd(in->sock);
		return;
	}
	if (m.kind != JAIL_MSG_LIMIT || m.limit == 0 || m.limit >= NSLAB_SANDBOX_LIMIT__COUNT)
		return;
	in->limit[m.limit] = m.value;
	jail_init_timers(in);
}

static void drain(int fd)
{
	char buf[512];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Supervise until the command ended, a limit ended the sandbox, or the owner left. */
static void init_loop(struct init *in)
{
	(void)init_reap(in, false);
	while (!in->cmd_done && !in->ended_by && in->sock >= 0) {
		struct pollfd pfd[4] = { { .fd = in->sigfd, .events = POLLIN },
					 { .fd = in->tfd_timeout, .events = POLLIN },
					 { .fd = in->tfd_sample, .events = POLLIN },
					 { .fd = in->sock, .events = POLLIN } };

		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0)
			continue;
		if (pfd[0].revents) {
			drain(in->sigfd);
			(void)init_reap(in, false);
		}
		if (pfd[1].revents) {
			drain(in->tfd_timeout);
			jail_init_end(in, NSLAB_SANDBOX_LIMIT_TIMEOUT);
		}
		if (pfd[2].revents) {
			drain(in->tfd_sample);
			jail_init_sample(in);
		}
		if (pfd[3].revents)
			init_control(in);
	}
}

/* Kill what is left of the tree (everything but init in its PID namespace). */
static void init_kill_all(struct init *in)
{
	if (in->p->pidns) {
		(void)kill(-1, SIGKILL);
		return;
	}
	(void)kill(-in->cmd, SIGKILL);
	/* no PID namespace: the command's session, as far as /proc shows it */
	in->limit[NSLAB_SANDBOX_LIMIT_MEMORY] = 0;
	if (in->procfd >= 0 && lseek(in->procfd, 0, SEEK_SET) == 0) {
		char buf[4096];
		long n;

		while ((n = syscall(SYS_getdents64, in->procfd, buf, sizeof(buf))) > 0)
			for (long off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(buf + off);
				struct sample s = { 0 };
				const char *name = d->d_name;

				off += d->d_reclen;
				if (name[0] < '1' || name[0] > '9')
					continue;
				jail_sample_one(in, name, &s);
				if (s.tasks)
					(void)kill((pid_t)parse_u64(&name), SIGKILL);
			}
	}
}

static enum nslab_sandbox_limit init_ended_by(const struct init *in)
{
	int st = in->cmd_status;
	bool failed = !WIFEXITED(st) || WEXITSTATUS(st) != 0;

	if (in->ended_by)
		return in->ended_by;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU)
		return NSLAB_SANDBOX_LIMIT_CPU;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ)
		return NSLAB_SANDBOX_LIMIT_FSIZE;
	if (failed && (in->reached & (1u << NSLAB_SANDBOX_LIMIT_MEMORY)))
		return NSLAB_SANDBOX_LIMIT_MEMORY;
	if (failed && (in->reached & (1u << NSLAB_SANDBOX_LIMIT_CPU)))
		return NSLAB_SANDBOX_LIMIT_CPU;
	if (failed && (in->reached & (1u << NSLAB_SANDBOX_LIMIT_PIDS)))
		return NSLAB_SANDBOX_LIMIT_PIDS;
	return NSLAB_SANDBOX_LIMIT_NONE;
}

/*
 * The tree as the command left it, before it is killed: a fork bomb's command
 * often fails (or returns) within a sampling period, while what it forked
 * still holds the pids limit, and a memory hog's helpers their memory.
 */
static void init_last_sample(struct init *in)
{
	uint64_t mem = in->limit[NSLAB_SANDBOX_LIMIT_MEMORY],
		 pids = in->limit[NSLAB_SANDBOX_LIMIT_PIDS];
	struct sample s = { 0 };

	if (!in->cmd_done || (!mem && !pids) || in->p->limits.cgroup_fd >= 0)
		return;
	jail_sample_walk(in, &s);
	if (mem && s.vm_peak >= mem / JAIL_MEM_NEAR_DEN * JAIL_MEM_NEAR_NUM)
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	/* the command itself is reaped: what is left at the limit but one */
	if (pids && s.tasks + 1 >= pids)
		jail_init_reach(in, NSLAB_SANDBOX_LIMIT_PIDS);
}

static _Noreturn void init_finish(struct init *in)
{
	struct jail_msg m = { .kind = JAIL_MSG_REPORT };

	if (in->sock < 0)
		_exit(0); /* nobody to report to: dying kills the namespace */
	init_last_sample(in);
	/*
	 * In a PID namespace of its own, init with no child left has nothing to
	 * kill: every process the command made is its descendant, an orphan
	 * is init's, and one that came in with setns() dies with init (the
	 * kernel empties the namespace before anyone can reap init). kill(-1)
	 * would only walk the host's every process to find none, on the way
	 * from the command's end to the caller's.
	 */
	if (!in->p->pidns || init_reap(in, false))
		init_kill_all(in);
	(void)init_reap(in, true);
	if (!in->cmd_done) {
		in->cmd_status = SIGKILL; /* it never got reaped as itself: cannot happen */
		in->wall_usec = (now_ns() - in->t0) / 1000;
	}
	m.status = in->cmd_status;
	m.ended_by = init_ended_by(in);
	m.reached = in->reached | (m.ended_by ? 1u << m.ended_by : 0);
	m.wall_usec = in->wall_usec;
	(void)getrusage(RUSAGE_CHILDREN, &m.ru);
	(void)jail_msg_send(in->sock, &m, -1);
	_exit(0);
}

/* Rootless: one id each way, setgroups denied, so init may write its own maps. */
static int write_self(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	(void)close_fd(fd);
	return n < 0 ? -1 : 0;
}

/* The mask after "\nNAME:\t" in /proc/self/status's text (hex, signal N at bit N-1). */
static bool status_mask(const char *text, const char *name, uint64_t *ret)
{
	const char *p = strstr(text, name);

	if (!p)
		return false;
	*ret = 0;
	for (p += strlen(name); (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
		*ret = *ret << 4 | (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
	return *p == '\n'; /* a read cut inside the digits is no mask */
}

/*
 * The signals whose dispositions the caller set (SigCgt and SigIgn of
 * /proc/self/status; usually a few): those need a reset, not all 64. All
 * of them when that cannot be read (a /proc that is not our PID namespace's).
 */
static uint64_t signals_in_use(void)
{
	uint64_t ign, cgt;
	char buf[8192]; /* a long Groups: line comes before the masks */

	if (read_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf)) <= 0 ||
	    !status_mask(buf, "\nSigIgn:\t", &ign) || !status_mask(buf, "\nSigCgt:\t", &cgt))
		return ~(uint64_t)0;
	return ign | cgt;
}

/* Tied to the parent: it dies with it. */
static void init_tie(int parent_pidfd)
{
	struct pollfd pfd = { .fd = parent_pidfd, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || poll(&pfd, 1, 0) != 0)
		_exit(1); /* the parent died before the prctl took */
	(void)close(parent_pidfd);
}

/*
 * The caller's dispositions are not init's: a handler of the caller's would
 * run here whenever the sandbox signals its pid 1 (which only handled
 * signals reach), and an ignored SIGCHLD would reap the command before init
 * saw its status. Reset while every signal is still blocked; then only
 * SIGCHLD stays blocked (read from signalfd: never missed, as it is blocked
 * before any fork). The command forked early resets the same ones itself
 * (in->sig_used), as it was forked with the caller's.
 */
static void init_signals(struct init *in)
{
	sigset_t chld;

	in->sig_used = signals_in_use();
	signals_reset_mask(in->sig_used);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	(void)sigprocmask(SIG_SETMASK, &chld, NULL);
	in->sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Released: by the parent's GO once it wrote our maps, or by writing them ourselves. */
static void init_release(struct init *in)
{
	const struct jail_plan *p = in->p;
	nslab_error e = { 0 };
	struct jail_msg m;

	if (!p->self_maps) {
		if (jail_msg_recv(in->sock, &m, NULL) <= 0 || m.kind != JAIL_MSG_GO)
			_exit(1);
		in->set_groups = p->set_groups && !m.value;
		return;
	}
	/*
	 * A copy of a caller that made itself non-dumpable is too, and its
	 * /proc/self is then root's: the maps could not be written (not
	 * dumpable again right after them)
	 */
	if (!in->cmd_stack)
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (write_self("/proc/self/setgroups", "deny") < 0 ||
	    write_self("/proc/self/uid_map", p->uid_map) < 0 ||
	    write_self("/proc/self/gid_map", p->gid_map) < 0) {
		child_err(&e, errno, "write the sandbox's uid/gid maps", NULL);
		jail_init_fail(in, &e, false);
	}
	if (!in->cmd_stack)
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * STARTED with the command's pidfd and its pid as the caller sees it
 * (enum jail_pid_in): sent before init can reap the command, so the kernel
 * still knows the pid it translates. In a PID namespace of our own, init is
 * its owner's root (CAP_SYS_ADMIN there) and may name another of its
 * processes in SCM_CREDENTIALS; without one, our numbers are the caller's.
 */
static void send_started(struct init *in, struct jail_msg *m, int pidfd)
{
	struct ucred cred = { .pid = in->cmd, .uid = getuid(), .gid = getgid() };

	m->kind = JAIL_MSG_STARTED;
	m->value = (uint64_t)in->cmd;
	m->pid_in = in->p->pidns ? JAIL_PID_IN_CRED : JAIL_PID_IN_VALUE;
	if (m->pid_in == JAIL_PID_IN_CRED &&
	    jail_msg_send_cred(in->sock, m, &pidfd, pidfd >= 0 ? 1 : 0, &cred) == 0)
		return;
	if (m->pid_in == JAIL_PID_IN_CRED) /* refused: the caller reads the pidfd */
		m->pid_in = JAIL_PID_IN_FDINFO;
	(void)jail_msg_send(in->sock, m, pidfd);
}

_Noreturn void jail_init_main(const struct jail_plan *p, char *const *argv, int sock,
			      int parent_pidfd, char *cmd_stack)
{
	struct init in = { .p = p,
			   .argv = argv,
			   .sock = sock,
			   .sigfd = -1,
			   .tfd_timeout = -1,
			   .tfd_sample = -1,
			   .procfd = -1,
			   .early_go = -1,
			   .early_ep = -1,
			   .early_net = -1,
			   .early_pidfd = -1,
			   .cmd_stack = cmd_stack };
	struct jail_msg m = { 0 };
	bool direct = false, early;
	sigset_t all;
	int pidfd = -1;

	/*
	 * Every signal blocked first: the command forked early starts so, and
	 * no handler of the caller's runs in it before it reset them.
	 */
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	init_tie(parent_pidfd);
	memcpy(in.limit, p->limits.value, sizeof(in.limit));
	/*
	 * The command forked first, before the signals, the maps and the root:
	 * its network namespace, the start's longest step, begins at once
	 * (init-early.c's DOC)
	 */
	early = jail_early_possible(&in);
	if (early)
		jail_early_fork(&in);
	init_signals(&in);
	init_release(&in);
	if (early)
		jail_early_maps_written(&in);
	init_setup(&in, early);
	jail_msg_ns(&m);
	if (!argv)
		direct = jail_init_pool_start(&in, &m, &pidfd);
	else
		jail_init_start_command(&in, &pidfd);
	if (!direct)
		send_started(&in, &m, pidfd);
	(void)close(pidfd);
	jail_init_timers(&in);
	init_loop(&in);
	init_finish(&in);
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/init: pid 1 of the sandbox, and the command between fork and exec.
 * See core.h's DOC: the start sequence. Everything here runs in a child of a
 * possibly multi-threaded caller and never execs itself: async-signal-safe
 * calls only (raw syscalls, no malloc, no stdio, no locks).
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
 * The end: kill(-1, SIGKILL) (pid 1 of its namespace: every other process),
 * reap everything, report the command's status, what was reached, the wall
 * time and RUSAGE_CHILDREN (every process of the sandbox, init excluded).
 */
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

/* --- messages ----------------------------------------------------------------- */

int jail_msg_send(int sock, const struct jail_msg *m, int fd)
{
	return jail_msg_send_fds(sock, m, &fd, fd >= 0 ? 1 : 0);
}

int jail_msg_send_fds(int sock, const struct jail_msg *m, const int *fds, size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * JAIL_MSG_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (n_fds > JAIL_MSG_FDS_MAX)
		return -EINVAL;
	if (n_fds > 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*m) ? 0 : -EPROTO;
}

int jail_msg_recv(int sock, struct jail_msg *m, int *ret_fd)
{
	int fds[JAIL_MSG_FDS_MAX], r = jail_msg_recv_fds(sock, m, fds, JAIL_MSG_FDS_MAX);

	for (size_t i = 1; i < JAIL_MSG_FDS_MAX; i++)
		(void)close_fd(fds[i]);
	if (ret_fd)
		*ret_fd = fds[0];
	else
		(void)close_fd(fds[0]);
	return r;
}

int jail_msg_recv_fds(int sock, struct jail_msg *m, int *fds, size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * JAIL_MSG_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;

	for (size_t i = 0; i < n_fds; i++)
		fds[i] = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (got < n_fds)
				fds[got++] = fd;
			else
				(void)close(fd); /* more than asked for: not ours to keep */
		}
	}
	if (n == 0)
		return 0;
	return n == (ssize_t)sizeof(*m) ? 1 : -EPROTO;
}

/* --- async-signal-safe helpers ------------------------------------------------ */

/* "what 'arg': strerror(code)" into err, without printf. */
static void child_err(nslab_error *err, int code, const char *what, const char *arg)
{
	const char *cause = strerrordesc_np(code);
	const char *parts[] = { what, arg ? " '" : "",	      arg ? arg : "", arg ? "'" : "",
				": ", cause ? cause : "error" };
	size_t n = 0;

	err->code = code > 0 ? code : EIO;
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (const char *p = parts[i]; *p && n < sizeof(err->msg) - 1; p++)
			err->msg[n++] = *p;
	err->msg[n] = '\0';
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t parse_u64(const char **s)
{
	uint64_t v = 0;

	while (**s == ' ')
		(*s)++;
	while (**s >= '0' && **s <= '9')
		v = v * 10 + (uint64_t)(*(*s)++ - '0');
	return v;
}

static void skip_fields(const char **s, int n)
{
	while (n-- > 0) {
		while (**s == ' ')
			(*s)++;
		while (**s && **s != ' ')
			(*s)++;
	}
}

static ssize_t read_at(int dirfd, const char *path, char *buf, size_t len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	(void)close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static char *fmt_u64(char *end, uint64_t v)
{
	*--end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

pid_t jail_clone(struct clone_args *args)
{
	pid_t pid = (pid_t)syscall(SYS_clone3, args, sizeof(*args));

	if (pid >= 0 || errno != ENOSYS || (args->flags >> 32))
		return pid;
	/* x86_64's argument order: flags, stack, parent_tid (CLONE_PIDFD's), child_tid, tls */
	return (pid_t)syscall(SYS_clone,
			      (unsigned long)args->flags | (unsigned long)args->exit_signal, 0UL,
			      (unsigned long)args->pidfd, 0UL, 0UL);
}

/* --- the command (between fork and exec) --------------------------------------- */

static _Noreturn void cmd_fail(int pipe_fd, nslab_error *e)
{
	(void)!write(pipe_fd, e, sizeof(*e));
	_exit(127);
}

static void cmd_stdio(const struct jail_plan *p, int pipe_fd)
{
	int high[3];
	nslab_error e;

	for (int i = 0; i < 3; i++) {
		high[i] = p->stdio[i] >= 0 ? fcntl(p->stdio[i], F_DUPFD_CLOEXEC, 3) : -1;
		if (p->stdio[i] >= 0 && high[i] < 0)
			child_err(&e, errno, "stdio", NULL), cmd_fail(pipe_fd, &e);
	}
	for (int i = 0; i < 3; i++)
		if (high[i] >= 0 && dup2(high[i], i) < 0)
			child_err(&e, errno, "stdio", NULL), cmd_fail(pipe_fd, &e);
}

/*
 * setgroups() refused because the user namespace denies it to everyone (the
 * parent decided in its own namespace; NET_JOIN puts the sandbox under a
 * rootless lab's, which may deny it): the groups cannot change, so there is
 * nothing to drop that the kernel would let anyone use.
 */
static bool setgroups_denied(int code)
{
	char buf[8] = "";
	int fd;

	if (code != EPERM)
		return false;
	fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	(void)close(fd);
	return strncmp(buf, "deny", 4) == 0;
}

static void cmd_ids(const struct jail_plan *p, int pipe_fd)
{
	nslab_error e;

	/*
	 * Raw system calls: glibc's set*id() and setgroups() signal every thread
	 * it believes the process has (the caller's, copied at the clone) to
	 * change their ids too: tgkill() on pids that mean nothing in this PID
	 * namespace, or something else entirely.
	 */
	/* uid 0 -> another uid would empty the capability sets jail_caps_enter() works on */
	if ((getuid() != p->uid || geteuid() != p->uid) && jail_caps_prepare_setuid(&e) < 0)
		cmd_fail(pipe_fd, &e);
	if (p->set_groups && syscall(SYS_setgroups, 0, NULL) < 0 && !setgroups_denied(errno))
		child_err(&e, errno, "setgroups", NULL), cmd_fail(pipe_fd, &e);
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		child_err(&e, errno, "setresgid", NULL), cmd_fail(pipe_fd, &e);
	if (getuid() == p->uid && geteuid() == p->uid)
		return;
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		child_err(&e, errno, "setresuid", NULL), cmd_fail(pipe_fd, &e);
}

/*
 * The command's signals: init reset every disposition to SIG_DFL when it
 * began (init_begin()) and sets none, so only its mask (SIGCHLD blocked) is
 * left to clear: 64 system calls fewer per start.
 */
static void cmd_unblock_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static const char *env_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

/* execvpe() along the *sandbox's* PATH (glibc's looks at the caller's); returns errno. */
static int exec_path(char *const argv[], char *const envp[])
{
	const char *path = env_get(envp, "PATH"), *dir, *end;
	size_t flen = strlen(argv[0]);
	bool eacces = false;
	char buf[4096];

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return errno;
	}
	for (dir = path ? path : "/usr/local/bin:/usr/bin:/bin"; *dir; dir = *end ? end + 1 : end) {
		size_t dlen;

		end = strchrnul(dir, ':');
		dlen = (size_t)(end - dir);
		if (dlen + flen + 2 > sizeof(buf))
			continue;
		memcpy(buf, dlen ? dir : ".", dlen ? dlen : 1);
		dlen = dlen ? dlen : 1;
		buf[dlen] = '/';
		memcpy(buf + dlen + 1, argv[0], flen + 1);
		execve(buf, argv, envp);
		if (errno == EACCES)
			eacces = true;
		else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV)
			return errno;
	}
	return eacces ? EACCES : ENOENT;
}

/* Everything before the seccomp filter and exec: what a pool's command does ahead. */
static void cmd_setup(const struct jail_plan *p, int pipe_fd)
{
	nslab_error e = { 0 };

	(void)setsid();
	/* cgroup mode: init stayed outside the sandbox's cgroup; the command roots its own view */
	if (p->cgroupns_late && unshare(CLONE_NEWCGROUP) < 0)
		child_err(&e, errno, "unshare(CLONE_NEWCGROUP)", NULL), cmd_fail(pipe_fd, &e);
	cmd_stdio(p, pipe_fd);
	if (chdir(p->cwd) < 0 && chdir("/") < 0)
		child_err(&e, errno, "chdir", "/"), cmd_fail(pipe_fd, &e);
	if (jail_limits_apply(&p->limits, &e) < 0)
		cmd_fail(pipe_fd, &e);
	cmd_ids(p, pipe_fd);
	cmd_unblock_signals();
	/* only 0, 1, 2 cross exec: nothing of the caller or of init leaks in */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (jail_caps_enter(p->keep_caps, p->ambient, &e) < 0)
		cmd_fail(pipe_fd, &e);
}

/* The seccomp filter last (a profile may refuse what the steps before need), unless installed. */
static _Noreturn void cmd_exec(const struct jail_plan *p, char *const argv[], int pipe_fd,
			       bool filtered)
{
	nslab_error e = { 0 };

	if (!filtered && jail_seccomp_install(&p->seccomp, &e) < 0)
		cmd_fail(pipe_fd, &e);
	child_err(&e, exec_path(argv, p->envp), "exec", argv[0]);
	cmd_fail(pipe_fd, &e);
}

static _Noreturn void cmd_main(const struct jail_plan *p, char *const argv[], int pipe_fd)
{
	cmd_setup(p, pipe_fd);
	cmd_exec(p, argv, pipe_fd, false);
}

/* --- init ------------------------------------------------------------------------- */

struct init {
	const struct jail_plan *p;
	char *const *argv;
	int sock; /* -1 once the parent is gone */
	int sigfd, tfd_timeout, tfd_sample, procfd;
	pid_t cmd;
	bool cmd_done;
	int cmd_status;
	uint64_t limit[NSLAB_SANDBOX_LIMIT__COUNT];
	uint32_t reached;
	enum nslab_sandbox_limit ended_by;
	uint64_t t0, wall_usec;
	uint64_t pids_since; /* when the pids limit was first seen reached; 0: not reached */
};

static _Noreturn void init_fail(struct init *in, const nslab_error *e, bool exec_failed)
{
	struct jail_msg m = { .kind = JAIL_MSG_ERROR, .value = exec_failed, .err = *e };

	(void)jail_msg_send(in->sock, &m, -1);
	_exit(1);
}

static void init_reach(struct init *in, enum nslab_sandbox_limit limit)
{
	struct jail_msg m = { .kind = JAIL_MSG_REACHED, .limit = limit };

	if (in->reached & (1u << limit))
		return;
	in->reached |= 1u << limit;
	if (in->sock >= 0)
		(void)jail_msg_send(in->sock, &m, -1);
}

static void init_end(struct init *in, enum nslab_sandbox_limit by)
{
	init_reach(in, by);
	if (!in->ended_by)
		in->ended_by = by;
}

static int loopback_up(void)
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
	int keep[8], n = 0;

	keep[n++] = in->sock;
	for (int i = 0; i < 3; i++)
		keep[n++] = in->p->stdio[i];
	keep[n++] = in->p->limits.cgroup_fd;
	keep[n++] = in->procfd;
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

#if defined(__SANITIZE_ADDRESS__)
#define JAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAIL_ASAN 1
#endif
#endif

/*
 * DOC: the network namespace, made beside the root (plan_net_late())
 * clone3() without CLONE_NEWNET; init clones a helper that shares its memory
 * and file table (CLONE_VM | CLONE_FILES, a stack of its own), which unshares
 * a network namespace (owned by the sandbox's user namespace), brings its
 * loopback up and hands back an fd of it (SIOCGSKNS: no /proc, which init is
 * replacing meanwhile), while init builds the root. Right before the sysfs
 * step (sysfs shows the mounter's network namespace), init reaps the helper
 * and joins the namespace with setns(); the command still gets pid 2
 * (reset_last_pid()). Under AddressSanitizer (which does
 * not follow a stack switch) init does the same itself, in turn.
 */
#define NET_STACK_SIZE (64u << 10)

struct net_helper {
	pid_t pid; /* 0: none started */
	int fd;	   /* the namespace, from the helper */
	int err;   /* the helper's errno, 0 if it worked */
	const char *what;
	char *stack;
};

static int net_make(void *arg)
{
	struct net_helper *h = arg;
	int s;

	h->what = "unshare(CLONE_NEWNET)";
	if (unshare(CLONE_NEWNET) < 0)
		return h->err = errno, 1;
	h->what = "bring loopback up";
	if (loopback_up() < 0)
		return h->err = errno, 1;
	h->what = "open the network namespace";
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	h->fd = s < 0 ? -1 : ioctl(s, SIOCGSKNS);
	if (h->fd < 0)
		h->err = errno;
	(void)close_fd(s);
	return h->err ? 1 : 0;
}

static void net_start(struct net_helper *h)
{
	*h = (struct net_helper){ .fd = -1 };
#ifndef JAIL_ASAN
	h->stack = mmap(NULL, NET_STACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (h->stack != MAP_FAILED)
		h->pid = clone(net_make, h->stack + NET_STACK_SIZE, CLONE_VM | CLONE_FILES, h);
	if (h->pid > 0)
		return;
	if (h->stack != MAP_FAILED)
		(void)munmap(h->stack, NET_STACK_SIZE);
	h->pid = 0;
#endif
}

/* jail_fs_enter_hooked()'s hook: the helper's namespace joined (or made now). */
static int net_join(void *data, nslab_error *err)
{
	struct net_helper *h = data;
	int status, code;

	if (h->pid > 0) {
		while (waitpid(h->pid, &status, __WALL) < 0 && errno == EINTR)
			;
		(void)munmap(h->stack, NET_STACK_SIZE);
		h->pid = 0;
	} else if (h->fd < 0 && !h->err) {
		(void)net_make(h); /* no helper: in turn */
	}
	if (h->err) {
		child_err(err, h->err, h->what, NULL);
		return -h->err;
	}
	code = setns(h->fd, CLONE_NEWNET) < 0 ? errno : 0;
	h->fd = close_fd(h->fd);
	if (code) {
		child_err(err, code, "join the sandbox's network namespace", NULL);
		return -code;
	}
	return 0;
}

/*
 * The helper took pid 2 of the sandbox's PID namespace: the next pid is 2
 * again (ns_last_pid, CRIU's way; init holds CAP_SYS_ADMIN over the namespace),
 * so that the command is pid 2 as it is without a helper. Best effort: a
 * command at pid 3 is no failure.
 */
static void reset_last_pid(int procfd)
{
	int fd = procfd < 0 ? -1 : openat(procfd, "sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		(void)!write(fd, "1", 1);
	(void)close_fd(fd);
}

static void init_setup(struct init *in)
{
	const struct jail_plan *p = in->p;
	struct net_helper net = { .fd = -1 };
	nslab_error e = { 0 };

	if (p->net_late)
		net_start(&net);
	else if (p->new_net && loopback_up() < 0)
		child_err(&e, errno, "bring loopback up", NULL), init_fail(in, &e, false);
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		child_err(&e, errno, "set the host name", p->hostname), init_fail(in, &e, false);
	if (jail_fs_enter_hooked(p->fs, p->net_late ? net_join : NULL, &net, &e) < 0)
		init_fail(in, &e, false);
	in->procfd = open_proc(p);
	if (p->net_late && p->pidns)
		reset_last_pid(in->procfd);
	if (!p->pidns)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* the command may share init's uid: it must not ptrace or read init's memory */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_NAME, "nslab-init", 0, 0, 0);
	close_others(in);
}

/* The argc of a blob "argc\0arg0\0arg1\0..." (from the caller: trusted). */
static uint64_t blob_argc(const char *blob)
{
	return parse_u64(&blob);
}

/* blob's argv array, in argv (blob_argc() + 1 slots), or mapped if NULL. Return: NULL on ENOMEM */
static char *const *argv_of_blob(const char *blob, char **argv)
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

/* Pool: the command's argv arrives in a memfd, as a blob (argv_of_blob()). */
static const char *init_recv_blob(struct init *in, size_t *ret_len)
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
		child_err(&e, errno, "map the command", NULL), init_fail(in, &e, false);
	*ret_len = (size_t)st.st_size;
	return blob;
}

/* The command's stack while it shares init's memory (CLONE_VM, until its exec). */
#define CMD_STACK_SIZE (1u << 20)

struct cmd_args {
	const struct jail_plan *p;
	char *const *argv;
	int pipe_fd, close1, close2;
};

static int cmd_trampoline(void *arg)
{
	const struct cmd_args *a = arg;

	(void)close(a->close1);
	(void)close(a->close2);
	cmd_main(a->p, a->argv, a->pipe_fd);
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
		stack = mmap(NULL, CMD_STACK_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
		if (stack == MAP_FAILED)
			return -1;
		pid = clone(cmd_trampoline, stack + CMD_STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, a, ret_pidfd);
		(void)munmap(stack, CMD_STACK_SIZE);
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
static void init_await_exec(struct init *in, int ep)
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
	init_fail(in, &e, true);
}

/* Start the command; its exec pipe tells whether execve() worked. */
static void init_start_command(struct init *in, int *ret_pidfd)
{
	nslab_error e = { 0 };
	struct cmd_args a;
	int ep[2];

	if (pipe2(ep, O_CLOEXEC) < 0)
		child_err(&e, errno, "pipe2", NULL), init_fail(in, &e, false);
	a = (struct cmd_args){
		.p = in->p, .argv = in->argv, .pipe_fd = ep[1], .close1 = ep[0], .close2 = in->sock
	};
	in->t0 = now_ns();
	in->cmd = cmd_clone(in->p, &a, ret_pidfd);
	if (in->cmd < 0)
		child_err(&e, errno, "start the command", NULL), init_fail(in, &e, false);
	(void)close(ep[1]);
	init_await_exec(in, ep[0]);
}

/*
 * DOC: the pool's command, prepared ahead
 * A pool sandbox forks its command before it says READY: the child does
 * everything of cmd_setup() (session, stdio, cwd, rlimits, ids, signals,
 * capabilities) and, with the default profile, installs its seccomp filter
 * (it refuses nothing the waiting needs; a profile file's might), then waits
 * on a socket. READY hands the caller that socket, the command's exec pipe
 * and its pidfd. A start from the pool is then the caller writing argv (its
 * length, then the blob) to the command, which tells init it starts (a byte
 * on a pipe: init's clock and timers start there), installs a profile file's
 * filter and execs, while the caller reads the exec pipe (end of file: it
 * exec'd). Init is not on the way, and no round trip through it: two wakeups
 * (the command, the caller) and the exec. An argv larger than the command's
 * area (JAIL_PREP_ARGV_MAX, blob and array) goes to init in RUN instead, which
 * kills the prepared command and starts one as without a pool.
 */
struct prepared {
	pid_t pid;	  /* 0: none */
	int pidfd, start; /* start: read end of its "I start" pipe */
	int go, ep;	  /* the caller's ends (READY hands them over): argv socket, exec pipe */
	char *area; /* its argv area, mapped before the fork (RLIMIT_AS may refuse one later) */
};

static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Where the argv array goes in the area: after the blob, aligned. */
static uint64_t prep_array_at(const char *blob)
{
	const char *s = blob;
	uint64_t argc = parse_u64(&s), len;

	s += strlen(s) + 1;
	for (uint64_t i = 0; i < argc; i++)
		s += strlen(s) + 1;
	len = (uint64_t)(s - blob);
	return (len + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
}

static _Noreturn void prep_child(const struct jail_plan *p, int go, int ep, int start, char *area)
{
	nslab_error e = { 0 };
	uint64_t len;

	cmd_setup(p, ep);
	/* installing a filter took ~0.1 ms (perf trace): ahead, when it cannot hurt */
	if (p->seccomp_default && jail_seccomp_install(&p->seccomp, &e) < 0)
		cmd_fail(ep, &e);
	if (!read_all(go, &len, sizeof(len)) || len >= JAIL_PREP_ARGV_MAX ||
	    !read_all(go, area, len))
		_exit(0); /* the sandbox is going away without a command */
	area[len] = '\0';
	if (!jail_prep_fits(len, blob_argc(area)))
		child_err(&e, E2BIG, "the command's arguments", NULL), cmd_fail(ep, &e);
	(void)!write(start, "", 1);
	cmd_exec(p, argv_of_blob(area, (char **)(void *)(area + prep_array_at(area))), ep,
		 p->seccomp_default);
}

static void prep_close(struct prepared *pr)
{
	pr->pidfd = close_fd(pr->pidfd);
	pr->start = close_fd(pr->start);
	pr->go = close_fd(pr->go);
	pr->ep = close_fd(pr->ep);
	if (pr->area && pr->area != MAP_FAILED)
		(void)munmap(pr->area, JAIL_PREP_ARGV_MAX);
	pr->area = NULL;
}

/* Fork the command ahead (pool). A failure leaves pr->pid 0: RUN then starts one as usual. */
static void prep_start(struct init *in, struct prepared *pr)
{
	struct clone_args ca = { .flags = CLONE_PIDFD,
				 .pidfd = (uint64_t)(uintptr_t)&pr->pidfd,
				 .exit_signal = SIGCHLD };
	int go[2] = { -1, -1 }, ep[2] = { -1, -1 }, start[2] = { -1, -1 };
	pid_t pid = -1;

	*pr = (struct prepared){ .pidfd = -1, .start = -1, .go = -1, .ep = -1 };
	pr->area = mmap(NULL, JAIL_PREP_ARGV_MAX, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pr->area != MAP_FAILED && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) == 0 &&
	    pipe2(ep, O_CLOEXEC) == 0 && pipe2(start, O_CLOEXEC) == 0)
		pid = jail_clone(&ca);
	if (pid == 0) {
		(void)close(in->sock);
		(void)close(go[1]);
		(void)close(ep[0]);
		(void)close(start[0]);
		prep_child(in->p, go[0], ep[1], start[1], pr->area);
	}
	(void)close_fd(go[0]);
	(void)close_fd(ep[1]);
	(void)close_fd(start[1]);
	pr->go = go[1];
	pr->ep = ep[0];
	pr->start = start[0];
	if (pid > 0) {
		pr->pid = pid;
		return;
	}
	prep_close(pr);
}

static void prep_drop(struct prepared *pr)
{
	int status;

	if (pr->pid) {
		(void)kill(pr->pid, SIGKILL);
		while (waitpid(pr->pid, &status, __WALL) < 0 && errno == EINTR)
			;
		pr->pid = 0;
	}
	prep_close(pr);
}

/* Account for a reaped process: what its end says about the limits. */
static void init_reaped(struct init *in, pid_t pid, int status, const struct rusage *ru)
{
	uint64_t mem = in->limit[NSLAB_SANDBOX_LIMIT_MEMORY];

	if (mem && (uint64_t)ru->ru_maxrss * 1024 >= mem / JAIL_MEM_NEAR_DEN * JAIL_MEM_NEAR_NUM)
		init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ)
		init_reach(in, NSLAB_SANDBOX_LIMIT_FSIZE);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		init_reach(in, NSLAB_SANDBOX_LIMIT_CPU);
	if (pid != in->cmd)
		return;
	in->cmd_done = true;
	in->cmd_status = status;
	in->wall_usec = (now_ns() - in->t0) / 1000;
}

static void init_reap(struct init *in, bool block)
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
			return;
		if (!block)
			return;
		if (in->p->pidns)
			(void)kill(-1, SIGKILL); /* in case one was forked while we killed */
	}
}

struct sample {
	uint64_t tasks, cpu_ticks, vm_peak;
};

/* One process of the sandbox: /proc/PID/stat (and VmPeak when memory is limited). */
static void sample_one(struct init *in, const char *pid, struct sample *s)
{
	char path[32], buf[1536];
	const char *f;
	uint64_t sid;

	memcpy(path, pid, strlen(pid));
	memcpy(path + strlen(pid), "/stat", 6);
	if (read_at(in->procfd, path, buf, sizeof(buf)) <= 0 || !(f = strrchr(buf, ')')))
		return;
	f++;
	skip_fields(&f, 3); /* state ppid pgrp */
	sid = parse_u64(&f);
	if (!in->p->pidns && sid != (uint64_t)in->cmd)
		return;
	skip_fields(&f, 6); /* tty_nr tpgid flags minflt cminflt majflt */
	skip_fields(&f, 1); /* cmajflt */
	for (int i = 0; i < 4; i++)
		s->cpu_ticks += parse_u64(&f); /* utime stime cutime cstime */
	skip_fields(&f, 2);		       /* priority nice */
	s->tasks += parse_u64(&f);
	if (!in->limit[NSLAB_SANDBOX_LIMIT_MEMORY])
		return;
	memcpy(path + strlen(pid), "/status", 8);
	if (read_at(in->procfd, path, buf, sizeof(buf)) > 0 && (f = strstr(buf, "VmPeak:"))) {
		f += 7;
		uint64_t kib = parse_u64(&f);

		if (kib * 1024 > s->vm_peak)
			s->vm_peak = kib * 1024;
	}
}

/* Walk the sandbox's /proc (getdents64: readdir() may allocate). */
static void sample_walk(struct init *in, struct sample *s)
{
	char buf[4096];
	long n;

	if (in->procfd < 0 || lseek(in->procfd, 0, SEEK_SET) < 0)
		return;
	while ((n = syscall(SYS_getdents64, in->procfd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
			    (in->p->pidns && strcmp(d->d_name, "1") == 0))
				continue;
			sample_one(in, d->d_name, s);
		}
}

static void sample_pids(struct init *in, const struct sample *s)
{
	uint64_t max = in->limit[NSLAB_SANDBOX_LIMIT_PIDS], now = now_ns();

	if (!max || in->p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] == NSLAB_SANDBOX_MECH_CGROUP)
		return;
	if (s->tasks < max) {
		in->pids_since = 0;
		return;
	}
	init_reach(in, NSLAB_SANDBOX_LIMIT_PIDS);
	if (!in->pids_since)
		in->pids_since = now;
	if (s->tasks > max || now - in->pids_since >= JAIL_PIDS_GRACE_MS * 1000000ull)
		init_end(in, NSLAB_SANDBOX_LIMIT_PIDS);
}

/* The cgroup's counters: a pids limit that stays reached ends it too. */
static void sample_cgroup(struct init *in, uint64_t *cpu_usec)
{
	uint32_t bits = jail_limits_cgroup_reached(&in->p->limits);
	uint64_t now = now_ns();

	(void)jail_limits_cgroup_cpu_usec(&in->p->limits, cpu_usec);
	if (bits & (1u << NSLAB_SANDBOX_LIMIT_MEMORY))
		init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	if (!(bits & (1u << NSLAB_SANDBOX_LIMIT_PIDS)))
		return;
	if (!(in->reached & (1u << NSLAB_SANDBOX_LIMIT_PIDS)))
		in->pids_since = now;
	init_reach(in, NSLAB_SANDBOX_LIMIT_PIDS);
	if (now - in->pids_since >= JAIL_PIDS_GRACE_MS * 1000000ull)
		init_end(in, NSLAB_SANDBOX_LIMIT_PIDS);
}

static void init_sample(struct init *in)
{
	uint64_t mem = in->limit[NSLAB_SANDBOX_LIMIT_MEMORY],
		 cpu = in->limit[NSLAB_SANDBOX_LIMIT_CPU];
	struct sample s = { 0 };
	uint64_t cpu_usec = 0;
	struct rusage ru;

	if (in->p->limits.cgroup_fd >= 0)
		sample_cgroup(in, &cpu_usec);
	if (in->p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] != NSLAB_SANDBOX_MECH_CGROUP ||
	    in->p->limits.mech[NSLAB_SANDBOX_LIMIT_MEMORY] != NSLAB_SANDBOX_MECH_CGROUP ||
	    in->p->limits.mech[NSLAB_SANDBOX_LIMIT_CPU] != NSLAB_SANDBOX_MECH_CGROUP)
		sample_walk(in, &s);
	if (mem && s.vm_peak >= mem / JAIL_MEM_NEAR_DEN * JAIL_MEM_NEAR_NUM)
		init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	sample_pids(in, &s);
	if (in->p->limits.mech[NSLAB_SANDBOX_LIMIT_CPU] != NSLAB_SANDBOX_MECH_CGROUP &&
	    getrusage(RUSAGE_CHILDREN, &ru) == 0)
		cpu_usec = s.cpu_ticks * 1000000ull / (uint64_t)in->p->clk_tck +
			   (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
			   (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	if (cpu && cpu_usec >= cpu * 1000000ull)
		init_end(in, NSLAB_SANDBOX_LIMIT_CPU);
}

static int timer_arm(int *fd, uint64_t first_ns, uint64_t every_ns, bool absolute)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ns / 1000000000ull),
			      (long)(first_ns % 1000000000ull) },
		.it_interval = { (time_t)(every_ns / 1000000000ull),
				 (long)(every_ns % 1000000000ull) },
	};

	if (*fd < 0)
		*fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*fd < 0)
		return -1;
	if (!first_ns)
		its.it_value.tv_nsec = 1; /* at once (0 would disarm) */
	return timerfd_settime(*fd, absolute ? TFD_TIMER_ABSTIME : 0, &its, NULL);
}

static void init_timers(struct init *in)
{
	uint64_t timeout = in->limit[NSLAB_SANDBOX_LIMIT_TIMEOUT];

	if (timeout)
		(void)timer_arm(&in->tfd_timeout, in->t0 + timeout * 1000000ull, 0, true);
	if (in->tfd_sample < 0 &&
	    (in->limit[NSLAB_SANDBOX_LIMIT_MEMORY] || in->limit[NSLAB_SANDBOX_LIMIT_CPU] ||
	     in->limit[NSLAB_SANDBOX_LIMIT_PIDS]))
		(void)timer_arm(&in->tfd_sample, JAIL_SAMPLE_MS * 1000000ull,
				JAIL_SAMPLE_MS * 1000000ull, false);
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
	init_timers(in);
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
	init_reap(in, false);
	while (!in->cmd_done && !in->ended_by && in->sock >= 0) {
		struct pollfd pfd[4] = { { .fd = in->sigfd, .events = POLLIN },
					 { .fd = in->tfd_timeout, .events = POLLIN },
					 { .fd = in->tfd_sample, .events = POLLIN },
					 { .fd = in->sock, .events = POLLIN } };

		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0)
			continue;
		if (pfd[0].revents) {
			drain(in->sigfd);
			init_reap(in, false);
		}
		if (pfd[1].revents) {
			drain(in->tfd_timeout);
			init_end(in, NSLAB_SANDBOX_LIMIT_TIMEOUT);
		}
		if (pfd[2].revents) {
			drain(in->tfd_sample);
			init_sample(in);
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
				sample_one(in, name, &s);
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
	sample_walk(in, &s);
	if (mem && s.vm_peak >= mem / JAIL_MEM_NEAR_DEN * JAIL_MEM_NEAR_NUM)
		init_reach(in, NSLAB_SANDBOX_LIMIT_MEMORY);
	/* the command itself is reaped: what is left at the limit but one */
	if (pids && s.tasks + 1 >= pids)
		init_reach(in, NSLAB_SANDBOX_LIMIT_PIDS);
}

static _Noreturn void init_finish(struct init *in)
{
	struct jail_msg m = { .kind = JAIL_MSG_REPORT };

	if (in->sock < 0)
		_exit(0); /* nobody to report to: dying kills the namespace */
	init_last_sample(in);
	init_kill_all(in);
	init_reap(in, true);
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

/* Tied to the parent, and released: by its GO, or by writing our own maps. */
static void init_begin(struct init *in, int parent_pidfd)
{
	struct pollfd pfd = { .fd = parent_pidfd, .events = POLLIN };
	const struct jail_plan *p = in->p;
	nslab_error e = { 0 };
	struct jail_msg m;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || poll(&pfd, 1, 0) != 0)
		_exit(1); /* the parent died before the prctl took */
	(void)close(parent_pidfd);
	/*
	 * The caller's dispositions are not init's: a handler of the caller's
	 * would run here whenever the sandbox signals its pid 1 (which only
	 * handled signals reach), and an ignored SIGCHLD would reap the command
	 * before init saw its status.
	 */
	signals_reset_all();
	if (!p->self_maps) {
		if (jail_msg_recv(in->sock, &m, NULL) <= 0 || m.kind != JAIL_MSG_GO)
			_exit(1);
		return;
	}
	if (write_self("/proc/self/setgroups", "deny") < 0 ||
	    write_self("/proc/self/uid_map", p->uid_map) < 0 ||
	    write_self("/proc/self/gid_map", p->gid_map) < 0) {
		child_err(&e, errno, "write the sandbox's uid/gid maps", NULL);
		init_fail(in, &e, false);
	}
}

/* Our PID namespace, for the parent's walks of /proc (it cannot read ours once non-dumpable). */
static void msg_ns(struct jail_msg *m)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) == 0) {
		m->ns_dev = st.st_dev;
		m->ns_ino = st.st_ino;
	}
}

/* READY, with the prepared command's socket, exec pipe and pidfd for the caller. */
static void prep_ready(struct init *in, struct prepared *pr, struct jail_msg *m)
{
	int fds[3] = { pr->go, pr->ep, pr->pidfd };

	m->kind = JAIL_MSG_READY;
	if (jail_msg_send_fds(in->sock, m, fds, pr->pid ? 3 : 0) < 0)
		_exit(1);
	/* the caller's now: the command sees end of file when the caller closes its copy */
	pr->go = close_fd(pr->go);
	pr->ep = close_fd(pr->ep);
}

/*
 * Pool: prepare the command, say READY, and wait until the prepared command
 * starts (the caller wrote it its argv) or RUN comes (argv too large for it).
 * Return: true for the prepared command (the caller has its pidfd already).
 */
static bool init_pool_start(struct init *in, struct jail_msg *m, int *ret_pidfd)
{
	struct prepared pr;
	const char *blob;
	size_t len;

	prep_start(in, &pr);
	prep_ready(in, &pr, m);
	while (pr.start >= 0) {
		struct pollfd pfd[2] = { { .fd = in->sock, .events = POLLIN },
					 { .fd = pr.start, .events = POLLIN } };
		char c;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents)
			break;
		if (read(pr.start, &c, 1) == 1) {
			in->cmd = pr.pid;
			in->t0 = now_ns();
			*ret_pidfd = pr.pidfd;
			pr.pidfd = -1;
			prep_close(&pr);
			return true;
		}
		/* it died before it started: its error is in the caller's exec pipe */
		pr.start = close_fd(pr.start);
	}
	blob = init_recv_blob(in, &len);
	prep_drop(&pr);
	in->argv = argv_of_blob(blob, NULL);
	if (!in->argv) {
		nslab_error e = { 0 };

		child_err(&e, ENOMEM, "map the command", NULL);
		init_fail(in, &e, false);
	}
	init_start_command(in, ret_pidfd);
	return false;
}

_Noreturn void jail_init_main(const struct jail_plan *p, char *const *argv, int sock,
			      int parent_pidfd)
{
	struct init in = { .p = p,
			   .argv = argv,
			   .sock = sock,
			   .sigfd = -1,
			   .tfd_timeout = -1,
			   .tfd_sample = -1,
			   .procfd = -1 };
	struct jail_msg m = { 0 };
	bool direct = false;
	sigset_t chld;
	int pidfd = -1;

	init_begin(&in, parent_pidfd);
	memcpy(in.limit, p->limits.value, sizeof(in.limit));
	init_setup(&in);
	msg_ns(&m);
	/* SIGCHLD blocked before any fork, so that the command's end is never missed */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &chld, NULL);
	in.sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!argv)
		direct = init_pool_start(&in, &m, &pidfd);
	else
		init_start_command(&in, &pidfd);
	m.kind = JAIL_MSG_STARTED;
	if (!direct)
		(void)jail_msg_send(sock, &m, pidfd);
	(void)close(pidfd);
	init_timers(&in);
	init_loop(&in);
	init_finish(&in);
}

size_t jail_map_line(char *buf, size_t len, unsigned inside, unsigned outside)
{
	char a[24], b[24];
	const char *sa = fmt_u64(a + sizeof(a), inside), *sb = fmt_u64(b + sizeof(b), outside);
	size_t la = strlen(sa), lb = strlen(sb);

	if (la + lb + 5 > len)
		return 0;
	memcpy(buf, sa, la);
	buf[la] = ' ';
	memcpy(buf + la + 1, sb, lb);
	memcpy(buf + la + 1 + lb, " 1\n", 4);
	return la + lb + 4;
}

/* SPDX-License-Identifier: MIT */
/*
 * Changing a running process from outside (jail/inject.c), as the dynamic
 * updates of a sandbox do, on a sandbox-like target: a forked child with two
 * threads, each blocked in read() on a command pipe, that runs what it is told
 * and reports through another pipe.
 * - seccomp: after jail_inject_seccomp() with a deny of mkdir, mkdir fails
 *   with EPERM in both threads (TSYNC), other calls work, and the read() that
 *   was blocked during the injection returns the command normally. The same
 *   while the thread spins in user space (the vDSO's syscall instruction) and
 *   while it sleeps in clock_nanosleep() (restarted, not cut short).
 *   A target without no_new_privs or CAP_SYS_ADMIN is refused with a reason;
 *   one whose main thread has ended (a zombie leader) gets it through another.
 * - capabilities: a target holding CAP_NET_RAW (in every set, ambient too)
 *   loses it in every thread after jail_inject_drop_cap(): /proc shows it, and
 *   its own raw socket fails; its other capabilities stay.
 * Root and rootless (the capability target then runs in a user namespace of
 * its own); the capability target is a grandchild, as a sandbox's processes
 * are not children of the process that changes them.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (not x86_64; no user namespace for the
 * rootless capability case), 99 (nslab-test.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "jail-test.h"
#include "shared/macro.h"

#define SLEEP_MS 300
#define NET_RAW	 (UINT64_C(1) << CAP_NET_RAW)

enum target_kind {
	T_NNP,	   /* no_new_privs: a sandbox's command */
	T_PLAIN,   /* neither no_new_privs nor an effective CAP_SYS_ADMIN */
	T_NET_RAW, /* CAP_NET_RAW everywhere, ambient included (a private netns) */
};

struct report {
	char who; /* 'm' main thread, 'w' worker */
	char cmd; /* the command read, or '!' if read() failed (err) */
	int err;
	long value;
};

struct target {
	pid_t pid, worker_tid;
	pid_t child; /* ours: the target, or its parent */
	int cmd[2], cmd2[2], rep[2];
	volatile long *shared; /* [0] stop spinning, [1] spin count */
	char dir[64];	       /* where mkdir is tried */
};

static nslab_error err;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ----------------------------------------------------------- the target */

static struct target tg;

static void say(char who, char cmd, int e, long value)
{
	struct report r = { who, cmd, e, value };

	if (write(tg.rep[1], &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

static int raw_errno(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void mkdir_cmd(char who, char cmd)
{
	char path[96], none[96];
	int e;

	snprintf(path, sizeof(path), "%s/%c", tg.dir, who);
	snprintf(none, sizeof(none), "%s/none", tg.dir);
	e = errno_of(mkdir(path, 0700));
	if (e == 0)
		(void)rmdir(path);
	say(who, cmd, e, errno_of(rmdir(none)));
}

static void sleep_cmd(char who)
{
	struct timespec d = { 0, SLEEP_MS * 1000000L };
	double t0 = now_ms();
	int e = clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);

	say(who, 's', e, (long)(now_ms() - t0));
}

static void spin_cmd(char who)
{
	while (!tg.shared[0])
		tg.shared[1]++;
	mkdir_cmd(who, 'b');
}

static void run_cmd(char who, char c)
{
	switch (c) {
	case 'k':
		mkdir_cmd(who, c);
		break;
	case 'p':
		say(who, c, 0, (long)syscall(SYS_getpid));
		break;
	case 'r':
		say(who, c, raw_errno(), 0);
		break;
	case 's':
		sleep_cmd(who);
		break;
	case 'b':
		spin_cmd(who);
		break;
	case 'x': /* this thread ends; the process goes on (a zombie leader, if main) */
		say(who, c, 0, 0);
		pthread_exit(NULL);
	default:
		_exit(c == 'q' ? 0 : 4);
	}
}

/* A command loop: read() blocks between commands; its failures are reported. */
static void serve(char who, int fd)
{
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n != 1) {
			say(who, '!', n < 0 ? errno : 0, (long)n);
			_exit(5);
		}
		run_cmd(who, c);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	say('w', 'R', 0, (long)syscall(SYS_gettid));
	serve('w', tg.cmd2[0]);
	return NULL;
}

static bool raise_net_raw(void)
{
	cap_t c = cap_get_proc();
	cap_value_t v = CAP_NET_RAW;
	bool ok =
		c && cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET) == 0 && cap_set_proc(c) == 0;

	cap_free(c);
	return ok && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) == 0;
}

static bool drop_effective(void)
{
	cap_t c = cap_get_proc();
	bool ok = c && cap_clear_flag(c, CAP_EFFECTIVE) == 0 && cap_set_proc(c) == 0;

	cap_free(c);
	return ok;
}

static bool prepare(enum target_kind kind)
{
	switch (kind) {
	case T_NNP:
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
	case T_PLAIN:
		return drop_effective();
	case T_NET_RAW:
		if (geteuid() == 0 ? unshare(CLONE_NEWNET) < 0 : !jt_userns_as_root(CLONE_NEWNET))
			return false;
		return raise_net_raw();
	}
	return false;
}

static void target_main(enum target_kind kind)
{
	pthread_t t;

	close(tg.cmd[1]);
	close(tg.cmd2[1]);
	close(tg.rep[0]);
	if (!prepare(kind))
		_exit(6);
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		_exit(7);
	say('m', 'R', 0, (long)getpid());
	serve('m', tg.cmd[0]);
}

/* ----------------------------------------------------------- the parent */

static struct report expect_report(char who, char cmd)
{
	struct report r;

	CHECK(jt_read(tg.rep[0], &r, sizeof(r)), "target: no report (it died?)");
	CHECK(r.cmd != '!', "%c: read() of the command failed: %s (%ld)", r.who,
	      strerrorname_np(r.err), r.value);
	CHECK(r.who == who && r.cmd == cmd, "report %c/%c, expected %c/%c", r.who, r.cmd, who, cmd);
	return r;
}

/*
 * Start a target; a grandchild when far is true, as in a sandbox, whose
 * processes are children of its init, not of the one that injects.
 */
static void spawn_target(enum target_kind kind, bool far)
{
	struct report r;
	pid_t child;

	CHECK(pipe(tg.cmd) == 0 && pipe(tg.cmd2) == 0 && pipe(tg.rep) == 0, "pipe");
	fflush(NULL);
	child = fork();
	CHECK(child >= 0, "fork");
	if (child == 0 && !far)
		target_main(kind);
	if (child == 0) {
		pid_t pid = fork();
		int st;

		if (pid == 0)
			target_main(kind);
		_exit(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st)
									      : 8);
	}
	tg.child = child;
	close(tg.cmd[0]);
	close(tg.cmd2[0]);
	close(tg.rep[1]);
	/* the two ready reports, in either order */
	for (int i = 0; i < 2; i++) {
		CHECK(jt_read(tg.rep[0], &r, sizeof(r)), "target did not start");
		CHECK(r.cmd == 'R', "target: %c/%c %s", r.who, r.cmd, strerrorname_np(r.err));
		if (r.who == 'w')
			tg.worker_tid = (pid_t)r.value;
		else
			tg.pid = (pid_t)r.value;
	}
	CHECK(far || tg.pid == child, "pid %d, forked %d", (int)tg.pid, (int)child);
}

static struct report ask(char who, char cmd)
{
	CHECK(write(who == 'm' ? tg.cmd[1] : tg.cmd2[1], &cmd, 1) == 1, "write command");
	return expect_report(who, cmd);
}

static void stop_target(void)
{
	int st;

	(void)!write(tg.cmd[1], "q", 1);
	CHECK(waitpid(tg.child, &st, 0) == tg.child, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "target %s", jt_status(st));
	close(tg.cmd[1]);
	close(tg.cmd2[1]);
	close(tg.rep[0]);
}

/* Wait until thread tid sits in system call nr (/proc/PID/task/TID/syscall). */
static void wait_in_syscall(pid_t tid, long nr)
{
	char path[96], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)tg.pid, (int)tid);
	for (int i = 0; i < 5000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0 && (buf[n] = '\0', strtol(buf, NULL, 10) == nr))
			return;
		usleep(1000); /* polling a state the kernel shows: no event to wait for */
	}
	CHECK(false, "thread %d never entered system call %ld", (int)tid, nr);
}

static void inject_deny(const char *const *names, size_t n, const char *what)
{
	struct sock_fprog prog;
	double t0;

	CHECK(jail_seccomp_compile_deny(names, n, NSLAB_SANDBOX_VIOLATION_EPERM, &prog, &err) == 0,
	      "%s", err.msg);
	t0 = now_ms();
	CHECK(jail_inject_seccomp(tg.pid, &prog, &err) == 0, "inject (%s): %s", what, err.msg);
	printf("ok: injected a deny of %s (%u instructions) in %.2f ms\n", what, prog.len,
	       now_ms() - t0);
	free(prog.filter);
}

static void check_seccomp(void)
{
	static const char *const mkdirs[] = { "mkdir", "mkdirat" };
	static const char *const rmdir_[] = { "rmdir" };
	static const char *const chdir_[] = { "chdir" };
	struct report r;
	long count;

	spawn_target(T_NNP, false);
	r = ask('m', 'k');
	CHECK(r.err == 0 && r.value == ENOENT, "before: mkdir %s", strerrorname_np(r.err));
	/* both threads blocked in read() while the filter goes in */
	wait_in_syscall(tg.pid, SYS_read);
	wait_in_syscall(tg.worker_tid, SYS_read);
	inject_deny(mkdirs, 2, "mkdir, mkdirat, both threads blocked in read()");
	r = ask('m', 'k');
	CHECK(r.err == EPERM, "main thread: mkdir %s after the injection", strerrorname_np(r.err));
	CHECK(r.value == ENOENT, "main thread: rmdir %s", strerrorname_np((int)r.value));
	r = ask('w', 'k');
	CHECK(r.err == EPERM, "worker: mkdir %s after the injection (TSYNC)",
	      strerrorname_np(r.err));
	r = ask('m', 'p');
	CHECK(r.value == tg.pid, "getpid %ld", r.value);
	printf("ok: mkdir EPERM in both threads, the blocked read()s returned their commands, "
	       "rmdir and getpid unaffected\n");

	/* spinning in user space: not in a system call, so the vDSO's instruction is used */
	CHECK(write(tg.cmd[1], "b", 1) == 1, "write");
	count = tg.shared[1];
	while (tg.shared[1] == count || tg.shared[1] < 1000)
		sched_yield();
	inject_deny(rmdir_, 1, "rmdir, main thread spinning in user space");
	tg.shared[0] = 1;
	r = expect_report('m', 'b');
	CHECK(r.err == EPERM && r.value == EPERM, "after the spin: mkdir %s, rmdir %s",
	      strerrorname_np(r.err), strerrorname_np((int)r.value));
	printf("ok: the spinning thread went on, both filters hold (mkdir, rmdir EPERM)\n");

	/* asleep: the interrupted clock_nanosleep() restarts and sleeps its whole time */
	CHECK(write(tg.cmd[1], "s", 1) == 1, "write");
	wait_in_syscall(tg.pid, SYS_clock_nanosleep);
	inject_deny(chdir_, 1, "chdir, main thread in clock_nanosleep()");
	r = expect_report('m', 's');
	CHECK(r.err == 0 && r.value >= SLEEP_MS, "clock_nanosleep: %s after %ld ms",
	      strerrorname_np(r.err), r.value);
	printf("ok: clock_nanosleep() of %d ms returned 0 after %ld ms\n", SLEEP_MS, r.value);
	stop_target();
}

static void check_seccomp_refused(void)
{
	static const char *const mkdirs[] = { "mkdir" };
	struct sock_fprog prog;
	struct report r;

	CHECK(jail_seccomp_compile_deny(mkdirs, 1, NSLAB_SANDBOX_VIOLATION_EPERM, &prog, &err) == 0,
	      "%s", err.msg);
	spawn_target(T_PLAIN, false);
	wait_in_syscall(tg.pid, SYS_read);
	CHECK(jail_inject_seccomp(tg.pid, &prog, &err) == -EACCES, "injected without NNP: %s",
	      err.msg);
	CHECK(strstr(err.msg, "no_new_privs"), "message: %s", err.msg);
	printf("ok: a target without no_new_privs: refused (%s)\n", err.msg);
	r = ask('m', 'k');
	CHECK(r.err == 0, "target after the refusal: mkdir %s", strerrorname_np(r.err));
	stop_target();
	CHECK(jail_inject_seccomp(tg.pid, &prog, &err) == -ESRCH, "gone pid: %s", err.msg);
	printf("ok: a gone pid: %s\n", err.msg);
	free(prog.filter);
}

/* Wait until the thread group's leader is a zombie (it left with pthread_exit()). */
static void wait_leader_zombie(void)
{
	char path[64], buf[256], *paren;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)tg.pid, (int)tg.pid);
	for (int i = 0; i < 5000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0 && (buf[n] = '\0', paren = strrchr(buf, ')')) && paren[2] == 'Z')
			return;
		usleep(1000); /* polling a state the kernel shows: no event to wait for */
	}
	CHECK(false, "the leader never became a zombie");
}

/* The main thread is gone (a zombie leader that never stops): the worker takes the filter. */
static void check_leaderless(void)
{
	static const char *const mkdirs[] = { "mkdir", "mkdirat" };
	struct report r;
	int st;

	spawn_target(T_NNP, false);
	ask('m', 'x');
	wait_leader_zombie();
	wait_in_syscall(tg.worker_tid, SYS_read);
	inject_deny(mkdirs, 2, "mkdir, the leader a zombie");
	r = ask('w', 'k');
	CHECK(r.err == EPERM, "worker: mkdir %s", strerrorname_np(r.err));
	CHECK(write(tg.cmd2[1], "q", 1) == 1, "write");
	CHECK(waitpid(tg.child, &st, 0) == tg.child, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "target %s", jt_status(st));
	close(tg.cmd[1]);
	close(tg.cmd2[1]);
	close(tg.rep[0]);
	printf("ok: with a zombie leader, the worker thread took the filter\n");
}

static void check_caps_of(pid_t tid, bool dropped)
{
	static const char *const sets[] = { "CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd" };

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		uint64_t v = jt_status_hex(tg.pid, tid, sets[i]);

		CHECK(!!(v & NET_RAW) == !dropped, "thread %d: %s %" PRIx64, (int)tid, sets[i], v);
	}
	/* the others stay */
	CHECK(jt_status_hex(tg.pid, tid, "CapEff") & (UINT64_C(1) << CAP_NET_ADMIN),
	      "thread %d lost CAP_NET_ADMIN", (int)tid);
}

static void check_drop_cap(void)
{
	struct report r;
	double t0;

	spawn_target(T_NET_RAW, true);
	check_caps_of(tg.pid, false);
	check_caps_of(tg.worker_tid, false);
	CHECK(ask('m', 'r').err == 0, "raw socket before");
	CHECK(ask('w', 'r').err == 0, "raw socket before (worker)");
	wait_in_syscall(tg.pid, SYS_read);
	t0 = now_ms();
	CHECK(jail_inject_drop_cap(tg.pid, CAP_NET_RAW, &err) == 0, "%s", err.msg);
	printf("ok: dropped CAP_NET_RAW from 2 threads in %.2f ms\n", now_ms() - t0);
	check_caps_of(tg.pid, true);
	check_caps_of(tg.worker_tid, true);
	r = ask('m', 'r');
	CHECK(r.err == EPERM, "main thread: raw socket %s", strerrorname_np(r.err));
	r = ask('w', 'r');
	CHECK(r.err == EPERM, "worker: raw socket %s", strerrorname_np(r.err));
	printf("ok: CAP_NET_RAW gone from every set of both threads (bounding and ambient "
	       "included), raw sockets refused, CAP_NET_ADMIN kept\n");
	stop_target();
	CHECK(jail_inject_drop_cap(tg.pid, 64, &err) == -EINVAL, "cap 64: %s", err.msg);
}

int main(void)
{
#if !defined(__x86_64__)
	nslab_test_skip("injection is implemented for x86_64 only");
#endif
	tg.shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(tg.shared != MAP_FAILED, "mmap");
	strcpy(tg.dir, "/tmp/nslab-inject-XXXXXX");
	CHECK(mkdtemp(tg.dir), "mkdtemp: %s", strerror(errno));
	check_seccomp();
	check_seccomp_refused();
	check_leaderless();
	CHECK(rmdir(tg.dir) == 0, "rmdir %s: %s", tg.dir, strerror(errno));
	if (geteuid() != 0 && !nslab_test_host_capable())
		nslab_test_skip("no user namespace for the capability target");
	check_drop_cap();
	printf("ok: %u checks\n", checks);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/update: dynamic policy updates on a running sandbox, through its
 * handle: a limit lowered (prlimit on every process, and init told), system
 * calls denied (a seccomp filter stacked by inject.c), a capability dropped.
 * Each reaches every process of the sandbox, nested PID namespaces included.
 */
#include "jail/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
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

#include "ns/userns.h"
#include "shared/macro.h"

/* --- dynamic updates ---------------------------------------------------------- */

/* Whether pid belongs to the sandbox: its PID namespace, or one nested in it. */
static bool in_sandbox(const nslab_sandbox *s, const char *pid)
{
	char path[64];
	struct stat st;
	int fd, up;

	snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	for (int depth = 0; fd >= 0 && depth < 32; depth++) {
		if (fstat(fd, &st) < 0)
			break;
		if (st.st_ino == s->pidns_ino && st.st_dev == s->pidns_dev) {
			(void)close(fd);
			return true;
		}
		up = ioctl(fd, NS_GET_PARENT); /* EPERM past our own namespace */
		(void)close(fd);
		fd = up;
	}
	(void)close_fd(fd);
	return false;
}

/* Without a PID namespace: the command's session. */
static bool in_session(const nslab_sandbox *s, const char *pid)
{
	char path[64], buf[512], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	long sid;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && sscanf(p + 1, " %*c %*d %*d %ld", &sid) == 1 && sid == s->cmd_pid;
}

typedef int (*pid_func)(pid_t pid, void *data);

/* Call fn on every process of the sandbox but init. Return: how many, or fn's first -errno. */
static int for_each_pid(const nslab_sandbox *s, pid_func fn, void *data)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, r = 0;

	if (!d)
		return -errno;
	while (r >= 0 && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0 || pid == s->init_pid)
			continue;
		if (!(s->plan->pidns ? in_sandbox(s, e->d_name) : in_session(s, e->d_name)))
			continue;
		r = fn(pid, data);
		if (r == -ESRCH)
			r = 0; /* it ended meanwhile */
		n += r > 0;
	}
	closedir(d);
	return r < 0 ? r : n;
}

struct lower {
	const struct jail_limits *l;
	enum nslab_sandbox_limit limit;
	uint64_t value;
};

static int lower_one(pid_t pid, void *data)
{
	struct lower *lw = data;

	return jail_limits_lower_pid(pid, lw->l, lw->limit, lw->value);
}

/* prlimit every process; again while a pass changed one (a fork may race a pass). */
static int lower_all(nslab_sandbox *s, enum nslab_sandbox_limit limit, uint64_t value,
		     nslab_error *err)
{
	struct lower lw = { &s->plan->limits, limit, value };
	int r = 1;

	for (int pass = 0; pass < 16 && r > 0; pass++)
		r = for_each_pid(s, lower_one, &lw);
	if (r < 0)
		return nslab_err_set(err, -r, "lower the %s limit",
				     nslab_sandbox_limit_name(limit));
	return 0;
}

int nslab_sandbox_set_limit(nslab_sandbox *s, enum nslab_sandbox_limit limit, uint64_t value,
			    nslab_error *err)
{
	struct jail_msg m = { .kind = JAIL_MSG_LIMIT, .limit = limit, .value = value };
	enum nslab_sandbox_mechanism mech;
	int r = 0;

	if (limit <= NSLAB_SANDBOX_LIMIT_NONE || limit >= NSLAB_SANDBOX_LIMIT__COUNT || !value)
		return nslab_err_setx(err, EINVAL, "limit %d = %llu: not a limit to lower to",
				      (int)limit, (unsigned long long)value);
	if (s->limit[limit] && value > s->limit[limit])
		return nslab_err_setx(err, EPERM, "%s: %llu is above %llu (limits only go down)",
				      nslab_sandbox_limit_name(limit), (unsigned long long)value,
				      (unsigned long long)s->limit[limit]);
	if (s->reaped)
		return nslab_err_setx(err, ESRCH, "the sandbox has ended");
	mech = s->mech[limit];
	if (!mech)
		mech = limit == NSLAB_SANDBOX_LIMIT_TIMEOUT ? NSLAB_SANDBOX_MECH_TIMER
		       : limit == NSLAB_SANDBOX_LIMIT_PIDS && jail_plan_nproc_unenforced(s->plan)
			       ? NSLAB_SANDBOX_MECH_TIMER
			       : NSLAB_SANDBOX_MECH_RLIMIT;
	if (mech == NSLAB_SANDBOX_MECH_CGROUP)
		r = jail_limits_cgroup_set(&s->plan->limits, limit, value, err);
	else if (limit != NSLAB_SANDBOX_LIMIT_TIMEOUT)
		r = lower_all(s, limit, value, err);
	if (r < 0)
		return r;
	s->limit[limit] = value;
	s->mech[limit] = mech;
	r = jail_msg_send(s->sock, &m, -1);
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return nslab_err_set(err, -r, "tell the sandbox's init");
	return 0;
}

struct inject {
	const struct sock_fprog *prog;
	int cap;
	nslab_error *err;
};

static int inject_seccomp_one(pid_t pid, void *data)
{
	struct inject *in = data;

	return jail_inject_seccomp(pid, in->prog, in->err);
}

static int inject_cap_one(pid_t pid, void *data)
{
	struct inject *in = data;

	return jail_inject_drop_cap(pid, in->cap, in->err);
}

int nslab_sandbox_deny_syscalls(nslab_sandbox *s, const char *const names[], size_t n,
				nslab_error *err)
{
	struct sock_fprog prog = { 0 };
	struct inject in = { .prog = &prog, .err = err };
	int r;

	if (s->reaped)
		return nslab_err_setx(err, ESRCH, "the sandbox has ended");
	r = jail_seccomp_compile_deny(names, n, s->plan->violation, &prog, err);
	if (r >= 0)
		r = for_each_pid(s, inject_seccomp_one, &in);
	free(prog.filter);
	if (r < 0 && err && !err->code)
		return nslab_err_set(err, -r, "deny system calls");
	return r < 0 ? r : 0;
}

int nslab_sandbox_drop_cap(nslab_sandbox *s, int cap, nslab_error *err)
{
	struct inject in = { .cap = cap, .err = err };
	int r;

	if (s->reaped)
		return nslab_err_setx(err, ESRCH, "the sandbox has ended");
	r = for_each_pid(s, inject_cap_one, &in);
	if (r < 0 && err && !err->code)
		return nslab_err_set(err, -r, "drop capability %d", cap);
	return r < 0 ? r : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/limits: how each limit is enforced, the cgroup v2 path where the caller
 * has a delegated subtree, rlimits otherwise, the CPU share, dynamic lowering.
 *
 * DOC: mechanisms
 * memory   memory.max (+ memory.oom.group, memory.swap.max 0), else RLIMIT_AS
 * cpu      cgroup cpu.stat sampled by init, else RLIMIT_CPU per process (SIGXCPU
 *          at the limit, SIGKILL a second later) plus init's sampling of the
 *          whole tree's CPU time (it ends the sandbox when the sum passes)
 * pids     pids.max, else RLIMIT_NPROC: since Linux 5.14 counted per user *in
 *          each user namespace*, so in the sandbox's own one it counts the
 *          sandbox's tasks only (plus its init when init runs as the same
 *          user: nproc_extra). The host's root is exempt from RLIMIT_NPROC:
 *          a command that runs as it is held by init's sampling alone (TIMER)
 * files    RLIMIT_NOFILE          fsize   RLIMIT_FSIZE      timeout  init's timerfd
 * Never above the caller's own hard limits (an rlimit can only go down).
 */
#include "jail/core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

static int limit_resource(enum nslab_sandbox_limit limit)
{
	switch (limit) {
	case NSLAB_SANDBOX_LIMIT_MEMORY:
		return RLIMIT_AS;
	case NSLAB_SANDBOX_LIMIT_CPU:
		return RLIMIT_CPU;
	case NSLAB_SANDBOX_LIMIT_PIDS:
		return RLIMIT_NPROC;
	case NSLAB_SANDBOX_LIMIT_FILES:
		return RLIMIT_NOFILE;
	case NSLAB_SANDBOX_LIMIT_FSIZE:
		return RLIMIT_FSIZE;
	case NSLAB_SANDBOX_LIMIT_NONE:
	case NSLAB_SANDBOX_LIMIT_TIMEOUT:
	case NSLAB_SANDBOX_LIMIT__COUNT:
		break;
	}
	return -1;
}

/* The rlimit for a limit's value: CPU gets a second of grace between SIGXCPU and SIGKILL. */
static struct rlimit limit_rlimit(const struct jail_limits *l, enum nslab_sandbox_limit limit,
				  uint64_t value)
{
	switch (limit) {
	case NSLAB_SANDBOX_LIMIT_CPU:
		return (struct rlimit){ value, value + 1 };
	case NSLAB_SANDBOX_LIMIT_PIDS:
		return (struct rlimit){ value + l->nproc_extra, value + l->nproc_extra };
	case NSLAB_SANDBOX_LIMIT_NONE:
	case NSLAB_SANDBOX_LIMIT_MEMORY:
	case NSLAB_SANDBOX_LIMIT_FILES:
	case NSLAB_SANDBOX_LIMIT_FSIZE:
	case NSLAB_SANDBOX_LIMIT_TIMEOUT:
	case NSLAB_SANDBOX_LIMIT__COUNT:
		break;
	}
	return (struct rlimit){ value, value };
}

/* Nice 0..14 for shares at or above each bound: 1024 * 2^(-(n + 0.5) / 5), rounded up. */
static const unsigned nice_bound[] = { 956, 832, 725, 631, 549, 478, 416, 363,
				       316, 275, 239, 208, 182, 158, 138 };

int jail_cpu_shares_nice(unsigned shares, bool *ret_idle)
{
	*ret_idle = shares < 128;
	if (*ret_idle)
		return 19;
	for (unsigned n = 0; n < ARRAY_SIZE(nice_bound); n++)
		if (shares >= nice_bound[n])
			return (int)n;
	return 15;
}

/* Async-signal-safe: "what: strerror" into err (no printf between fork and exec). */
static int child_err(nslab_error *err, int code, const char *what)
{
	const char *cause = strerrordesc_np(code);
	size_t n = 0;

	if (!err)
		return -code;
	err->code = code;
	for (const char *p = what; *p && n < sizeof(err->msg) - 3; p++)
		err->msg[n++] = *p;
	err->msg[n++] = ':';
	err->msg[n++] = ' ';
	for (const char *p = cause ? cause : "error"; *p && n < sizeof(err->msg) - 1; p++)
		err->msg[n++] = *p;
	err->msg[n] = '\0';
	return -code;
}

static int apply_rlimit(const struct jail_limits *l, enum nslab_sandbox_limit limit,
			nslab_error *err)
{
	struct rlimit want = limit_rlimit(l, limit, l->value[limit]), have;
	int res = limit_resource(limit);

	if (getrlimit(res, &have) < 0)
		return child_err(err, errno, "getrlimit");
	/* an rlimit never goes up: the caller's own hard limit is a ceiling */
	if (want.rlim_max > have.rlim_max)
		want.rlim_max = have.rlim_max;
	if (want.rlim_cur > want.rlim_max)
		want.rlim_cur = want.rlim_max;
	if (setrlimit(res, &want) < 0)
		return child_err(err, errno, "setrlimit");
	return 0;
}

int jail_limits_apply(const struct jail_limits *l, nslab_error *err)
{
	for (int i = 1; i < NSLAB_SANDBOX_LIMIT__COUNT; i++) {
		int r;

		if (!l->value[i] || l->mech[i] != NSLAB_SANDBOX_MECH_RLIMIT ||
		    limit_resource(i) < 0)
			continue;
		r = apply_rlimit(l, i, err);
		if (r < 0)
			return r;
	}
	if (!l->cpu_shares || l->cgroup_fd >= 0)
		return 0;
	if (l->sched_idle) {
		struct sched_param sp = { 0 };

		/* the raw call: musl's wrapper (the lean nslab) always fails with ENOSYS */
		if (syscall(SYS_sched_setscheduler, 0, SCHED_IDLE, &sp) < 0)
			return child_err(err, errno, "SCHED_IDLE");
		return 0;
	}
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) < l->nice && setpriority(PRIO_PROCESS, 0, l->nice) < 0)
		return child_err(err, errno, "setpriority");
	return 0;
}

int jail_limits_lower_pid(pid_t pid, const struct jail_limits *l, enum nslab_sandbox_limit limit,
			  uint64_t value)
{
	struct rlimit want = limit_rlimit(l, limit, value), have;
	int res = limit_resource(limit);

	if (res < 0)
		return -EINVAL;
	if (prlimit(pid, res, NULL, &have) < 0)
		return -errno;
	if (have.rlim_max <= want.rlim_max && have.rlim_cur <= want.rlim_cur)
		return 0;
	if (want.rlim_max > have.rlim_max)
		want.rlim_max = have.rlim_max;
	if (want.rlim_cur > have.rlim_cur)
		want.rlim_cur = have.rlim_cur;
	if (prlimit(pid, res, &want, NULL) < 0)
		return -errno;
	return 1;
}

/* --- cgroup v2 ------------------------------------------------------------- */

static const struct {
	unsigned bit;
	const char *name;
} cg_ctls[] = { { JAIL_CG_MEMORY, "memory" }, { JAIL_CG_PIDS, "pids" }, { JAIL_CG_CPU, "cpu" } };

unsigned jail_cgroup_needed(const struct nslab_sandbox_config *c)
{
	unsigned need = 0;

	if (c->limit[NSLAB_SANDBOX_LIMIT_MEMORY])
		need |= JAIL_CG_MEMORY;
	if (c->limit[NSLAB_SANDBOX_LIMIT_PIDS])
		need |= JAIL_CG_PIDS;
	if (c->limit[NSLAB_SANDBOX_LIMIT_CPU] || c->cpu_shares)
		need |= JAIL_CG_CPU;
	return need;
}

/* Read a small file at dirfd/name into buf (NUL-terminated). Async-signal-safe. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	(void)close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static int write_small(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	(void)close(fd);
	if (n < 0)
		return -errno;
	return 0;
}

/* Whether word is one of the space-separated words of text. */
static bool has_word(const char *text, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p += len)
		if ((p == text || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
	return false;
}

/* The mount point of the cgroup v2 hierarchy (a mount of its root), from mountinfo. */
static int cg_mountpoint(char *ret, size_t len)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], mnt[PATH_MAX];
		const char *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    strcmp(root, "/") != 0)
			continue;
		snprintf(ret, len, "%s", mnt);
		r = 0;
	}
	fclose(f);
	return r;
}

/* The caller's cgroup v2 path ("0::/path" in /proc/self/cgroup). */
static int cg_self(char *ret, size_t len)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(ret, len, "%s", line + 3);
		r = 0;
	}
	fclose(f);
	return r;
}

/* Every needed controller enabled for dir's children (enabling listed ones), or why not. */
static int cg_enable(const char *dir, unsigned need, char *why, size_t why_len)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char avail[512], enabled[512], plus[32];

	if (fd < 0 || access(dir, W_OK) < 0)
		return snprintf(why, why_len, "%s: not writable", dir), -ENOENT;
	if (read_small(fd, "cgroup.controllers", avail, sizeof(avail)) < 0 ||
	    read_small(fd, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
		return snprintf(why, why_len, "%s: not a cgroup v2 directory", dir), -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(cg_ctls); i++) {
		if (!(need & cg_ctls[i].bit) || has_word(enabled, cg_ctls[i].name))
			continue;
		avail[strcspn(avail, "\n")] = '\0';
		if (!has_word(avail, cg_ctls[i].name))
			return snprintf(why, why_len,
					"%s: controller '%s' not available (cgroup.controllers: "
					"'%s')",
					dir, cg_ctls[i].name, avail),
			       -ENOENT;
		snprintf(plus, sizeof(plus), "+%s", cg_ctls[i].name);
		if (write_small(fd, "cgroup.subtree_control", plus) < 0)
			return snprintf(why, why_len, "%s: cannot enable controller '%s'", dir,
					cg_ctls[i].name),
			       -ENOENT;
	}
	return 0;
}

int jail_cgroup_find(unsigned need, char *ret_dir, size_t dir_len, char *why, size_t why_len)
{
	char mnt[PATH_MAX], self[PATH_MAX], dir[2 * PATH_MAX + 2];
	struct stat st;
	char *slash;

	if (cg_mountpoint(mnt, sizeof(mnt)) < 0)
		return snprintf(why, why_len, "no cgroup v2 mount"), -ENOENT;
	if (cg_self(self, sizeof(self)) < 0)
		return snprintf(why, why_len, "no cgroup v2 path in /proc/self/cgroup"), -ENOENT;
	snprintf(dir, sizeof(dir), "%s%s", mnt, strcmp(self, "/") == 0 ? "" : self);
	if (strcmp(self, "/") != 0) {
		/* our own cgroup holds us: only a parent delegated to us can take controllers */
		slash = strrchr(dir, '/');
		*slash = '\0';
		if (geteuid() == 0 || stat(dir, &st) < 0 || st.st_uid != geteuid())
			return snprintf(why, why_len,
					"%s%s holds this process and its parent %s is not "
					"delegated to it",
					mnt, self, dir),
			       -ENOENT;
	}
	if (cg_enable(dir, need, why, why_len) < 0)
		return -ENOENT;
	snprintf(ret_dir, dir_len, "%s", dir);
	return 0;
}

/* Write the limits into the sandbox's new cgroup (cgroup_fd). */
static int cg_configure(const struct nslab_sandbox_config *c, struct jail_limits *l)
{
	uint64_t mem = c->limit[NSLAB_SANDBOX_LIMIT_MEMORY],
		 pids = c->limit[NSLAB_SANDBOX_LIMIT_PIDS];
	char num[32];
	int r = 0;

	if (mem) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)mem);
		r = write_small(l->cgroup_fd, "memory.max", num);
		/* best effort: a hog must not swap instead, and an OOM takes the whole tree */
		(void)write_small(l->cgroup_fd, "memory.swap.max", "0");
		(void)write_small(l->cgroup_fd, "memory.oom.group", "1");
	}
	if (r >= 0 && pids) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)pids);
		r = write_small(l->cgroup_fd, "pids.max", num);
	}
	if (r >= 0 && c->cpu_shares) {
		snprintf(num, sizeof(num), "%u", c->cpu_shares * 100 / 1024 ?: 1);
		r = write_small(l->cgroup_fd, "cpu.weight", num);
	}
	return r;
}

/* Make the sandbox's own cgroup under dir; on any failure, leave nothing behind. */
static int cg_create(const struct nslab_sandbox_config *c, const char *dir, struct jail_limits *l)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	l->cgroup_parent_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_parent_fd < 0)
		return -errno;
	snprintf(l->cgroup_name, sizeof(l->cgroup_name), "nslab-%d-%llx", (int)getpid(),
		 (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
	if (mkdirat(l->cgroup_parent_fd, l->cgroup_name, 0755) < 0)
		goto undo_parent;
	l->cgroup_fd =
		openat(l->cgroup_parent_fd, l->cgroup_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd >= 0 && cg_configure(c, l) >= 0)
		return 0;
	l->cgroup_fd = close_fd(l->cgroup_fd);
	(void)unlinkat(l->cgroup_parent_fd, l->cgroup_name, AT_REMOVEDIR);
undo_parent:
	l->cgroup_parent_fd = close_fd(l->cgroup_parent_fd);
	return -EPERM;
}

int jail_limits_prepare(const struct nslab_sandbox_config *c, struct jail_limits *ret,
			nslab_error *err)
{
	struct jail_limits l = { .cgroup_fd = -1, .cgroup_parent_fd = -1 };
	unsigned need = jail_cgroup_needed(c);
	char dir[PATH_MAX], why[PATH_MAX + 128];

	(void)err;
	for (int i = 1; i < NSLAB_SANDBOX_LIMIT__COUNT; i++) {
		l.value[i] = c->limit[i];
		if (c->limit[i])
			l.mech[i] = i == NSLAB_SANDBOX_LIMIT_TIMEOUT ? NSLAB_SANDBOX_MECH_TIMER
								     : NSLAB_SANDBOX_MECH_RLIMIT;
	}
	l.cpu_shares = c->cpu_shares;
	if (c->cpu_shares)
		l.nice = jail_cpu_shares_nice(c->cpu_shares, &l.sched_idle);
	if (need && jail_cgroup_find(need, dir, sizeof(dir), why, sizeof(why)) == 0 &&
	    cg_create(c, dir, &l) == 0) {
		if (need & JAIL_CG_MEMORY)
			l.mech[NSLAB_SANDBOX_LIMIT_MEMORY] = NSLAB_SANDBOX_MECH_CGROUP;
		if (need & JAIL_CG_PIDS)
			l.mech[NSLAB_SANDBOX_LIMIT_PIDS] = NSLAB_SANDBOX_MECH_CGROUP;
		if (c->limit[NSLAB_SANDBOX_LIMIT_CPU])
			l.mech[NSLAB_SANDBOX_LIMIT_CPU] = NSLAB_SANDBOX_MECH_CGROUP;
	}
	*ret = l;
	return 0;
}

void jail_limits_release(struct jail_limits *l)
{
	l->cgroup_fd = close_fd(l->cgroup_fd);
	if (l->cgroup_parent_fd >= 0)
		(void)unlinkat(l->cgroup_parent_fd, l->cgroup_name, AT_REMOVEDIR);
	l->cgroup_parent_fd = close_fd(l->cgroup_parent_fd);
}

int jail_limits_cgroup_set(const struct jail_limits *l, enum nslab_sandbox_limit limit,
			   uint64_t value, nslab_error *err)
{
	const char *file = limit == NSLAB_SANDBOX_LIMIT_MEMORY ? "memory.max" : "pids.max";
	char num[32];
	int r;

	if (limit == NSLAB_SANDBOX_LIMIT_CPU)
		return 0; /* init samples cpu.stat against the new value */
	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	r = write_small(l->cgroup_fd, file, num);
	if (r < 0)
		return nslab_err_set(err, -r, "cgroup %s: write %s", l->cgroup_name, file);
	return 0;
}

/* The number after "key " in a flat-keyed cgroup file's text, 0 if absent. Async-signal-safe. */
static uint64_t keyed_value(const char *text, const char *key)
{
	size_t len = strlen(key);
	uint64_t v = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, len) != 0 || p[len] != ' ')
			continue;
		for (p += len + 1; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		return v;
	}
	return 0;
}

uint32_t jail_limits_cgroup_reached(const struct jail_limits *l)
{
	char buf[1024];
	uint32_t bits = 0;

	if (l->cgroup_fd < 0)
		return 0;
	if (read_small(l->cgroup_fd, "memory.events", buf, sizeof(buf)) > 0 &&
	    (keyed_value(buf, "oom_kill") || keyed_value(buf, "max")))
		bits |= 1u << NSLAB_SANDBOX_LIMIT_MEMORY;
	if (read_small(l->cgroup_fd, "pids.events", buf, sizeof(buf)) > 0 &&
	    keyed_value(buf, "max"))
		bits |= 1u << NSLAB_SANDBOX_LIMIT_PIDS;
	return bits;
}

int jail_limits_cgroup_cpu_usec(const struct jail_limits *l, uint64_t *ret)
{
	char buf[1024];
	ssize_t n = read_small(l->cgroup_fd, "cpu.stat", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	*ret = keyed_value(buf, "usage_usec");
	return 0;
}

void jail_limits_drop_cgroup(struct jail_limits *l)
{
	if (l->cgroup_fd < 0)
		return;
	jail_limits_release(l);
	for (int i = 1; i < NSLAB_SANDBOX_LIMIT__COUNT; i++)
		if (l->mech[i] == NSLAB_SANDBOX_MECH_CGROUP)
			l->mech[i] = NSLAB_SANDBOX_MECH_RLIMIT;
}

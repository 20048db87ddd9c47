/* SPDX-License-Identifier: MIT */
/*
 * jail/spawn: the parent's side of a sandbox (core.h's DOC: the start
 * sequence): the plan, clone3 into the namespaces, the uid/gid maps, the
 * handle (wait, kill, free), the result and events, and dynamic updates.
 *
 * DOC: user namespace maps (the parent writes them; NET_JOIN: the helper)
 * rootless    "U euid 1" and "G egid 1", setgroups denied: the command runs
 *             as U inside and as the caller outside, as init does
 * root        U mapped to itself when U is mapped in the caller's namespace and
 *             is not the caller (sudo: SUDO_UID), plus the caller's own id for
 *             init; else "U euid 1". setgroups allowed: the command drops the
 *             supplementary groups, unless setgroups is denied where we are
 *             (/proc/self/setgroups: a rootless lab's namespace, `unshare -r`),
 *             which no capability overrides: then the groups stay
 * NET_JOIN    with the lab's user namespace: "U e 1" where e is the helper's
 *             euid in it (the caller as the lab sees it)
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

extern char **environ;

struct nslab_sandbox {
	struct jail_plan *plan;
	pid_t init_pid;
	int init_pidfd;
	int sock;
	pid_t cmd_pid;
	int cmd_pidfd;
	int prep_go, prep_ep; /* pool: the prepared command's argv socket and exec pipe, or -1 */
	dev_t pidns_dev;
	ino_t pidns_ino;
	uint64_t limit[NSLAB_SANDBOX_LIMIT__COUNT]; /* as lowered so far */
	enum nslab_sandbox_mechanism mech[NSLAB_SANDBOX_LIMIT__COUNT];
	uint64_t t0; /* CLOCK_MONOTONIC ns at the start, for the wall time without a report */
	bool started_told, reaped;
	uint32_t reached;
	struct nslab_sandbox_result res;
	nslab_egress_session *egress; /* set_egress(): ended with the sandbox */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- the plan ------------------------------------------------------------------ */

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

struct jail_plan *jail_plan_ref(struct jail_plan *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void jail_plan_unref(struct jail_plan *p)
{
	if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	jail_fs_plan_free(p->fs);
	free(p->seccomp.filter);
	jail_limits_release(&p->limits);
	(void)close_fd(p->join_userns_fd);
	(void)close_fd(p->join_netns_fd);
	for (int i = 0; i < 3; i++)
		(void)close_fd(p->stdio[i]);
	free(p->hostname);
	free(p->cwd);
	strv_free(p->envp);
	free(p);
}

/*
 * id in the caller's user namespace as its parent namespace sees it (path:
 * /proc/self/uid_map or gid_map). Return: the id, or -1 if it is not mapped.
 */
static long long id_outside(const char *path, unsigned long id)
{
	unsigned long in, out, n;
	long long found = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (found < 0 && fscanf(f, "%lu %lu %lu", &in, &out, &n) == 3)
		if (id >= in && id - in < n)
			found = (long long)(out + (id - in));
	fclose(f);
	return found;
}

static bool id_mapped(const char *path, unsigned long id)
{
	return id_outside(path, id) >= 0;
}

/* Whether every capability of mask (bits < 32) is effective. */
static bool has_caps(uint32_t mask)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return (d[0].effective & mask) == mask;
}

/*
 * Whether setgroups(2) can work here at all. A user namespace whose
 * /proc/PID/setgroups says "deny" (one made by an unprivileged user, a rootless
 * lab's, `unshare -r`'s) refuses setgroups to every process in it and in every
 * user namespace below it, whatever capabilities they hold
 * (user_namespaces(7)): being uid 0 with CAP_SETGID there is not enough. No
 * file: a kernel before 3.19, which allows it.
 */
static bool setgroups_allowed(void)
{
	char buf[16] = "";
	_cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		return false;
	return strncmp(buf, "allow", 5) == 0;
}

/* One map: returns true when init (the caller's id) needs a line of its own. */
static bool map_text(char *buf, size_t len, unsigned inside, unsigned self, bool priv,
		     const char *self_map)
{
	bool two = priv && inside != self && id_mapped(self_map, inside);

	if (two)
		snprintf(buf, len, "%u %u 1\n%u %u 1\n", inside, inside, self, self);
	else
		snprintf(buf, len, "%u %u 1\n", inside, self);
	return two;
}

/*
 * Since Linux 5.12 (verify_root_map()) a user namespace may map its parent's
 * uid 0 only if its creator held CAP_SETFCAP: a process that is root one level
 * up without capabilities (the command of a sandbox started by the host's
 * root) can map no uid at all, so it can start no sandbox. Say so plainly.
 */
static int plan_check_nesting(const struct jail_plan *p, nslab_error *err)
{
	if (!p->userns || !p->self_maps || p->join)
		return 0;
	if (id_outside("/proc/self/uid_map", geteuid()) != 0 || has_caps(1u << CAP_SETFCAP))
		return 0;
	return nslab_err_setx(
		err, EPERM,
		"a sandbox cannot start here: this process is root outside its user "
		"namespace without CAP_SETFCAP, so it can map no uid (in a sandbox of "
		"root, run the outer command as another user, e.g. --uid)");
}

static void plan_ids(const struct nslab_sandbox_config *c, struct jail_plan *p)
{
	uid_t euid = geteuid();
	/* CAP_SETUID and CAP_SETGID: any map may be written (else only our own ids) */
	bool priv = has_caps(1u << CAP_SETUID | 1u << CAP_SETGID), uid_two;
	/* the command may clear its groups only where the kernel lets anyone */
	bool groups = priv && setgroups_allowed();
	uid_t cmd_kuid;

	jail_config_ids(c, &p->uid, &p->gid);
	p->userns = p->clone_flags & CLONE_NEWUSER;

	if (!p->userns) {
		p->set_groups = groups;
		p->limits.nproc_extra = p->uid == euid;
		cmd_kuid = p->uid;
	} else {
		uid_two = map_text(p->uid_map, sizeof(p->uid_map), p->uid, euid, priv,
				   "/proc/self/uid_map");
		(void)map_text(p->gid_map, sizeof(p->gid_map), p->gid, getegid(), priv,
			       "/proc/self/gid_map");
		p->deny_setgroups = !priv;
		p->set_groups = groups;
		p->self_maps = !priv && !p->join;
		p->limits.nproc_extra = uid_two ? 0 : 1;
		cmd_kuid = uid_two ? p->uid : euid;
	}
	/*
	 * The host's root is exempt from RLIMIT_NPROC (kernel/fork.c): init holds it
	 * alone. Seen from here: the command's id is 0 one namespace up (nested
	 * sandboxes of root map 0 to 0 all the way).
	 */
	p->limits.nproc_unenforced = id_outside("/proc/self/uid_map", cmd_kuid) == 0 && !p->join;
	if (p->limits.nproc_unenforced &&
	    p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] == NSLAB_SANDBOX_MECH_RLIMIT)
		p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] = NSLAB_SANDBOX_MECH_TIMER;
}

static int env_find(char **v, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], name, len) == 0 && v[i][len] == '=')
			return (int)i;
	return -1;
}

/* The command's environment: the caller's (or none), then the config's changes in order. */
static int plan_env(const struct nslab_sandbox_config *c, struct jail_plan *p, nslab_error *err)
{
	size_t n = 0, base = 0;
	char **v;

	for (size_t i = 0; !c->clear_env && environ && environ[i]; i++)
		base++;
	v = calloc(base + c->n_env + 1, sizeof(*v));
	if (!v)
		return nslab_err_set(err, ENOMEM, "sandbox environment");
	p->envp = v;
	for (size_t i = 0; i < base; i++)
		if (!(v[n++] = strdup(environ[i])))
			return nslab_err_set(err, ENOMEM, "sandbox environment");
	for (size_t i = 0; i < c->n_env; i++) {
		const char *t = c->env[i].text, *eq = strchr(t, '=');
		size_t len = eq ? (size_t)(eq - t) : strlen(t);
		int at = env_find(v, n, t, len);

		if (at >= 0) {
			free(v[at]);
			v[at] = v[--n];
			v[n] = NULL;
		}
		if (eq && !(v[n++] = strdup(t)))
			return nslab_err_set(err, ENOMEM, "sandbox environment");
	}
	return 0;
}

static uint64_t plan_flags(const struct nslab_sandbox_config *c, const struct jail_plan *p)
{
	uint64_t f = 0;

	if (c->ns & NSLAB_SANDBOX_NS_USER)
		f |= CLONE_NEWUSER;
	if (c->ns & NSLAB_SANDBOX_NS_PID)
		f |= CLONE_NEWPID;
	if (c->ns & NSLAB_SANDBOX_NS_MOUNT)
		f |= CLONE_NEWNS;
	if (c->ns & NSLAB_SANDBOX_NS_UTS)
		f |= CLONE_NEWUTS;
	if (c->ns & NSLAB_SANDBOX_NS_IPC)
		f |= CLONE_NEWIPC;
	/* cgroup mode: the command unshares it once inside its cgroup (init.c) */
	if ((c->ns & NSLAB_SANDBOX_NS_CGROUP) && p->limits.cgroup_fd < 0)
		f |= CLONE_NEWCGROUP;
	if ((c->ns & NSLAB_SANDBOX_NS_NET) && c->net == NSLAB_SANDBOX_NET_NONE)
		f |= CLONE_NEWNET;
	return f;
}

/* True if fd is the namespace at path (entering one's own user namespace is EINVAL). */
static bool same_ns(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

static int plan_join(const struct nslab_sandbox_config *c, struct jail_plan *p, nslab_error *err)
{
	if (c->net != NSLAB_SANDBOX_NET_JOIN)
		return 0;
	if (c->netns_fd < 0)
		return nslab_err_setx(err, EINVAL, "network JOIN without a network namespace");
	p->join = true;
	p->join_netns_fd = fcntl(c->netns_fd, F_DUPFD_CLOEXEC, 3);
	if (c->net_userns_fd >= 0 && !same_ns(c->net_userns_fd, "/proc/self/ns/user"))
		p->join_userns_fd = fcntl(c->net_userns_fd, F_DUPFD_CLOEXEC, 3);
	if (p->join_netns_fd < 0 || (c->net_userns_fd >= 0 && p->join_userns_fd < 0 &&
				     !same_ns(c->net_userns_fd, "/proc/self/ns/user")))
		return nslab_err_set(err, errno, "duplicate the namespace fds");
	return 0;
}

static int plan_basics(const struct nslab_sandbox_config *c, struct jail_plan *p, nslab_error *err)
{
	p->clk_tck = sysconf(_SC_CLK_TCK);
	p->keep_caps = c->keep_caps;
	p->ambient = c->ambient;
	p->violation = c->violation;
	p->event_fn = c->event_fn;
	p->event_data = c->event_data;
	for (int i = 0; i < 3; i++)
		if (c->stdio[i] >= 0 && (p->stdio[i] = fcntl(c->stdio[i], F_DUPFD_CLOEXEC, 3)) < 0)
			return nslab_err_set(err, errno, "duplicate stdio");
	if (p->clone_flags & CLONE_NEWUTS) {
		p->hostname = strdup(c->hostname ? c->hostname : "nslab");
		if (!p->hostname)
			return nslab_err_set(err, ENOMEM, "sandbox hostname");
	}
	return plan_env(c, p, err);
}

/* Whether a seccomp filter holds this process (a nested sandbox's: Seccomp 2 in its status). */
static bool under_seccomp(void)
{
	char buf[4096], *s;
	_cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return true; /* unknown: the safe answer */
	buf[n] = '\0';
	s = strstr(buf, "\nSeccomp:");
	return !s || strtol(s + 9, NULL, 10) != 0;
}

/*
 * A new network namespace costs about half a millisecond of clone3(), before
 * anything else can start. init makes it instead, on a helper that shares its
 * memory, while it builds the root (init.c's DOC). Not when a seccomp filter
 * holds us: ours (a nested sandbox's) refuses a namespace without a new user
 * namespace in the same call.
 */
static void plan_net_late(struct jail_plan *p)
{
	if (!(p->clone_flags & CLONE_NEWNET) || p->join || under_seccomp())
		return;
	p->net_late = true;
	p->clone_flags &= ~(uint64_t)CLONE_NEWNET;
}

/* The config's, or the caller's directory if it is the same one inside, or /. */
static int plan_cwd(const struct nslab_sandbox_config *c, struct jail_plan *p, nslab_error *err)
{
	p->cwd = c->cwd ? strdup(c->cwd) : getcwd(NULL, 0);
	if (!c->cwd && p->cwd && !jail_fs_path_visible(p->fs, p->cwd)) {
		free(p->cwd);
		p->cwd = NULL;
	}
	if (!p->cwd)
		p->cwd = strdup("/");
	if (!p->cwd)
		return nslab_err_set(err, ENOMEM, "sandbox cwd");
	return 0;
}

int jail_plan_prepare(const struct nslab_sandbox_config *c, struct jail_plan **ret,
		      nslab_error *err)
{
	struct jail_plan *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return nslab_err_set(err, ENOMEM, "sandbox plan");
	*p = (struct jail_plan){ .refs = 1,
				 .join_userns_fd = -1,
				 .join_netns_fd = -1,
				 .stdio = { -1, -1, -1 },
				 .limits = { .cgroup_fd = -1, .cgroup_parent_fd = -1 } };
	r = jail_limits_prepare(c, &p->limits, err);
	if (r >= 0)
		r = plan_join(c, p, err);
	if (r < 0)
		goto fail;
	p->clone_flags = plan_flags(c, p);
	p->cgroupns_late = (c->ns & NSLAB_SANDBOX_NS_CGROUP) && p->limits.cgroup_fd >= 0;
	p->new_net = p->clone_flags & CLONE_NEWNET;
	p->pidns = p->clone_flags & CLONE_NEWPID;
	plan_ids(c, p);
	r = plan_check_nesting(p, err);
	if (r >= 0)
		r = plan_basics(c, p, err);
	if (r >= 0 && (p->clone_flags & CLONE_NEWNS))
		r = jail_fs_prepare(c, &p->fs, err);
	if (r >= 0)
		plan_net_late(p);
	if (r >= 0)
		r = plan_cwd(c, p, err);
	if (r >= 0)
		r = jail_seccomp_compile(c, &p->seccomp, err);
	p->seccomp_default = c->seccomp == NSLAB_SANDBOX_SECCOMP_DEFAULT;
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	jail_plan_unref(p);
	return r;
}

/* --- starting --------------------------------------------------------------- */

static int write_file(const char *path, const char *text, nslab_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		return nslab_err_set(err, errno, "write %s", path);
	return 0;
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
	const char *cause = strerrordesc_np(errno);

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
		jail_init_main(p, argv, sock, parent_pidfd);
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

static int start_direct(nslab_sandbox *s, char *const *argv, int sock, int other, int parent_pidfd,
			nslab_error *err)
{
	/* exit_signal 0: a caller's waitpid(-1) (a SIGCHLD handler) cannot reap init; we use __WALL */
	struct clone_args a = { .flags = s->plan->clone_flags | CLONE_PIDFD,
				.pidfd = (uint64_t)(uintptr_t)&s->init_pidfd,
				.exit_signal = 0 };
	pid_t pid = jail_clone(&a);

	if (pid == 0) {
		(void)close(other);
		jail_init_main(s->plan, argv, sock, parent_pidfd);
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

/* Reap init after a failed start (it exits on its own after an ERROR). */
static void reap_init(nslab_sandbox *s, int sig)
{
	siginfo_t si;

	if (s->init_pidfd < 0 || s->reaped)
		return;
	if (sig)
		(void)syscall(SYS_pidfd_send_signal, s->init_pidfd, sig, NULL, 0);
	while (waitid(P_PIDFD, (id_t)s->init_pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
		;
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
	s->res.exit_code = !exec_step				     ? 125
			   : e->code == ENOENT			     ? 127
			   : e->code == EACCES || e->code == ENOEXEC ? 126
								     : 125;
	return -e->code;
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

	r = jail_msg_recv_fds(s->sock, &m, fds, JAIL_MSG_FDS_MAX);
	if (r <= 0 || (m.kind != want && m.kind != JAIL_MSG_ERROR)) {
		close_fds(fds, JAIL_MSG_FDS_MAX);
		reap_init(s, SIGKILL);
		return nslab_err_setx(err, r < 0 ? -r : EPROTO, "the sandbox's init ended early");
	}
	if (m.kind == JAIL_MSG_ERROR) {
		close_fds(fds, JAIL_MSG_FDS_MAX);
		reap_init(s, 0);
		return start_failed(s, &m.err, m.value, err);
	}
	s->pidns_dev = (dev_t)m.ns_dev;
	s->pidns_ino = (ino_t)m.ns_ino;
	if (want == JAIL_MSG_STARTED) {
		s->cmd_pidfd = TAKE_FD(fds[0]);
		s->cmd_pid = pidfd_pid(s->cmd_pidfd);
	} else if (fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0) {
		s->prep_go = TAKE_FD(fds[0]);
		s->prep_ep = TAKE_FD(fds[1]);
		s->cmd_pidfd = TAKE_FD(fds[2]);
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
	s->t0 = mono_ns();
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
 * A prepared command (init.c's DOC: the pool's command): argv straight to it,
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
	s->t0 = mono_ns();
	/* a command that died in its setup reads nothing: its error is in the exec pipe */
	(void)send_all(s->prep_go, buf, sizeof(hdr) + len);
	s->prep_go = close_fd(s->prep_go);
	do
		n = read(s->prep_ep, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	s->prep_ep = close_fd(s->prep_ep);
	if (n == 0) {
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
	s->t0 = mono_ns();
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
	int code;

	if (c->egress)
		return spawn_filtered(c, argv, ret, &code, err);
	return sandbox_spawn(c, argv, ret, &code, err);
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

pid_t nslab_sandbox_pid(const nslab_sandbox *s)
{
	return s->cmd_pid;
}

int nslab_sandbox_pidfd(const nslab_sandbox *s)
{
	return s->init_pidfd;
}

static void emit(nslab_sandbox *s, enum nslab_sandbox_event_kind kind,
		 enum nslab_sandbox_limit limit, const struct nslab_sandbox_result *res)
{
	struct nslab_sandbox_event ev = {
		.kind = kind, .pid = s->cmd_pid, .limit = limit, .result = res
	};

	if (s->plan->event_fn)
		s->plan->event_fn(&ev, s->plan->event_data);
}

static uint64_t tv_usec(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000ull + (uint64_t)tv.tv_usec;
}

static void result_fill(nslab_sandbox *s, const struct jail_msg *rep, const struct rusage *ru)
{
	struct nslab_sandbox_result *res = &s->res;
	int st = rep ? rep->status : SIGKILL;

	*res = (struct nslab_sandbox_result){ .status = st };
	res->ended_by = rep ? (enum nslab_sandbox_limit)rep->ended_by : NSLAB_SANDBOX_LIMIT_NONE;
	res->exit_code = res->ended_by == NSLAB_SANDBOX_LIMIT_TIMEOUT ? 124
			 : WIFEXITED(st)			      ? WEXITSTATUS(st)
			 : WIFSIGNALED(st)			      ? 128 + WTERMSIG(st)
								      : 125;
	res->limits_reached = s->reached | (rep ? rep->reached : 0) |
			      jail_limits_cgroup_reached(&s->plan->limits);
	memcpy(res->mechanism, s->mech, sizeof(res->mechanism));
	res->wall_usec = rep ? rep->wall_usec : (mono_ns() - s->t0) / 1000;
	if (rep)
		ru = &rep->ru;
	res->user_usec = tv_usec(ru->ru_utime);
	res->sys_usec = tv_usec(ru->ru_stime);
	res->maxrss_kib = (uint64_t)ru->ru_maxrss;
	res->minflt = (uint64_t)ru->ru_minflt;
	res->majflt = (uint64_t)ru->ru_majflt;
	res->nvcsw = (uint64_t)ru->ru_nvcsw;
	res->nivcsw = (uint64_t)ru->ru_nivcsw;
}

/* Read init's messages until its REPORT (or its end), reap it, fill the result. */
static int sandbox_collect(nslab_sandbox *s, nslab_error *err)
{
	struct jail_msg m, rep;
	struct rusage ru = { 0 };
	bool have_rep = false;
	siginfo_t si;

	while (!have_rep && jail_msg_recv(s->sock, &m, NULL) > 0) {
		if (m.kind == JAIL_MSG_REACHED && m.limit < NSLAB_SANDBOX_LIMIT__COUNT) {
			s->reached |= 1u << m.limit;
			if (m.limit != NSLAB_SANDBOX_LIMIT_TIMEOUT)
				emit(s, NSLAB_SANDBOX_EV_LIMIT_HIT, m.limit, NULL);
		} else if (m.kind == JAIL_MSG_REPORT) {
			rep = m;
			have_rep = true;
		}
	}
	/* raw waitid: glibc's has no rusage; it is the whole reaped tree's */
	while (syscall(SYS_waitid, P_PIDFD, s->init_pidfd, &si, WEXITED | __WALL, &ru) < 0)
		if (errno != EINTR)
			return nslab_err_set(err, errno, "wait for the sandbox's init");
	s->reaped = true;
	result_fill(s, have_rep ? &rep : NULL, &ru);
	return 0;
}

int nslab_sandbox_wait(nslab_sandbox *s, struct nslab_sandbox_result *res, nslab_error *err)
{
	enum nslab_sandbox_event_kind kind;
	int r;

	if (!s->started_told) {
		s->started_told = true;
		emit(s, NSLAB_SANDBOX_EV_STARTED, NSLAB_SANDBOX_LIMIT_NONE, NULL);
	}
	if (!s->reaped) {
		r = sandbox_collect(s, err);
		if (r < 0)
			return r;
		kind = s->res.ended_by == NSLAB_SANDBOX_LIMIT_TIMEOUT ? NSLAB_SANDBOX_EV_TIMEOUT
		       : WIFSIGNALED(s->res.status)		      ? NSLAB_SANDBOX_EV_SIGNALED
								      : NSLAB_SANDBOX_EV_EXITED;
		emit(s, kind, s->res.ended_by, &s->res);
	}
	if (res)
		*res = s->res;
	return 0;
}

int nslab_sandbox_kill(nslab_sandbox *s, int sig, nslab_error *err)
{
	int fd = sig == SIGKILL ? s->init_pidfd : s->cmd_pidfd;

	if (s->reaped || fd < 0)
		return nslab_err_setx(err, ESRCH, "the sandbox has ended");
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		return nslab_err_set(err, errno, "signal %d to the sandbox", sig);
	return 0;
}

nslab_sandbox *nslab_sandbox_free(nslab_sandbox *s)
{
	if (!s)
		return NULL;
	/* closing the socket tells init its owner left; SIGKILL makes it certain */
	s->sock = close_fd(s->sock);
	reap_init(s, SIGKILL);
	(void)close_fd(s->init_pidfd);
	(void)close_fd(s->cmd_pidfd);
	(void)close_fd(s->prep_go);
	(void)close_fd(s->prep_ep);
	jail_plan_unref(s->plan);
	/* after the command: the jail's network goes with it */
	nslab_egress_session_free(s->egress);
	free(s);
	return NULL;
}

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
		       : limit == NSLAB_SANDBOX_LIMIT_PIDS && s->plan->limits.nproc_unenforced
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

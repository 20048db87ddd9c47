/* SPDX-License-Identifier: MIT */
/*
 * jail/plan: every decision a sandbox needs, taken by the parent before the
 * clone (core.h's DOC: the start sequence, step 1): the namespaces, the
 * uid/gid maps, the environment, the filesystem plan, the seccomp filter, the
 * limits; shared by spawn.c and the pool.
 *
 * DOC: user namespace maps (the parent writes them; NET_JOIN: the helper)
 * rootless    "U euid 1" and "G egid 1", setgroups denied: the command runs
 *             as U inside and as the caller outside, as init does
 * root        U mapped to itself when U is mapped in the caller's namespace and
 *             is not the caller (sudo: SUDO_UID), plus the caller's own id for
 *             init; else "U euid 1". setgroups allowed: the command drops the
 *             supplementary groups, unless init's namespace inherited a denied
 *             setgroups (a rootless lab's, `unshare -r`'s; spawn.c reads
 *             /proc/INIT/setgroups and GO says it), which no capability
 *             overrides: then the groups stay
 * NET_JOIN    with the lab's user namespace: "U e 1" where e is the helper's
 *             euid in it (the caller as the lab sees it)
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
	char buf[12288]; /* the kernel's 340 lines at most, "%10u %10u %10u\n" each */
	unsigned long v[3];
	const char *c = buf;
	size_t len = 0;
	ssize_t n;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	/* read(), not stdio (an fopen() allocates and stats); a page at most per read */
	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	if (len == 0)
		return -1;
	buf[len] = '\0';
	for (;;) {
		for (int i = 0; i < 3; i++) {
			char *end;

			errno = 0;
			v[i] = strtoul(c, &end, 10);
			if (end == c || errno)
				return -1;
			c = end;
		}
		if (id >= v[0] && id - v[0] < v[2])
			return (long long)(v[1] + (id - v[0]));
	}
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

bool jail_plan_nproc_unenforced(const struct jail_plan *p)
{
	/* seen from here: the command's id is 0 one namespace up (nested sandboxes of root map 0 to 0) */
	return !p->join && id_outside("/proc/self/uid_map", p->cmd_kuid) == 0;
}

static void plan_ids(const struct nslab_sandbox_config *c, struct jail_plan *p)
{
	uid_t euid = geteuid();
	/* CAP_SETUID and CAP_SETGID: any map may be written (else only our own ids) */
	bool priv = has_caps(1u << CAP_SETUID | 1u << CAP_SETGID), uid_two;

	jail_config_ids(c, &p->uid, &p->gid);
	p->userns = p->clone_flags & CLONE_NEWUSER;
	/*
	 * The command clears its groups when it may. A user namespace that denies
	 * setgroups to everyone (a rootless lab's, `unshare -r`'s) would refuse
	 * it: spawn.c reads that once the maps are written, from init's /proc
	 * entry, warm by then (a first look at /proc/self costs a new process
	 * about 20 us), and GO tells init.
	 */
	p->set_groups = priv;
	if (!p->userns) {
		p->limits.nproc_extra = p->uid == euid;
		p->cmd_kuid = p->uid;
	} else {
		uid_two = map_text(p->uid_map, sizeof(p->uid_map), p->uid, euid, priv,
				   "/proc/self/uid_map");
		(void)map_text(p->gid_map, sizeof(p->gid_map), p->gid, getegid(), priv,
			       "/proc/self/gid_map");
		p->deny_setgroups = !priv;
		p->self_maps = !priv && !p->join;
		p->limits.nproc_extra = uid_two ? 0 : 1;
		p->cmd_kuid = uid_two ? p->uid : euid;
	}
	/* the host's root: init holds RLIMIT_NPROC alone, so init counts instead */
	if (p->limits.mech[NSLAB_SANDBOX_LIMIT_PIDS] == NSLAB_SANDBOX_MECH_RLIMIT &&
	    jail_plan_nproc_unenforced(p))
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
	/* cgroup mode: the command unshares it once inside its cgroup (command.c) */
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
	p->cap_last = jail_caps_last();
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

/*
 * Whether a seccomp filter holds this process (a nested sandbox's). prctl, not
 * /proc/self/status (on the way to every start); an error is a filter's.
 */
static bool under_seccomp(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0;
}

/*
 * A new network namespace costs about half a millisecond of clone3(), before
 * anything else can start. init makes it instead, on a helper that shares its
 * memory, while it builds the root (init-net.c's DOC). Not when a seccomp filter
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
#ifndef JAIL_ASAN
	/*
	 * clone() onto a stack of ours; not into a cgroup (that takes clone3()),
	 * nor through NET_JOIN, nor for a caller that is not dumpable (init, with
	 * its memory, would not be: rootless, it could not write its maps). Only
	 * with a PID namespace (init's end kills the command, which may still run
	 * on our memory before its exec) and no capability kept (CAP_SYS_PTRACE in
	 * init's namespace would reach init's memory, ours: spawn.c's DOC).
	 */
	p->init_vm = c->init_shares_memory && p->limits.cgroup_fd < 0 && !p->join && p->pidns &&
		     !p->keep_caps && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
#endif
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	jail_plan_unref(p);
	return r;
}

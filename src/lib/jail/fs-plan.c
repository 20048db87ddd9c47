/* SPDX-License-Identifier: MIT */
/*
 * jail/fs-plan: the parent's half of the sandbox's filesystem. It checks the
 * configuration's filesystem part and writes the ordered steps that
 * jail_fs_enter() (fs.c) executes in the child. See fs.c for how each step is
 * carried out.
 *
 * DOC: the plan, in order
 * 1. the root: the rootfs directory, or the host's "/"; read-only (recursively)
 *    when readonly_root
 * 2. a minimal /dev: a tmpfs (0755); null, zero, full, random, urandom and tty
 *    bound from the host's nodes (mknod is refused in a user namespace);
 *    /dev/ptmx -> pts/ptmx; fd, stdin, stdout, stderr -> /proc/self/fd/...;
 *    a new devpts on /dev/pts; a tmpfs on /dev/shm (1777); then, with a
 *    read-only root, /dev itself is made read-only (pts and shm stay writable)
 * 3. a fresh /proc of the sandbox's PID namespace (nosuid, nodev, noexec);
 *    the host's, bound, without a PID namespace
 * 4. a private /tmp (tmpfs, 1777)
 * 5. with a network namespace of the sandbox's own, a fresh read-only /sys
 *    (sysfs shows the network namespace of its mounter: the host's /sys would
 *    list the host's interfaces); joined or host networks keep the host's
 *    /sys, read-only (a user namespace may only mount the sysfs of a network
 *    namespace it owns). Last of these: it waits for the network namespace,
 *    which the command forked early makes meanwhile (init-early.c's DOC)
 * 6. the caller's binds and tmpfs mounts (1777), in the order given, so that
 *    they may cover any of the above (a bind of the host's /tmp on /tmp shares it)
 *
 * In place (fs.c's DOC) when the root is the host's "/", every destination's
 * first component exists on the host now (nothing is to be made in "/"), and
 * the plan is at most FS_IN_PLACE_MAX steps; else staged and pivoted.
 */
#include "jail/fs.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shared/macro.h"

/* Steps 1 to 4 of the DOC block (18), with room to spare. */
#define FS_DEFAULT_STEPS 24

/* Host nodes bound into /dev: the ones bwrap's --dev gives, which programs expect. */
static const char *const dev_nodes[] = { "/dev/null",	"/dev/zero",	"/dev/full",
					 "/dev/random", "/dev/urandom", "/dev/tty" };
/* Symlinks in /dev: where, target. */
static const char *const dev_links[][2] = {
	{ "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
};

/* Room in the pool for the default steps' strings (about 250 bytes), to spare. */
#define FS_POOL_DEFAULT 1024

/* A copy of str in the plan's pool; jail_fs_prepare() sized it (plan_size()). */
static const char *pool_add(struct jail_fs_plan *p, const char *str)
{
	size_t n = strlen(str) + 1;
	char *at = p->pool + p->pool_len;

	assert(p->pool_len + n <= p->pool_cap);
	memcpy(at, str, n);
	p->pool_len += n;
	return at;
}

/* Append a step; strings were length-checked by the callers (check_dst(), canonical_src()). */
static struct fs_step *plan_add(struct jail_fs_plan *p, enum fs_op op, const char *src,
				const char *dst, unsigned flags)
{
	struct fs_step *s;

	assert(p->n < p->cap); /* jail_fs_prepare() sized the plan */
	s = &p->steps[p->n++];
	s->op = op;
	s->flags = flags;
	s->src = pool_add(p, src ? src : "");
	s->dst = pool_add(p, dst);
	return s;
}

static void plan_add_tmpfs(struct jail_fs_plan *p, const char *dst, unsigned mode)
{
	struct fs_step *s = plan_add(p, FS_OP_TMPFS, NULL, dst, 0);

	snprintf(s->opt, sizeof(s->opt), "%04o", mode);
}

/*
 * A destination inside the sandbox: absolute and normalised (no empty, "." or
 * ".." component, no trailing slash), because it is resolved inside the new
 * root where the caller's idea of the path and ours must not differ. "/" is
 * the root, which rootfs sets.
 */
static int check_dst(const char *what, const char *dst, nslab_error *err)
{
	const char *c;

	if (!dst || dst[0] != '/')
		return nslab_err_setx(err, EINVAL, "%s destination '%s': not an absolute path",
				      what, dst ? dst : "");
	if (strlen(dst) >= PATH_MAX)
		return nslab_err_setx(err, ENAMETOOLONG, "%s destination '%.64s...': too long",
				      what, dst);
	if (strcmp(dst, "/") == 0)
		return nslab_err_setx(err, EINVAL,
				      "%s destination '/': the root is set with rootfs", what);
	for (c = dst; *c; c = strchrnul(c + 1, '/')) {
		size_t len = strcspn(c + 1, "/");

		if (len == 0)
			return nslab_err_setx(err, EINVAL, "%s destination '%s': empty component",
					      what, dst);
		if ((len == 1 && c[1] == '.') || (len == 2 && c[1] == '.' && c[2] == '.'))
			return nslab_err_setx(err, EINVAL, "%s destination '%s': '%.*s' component",
					      what, dst, (int)len, c + 1);
	}
	return 0;
}

/*
 * The canonical path of src (symlinks resolved here, so the child opens a
 * path without any) and whether it is a directory.
 * Return: 0, 1 if it is missing and may be (ENOENT with may_miss), or -errno
 */
static int canonical_src(const char *label, const char *src, bool may_miss,
			 char ret_path[static PATH_MAX], bool *ret_dir, nslab_error *err)
{
	struct stat st;

	if (!src || !*src)
		return nslab_err_setx(err, EINVAL, "%s '': empty path", label);
	if (!realpath(src, ret_path) || stat(ret_path, &st) < 0) {
		if (errno == ENOENT && may_miss)
			return 1;
		return nslab_err_set(err, errno, "%s '%s'", label, src);
	}
	*ret_dir = S_ISDIR(st.st_mode);
	return 0;
}

static int plan_root(struct jail_fs_plan *p, const struct nslab_sandbox_config *c, nslab_error *err)
{
	char path[PATH_MAX];
	bool dir = true;
	int r;

	if (!c->rootfs) {
		plan_add(p, FS_OP_ROOT, "/", "/", c->readonly_root ? FS_RO : 0);
		return 0;
	}
	r = canonical_src("rootfs", c->rootfs, false, path, &dir, err);
	if (r < 0)
		return r;
	if (!dir)
		return nslab_err_set(err, ENOTDIR, "rootfs '%s'", c->rootfs);
	plan_add(p, FS_OP_ROOT, path, "/", c->readonly_root ? FS_RO : 0);
	return 0;
}

/* The length of path's first component with its slash ("/a" of "/a/b": 2; "/": 1). */
static size_t top_len(const char *path)
{
	return strcspn(path + 1, "/") + 1;
}

/* Whether the first component of path ("/a" of "/a/b") exists on the host. */
static bool top_exists(const char *path)
{
	char top[PATH_MAX];
	size_t n = top_len(path);
	struct stat st;

	if (n == 1)
		return true; /* "/" itself */
	memcpy(top, path, n);
	top[n] = '\0';
	return lstat(top, &st) == 0;
}

static bool can_run_in_place(const struct jail_fs_plan *p)
{
	const char *prev = NULL;

	if (p->n > FS_IN_PLACE_MAX)
		return false;
	for (size_t i = 0; i < p->n; i++) {
		const char *dst = p->steps[i].dst;
		size_t n = top_len(dst);

		/* the same top as the step before (/dev's dozen): looked at once */
		if (prev && top_len(prev) == n && strncmp(prev, dst, n) == 0)
			continue;
		if (!top_exists(dst))
			return false;
		prev = dst;
	}
	return true;
}

static void plan_dev(struct jail_fs_plan *p, bool readonly)
{
	/* every entry of /dev's tmpfs before the mounts in it: made through its fd (fs.h) */
	plan_add_tmpfs(p, "/dev", 0755);
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++)
		plan_add(p, FS_OP_BIND, dev_nodes[i], dev_nodes[i], FS_TRY | FS_FILE);
	plan_add(p, FS_OP_SYMLINK, "pts/ptmx", "/dev/ptmx", 0);
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
		plan_add(p, FS_OP_SYMLINK, dev_links[i][1], dev_links[i][0], 0);
	plan_add(p, FS_OP_DEVPTS, NULL, "/dev/pts", 0);
	plan_add_tmpfs(p, "/dev/shm", 01777);
	if (readonly)
		plan_add(p, FS_OP_SEAL, NULL, "/dev", 0);
}

static int plan_user_mount(struct jail_fs_plan *p, const struct jail_mount *m, nslab_error *err)
{
	bool ro = m->flags & NSLAB_SANDBOX_BIND_RO;
	const char *what = m->kind == JAIL_MOUNT_TMPFS ? "tmpfs" : ro ? "read-only bind" : "bind";
	char label[32];
	const char *dst = m->dst ? m->dst : m->src;
	char src[PATH_MAX];
	bool dir = true;
	int r;

	r = check_dst(what, dst, err);
	if (r < 0)
		return r;
	if (m->kind == JAIL_MOUNT_TMPFS) {
		/* 1777 as /tmp and Docker's --tmpfs: writable by the command whatever uid it runs as */
		plan_add_tmpfs(p, dst, 01777);
		return 0;
	}
	if (m->kind != JAIL_MOUNT_BIND)
		return nslab_err_setx(err, EINVAL, "mount on '%s': unknown kind %d", dst, m->kind);
	snprintf(label, sizeof(label), "%s source", what);
	r = canonical_src(label, m->src, m->flags & NSLAB_SANDBOX_BIND_TRY, src, &dir, err);
	if (r != 0)
		return r < 0 ? r : 0; /* 1: a missing source that may be, skipped */
	plan_add(p, FS_OP_BIND, src, dst,
		 (ro ? FS_RO : 0) | (dir ? 0 : FS_FILE) |
			 (m->flags & NSLAB_SANDBOX_BIND_TRY ? FS_TRY : 0));
	return 0;
}

int jail_fs_prepare(const struct nslab_sandbox_config *c, struct jail_fs_plan **ret,
		    nslab_error *err)
{
	size_t cap = FS_DEFAULT_STEPS + c->n_mounts;
	/* a rootfs and each user mount: two canonical paths at most (PATH_MAX with the NUL each) */
	size_t pool = FS_POOL_DEFAULT + (c->rootfs ? PATH_MAX : 0) + c->n_mounts * 2 * PATH_MAX;
	_cleanup_free_ struct jail_fs_plan *p = NULL;
	int r;

	p = calloc(1, sizeof(*p) + cap * sizeof(p->steps[0]) + pool);
	if (!p)
		return nslab_err_set(err, ENOMEM, "filesystem plan");
	p->cap = cap;
	p->pool = (char *)&p->steps[cap];
	p->pool_cap = pool;
	if (!(c->ns & NSLAB_SANDBOX_NS_MOUNT)) {
		if (c->rootfs || c->n_mounts)
			return nslab_err_setx(err, EINVAL,
					      "a rootfs, binds and tmpfs mounts need the mount "
					      "namespace");
		*ret = TAKE_PTR(p);
		return 0;
	}
	r = plan_root(p, c, err);
	if (r < 0)
		return r;
	plan_dev(p, c->readonly_root);
	/*
	 * Without a PID namespace of its own the sandbox sees the host's processes
	 * anyway, and a user namespace may not mount a proc of a PID namespace it
	 * does not own: the host's /proc, bound.
	 */
	if (c->ns & NSLAB_SANDBOX_NS_PID)
		plan_add(p, FS_OP_PROC, NULL, "/proc", 0);
	else
		plan_add(p, FS_OP_BIND, "/proc", "/proc", 0);
	plan_add_tmpfs(p, "/tmp", 01777);
	if ((c->ns & NSLAB_SANDBOX_NS_NET) && c->net == NSLAB_SANDBOX_NET_NONE)
		plan_add(p, FS_OP_SYSFS, NULL, "/sys", 0);
	for (size_t i = 0; i < c->n_mounts; i++) {
		r = plan_user_mount(p, &c->mounts[i], err);
		if (r < 0)
			return r;
	}
	p->in_place = !c->rootfs && can_run_in_place(p);
	*ret = TAKE_PTR(p);
	return 0;
}

void jail_fs_plan_free(struct jail_fs_plan *p)
{
	free(p);
}

/* Whether path is dst or below it, component by component ("/dev" covers "/dev/x", not "/devx"). */
static bool path_is_under(const char *path, const char *dst)
{
	size_t n = strlen(dst);

	if (strcmp(dst, "/") == 0)
		return true;
	return strncmp(path, dst, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool jail_fs_path_visible(const struct jail_fs_plan *p, const char *path)
{
	if (!p || p->n == 0)
		return true;
	if (!path || path[0] != '/')
		return false;
	for (size_t i = p->n; i-- > 0;) {
		const struct fs_step *s = &p->steps[i];

		if (s->op == FS_OP_SYMLINK || s->op == FS_OP_SEAL || !path_is_under(path, s->dst))
			continue;
		/* the mount that covers path shows the host's file there only if it maps it to itself */
		return (s->op == FS_OP_ROOT || s->op == FS_OP_BIND) && strcmp(s->src, s->dst) == 0;
	}
	return false;
}

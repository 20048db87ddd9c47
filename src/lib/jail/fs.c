/* SPDX-License-Identifier: MIT */
/*
 * jail/fs: the child's half of the sandbox's filesystem: it executes the plan
 * that fs-plan.c wrote (the DOC block there lists the mounts) and pivots into
 * the new root. Everything here is async-signal-safe: system calls, fixed
 * buffers on the stack (about 12 KiB at most), no allocation, no stdio.
 *
 * DOC: building the root (bubblewrap's sequence, with the new mount API)
 * 1. "/" becomes a recursive slave, so that nothing mounted here reaches the
 *    host; the trees the sandbox sees are made private, so that the host's
 *    later mounts do not reach them either (a mount propagated into a
 *    read-only tree would arrive writable)
 * 2. staging: a tmpfs on /tmp and pivot_root into it, the old root at
 *    /oldroot. Sources are opened under /oldroot (where the host's /tmp is not
 *    hidden by the staging tmpfs), destinations under /newroot
 * 3. the steps: each source cloned detached (open_tree) or each file system
 *    created detached (fsopen/fsmount), made read-only and private while
 *    detached (mount_setattr, recursive for a tree: one call), then attached
 *    with move_mount on a destination opened with openat2(RESOLVE_IN_ROOT), so
 *    that a symlink in the new tree resolves as it will after the pivot (an
 *    absolute one cannot escape into the staging root)
 * 4. /oldroot detached, pivot_root into /newroot (pivot_root(".", ".") stacks
 *    the staging root on the new one), the staging root detached, chdir("/")
 *
 * DOC: in place (the host's root, fs-plan.c says when)
 * The mount namespace's copy of the host's tree is the sandbox's tree: no
 * staging, no clone of the whole tree, no pivot and no detach of the old one
 * (the costliest steps, and the only ones that wait on the kernel's RCU).
 * 1. every bind's source is cloned first (open_tree, detached), while the
 *    tree still is the host's: later steps cover /tmp or /dev, and a
 *    writable bind must not inherit the root's read-only flag
 * 2. the whole tree made private and, with a read-only root, read-only, in
 *    one mount_setattr(AT_RECURSIVE) on "/"
 * 3. the steps, destinations opened under "/" as in step 3 above; nothing is
 *    ever made in "/" itself (a mount on the root would not be seen through
 *    "/"): the plan is in place only if every destination's top exists
 * What is covered (the host's /dev, /tmp, /proc) stays under the covers: the
 * command has no capability to unmount them, and a nested sandbox's copies
 * are locked (MNT_LOCKED) to their covers.
 *
 * Needs Linux 5.12 (mount_setattr; open_tree, move_mount and fsopen are 5.2,
 * openat2 5.6), and a /tmp in the caller's mount namespace to stage on, as
 * bwrap does; an older kernel fails at the first step that needs more, named.
 */
#include "jail/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

#define STAGE_AT     "/tmp"
#define OLDROOT_NAME "oldroot"
#define OLDROOT	     "/" OLDROOT_NAME

int fs_set_attr(int mnt, bool recursive, uint64_t set, uint64_t propagation)
{
	struct mount_attr a = { .attr_set = set, .propagation = propagation };

	return mount_setattr(mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a,
			     sizeof(a));
}

/*
 * Attach the detached mount mnt on dst (an O_PATH fd inside the new root), a
 * directory or not as dir says (the kernel's EINVAL for a mismatch told the
 * user nothing). Return: 0 or -1
 */
static int attach(int mnt, int dst, bool dir)
{
	struct stat st;

	if (fstat(dst, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode) != dir) {
		errno = dir ? ENOTDIR : EISDIR;
		return -1;
	}
	return move_mount(mnt, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* fsopen() with the type as the source mountinfo shows (else "none"). Return: fd or -1 */
static int open_fs(const char *type)
{
	int fs = fsopen(type, FSOPEN_CLOEXEC), e;

	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", type, 0) == 0)
		return fs;
	e = errno;
	(void)close(fs);
	errno = e;
	return -1;
}

/* A detached tmpfs with the given mode (octal text). Return: its fd, or -1 */
int fs_new_tmpfs(const char *mode, unsigned attrs)
{
	int fs = open_fs("tmpfs"), mnt = -1, e;

	if (fs < 0)
		return -1;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) == 0 &&
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	e = errno;
	(void)close(fs);
	errno = e;
	return mnt;
}

/* --- the steps ------------------------------------------------------------- */

/* A source under the old root, cloned with everything mounted below it. Return: fd or -1 */
static int clone_source(struct fs_ctx *x, const char *src)
{
	int fd = fs_open_beneath(x->oldroot, src, O_PATH), tree, e;

	if (fd < 0)
		return -1;
	tree = open_tree(fd, "",
			 AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	e = errno;
	(void)close(fd);
	errno = e;
	return tree;
}

static int step_root(struct fs_ctx *x, const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int tree = -1;

	if (x->in_place) {
		tree = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (tree < 0 || fs_set_attr(tree, true, s->flags & FS_RO ? MOUNT_ATTR_RDONLY : 0,
					    MS_PRIVATE) < 0)
			return fs_step_fail(err, errno, s, "set attributes", NULL);
		return 0;
	}
	tree = clone_source(x, s->src);
	if (tree < 0)
		return fs_step_fail(err, errno, s, "clone", NULL);
	if (fs_set_attr(tree, true, s->flags & FS_RO ? MOUNT_ATTR_RDONLY : 0, MS_PRIVATE) < 0)
		return fs_step_fail(err, errno, s, "set attributes", NULL);
	if (move_mount(tree, "", AT_FDCWD, FS_NEWROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return fs_step_fail(err, errno, s, "attach", NULL);
	return 0;
}

/* Step i's source: cloned ahead in place, else now. Return: fd or -1 (errno) */
static int bind_source(struct fs_ctx *x, size_t i, const char *src)
{
	if (!x->in_place)
		return clone_source(x, src);
	errno = x->src_errno[i];
	return TAKE_FD(x->src[i]);
}

static int step_bind(struct fs_ctx *x, size_t i, const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int tree = bind_source(x, i, s->src), dst = -1;

	if (tree < 0 && errno == ENOENT && (s->flags & FS_TRY))
		return 0;
	if (tree < 0)
		return fs_step_fail(err, errno, s, NULL, NULL);
	if (fs_set_attr(tree, true, s->flags & FS_RO ? MOUNT_ATTR_RDONLY : 0, MS_PRIVATE) < 0)
		return fs_step_fail(err, errno, s, "set attributes", NULL);
	dst = fs_open_dst(x, s, s->flags & FS_FILE ? FS_REG : FS_DIR, err);
	if (dst < 0)
		return dst;
	if (attach(tree, dst, !(s->flags & FS_FILE)) < 0)
		return fs_step_fail(err, errno, s, NULL, NULL);
	return 0;
}

static const char *fs_type(enum fs_op op)
{
	switch (op) {
	case FS_OP_PROC:
		return "proc";
	case FS_OP_SYSFS:
		return "sysfs";
	case FS_OP_DEVPTS:
		return "devpts";
	case FS_OP_ROOT:
	case FS_OP_BIND:
	case FS_OP_TMPFS:
	case FS_OP_SYMLINK:
	case FS_OP_SEAL:
		break;
	}
	return "tmpfs";
}

/* A new file system (tmpfs, devpts, proc, sysfs), created detached. Return: mount fd or -1 */
static int new_fs(const struct fs_step *s)
{
	int fs, mnt = -1, e;

	if (s->op == FS_OP_TMPFS)
		return fs_new_tmpfs(s->opt, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	fs = open_fs(fs_type(s->op));
	if (fs < 0)
		return -1;
	/*
	 * devpts: every mount is a new instance since Linux 4.7 ("devpts: Make
	 * each mount of devpts an independent filesystem"), so no newinstance; no
	 * gid=5: the tty group is seldom mapped in a user namespace (bwrap neither)
	 */
	if (s->op == FS_OP_DEVPTS &&
	    (fsconfig(fs, FSCONFIG_SET_STRING, "ptmxmode", "0666", 0) < 0 ||
	     fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0620", 0) < 0))
		goto out;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto out;
	/* proc: at least the flags of the host's /proc, or the kernel refuses it in a userns */
	mnt = fsmount(fs, FSMOUNT_CLOEXEC,
		      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC |
			      (s->op != FS_OP_DEVPTS ? MOUNT_ATTR_NODEV : 0) |
			      (s->op == FS_OP_SYSFS ? MOUNT_ATTR_RDONLY : 0));
out:
	e = errno;
	(void)close(fs);
	errno = e;
	return mnt;
}

static int step_fs(struct fs_ctx *x, const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int dst = fs_open_dst(x, s, FS_DIR, err), mnt = -1;

	if (dst < 0)
		return dst;
	mnt = new_fs(s);
	if (mnt < 0)
		return fs_step_fail(err, errno, s, NULL, NULL);
	if (attach(mnt, dst, true) < 0)
		return fs_step_fail(err, errno, s, NULL, NULL);
	if (s->op == FS_OP_TMPFS) { /* the entries made next may go right under it */
		(void)close_fd(x->fresh_fd);
		x->fresh_fd = TAKE_FD(mnt);
		x->fresh_path = s->dst;
	}
	return 0;
}

static int step_seal(struct fs_ctx *x, const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int fd = fs_open_inside(x, s->dst, O_PATH | O_DIRECTORY);

	if (fd < 0 || fs_set_attr(fd, false, MOUNT_ATTR_RDONLY, 0) < 0)
		return fs_step_fail(err, errno, s, NULL, NULL);
	return 0;
}

static int run_step(struct fs_ctx *x, size_t i, const struct fs_step *s, nslab_error *err)
{
	if (s->op != FS_OP_SYMLINK && s->op != FS_OP_SEAL)
		fs_fresh_covered(x, s->dst);
	switch (s->op) {
	case FS_OP_ROOT:
		return step_root(x, s, err);
	case FS_OP_BIND:
		return step_bind(x, i, s, err);
	case FS_OP_TMPFS:
	case FS_OP_DEVPTS:
	case FS_OP_PROC:
	case FS_OP_SYSFS:
		return step_fs(x, s, err);
	case FS_OP_SYMLINK:
		if (fs_fresh_dst(x, s, FS_LNK) == 0)
			return 0;
		return fs_make_path(x, s, FS_LNK, err);
	case FS_OP_SEAL:
		return step_seal(x, s, err);
	}
	return FS_FAIL(err, EINVAL, "unknown filesystem step");
}

/* --- staging and the pivot --------------------------------------------------- */

static int stage(struct fs_ctx *x, nslab_error *err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return FS_FAIL(err, errno, "make / a recursive slave");
	if (mount("tmpfs", STAGE_AT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		return FS_FAIL(err, errno, "staging tmpfs on " STAGE_AT);
	if (chdir(STAGE_AT) < 0 || mkdir(FS_NEWROOT_NAME, 0700) < 0 ||
	    mkdir(OLDROOT_NAME, 0700) < 0)
		return FS_FAIL(err, errno, "staging directories in " STAGE_AT);
	if (syscall(SYS_pivot_root, ".", OLDROOT_NAME) < 0 || chdir("/") < 0)
		return FS_FAIL(err, errno, "pivot_root into the staging tmpfs");
	x->oldroot = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->oldroot < 0)
		return FS_FAIL(err, errno, "open " OLDROOT);
	return 0;
}

static int seal_mirrors(struct fs_ctx *x, nslab_error *err)
{
	for (; x->n_mirrors > 0; x->n_mirrors--) {
		int mnt = x->mirrors[x->n_mirrors - 1];

		if (fs_set_attr(mnt, false, MOUNT_ATTR_RDONLY, 0) < 0)
			return FS_FAIL(err, errno, "make a mirrored directory read-only");
		(void)close(mnt);
	}
	return 0;
}

static int pivot(struct fs_ctx *x, nslab_error *err)
{
	_cleanup_close_ int root = -1;
	int r = seal_mirrors(x, err);

	if (r < 0)
		return r;
	x->oldroot = close_fd(x->oldroot);
	x->newroot = close_fd(x->newroot);
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return FS_FAIL(err, errno, "detach the old root");
	root = open(FS_NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || fchdir(root) < 0)
		return FS_FAIL(err, errno, "enter the new root");
	/* new root and put_old the same: the staging root ends up stacked on top (pivot_root(2)) */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return FS_FAIL(err, errno, "pivot_root into the new root");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return FS_FAIL(err, errno, "detach the staging root");
	return 0;
}

/* In place, step 1: every bind's source cloned while the tree is the host's. */
static int clone_sources(struct fs_ctx *x, const struct jail_fs_plan *p, nslab_error *err)
{
	x->oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->oldroot < 0)
		return FS_FAIL(err, errno, "open /");
	for (size_t i = 0; i < p->n; i++) {
		x->src[i] = p->steps[i].op == FS_OP_BIND ? clone_source(x, p->steps[i].src) : -1;
		x->src_errno[i] = x->src[i] < 0 ? errno : 0;
	}
	x->oldroot = close_fd(x->oldroot);
	return 0;
}

struct hook {
	jail_fs_hook fn;
	void *data;
};

/* The plan's steps, the hook before the sysfs step (or after the last). Return: 0 or -errno */
static int run_steps(struct fs_ctx *x, const struct jail_fs_plan *p, struct hook *h,
		     nslab_error *err)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n; i++) {
		if (p->steps[i].op == FS_OP_SYSFS && h->fn) {
			r = h->fn(h->data, err);
			h->fn = NULL;
		}
		if (r == 0)
			r = run_step(x, i, &p->steps[i], err);
	}
	if (r == 0 && h->fn)
		r = h->fn(h->data, err);
	return r;
}

static int enter_in_place(struct fs_ctx *x, const struct jail_fs_plan *p, struct hook *h,
			  nslab_error *err)
{
	int r;

	x->top = "/";
	x->in_place = true;
	r = clone_sources(x, p, err);
	if (r == 0)
		r = run_steps(x, p, h, err);
	if (r == 0)
		r = seal_mirrors(x, err);
	if (r == 0 && chdir("/") < 0)
		r = FS_FAIL(err, errno, "chdir /");
	for (size_t i = 0; i < p->n; i++)
		(void)close_fd(x->src[i]);
	return r;
}

int jail_fs_enter(const struct jail_fs_plan *p, nslab_error *err)
{
	return jail_fs_enter_hooked(p, NULL, NULL, err);
}

int jail_fs_enter_hooked(const struct jail_fs_plan *p, jail_fs_hook fn, void *data,
			 nslab_error *err)
{
	struct fs_ctx x = { .top = FS_NEWROOT, .oldroot = -1, .newroot = -1, .fresh_fd = -1 };
	struct hook h = { fn, data };
	int r;

	if (!p || p->n == 0)
		return fn ? fn(data, err) : 0;
	if (p->in_place && p->n <= FS_IN_PLACE_MAX) {
		for (size_t i = 0; i < FS_IN_PLACE_MAX; i++)
			x.src[i] = -1;
		r = enter_in_place(&x, p, &h, err);
	} else {
		r = stage(&x, err);
		if (r == 0)
			r = run_steps(&x, p, &h, err);
		if (r == 0)
			r = pivot(&x, err);
	}
	(void)close_fd(x.oldroot);
	(void)close_fd(x.newroot);
	(void)close_fd(x.fresh_fd);
	for (size_t i = 0; i < x.n_mirrors; i++)
		(void)close(x.mirrors[i]);
	return r;
}

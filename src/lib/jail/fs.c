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
 * DOC: missing mount points
 * A destination that does not exist is created, component by component. In a
 * writable place (a tmpfs of ours, a writable bind or root) it is created
 * there, as bwrap and Docker do. Where the parent refuses (EROFS: the
 * read-only root or a read-only bind; EACCES/EPERM: a host directory the
 * caller cannot write), the parent is "mirrored" instead of written: a tmpfs
 * covers it, holding each original entry bound back (recursively, so mounts
 * below stay) and each symlink copied, plus the new mount point. The tmpfs is
 * made read-only before the pivot, so the directory looks and behaves as
 * before, with one more entry. Nothing is ever created on the host for a
 * read-only tree. Costs: one mount per entry of the mirrored directory (about
 * 25 for the host's "/"); rename() across its entries fails with EXDEV; its
 * owner is the sandbox's (an unmapped one cannot be given).
 */
#include "jail/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

/* Staging, all under the tmpfs mounted on STAGE_AT then pivoted into. */
#define STAGE_AT     "/tmp"
#define NEWROOT_NAME "newroot"
#define OLDROOT_NAME "oldroot"
#define NEWROOT	     "/" NEWROOT_NAME
#define OLDROOT	     "/" OLDROOT_NAME
#define MIRRORS_MAX  16 /* mirrors kept writable until the pivot; past that, sealed at once */
#define RESOLVE_TREE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

struct fs_ctx {
	int oldroot;		  /* O_PATH fd of /oldroot */
	int mirrors[MIRRORS_MAX]; /* mirror mounts, sealed read-only before the pivot */
	size_t n_mirrors;
};

enum fs_kind {
	FS_DIR,
	FS_REG,
	FS_LNK,
};

/* --- errors, built without stdio ------------------------------------------ */

static void msg_add(nslab_error *err, size_t *n, const char *s)
{
	for (; s && *s && *n < sizeof(err->msg) - 1; s++)
		err->msg[(*n)++] = *s;
	err->msg[*n] = '\0';
}

/* err = the NULL-terminated parts, ": ", the errno text. Return: -code */
static int fs_failv(nslab_error *err, int code, const char *const *parts)
{
	const char *cause;
	size_t n = 0;

	if (code <= 0)
		code = EIO;
	if (!err)
		return -code;
	err->code = code;
	for (; *parts; parts++)
		msg_add(err, &n, *parts);
	cause = strerrordesc_np(code);
	msg_add(err, &n, ": ");
	msg_add(err, &n, cause ? cause : "unknown error");
	return -code;
}

#define FS_FAIL(err, code, ...) fs_failv(err, code, (const char *const[]){ __VA_ARGS__, NULL })

/* "bind /x on /y[: what path]: cause": the step, and what in it failed. */
static int step_fail(nslab_error *err, int code, const struct fs_step *s, const char *what,
		     const char *path)
{
	const char *verb = "", *src = "", *sep = "", *sep2 = what ? ": " : "";

	switch (s->op) {
	case FS_OP_ROOT:
		verb = "root from ";
		src = s->src;
		break;
	case FS_OP_BIND:
		verb = s->flags & FS_RO ? "read-only bind " : "bind ";
		src = s->src;
		sep = " on ";
		break;
	case FS_OP_TMPFS:
		verb = "tmpfs on ";
		break;
	case FS_OP_DEVPTS:
		verb = "devpts on ";
		break;
	case FS_OP_PROC:
		verb = "proc on ";
		break;
	case FS_OP_SYMLINK:
		verb = "symlink ";
		break;
	case FS_OP_SEAL:
		verb = "read-only ";
		break;
	}
	if (s->op == FS_OP_ROOT)
		return FS_FAIL(err, code, verb, src, sep2, what, path);
	if (s->op == FS_OP_SYMLINK)
		return FS_FAIL(err, code, verb, s->dst, " -> ", s->src, sep2, what, path);
	return FS_FAIL(err, code, verb, src, sep, s->dst, sep2, what, path);
}

/* --- opening paths in the trees ------------------------------------------- */

/* path ("/a/b") opened under dirfd as under "/": symlinks cannot leave it. Return: fd or -1 */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_TREE,
	};

	return (int)syscall(SYS_openat2, dirfd, path[1] ? path + 1 : ".", &how, sizeof(how));
}

/* path opened inside the new root, through the top of whatever is mounted on it. */
static int open_inside(const char *path, int flags)
{
	int root = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd, e;

	if (root < 0)
		return -1;
	fd = open_beneath(root, path, flags);
	e = errno;
	(void)close(root);
	errno = e;
	return fd;
}

/* mount_setattr() on a mount (recursive: the tree below too). Return: 0 or -1 */
static int set_attr(int mnt, bool recursive, uint64_t set, uint64_t propagation)
{
	struct mount_attr a = { .attr_set = set, .propagation = propagation };

	return mount_setattr(mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a,
			     sizeof(a));
}

/*
 * Attach the detached mount mnt on dst inside the new root, a directory or
 * not as dir says (the kernel's EINVAL for a mismatch told the user nothing).
 * Return: 0 or -1
 */
static int attach(int mnt, const char *dst, bool dir)
{
	int fd = open_inside(dst, O_PATH), r = -1, e;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode) != dir) {
		errno = dir ? ENOTDIR : EISDIR;
		goto out;
	}
	r = move_mount(mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
out:
	e = errno;
	(void)close(fd);
	errno = e;
	return r;
}

/* A detached tmpfs with the given mode (octal text). Return: its fd, or -1 */
static int new_tmpfs(const char *mode, unsigned attrs)
{
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), mnt = -1, e;

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

/* --- missing mount points -------------------------------------------------- */

/* Create name in dirfd as kind (FS_LNK: pointing at target). Return: 0 or -1 */
static int create_at(int dirfd, const char *name, enum fs_kind kind, const char *target)
{
	int fd;

	switch (kind) {
	case FS_DIR:
		return mkdirat(dirfd, name, 0755);
	case FS_LNK:
		return symlinkat(target, dirfd, name);
	case FS_REG:
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0644);
		return fd < 0 ? -1 : close(fd);
	}
	errno = EINVAL;
	return -1;
}

/* One entry of a mirrored directory: a symlink copied, anything else bound back. */
static int mirror_entry(int from, int to, const char *name, unsigned char type)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int tree, r, e;

	if (type == DT_UNKNOWN) {
		if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		type = IFTODT(st.st_mode);
	}
	if (type == DT_LNK) {
		n = readlinkat(from, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlinkat(target, to, name);
	}
	if (create_at(to, name, type == DT_DIR ? FS_DIR : FS_REG, NULL) < 0)
		return -1;
	tree = open_tree(from, name,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return -1;
	r = move_mount(tree, "", to, name, MOVE_MOUNT_F_EMPTY_PATH);
	e = errno;
	(void)close(tree);
	errno = e;
	return r;
}

/* Bind every entry of the directory dir into the tmpfs root (the mirror). Return: 0 or -1 */
static int mirror_fill(int dir, int root)
{
	char buf[2048];
	long n;

	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);

			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			if (mirror_entry(dir, root, d->d_name, d->d_type) < 0)
				return -1;
		}
	}
	return n < 0 ? -1 : 0;
}

/* Keep the mirror writable until the pivot (later steps may add to it), or seal it now. */
static int mirror_keep(struct fs_ctx *x, int mnt)
{
	int r;

	if (x->n_mirrors < MIRRORS_MAX) {
		x->mirrors[x->n_mirrors++] = mnt;
		return 0;
	}
	r = set_attr(mnt, false, MOUNT_ATTR_RDONLY, 0);
	(void)close(mnt);
	return r;
}

/*
 * Cover the directory parent (an O_PATH fd, inside the new root) with a tmpfs
 * holding its entries (see "missing mount points" above). The entries are
 * read through an fd opened before the cover, which still reaches them.
 * Return: 0 or -1
 */
static int mirror(struct fs_ctx *x, int parent)
{
	int dir = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int mnt = -1, root = -1, r = -1, e;
	struct stat st;

	if (dir < 0 || fstat(dir, &st) < 0)
		goto out;
	mnt = new_tmpfs("0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0 ||
	    move_mount(mnt, "", parent, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		goto out;
	root = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || fchmod(root, st.st_mode & 07777) < 0)
		goto out;
	(void)!fchown(root, st.st_uid, st.st_gid); /* fails for an owner unmapped here: keep ours */
	r = mirror_fill(dir, root);
out:
	e = errno;
	if (r == 0)
		r = mirror_keep(x, TAKE_FD(mnt));
	(void)close_fd(mnt);
	(void)close_fd(root);
	(void)close_fd(dir);
	errno = e;
	return r;
}

/*
 * Make sure path[0..end) exists inside the new root; path[end] is '/' or the
 * end. A missing last component is created as kind (target: FS_LNK), a
 * missing one before it as a directory. Return: 0 or -1 (errno)
 */
static int make_component(struct fs_ctx *x, char *path, char *slash, bool last, enum fs_kind kind,
			  const char *target)
{
	const char *name = slash + 1;
	int fd, r, e;

	fd = open_inside(path, O_PATH);
	if (fd >= 0) {
		(void)close(fd);
		if (!(last && kind == FS_LNK))
			return 0;
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	*slash = '\0';
	fd = open_inside(slash == path ? "/" : path, O_PATH | O_DIRECTORY);
	r = fd < 0 ? -1 : create_at(fd, name, last ? kind : FS_DIR, target);
	if (r < 0 && fd >= 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
		r = mirror(x, fd);
		(void)close(fd);
		fd = r < 0 ? -1 : open_inside(slash == path ? "/" : path, O_PATH | O_DIRECTORY);
		r = fd < 0 ? -1 : create_at(fd, name, last ? kind : FS_DIR, target);
	}
	e = errno;
	*slash = '/';
	(void)close_fd(fd);
	if (r < 0 && e == EEXIST && !(last && kind == FS_LNK))
		return 0; /* made meanwhile (a dangling symlink fails later, where it is used) */
	errno = e;
	return r;
}

/* The step's destination, created with its missing parents. Return: 0 or -errno (err set) */
static int make_path(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind, nslab_error *err)
{
	char path[PATH_MAX];
	char *slash = path, *next;

	memcpy(path, s->dst, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	for (;; slash = next) {
		bool last;

		next = strchrnul(slash + 1, '/');
		last = *next == '\0';
		*next = '\0';
		if (make_component(x, path, slash, last, kind, s->src) < 0)
			return step_fail(err, errno, s, "create ", path);
		if (last)
			return 0;
		*next = '/';
	}
}

/* --- the steps ------------------------------------------------------------- */

/* A source under the old root, cloned with everything mounted below it. Return: fd or -1 */
static int clone_source(struct fs_ctx *x, const char *src)
{
	int fd = open_beneath(x->oldroot, src, O_PATH), tree, e;

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
	_cleanup_close_ int tree = clone_source(x, s->src);

	if (tree < 0)
		return step_fail(err, errno, s, "clone", NULL);
	if (set_attr(tree, true, s->flags & FS_RO ? MOUNT_ATTR_RDONLY : 0, MS_PRIVATE) < 0)
		return step_fail(err, errno, s, "set attributes", NULL);
	if (move_mount(tree, "", AT_FDCWD, NEWROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return step_fail(err, errno, s, "attach", NULL);
	return 0;
}

static int step_bind(struct fs_ctx *x, const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int tree = clone_source(x, s->src);
	int r;

	if (tree < 0 && errno == ENOENT && (s->flags & FS_TRY))
		return 0;
	if (tree < 0)
		return step_fail(err, errno, s, NULL, NULL);
	if (set_attr(tree, true, s->flags & FS_RO ? MOUNT_ATTR_RDONLY : 0, MS_PRIVATE) < 0)
		return step_fail(err, errno, s, "set attributes", NULL);
	r = make_path(x, s, s->flags & FS_FILE ? FS_REG : FS_DIR, err);
	if (r < 0)
		return r;
	if (attach(tree, s->dst, !(s->flags & FS_FILE)) < 0)
		return step_fail(err, errno, s, NULL, NULL);
	return 0;
}

/* A new file system (tmpfs, devpts, proc), created detached. Return: mount fd or -1 */
static int new_fs(const struct fs_step *s)
{
	int fs, mnt = -1, e;

	if (s->op == FS_OP_TMPFS)
		return new_tmpfs(s->opt, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	fs = fsopen(s->op == FS_OP_PROC ? "proc" : "devpts", FSOPEN_CLOEXEC);
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
			      (s->op == FS_OP_PROC ? MOUNT_ATTR_NODEV : 0));
out:
	e = errno;
	(void)close(fs);
	errno = e;
	return mnt;
}

static int step_fs(struct fs_ctx *x, const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int mnt = -1;
	int r;

	r = make_path(x, s, FS_DIR, err);
	if (r < 0)
		return r;
	mnt = new_fs(s);
	if (mnt < 0)
		return step_fail(err, errno, s, NULL, NULL);
	if (attach(mnt, s->dst, true) < 0)
		return step_fail(err, errno, s, NULL, NULL);
	return 0;
}

static int step_seal(const struct fs_step *s, nslab_error *err)
{
	_cleanup_close_ int fd = open_inside(s->dst, O_PATH | O_DIRECTORY);

	if (fd < 0 || set_attr(fd, false, MOUNT_ATTR_RDONLY, 0) < 0)
		return step_fail(err, errno, s, NULL, NULL);
	return 0;
}

static int run_step(struct fs_ctx *x, const struct fs_step *s, nslab_error *err)
{
	switch (s->op) {
	case FS_OP_ROOT:
		return step_root(x, s, err);
	case FS_OP_BIND:
		return step_bind(x, s, err);
	case FS_OP_TMPFS:
	case FS_OP_DEVPTS:
	case FS_OP_PROC:
		return step_fs(x, s, err);
	case FS_OP_SYMLINK:
		return make_path(x, s, FS_LNK, err);
	case FS_OP_SEAL:
		return step_seal(s, err);
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
	if (chdir(STAGE_AT) < 0 || mkdir(NEWROOT_NAME, 0700) < 0 || mkdir(OLDROOT_NAME, 0700) < 0)
		return FS_FAIL(err, errno, "staging directories in " STAGE_AT);
	if (syscall(SYS_pivot_root, ".", OLDROOT_NAME) < 0 || chdir("/") < 0)
		return FS_FAIL(err, errno, "pivot_root into the staging tmpfs");
	x->oldroot = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->oldroot < 0)
		return FS_FAIL(err, errno, "open " OLDROOT);
	return 0;
}

static int pivot(struct fs_ctx *x, nslab_error *err)
{
	_cleanup_close_ int root = -1;

	for (; x->n_mirrors > 0; x->n_mirrors--) {
		int mnt = x->mirrors[x->n_mirrors - 1];

		if (set_attr(mnt, false, MOUNT_ATTR_RDONLY, 0) < 0)
			return FS_FAIL(err, errno, "make a mirrored directory read-only");
		(void)close(mnt);
	}
	x->oldroot = close_fd(x->oldroot);
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return FS_FAIL(err, errno, "detach the old root");
	root = open(NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || fchdir(root) < 0)
		return FS_FAIL(err, errno, "enter the new root");
	/* new root and put_old the same: the staging root ends up stacked on top (pivot_root(2)) */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return FS_FAIL(err, errno, "pivot_root into the new root");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return FS_FAIL(err, errno, "detach the staging root");
	return 0;
}

int jail_fs_enter(const struct jail_fs_plan *p, nslab_error *err)
{
	struct fs_ctx x = { .oldroot = -1 };
	int r;

	if (!p || p->n == 0)
		return 0;
	r = stage(&x, err);
	for (size_t i = 0; r == 0 && i < p->n; i++)
		r = run_step(&x, &p->steps[i], err);
	if (r == 0)
		r = pivot(&x, err);
	(void)close_fd(x.oldroot);
	for (size_t i = 0; i < x.n_mirrors; i++)
		(void)close(x.mirrors[i]);
	return r;
}

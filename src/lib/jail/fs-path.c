/* SPDX-License-Identifier: MIT */
/*
 * jail/fs-path: paths inside the sandbox's new root, for fs.c (child side,
 * async-signal-safe): opening them without leaving the tree, creating the
 * missing ones, and the errors that name them.
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
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

/* Opened beneath a root: no way out through "..", an absolute symlink or /proc magic. */
#define RESOLVE_TREE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* --- errors, built without stdio ------------------------------------------ */

static void msg_add(nslab_error *err, size_t *n, const char *s)
{
	for (; s && *s && *n < sizeof(err->msg) - 1; s++)
		err->msg[(*n)++] = *s;
	err->msg[*n] = '\0';
}

/* err = the NULL-terminated parts, ": ", the errno text. Return: -code */
int fs_failv(nslab_error *err, int code, const char *const *parts)
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

/* "bind /x on /y[: what path]: cause": the step, and what in it failed. */
int fs_step_fail(nslab_error *err, int code, const struct fs_step *s, const char *what,
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
	case FS_OP_SYSFS:
		verb = "sysfs on ";
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
int fs_open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_TREE,
	};

	return (int)syscall(SYS_openat2, dirfd, path[1] ? path + 1 : ".", &how, sizeof(how));
}

int fs_open_inside(struct fs_ctx *x, const char *path, int flags)
{
	/* opened once, and again after a mount on the root itself (a mirror) */
	if (x->newroot < 0)
		x->newroot = open(x->top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->newroot < 0)
		return -1;
	return fs_open_beneath(x->newroot, path, flags);
}

/* --- missing mount points -------------------------------------------------- */

/* Create name in dirfd as kind (FS_LNK: pointing at target). Return: 0 or -1 */
static int create_at(int dirfd, const char *name, enum fs_kind kind, const char *target)
{
	int fd;

	switch (kind) {
	case FS_DIR:
		/* 0755 whatever the caller's umask: others must pass through a made parent */
		if (mkdirat(dirfd, name, 0755) < 0)
			return -1;
		return fchmodat(dirfd, name, 0755, 0);
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

	if (x->n_mirrors < FS_MIRRORS_MAX) {
		x->mirrors[x->n_mirrors++] = mnt;
		return 0;
	}
	r = fs_set_attr(mnt, false, MOUNT_ATTR_RDONLY, 0);
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
	mnt = fs_new_tmpfs("0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0 ||
	    move_mount(mnt, "", parent, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		goto out;
	x->newroot = close_fd(x->newroot); /* parent may be the root: its fd shows what is below */
	x->fresh_fd = close_fd(x->fresh_fd); /* a mirror may cover it */
	x->fresh_path = NULL;
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

	fd = fs_open_inside(x, path, O_PATH);
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
	fd = fs_open_inside(x, slash == path ? "/" : path, O_PATH | O_DIRECTORY);
	r = fd < 0 ? -1 : create_at(fd, name, last ? kind : FS_DIR, target);
	/* in place, "/" cannot be mirrored (a mount on the root is not seen through "/") */
	if (r < 0 && x->in_place && slash == path)
		errno = errno == EEXIST ? EEXIST : EROFS;
	else if (r < 0 && fd >= 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
		r = mirror(x, fd);
		(void)close(fd);
		fd = r < 0 ? -1
			   : fs_open_inside(x, slash == path ? "/" : path, O_PATH | O_DIRECTORY);
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

/*
 * The common case first: the parent exists and takes the new entry (a node
 * or a link in our /dev). Anything else (a missing parent, a parent to
 * mirror, an entry made meanwhile) goes the component-by-component way.
 * Return: true if made
 */
static bool make_in_parent(struct fs_ctx *x, char *path, enum fs_kind kind, const char *target)
{
	char *slash = strrchr(path, '/');
	bool made;
	int fd;

	if (!slash || slash == path)
		return false; /* "/" itself is the slow path's (mirrors, in place) */
	*slash = '\0';
	fd = fs_open_inside(x, path, O_PATH | O_DIRECTORY);
	*slash = '/';
	if (fd < 0)
		return false;
	made = create_at(fd, slash + 1, kind, target) == 0;
	(void)close(fd);
	return made;
}

/* The step's destination, created with its missing parents. Return: 0 or -errno (err set) */
int fs_make_path(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind, nslab_error *err)
{
	char path[PATH_MAX];
	char *slash = path, *next;
	size_t n = strnlen(s->dst, sizeof(path) - 1);

	memcpy(path, s->dst, n);
	path[n] = '\0';
	if (make_in_parent(x, path, kind, s->src))
		return 0;
	for (;; slash = next) {
		bool last;

		next = strchrnul(slash + 1, '/');
		last = *next == '\0';
		*next = '\0';
		if (make_component(x, path, slash, last, kind, s->src) < 0)
			return fs_step_fail(err, errno, s, "create ", path);
		if (last)
			return 0;
		*next = '/';
	}
}

void fs_fresh_covered(struct fs_ctx *x, const char *path)
{
	size_t n = strlen(path);

	if (!x->fresh_path)
		return;
	/* path is the fresh tmpfs' place or above it ("/" covers everything) */
	if (n == 1 || (strncmp(x->fresh_path, path, n) == 0 &&
		       (x->fresh_path[n] == '\0' || x->fresh_path[n] == '/'))) {
		x->fresh_fd = close_fd(x->fresh_fd);
		x->fresh_path = NULL;
	}
}

int fs_fresh_dst(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind)
{
	size_t n = x->fresh_path ? strlen(x->fresh_path) : 0;
	const char *name = s->dst + n + 1;
	int fd;

	if (!n || strncmp(s->dst, x->fresh_path, n) != 0 || s->dst[n] != '/' || !*name ||
	    strchr(name, '/'))
		return -1;
	switch (kind) {
	case FS_REG:
		/* the creation's fd is the mount point: nothing can swap it in between */
		return openat(x->fresh_fd, name,
			      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	case FS_DIR:
		if (create_at(x->fresh_fd, name, FS_DIR, NULL) < 0)
			return -1;
		fd = openat(x->fresh_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		return fd;
	case FS_LNK:
		return symlinkat(s->src, x->fresh_fd, name) < 0 ? -1 : 0;
	}
	return -1;
}

int fs_open_dst(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind, nslab_error *err)
{
	int fd = fs_fresh_dst(x, s, kind), r;

	if (fd >= 0)
		return fd;
	fd = fs_open_inside(x, s->dst, O_PATH);

	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return fs_step_fail(err, errno, s, "open ", s->dst);
	r = fs_make_path(x, s, kind, err);
	if (r < 0)
		return r;
	fd = fs_open_inside(x, s->dst, O_PATH);
	if (fd < 0)
		return fs_step_fail(err, errno, s, "open ", s->dst);
	return fd;
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/fs: the plan that jail_fs_prepare() (fs-plan.c, parent side) hands to
 * jail_fs_enter() (fs.c and fs-path.c, child side), and the child side's
 * helpers. Shared by those three files only.
 *
 * A plan is an ordered array of steps, its paths in a string pool of the same
 * allocation: every path the child needs is written here by the parent, so
 * that the child only executes steps (no allocation, no formatting). The pool
 * is sized to what the configuration can need, so that a start touches two or
 * three pages, not the 8 KiB of PATH_MAX buffers per step it used to (page
 * faults in the parent and copy-on-write faults in the child were a visible
 * share of a start, see docs/performance.md).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/jail.h"

enum fs_op {
	FS_OP_ROOT = 1, /* src (outside) becomes the new root; FS_RO: read-only, recursively */
	FS_OP_BIND,	/* src (outside) on dst (inside), recursively; FS_RO, FS_TRY, FS_FILE */
	FS_OP_TMPFS,	/* a tmpfs on dst with mode opt */
	FS_OP_DEVPTS,	/* a new devpts instance on dst */
	FS_OP_PROC,	/* a proc of the caller's PID namespace on dst */
	FS_OP_SYSFS,	/* a read-only sysfs of the caller's network namespace on dst */
	FS_OP_SYMLINK,	/* a symlink at dst whose target is src */
	FS_OP_SEAL,	/* the mount on dst made read-only (not its submounts) */
};

enum fs_step_flag {
	FS_RO = 1u << 0,   /* read-only, recursively */
	FS_TRY = 1u << 1,  /* a source missing when the child runs is skipped */
	FS_FILE = 1u << 2, /* the source is not a directory: its mount point is a file */
};

struct fs_step {
	enum fs_op op;
	unsigned flags;	 /* enum fs_step_flag */
	char opt[16];	 /* TMPFS: the mode, octal text */
	const char *src; /* ROOT, BIND: the path outside (canonical); SYMLINK: the target; "" */
	const char *dst; /* the path inside, absolute and normalised; ROOT: "/" */
};

/* Steps of a plan that can run in place (fs.c's DOC): each bind's source is cloned first. */
#define FS_IN_PLACE_MAX 64

struct jail_fs_plan {
	size_t n;      /* 0: leave the filesystem as it is (no mount namespace) */
	bool in_place; /* the host's root, changed in place: no staging, no pivot */
	size_t cap;
	char *pool; /* the steps' strings, after the steps in the same allocation */
	size_t pool_len, pool_cap;
	struct fs_step steps[];
};

/* --- child side: shared by fs.c and fs-path.c, all async-signal-safe ------- */

#define FS_NEWROOT_NAME "newroot"
#define FS_NEWROOT	"/" FS_NEWROOT_NAME /* where the new root is built, in the staging root */
#define FS_MIRRORS_MAX	16 /* mirrors kept writable until the pivot; past that, sealed at once */

struct fs_ctx {
	const char *top; /* where the new root is: FS_NEWROOT, or "/" in place */
	bool in_place;
	int src[FS_IN_PLACE_MAX]; /* in place: step i's source, cloned before any step; -1 */
	int src_errno[FS_IN_PLACE_MAX];
	int newroot;		     /* O_PATH fd of the top at top, -1 until opened */
	int oldroot;		     /* O_PATH fd of the old root, where sources are opened */
	int mirrors[FS_MIRRORS_MAX]; /* mirror mounts, sealed read-only before the pivot */
	size_t n_mirrors;
	/*
	 * The tmpfs the last TMPFS step mounted (its mount fd) and where: entries
	 * right under it are made through it (fs_fresh_dst()), without a lookup
	 * from the root per step. Dropped when a step or a mirror covers it.
	 */
	int fresh_fd;
	const char *fresh_path;
};

enum fs_kind {
	FS_DIR,
	FS_REG,
	FS_LNK,
};

/* err = the NULL-terminated parts, ": ", the errno text, without stdio. Return: -code */
int fs_failv(nslab_error *err, int code, const char *const *parts);
#define FS_FAIL(err, code, ...) fs_failv(err, code, (const char *const[]){ __VA_ARGS__, NULL })
/* "bind /x on /y[: what path]: cause": the step, and what in it failed. Return: -code */
int fs_step_fail(nslab_error *err, int code, const struct fs_step *s, const char *what,
		 const char *path);

/* path ("/a/b") opened under dirfd as under "/": symlinks cannot leave it. Return: fd or -1 */
int fs_open_beneath(int dirfd, const char *path, int flags);
/* path opened inside the new root, through the top of whatever is mounted on it. */
int fs_open_inside(struct fs_ctx *x, const char *path, int flags);
/* The step's destination, created with its missing parents. Return: 0 or -errno (err set) */
int fs_make_path(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind, nslab_error *err);
/* The same, opened (O_PATH). Return: the fd, or -errno (err set) */
int fs_open_dst(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind, nslab_error *err);
/*
 * The step's destination made right under the fresh tmpfs, if it is there
 * and the name is new (the common case of /dev's entries): one call instead of
 * a failed lookup, a parent's lookup, the creation and a lookup again.
 * Return: an fd of it (FS_LNK: 0), or -1: take the general way
 */
int fs_fresh_dst(struct fs_ctx *x, const struct fs_step *s, enum fs_kind kind);
/* Forget the fresh tmpfs if a mount on path covers it. */
void fs_fresh_covered(struct fs_ctx *x, const char *path);

/* mount_setattr() on a mount (recursive: the tree below too). Return: 0 or -1 */
int fs_set_attr(int mnt, bool recursive, uint64_t set, uint64_t propagation);
/* A detached tmpfs with the given mode (octal text). Return: its fd, or -1 */
int fs_new_tmpfs(const char *mode, unsigned attrs);

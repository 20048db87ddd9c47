/* SPDX-License-Identifier: MIT */
/*
 * jail/fs: the plan that jail_fs_prepare() (fs-plan.c, parent side) hands to
 * jail_fs_enter() (fs.c, child side). Shared by those two files only.
 *
 * A plan is an ordered array of steps with fixed buffers: every path the child
 * needs is written here by the parent, so that the child only executes steps
 * (no allocation, no formatting) and the plan can be copied as plain memory.
 */
#pragma once

#include <limits.h>
#include <stddef.h>

#include "jail/jail.h"

enum fs_op {
	FS_OP_ROOT = 1, /* src (outside) becomes the new root; FS_RO: read-only, recursively */
	FS_OP_BIND,	/* src (outside) on dst (inside), recursively; FS_RO, FS_TRY, FS_FILE */
	FS_OP_TMPFS,	/* a tmpfs on dst with mode opt */
	FS_OP_DEVPTS,	/* a new devpts instance on dst */
	FS_OP_PROC,	/* a proc of the caller's PID namespace on dst */
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
	unsigned flags;	    /* enum fs_step_flag */
	char opt[16];	    /* TMPFS: the mode, octal text */
	char src[PATH_MAX]; /* ROOT, BIND: the path outside (canonical); SYMLINK: the target */
	char dst[PATH_MAX]; /* the path inside, absolute and normalised; ROOT: "/" */
};

struct jail_fs_plan {
	size_t n; /* 0: leave the filesystem as it is (no mount namespace) */
	size_t cap;
	struct fs_step steps[];
};

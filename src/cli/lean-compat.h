/* SPDX-License-Identifier: MIT */
/*
 * cli/lean-compat: what glibc has and musl lacks, for the sources the lean
 * nslab (run-lean.c) shares with the full one. Included before anything else
 * in each of them (-include, src/cli/meson.build); never in a glibc build.
 */
#pragma once

#include <stddef.h>
#include <string.h>
/* struct mount_attr, MOUNT_ATTR_*, FSCONFIG_*, MOVE_MOUNT_*: glibc has them in sys/mount.h */
#include <linux/mount.h>

#ifdef __GLIBC__
#error "lean-compat.h is for the lean nslab, built against musl"
#endif

/* musl's strerror() is glibc's strerrordesc_np(): a constant string, no locale */
#define strerrordesc_np(e) strerror(e)
/* "HUP" for SIGHUP, NULL for a real-time or unknown signal, as glibc's */
const char *sigabbrev_np(int sig);

/* the mount API's calls, as glibc 2.36 declares them (sys/mount.h) */
int fsopen(const char *fs_name, unsigned int flags);
int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux);
int fsmount(int fd, unsigned int flags, unsigned int ms_flags);
int move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
	       unsigned int flags);
int open_tree(int dfd, const char *path, unsigned int flags);
int mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr,
		  size_t size);

/* SPDX-License-Identifier: MIT */
/*
 * shared/musl-compat: what glibc has and musl lacks, for the sources the lean
 * nslab (src/cli/run-lean.c) shares with the full one, library code included
 * (fs.c's mount API). Included before anything else in each of them
 * (-include, src/cli/meson.build); never in a glibc build.
 */
#pragma once

#include <stddef.h>
/* struct mount_attr, MOUNT_ATTR_*, FSCONFIG_*, MOVE_MOUNT_*: glibc has them in sys/mount.h */
#include <linux/mount.h>

#ifdef __GLIBC__
#error "musl-compat.h is for the lean nslab, built against musl"
#endif

/*
 * glibc's wording, not musl's strerror() (which says "Symbolic link loop" for
 * ELOOP): a message reads the same from either binary. NULL for an unknown code.
 */
const char *strerrordesc_np(int errnum);
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

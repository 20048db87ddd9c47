/* SPDX-License-Identifier: MIT */
/*
 * lab/outdir: the output directory, opened once and used through its fd.
 *
 * nslab often runs as root (sudo) with a directory named by a user, so no path
 * below it is ever resolved by name from the top, and no link is ever followed:
 * 1. open the directory itself with O_NOFOLLOW (creating it 0700 if missing);
 * 2. accept it only if the caller (effective uid) owns it and neither group nor
 *    others may write to it: nobody else can then plant anything in it;
 * 3. create every file with openat(O_CREAT|O_EXCL|O_NOFOLLOW, 0600) and every
 *    subdirectory with mkdirat(0700), each checked like the top one.
 * A file left by a previous run is replaced only if it is a regular file of the
 * caller's (unlinkat(), then a fresh O_EXCL create); anything else there (a
 * symbolic link, a fifo, another user's file) is refused and left alone.
 */
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/macro.h"

/* The demanding check of step 2, for the directory open as fd. */
static int check_dir(int fd, const char *what, nslab_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "%s", what);
	if (st.st_uid != geteuid())
		return nslab_err_setx(err, EPERM,
				      "%s is owned by uid %u, not by the caller (uid %u)", what,
				      (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return nslab_err_setx(err, EPERM,
				      "%s is writable by group or others (mode %04o); "
				      "chmod go-w it or choose another",
				      what, (unsigned)(st.st_mode & 07777));
	return 0;
}

static int open_dir_at(int dirfd, const char *name, const char *what, int *ret_fd, nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create %s", what);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno == ELOOP ? ENOTDIR : errno,
				     "open %s (a symbolic link is never followed)", what);
	r = check_dir(fd, what, err);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/**
 * outdir_open() - Open (creating it 0700 if missing) an output directory
 * @path:    directory; its last component must not be a symbolic link
 * @ret_fd:  on success, an O_DIRECTORY fd the caller closes
 * @err:     on failure, names the directory and the reason
 *
 * Return: 0, or -EPERM if the directory is another user's or group/other-writable,
 * -ENOTDIR for a symbolic link or a non-directory, mkdir()/open()'s -errno
 */
int outdir_open(const char *path, int *ret_fd, nslab_error *err)
{
	_cleanup_free_ char *what = NULL;

	if (asprintf(&what, "output directory '%s'", path) < 0)
		return nslab_err_set(err, ENOMEM, "output directory");
	return open_dir_at(AT_FDCWD, path, what, ret_fd, err);
}

/**
 * outdir_subdir() - Open (creating it 0700 if missing) the subdirectory name of dirfd
 * @dirfd:   an output directory (or a subdirectory opened by this call)
 * @name:    one path component
 * @ret_fd:  on success, an O_DIRECTORY fd the caller closes
 * @err:     on failure, the cause
 * Return: 0, or -errno as outdir_open()
 */
int outdir_subdir(int dirfd, const char *name, int *ret_fd, nslab_error *err)
{
	_cleanup_free_ char *what = NULL;

	if (asprintf(&what, "output subdirectory '%s'", name) < 0)
		return nslab_err_set(err, ENOMEM, "output directory");
	return open_dir_at(dirfd, name, what, ret_fd, err);
}

/**
 * outdir_create() - Create the file name in dirfd, mode 0600, for writing
 * @dirfd:   an output directory (or subdirectory)
 * @name:    one path component
 * @ret_fd:  on success, an O_WRONLY|O_CLOEXEC fd of a new, empty file
 * @err:     on failure, the cause
 *
 * An existing regular file of the caller's is removed first; anything else is refused.
 * Return: 0, -EEXIST for what is refused, or openat()/unlinkat()'s -errno
 */
int outdir_create(int dirfd, const char *name, int *ret_fd, nslab_error *err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd = openat(dirfd, name, flags, 0600);

	if (fd < 0 && errno == EEXIST) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return nslab_err_set(err, errno, "'%s'", name);
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
			return nslab_err_setx(
				err, EEXIST,
				"'%s' exists and is not a regular file of the caller's "
				"(a symbolic link, say): refusing to replace it",
				name);
		if (unlinkat(dirfd, name, 0) < 0)
			return nslab_err_set(err, errno, "replace '%s'", name);
		fd = openat(dirfd, name, flags, 0600);
	}
	if (fd < 0)
		return nslab_err_set(err, errno, "create '%s'", name);
	*ret_fd = fd;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * httpd/confine: paths from a request, opened beneath a served directory.
 * A URL is the attacker's text: it is checked as text first (clear errors),
 * then the kernel resolves it with RESOLVE_BENEATH, which refuses any step out
 * of the directory, through ".." or a symbolic link, even one planted later.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/macro.h"

int open_beneath(int dirfd, const char *path, int flags, nslab_error *err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!http_path_ok(path))
		return nslab_err_setx(
			err, EINVAL,
			"'%s': not a path beneath the served directory (relative, no '.' or "
			"'..' components)",
			path);
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0 && errno == EXDEV)
		return nslab_err_setx(err, EXDEV, "'%s' leads out of the served directory", path);
	if (fd < 0)
		return nslab_err_set(err, errno, "'%s'", path);
	return (int)fd;
}

int read_beneath(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
		 nslab_error *err)
{
	_cleanup_close_ int fd = open_beneath(dirfd, path, O_RDONLY, err);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "'%s'", path);
	if (!S_ISREG(st.st_mode))
		return nslab_err_setx(err, EACCES, "'%s' is not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return nslab_err_setx(err, EFBIG, "'%s' is larger than %zu bytes", path, max);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return nslab_err_set(err, ENOMEM, "'%s'", path);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nslab_err_set(err, errno, "read '%s'", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nl/sysctl: read and write /proc/sys entries. The kernel resolves net/ entries
 * for the network namespace of the thread that opens the file, so callers run
 * these on a thread inside the namespace they mean.
 */
#include "nl/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"

/* "/proc/sys/" + key into path; keys are relative and never climb out of /proc/sys. */
static int sysctl_path(const char *key, char *path, size_t size, nslab_error *err)
{
	if (!key || !*key || key[0] == '/' || strstr(key, ".."))
		return nslab_err_setx(err, EINVAL, "invalid sysctl key '%s'", key ? key : "");
	if ((size_t)snprintf(path, size, "/proc/sys/%s", key) >= size)
		return nslab_err_setx(err, ENAMETOOLONG, "sysctl key '%s' is too long", key);
	return 0;
}

/**
 * sysctl_write_in_ns() - Write value to /proc/sys/<key>
 * @key:   path below /proc/sys ("net/ipv4/ip_forward")
 * @value: text to write, without a trailing newline
 * @err:   on failure, names the key and the value
 * Return: 0, or negative errno
 */
int sysctl_write_in_ns(const char *key, const char *value, nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int r;

	r = sysctl_path(key, path, sizeof(path), err);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno, "sysctl '%s': open for writing", key);
	/* A proc_handler takes the value in one write; a partial one is a failure */
	n = write(fd, value, len);
	if (n < 0)
		return nslab_err_set(err, errno, "sysctl '%s': write '%s'", key, value);
	if ((size_t)n != len)
		return nslab_err_setx(err, EIO, "sysctl '%s': wrote %zd of %zu bytes of '%s'", key,
				      n, len, value);
	return 0;
}

/**
 * sysctl_read_in_ns() - Read /proc/sys/<key> into buf, without its trailing newline
 * @key: path below /proc/sys
 * @buf: receives the NUL-terminated value
 * @len: size of buf; a value that does not fit is -ENOBUFS
 * Return: 0, or negative errno
 */
int sysctl_read_in_ns(const char *key, char *buf, size_t len, nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	ssize_t n;
	int r;

	r = sysctl_path(key, path, sizeof(path), err);
	if (r < 0)
		return r;
	if (len < 2)
		return nslab_err_setx(err, ENOBUFS, "sysctl '%s': buffer of %zu bytes", key, len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno, "sysctl '%s': open for reading", key);
	n = read(fd, buf, len);
	if (n < 0)
		return nslab_err_set(err, errno, "sysctl '%s': read", key);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	else if ((size_t)n == len)
		return nslab_err_setx(err, ENOBUFS, "sysctl '%s': value longer than %zu bytes", key,
				      len - 1);
	buf[n] = '\0';
	return 0;
}

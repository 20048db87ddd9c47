/* SPDX-License-Identifier: MIT */
/*
 * nl/sysctl: read and write /proc/sys entries. The kernel resolves net/ entries
 * for the network namespace of the thread that opens the file, so callers run
 * these on a thread inside the namespace they mean.
 */
#include "nl/sysctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/macro.h"

/* A read-back buffer: /proc/sys takes at most a page per write */
#define SYSCTL_VALUE_MAX 4096

/* "/proc/sys/" + key into path; keys are relative and never climb out of /proc/sys. */
static int sysctl_path(const char *key, char *path, size_t size, nslab_error *err)
{
	if (!key || !*key || key[0] == '/' || strstr(key, ".."))
		return nslab_err_setx(err, EINVAL, "invalid sysctl key '%s'", key ? key : "");
	if ((size_t)snprintf(path, size, "/proc/sys/%s", key) >= size)
		return nslab_err_setx(err, ENAMETOOLONG, "sysctl key '%s' is too long", key);
	return 0;
}

/* A single decimal integer as the kernel prints it ("0", "1", "-3"): kept exactly or refused. */
static bool is_canonical_int(const char *v)
{
	if (*v == '-')
		v++;
	if (!isdigit((unsigned char)*v) || (v[0] == '0' && v[1]))
		return false;
	return strspn(v, "0123456789") == strlen(v);
}

/* The next whitespace-separated token of *p (its length in *len), or NULL at the end. */
static const char *next_token(const char **p, size_t *len)
{
	const char *t = *p + strspn(*p, " \t\n");

	*len = strcspn(t, " \t\n");
	*p = t + *len;
	return *len ? t : NULL;
}

/* A token that is a whole integer as the kernel parses it (base 0: "0x10", "010"). */
static bool token_int(const char *t, size_t len, long long *ret)
{
	char buf[32], *end;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, t, len);
	buf[len] = '\0';
	errno = 0;
	*ret = strtoll(buf, &end, 0);
	return errno == 0 && end != buf && *end == '\0';
}

/*
 * Whether the kernel kept what was asked: the same whitespace-separated
 * tokens, each equal as text or as the same integer ("01" and "0x1" are
 * kept as "1"; vectors read back tab-separated).
 */
static bool sysctl_kept(const char *asked, const char *kept)
{
	const char *a, *k;
	size_t alen, klen;

	for (;;) {
		long long av, kv;

		a = next_token(&asked, &alen);
		k = next_token(&kept, &klen);
		if (!a || !k)
			return !a && !k;
		if (alen == klen && memcmp(a, k, alen) == 0)
			continue;
		if (!token_int(a, alen, &av) || !token_int(k, klen, &kv) || av != kv)
			return false;
	}
}

/* The read-back value with its separators shown as single spaces, for a message. */
static void tokens_joined(const char *v, char *buf, size_t size)
{
	const char *t;
	size_t len, n = 0;

	buf[0] = '\0';
	while ((t = next_token(&v, &len)) && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%s%.*s", n ? " " : "", (int)len, t);
}

/**
 * sysctl_write_in_ns() - Write value to /proc/sys/<key> and check the kernel kept it
 * @key:   path below /proc/sys ("net/ipv4/ip_forward")
 * @value: text to write: one line, without a newline (a C string holds no NUL)
 * @err:   on failure, names the key and the value
 *
 * The kernel accepts some values without keeping them: a vector handler drops
 * the values past its length ("0 1 2" to ping_group_range keeps "0 1", "1 0"
 * to ip_forward keeps "1"), a string handler cuts at its size. So the value is
 * read back and compared as whitespace-separated tokens, equal as text or as
 * integers (the kernel parses base 0 and prints decimal: "0x1" and "01" are
 * kept as "1"). A single decimal integer as the kernel prints it ("0", "1",
 * nslab's own writes) is either kept or refused, and skips the read-back:
 * it costs an open and a read (~15 us; 1000 nodes write several each).
 * Write-only entries (no read permission, net/ipv4/route/flush) are not read.
 *
 * Return: 0, -EINVAL for a newline in @value or a value the kernel did not
 * keep, or the open/write/read's negative errno
 */
int sysctl_write_in_ns(const char *key, const char *value, nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX], kept[SYSCTL_VALUE_MAX], shown[SYSCTL_VALUE_MAX];
	size_t len = strlen(value);
	struct stat st;
	ssize_t n;
	int r;

	r = sysctl_path(key, path, sizeof(path), err);
	if (r < 0)
		return r;
	if (strchr(value, '\n'))
		return nslab_err_setx(err, EINVAL, "sysctl '%s': value holds a newline", key);
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
	if (is_canonical_int(value) || (fstat(fd, &st) == 0 && !(st.st_mode & 0444)))
		return 0;
	r = sysctl_read_in_ns(key, kept, sizeof(kept), err);
	if (r < 0)
		return nslab_err_prefix(err, r, "sysctl '%s': read back '%s'", key, value);
	if (!sysctl_kept(value, kept)) {
		tokens_joined(kept, shown, sizeof(shown));
		return nslab_err_setx(err, EINVAL,
				      "sysctl '%s': asked for '%s', the kernel kept '%s'", key,
				      value, shown);
	}
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

/* SPDX-License-Identifier: MIT */
/*
 * ns/userns: DOC: rootless bootstrap
 * 1. refuse if the process already has threads (unshare(CLONE_NEWUSER) needs one)
 * 2. unshare(CLONE_NEWUSER)
 * 3. deny setgroups (required before an unprivileged gid_map)
 * 4. map the caller's uid and gid to 0
 * The first real netlink operation (creating the lab root's bridge) is the
 * probe: an EPERM there gets userns_eperm_hint() appended by the caller.
 */
#include "ns/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/macro.h"

static int write_file(const char *path, const char *text, nslab_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return nslab_err_set(err, errno, "open %s", path);
	n = write(fd, text, len);
	if (n != (ssize_t)len) /* errno means something only if write() failed */
		return nslab_err_set(err, n < 0 ? errno : EIO, "write '%s' to %s", text, path);
	return 0;
}

static int thread_count(void)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int n = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

bool userns_is_nested(void)
{
	char buf[128];
	_cleanup_close_ int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	unsigned long a, b, c;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* the initial namespace maps the whole range: "0 0 4294967295" */
	return !(sscanf(buf, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 &&
		 c == 4294967295UL);
}

const char *userns_eperm_hint(void)
{
	return "the user namespace has no network capabilities; unprivileged user namespaces "
	       "may be restricted (Ubuntu: sysctl kernel.apparmor_restrict_unprivileged_userns=0 "
	       "or an AppArmor profile allowing userns for nslab), or run as root";
}

int userns_bootstrap(nslab_error *err)
{
	const char *force = getenv("NSLAB_ROOTLESS");
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int r, threads;

	if (uid == 0 && !(force && strcmp(force, "1") == 0))
		return 0;
	threads = thread_count();
	if (threads < 0)
		return nslab_err_setx(err, EIO,
				      "rootless bootstrap: cannot read /proc/self/status");
	if (threads != 1)
		return nslab_err_setx(err, EBUSY,
				      "rootless bootstrap: the process already has threads; "
				      "call nslab_bootstrap() first thing in main()");
	if (unshare(CLONE_NEWUSER) < 0)
		return nslab_err_set(err, errno,
				     "create a user namespace (are unprivileged user namespaces "
				     "disabled? see user.max_user_namespaces)");
	r = write_file("/proc/self/setgroups", "deny", err);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	r = write_file("/proc/self/uid_map", map, err);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	r = write_file("/proc/self/gid_map", map, err);
	return r < 0 ? r : 1;
}

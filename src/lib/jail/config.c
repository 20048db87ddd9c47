// SPDX-License-Identifier: MIT
/*
 * jail/config: the sandbox configuration object (nslab/sandbox.h's setters),
 * its validation, the effective defaults (the caller's ids, sudo), the policy
 * as JSON (describe) and profiles (YAML).
 *
 * Every setter checks its value before it changes anything, so that a refused
 * value leaves the configuration as it was, and names the value in err.
 */
#include "jail/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctype.h>
#include <sys/capability.h>

#include "core/json.h"
#include "core/yaml.h"
#include "shared/closest.h"
#include "shared/macro.h"
#include "shared/units.h"

DEFINE_CLEANUP_FUNC(nslab_sandbox_config, nslab_sandbox_config_free)

#define PID_MAX_LIMIT_	4194304u     /* the kernel's PID_MAX_LIMIT on 64-bit */
#define NR_OPEN_DEFAULT 1048576u     /* fs.nr_open's default, when /proc says nothing */
#define MEMORY_MIN	(1ull << 20) /* below a MiB not even the dynamic loader starts */
#define HOSTNAME_MAX_	64u	     /* the kernel's __NEW_UTS_LEN */

int nslab_sandbox_config_new(nslab_sandbox_config **ret, nslab_error *err)
{
	nslab_sandbox_config *c = calloc(1, sizeof(*c));

	if (!c)
		return nslab_err_set(err, ENOMEM, "sandbox config");
	c->ns = NSLAB_SANDBOX_NS_ALL;
	c->net = NSLAB_SANDBOX_NET_NONE;
	c->net_userns_fd = c->netns_fd = c->lab_conn_fd = -1;
	c->readonly_root = true;
	c->seccomp = NSLAB_SANDBOX_SECCOMP_DEFAULT;
	c->violation = NSLAB_SANDBOX_VIOLATION_EPERM;
	for (size_t i = 0; i < ARRAY_SIZE(c->stdio); i++)
		c->stdio[i] = -1;
	*ret = c;
	return 0;
}

static void mounts_free(struct jail_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].src);
		free(m[i].dst);
	}
	free(m);
}

static void env_free(struct jail_envop *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	free(e);
}

/* Free what c owns, not c itself. */
static void config_release(nslab_sandbox_config *c)
{
	(void)close_fd(c->net_userns_fd);
	(void)close_fd(c->netns_fd);
	(void)close_fd(c->lab_conn_fd);
	free(c->rootfs);
	mounts_free(c->mounts, c->n_mounts);
	free(c->cwd);
	free(c->seccomp_path);
	jail_seccomp_profile_free(c->seccomp_profile);
	env_free(c->env, c->n_env);
	free(c->hostname);
	for (size_t i = 0; i < ARRAY_SIZE(c->stdio); i++)
		(void)close_fd(c->stdio[i]);
}

nslab_sandbox_config *nslab_sandbox_config_free(nslab_sandbox_config *c)
{
	if (!c)
		return NULL;
	config_release(c);
	free(c);
	return NULL;
}

/* --- namespaces and network --------------------------------------------- */

int nslab_sandbox_config_set_namespaces(nslab_sandbox_config *c, unsigned ns, nslab_error *err)
{
	if (ns & ~(unsigned)NSLAB_SANDBOX_NS_ALL)
		return nslab_err_setx(err, EINVAL, "namespaces 0x%x: unknown bits 0x%x", ns,
				      ns & ~(unsigned)NSLAB_SANDBOX_NS_ALL);
	c->ns = ns;
	return 0;
}

static void netns_forget(nslab_sandbox_config *c)
{
	c->net_userns_fd = close_fd(c->net_userns_fd);
	c->netns_fd = close_fd(c->netns_fd);
}

int nslab_sandbox_config_set_network(nslab_sandbox_config *c, enum nslab_sandbox_net net,
				     nslab_error *err)
{
	switch (net) {
	case NSLAB_SANDBOX_NET_NONE:
	case NSLAB_SANDBOX_NET_HOST:
		netns_forget(c);
		c->net = net;
		return 0;
	case NSLAB_SANDBOX_NET_JOIN:
		/* The namespace to join comes with set_netns(), which sets NET_JOIN itself */
		if (c->netns_fd < 0)
			return nslab_err_setx(err, EINVAL,
					      "network join: no namespace given (set_netns)");
		c->net = net;
		return 0;
	}
	return nslab_err_setx(err, EINVAL, "network %d: must be none, host or join", (int)net);
}

/* fd refers to a namespace of type nstype (CLONE_NEW*). */
static int check_ns_fd(int fd, int nstype, const char *what, nslab_error *err)
{
	int t;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return nslab_err_setx(err, EINVAL, "%s fd %d: not an open file descriptor", what,
				      fd);
	t = ioctl(fd, NS_GET_NSTYPE);
	if (t < 0)
		return nslab_err_set(err, errno == ENOTTY ? EINVAL : errno,
				     "%s fd %d: not a namespace", what, fd);
	if (t != nstype)
		return nslab_err_setx(err, EINVAL, "%s fd %d: a namespace of another type", what,
				      fd);
	return 0;
}

int nslab_sandbox_config_set_netns(nslab_sandbox_config *c, int userns_fd, int netns_fd,
				   nslab_error *err)
{
	_cleanup_close_ int u = -1, n = -1;
	int r;

	r = check_ns_fd(netns_fd, CLONE_NEWNET, "network namespace", err);
	if (r < 0)
		return r;
	if (userns_fd >= 0) {
		r = check_ns_fd(userns_fd, CLONE_NEWUSER, "user namespace", err);
		if (r < 0)
			return r;
		u = fcntl(userns_fd, F_DUPFD_CLOEXEC, 3);
		if (u < 0)
			return nslab_err_set(err, errno, "duplicate user namespace fd %d",
					     userns_fd);
	}
	n = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return nslab_err_set(err, errno, "duplicate network namespace fd %d", netns_fd);
	netns_forget(c);
	c->net_userns_fd = TAKE_FD(u);
	c->netns_fd = TAKE_FD(n);
	c->net = NSLAB_SANDBOX_NET_JOIN;
	return 0;
}

/* --- ids -------------------------------------------------------------------- */

int nslab_sandbox_config_set_uid(nslab_sandbox_config *c, uid_t uid, nslab_error *err)
{
	if (uid == (uid_t)-1)
		return nslab_err_setx(err, EINVAL, "uid %u: not a valid user id", (unsigned)uid);
	c->uid = uid;
	c->uid_set = true;
	return 0;
}

int nslab_sandbox_config_set_gid(nslab_sandbox_config *c, gid_t gid, nslab_error *err)
{
	if (gid == (gid_t)-1)
		return nslab_err_setx(err, EINVAL, "gid %u: not a valid group id", (unsigned)gid);
	c->gid = gid;
	c->gid_set = true;
	return 0;
}

void nslab_sandbox_config_set_as_root(nslab_sandbox_config *c, bool as_root)
{
	c->as_root = as_root;
}

/* A decimal id from the environment, or -1 if absent or not one (or root's). */
static long long env_id(const char *name)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v >= (uid_t)-1)
		return -1;
	return (long long)v;
}

void jail_config_ids(const struct nslab_sandbox_config *c, uid_t *uid, gid_t *gid)
{
	long long su = -1, sg = -1;

	/* Under sudo the command runs as the user who typed it, not as root */
	if (!c->as_root && geteuid() == 0) {
		su = env_id("SUDO_UID");
		sg = env_id("SUDO_GID");
	}
	if (c->uid_set)
		*uid = c->uid;
	else if (c->as_root)
		*uid = 0;
	else
		*uid = su >= 0 ? (uid_t)su : getuid();
	if (c->gid_set)
		*gid = c->gid;
	else if (c->as_root)
		*gid = 0;
	else
		*gid = sg >= 0 ? (gid_t)sg : getgid();
}

/* --- limits ------------------------------------------------------------- */

static uint64_t nr_open(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : NR_OPEN_DEFAULT;
}

struct limit_range {
	uint64_t min, max;
	const char *unit;
};

/*
 * What each limit accepts. The maxima keep the values convertible: cgroup
 * files hold signed 64-bit numbers, cpu.max counts microseconds and the
 * timer nanoseconds; pids and files cannot exceed what the kernel allows.
 */
static struct limit_range limit_range(enum nslab_sandbox_limit l)
{
	switch (l) {
	case NSLAB_SANDBOX_LIMIT_MEMORY:
		return (struct limit_range){ MEMORY_MIN, INT64_MAX, "bytes" };
	case NSLAB_SANDBOX_LIMIT_CPU:
		return (struct limit_range){ 1, INT64_MAX / 1000000, "seconds" };
	case NSLAB_SANDBOX_LIMIT_PIDS:
		return (struct limit_range){ 1, PID_MAX_LIMIT_, "processes" };
	case NSLAB_SANDBOX_LIMIT_FILES:
		return (struct limit_range){ 1, nr_open(), "files" };
	case NSLAB_SANDBOX_LIMIT_FSIZE:
		return (struct limit_range){ 1, INT64_MAX, "bytes" };
	case NSLAB_SANDBOX_LIMIT_TIMEOUT:
		return (struct limit_range){ 1, INT64_MAX / 1000000, "milliseconds" };
	case NSLAB_SANDBOX_LIMIT_NONE:
	case NSLAB_SANDBOX_LIMIT__COUNT:
		break;
	}
	return (struct limit_range){ 0 };
}

int nslab_sandbox_config_set_limit(nslab_sandbox_config *c, enum nslab_sandbox_limit limit,
				   uint64_t value, nslab_error *err)
{
	struct limit_range lr;

	if (limit <= NSLAB_SANDBOX_LIMIT_NONE || limit >= NSLAB_SANDBOX_LIMIT__COUNT)
		return nslab_err_setx(err, EINVAL, "limit %d: unknown", (int)limit);
	lr = limit_range(limit);
	if (value && (value < lr.min || value > lr.max))
		return nslab_err_setx(err, EINVAL,
				      "%s limit %" PRIu64 ": must be %" PRIu64 "..%" PRIu64
				      " %s (or 0: no limit)",
				      nslab_sandbox_limit_name(limit), value, lr.min, lr.max,
				      lr.unit);
	c->limit[limit] = value;
	return 0;
}

int nslab_sandbox_config_set_memory_limit(nslab_sandbox_config *c, uint64_t bytes, nslab_error *err)
{
	return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_MEMORY, bytes, err);
}

int nslab_sandbox_config_set_max_fds(nslab_sandbox_config *c, unsigned n, nslab_error *err)
{
	return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_FILES, n, err);
}

int nslab_sandbox_config_set_max_processes(nslab_sandbox_config *c, unsigned n, nslab_error *err)
{
	return nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_PIDS, n, err);
}

int nslab_sandbox_config_set_cpu_shares(nslab_sandbox_config *c, unsigned shares, nslab_error *err)
{
	/* 0 removes the share, as 0 removes a limit */
	if (shares && (shares < 100 || shares > 1024))
		return nslab_err_setx(err, EINVAL, "cpu shares %u: must be 100..1024", shares);
	c->cpu_shares = shares;
	return 0;
}

/* --- filesystem --------------------------------------------------------- */

/*
 * path made absolute (relative to the working directory) and normalised:
 * no "//", no "." component, no trailing "/". ".." is refused rather than
 * resolved, because resolving it without following symlinks can be wrong.
 */
static int path_normalise(const char *what, const char *path, char **ret, nslab_error *err)
{
	_cleanup_free_ char *cwd = NULL, *out = NULL;
	size_t n = 0, len;
	const char *p;

	if (!path || !*path)
		return nslab_err_setx(err, EINVAL, "%s '': empty path", what);
	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return nslab_err_set(err, errno, "%s '%s': working directory", what, path);
	}
	len = (cwd ? strlen(cwd) : 0) + strlen(path) + 3;
	out = malloc(len);
	if (!out)
		return nslab_err_set(err, ENOMEM, "%s '%s'", what, path);
	for (int part = cwd ? 0 : 1; part < 2; part++) {
		for (p = part ? path : cwd; *p;) {
			size_t k = strcspn(p, "/");

			if (k == 2 && p[0] == '.' && p[1] == '.')
				return nslab_err_setx(err, EINVAL, "%s '%s': must not contain '..'",
						      what, path);
			if (k && !(k == 1 && p[0] == '.')) {
				out[n++] = '/';
				memcpy(out + n, p, k);
				n += k;
			}
			p += k;
			p += strspn(p, "/");
		}
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

/* A path inside the sandbox: absolute as given, then normalised. */
static int inside_path(const char *what, const char *path, char **ret, nslab_error *err)
{
	if (!path || path[0] != '/')
		return nslab_err_setx(err, EINVAL, "%s '%s': must be an absolute path", what,
				      path ? path : "");
	return path_normalise(what, path, ret, err);
}

/*
 * A path outside the sandbox, resolved now (symlinks and ".." included), so
 * that a later change of the working directory changes nothing. A missing
 * path is an error unless missing_ok, and then only normalised.
 */
static int outside_path(const char *what, const char *path, bool missing_ok, char **ret,
			nslab_error *err)
{
	char *abs;

	if (!path || !*path)
		return nslab_err_setx(err, EINVAL, "%s '': empty path", what);
	abs = realpath(path, NULL);
	if (abs) {
		*ret = abs;
		return 0;
	}
	if (errno == ENOMEM)
		return nslab_err_set(err, ENOMEM, "%s '%s'", what, path);
	if (!missing_ok || errno != ENOENT)
		return nslab_err_set(err, errno, "%s '%s'", what, path);
	return path_normalise(what, path, ret, err);
}

int nslab_sandbox_config_set_rootfs(nslab_sandbox_config *c, const char *dir, nslab_error *err)
{
	_cleanup_free_ char *abs = NULL;
	struct stat st;
	int r;

	if (!dir) {
		free(c->rootfs);
		c->rootfs = NULL;
		return 0;
	}
	r = outside_path("rootfs", dir, false, &abs, err);
	if (r < 0)
		return r;
	if (stat(abs, &st) < 0)
		return nslab_err_set(err, errno, "rootfs '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return nslab_err_setx(err, ENOTDIR, "rootfs '%s': not a directory", dir);
	free(c->rootfs);
	c->rootfs = TAKE_PTR(abs);
	return 0;
}

void nslab_sandbox_config_set_readonly_root(nslab_sandbox_config *c, bool ro)
{
	c->readonly_root = ro;
}

/* Append m, whose strings c owns from now on (or frees, on failure). */
static int mount_append(nslab_sandbox_config *c, struct jail_mount m, nslab_error *err)
{
	struct jail_mount *v = reallocarray(c->mounts, c->n_mounts + 1, sizeof(*v));

	if (!v) {
		free(m.src);
		free(m.dst);
		return nslab_err_set(err, ENOMEM, "mount");
	}
	c->mounts = v;
	c->mounts[c->n_mounts++] = m;
	return 0;
}

int nslab_sandbox_config_add_bind(nslab_sandbox_config *c, const char *src, const char *dst,
				  unsigned flags, nslab_error *err)
{
	_cleanup_free_ char *s = NULL, *d = NULL;
	int r;

	if (flags & ~(unsigned)(NSLAB_SANDBOX_BIND_RO | NSLAB_SANDBOX_BIND_TRY))
		return nslab_err_setx(err, EINVAL, "bind '%s': unknown flags 0x%x", src ? src : "",
				      flags);
	r = outside_path("bind source", src, flags & NSLAB_SANDBOX_BIND_TRY, &s, err);
	if (r < 0)
		return r;
	if (dst) {
		r = inside_path("bind destination", dst, &d, err);
		if (r < 0)
			return r;
	} else if (path_normalise("bind", src, &d, NULL) < 0) {
		/* the same path inside as given outside, or resolved if it has ".." */
		d = strdup(s);
		if (!d)
			return nslab_err_set(err, ENOMEM, "bind '%s'", src);
	}
	if (strcmp(d, "/") == 0)
		return nslab_err_setx(err, EINVAL, "bind destination '%s': the root (use a rootfs)",
				      dst ? dst : src);
	return mount_append(c,
			    (struct jail_mount){ .kind = JAIL_MOUNT_BIND,
						 .src = TAKE_PTR(s),
						 .dst = TAKE_PTR(d),
						 .flags = flags },
			    err);
}

int nslab_sandbox_config_add_tmpfs(nslab_sandbox_config *c, const char *dst, nslab_error *err)
{
	_cleanup_free_ char *d = NULL;
	int r;

	r = inside_path("tmpfs destination", dst, &d, err);
	if (r < 0)
		return r;
	if (strcmp(d, "/") == 0)
		return nslab_err_setx(err, EINVAL,
				      "tmpfs destination '%s': the root (use a rootfs)", dst);
	return mount_append(c, (struct jail_mount){ .kind = JAIL_MOUNT_TMPFS, .dst = TAKE_PTR(d) },
			    err);
}

int nslab_sandbox_config_set_cwd(nslab_sandbox_config *c, const char *dir, nslab_error *err)
{
	_cleanup_free_ char *d = NULL;
	int r;

	if (dir) {
		r = inside_path("working directory", dir, &d, err);
		if (r < 0)
			return r;
	}
	free(c->cwd);
	c->cwd = TAKE_PTR(d);
	return 0;
}

/* --- seccomp and capabilities ------------------------------------------- */

static int seccomp_file(nslab_sandbox_config *c, const char *path, nslab_error *err)
{
	struct jail_seccomp_profile *p = NULL;
	_cleanup_free_ char *abs = NULL;
	int r;

	r = outside_path("seccomp profile", path, false, &abs, err);
	if (r < 0)
		return r;
	r = jail_seccomp_load_file(path, &p, err);
	if (r < 0)
		return r;
	jail_seccomp_profile_free(c->seccomp_profile);
	free(c->seccomp_path);
	c->seccomp_profile = p;
	c->seccomp_path = TAKE_PTR(abs);
	c->seccomp = NSLAB_SANDBOX_SECCOMP_FILE;
	return 0;
}

int nslab_sandbox_config_set_seccomp(nslab_sandbox_config *c, enum nslab_sandbox_seccomp mode,
				     const char *path, nslab_error *err)
{
	switch (mode) {
	case NSLAB_SANDBOX_SECCOMP_FILE:
		if (!path)
			return nslab_err_setx(err, EINVAL, "seccomp file: no path given");
		return seccomp_file(c, path, err);
	case NSLAB_SANDBOX_SECCOMP_DEFAULT:
	case NSLAB_SANDBOX_SECCOMP_NONE:
		if (path)
			return nslab_err_setx(err, EINVAL,
					      "seccomp '%s': a file goes with the file mode only",
					      path);
		jail_seccomp_profile_free(c->seccomp_profile);
		c->seccomp_profile = NULL;
		free(c->seccomp_path);
		c->seccomp_path = NULL;
		c->seccomp = mode;
		return 0;
	}
	return nslab_err_setx(err, EINVAL, "seccomp mode %d: must be default, none or file",
			      (int)mode);
}

void nslab_sandbox_config_set_violation(nslab_sandbox_config *c, enum nslab_sandbox_violation v)
{
	/* No err to report an unknown value to: it leaves the setting as it was */
	if (v == NSLAB_SANDBOX_VIOLATION_EPERM || v == NSLAB_SANDBOX_VIOLATION_KILL)
		c->violation = v;
}

/* The highest capability this kernel knows (and that fits keep_caps' 64 bits). */
static int cap_last(void)
{
	int v = -1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (v < 0)
		v = CAP_LAST_CAP;
	return v > 63 ? 63 : v;
}

int nslab_sandbox_config_keep_cap(nslab_sandbox_config *c, int cap, nslab_error *err)
{
	int last = cap_last();

	if (cap < 0 || cap > last)
		return nslab_err_setx(err, EINVAL, "capability %d: must be 0..%d", cap, last);
	c->keep_caps |= UINT64_C(1) << cap;
	return 0;
}

int nslab_sandbox_config_keep_cap_name(nslab_sandbox_config *c, const char *name, nslab_error *err)
{
	int cap = name ? jail_cap_from_name(name) : -EINVAL;

	if (cap < 0)
		return nslab_err_setx(err, EINVAL, "capability '%s': unknown", name ? name : "");
	return nslab_sandbox_config_keep_cap(c, cap, err);
}

size_t nslab_sandbox_config_warnings(const nslab_sandbox_config *c, const char *const **ret)
{
	static const char *const none[] = { NULL };

	if (c->seccomp == NSLAB_SANDBOX_SECCOMP_FILE && c->seccomp_profile)
		return jail_seccomp_profile_warnings(c->seccomp_profile, ret);
	*ret = none;
	return 0;
}

void nslab_sandbox_config_set_ambient(nslab_sandbox_config *c, bool ambient)
{
	c->ambient = ambient;
}

/* --- environment, hostname, stdio, events ----------------------------------- */

void nslab_sandbox_config_clear_env(nslab_sandbox_config *c)
{
	c->clear_env = true;
}

int nslab_sandbox_config_set_env(nslab_sandbox_config *c, const char *name, const char *value,
				 nslab_error *err)
{
	struct jail_envop *v;
	char *text;

	if (!name || !*name || strchr(name, '='))
		return nslab_err_setx(
			err, EINVAL,
			"environment variable '%s': a name must be non-empty, without '='",
			name ? name : "");
	if (value ? asprintf(&text, "%s=%s", name, value) < 0 : !(text = strdup(name)))
		return nslab_err_set(err, ENOMEM, "environment variable '%s'", name);
	v = reallocarray(c->env, c->n_env + 1, sizeof(*v));
	if (!v) {
		free(text);
		return nslab_err_set(err, ENOMEM, "environment variable '%s'", name);
	}
	c->env = v;
	c->env[c->n_env++].text = text;
	return 0;
}

static bool is_hostname_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_';
}

int nslab_sandbox_config_set_hostname(nslab_sandbox_config *c, const char *name, nslab_error *err)
{
	char *copy = NULL;
	size_t len;

	if (name) {
		len = strlen(name);
		if (len == 0 || len > HOSTNAME_MAX_)
			return nslab_err_setx(err, EINVAL,
					      "hostname '%s': must be 1..%u characters", name,
					      HOSTNAME_MAX_);
		for (size_t i = 0; i < len; i++)
			if (!is_hostname_char(name[i]))
				return nslab_err_setx(
					err, EINVAL,
					"hostname '%s': only letters, digits, '-', '.' and '_'",
					name);
		copy = strdup(name);
		if (!copy)
			return nslab_err_set(err, ENOMEM, "hostname '%s'", name);
	}
	free(c->hostname);
	c->hostname = copy;
	return 0;
}

int nslab_sandbox_config_set_stdio(nslab_sandbox_config *c, int in, int out, int errfd,
				   nslab_error *err)
{
	static const char *const names[] = { "stdin", "stdout", "stderr" };
	int given[3] = { in, out, errfd }, dup[3] = { -1, -1, -1 };

	for (size_t i = 0; i < 3; i++) {
		if (given[i] < -1 || (given[i] >= 0 && fcntl(given[i], F_GETFD) < 0)) {
			for (size_t j = 0; j < i; j++)
				(void)close_fd(dup[j]);
			return nslab_err_setx(err, EINVAL, "%s fd %d: not an open file descriptor",
					      names[i], given[i]);
		}
		if (given[i] >= 0)
			dup[i] = fcntl(given[i], F_DUPFD_CLOEXEC, 3);
		if (given[i] >= 0 && dup[i] < 0) {
			int e = errno;

			for (size_t j = 0; j < i; j++)
				(void)close_fd(dup[j]);
			return nslab_err_set(err, e, "%s fd %d: duplicate", names[i], given[i]);
		}
	}
	for (size_t i = 0; i < 3; i++) {
		(void)close_fd(c->stdio[i]);
		c->stdio[i] = dup[i];
	}
	return 0;
}

void nslab_sandbox_config_set_event_func(nslab_sandbox_config *c, nslab_sandbox_event_func fn,
					 void *data)
{
	c->event_fn = fn;
	c->event_data = data;
}

/* --- names ---------------------------------------------------------------- */

const char *nslab_sandbox_limit_name(enum nslab_sandbox_limit limit)
{
	switch (limit) {
	case NSLAB_SANDBOX_LIMIT_NONE:
		return "none";
	case NSLAB_SANDBOX_LIMIT_MEMORY:
		return "memory";
	case NSLAB_SANDBOX_LIMIT_CPU:
		return "cpu";
	case NSLAB_SANDBOX_LIMIT_PIDS:
		return "pids";
	case NSLAB_SANDBOX_LIMIT_FILES:
		return "files";
	case NSLAB_SANDBOX_LIMIT_FSIZE:
		return "fsize";
	case NSLAB_SANDBOX_LIMIT_TIMEOUT:
		return "timeout";
	case NSLAB_SANDBOX_LIMIT__COUNT:
		break;
	}
	return "unknown";
}

const char *nslab_sandbox_mechanism_name(enum nslab_sandbox_mechanism m)
{
	switch (m) {
	case NSLAB_SANDBOX_MECH_UNSET:
		return "unset";
	case NSLAB_SANDBOX_MECH_RLIMIT:
		return "rlimit";
	case NSLAB_SANDBOX_MECH_CGROUP:
		return "cgroup";
	case NSLAB_SANDBOX_MECH_TIMER:
		return "timer";
	}
	return "unknown";
}

/* --- copy ------------------------------------------------------------------ */

static int dup_str(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int dup_fd(int fd, int *ret)
{
	*ret = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return fd >= 0 && *ret < 0 ? -errno : 0;
}

static int dup_lists(const nslab_sandbox_config *c, nslab_sandbox_config *d)
{
	if (c->n_mounts) {
		d->mounts = calloc(c->n_mounts, sizeof(*d->mounts));
		if (!d->mounts)
			return -ENOMEM;
	}
	for (; d->n_mounts < c->n_mounts; d->n_mounts++) {
		const struct jail_mount *m = &c->mounts[d->n_mounts];
		struct jail_mount *o = &d->mounts[d->n_mounts];

		*o = (struct jail_mount){ .kind = m->kind, .flags = m->flags };
		if (dup_str(m->src, &o->src) < 0 || dup_str(m->dst, &o->dst) < 0)
			return -ENOMEM;
	}
	if (c->n_env) {
		d->env = calloc(c->n_env, sizeof(*d->env));
		if (!d->env)
			return -ENOMEM;
	}
	for (; d->n_env < c->n_env; d->n_env++)
		if (dup_str(c->env[d->n_env].text, &d->env[d->n_env].text) < 0)
			return -ENOMEM;
	return 0;
}

int jail_config_dup(const struct nslab_sandbox_config *c, struct nslab_sandbox_config **ret,
		    nslab_error *err)
{
	nslab_sandbox_config *d = malloc(sizeof(*d));
	int r;

	if (!d)
		return nslab_err_set(err, ENOMEM, "copy the sandbox config");
	*d = *c;
	/* nothing of c's is owned by d until copied below: a failure frees only copies */
	d->net_userns_fd = d->netns_fd = d->lab_conn_fd = d->stdio[0] = d->stdio[1] = d->stdio[2] =
		-1;
	d->rootfs = d->cwd = d->seccomp_path = d->hostname = NULL;
	d->mounts = NULL;
	d->env = NULL;
	d->n_mounts = d->n_env = 0;
	d->seccomp_profile = NULL;
	r = dup_fd(c->net_userns_fd, &d->net_userns_fd);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(c->stdio); i++)
		r = dup_fd(c->stdio[i], &d->stdio[i]);
	if (r >= 0)
		r = dup_fd(c->netns_fd, &d->netns_fd);
	if (r >= 0)
		r = dup_fd(c->lab_conn_fd, &d->lab_conn_fd);
	if (r >= 0 && (dup_str(c->rootfs, &d->rootfs) < 0 || dup_str(c->cwd, &d->cwd) < 0 ||
		       dup_str(c->seccomp_path, &d->seccomp_path) < 0 ||
		       dup_str(c->hostname, &d->hostname) < 0 || dup_lists(c, d) < 0))
		r = -ENOMEM;
	if (r < 0) {
		nslab_sandbox_config_free(d);
		return nslab_err_set(err, -r, "copy the sandbox config");
	}
	*ret = d;
	return 0;
}

/* --- describe ---------------------------------------------------------------- */

static const char *const ns_names[] = { "user", "pid", "net", "mount", "uts", "ipc", "cgroup" };

static const char *net_name(enum nslab_sandbox_net net)
{
	switch (net) {
	case NSLAB_SANDBOX_NET_NONE:
		return "none";
	case NSLAB_SANDBOX_NET_HOST:
		return "host";
	case NSLAB_SANDBOX_NET_JOIN:
		return "join";
	}
	return "unknown";
}

/* The namespaces the command gets: a network namespace of its own only with --net none. */
static unsigned effective_ns(const nslab_sandbox_config *c)
{
	if (c->net != NSLAB_SANDBOX_NET_NONE)
		return c->ns & ~(unsigned)NSLAB_SANDBOX_NS_NET;
	return c->ns;
}

static void describe_ns(const nslab_sandbox_config *c, struct jw *w)
{
	unsigned ns = effective_ns(c);

	jw_arr_open(w, "namespaces");
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
		if (ns & (1u << i))
			jw_str(w, NULL, ns_names[i]);
	jw_arr_close(w);
	jw_obj_open(w, "network");
	jw_str(w, "mode", net_name(c->net));
	if (c->net == NSLAB_SANDBOX_NET_JOIN)
		jw_bool(w, "lab_user_namespace", c->net_userns_fd >= 0);
	if (c->net == NSLAB_SANDBOX_NET_NONE && !(c->ns & NSLAB_SANDBOX_NS_NET))
		jw_str(w, "note", "no network namespace asked for: the host's network");
	jw_obj_close(w);
}

static void describe_ids(const nslab_sandbox_config *c, struct jw *w)
{
	uid_t uid;
	gid_t gid;

	jail_config_ids(c, &uid, &gid);
	jw_obj_open(w, "ids");
	jw_uint(w, "uid", uid);
	jw_uint(w, "gid", gid);
	jw_bool(w, "as_root", c->as_root);
	jw_obj_close(w);
}

static void describe_limits(const nslab_sandbox_config *c, struct jw *w)
{
	jw_obj_open(w, "limits");
	for (int l = NSLAB_SANDBOX_LIMIT_NONE + 1; l < NSLAB_SANDBOX_LIMIT__COUNT; l++) {
		if (!c->limit[l]) {
			jw_raw(w, nslab_sandbox_limit_name(l), "null");
			continue;
		}
		jw_obj_open(w, nslab_sandbox_limit_name(l));
		jw_uint(w, "value", c->limit[l]);
		jw_str(w, "unit", limit_range(l).unit);
		jw_obj_close(w);
	}
	if (c->cpu_shares)
		jw_uint(w, "cpu_shares", c->cpu_shares);
	else
		jw_raw(w, "cpu_shares", "null");
	jw_obj_close(w);
}

static void describe_mount(struct jw *w, const char *type, const char *src, const char *dst,
			   bool ro)
{
	jw_obj_open(w, NULL);
	jw_str(w, "type", type);
	if (src)
		jw_str(w, "src", src);
	jw_str(w, "dst", dst);
	jw_bool(w, "ro", ro);
	jw_obj_close(w);
}

static void describe_fs(const nslab_sandbox_config *c, struct jw *w)
{
	bool own_mounts = c->ns & NSLAB_SANDBOX_NS_MOUNT;

	jw_obj_open(w, "filesystem");
	jw_str(w, "rootfs", c->rootfs ? c->rootfs : "/");
	jw_bool(w, "host_root", !c->rootfs);
	jw_bool(w, "readonly_root", c->readonly_root);
	jw_arr_open(w, "mounts");
	if (own_mounts) {
		describe_mount(w, "proc", NULL, "/proc", false);
		describe_mount(w, "dev", NULL, "/dev", false);
		describe_mount(w, "tmpfs", NULL, "/tmp", false);
	}
	for (size_t i = 0; own_mounts && i < c->n_mounts; i++) {
		const struct jail_mount *m = &c->mounts[i];

		if (m->kind == JAIL_MOUNT_TMPFS) {
			describe_mount(w, "tmpfs", NULL, m->dst, false);
			continue;
		}
		jw_obj_open(w, NULL);
		jw_str(w, "type", "bind");
		jw_str(w, "src", m->src);
		jw_str(w, "dst", m->dst);
		jw_bool(w, "ro", m->flags & NSLAB_SANDBOX_BIND_RO);
		jw_bool(w, "try", m->flags & NSLAB_SANDBOX_BIND_TRY);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
}

static void describe_seccomp(const nslab_sandbox_config *c, struct jw *w)
{
	static const char *const modes[] = { "default", "none", "file" };

	jw_obj_open(w, "seccomp");
	jw_str(w, "mode", (unsigned)c->seccomp < ARRAY_SIZE(modes) ? modes[c->seccomp] : "unknown");
	if (c->seccomp == NSLAB_SANDBOX_SECCOMP_FILE)
		jw_str(w, "file", c->seccomp_path);
	jw_str(w, "violation", c->violation == NSLAB_SANDBOX_VIOLATION_KILL ? "kill" : "eperm");
	jw_obj_close(w);
}

static void describe_caps(const nslab_sandbox_config *c, struct jw *w)
{
	jw_obj_open(w, "capabilities");
	jw_arr_open(w, "keep");
	for (int cap = 0; cap < 64; cap++) {
		char *name, upper[64];
		size_t i;

		if (!(c->keep_caps & (UINT64_C(1) << cap)))
			continue;
		name = cap_to_name(cap);
		if (!name) {
			jw_int(w, NULL, cap);
			continue;
		}
		/* libcap says "cap_net_raw"; people (and capabilities(7)) say CAP_NET_RAW */
		for (i = 0; name[i] && i < sizeof(upper) - 1; i++)
			upper[i] = (char)toupper((unsigned char)name[i]);
		upper[i] = '\0';
		cap_free(name);
		jw_str(w, NULL, upper);
	}
	jw_arr_close(w);
	jw_bool(w, "ambient", c->ambient);
	jw_bool(w, "no_new_privs", true);
	jw_obj_close(w);
}

static void describe_env(const nslab_sandbox_config *c, struct jw *w)
{
	jw_obj_open(w, "environment");
	jw_bool(w, "clear", c->clear_env);
	jw_arr_open(w, "changes");
	for (size_t i = 0; i < c->n_env; i++) {
		const char *t = c->env[i].text, *eq = strchr(t, '=');
		_cleanup_free_ char *name = strndup(t, eq ? (size_t)(eq - t) : strlen(t));

		jw_obj_open(w, NULL);
		jw_str(w, eq ? "set" : "unset", name ? name : "");
		if (eq)
			jw_str(w, "value", eq + 1);
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
}

char *nslab_sandbox_config_describe(const nslab_sandbox_config *c)
{
	struct jw w;
	const char *text;
	char *copy;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_int(&w, "schema", 1);
	describe_ns(c, &w);
	describe_ids(c, &w);
	describe_limits(c, &w);
	describe_fs(c, &w);
	describe_seccomp(c, &w);
	describe_caps(c, &w);
	describe_env(c, &w);
	jw_str(&w, "hostname",
	       c->ns & NSLAB_SANDBOX_NS_UTS ? (c->hostname ? c->hostname : "nslab") : NULL);
	jw_str(&w, "cwd", c->cwd);
	jw_obj_close(&w);
	text = jw_get(&w);
	copy = text ? strdup(text) : NULL;
	jw_free(&w);
	return copy;
}

/* --- profiles ---------------------------------------------------------------- */

#define PROFILE_SIZE_MAX (1u << 20)

enum profile_key {
	PK_NET,
	PK_MEM,
	PK_CPU,
	PK_PIDS,
	PK_FDS,
	PK_FSIZE,
	PK_TIMEOUT,
	PK_ROOTFS,
	PK_RO,
	PK_BIND,
	PK_RO_BIND,
	PK_TMPFS,
	PK_CHDIR,
	PK_SECCOMP,
	PK_CAP_ADD,
	PK_UID,
	PK_GID,
	PK_AS_ROOT,
	PK_HOSTNAME,
	PK_ENV,
	PK_CLEARENV,
};

static const char *const profile_keys[] = {
	"net", "mem",	  "cpu",      "pids",  "fds",	   "fsize",   "timeout", "rootfs",
	"ro",  "bind",	  "ro-bind",  "tmpfs", "chdir",	   "seccomp", "cap-add", "uid",
	"gid", "as-root", "hostname", "env",   "clearenv", NULL,
};

/* Reading one profile: where messages point, and paths relative to the file's directory. */
struct profile {
	struct yctx y;
	const char *dir; /* the profile's directory, for relative outside paths */
	bool rootfs_seen, ro_seen;
};

/* A setter's failure, placed at the value that caused it. */
static int at_node(const struct profile *p, const struct ynode *n, int r)
{
	return nslab_err_prefix(p->y.err, r, "%s:%u:%u", p->y.file, n->loc.line, n->loc.col);
}

/* An outside path of the profile: relative ones are relative to the profile's directory. */
static int profile_path(const struct profile *p, const char *path, char **ret)
{
	if (path[0] == '/' || !p->dir)
		return dup_str(path, ret);
	return asprintf(ret, "%s/%s", p->dir, path) < 0 ? -ENOMEM : 0;
}

static int profile_size(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
			enum nslab_sandbox_limit l)
{
	const char *what = profile_keys[l == NSLAB_SANDBOX_LIMIT_MEMORY ? PK_MEM : PK_FSIZE], *s;
	uint64_t v;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	r = parse_size(s, &v);
	if (r < 0)
		return y_error(&p->y, n,
			       "%s: '%s' is not a size (bytes, or a number with K, M, G or T: "
			       "1024 multiples)",
			       what, YAML_Q(s));
	r = nslab_sandbox_config_set_limit(c, l, v, p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_duration(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
			    enum nslab_sandbox_limit l)
{
	const char *what = nslab_sandbox_limit_name(l), *s;
	uint64_t ms;
	int r = y_str(&p->y, n, what, &s);

	if (r < 0)
		return r;
	r = parse_duration_ms(s, &ms);
	if (r < 0)
		return y_error(&p->y, n,
			       "%s: '%s' is not a duration (seconds, decimals allowed, or a number "
			       "with ms, s, m or h)",
			       what, YAML_Q(s));
	if (l == NSLAB_SANDBOX_LIMIT_CPU && ms % 1000)
		return y_error(&p->y, n, "cpu: '%s': CPU time is limited in whole seconds",
			       YAML_Q(s));
	r = nslab_sandbox_config_set_limit(c, l, l == NSLAB_SANDBOX_LIMIT_CPU ? ms / 1000 : ms,
					   p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_count(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
			 enum profile_key k)
{
	uint64_t v;
	int r = y_uint(&p->y, n, profile_keys[k], 0, UINT32_MAX, "a whole number", &v);

	if (r < 0)
		return r;
	r = nslab_sandbox_config_set_limit(
		c, k == PK_PIDS ? NSLAB_SANDBOX_LIMIT_PIDS : NSLAB_SANDBOX_LIMIT_FILES, v,
		p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_id(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n,
		      enum profile_key k)
{
	uint64_t v;
	int r = y_uint(&p->y, n, profile_keys[k], 0, UINT32_MAX - 1, "0..4294967294", &v);

	if (r < 0)
		return r;
	r = k == PK_UID ? nslab_sandbox_config_set_uid(c, (uid_t)v, p->y.err)
			: nslab_sandbox_config_set_gid(c, (gid_t)v, p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_flag(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			enum profile_key k)
{
	bool b;
	int r = y_bool(&p->y, n, profile_keys[k], &b);

	if (r < 0)
		return r;
	if (k == PK_RO) {
		nslab_sandbox_config_set_readonly_root(c, b);
		p->ro_seen = true;
	} else if (k == PK_AS_ROOT) {
		nslab_sandbox_config_set_as_root(c, b);
	} else if (b) {
		nslab_sandbox_config_clear_env(c);
	} else {
		c->clear_env = false;
	}
	return 0;
}

static int profile_net(nslab_sandbox_config *c, const struct profile *p, const struct ynode *n)
{
	static const char *const vals[] = { "none", "host", NULL };
	unsigned i;
	int r = y_enum(&p->y, n, "net", vals, "none or host", &i);

	if (r < 0)
		return r;
	r = nslab_sandbox_config_set_network(c, i ? NSLAB_SANDBOX_NET_HOST : NSLAB_SANDBOX_NET_NONE,
					     p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

/* A scalar, or a sequence of them: each item is handed to fn. */
static int profile_list(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			enum profile_key k,
			int (*fn)(nslab_sandbox_config *c, struct profile *p,
				  const struct ynode *item, enum profile_key k))
{
	int r;

	if (n->type != Y_SEQ)
		return fn(c, p, n, k);
	for (size_t i = 0; i < n->n; i++) {
		r = fn(c, p, n->kids[i], k);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "SRC[:DST]" of bind and ro-bind, the same as on the command line. */
static int profile_bind(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			enum profile_key k)
{
	_cleanup_free_ char *src = NULL, *path = NULL;
	const char *s, *colon;
	int r = y_str(&p->y, n, profile_keys[k], &s);

	if (r < 0)
		return r;
	colon = strchr(s, ':');
	src = strndup(s, colon ? (size_t)(colon - s) : strlen(s));
	if (!src || (*src && profile_path(p, src, &path) < 0))
		return nslab_err_set(p->y.err, ENOMEM, "profile");
	if (colon && !colon[1])
		return y_error(&p->y, n, "%s '%s': empty destination after ':'", profile_keys[k],
			       YAML_Q(s));
	r = nslab_sandbox_config_add_bind(c, path ? path : src, colon ? colon + 1 : NULL,
					  k == PK_RO_BIND ? NSLAB_SANDBOX_BIND_RO : 0, p->y.err);
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_string(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			  enum profile_key k)
{
	const char *s, *eq;
	_cleanup_free_ char *name = NULL;
	int r = y_str(&p->y, n, profile_keys[k], &s);

	if (r < 0)
		return r;
	if (k == PK_TMPFS) {
		r = nslab_sandbox_config_add_tmpfs(c, s, p->y.err);
	} else if (k == PK_CHDIR) {
		r = nslab_sandbox_config_set_cwd(c, s, p->y.err);
	} else if (k == PK_HOSTNAME) {
		r = nslab_sandbox_config_set_hostname(c, s, p->y.err);
	} else if (k == PK_CAP_ADD) {
		/* as on the command line: a kept capability is usable after exec */
		r = nslab_sandbox_config_keep_cap_name(c, s, p->y.err);
		if (r >= 0)
			nslab_sandbox_config_set_ambient(c, true);
	} else {
		/* env: "K=V" sets K, "K" alone removes it */
		eq = strchr(s, '=');
		name = strndup(s, eq ? (size_t)(eq - s) : strlen(s));
		if (!name)
			return nslab_err_set(p->y.err, ENOMEM, "profile");
		r = nslab_sandbox_config_set_env(c, name, eq ? eq + 1 : NULL, p->y.err);
	}
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_outside(nslab_sandbox_config *c, struct profile *p, const struct ynode *n,
			   enum profile_key k)
{
	_cleanup_free_ char *path = NULL;
	const char *s;
	int r = y_str(&p->y, n, profile_keys[k], &s);

	if (r < 0)
		return r;
	if (k == PK_SECCOMP && (strcmp(s, "default") == 0 || strcmp(s, "none") == 0)) {
		r = nslab_sandbox_config_set_seccomp(
			c, *s == 'd' ? NSLAB_SANDBOX_SECCOMP_DEFAULT : NSLAB_SANDBOX_SECCOMP_NONE,
			NULL, p->y.err);
		return r < 0 ? at_node(p, n, r) : 0;
	}
	if (!*s)
		return y_error(&p->y, n, "%s: empty path", profile_keys[k]);
	if (profile_path(p, s, &path) < 0)
		return nslab_err_set(p->y.err, ENOMEM, "profile");
	if (k == PK_ROOTFS) {
		r = nslab_sandbox_config_set_rootfs(c, path, p->y.err);
		p->rootfs_seen = true;
	} else {
		r = nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_FILE, path, p->y.err);
	}
	return r < 0 ? at_node(p, n, r) : 0;
}

static int profile_apply(nslab_sandbox_config *c, struct profile *p, enum profile_key k,
			 const struct ynode *v)
{
	switch (k) {
	case PK_NET:
		return profile_net(c, p, v);
	case PK_MEM:
		return profile_size(c, p, v, NSLAB_SANDBOX_LIMIT_MEMORY);
	case PK_FSIZE:
		return profile_size(c, p, v, NSLAB_SANDBOX_LIMIT_FSIZE);
	case PK_CPU:
		return profile_duration(c, p, v, NSLAB_SANDBOX_LIMIT_CPU);
	case PK_TIMEOUT:
		return profile_duration(c, p, v, NSLAB_SANDBOX_LIMIT_TIMEOUT);
	case PK_PIDS:
	case PK_FDS:
		return profile_count(c, p, v, k);
	case PK_UID:
	case PK_GID:
		return profile_id(c, p, v, k);
	case PK_RO:
	case PK_AS_ROOT:
	case PK_CLEARENV:
		return profile_flag(c, p, v, k);
	case PK_ROOTFS:
	case PK_SECCOMP:
		return profile_outside(c, p, v, k);
	case PK_BIND:
	case PK_RO_BIND:
		return profile_list(c, p, v, k, profile_bind);
	case PK_TMPFS:
	case PK_CAP_ADD:
	case PK_ENV:
		return profile_list(c, p, v, k, profile_string);
	case PK_CHDIR:
	case PK_HOSTNAME:
		return profile_string(c, p, v, k);
	}
	return y_error(&p->y, v, "unhandled key");
}

/*
 * An unknown key that looks like one (a word: the text of a file that is no
 * profile is not repeated): "did you mean" the closest key, or the key it
 * starts with ("memory": mem, "environment": env). Return: -EINVAL, or 0 to
 * leave the message to y_key().
 */
static int profile_key_hint(const struct profile *p, const struct ynode *k)
{
	const size_t n = ARRAY_SIZE(profile_keys) - 1;
	const char *s = k->text, *hint;
	size_t len;

	if (k->type != Y_SCALAR || !s)
		return 0;
	len = strlen(s);
	if (len == 0 || len > 32 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_-") != len)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, profile_keys[i]) == 0)
			return 0;
	hint = closest_word(s, profile_keys, n);
	for (size_t i = 0; !hint && i < n; i++)
		if (strlen(profile_keys[i]) >= 3 &&
		    strncmp(s, profile_keys[i], strlen(profile_keys[i])) == 0)
			hint = profile_keys[i];
	if (!hint)
		return 0;
	return y_error(&p->y, k, "unknown key '%s'; did you mean '%s'?", s, hint);
}

static int profile_apply_all(nslab_sandbox_config *c, struct profile *p, const struct ynode *root)
{
	uint32_t seen = 0;
	int r = y_map(&p->y, root, "a sandbox profile", NULL);

	if (r < 0)
		return r;
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		int k = profile_key_hint(p, root->kids[i]);

		if (k < 0)
			return k;
		k = y_key(&p->y, root->kids[i], profile_keys, SIZE_MAX, &seen);
		if (k < 0)
			return k;
		r = profile_apply(c, p, (enum profile_key)k, root->kids[i + 1]);
		if (r < 0)
			return r;
	}
	/* A root of one's own is writable unless the profile says ro, as with --rootfs */
	if (p->rootfs_seen && !p->ro_seen)
		c->readonly_root = false;
	return 0;
}

/*
 * Make c what the copy d became, and d hold what c was (for freeing). The
 * seccomp profile, which cannot be copied, was lent: d has none while its mode
 * is still the file c had (see nslab_sandbox_config_load()).
 */
static void config_commit(nslab_sandbox_config *c, nslab_sandbox_config *d)
{
	nslab_sandbox_config old = *c;

	if (d->seccomp == NSLAB_SANDBOX_SECCOMP_FILE && !d->seccomp_profile) {
		d->seccomp_profile = old.seccomp_profile;
		old.seccomp_profile = NULL;
	}
	*c = *d;
	*d = old;
}

int nslab_sandbox_config_load(nslab_sandbox_config *c, const char *path, nslab_error *err)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *d = NULL;
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *text = NULL, *dir = NULL;
	struct profile p = { .y = { .file = path, .err = err } };
	size_t len = 0;
	int r;

	r = yaml_read_file(path, PROFILE_SIZE_MAX, &text, &len, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "profile");
	r = yaml_read(&p.y, text, len, 0, &root);
	if (r < 0)
		return r;
	if (!root) /* an empty profile changes nothing */
		return 0;
	dir = strdup(path);
	if (!dir)
		return nslab_err_set(err, ENOMEM, "profile '%s'", path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	p.dir = strchr(path, '/') ? (*dir ? dir : "/") : NULL;
	r = jail_config_dup(c, &d, err);
	if (r < 0)
		return r;
	r = profile_apply_all(d, &p, root);
	if (r < 0)
		return r;
	config_commit(c, d);
	return 0;
}

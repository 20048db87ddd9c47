// SPDX-License-Identifier: MIT
/*
 * jail/config: the sandbox configuration object (nslab/sandbox.h's setters),
 * its validation, the effective defaults (the caller's ids, sudo) and its
 * copy. The policy as JSON is config-describe.c, profiles config-profile.c.
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
#include "jail/libcap-dl.h"

#include "shared/macro.h"

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
	c->egress = NULL; /* the last network call wins */
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
	c->egress = NULL;
	return 0;
}

int nslab_sandbox_config_set_egress(nslab_sandbox_config *c, const nslab_egress *e,
				    nslab_error *err)
{
	(void)err;
	/* each spawn starts a session of e and joins its jail (spawn.c: spawn_filtered()) */
	netns_forget(c);
	c->net = NSLAB_SANDBOX_NET_NONE;
	c->egress = e;
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

#define NOBODY_ID 65534u

void jail_config_ids(const struct nslab_sandbox_config *c, uid_t *uid, gid_t *gid)
{
	long long su = -1, sg = -1;

	/* Under sudo the command runs as the user who typed it, not as root */
	if (!c->as_root && geteuid() == 0) {
		su = env_id("SUDO_UID");
		sg = env_id("SUDO_GID");
	}
	/*
	 * The host's root is exempt from RLIMIT_NPROC (kernel/fork.c): a fork
	 * bomb of root's outruns any sampling (thousands of processes between
	 * two samples, enough to fill pid_max). With a pids limit and no uid
	 * asked for, root's command runs as nobody, whom the kernel does hold.
	 */
	if (!c->as_root && su < 0 && getuid() == 0 && c->limit[NSLAB_SANDBOX_LIMIT_PIDS])
		su = sg = NOBODY_ID;
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

const char *jail_limit_unit(enum nslab_sandbox_limit l)
{
	return limit_range(l).unit;
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

	if (cap == -ENOENT)
		return nslab_err_prefix(err, dl_cap_load(err), "capability '%s'", name);
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

void nslab_sandbox_config_set_shared_init(nslab_sandbox_config *c, bool on)
{
	c->init_shares_memory = on;
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

/* SPDX-License-Identifier: MIT */
/*
 * The sandbox configuration (jail/config.c): defaults, every setter's refusal
 * (the value named, the configuration unchanged), the caller's ids under sudo,
 * sizes and durations, profiles (every error at FILE:LINE:COL, nothing changed
 * by a failed one), describe's JSON, and the deep copy.
 */
#include "jail/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shared/macro.h"
#include "shared/units.h"

DEFINE_CLEANUP_FUNC(nslab_sandbox_config, nslab_sandbox_config_free)

static nslab_sandbox_config *new_config(void)
{
	nslab_sandbox_config *c = NULL;
	nslab_error err = { 0 };

	assert_int_equal(nslab_sandbox_config_new(&c, &err), 0);
	assert_non_null(c);
	return c;
}

/* r is -code and err's message contains want. */
static void assert_refused(int r, const nslab_error *err, int code, const char *want)
{
	if (r != -code || !strstr(err->msg, want))
		print_error("got %d '%s', expected %d with '%s'\n", r, err->msg, -code, want);
	assert_int_equal(r, -code);
	assert_int_equal(err->code, code);
	assert_non_null(strstr(err->msg, want));
}

static char *describe(const nslab_sandbox_config *c)
{
	char *text = nslab_sandbox_config_describe(c);

	assert_non_null(text);
	return text;
}

static void test_defaults(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();

	(void)state;
	assert_int_equal(c->ns, NSLAB_SANDBOX_NS_ALL);
	assert_int_equal(c->net, NSLAB_SANDBOX_NET_NONE);
	assert_int_equal(c->net_userns_fd, -1);
	assert_int_equal(c->netns_fd, -1);
	assert_int_equal(c->lab_conn_fd, -1);
	assert_true(c->readonly_root);
	assert_int_equal(c->seccomp, NSLAB_SANDBOX_SECCOMP_DEFAULT);
	assert_int_equal(c->violation, NSLAB_SANDBOX_VIOLATION_EPERM);
	for (int i = 0; i < 3; i++)
		assert_int_equal(c->stdio[i], -1);
	for (int l = 0; l < NSLAB_SANDBOX_LIMIT__COUNT; l++)
		assert_int_equal(c->limit[l], 0);
	assert_null(c->rootfs);
	assert_int_equal(c->n_mounts, 0);
	assert_int_equal(c->keep_caps, 0);
	assert_false(c->as_root || c->uid_set || c->gid_set || c->clear_env || c->ambient);
	assert_null(nslab_sandbox_config_free(NULL));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_NONE), "none");
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_MEMORY), "memory");
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_CPU), "cpu");
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_PIDS), "pids");
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_FILES), "files");
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_FSIZE), "fsize");
	assert_string_equal(nslab_sandbox_limit_name(NSLAB_SANDBOX_LIMIT_TIMEOUT), "timeout");
	assert_string_equal(nslab_sandbox_mechanism_name(NSLAB_SANDBOX_MECH_UNSET), "unset");
	assert_string_equal(nslab_sandbox_mechanism_name(NSLAB_SANDBOX_MECH_RLIMIT), "rlimit");
	assert_string_equal(nslab_sandbox_mechanism_name(NSLAB_SANDBOX_MECH_CGROUP), "cgroup");
	assert_string_equal(nslab_sandbox_mechanism_name(NSLAB_SANDBOX_MECH_TIMER), "timer");
}

static void test_limits(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_sandbox_config_set_memory_limit(c, 100 << 20, &err), 0);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_MEMORY], 100 << 20);
	assert_refused(nslab_sandbox_config_set_memory_limit(c, 100, &err), &err, EINVAL,
		       "memory limit 100: must be 1048576..");
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_MEMORY], 100 << 20);	/* unchanged */
	assert_int_equal(nslab_sandbox_config_set_memory_limit(c, 0, &err), 0); /* removed */
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_MEMORY], 0);

	assert_refused(nslab_sandbox_config_set_max_processes(c, 5000000, &err), &err, EINVAL,
		       "pids limit 5000000: must be 1..4194304 processes");
	assert_int_equal(nslab_sandbox_config_set_max_processes(c, 64, &err), 0);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_PIDS], 64);
	assert_refused(nslab_sandbox_config_set_max_fds(c, UINT32_MAX, &err), &err, EINVAL,
		       "files limit 4294967295: must be 1..");
	assert_int_equal(nslab_sandbox_config_set_max_fds(c, 3, &err), 0);
	assert_refused(
		nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_TIMEOUT, UINT64_MAX, &err),
		&err, EINVAL, "timeout limit 18446744073709551615: must be 1..");
	assert_refused(nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_CPU, UINT64_MAX, &err),
		       &err, EINVAL, "seconds");
	assert_refused(nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_NONE, 1, &err), &err,
		       EINVAL, "limit 0: unknown");
	assert_refused(nslab_sandbox_config_set_limit(c, (enum nslab_sandbox_limit)99, 1, &err),
		       &err, EINVAL, "limit 99: unknown");
	assert_int_equal(nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_FSIZE, 1, &err), 0);

	assert_refused(nslab_sandbox_config_set_cpu_shares(c, 50, &err), &err, EINVAL,
		       "cpu shares 50: must be 100..1024");
	assert_refused(nslab_sandbox_config_set_cpu_shares(c, 1025, &err), &err, EINVAL,
		       "cpu shares 1025");
	assert_int_equal(nslab_sandbox_config_set_cpu_shares(c, 512, &err), 0);
	assert_int_equal(c->cpu_shares, 512);
	assert_int_equal(nslab_sandbox_config_set_cpu_shares(c, 0, &err), 0);
	assert_int_equal(c->cpu_shares, 0);
}

static void test_namespaces_and_network(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	_cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	nslab_error err = { 0 };

	(void)state;
	assert_true(null >= 0 && netns >= 0 && userns >= 0);
	assert_refused(nslab_sandbox_config_set_namespaces(c, 0x80, &err), &err, EINVAL,
		       "namespaces 0x80: unknown bits 0x80");
	assert_int_equal(c->ns, NSLAB_SANDBOX_NS_ALL);
	assert_int_equal(nslab_sandbox_config_set_namespaces(
				 c, NSLAB_SANDBOX_NS_USER | NSLAB_SANDBOX_NS_PID, &err),
			 0);
	assert_int_equal(c->ns, NSLAB_SANDBOX_NS_USER | NSLAB_SANDBOX_NS_PID);

	assert_refused(nslab_sandbox_config_set_network(c, (enum nslab_sandbox_net)7, &err), &err,
		       EINVAL, "network 7: must be none, host or join");
	assert_refused(nslab_sandbox_config_set_network(c, NSLAB_SANDBOX_NET_JOIN, &err), &err,
		       EINVAL, "network join: no namespace given");
	assert_int_equal(c->net, NSLAB_SANDBOX_NET_NONE);

	assert_refused(nslab_sandbox_config_set_netns(c, -1, -1, &err), &err, EINVAL,
		       "network namespace fd -1: not an open file descriptor");
	assert_refused(nslab_sandbox_config_set_netns(c, -1, null, &err), &err, EINVAL,
		       "not a namespace");
	assert_refused(nslab_sandbox_config_set_netns(c, -1, userns, &err), &err, EINVAL,
		       "a namespace of another type");
	assert_refused(nslab_sandbox_config_set_netns(c, netns, netns, &err), &err, EINVAL,
		       "user namespace fd");
	assert_int_equal(c->netns_fd, -1);
	assert_int_equal(nslab_sandbox_config_set_netns(c, userns, netns, &err), 0);
	assert_int_equal(c->net, NSLAB_SANDBOX_NET_JOIN);
	/* duplicates, close-on-exec, of the same namespaces */
	assert_true(c->netns_fd >= 0 && c->netns_fd != netns);
	assert_true(c->net_userns_fd >= 0 && c->net_userns_fd != userns);
	assert_true(fcntl(c->netns_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(nslab_sandbox_config_set_network(c, NSLAB_SANDBOX_NET_JOIN, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_network(c, NSLAB_SANDBOX_NET_HOST, &err), 0);
	assert_int_equal(c->netns_fd, -1);
	assert_int_equal(c->net_userns_fd, -1);
}

static void test_ids(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	nslab_error err = { 0 };
	uid_t uid;
	gid_t gid;

	(void)state;
	assert_refused(nslab_sandbox_config_set_uid(c, (uid_t)-1, &err), &err, EINVAL,
		       "uid 4294967295: not a valid user id");
	assert_refused(nslab_sandbox_config_set_gid(c, (gid_t)-1, &err), &err, EINVAL,
		       "gid 4294967295");
	assert_false(c->uid_set || c->gid_set);

	assert_int_equal(unsetenv("SUDO_UID"), 0);
	assert_int_equal(unsetenv("SUDO_GID"), 0);
	jail_config_ids(c, &uid, &gid);
	assert_int_equal(uid, getuid());
	assert_int_equal(gid, getgid());

	/* under sudo (root only): the invoking user; junk and root's own ids are ignored */
	assert_int_equal(setenv("SUDO_UID", "1234", 1), 0);
	assert_int_equal(setenv("SUDO_GID", "12x", 1), 0);
	jail_config_ids(c, &uid, &gid);
	assert_int_equal(uid, geteuid() == 0 ? 1234 : getuid());
	assert_int_equal(gid, getgid());
	nslab_sandbox_config_set_as_root(c, true);
	jail_config_ids(c, &uid, &gid);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	assert_int_equal(nslab_sandbox_config_set_uid(c, 7, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_gid(c, 8, &err), 0);
	jail_config_ids(c, &uid, &gid);
	assert_int_equal(uid, 7);
	assert_int_equal(gid, 8);
	assert_int_equal(unsetenv("SUDO_UID"), 0);
	assert_int_equal(unsetenv("SUDO_GID"), 0);
}

static void test_filesystem(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	nslab_error err = { 0 };

	(void)state;
	assert_refused(nslab_sandbox_config_set_rootfs(c, "/nonexistent-nslab", &err), &err, ENOENT,
		       "rootfs '/nonexistent-nslab': No such file or directory");
	assert_refused(nslab_sandbox_config_set_rootfs(c, "/etc/passwd", &err), &err, ENOTDIR,
		       "rootfs '/etc/passwd': not a directory");
	assert_null(c->rootfs);
	assert_int_equal(nslab_sandbox_config_set_rootfs(c, "/usr/../etc", &err), 0);
	assert_string_equal(c->rootfs, "/etc");
	assert_int_equal(nslab_sandbox_config_set_rootfs(c, NULL, &err), 0);
	assert_null(c->rootfs);

	assert_refused(nslab_sandbox_config_add_bind(c, "/nonexistent-nslab", NULL, 0, &err), &err,
		       ENOENT, "bind source '/nonexistent-nslab': No such file or directory");
	assert_refused(nslab_sandbox_config_add_bind(c, "/etc", "tmp", 0, &err), &err, EINVAL,
		       "bind destination 'tmp': must be an absolute path");
	assert_refused(nslab_sandbox_config_add_bind(c, "/etc", "/a/../b", 0, &err), &err, EINVAL,
		       "bind destination '/a/../b': must not contain '..'");
	assert_refused(nslab_sandbox_config_add_bind(c, "/etc", "//", 0, &err), &err, EINVAL,
		       "bind destination '//': the root");
	assert_refused(nslab_sandbox_config_add_bind(c, "/etc", NULL, 0x10, &err), &err, EINVAL,
		       "bind '/etc': unknown flags 0x10");
	assert_refused(nslab_sandbox_config_add_tmpfs(c, "scratch", &err), &err, EINVAL,
		       "tmpfs destination 'scratch': must be an absolute path");
	assert_refused(nslab_sandbox_config_add_tmpfs(c, "/", &err), &err, EINVAL, "the root");
	assert_int_equal(c->n_mounts, 0);

	assert_int_equal(
		nslab_sandbox_config_add_bind(c, "/etc", "//x/./y/", NSLAB_SANDBOX_BIND_RO, &err),
		0);
	assert_int_equal(nslab_sandbox_config_add_bind(c, "/nonexistent-nslab", NULL,
						       NSLAB_SANDBOX_BIND_TRY, &err),
			 0);
	assert_int_equal(nslab_sandbox_config_add_tmpfs(c, "/scratch/", &err), 0);
	assert_int_equal(c->n_mounts, 3);
	assert_int_equal(c->mounts[0].kind, JAIL_MOUNT_BIND);
	assert_string_equal(c->mounts[0].src, "/etc");
	assert_string_equal(c->mounts[0].dst, "/x/y");
	assert_int_equal(c->mounts[0].flags, NSLAB_SANDBOX_BIND_RO);
	assert_string_equal(c->mounts[1].src, "/nonexistent-nslab");
	assert_string_equal(c->mounts[1].dst, "/nonexistent-nslab");
	assert_int_equal(c->mounts[2].kind, JAIL_MOUNT_TMPFS);
	assert_null(c->mounts[2].src);
	assert_string_equal(c->mounts[2].dst, "/scratch");

	assert_refused(nslab_sandbox_config_set_cwd(c, "src", &err), &err, EINVAL,
		       "working directory 'src': must be an absolute path");
	assert_null(c->cwd);
	assert_int_equal(nslab_sandbox_config_set_cwd(c, "/src/", &err), 0);
	assert_string_equal(c->cwd, "/src");
	nslab_sandbox_config_set_readonly_root(c, false);
	assert_false(c->readonly_root);
}

static void test_seccomp_and_caps(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	nslab_error err = { 0 };

	(void)state;
	assert_refused(nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_FILE, NULL, &err),
		       &err, EINVAL, "seccomp file: no path given");
	assert_refused(
		nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_NONE, "/x.json", &err),
		&err, EINVAL, "seccomp '/x.json': a file goes with the file mode only");
	assert_refused(
		nslab_sandbox_config_set_seccomp(c, (enum nslab_sandbox_seccomp)9, NULL, &err),
		&err, EINVAL, "seccomp mode 9");
	assert_refused(nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_FILE,
							"/nonexistent-nslab.json", &err),
		       &err, ENOENT, "seccomp profile '/nonexistent-nslab.json'");
	assert_int_equal(c->seccomp, NSLAB_SANDBOX_SECCOMP_DEFAULT);
	assert_int_equal(
		nslab_sandbox_config_set_seccomp(c, NSLAB_SANDBOX_SECCOMP_NONE, NULL, &err), 0);
	assert_int_equal(c->seccomp, NSLAB_SANDBOX_SECCOMP_NONE);

	nslab_sandbox_config_set_violation(c, NSLAB_SANDBOX_VIOLATION_KILL);
	assert_int_equal(c->violation, NSLAB_SANDBOX_VIOLATION_KILL);
	nslab_sandbox_config_set_violation(c, (enum nslab_sandbox_violation)5); /* ignored */
	assert_int_equal(c->violation, NSLAB_SANDBOX_VIOLATION_KILL);

	assert_refused(nslab_sandbox_config_keep_cap(c, 64, &err), &err, EINVAL,
		       "capability 64: must be 0..");
	assert_refused(nslab_sandbox_config_keep_cap(c, -1, &err), &err, EINVAL,
		       "capability -1: must be 0..");
	assert_refused(nslab_sandbox_config_keep_cap_name(c, "CAP_BOGUS", &err), &err, EINVAL,
		       "capability 'CAP_BOGUS': unknown");
	assert_int_equal(c->keep_caps, 0);
	assert_int_equal(nslab_sandbox_config_keep_cap(c, 13, &err), 0); /* CAP_NET_RAW */
	assert_int_equal(c->keep_caps, UINT64_C(1) << 13);
	nslab_sandbox_config_set_ambient(c, true);
	assert_true(c->ambient);
}

static void test_env_hostname_stdio(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	char long_name[80];
	nslab_error err = { 0 };
	int fd3;

	(void)state;
	assert_refused(nslab_sandbox_config_set_env(c, "", "x", &err), &err, EINVAL,
		       "environment variable ''");
	assert_refused(nslab_sandbox_config_set_env(c, "A=B", "x", &err), &err, EINVAL,
		       "environment variable 'A=B': a name must be non-empty, without '='");
	assert_int_equal(c->n_env, 0);
	assert_int_equal(nslab_sandbox_config_set_env(c, "A", "1=2", &err), 0);
	assert_int_equal(nslab_sandbox_config_set_env(c, "B", NULL, &err), 0);
	assert_int_equal(c->n_env, 2);
	assert_string_equal(c->env[0].text, "A=1=2");
	assert_string_equal(c->env[1].text, "B");
	nslab_sandbox_config_clear_env(c);
	assert_true(c->clear_env);

	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_refused(nslab_sandbox_config_set_hostname(c, "", &err), &err, EINVAL,
		       "hostname '': must be 1..64 characters");
	assert_refused(nslab_sandbox_config_set_hostname(c, long_name, &err), &err, EINVAL,
		       "must be 1..64 characters");
	assert_refused(nslab_sandbox_config_set_hostname(c, "a b", &err), &err, EINVAL,
		       "hostname 'a b': only letters, digits");
	assert_null(c->hostname);
	long_name[64] = '\0';
	assert_int_equal(nslab_sandbox_config_set_hostname(c, long_name, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_hostname(c, "box-1.lab", &err), 0);
	assert_string_equal(c->hostname, "box-1.lab");

	fd3 = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd3 >= 0);
	assert_refused(nslab_sandbox_config_set_stdio(c, fd3, 999, -1, &err), &err, EINVAL,
		       "stdout fd 999: not an open file descriptor");
	assert_refused(nslab_sandbox_config_set_stdio(c, -2, -1, -1, &err), &err, EINVAL,
		       "stdin fd -2");
	assert_int_equal(c->stdio[0], -1);
	assert_int_equal(nslab_sandbox_config_set_stdio(c, fd3, -1, fd3, &err), 0);
	assert_true(c->stdio[0] >= 0 && c->stdio[0] != fd3);
	assert_int_equal(c->stdio[1], -1);
	assert_true(c->stdio[2] >= 0 && c->stdio[2] != fd3 && c->stdio[2] != c->stdio[0]);
	(void)close(fd3);
	assert_int_equal(nslab_sandbox_config_set_stdio(c, -1, -1, -1, &err), 0);
	assert_int_equal(c->stdio[0], -1);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "512", 0, 512 },
		{ "512B", 0, 512 },
		{ "4K", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "4KiB", 0, 4096 },
		{ "100M", 0, 100u << 20 },
		{ "100m", 0, 100u << 20 },
		{ "100MiB", 0, 100u << 20 },
		{ "2G", 0, 2ull << 30 },
		{ "2g", 0, 2ull << 30 },
		{ "2GiB", 0, 2ull << 30 },
		{ "1T", 0, 1ull << 40 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "10 M", -EINVAL, 0 },
		{ "10MB", -EINVAL, 0 },
		{ "10Mi", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 7;
		int r = parse_size(cases[i].s, &v);

		if (r != cases[i].r)
			print_error("parse_size('%s') = %d\n", cases[i].s, r);
		assert_int_equal(r, cases[i].r);
		assert_int_equal(v, r == 0 ? cases[i].v : 7); /* untouched on failure */
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint64_t ms;
	} cases[] = {
		{ "0", 0, 0 },
		{ "1", 0, 1000 },
		{ "1.5", 0, 1500 },
		{ "0.001", 0, 1 },
		{ "0.0010", 0, 1 },
		{ "2s", 0, 2000 },
		{ "2.25s", 0, 2250 },
		{ "250ms", 0, 250 },
		{ "2m", 0, 120000 },
		{ "1.5m", 0, 90000 },
		{ "1h", 0, 3600000 },
		{ "0.0001", -EINVAL, 0 },
		{ "1.5ms", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ ".5", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 },
		{ "1.2.3", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 },
		{ "1d", -EINVAL, 0 },
		{ "1.0000000001", -EINVAL, 0 },
		{ "18446744073709551615", -ERANGE, 0 },
		{ "18446744073709551616ms", -ERANGE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 7;
		int r = parse_duration_ms(cases[i].s, &v);

		if (r != cases[i].r)
			print_error("parse_duration_ms('%s') = %d\n", cases[i].s, r);
		assert_int_equal(r, cases[i].r);
		assert_int_equal(v, r == 0 ? cases[i].ms : 7);
	}
}

/* --- profiles ------------------------------------------------------------- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nslab-sbcfg.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to tmpdir/name; return its path (static buffer, one at a time). */
static const char *write_profile(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void test_profile_ok(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	char data[128], want[160];
	nslab_error err = { 0 };
	const char *path;

	(void)state;
	snprintf(data, sizeof(data), "%s/data", tmpdir);
	assert_int_equal(mkdir(data, 0700), 0);
	path = write_profile("ok.yaml", "# a comment\n"
					"net: host\n"
					"mem: 100M\n"
					"cpu: 2s\n"
					"timeout: 1.5\n"
					"pids: 64\n"
					"fds: 128\n"
					"fsize: 1g\n"
					"rootfs: data\n"
					"bind: [data:/mnt/data, /etc]\n"
					"ro-bind: /usr\n"
					"tmpfs:\n"
					"  - /scratch\n"
					"chdir: /mnt/data\n"
					"seccomp: none\n"
					"uid: 1000\n"
					"gid: 100\n"
					"as-root: false\n"
					"hostname: box\n"
					"env: [A=1, B]\n"
					"clearenv: true\n");
	assert_int_equal(nslab_sandbox_config_load(c, path, &err), 0);
	assert_int_equal(err.code, 0);
	assert_int_equal(c->net, NSLAB_SANDBOX_NET_HOST);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_MEMORY], 100u << 20);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_CPU], 2);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_TIMEOUT], 1500);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_PIDS], 64);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_FILES], 128);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_FSIZE], 1u << 30);
	/* relative outside paths are the profile's directory's */
	assert_string_equal(c->rootfs, data);
	assert_false(c->readonly_root); /* a rootfs without ro: writable */
	assert_int_equal(c->n_mounts, 4);
	assert_string_equal(c->mounts[0].src, data);
	assert_string_equal(c->mounts[0].dst, "/mnt/data");
	assert_string_equal(c->mounts[1].dst, "/etc");
	assert_int_equal(c->mounts[2].flags, NSLAB_SANDBOX_BIND_RO);
	assert_int_equal(c->mounts[3].kind, JAIL_MOUNT_TMPFS);
	assert_string_equal(c->cwd, "/mnt/data");
	assert_int_equal(c->seccomp, NSLAB_SANDBOX_SECCOMP_NONE);
	assert_true(c->uid_set && c->uid == 1000 && c->gid == 100 && !c->as_root);
	assert_string_equal(c->hostname, "box");
	assert_int_equal(c->n_env, 2);
	assert_string_equal(c->env[1].text, "B");
	assert_true(c->clear_env);

	/* a second profile adds to the lists and overrides the rest; ro wins over rootfs */
	snprintf(want, sizeof(want), "ro: true\nrootfs: %s\ntmpfs: /t2\nmem: 0\n", data);
	assert_int_equal(nslab_sandbox_config_load(c, write_profile("two.yaml", want), &err), 0);
	assert_true(c->readonly_root);
	assert_int_equal(c->n_mounts, 5);
	assert_int_equal(c->limit[NSLAB_SANDBOX_LIMIT_MEMORY], 0);
	/* an empty profile changes nothing */
	assert_int_equal(nslab_sandbox_config_load(c, write_profile("empty.yaml", ""), &err), 0);
	assert_int_equal(c->n_mounts, 5);
}

/* Every error names FILE:LINE:COL and the value; the configuration is as it was. */
static void test_profile_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "mem: 100M\nmemory: 5\n",
		  "bad.yaml:2:1: unknown key 'memory'; did you mean 'mem'?" },
		{ "timout: 5\n", "bad.yaml:1:1: unknown key 'timout'; did you mean 'timeout'?" },
		{ "environment: [A=1]\n",
		  "bad.yaml:1:1: unknown key 'environment'; did you mean 'env'?" },
		{ "workdir: /x\n",
		  "bad.yaml:1:1: unknown key 'workdir' (expected one of: net, mem, cpu" },
		{ "root:x:0:0:root:/root:/bin/bash: 1\n",
		  "bad.yaml:1:1: unknown key (expected one of" },
		{ "mem: 1M\nmem: 2M\n", "bad.yaml:2:1: duplicate key 'mem'" },
		{ "mem: 100X\n", "bad.yaml:1:6: mem: '100X' is not a size" },
		{ "mem: 100\n", "bad.yaml:1:6: memory limit 100: must be 1048576.." },
		{ "fsize: [1]\n", "bad.yaml:1:8: fsize: expected a string, not a sequence" },
		{ "cpu: 1.5\n", "bad.yaml:1:6: cpu: '1.5': CPU time is limited in whole seconds" },
		{ "timeout: soon\n", "bad.yaml:1:10: timeout: 'soon' is not a duration" },
		{ "pids: -1\n", "bad.yaml:1:7: bad pids '-1'" },
		{ "pids: 5000000\n", "bad.yaml:1:7: pids limit 5000000: must be 1..4194304" },
		{ "uid: 4294967295\n",
		  "bad.yaml:1:6: bad uid '4294967295' (expected 0..4294967294)" },
		{ "net: lab\n", "bad.yaml:1:6: " },
		{ "ro: yes\n", "bad.yaml:1:5: " },
		{ "rootfs: /nonexistent-nslab\n",
		  "bad.yaml:1:9: rootfs '/nonexistent-nslab': No such file or directory" },
		{ "bind:\n  - /etc:/ok\n  - /etc:relative\n",
		  "bad.yaml:3:5: bind destination 'relative': must be an absolute path" },
		{ "ro-bind: '/etc:'\n", "bad.yaml:1:10: ro-bind '/etc:': empty destination" },
		{ "tmpfs: [/a, b]\n", "bad.yaml:1:13: tmpfs destination 'b': must be an absolute" },
		{ "chdir: x\n", "bad.yaml:1:8: working directory 'x': must be an absolute path" },
		{ "hostname: 'a b'\n", "bad.yaml:1:11: hostname 'a b'" },
		{ "env: [A=1, =2]\n", "bad.yaml:1:12: environment variable ''" },
		{ "cap-add: CAP_BOGUS\n", "bad.yaml:1:10: capability 'CAP_BOGUS': unknown" },
		{ "seccomp: /nonexistent-nslab.json\n",
		  "bad.yaml:1:10: seccomp profile '/nonexistent-nslab.json'" },
		{ "- mem: 1M\n", "bad.yaml:1:1: a sandbox profile: expected a mapping" },
		{ "mem: [1M\n", "bad.yaml:" },
	};
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	_cleanup_free_ char *before = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_sandbox_config_set_memory_limit(c, 64 << 20, &err), 0);
	assert_int_equal(nslab_sandbox_config_add_tmpfs(c, "/kept", &err), 0);
	before = describe(c);
	assert_int_equal(chdir(tmpdir), 0); /* messages name the file as given */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *after = NULL;
		int r;

		write_profile("bad.yaml", cases[i].text);
		err = (nslab_error){ 0 };
		r = nslab_sandbox_config_load(c, "bad.yaml", &err);
		if (r >= 0 || strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
			print_error("case %zu: got %d '%s'\n  expected '%s'\n", i, r, err.msg,
				    cases[i].want);
		assert_true(r < 0);
		assert_int_equal(strncmp(err.msg, cases[i].want, strlen(cases[i].want)), 0);
		after = describe(c);
		assert_string_equal(before, after);
	}
	err = (nslab_error){ 0 };
	assert_refused(nslab_sandbox_config_load(c, "missing.yaml", &err), &err, ENOENT,
		       "'missing.yaml'");
	assert_int_equal(chdir("/"), 0);
}

/* --- describe and copy ------------------------------------------------------ */

static void assert_before(const char *text, const char *a, const char *b)
{
	const char *pa = strstr(text, a), *pb = strstr(text, b);

	if (!pa || !pb || pa >= pb)
		print_error("'%s' not before '%s' in %s\n", a, b, text);
	assert_true(pa && pb && pa < pb);
}

static void test_describe(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	_cleanup_free_ char *def = NULL, *text = NULL;
	nslab_error err = { 0 };

	(void)state;
	def = describe(c);
	assert_non_null(strstr(def, "{\"schema\":1,"));
	assert_non_null(strstr(def, "\"namespaces\":[\"user\",\"pid\",\"net\",\"mount\",\"uts\","
				    "\"ipc\",\"cgroup\"]"));
	assert_non_null(strstr(def, "\"network\":{\"mode\":\"none\"}"));
	assert_non_null(strstr(def, "\"memory\":null"));
	assert_non_null(strstr(def, "\"rootfs\":\"/\",\"host_root\":true,\"readonly_root\":true"));
	assert_non_null(strstr(def,
			       "\"mounts\":[{\"type\":\"proc\",\"dst\":\"/proc\",\"ro\":false},"
			       "{\"type\":\"dev\",\"dst\":\"/dev\",\"ro\":false},"
			       "{\"type\":\"tmpfs\",\"dst\":\"/tmp\",\"ro\":false}]"));
	assert_non_null(strstr(def, "\"seccomp\":{\"mode\":\"default\",\"violation\":\"eperm\"}"));
	assert_non_null(strstr(
		def, "\"capabilities\":{\"keep\":[],\"ambient\":false,\"no_new_privs\":true}"));
	assert_non_null(strstr(def, "\"hostname\":\"nslab\",\"cwd\":null}"));

	assert_int_equal(nslab_sandbox_config_set_network(c, NSLAB_SANDBOX_NET_HOST, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_memory_limit(c, 1 << 20, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_limit(c, NSLAB_SANDBOX_LIMIT_TIMEOUT, 1500, &err),
			 0);
	assert_int_equal(
		nslab_sandbox_config_add_bind(c, "/etc", "/x", NSLAB_SANDBOX_BIND_RO, &err), 0);
	assert_int_equal(nslab_sandbox_config_add_tmpfs(c, "/tmp", &err), 0);
	assert_int_equal(nslab_sandbox_config_keep_cap(c, 13, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_env(c, "Q", "\"quoted\"", &err), 0);
	assert_int_equal(nslab_sandbox_config_set_env(c, "GONE", NULL, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_uid(c, 4321, &err), 0);
	text = describe(c);
	assert_non_null(strstr(text, "\"namespaces\":[\"user\",\"pid\",\"mount\""));
	assert_non_null(strstr(text, "\"network\":{\"mode\":\"host\"}"));
	assert_non_null(strstr(text, "\"memory\":{\"value\":1048576,\"unit\":\"bytes\"}"));
	assert_non_null(strstr(text, "\"timeout\":{\"value\":1500,\"unit\":\"milliseconds\"}"));
	assert_non_null(strstr(text, "\"uid\":4321"));
	/* mounts in order: the defaults, then the binds and tmpfs as given */
	assert_before(text, "\"dst\":\"/dev\"", "\"src\":\"/etc\",\"dst\":\"/x\",\"ro\":true");
	assert_before(text, "\"dst\":\"/x\"",
		      "{\"type\":\"tmpfs\",\"dst\":\"/tmp\",\"ro\":false}]");
	assert_non_null(strstr(text, "\"keep\":[\"CAP_NET_RAW\"]"));
	assert_non_null(
		strstr(text, "{\"set\":\"Q\",\"value\":\"\\\"quoted\\\"\"},{\"unset\":\"GONE\"}"));
}

static void test_dup(void **state)
{
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *c = new_config();
	_cleanup_(nslab_sandbox_config_freep) nslab_sandbox_config *d = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_sandbox_config_add_bind(c, "/etc", "/x", 0, &err), 0);
	assert_int_equal(nslab_sandbox_config_set_env(c, "A", "1", &err), 0);
	assert_int_equal(nslab_sandbox_config_set_hostname(c, "h", &err), 0);
	assert_int_equal(nslab_sandbox_config_set_stdio(c, 0, -1, -1, &err), 0);
	assert_int_equal(jail_config_dup(c, &d, &err), 0);
	a = describe(c);
	b = describe(d);
	assert_string_equal(a, b);
	assert_true(d->mounts != c->mounts && d->mounts[0].dst != c->mounts[0].dst);
	assert_true(d->stdio[0] >= 0 && d->stdio[0] != c->stdio[0]);
	assert_null(d->seccomp_profile);
	d = nslab_sandbox_config_free(d); /* c is intact: freed again below */
	assert_string_equal(c->mounts[0].dst, "/x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_namespaces_and_network),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_filesystem),
		cmocka_unit_test(test_seccomp_and_caps),
		cmocka_unit_test(test_env_hostname_stdio),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_profile_ok),
		cmocka_unit_test(test_profile_errors),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}

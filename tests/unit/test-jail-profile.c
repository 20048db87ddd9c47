/* SPDX-License-Identifier: MIT */
/*
 * jail/seccomp and jail/caps without a kernel: OCI/Docker profiles (fixtures
 * and every error with its FILE:LINE:COL), unknown system calls (skipped or
 * refused), the default profile's table, deny lists, capability names.
 * Installing filters is tested in tests/integration/test-jail-seccomp.c.
 */
#include "jail/seccomp-profile.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "jail/jail.h"

#define DENY_MKDIR "tests/fixtures/seccomp-deny-mkdir.json"
#define DOCKER	   "tests/fixtures/seccomp-docker.json"
#define SENTINEL   ((struct jail_seccomp_profile *)0x1)

static struct jail_seccomp_profile *load_ok(const char *path)
{
	struct jail_seccomp_profile *p = NULL;
	nslab_error err = { 0 };
	int r = jail_seccomp_load_file(path, &p, &err);

	if (r < 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(err.code, 0);
	assert_non_null(p);
	return p;
}

/* The rule naming call, or NULL. */
static const struct scp_rule *rule_of(const struct jail_seccomp_profile *p, const char *call)
{
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t j = 0; j < p->rules[i].n_calls; j++)
			if (strcmp(p->rules[i].calls[j].name, call) == 0)
				return &p->rules[i];
	return NULL;
}

static void test_deny_mkdir_fixture(void **state)
{
	struct jail_seccomp_profile *p = load_ok(DENY_MKDIR);
	const struct scp_rule *r;
	const char *const *w;

	(void)state;
	assert_int_equal(p->default_action, SCMP_ACT_ALLOW);
	/* x86_64 is native: only the two others are added */
	assert_int_equal(p->n_arches, 2);
	assert_int_equal(p->arches[0], SCMP_ARCH_X86);
	assert_int_equal(p->arches[1], SCMP_ARCH_X32);
	assert_int_equal(p->n_rules, 3);
	r = rule_of(p, "mkdirat");
	assert_non_null(r);
	assert_ptr_equal(r, rule_of(p, "mkdir"));
	assert_int_equal(r->action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(r->loc.line, 5);
	assert_int_equal(r->calls[1].loc.line, 6);
	assert_int_equal(r->calls[1].loc.col, 23);
	assert_int_equal(rule_of(p, "rmdir")->action, SCMP_ACT_ERRNO(EACCES));
	assert_int_equal(jail_seccomp_profile_warnings(p, &w), 0);
	jail_seccomp_profile_free(p);
}

/* The line of the first occurrence of needle in path (1-based), 0 if none. */
static unsigned line_of(const char *path, const char *needle)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(path, "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, needle)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

static void test_docker_fixture(void **state)
{
	static const char *const unknown[] = { "listmount", "statmount", "mseal", "uretprobe" };
	struct jail_seccomp_profile *p = load_ok(DOCKER);
	const char *const *w;
	size_t n = jail_seccomp_profile_warnings(p, &w);
	char want[256];

	(void)state;
	assert_int_equal(p->default_action, SCMP_ACT_ERRNO(1));
	/* archMap: only the native entry counts */
	assert_int_equal(p->n_arches, 2);
	/* names newer than libseccomp 2.5.4 are skipped with a warning at their place */
	assert_int_equal(n, ARRAY_SIZE(unknown));
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want),
			 DOCKER ":%u:5: system call '%s' unknown to libseccomp, skipped",
			 line_of(DOCKER, unknown[i]), unknown[i]);
		assert_string_equal(w[i], want);
		assert_null(rule_of(p, unknown[i]));
	}
	assert_false(rule_of(p, "arch_prctl")->off);	    /* includes.arches: amd64 */
	assert_true(rule_of(p, "s390_pci_mmio_read")->off); /* includes.arches: s390 only */
	assert_false(rule_of(p, "ptrace")->off);	    /* minKernel 4.8 */
	assert_int_equal(rule_of(p, "clone3")->action, SCMP_ACT_ERRNO(ENOSYS));
	assert_int_equal(rule_of(p, "clone3")->caps_none, UINT64_C(1) << CAP_SYS_ADMIN);
	assert_int_equal(rule_of(p, "clone")->n_args, 1);
	assert_int_equal(rule_of(p, "clone")->args[0].op, SCMP_CMP_MASKED_EQ);
	assert_int_equal(rule_of(p, "clone")->args[0].value, 2114060288);
	jail_seccomp_profile_free(p);
}

/* Docker's includes/excludes on capabilities decide at compile time. */
static void test_docker_caps_change_the_filter(void **state)
{
	struct nslab_sandbox_config c = { .seccomp = NSLAB_SANDBOX_SECCOMP_FILE,
					  .seccomp_path = (char *)DOCKER };
	struct sock_fprog plain, admin;
	nslab_error err = { 0 };

	(void)state;
	/* no parsed profile: a copied config (jail_config_dup()) loads the file again */
	assert_int_equal(jail_seccomp_compile(&c, &plain, &err), 0);
	c.keep_caps = UINT64_C(1) << CAP_SYS_ADMIN;
	assert_int_equal(jail_seccomp_compile(&c, &admin, &err), 0);
	assert_true(plain.len > 100);
	assert_int_not_equal(plain.len, admin.len);
	free(plain.filter);
	free(admin.filter);
}

/* A profile caches its program for the capabilities kept, and only for those. */
static void test_profile_cache(void **state)
{
	struct nslab_sandbox_config c = { .seccomp = NSLAB_SANDBOX_SECCOMP_FILE };
	struct sock_fprog a, b, admin;
	nslab_error err = { 0 };

	(void)state;
	c.seccomp_profile = load_ok(DOCKER);
	assert_int_equal(jail_seccomp_compile(&c, &a, &err), 0);
	assert_int_equal(jail_seccomp_compile(&c, &b, &err), 0);
	assert_ptr_not_equal(a.filter, b.filter);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.filter, b.filter, a.len * sizeof(*a.filter));
	c.keep_caps = UINT64_C(1) << CAP_SYS_ADMIN;
	assert_int_equal(jail_seccomp_compile(&c, &admin, &err), 0);
	assert_int_not_equal(admin.len, a.len);
	jail_seccomp_profile_free(c.seccomp_profile);
	free(a.filter);
	free(b.filter);
	free(admin.filter);
}

struct bad {
	const char *text;
	const char *msg; /* the whole message after "f.json:" */
};

static void test_errors(void **state)
{
	static const struct bad cases[] = {
		{ "", "1:1: empty seccomp profile: expected {\"defaultAction\": ...}" },
		{ "[]", "1:1: seccomp profile: expected a mapping, not a sequence" },
		{ "{}", "1:1: seccomp profile needs 'defaultAction'" },
		{ "{\"defaultAction\": }", NULL },
		{ "{\"defaultAction\": \"SCMP_ACT_NOPE\"}",
		  "1:19: bad defaultAction 'SCMP_ACT_NOPE' (expected SCMP_ACT_ALLOW, _ERRNO, "
		  "_KILL_PROCESS, ...)" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"sycalls\": []}",
		  "1:37: unknown key 'sycalls' (expected one of: defaultAction, defaultErrnoRet, "
		  "architectures, archMap, syscalls, flags, listenerPath, listenerMetadata)" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
		  "1:56: errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one" },
		{ "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 4096}",
		  "1:56: bad errno '4096' (expected 0..4095)" },
		{ "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
		  "1:19: defaultAction: SCMP_ACT_NOTIFY needs a listener, which nslab does not "
		  "run" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/x.sock\"}",
		  "1:53: listenerPath: nslab runs no seccomp notification listener" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
		  "1:55: unknown architecture 'SCMP_ARCH_VAX'" },
		/* a refusal of an unknown call under a permissive default: an error */
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\", \"mkdri\"], \"action\": "
		  "\"SCMP_ACT_ERRNO\"}]}",
		  "2:36: system call 'mkdri' is unknown to libseccomp: refusing it cannot be "
		  "compiled, and skipping it would allow it" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"]}]}",
		  "2:15: syscalls entry needs 'action'" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"action\": \"SCMP_ACT_ERRNO\"}]}",
		  "2:15: syscalls entry needs 'names'" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		  "2:25: names: expected at least one system call" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"a\"], \"name\": \"b\", \"action\": "
		  "\"SCMP_ACT_LOG\"}]}",
		  "2:40: 'name' and 'names' together" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
		  "   \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		  "3:23: bad index '6' (expected 0..5)" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
		  "   \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_ALMOST\"}]}]}",
		  "3:44: bad op 'SCMP_CMP_ALMOST' (expected SCMP_CMP_EQ, _NE, _LT, _LE, _GE, _GT, "
		  "_MASKED_EQ)" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
		  "   \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		  "3:13: argument needs 'index', 'value' and 'op'" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
		  "   \"includes\": {\"caps\": [\"CAP_FLY\"]}}]}",
		  "3:26: unknown capability 'CAP_FLY'" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
		  "   \"excludes\": {\"minKernel\": \"5\"}}]}",
		  "3:30: bad minKernel '5' (expected MAJOR.MINOR)" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
		  " \"syscalls\": [{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
		  "   \"errnoRet\": 1}]}",
		  "3:16: errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct jail_seccomp_profile *p = SENTINEL;
		nslab_error err = { 0 };
		const char *text = cases[i].text;
		int r = jail_seccomp_parse_string(text, strlen(text), "f.json", &p, &err);

		if (r != -EINVAL || (cases[i].msg && strcmp(err.msg + 7, cases[i].msg) != 0))
			print_error("case %zu: r=%d msg=%s\n", i, r, err.msg);
		assert_int_equal(r, -EINVAL);
		assert_ptr_equal(p, SENTINEL); /* untouched on failure */
		assert_int_equal(strncmp(err.msg, "f.json:", 7), 0);
		if (cases[i].msg)
			assert_string_equal(err.msg + 7, cases[i].msg);
	}
}

/* An unknown name is skipped, with a warning, where that cannot let a refused call through. */
static void test_unknown_names_skipped(void **state)
{
	static const char *const texts[] = {
		/* the rule allows it: skipping leaves it to the (refusing) default */
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
		" \"syscalls\": [{\"names\": [\"getpid\", \"mkdri\"], \"action\": "
		"\"SCMP_ACT_ALLOW\"}]}",
		/* both refuse it */
		"{\"defaultAction\": \"SCMP_ACT_KILL\",\n"
		" \"syscalls\": [{\"names\": [\"getpid\", \"mkdri\"], \"action\": "
		"\"SCMP_ACT_ERRNO\"}]}",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct jail_seccomp_profile *p = NULL;
		nslab_error err = { 0 };
		const char *const *w;

		assert_int_equal(
			jail_seccomp_parse_string(texts[i], strlen(texts[i]), "f.json", &p, &err),
			0);
		assert_int_equal(jail_seccomp_profile_warnings(p, &w), 1);
		assert_string_equal(
			w[0], "f.json:2:36: system call 'mkdri' unknown to libseccomp, skipped");
		assert_int_equal(p->rules[0].n_calls, 1);
		jail_seccomp_profile_free(p);
	}
}

static void test_missing_file(void **state)
{
	struct jail_seccomp_profile *p = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(jail_seccomp_load_file("tests/fixtures/nope.json", &p, &err), -ENOENT);
	assert_ptr_equal(p, SENTINEL);
	assert_non_null(strstr(err.msg, "tests/fixtures/nope.json"));
	assert_int_equal(strncmp(err.msg, "seccomp profile: ", 17), 0);
}

static void test_default_table(void **state)
{
	const char *const *names;
	size_t n = jail_seccomp_default_names(&names);
	struct jail_seccomp_entry e;
	bool seen_ptrace = false;

	(void)state;
	assert_true(n >= 50);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(jail_seccomp_default_entry(i, &e), 0);
		assert_string_equal(e.name, names[i]);
		assert_true(e.when && *e.when && e.why && *e.why);
		/* every call is known to libseccomp on this architecture or its 32-bit relative */
		if (seccomp_syscall_resolve_name(e.name) == __NR_SCMP_ERROR)
			fail_msg("'%s' unknown to libseccomp", e.name);
		/* mounts are left to the kernel, for nested sandboxes (see seccomp.c) */
		assert_string_not_equal(e.name, "mount");
		seen_ptrace = seen_ptrace || strcmp(e.name, "ptrace") == 0;
	}
	assert_true(seen_ptrace);
	assert_int_equal(jail_seccomp_default_entry(n, &e), -ENOENT);
}

static void test_compile_deny(void **state)
{
	static const char *const ok[] = { "mkdir", "mkdirat", "vm86" };
	static const char *const bad[] = { "mkdir", "mkdri" };
	struct sock_fprog prog = { 0 };
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(
		jail_seccomp_compile_deny(ok, 3, NSLAB_SANDBOX_VIOLATION_EPERM, &prog, &err), 0);
	assert_true(prog.len > 0);
	free(prog.filter);
	assert_int_equal(
		jail_seccomp_compile_deny(bad, 2, NSLAB_SANDBOX_VIOLATION_KILL, &prog, &err),
		-EINVAL);
	assert_string_equal(err.msg, "seccomp: unknown system call 'mkdri'");
	assert_int_equal(
		jail_seccomp_compile_deny(ok, 0, NSLAB_SANDBOX_VIOLATION_KILL, &prog, &err),
		-EINVAL);
}

static void test_default_compile_modes(void **state)
{
	struct nslab_sandbox_config c = { .seccomp = NSLAB_SANDBOX_SECCOMP_DEFAULT };
	struct sock_fprog eperm, kill, again, none;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(jail_seccomp_compile(&c, &eperm, &err), 0);
	assert_int_equal(jail_seccomp_compile(&c, &again, &err), 0);
	c.violation = NSLAB_SANDBOX_VIOLATION_KILL;
	assert_int_equal(jail_seccomp_compile(&c, &kill, &err), 0);
	/* the cached copy is a copy, and the two actions differ */
	assert_ptr_not_equal(eperm.filter, again.filter);
	assert_int_equal(eperm.len, again.len);
	assert_memory_equal(eperm.filter, again.filter, eperm.len * sizeof(*eperm.filter));
	assert_true(eperm.len != kill.len ||
		    memcmp(eperm.filter, kill.filter, eperm.len * sizeof(*eperm.filter)) != 0);
	c.seccomp = NSLAB_SANDBOX_SECCOMP_NONE;
	assert_int_equal(jail_seccomp_compile(&c, &none, &err), 0);
	assert_int_equal(none.len, 0);
	assert_null(none.filter);
	free(eperm.filter);
	free(again.filter);
	free(kill.filter);
}

static void test_cap_names(void **state)
{
	static const struct {
		const char *name;
		int cap;
	} cases[] = {
		{ "CAP_NET_RAW", CAP_NET_RAW },
		{ "net_raw", CAP_NET_RAW },
		{ "Cap_Net_Raw", CAP_NET_RAW },
		{ "NET_RAW", CAP_NET_RAW },
		{ "cap_sys_admin", CAP_SYS_ADMIN },
		{ "CAP_CHOWN", CAP_CHOWN },
		{ "checkpoint_restore", 40 },
		{ "12", -EINVAL },
		{ "cap_12", -EINVAL },
		{ "", -EINVAL },
		{ "CAP_", -EINVAL },
		{ "net-raw", -EINVAL },
		{ "cap_nope", -EINVAL },
		{ "CAP_NET_RAW ", -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (jail_cap_from_name(cases[i].name) != cases[i].cap)
			fail_msg("'%s': %d, expected %d", cases[i].name,
				 jail_cap_from_name(cases[i].name), cases[i].cap);
	assert_int_equal(jail_cap_from_name(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deny_mkdir_fixture),
		cmocka_unit_test(test_docker_fixture),
		cmocka_unit_test(test_docker_caps_change_the_filter),
		cmocka_unit_test(test_profile_cache),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown_names_skipped),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_default_table),
		cmocka_unit_test(test_compile_deny),
		cmocka_unit_test(test_default_compile_modes),
		cmocka_unit_test(test_cap_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

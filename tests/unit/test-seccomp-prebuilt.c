/* SPDX-License-Identifier: MIT */
/*
 * The default seccomp profile compiled at build time (seccomp-gen) is the
 * program libseccomp builds at run time for the same profile, instruction for
 * instruction, for both violation actions; and a default config's filter is
 * that program, got without loading libseccomp.
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
#include <cmocka.h>

#include "nslab/sandbox.h"

static bool maps_have(const char *what)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

/* First: nothing here has loaded libseccomp yet. */
static void test_default_config_needs_no_libseccomp(void **state)
{
	nslab_sandbox_config *c = NULL;
	struct sock_fprog prog = { 0 };
	nslab_error err = { 0 };

	(void)state;
	assert_false(maps_have("libseccomp"));
	assert_int_equal(nslab_sandbox_config_new(&c, &err), 0);
	assert_int_equal(jail_seccomp_compile(c, &prog, &err), 0);
	assert_non_null(jail_seccomp_prebuilt[0].filter);
	assert_int_equal(prog.len, jail_seccomp_prebuilt[0].len);
	assert_memory_equal(prog.filter, jail_seccomp_prebuilt[0].filter,
			    prog.len * sizeof(*prog.filter));
	assert_false(maps_have("libseccomp"));
	free(prog.filter);
	nslab_sandbox_config_free(c);
}

static void check_same(enum nslab_sandbox_violation v)
{
	const struct sock_fprog *pre = &jail_seccomp_prebuilt[v == NSLAB_SANDBOX_VIOLATION_KILL];
	struct sock_fprog now = { 0 };
	nslab_error err = { 0 };

	assert_int_equal(scp_default_build(v, &now, &err), 0);
	assert_int_equal(now.len, pre->len);
	for (unsigned i = 0; i < now.len; i++)
		if (memcmp(&now.filter[i], &pre->filter[i], sizeof(now.filter[i])) != 0)
			fail_msg("instruction %u differs: built now { 0x%04x, %u, %u, 0x%08x }, "
				 "prebuilt { 0x%04x, %u, %u, 0x%08x }",
				 i, now.filter[i].code, now.filter[i].jt, now.filter[i].jf,
				 now.filter[i].k, pre->filter[i].code, pre->filter[i].jt,
				 pre->filter[i].jf, pre->filter[i].k);
	free(now.filter);
}

static void test_prebuilt_is_libseccomps_eperm(void **state)
{
	(void)state;
	check_same(NSLAB_SANDBOX_VIOLATION_EPERM);
}

static void test_prebuilt_is_libseccomps_kill(void **state)
{
	(void)state;
	check_same(NSLAB_SANDBOX_VIOLATION_KILL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_config_needs_no_libseccomp),
		cmocka_unit_test(test_prebuilt_is_libseccomps_eperm),
		cmocka_unit_test(test_prebuilt_is_libseccomps_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

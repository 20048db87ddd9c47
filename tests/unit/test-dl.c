/* SPDX-License-Identifier: MIT */
/*
 * core/dl: a library loaded by soname fills its table; a missing library or
 * symbol is an error naming it and what it was needed for, every time; and
 * nslab's own tables (libseccomp, libfyaml...) load with every function.
 */
#include "core/dl.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fyaml-dl.h"
#include "pkt/pcap-dl.h"
#include "jail/libcap-dl.h"
#include "jail/seccomp-dl.h"
#include "nl/conntrack-dl.h"
#include "nl/nftables-dl.h"

static struct {
	DL_PTR(getpid)
} libc_table;
static const struct dl_sym libc_syms[] = { DL_SYM(libc_table, getpid) };

static void test_loads_and_resolves(void **state)
{
	struct dl_lib lib = DL_LIB("libc.so.6", "a test", libc_syms);
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(dl_load(&lib, &err), 0);
	assert_int_equal(err.code, 0);
	assert_non_null(libc_table.getpid);
	assert_int_equal(libc_table.getpid(), getpid());
	assert_int_equal(dl_load(&lib, &err), 0); /* once: the second call is the same */
}

static void test_missing_library(void **state)
{
	struct dl_lib lib = DL_LIB("libnslab-no-such-library.so.7", "a test", libc_syms);
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(dl_load(&lib, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "libnslab-no-such-library.so.7"));
	assert_non_null(strstr(err.msg, "needed for a test"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(dl_load(&lib, &err), -ENOENT); /* remembered, same message */
	assert_non_null(strstr(err.msg, "libnslab-no-such-library.so.7"));
	assert_int_equal(dl_load(&lib, NULL), -ENOENT);
}

static struct {
	void (*nslab_no_such_function)(void);
} bad_table;
static const struct dl_sym bad_syms[] = { { "nslab_no_such_function",
					    (void **)&bad_table.nslab_no_such_function } };

static void test_missing_symbol(void **state)
{
	struct dl_lib lib = DL_LIB("libc.so.6", "a test", bad_syms);
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(dl_load(&lib, &err), -ENOSYS);
	assert_non_null(strstr(err.msg, "libc.so.6: no symbol 'nslab_no_such_function'"));
}

/* The libraries nslab builds against have every function its tables name. */
static void test_nslab_tables(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(dl_fy_load(&err), 0);
	assert_int_equal(dl_pcap_load(&err), 0);
	assert_int_equal(dl_cap_load(&err), 0);
	assert_int_equal(dl_scmp_load(&err), 0);
	assert_int_equal(dl_nfct_load(&err), 0);
	assert_int_equal(dl_nft_load(&err), 0);
	assert_int_equal(err.code, 0);
	assert_non_null(dl_scmp.seccomp_init);
	assert_non_null(dl_nft.nft_ctx_new);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_and_resolves),
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_nslab_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

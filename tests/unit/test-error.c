/* SPDX-License-Identifier: MIT */
/*
 * The error API: codes returned and stored, "fmt: strerror" composition,
 * prefixes, truncation at NSLAB_ERROR_MSG_MAX, err == NULL (the code still
 * returned through a prefix), and that only a failure writes to err.
 */
#include "nslab/error.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nslab/lab.h"
#include "core/addr.h"
#include "lab/ctlmsg.h"
#include "lab/ctlproto.h"

/* An error holding a message no call of ours would write, to see what is overwritten. */
static void fill(nslab_error *err)
{
	err->code = 12345;
	memset(err->msg, 'x', sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
}

static void test_set_appends_strerror(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_err_set(&err, ENOENT, "open '%s'", "lab.yaml"), -ENOENT);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "open 'lab.yaml': No such file or directory");
	assert_int_equal(nslab_err_set(&err, EEXIST, "add link %d", 7), -EEXIST);
	assert_int_equal(err.code, EEXIST);
	assert_string_equal(err.msg, "add link 7: File exists");
}

static void test_set_unknown_code(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	/* no description for a code past the table: still a message, never NULL text */
	assert_int_equal(nslab_err_set(&err, 4000, "odd"), -4000);
	assert_int_equal(err.code, 4000);
	assert_string_equal(err.msg, "odd: unknown error");
}

static void test_setx_no_strerror(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nslab_err_setx(&err, EINVAL, "'%s': prefix length %u out of range",
					"10.0.0.0/33", 33u),
			 -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "'10.0.0.0/33': prefix length 33 out of range");
}

static void test_code_zero_or_negative_is_eio(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	/* a failure never has code 0 (e.g. errno read after a call that did not set it) */
	assert_int_equal(nslab_err_set(&err, 0, "no errno"), -EIO);
	assert_int_equal(err.code, EIO);
	assert_string_equal(err.msg, "no errno: Input/output error");
	assert_int_equal(nslab_err_setx(&err, -ENOENT, "negative"), -EIO);
	assert_int_equal(err.code, EIO);
	assert_string_equal(err.msg, "negative");
}

static void test_null_err(void **state)
{
	(void)state;
	assert_int_equal(nslab_err_set(NULL, EPERM, "x %s", "y"), -EPERM);
	assert_int_equal(nslab_err_setx(NULL, ENOSPC, "x"), -ENOSPC);
	assert_int_equal(nslab_err_set(NULL, 0, "x"), -EIO);
	/* the code travels in r: without an error to hold it, it is still returned */
	assert_int_equal(nslab_err_prefix(NULL, -ENOSPC, "ctx %d", 1), -ENOSPC);
	assert_int_equal(nslab_err_prefix(NULL, 0, "ctx"), -EIO);
}

static void test_prefix_chains(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	(void)nslab_err_set(&err, EEXIST, "add address %s", "10.0.0.1/24");
	assert_int_equal(nslab_err_prefix(&err, -EEXIST, "node '%s'", "r1"), -EEXIST);
	assert_int_equal(nslab_err_prefix(&err, -EEXIST, "lab '%s'", "home"), -EEXIST);
	assert_int_equal(err.code, EEXIST);
	assert_string_equal(err.msg, "lab 'home': node 'r1': add address 10.0.0.1/24: File exists");
}

static void test_prefix_unset_error_takes_r(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	/* a prefix on an error nobody set (a bare -ENOMEM, say) takes its code from r */
	assert_int_equal(nslab_err_prefix(&err, -ENOMEM, "ctx"), -ENOMEM);
	assert_int_equal(err.code, ENOMEM);
	assert_string_equal(err.msg, "ctx: ");
	/* r wins over a stale code: the error and the return value stay in step */
	assert_int_equal(nslab_err_prefix(&err, -EPERM, "outer"), -EPERM);
	assert_int_equal(err.code, EPERM);
	assert_string_equal(err.msg, "outer: ctx: ");
}

static void test_prefix_nonnegative_r(void **state)
{
	nslab_error err = { 0 };

	(void)state;
	/* r >= 0 is a caller's bug; still a failure: err's own code, else EIO */
	assert_int_equal(nslab_err_prefix(&err, 0, "ctx"), -EIO);
	assert_int_equal(err.code, EIO);
	assert_string_equal(err.msg, "ctx: ");
	(void)nslab_err_setx(&err, EBUSY, "inner");
	assert_int_equal(nslab_err_prefix(&err, 1, "ctx"), -EBUSY);
	assert_string_equal(err.msg, "ctx: inner");
}

static void test_truncation(void **state)
{
	char big[2 * NSLAB_ERROR_MSG_MAX];
	nslab_error err;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	fill(&err);
	assert_int_equal(nslab_err_setx(&err, E2BIG, "%s", big), -E2BIG);
	assert_int_equal(strlen(err.msg), NSLAB_ERROR_MSG_MAX - 1);
	assert_int_equal(strspn(err.msg, "a"), NSLAB_ERROR_MSG_MAX - 1);

	/* with strerror: the cause is cut, never written past the end */
	fill(&err);
	assert_int_equal(nslab_err_set(&err, ENOENT, "%.*s", NSLAB_ERROR_MSG_MAX - 5, big),
			 -ENOENT);
	assert_int_equal(strlen(err.msg), NSLAB_ERROR_MSG_MAX - 1);
	assert_memory_equal(err.msg + NSLAB_ERROR_MSG_MAX - 5, ": No", 4);

	/* exactly filling the buffer leaves no room for the cause */
	fill(&err);
	assert_int_equal(nslab_err_set(&err, ENOENT, "%.*s", NSLAB_ERROR_MSG_MAX - 1, big),
			 -ENOENT);
	assert_int_equal(strlen(err.msg), NSLAB_ERROR_MSG_MAX - 1);
	assert_int_equal(strspn(err.msg, "a"), NSLAB_ERROR_MSG_MAX - 1);

	/* a prefix keeps the outer context and cuts the inner end */
	(void)nslab_err_setx(&err, EINVAL, "%s", big);
	assert_int_equal(nslab_err_prefix(&err, -EINVAL, "outer"), -EINVAL);
	assert_int_equal(strlen(err.msg), NSLAB_ERROR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "outer: aaa", 10);

	/* a prefix longer than the buffer: cut, still terminated */
	(void)nslab_err_setx(&err, EINVAL, "inner");
	assert_int_equal(nslab_err_prefix(&err, -EINVAL, "%s", big), -EINVAL);
	assert_int_equal(strlen(err.msg), NSLAB_ERROR_MSG_MAX - 1);
	assert_int_equal(strspn(err.msg, "a"), NSLAB_ERROR_MSG_MAX - 1);
}

/* Success leaves err untouched: library calls that succeed keep the caller's error as it was. */
static void test_success_leaves_err_untouched(void **state)
{
	struct nslab_prefix p, sub;
	nslab_error err, before;

	(void)state;
	fill(&err);
	before = err;
	assert_int_equal(prefix_parse("10.0.0.0/8", true, &p, &err), 0);
	assert_int_equal(prefix_subnet(&p, 24, 3, &sub, &err), 0);
	assert_memory_equal(&err, &before, sizeof(err));
	/* and a failure of the same calls does write it */
	assert_int_equal(prefix_parse("10.0.0.0", true, &p, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "'10.0.0.0': missing prefix length");
}

/*
 * Library calls that fail through a prefix return the real code with err == NULL
 * (they used to return -EIO, the code being kept only in the error).
 */
static void test_null_err_keeps_ctl_code(void **state)
{
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	struct ctl_conn c = { .fd = -1 };
	nslab_error err = { 0 };
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	c.fd = sv[0];
	/* the "supervisor" answers with 4 bytes that are no message: recv_reply's prefix */
	for (int i = 0; i < 2; i++) {
		struct nlmsghdr *req = ctl_msg_start(buf, CTL_OP_STATUS, false, 0, 0);

		assert_int_equal(write(sv[1], "junk", 4), 4);
		assert_int_equal(ctl_call(&c, req, NULL, 0, NULL, i ? &err : NULL), -EPROTO);
	}
	assert_int_equal(err.code, EPROTO);
	assert_memory_equal(err.msg, "control request 'status': ", 26);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

static void test_null_err_keeps_outdir_code(void **state)
{
	char dir[] = "/tmp/nslab-test-error.XXXXXX", sub[sizeof(dir) + 16];
	nslab_lab *lab = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/events.jsonl", dir);
	assert_int_equal(mkdir(sub, 0700), 0); /* not a file: outdir_create refuses it */
	assert_int_equal(nslab_lab_new("t", &lab, NULL), 0);
	assert_int_equal(nslab_lab_set_outdir(lab, dir, NULL), -EEXIST);
	assert_int_equal(nslab_lab_set_outdir(lab, dir, &err), -EEXIST);
	assert_int_equal(err.code, EEXIST);
	assert_memory_equal(err.msg, "output directory '/tmp/nslab-test-error.", 40);
	(void)nslab_lab_free(lab);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A binding compares this with what it was written for (python/nslab/_lib.py). */
static void test_abi_version(void **state)
{
	(void)state;
	assert_int_equal(nslab_abi_version(), NSLAB_ABI_VERSION);
	assert_true(nslab_abi_version() >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_appends_strerror),
		cmocka_unit_test(test_set_unknown_code),
		cmocka_unit_test(test_setx_no_strerror),
		cmocka_unit_test(test_code_zero_or_negative_is_eio),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_prefix_chains),
		cmocka_unit_test(test_prefix_unset_error_takes_r),
		cmocka_unit_test(test_prefix_nonnegative_r),
		cmocka_unit_test(test_null_err_keeps_ctl_code),
		cmocka_unit_test(test_null_err_keeps_outdir_code),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_success_leaves_err_untouched),
		cmocka_unit_test(test_abi_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * httpd/confine: the text check of a request's path, and open_beneath() on a
 * real directory with a file, a link inside, links out and a ".." path: only
 * what stays beneath the directory opens; escapes are -EXDEV or -EINVAL.
 * And the other parsers of request text: Host, Origin, an event's seq.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static void test_path_text(void **state)
{
	static const char *const good[] = {
		".", "a", "a/b", "events.jsonl", "a/.b", "a..b", "..a"
	};
	static const char *const bad[] = { "",	     "/",   "/etc/passwd", "..",   "../a", "a/..",
					   "a/../b", "./a", "a/./b",	   "a//b", "a/",   "a\\b" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(http_path_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(http_path_ok(bad[i]));
}

static void test_host(void **state)
{
	char name[64];
	unsigned port = 0;

	(void)state;
	assert_true(http_split_host("127.0.0.1:7421", name, sizeof(name), &port));
	assert_string_equal(name, "127.0.0.1");
	assert_int_equal(port, 7421);
	assert_true(http_split_host("[::1]:80", name, sizeof(name), &port));
	assert_string_equal(name, "[::1]");
	assert_true(http_split_host("localhost", name, sizeof(name), &port));
	assert_int_equal(port, 80);
	assert_false(http_split_host("a: 80", name, sizeof(name), &port));
	assert_false(http_split_host("a:-1", name, sizeof(name), &port));
	assert_false(http_split_host("a:65536", name, sizeof(name), &port));
	assert_false(http_split_host("[::1", name, sizeof(name), &port));
	assert_false(http_split_host("[::1]x", name, sizeof(name), &port));
	assert_false(http_split_host(":80", name, sizeof(name), &port));
	assert_false(http_split_host("0123456789", name, 10, &port)); /* no room for the NUL */

	assert_true(http_origin_ok(NULL, "h:1"));
	assert_true(http_origin_ok("http://H:1", "h:1"));
	assert_false(http_origin_ok("https://h:1", "h:1"));
	assert_false(http_origin_ok("null", "h:1"));
	assert_false(http_origin_ok("http://h:1", NULL));
}

static void test_event_seq(void **state)
{
	static const char line[] = "{\"seq\":42,\"kind\":\"x\"}";

	(void)state;
	assert_int_equal(http_event_seq(line, strlen(line)), 42);
	assert_int_equal(http_event_seq(line, 8), 4); /* stops at the line's end */
	assert_int_equal(http_event_seq("{\"kind\":1}", 10), 0);
	assert_int_equal(http_event_seq("\"seq\":99999999999999999999999", 29), 0);
}

/* dir/{file, inside -> file, out -> /etc/hostname, up -> .., sub/{x}} */
static int make_tree(char *dir)
{
	char p[512];
	int fd;

	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/file", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "hello", 5) != 5)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/sub", dir);
	if (mkdir(p, 0700) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/inside", dir);
	if (symlink("file", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/out", dir);
	if (symlink("/etc/hostname", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/up", dir);
	return symlink("..", p);
}

static void test_open_beneath(void **state)
{
	char dir[] = "/tmp/nslab-test-confine.XXXXXX", cmd[600];
	nslab_error err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int root, fd;

	(void)state;
	assert_int_equal(make_tree(dir), 0);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);

	assert_int_equal(read_beneath(root, "file", 100, &text, &len, &err), 0);
	assert_string_equal(text, "hello");
	free(text);
	assert_int_equal(read_beneath(root, "inside", 100, &text, &len, &err),
			 0); /* stays inside */
	free(text);
	assert_int_equal(read_beneath(root, "file", 4, &text, &len, &err), -EFBIG);
	assert_int_equal(read_beneath(root, "sub", 100, &text, &len, &err), -EACCES);

	assert_int_equal(open_beneath(root, "out", O_RDONLY, &err), -EXDEV);
	assert_non_null(strstr(err.msg, "leads out"));
	assert_int_equal(open_beneath(root, "up/etc/hostname", O_RDONLY, &err), -EXDEV);
	assert_int_equal(open_beneath(root, "../etc/hostname", O_RDONLY, &err), -EINVAL);
	assert_int_equal(open_beneath(root, "/etc/hostname", O_RDONLY, &err), -EINVAL);
	assert_int_equal(open_beneath(root, "missing", O_RDONLY, &err), -ENOENT);
	fd = open_beneath(root, ".", O_RDONLY | O_DIRECTORY, &err);
	assert_true(fd >= 0);
	close(fd);

	close(root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_text),
		cmocka_unit_test(test_open_beneath),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_event_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

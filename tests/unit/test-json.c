/* SPDX-License-Identifier: MIT */
/* JSON writer: string escaping, UTF-8 validation, nesting, numbers; the event log's re-entry. */
#include "core/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/events.h"

/* The JSON text of the string s as a top-level value. Return: new string, free(). */
static char *quote(const char *s)
{
	struct jw w;
	char *text;

	jw_init(&w);
	jw_str(&w, NULL, s);
	assert_non_null(jw_get(&w));
	text = strdup(jw_get(&w));
	jw_free(&w);
	assert_non_null(text);
	return text;
}

#define assert_quotes(in, out)                          \
	do {                                            \
		char *_q = quote(in);                   \
		assert_string_equal(_q, "\"" out "\""); \
		free(_q);                               \
	} while (0)

static void test_escape_specials(void **state)
{
	(void)state;
	assert_quotes("", "");
	assert_quotes("plain text", "plain text");
	assert_quotes("say \"hi\"", "say \\\"hi\\\"");
	assert_quotes("C:\\path", "C:\\\\path");
	assert_quotes("/a/b", "/a/b"); /* '/' may stay unescaped */
}

static void test_escape_controls(void **state)
{
	(void)state;
	assert_quotes("a\nb\rc\td", "a\\nb\\rc\\td");
	assert_quotes("\x01\x08\x0c\x1b\x1f", "\\u0001\\u0008\\u000c\\u001b\\u001f");
	assert_quotes("del\x7f", "del\\u007f");
	assert_quotes(" ~", " ~"); /* 0x20 and 0x7e are printable */
}

static void test_utf8_valid_unchanged(void **state)
{
	static const char *const valid[] = {
		"caf\xc3\xa9",		       /* U+00E9 */
		"\xc2\x80",		       /* U+0080, smallest 2-byte */
		"\xdf\xbf",		       /* U+07FF */
		"\xe0\xa0\x80",		       /* U+0800, smallest 3-byte */
		"\xe2\x82\xac",		       /* U+20AC euro */
		"\xed\x9f\xbf",		       /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",		       /* U+E000, just above them */
		"\xef\xbf\xbd",		       /* U+FFFD itself */
		"\xef\xbf\xbf",		       /* U+FFFF */
		"\xf0\x90\x80\x80",	       /* U+10000, smallest 4-byte */
		"\xf0\x9f\x98\x80",	       /* U+1F600 */
		"\xf4\x8f\xbf\xbf",	       /* U+10FFFF, the largest */
		"\xe6\x97\xa5\xe6\x9c\xac ok", /* mixed with ASCII */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		char *q = quote(valid[i]);
		size_t n = strlen(valid[i]);

		assert_int_equal(strlen(q), n + 2);
		assert_memory_equal(q + 1, valid[i], n);
		free(q);
	}
}

static void test_utf8_invalid_replaced(void **state)
{
	(void)state;
	/* a stray continuation byte, and bytes that never occur in UTF-8 */
	assert_quotes("a\x80z", "a\\ufffdz");
	assert_quotes("\xbf", "\\ufffd");
	assert_quotes("\xfe\xff", "\\ufffd\\ufffd");
	assert_quotes("\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF lead */
	/* overlong forms: each byte is replaced */
	assert_quotes("\xc0\xaf", "\\ufffd\\ufffd"); /* '/' in 2 bytes */
	assert_quotes("\xc1\xbf", "\\ufffd\\ufffd");
	assert_quotes("\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd");		   /* '/' in 3 bytes */
	assert_quotes("\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd");		   /* U+07FF in 3 bytes */
	assert_quotes("\xf0\x8f\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd"); /* U+FFFF in 4 */
	assert_quotes("\xc0\x80", "\\ufffd\\ufffd"); /* "modified UTF-8" NUL */
	/* UTF-16 surrogates encoded as UTF-8 (CESU-8) */
	assert_quotes("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");
	assert_quotes("\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd");
	/* above U+10FFFF */
	assert_quotes("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
	/* truncated sequences, at the end and in the middle */
	assert_quotes("\xc3", "\\ufffd");
	assert_quotes("\xe2\x82", "\\ufffd\\ufffd");
	assert_quotes("\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd");
	assert_quotes("\xe2\x82x", "\\ufffd\\ufffdx");
	assert_quotes("\xc3\"", "\\ufffd\\\""); /* the quote is not swallowed */
	assert_quotes("\xf0\x9f\x98\n", "\\ufffd\\ufffd\\ufffd\\n");
	/* a valid sequence right after an invalid byte survives */
	assert_quotes("\xff\xc3\xa9", "\\ufffd\xc3\xa9");
}

static void test_keys_escaped(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "a\"b\xff", "v");
	jw_obj_close(&w);
	assert_string_equal(jw_get(&w), "{\"a\\\"b\\ufffd\":\"v\"}");
	jw_free(&w);
}

static void test_nesting(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "name", "x");
	jw_str(&w, "none", NULL);
	jw_arr_open(&w, "list");
	jw_int(&w, NULL, 1);
	jw_obj_open(&w, NULL);
	jw_bool(&w, "t", true);
	jw_bool(&w, "f", false);
	jw_obj_close(&w);
	jw_arr_open(&w, NULL);
	jw_arr_close(&w);
	jw_obj_open(&w, NULL);
	jw_obj_close(&w);
	jw_arr_close(&w);
	jw_raw(&w, "raw", "[1,2]");
	jw_obj_close(&w);
	assert_string_equal(
		jw_get(&w),
		"{\"name\":\"x\",\"none\":null,\"list\":[1,{\"t\":true,\"f\":false},[],{}],"
		"\"raw\":[1,2]}");

	/* reset keeps nothing of the old text or its commas */
	jw_reset(&w);
	assert_string_equal(jw_get(&w), "");
	jw_arr_open(&w, NULL);
	jw_str(&w, NULL, "a");
	jw_str(&w, NULL, "b");
	jw_arr_close(&w);
	assert_string_equal(jw_get(&w), "[\"a\",\"b\"]");
	jw_free(&w);
}

static void test_too_deep(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_arr_open(&w, NULL);
	assert_null(jw_get(&w)); /* made visible, never a buffer overrun */
	jw_free(&w);
}

static void test_numbers(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	jw_arr_open(&w, NULL);
	jw_int(&w, NULL, 0);
	jw_int(&w, NULL, -42);
	jw_int(&w, NULL, INT64_MIN);
	jw_int(&w, NULL, INT64_MAX);
	jw_uint(&w, NULL, UINT64_MAX);
	jw_double(&w, NULL, 1.5, 3);
	jw_double(&w, NULL, -0.25, 2);
	jw_double(&w, NULL, 1700000000.123456, 6);
	jw_double(&w, NULL, 2.0, 0);
	jw_arr_close(&w);
	assert_string_equal(jw_get(&w), "[0,-42,-9223372036854775808,9223372036854775807,"
					"18446744073709551615,1.500,-0.25,1700000000.123456,2]");
	jw_free(&w);
}

/* The event log: a callback that emits an event of its own must not corrupt the current one. */
struct seen {
	struct evlog *ev;
	int calls;
	char *texts[4];
};

static void on_event(const char *kind, const char *json, void *data)
{
	struct seen *s = data;
	struct jw *w;

	assert_true(s->calls < 4);
	s->texts[s->calls++] = strdup(json);
	if (strcmp(kind, "outer") != 0)
		return;
	w = evlog_begin(s->ev, "inner");
	jw_str(w, "from", "callback");
	evlog_end(s->ev);
	/* the outer event's text is still intact after the nested one */
	assert_non_null(strstr(json, "\"kind\":\"outer\""));
	assert_non_null(strstr(json, "\"x\":1}"));
}

static void test_evlog_reentry(void **state)
{
	struct seen s = { 0 };
	struct evlog ev;
	struct jw *w;

	(void)state;
	evlog_init(&ev);
	s.ev = &ev;
	ev.cb = on_event;
	ev.cb_data = &s;
	w = evlog_begin(&ev, "outer");
	jw_int(w, "x", 1);
	evlog_end(&ev);
	assert_int_equal(s.calls, 2);
	assert_non_null(strstr(s.texts[0], "{\"seq\":1,"));
	assert_non_null(strstr(s.texts[0], "\"kind\":\"outer\",\"x\":1}"));
	assert_non_null(strstr(s.texts[1], "{\"seq\":2,"));
	assert_non_null(strstr(s.texts[1], "\"kind\":\"inner\",\"from\":\"callback\"}"));

	/* and the writer still works for the next event */
	w = evlog_begin(&ev, "after");
	evlog_end(&ev);
	assert_int_equal(s.calls, 3);
	assert_non_null(strstr(s.texts[2], "{\"seq\":3,"));
	assert_non_null(strstr(s.texts[2], "\"kind\":\"after\"}"));
	for (int i = 0; i < s.calls; i++)
		free(s.texts[i]);
	evlog_close(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_utf8_valid_unchanged),
		cmocka_unit_test(test_utf8_invalid_replaced),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_evlog_reentry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

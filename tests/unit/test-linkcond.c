/* SPDX-License-Identifier: MIT */
/* Link conditions: values in netem's units, the YAML decoder with its errors, presets, words. */
#include "link/cond.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static int decode(const char *text, nslab_link_condition *ret, nslab_error *err)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct yctx c = { .file = "lab.yaml", .err = err };
	int r = yaml_read(&c, text, strlen(text), 0, &root);

	return r < 0 ? r : linkcond_decode(&c, root, NULL, ret);
}

static void test_values(void **state)
{
	uint64_t v = 0;
	uint32_t p = 0;

	(void)state;
	assert_int_equal(linkcond_parse_time("50ms", &v), 0);
	assert_int_equal(v, 50000000);
	assert_int_equal(linkcond_parse_time("1.5ms", &v), 0);
	assert_int_equal(v, 1500000);
	assert_int_equal(linkcond_parse_time("250us", &v), 0);
	assert_int_equal(v, 250000);
	assert_int_equal(linkcond_parse_time("2s", &v), 0);
	assert_int_equal(v, 2000000000);
	assert_int_equal(linkcond_parse_time("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(linkcond_parse_time("5", &v), -EINVAL); /* a unit is required */
	assert_int_equal(linkcond_parse_time("5 ms", &v), -EINVAL);
	assert_int_equal(linkcond_parse_time("0.5ns", &v), -EINVAL); /* finer than held */
	assert_int_equal(linkcond_parse_time("ms", &v), -EINVAL);
	assert_int_equal(linkcond_parse_time("1.", &v), -EINVAL);
	assert_int_equal(linkcond_parse_percent("0.1%", &p), 0);
	assert_int_equal(p, 1000000);
	assert_int_equal(linkcond_parse_percent("100%", &p), 0);
	assert_int_equal(p, NSLAB_LINK_PPB_ONE);
	assert_int_equal(linkcond_parse_percent("100.1%", &p), -ERANGE);
	assert_int_equal(linkcond_parse_percent("1", &p), -EINVAL);
	assert_int_equal(linkcond_parse_rate("5mbit", &v), 0);
	assert_int_equal(v, 5000000);
	assert_int_equal(linkcond_parse_rate("1.5Gbit", &v), 0);
	assert_int_equal(v, 1500000000);
	assert_int_equal(linkcond_parse_rate("2mbps", &v), 0);
	assert_int_equal(v, 16000000);
	assert_int_equal(linkcond_parse_rate("5", &v), -EINVAL);
	assert_int_equal(linkcond_parse_bytes("32kb", &v), 0);
	assert_int_equal(v, 32768);
	assert_int_equal(linkcond_parse_bytes("1500", &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(linkcond_parse_bytes("99999999999999999999", &v), -ERANGE);
}

static void test_format(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(linkcond_fmt_time(1500000, buf, sizeof(buf)), "1.5ms");
	assert_string_equal(linkcond_fmt_time(20000000, buf, sizeof(buf)), "20ms");
	assert_string_equal(linkcond_fmt_time(250000, buf, sizeof(buf)), "250us");
	assert_string_equal(linkcond_fmt_percent(1000000, buf, sizeof(buf)), "0.1%");
	assert_string_equal(linkcond_fmt_percent(NSLAB_LINK_PPB_ONE, buf, sizeof(buf)), "100%");
	assert_string_equal(linkcond_fmt_percent(50, buf, sizeof(buf)), "0.000005%");
	assert_string_equal(linkcond_fmt_rate(5000000, buf, sizeof(buf)), "5mbit");
	assert_string_equal(linkcond_fmt_rate(1500000000, buf, sizeof(buf)), "1.5gbit");
}

static void test_decode_map(void **state)
{
	nslab_link_condition c;
	nslab_error err = { 0 };
	char buf[256];

	(void)state;
	assert_int_equal(decode("{delay: 40ms, jitter: 10ms, loss: 1%, rate: 20mbit, "
				"up: {rate: 5mbit}, seed: 7}",
				&c, &err),
			 0);
	assert_int_equal(c.up.delay_ns, 40000000);
	assert_int_equal(c.down.delay_ns, 40000000);
	assert_int_equal(c.up.jitter_ns, 10000000);
	assert_int_equal(c.up.loss_model, NSLAB_LINK_LOSS_RANDOM);
	assert_int_equal(c.down.loss, 10000000);
	assert_int_equal(c.up.rate_bps, 5000000);
	assert_int_equal(c.down.rate_bps, 20000000);
	assert_true(c.has_seed);
	assert_int_equal(c.seed, 7);
	assert_string_equal(nslab_link_dir_format(&c.up, buf, sizeof(buf)),
			    "delay 40ms jitter 10ms distribution uniform loss 1% rate 5mbit");
	/* order does not matter: up: before the shared keys still overrides them */
	assert_int_equal(decode("{up: {delay: 1ms}, delay: 9ms}", &c, &err), 0);
	assert_int_equal(c.up.delay_ns, 1000000);
	assert_int_equal(c.down.delay_ns, 9000000);
}

static void test_decode_gilbert(void **state)
{
	nslab_link_condition c;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(decode("{loss: {gilbert: {p: 1%, r: 30%}}}", &c, &err), 0);
	assert_int_equal(c.up.loss_model, NSLAB_LINK_LOSS_GE);
	assert_int_equal(c.up.ge_p, 10000000);
	assert_int_equal(c.up.ge_r, 300000000);
	assert_int_equal(c.up.ge_1h, NSLAB_LINK_PPB_ONE); /* netem's defaults */
	assert_int_equal(c.up.ge_1k, 0);
	assert_int_equal(decode("{loss: {gilbert: {p: 2%}}}", &c, &err), 0);
	assert_int_equal(c.down.ge_r, NSLAB_LINK_PPB_ONE - 20000000);
	assert_int_equal(decode("{loss: {percent: 2%, correlation: 25%}, reorder: {percent: 5%, "
				"gap: 3}, delay: 10ms, limit: 50ms, burst: 16kb, mtu: 1400}",
				&c, &err),
			 0);
	assert_int_equal(c.up.loss_corr, 250000000);
	assert_int_equal(c.up.reorder, 50000000);
	assert_int_equal(c.up.gap, 3);
	assert_int_equal(c.up.limit_ns, 50000000);
	assert_int_equal(c.up.burst, 16384);
	assert_int_equal(c.up.mtu, 1400);
}

static void assert_error(const char *text, const char *msg);

/* duplicate and corrupt take netem's correlation; the text form says them back as netem's words */
static void test_duplicate_corrupt_corr(void **state)
{
	const char *w[] = { "delay", "5ms",	"duplicate", "1%",  "25%", "corrupt",
			    "0.5%",  "reorder", "10%",	     "50%", "gap", "3" };
	nslab_link_condition c, again;
	nslab_error err = { 0 };
	const char *words[16];
	char buf[256], copy[256];
	size_t n = 0;

	(void)state;
	assert_int_equal(decode("{duplicate: {percent: 2%, correlation: 30%}, corrupt: 1%, "
				"up: {corrupt: {percent: 3%, correlation: 60%}}}",
				&c, &err),
			 0);
	assert_int_equal(c.down.duplicate, 20000000);
	assert_int_equal(c.down.duplicate_corr, 300000000);
	assert_int_equal(c.down.corrupt, 10000000);
	assert_int_equal(c.down.corrupt_corr, 0);
	assert_int_equal(c.up.corrupt_corr, 600000000);
	assert_string_equal(nslab_link_dir_format(&c.up, buf, sizeof(buf)),
			    "duplicate 2% 30% corrupt 3% 60%");
	assert_int_equal(nslab_link_condition_parse(w, ARRAY_SIZE(w), &c, &err), 0);
	assert_int_equal(c.up.duplicate_corr, 250000000);
	assert_int_equal(c.up.corrupt, 5000000);
	assert_string_equal(nslab_link_dir_format(&c.up, buf, sizeof(buf)),
			    "delay 5ms reorder 10% 50% gap 3 duplicate 1% 25% corrupt 0.5%");
	/* the text form is words again: the same condition back */
	strcpy(copy, buf);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		words[n++] = t;
	assert_int_equal(nslab_link_condition_parse(words, n, &again, &err), 0);
	assert_memory_equal(&again.up, &c.up, sizeof(c.up));
	assert_error("{duplicate: {correlation: 5%}}", "duplicate: percent is required");
	assert_error("{corrupt: {percent: 5%, corr: 1%}}", "unknown key 'corr'");
}

static void assert_error(const char *text, const char *msg)
{
	nslab_link_condition c;
	nslab_error err = { 0 };

	assert_int_equal(decode(text, &c, &err), -EINVAL);
	if (!strstr(err.msg, msg))
		print_error("got: %s\n", err.msg);
	assert_non_null(strstr(err.msg, msg));
}

static void test_decode_errors(void **state)
{
	(void)state;
	assert_error("{delay: 5}", "lab.yaml:1:9: bad delay '5' (expected a time");
	assert_error("{delay: 10ms,\n loss: 2}",
		     "lab.yaml:2:8: bad loss '2' (expected a percentage");
	assert_error("{rate: fast}", "lab.yaml:1:8: bad rate 'fast'");
	assert_error("{dleay: 5ms}", "lab.yaml:1:2: unknown key 'dleay'");
	assert_error("{up: {seed: 1}}", "lab.yaml:1:7: unknown key 'seed'");
	assert_error("wifi-terrible", "lab.yaml:1:1: unknown link preset 'wifi-terrible'");
	assert_error("{reorder: 5%}", "reorder needs a delay");
	assert_error("{loss: {gilbert: {r: 5%}}}", "p (the good-to-bad probability) is required");
	assert_error("{loss: {percent: 1%, gilbert: {p: 1%}}}", "gilbert excludes percent");
	assert_error("{distribution: cauchy}", "bad distribution 'cauchy'");
	assert_error("{delay: 61s}", "at most 60s");
	assert_error("{trace: t.trace, rate: 1mbit}", "trace and rate exclude each other");
	assert_error("{limit: lots}", "bad limit 'lots'");
}

static void test_presets(void **state)
{
	nslab_link_condition c, m;
	nslab_error err = { 0 };
	const char *name, *text;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; nslab_link_preset_at(i, &name, &text); i++, n++) {
		if (nslab_link_preset(name, &c, &err) < 0)
			print_error("preset %s: %s\n", name, err.msg);
		assert_int_equal(err.code, 0);
		assert_false(nslab_link_dir_is_none(&c.up));
	}
	assert_true(n >= 13);
	assert_int_equal(nslab_link_preset("mobile", &m, &err), 0);
	assert_int_equal(nslab_link_preset("mobile-4g", &c, &err), 0);
	assert_memory_equal(&c, &m, sizeof(c));
	assert_int_equal(c.up.rate_bps, 10000000);
	assert_int_equal(c.down.rate_bps, 30000000);
	assert_int_equal(nslab_link_preset("nope", &c, &err), -ENOENT);
	/* preset plus overrides */
	assert_int_equal(decode("{preset: wifi, loss: 5%}", &c, &err), 0);
	assert_int_equal(c.up.delay_ns, 5000000);
	assert_int_equal(c.up.loss, 50000000);
}

static void test_user_presets(void **state)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	struct linkcond_named flaky = { .name = (char *)"flaky" };
	struct linkcond_user user = { &flaky, 1 };
	nslab_error err = { 0 };
	struct yctx c = { .file = "lab.yaml", .err = &err };
	const char *words[] = { "flaky", "delay", "5ms" };
	nslab_link_condition cond;
	enum nslab_link_which which;

	(void)state;
	assert_int_equal(decode("{delay: 30ms, loss: {gilbert: {p: 1%, r: 30%}}, seed: 7}",
				&flaky.cond, &err),
			 0);
	assert_int_equal(yaml_read(&c, "flaky", 5, 0, &root), 0);
	assert_int_equal(linkcond_decode(&c, root, &user, &cond), 0);
	assert_int_equal(cond.seed, 7);
	assert_int_equal(linkcond_from_words(words, 3, &user, &cond, &which, &err), 0);
	assert_int_equal(cond.up.delay_ns, 5000000);
	assert_int_equal(cond.up.loss_model, NSLAB_LINK_LOSS_GE);
}

static void test_words(void **state)
{
	const char *w1[] = { "delay", "50ms", "5ms", "25%", "loss", "2%", "rate", "5mbit" };
	const char *w2[] = { "loss", "gemodel", "1%", "30%", "70%", "up" };
	const char *w3[] = { "delay=10ms", "reorder", "5%", "50%", "down" };
	const char *w4[] = { "delay=50ms", "bogus", "1" };
	const char *w5[] = { "delay", "fifty" };
	nslab_link_condition c;
	enum nslab_link_which which;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(linkcond_from_words(w1, 8, NULL, &c, &which, &err), 0);
	assert_int_equal(which, NSLAB_LINK_BOTH);
	assert_int_equal(c.down.delay_ns, 50000000);
	assert_int_equal(c.down.jitter_ns, 5000000);
	assert_int_equal(c.down.delay_corr, 250000000);
	assert_int_equal(c.up.loss, 20000000);
	assert_int_equal(c.up.rate_bps, 5000000);
	assert_int_equal(linkcond_from_words(w2, 6, NULL, &c, &which, &err), 0);
	assert_int_equal(which, NSLAB_LINK_UP);
	assert_int_equal(c.up.ge_1h, 700000000);
	assert_true(nslab_link_dir_is_none(&c.down));
	assert_int_equal(linkcond_from_words(w3, 5, NULL, &c, &which, &err), 0);
	assert_int_equal(which, NSLAB_LINK_DOWN);
	assert_int_equal(c.down.reorder_corr, 500000000);
	assert_int_equal(linkcond_from_words(w4, 3, NULL, &c, &which, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unexpected 'bogus'"));
	assert_int_equal(linkcond_from_words(w5, 2, NULL, &c, &which, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad delay 'fifty'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_decode_map),
		cmocka_unit_test(test_decode_gilbert),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_user_presets),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_duplicate_corrupt_corr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

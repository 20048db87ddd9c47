/* SPDX-License-Identifier: MIT */
/* The wire engine's decisions: PRNG, loss models, jitter, rate, reorder, duplicate, trace. */
#include "link/engine.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define MS 1000000ull

static void test_xoshiro(void **state)
{
	/* the generator's published first outputs for the state {1, 2, 3, 4} */
	struct prng p = { { 1, 2, 3, 4 } };

	(void)state;
	assert_int_equal(prng_next(&p), 11520);
	assert_int_equal(prng_next(&p), 0);
	assert_int_equal(prng_next(&p), 1509978240);
	assert_int_equal(prng_next(&p), 1215971899390074240ull);
}

/* Within the 99% normal approximation of the binomial interval. */
static void assert_binomial(uint64_t k, uint64_t n, double p)
{
	double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));

	if (fabs((double)k - mean) > 2.576 * sd)
		print_error("%llu of %llu, expected %.1f +- %.1f\n", (unsigned long long)k,
			    (unsigned long long)n, mean, 2.576 * sd);
	assert_true(fabs((double)k - mean) <= 2.576 * sd);
}

static void test_loss_rate_and_determinism(void **state)
{
	nslab_link_dir cfg = { .loss_model = NSLAB_LINK_LOSS_RANDOM, .loss = 10000000 }; /* 1% */
	struct wire_dir a, b, c;
	struct wire_verdict va, vb, vc;
	unsigned same_as_other_seed = 0, lost = 0;

	(void)state;
	wire_dir_init(&a, &cfg, 42, NULL, 0);
	wire_dir_init(&b, &cfg, 42, NULL, 0);
	wire_dir_init(&c, &cfg, 43, NULL, 0);
	for (uint64_t i = 0; i < 100000; i++) {
		wire_decide(&a, i * 1000, 100, 100, &va);
		wire_decide(&b, i * 1000, 100, 100, &vb);
		wire_decide(&c, i * 1000, 100, 100, &vc);
		assert_int_equal(va.fate, vb.fate);
		lost += va.fate == WIRE_LOST;
		same_as_other_seed += va.fate == WIRE_LOST && vc.fate == WIRE_LOST;
	}
	assert_int_equal(a.stats.lost, lost);
	assert_binomial(lost, 100000, 0.01);
	assert_true(same_as_other_seed < lost / 2); /* another seed, other losses */
	assert_int_not_equal(wire_dir_seed(1, true), wire_dir_seed(1, false));
}

static void test_gilbert_elliott(void **state)
{
	/* p 1%, r 25%: bursts average 1/r = 4 frames, stationary loss p/(p+r) */
	nslab_link_dir cfg = { .loss_model = NSLAB_LINK_LOSS_GE,
			       .ge_p = 10000000,
			       .ge_r = 250000000,
			       .ge_1h = NSLAB_LINK_PPB_ONE };
	struct wire_dir d;
	struct wire_verdict v;
	uint64_t bursts = 0, lost = 0, run = 0, n = 400000;

	(void)state;
	wire_dir_init(&d, &cfg, 7, NULL, 0);
	for (uint64_t i = 0; i < n; i++) {
		wire_decide(&d, i, 100, 100, &v);
		if (v.fate == WIRE_LOST) {
			lost++;
			run++;
		} else if (run) {
			bursts++;
			run = 0;
		}
	}
	assert_true(fabs((double)lost / (double)bursts - 4.0) < 0.2);
	assert_true(fabs((double)lost / (double)n - 0.01 / 0.26) < 0.004);
}

static void jitter_stats(enum nslab_link_dist dist, uint32_t corr, double *mean, double *sd)
{
	nslab_link_dir cfg = {
		.delay_ns = 50 * MS, .jitter_ns = 5 * MS, .dist = dist, .delay_corr = corr
	};
	struct wire_dir d;
	struct wire_verdict v;
	double s = 0, s2 = 0;
	const unsigned n = 200000;

	wire_dir_init(&d, &cfg, 1, NULL, 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t now = (uint64_t)i * 1000 * MS; /* far apart: no FIFO clamp */
		double x;

		wire_decide(&d, now, 100, 100, &v);
		x = (double)(v.when_ns[0] - now) / MS;
		s += x;
		s2 += x * x;
	}
	*mean = s / n;
	*sd = sqrt(s2 / n - *mean * *mean);
}

static void test_jitter(void **state)
{
	double mean, sd;

	(void)state;
	jitter_stats(NSLAB_LINK_DIST_NORMAL, 0, &mean, &sd);
	assert_true(fabs(mean - 50) < 0.05 && fabs(sd - 5) < 0.05);
	jitter_stats(NSLAB_LINK_DIST_NORMAL, 500000000, &mean, &sd);
	assert_true(fabs(mean - 50) < 0.1 && fabs(sd - 5) < 0.1);
	/* heavy tails: the sample deviation converges slowly */
	jitter_stats(NSLAB_LINK_DIST_PARETONORMAL, 0, &mean, &sd);
	assert_true(fabs(mean - 50) < 0.1 && fabs(sd - 5) < 0.4);
	jitter_stats(NSLAB_LINK_DIST_PARETO, 0, &mean, &sd);
	assert_true(fabs(mean - 50) < 0.1 && fabs(sd - 5) < 0.5);
	/* uniform: +-5 ms, so a deviation of 5/sqrt(3) */
	jitter_stats(NSLAB_LINK_DIST_UNIFORM, 0, &mean, &sd);
	assert_true(fabs(mean - 50) < 0.05 && fabs(sd - 5 / sqrt(3)) < 0.05);
}

static void test_jitter_keeps_order(void **state)
{
	nslab_link_dir cfg = { .delay_ns = 10 * MS, .jitter_ns = 5 * MS };
	struct wire_dir d;
	struct wire_verdict v;
	uint64_t last = 0;

	(void)state;
	wire_dir_init(&d, &cfg, 3, NULL, 0);
	for (uint64_t i = 0; i < 10000; i++) {
		wire_decide(&d, i * 100000, 100, 100, &v);
		assert_true(v.when_ns[0] >= last);
		last = v.when_ns[0];
	}
}

static void test_rate_and_limit(void **state)
{
	/* 10 mbit: a 1250-byte frame takes 1 ms; burst of one frame; limit 10 ms */
	nslab_link_dir cfg = { .rate_bps = 10000000, .burst = 1250, .limit_ns = 10 * MS };
	struct wire_dir d;
	struct wire_verdict v;
	unsigned sent = 0;

	(void)state;
	wire_dir_init(&d, &cfg, 1, NULL, 0);
	for (unsigned i = 0; i < 100; i++) {
		wire_decide(&d, 100 * MS, 1250, 1250, &v); /* a burst at once */
		if (v.fate == WIRE_SEND) {
			assert_int_equal(v.when_ns[0], 100 * MS + sent * MS);
			sent++;
		} else {
			assert_int_equal(v.fate, WIRE_OVERFLOW);
		}
	}
	assert_int_equal(sent, 11); /* one at line speed, ten queued */
	assert_int_equal(d.stats.overflow, 89);
	/* a steady stream at the rate is never dropped, and leaves at the rate */
	wire_dir_init(&d, &cfg, 1, NULL, 0);
	for (unsigned i = 0; i < 1000; i++) {
		wire_decide(&d, 1000 * MS + i * MS, 1250, 1250, &v);
		assert_int_equal(v.fate, WIRE_SEND);
	}
}

/*
 * No burst set: one frame of credit, the frame's own. At 10 mbit a 12 500-byte
 * super-frame takes 10 ms: on an idle link it leaves at once (its segments
 * would have been on the wire during the idle time), the next one queued
 * behind it takes its whole 10 ms; after a gap of 4 ms only 4 ms are made up;
 * and a busy link never gets ahead: 100 frames back to back leave at the
 * rate, the first one's credit being the only excess.
 */
static void test_rate_default_burst(void **state)
{
	nslab_link_dir cfg = { .rate_bps = 10000000 };
	struct wire_dir d;
	struct wire_verdict v;

	(void)state;
	wire_dir_init(&d, &cfg, 1, NULL, 0);
	wire_decide(&d, 100 * MS, 12500, 1514, &v);
	assert_int_equal(v.when_ns[0], 100 * MS);
	wire_decide(&d, 100 * MS, 12500, 1514, &v);
	assert_int_equal(v.when_ns[0], 110 * MS);
	/* idle from 110 to 114 ms: the next frame ends 6 ms after it came, not 10 */
	wire_decide(&d, 114 * MS, 12500, 1514, &v);
	assert_int_equal(v.when_ns[0], 120 * MS);
	for (unsigned i = 0; i < 100; i++) {
		wire_decide(&d, 120 * MS, 12500, 1514, &v);
		assert_int_equal(v.when_ns[0], 130 * MS + i * 10 * MS);
	}
	/* small frames' credit is one full frame (1514 bytes, 1.2112 ms), as before */
	wire_dir_init(&d, &cfg, 1, NULL, 0);
	wire_decide(&d, 100 * MS, 100, 100, &v);
	assert_int_equal(v.when_ns[0], 100 * MS);
	wire_decide(&d, 100 * MS, 1250, 1250, &v);
	assert_int_equal(v.when_ns[0], 100 * MS);
	wire_decide(&d, 100 * MS, 1250, 1250, &v);
	assert_int_equal(v.when_ns[0], 100 * MS - 1211200 + 80000 + 2 * MS);
}

static void test_reorder_duplicate_corrupt_mtu(void **state)
{
	nslab_link_dir cfg = { .delay_ns = 10 * MS,
			       .reorder = 250000000,
			       .duplicate = 50000000,
			       .corrupt = 20000000,
			       .mtu = 1000 };
	struct wire_dir d;
	struct wire_verdict v;
	const uint64_t n = 100000;

	(void)state;
	wire_dir_init(&d, &cfg, 9, NULL, 0);
	for (uint64_t i = 0; i < n; i++) {
		wire_decide(&d, i * MS, 500, 500, &v);
		assert_int_equal(v.fate, WIRE_SEND);
		if (v.corrupt)
			assert_true(v.corrupt_bit < (500 - 14) * 8);
	}
	assert_binomial(d.stats.reordered, n, 0.25);
	assert_binomial(d.stats.duplicated, n, 0.05);
	assert_binomial(d.stats.corrupted, n, 0.02);
	wire_decide(&d, n * MS, 1015, 1015, &v);
	assert_int_equal(v.fate, WIRE_TOO_BIG);
	/* gap 5, reorder 100%: every fifth frame goes ahead */
	cfg = (nslab_link_dir){ .delay_ns = 10 * MS, .reorder = NSLAB_LINK_PPB_ONE, .gap = 5 };
	wire_dir_init(&d, &cfg, 9, NULL, 0);
	for (uint64_t i = 1; i <= 20; i++) {
		wire_decide(&d, i * MS, 100, 100, &v);
		assert_int_equal(v.when_ns[0] == i * MS, i % 5 == 0);
	}
}

/*
 * netem's duplicate, corrupt and reorder, transcribed from sch_netem.c's
 * netem_enqueue() (get_crandom(): a fresh draw when there is no correlation,
 * else the weighted mean with the previous value; tc turns gap 0 into 1), over
 * the engine's own draws: a seed's prng, nine draws a frame in the engine's order.
 */
struct netem_ref {
	struct prng rng;
	uint32_t dup_last, corrupt_last, reorder_last, counter;
};

static uint32_t ref_crandom(uint32_t v, uint32_t *last, uint32_t rho)
{
	uint64_t one = NSLAB_LINK_PPB_ONE;

	if (!rho)
		return v;
	*last = (uint32_t)(((one - rho) * v + (uint64_t)rho * *last) / one);
	return *last;
}

static bool ref_below(uint32_t v, uint32_t ppb)
{
	return (uint64_t)v * NSLAB_LINK_PPB_ONE < (uint64_t)ppb << 32;
}

/* One frame: bit 0 duplicated, bit 1 corrupted, bit 2 sent ahead. */
static unsigned ref_frame(struct netem_ref *q, const nslab_link_dir *c)
{
	uint32_t r[6];
	unsigned out = 0;
	uint32_t gap = c->gap ? c->gap : 1;

	for (int i = 0; i < 6; i++)
		r[i] = prng_u32(&q->rng);
	for (int i = 0; i < 3; i++)
		(void)prng_unit(&q->rng);
	if (c->duplicate &&
	    ref_below(ref_crandom(r[2], &q->dup_last, c->duplicate_corr), c->duplicate))
		out |= 1;
	if (c->corrupt &&
	    ref_below(ref_crandom(r[3], &q->corrupt_last, c->corrupt_corr), c->corrupt))
		out |= 2;
	/* if (gap == 0 || counter < gap - 1 || reorder < get_crandom()): delay, counter++ */
	if (!c->reorder || q->counter < gap - 1 ||
	    !ref_below(ref_crandom(r[4], &q->reorder_last, c->reorder_corr), c->reorder)) {
		q->counter++;
	} else {
		q->counter = 0;
		out |= 4;
	}
	return out;
}

static void check_against_netem(const nslab_link_dir *cfg, uint64_t seed)
{
	struct netem_ref q = { 0 };
	struct wire_dir d;
	struct wire_verdict v;

	prng_seed(&q.rng, seed);
	wire_dir_init(&d, cfg, seed, NULL, 0);
	for (uint64_t i = 1; i <= 100000; i++) {
		unsigned want = ref_frame(&q, cfg), got;

		wire_decide(&d, i * MS, 500, 500, &v);
		got = (v.copies == 2) | (unsigned)v.corrupt << 1 | (unsigned)v.reordered << 2;
		if (got != want)
			print_error("frame %llu: engine %u, netem %u\n", (unsigned long long)i, got,
				    want);
		assert_int_equal(got, want);
	}
}

/* The same frames as netem would pick, with and without correlation, gap or not. */
static void test_netem_semantics(void **state)
{
	nslab_link_dir a = { .delay_ns = 10 * MS,
			     .duplicate = 100000000,
			     .duplicate_corr = 750000000,
			     .corrupt = 50000000,
			     .corrupt_corr = 250000000,
			     .reorder = 300000000,
			     .reorder_corr = 500000000,
			     .gap = 4 };
	nslab_link_dir b = { .delay_ns = 10 * MS, .duplicate = 200000000, .reorder = 250000000 };
	(void)state;

	check_against_netem(&a, 1);
	check_against_netem(&a, 77);
	check_against_netem(&b, 5);
}

/* P(event | previous frame had it) over P(event | it had not), and the rate. */
static void run_lengths(const nslab_link_dir *cfg, bool corrupt, double *ret_ratio,
			double *ret_rate)
{
	struct wire_dir d;
	struct wire_verdict v;
	uint64_t after_yes = 0, yes_after_yes = 0, after_no = 0, yes_after_no = 0, n = 200000;
	bool prev = false;

	wire_dir_init(&d, cfg, 3, NULL, 0);
	for (uint64_t i = 1; i <= n; i++) {
		bool now;

		wire_decide(&d, i * MS, 500, 500, &v);
		now = corrupt ? v.corrupt : v.copies == 2;
		after_yes += prev;
		yes_after_yes += prev && now;
		after_no += !prev;
		yes_after_no += !prev && now;
		prev = now;
	}
	*ret_ratio = ((double)yes_after_yes / (double)after_yes) /
		     ((double)yes_after_no / (double)after_no);
	*ret_rate = (double)(corrupt ? d.stats.corrupted : d.stats.duplicated) / (double)n;
}

/*
 * Correlation as netem has it: successive duplicates (corruptions) cluster,
 * and, netem's known quirk, a weighted mean of draws is rarely extreme, so
 * the rate falls below the one set. Without correlation: independent, at the rate.
 */
static void test_duplicate_corrupt_correlation(void **state)
{
	nslab_link_dir plain = { .duplicate = 200000000, .corrupt = 200000000 };
	nslab_link_dir corr = plain;
	double ratio, rate;
	(void)state;

	run_lengths(&plain, false, &ratio, &rate);
	assert_true(ratio > 0.9 && ratio < 1.1);
	assert_binomial((uint64_t)(rate * 200000), 200000, 0.2);
	run_lengths(&plain, true, &ratio, &rate);
	assert_true(ratio > 0.9 && ratio < 1.1);
	corr.duplicate_corr = corr.corrupt_corr = 750000000;
	run_lengths(&corr, false, &ratio, &rate);
	if (ratio < 3 || rate >= 0.2)
		print_error("duplicate 20%% 75%%: ratio %.2f, rate %.4f\n", ratio, rate);
	assert_true(ratio >= 3);
	assert_true(rate < 0.2);
	run_lengths(&corr, true, &ratio, &rate);
	assert_true(ratio >= 3);
	assert_true(rate < 0.2);
}

static void test_trace(void **state)
{
	const char *text = "1\n1\n\n3\n";
	struct wire_trace t;
	struct wire_dir d;
	struct wire_verdict v;
	nslab_link_condition cfg = { 0 };
	nslab_error err = { 0 };
	const uint64_t expect[] = { 1, 1, 3, 4, 4, 6, 7, 7 };

	(void)state;
	assert_int_equal(wire_trace_parse("t", text, strlen(text), &t, &err), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.period_ms, 3);
	strcpy(cfg.up.trace, "t");
	wire_dir_init(&d, &cfg.up, 1, &t, 0);
	for (unsigned i = 0; i < 8; i++) {
		wire_decide(&d, 0, 1500, 1500, &v);
		assert_int_equal(v.when_ns[0], expect[i] * MS);
	}
	/* a 3000-byte frame needs two opportunities; past ones are wasted */
	wire_decide(&d, 30 * MS, 3000, 3000, &v);
	assert_int_equal(v.when_ns[0], 31 * MS);
	wire_dir_clear(&d);
	assert_int_equal(wire_trace_parse("t", "1\n0\n", 4, &t, &err), -EINVAL);
	assert_string_equal(err.msg, "t:2: 0 ms comes before 1 ms on the line above (times must "
				     "not decrease)");
	assert_int_equal(wire_trace_parse("t", "1\nx\n", 4, &t, &err), -EINVAL);
	assert_string_equal(err.msg, "t:2: expected a whole number of milliseconds");
	assert_int_equal(wire_trace_parse("t", "0\n", 2, &t, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xoshiro),
		cmocka_unit_test(test_loss_rate_and_determinism),
		cmocka_unit_test(test_gilbert_elliott),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_jitter_keeps_order),
		cmocka_unit_test(test_rate_and_limit),
		cmocka_unit_test(test_rate_default_burst),
		cmocka_unit_test(test_reorder_duplicate_corrupt_mtu),
		cmocka_unit_test(test_netem_semantics),
		cmocka_unit_test(test_duplicate_corrupt_correlation),
		cmocka_unit_test(test_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

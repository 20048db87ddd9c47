/* SPDX-License-Identifier: MIT */
/* fwtest/api: the public nslab_fwtest_* calls over the suite model and the runner. */
#include "nslab/fwtest.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/yaml.h"
#include "fwtest/api.h"
#include "fwtest/jobs.h"
#include "nl/nftables.h"

#define RULES_SIZE_MAX (16u << 20)

int fw_read_text(const char *path, char **ret, nslab_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = yaml_read_file(path, RULES_SIZE_MAX, &buf, &len, err);

	if (r < 0)
		return r;
	if (!buf && !(buf = strdup("")))
		return nslab_err_set(err, ENOMEM, "read '%s'", path);
	if (strlen(buf) != len)
		return nslab_err_setx(err, EINVAL, "'%s': a NUL byte in a text file", path);
	*ret = TAKE_PTR(buf);
	return 0;
}

static int refuse_include(const char *path, const char *text, unsigned flags, nslab_error *err)
{
	unsigned line, col;

	if (!(flags & NSLAB_FWTEST_ALLOW_INCLUDE) && nftbl_find_include(text, &line, &col))
		return nslab_err_setx(
			err, EPERM,
			"%s:%u:%u: include is refused: rules load with privileges and "
			"could read any file (--allow-include to permit it)",
			path, line, col);
	return 0;
}

int nslab_fwtest_from_file(const char *path, unsigned flags, nslab_fwtest **ret, nslab_error *err)
{
	nslab_fwtest *ft = calloc(1, sizeof(*ft));
	int r;

	if (!ft)
		return nslab_err_set(err, ENOMEM, "allocate a test suite");
	ft->flags = flags;
	r = fw_suite_parse(path,
			   (flags & NSLAB_FWTEST_ALLOW_INCLUDE ? FW_SUITE_ALLOW_INCLUDE : 0) |
				   (flags & NSLAB_FWTEST_RULES_LATER ? FW_SUITE_RULES_LATER : 0),
			   &ft->suite, err);
	if (r < 0) {
		free(ft);
		return r;
	}
	*ret = ft;
	return 0;
}

const char *nslab_fwtest_warnings(const nslab_fwtest *ft)
{
	return ft->suite->warnings ? ft->suite->warnings : "";
}

int nslab_fwtest_set_rules_file(nslab_fwtest *ft, const char *path, nslab_error *err)
{
	char *text = NULL;
	int r = fw_read_text(path, &text, err);

	if (r >= 0)
		r = refuse_include(path, text, ft->flags, err);
	if (r < 0) {
		free(text);
		return r;
	}
	free(ft->suite->rules);
	free(ft->suite->rules_file);
	ft->suite->rules = text;
	ft->suite->rules_file = strdup(path);
	ft->suite->rules_loc = (struct fw_loc){ 1, 1 };
	if (!ft->suite->rules_file)
		return nslab_err_set(err, ENOMEM, "rules file name");
	return 0;
}

nslab_fwtest *nslab_fwtest_free(nslab_fwtest *ft)
{
	if (!ft)
		return NULL;
	for (size_t i = 0; i < ft->n_results; i++)
		fw_result_clear(&ft->results[i]);
	free(ft->results);
	free(ft->unselected);
	fw_runner_free(ft->runner);
	fw_suite_free(ft->suite);
	free(ft);
	return NULL;
}

int nslab_fwtest_set_order(nslab_fwtest *ft, enum nslab_fwtest_order order, unsigned long long seed,
			   nslab_error *err)
{
	if (ft->results)
		return nslab_err_setx(err, EALREADY, "the suite has run already");
	switch (order) {
	case NSLAB_FWTEST_ORDER_SUITE:
	case NSLAB_FWTEST_ORDER_REVERSE:
	case NSLAB_FWTEST_ORDER_SHUFFLE:
		ft->order = order;
		ft->seed = seed;
		return 0;
	}
	return nslab_err_setx(err, EINVAL, "unknown test order %d", (int)order);
}

/* splitmix64: the same sequence on every platform, unlike rand() */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* The order tests run in: indexes into the suite (malloc'd). */
static size_t *run_order(const nslab_fwtest *ft, size_t n)
{
	size_t *o = calloc(n ? n : 1, sizeof(*o));
	uint64_t state = ft->seed;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = ft->order == NSLAB_FWTEST_ORDER_REVERSE ? n - 1 - i : i;
	/* Fisher-Yates; the modulo's bias is nothing next to 2^64 */
	for (size_t i = n; ft->order == NSLAB_FWTEST_ORDER_SHUFFLE && i > 1; i--) {
		size_t j = (size_t)(next_random(&state) % i), t = o[i - 1];

		o[i - 1] = o[j];
		o[j] = t;
	}
	return o;
}

/* The order without the tests nslab_fwtest_select() left out; returns how many remain. */
static size_t selected_only(const nslab_fwtest *ft, size_t *order, size_t n)
{
	size_t m = 0;

	for (size_t k = 0; k < n; k++)
		if (!ft->unselected || !ft->unselected[order[k]])
			order[m++] = order[k];
	return m;
}

/* Tests against a lab share its nodes, and nslab trace keeps one runner's events: one job. */
static unsigned jobs_for(const nslab_fwtest *ft, const size_t *order, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct fw_test *t = &ft->suite->tests[order[k]];

		if ((t->has_topology ? t->topology : ft->suite->topology) == FW_TOPO_LAB)
			return 1;
	}
	if (ft->keep_events)
		return 1;
	return ft->jobs ? ft->jobs : fw_jobs_auto(n);
}

int nslab_fwtest_run(nslab_fwtest *ft, nslab_fwtest_cb cb, void *data, nslab_error *err)
{
	size_t n = ft->suite->n_tests;
	_cleanup_free_ size_t *order = NULL;
	int r;

	if (ft->results)
		return nslab_err_setx(err, EALREADY, "the suite has run already");
	for (size_t i = 0; !ft->suite->rules && i < n; i++) /* NSLAB_FWTEST_RULES_LATER */
		if (!ft->suite->tests[i].rules)
			return nslab_err_setx(err, EINVAL, "%s: test '%s' has no rules",
					      ft->suite->path, ft->suite->tests[i].name);
	order = run_order(ft, n);
	ft->results = calloc(n ? n : 1, sizeof(*ft->results));
	if (!ft->results || !order)
		return nslab_err_set(err, ENOMEM, "results");
	for (size_t i = 0; i < n; i++)
		ft->results[i].status = FW_STATUS_SKIPPED;
	ft->n_results = n;
	ft->started = time(NULL);
	r = fw_runner_new(ft->suite, &ft->runner, err);
	if (r >= 0) {
		ft->runner->keep_events = ft->keep_events;
		r = fw_runner_check_rules(ft->runner, err);
	}
	if (r < 0)
		return r;
	n = selected_only(ft, order, n);
	ft->jobs_used = jobs_for(ft, order, n);
	if (ft->jobs_used > n)
		ft->jobs_used = n ? (unsigned)n : 1;
	return fw_jobs_run(ft, order, n, ft->jobs_used, cb, data, err);
}

int nslab_fwtest_set_jobs(nslab_fwtest *ft, unsigned jobs, nslab_error *err)
{
	if (ft->results)
		return nslab_err_setx(err, EALREADY, "the suite has run already");
	if (jobs > NSLAB_FWTEST_JOBS_MAX)
		return nslab_err_setx(err, EINVAL, "%u jobs: at most %u", jobs,
				      NSLAB_FWTEST_JOBS_MAX);
	ft->jobs = jobs;
	return 0;
}

int nslab_fwtest_select(nslab_fwtest *ft, const char *pattern, nslab_error *err)
{
	size_t n = ft->suite->n_tests;
	int chosen = 0;

	if (ft->results)
		return nslab_err_setx(err, EALREADY, "the suite has run already");
	if (!ft->unselected && !(ft->unselected = calloc(n ? n : 1, sizeof(bool))))
		return nslab_err_set(err, ENOMEM, "select tests");
	for (size_t i = 0; i < n; i++) {
		ft->unselected[i] = ft->unselected[i] || !strstr(ft->suite->tests[i].name, pattern);
		chosen += !ft->unselected[i];
	}
	if (!chosen)
		return nslab_err_setx(err, ENOENT, "%s: no test name contains '%s'",
				      ft->suite->path, pattern);
	return chosen;
}

size_t nslab_fwtest_count(const nslab_fwtest *ft)
{
	return ft->suite->n_tests;
}

const char *nslab_fwtest_name(const nslab_fwtest *ft, size_t i)
{
	return i < ft->suite->n_tests ? ft->suite->tests[i].name : NULL;
}

enum nslab_fwtest_status nslab_fwtest_status(const nslab_fwtest *ft, size_t i)
{
	if (i >= ft->n_results || ft->results[i].status == FW_STATUS_SKIPPED)
		return NSLAB_FWTEST_NOT_RUN;
	return (enum nslab_fwtest_status)ft->results[i].status;
}

double nslab_fwtest_ms(const nslab_fwtest *ft, size_t i)
{
	return i < ft->n_results ? ft->results[i].ms : 0.0;
}

const char *nslab_fwtest_log(const nslab_fwtest *ft, size_t i)
{
	return i < ft->n_results && ft->results[i].log ? ft->results[i].log : "";
}

size_t nslab_fwtest_packet_count(const nslab_fwtest *ft, size_t i)
{
	return i < ft->n_results ? ft->results[i].n_tracks : 0;
}

const char *nslab_fwtest_packet_desc(const nslab_fwtest *ft, size_t i, size_t k)
{
	if (k >= nslab_fwtest_packet_count(ft, i))
		return NULL;
	return ft->results[i].tracks[k].desc;
}

const char *nslab_fwtest_packet_verdict(const nslab_fwtest *ft, size_t i, size_t k)
{
	if (k >= nslab_fwtest_packet_count(ft, i))
		return NULL;
	return ft->results[i].tracks[k].decided
		       ? fw_verdict_name(ft->results[i].tracks[k].dec.verdict)
		       : "none";
}

const char *nslab_fwtest_packet_trace(const nslab_fwtest *ft, size_t i, size_t k)
{
	if (k >= nslab_fwtest_packet_count(ft, i))
		return NULL;
	return ft->results[i].tracks[k].dec.path;
}

int nslab_fwtest_check_rules(const char *path, unsigned flags, nslab_error *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(fw_topo_freep) struct fw_topo *topo = NULL;
	nslab_error nerr = { 0 };
	unsigned line, col;
	int off = 0, r = fw_read_text(path, &text, err);

	if (r >= 0)
		r = refuse_include(path, text, flags, err);
	if (r >= 0)
		r = fw_topo_new(FW_TOPO_DIRECT, NULL, NULL, &topo, err);
	if (r < 0)
		return r;
	if (fw_io_nft_load(&topo->nodes[topo->rules_node], NULL, NULL, text, false, &nerr) >= 0)
		return 0;
	if (sscanf(nerr.msg, "%u:%u: %n", &line, &col, &off) == 2 && off > 0)
		return nslab_err_setx(err, EINVAL, "%s:%u:%u: %s", path, line, col, nerr.msg + off);
	return nslab_err_setx(err, EINVAL, "%s: %s", path, nerr.msg);
}

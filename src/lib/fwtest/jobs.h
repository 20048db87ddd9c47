/* SPDX-License-Identifier: MIT */
/*
 * fwtest/jobs: running a suite's tests on several runners at once.
 *
 * DOC: jobs
 * Every test starts from the same kernel state whatever ran before it, so
 * tests need not share a topology: job j runs in a topology of its own (its
 * namespaces, ruleset copy, conntrack table, trace), on a thread of its own,
 * and takes the next test of the run order when it is free. A test's packets
 * get the same tags and source ports whichever job runs it, results keep the
 * suite's indexes, the callback sees the tests in the run order, and the
 * coverage of every job adds up in the suite runner's. Tests against a lab
 * share that lab's nodes: they run one at a time.
 */
#pragma once

#include <stddef.h>

#include "fwtest/api.h"

/* The jobs worth it for n tests here: the CPUs we may run on, at most 4, one per 64 tests. */
unsigned fw_jobs_auto(size_t n_tests);

/*
 * fw_jobs_run() - Run the tests order[0..n-1] on n_jobs runners
 * ft->runner (rulesets checked) is job 0 and runs on the caller's thread,
 * which alone calls cb. Return: 0, or the first job's -errno when an
 * environment failed (the tests not run stay skipped).
 */
int fw_jobs_run(struct nslab_fwtest *ft, const size_t *order, size_t n, unsigned n_jobs,
		nslab_fwtest_cb cb, void *data, nslab_error *err);

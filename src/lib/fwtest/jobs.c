/* SPDX-License-Identifier: MIT */
/*
 * fwtest/jobs: a suite's tests run by several runners at once, each in a
 * topology of its own (see jobs.h).
 *
 * The caller's thread is job 0 with the suite's runner (the one that loaded
 * every ruleset first); jobs 1..n-1 are threads with runners of their own.
 * Each takes the next test of the run order, so the jobs share the work
 * whatever each test costs. The callback is called on the caller's thread
 * only, in the run order, as soon as the tests before it are done too.
 */
#include "fwtest/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define AUTO_JOBS_MAX	   4u  /* more topologies than that buy little on a few cores */
#define AUTO_TESTS_PER_JOB 64u /* a topology costs about what that many tests cost */

struct job;

struct jobs {
	struct nslab_fwtest *ft;
	const size_t *order; /* the tests to run, in the run order */
	size_t n;
	uint64_t *seq, *ports; /* per position: packets and ports of the tests before it */
	atomic_size_t next;    /* the next position a job takes */
	atomic_bool stop;      /* a job failed: the others take nothing more */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool *done;	  /* per position, under mu */
	size_t reported;  /* positions whose callback ran (job 0 only) */
	size_t running;	  /* threads not finished, under mu */
	int r;		  /* the first failure, under mu */
	nslab_error err;  /* its message */
	struct job *jobs; /* 1..n_jobs-1: the threads */
	size_t n_jobs;
};

struct job {
	struct jobs *js;
	struct fw_runner *runner;
	pthread_t tid;
	bool started;
};

unsigned fw_jobs_auto(size_t n_tests)
{
	cpu_set_t cpus;
	unsigned n = 1, by_tests = (unsigned)(n_tests / AUTO_TESTS_PER_JOB);

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		n = (unsigned)CPU_COUNT(&cpus);
	if (n > AUTO_JOBS_MAX)
		n = AUTO_JOBS_MAX;
	if (n > by_tests)
		n = by_tests;
	return n ? n : 1;
}

/* Packets a test crafts, and how many of them take a source port of ours. */
static void test_numbers(const struct fw_test *t, uint64_t *seq, uint64_t *ports)
{
	for (size_t i = 0; i < t->n_packets; i++) {
		*seq += t->packets[i].count;
		if (t->packets[i].sport < 0)
			*ports += t->packets[i].count;
	}
}

static int number_positions(struct jobs *js, nslab_error *err)
{
	uint64_t seq = 0, ports = 0;

	js->seq = calloc(js->n + 1, sizeof(*js->seq));
	js->ports = calloc(js->n + 1, sizeof(*js->ports));
	js->done = calloc(js->n + 1, sizeof(*js->done));
	if (!js->seq || !js->ports || !js->done)
		return nslab_err_set(err, ENOMEM, "test numbering");
	for (size_t k = 0; k < js->n; k++) {
		js->seq[k] = seq;
		js->ports[k] = ports;
		test_numbers(&js->ft->suite->tests[js->order[k]], &seq, &ports);
	}
	return 0;
}

/* Run the test at position k on runner r; on failure, stop every job. */
static void run_position(struct jobs *js, struct fw_runner *r, size_t k)
{
	size_t i = js->order[k];
	nslab_error e = { 0 };
	int res;

	fw_runner_number_from(r, js->seq[k], js->ports[k], k);
	res = fw_runner_run_test(r, i, &js->ft->results[i], &e);
	pthread_mutex_lock(&js->mu);
	if (res < 0 && js->r >= 0) {
		js->r = res;
		js->err = e;
		atomic_store(&js->stop, true);
	}
	js->done[k] = res >= 0;
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);
}

/* The next position for a job, or n when there is none (or the run stopped). */
static size_t take_position(struct jobs *js)
{
	size_t k;

	if (atomic_load(&js->stop))
		return js->n;
	k = atomic_fetch_add(&js->next, 1);
	return k < js->n ? k : js->n;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct jobs *js = j->js;

	for (size_t k = take_position(js); k < js->n; k = take_position(js))
		run_position(js, j->runner, k);
	pthread_mutex_lock(&js->mu);
	js->running--;
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);
	return NULL;
}

/*
 * Callbacks of the positions done, in order, from the first one not reported
 * yet (reported is job 0's alone; done[] is read under the lock).
 */
static void report_done(struct jobs *js, nslab_fwtest_cb cb, void *data)
{
	for (;;) {
		size_t k = js->reported;
		bool ready;

		pthread_mutex_lock(&js->mu);
		ready = k < js->n && js->done[k];
		pthread_mutex_unlock(&js->mu);
		if (!ready)
			return;
		js->reported = k + 1;
		if (cb)
			cb(js->ft, js->order[k], data);
	}
}

/* Threads for jobs 1..n-1, every signal blocked in them (the caller's handlers stay its own). */
static int start_jobs(struct jobs *js, const struct fw_runner *model, nslab_error *err)
{
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t j = 1; r >= 0 && j < js->n_jobs; j++) {
		struct job *jb = &js->jobs[j];

		jb->js = js;
		r = fw_runner_new(js->ft->suite, &jb->runner, err);
		if (r < 0)
			break;
		jb->runner->keep_events = model->keep_events;
		pthread_mutex_lock(&js->mu);
		js->running++;
		pthread_mutex_unlock(&js->mu);
		r = -pthread_create(&jb->tid, NULL, job_main, jb);
		if (r < 0) {
			pthread_mutex_lock(&js->mu);
			js->running--;
			pthread_mutex_unlock(&js->mu);
			nslab_err_set(err, -r, "create a thread for a test job");
		}
		jb->started = r >= 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Wait for the threads, reporting as their tests end; then their coverage joins job 0's. */
static int finish_jobs(struct jobs *js, struct fw_runner *r0, nslab_fwtest_cb cb, void *data,
		       nslab_error *err)
{
	int r = 0;

	pthread_mutex_lock(&js->mu);
	for (;;) {
		bool ready = js->reported < js->n && js->done[js->reported];

		if (!ready && !js->running)
			break;
		if (!ready) {
			pthread_cond_wait(&js->cv, &js->mu);
			continue;
		}
		pthread_mutex_unlock(&js->mu);
		report_done(js, cb, data);
		pthread_mutex_lock(&js->mu);
	}
	pthread_mutex_unlock(&js->mu);
	for (size_t j = 1; j < js->n_jobs; j++) {
		struct job *jb = &js->jobs[j];

		if (jb->started)
			(void)pthread_join(jb->tid, NULL);
		if (jb->runner && r >= 0)
			r = fw_runner_take_coverage(r0, jb->runner, js->order, js->n, err);
		fw_runner_free(jb->runner);
	}
	return r;
}

static void jobs_clear(struct jobs *js)
{
	pthread_mutex_destroy(&js->mu);
	pthread_cond_destroy(&js->cv);
	free(js->seq);
	free(js->ports);
	free(js->done);
	free(js->jobs);
}

int fw_jobs_run(struct nslab_fwtest *ft, const size_t *order, size_t n, unsigned n_jobs,
		nslab_fwtest_cb cb, void *data, nslab_error *err)
{
	struct jobs js = { .ft = ft, .order = order, .n = n, .n_jobs = n_jobs ? n_jobs : 1 };
	int r;

	pthread_mutex_init(&js.mu, NULL);
	pthread_cond_init(&js.cv, NULL);
	if (js.n_jobs > n)
		js.n_jobs = n ? n : 1;
	r = number_positions(&js, err);
	if (r >= 0 && !(js.jobs = calloc(js.n_jobs, sizeof(*js.jobs))))
		r = nslab_err_set(err, ENOMEM, "test jobs");
	if (r >= 0)
		r = start_jobs(&js, ft->runner, err);
	if (r < 0)
		atomic_store(&js.stop, true);
	for (size_t k = take_position(&js); k < n; k = take_position(&js)) {
		run_position(&js, ft->runner, k);
		report_done(&js, cb, data);
	}
	if (js.jobs) {
		int f = finish_jobs(&js, ft->runner, cb, data, err);

		r = r < 0 ? r : f;
	}
	if (r >= 0 && js.r < 0) {
		r = js.r;
		if (err)
			*err = js.err;
	}
	jobs_clear(&js);
	return r < 0 ? r : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * jail/pool: sandboxes prepared ahead (nslab_sandbox_pool_*).
 *
 * DOC: the pool
 * The plan is made once (fs plan, seccomp BPF, limits, maps, environment).
 * A worker thread keeps n sandboxes prepared: each init has its namespaces,
 * maps, mounts and /proc, and waits on its socket for RUN. pool_spawn() takes
 * one, sends the command's argv (a memfd), waits for STARTED, and wakes the
 * worker to prepare a replacement; a start costs a message round trip, a fork
 * and an exec, not namespace creation.
 * Every init dies with the thread that cloned it (PR_SET_PDEATHSIG): the
 * worker, which lives until nslab_sandbox_pool_free(). So sandboxes started
 * from a pool end with the pool.
 * A pool's sandboxes use rlimits, never a cgroup (one per prepared sandbox
 * would cost a mkdir per start and cgroups outliving the pool on a crash).
 */
#include "jail/core.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"

struct nslab_sandbox_pool {
	struct jail_plan *plan;
	unsigned n;
	pthread_mutex_t mu;
	pthread_cond_t cv_ready; /* a sandbox became ready, or the worker failed */
	pthread_cond_t cv_need;	 /* one was taken, or stop */
	nslab_sandbox **ready;
	unsigned n_ready;
	bool stop, failed, worker_started;
	nslab_error fail_err;
	int fail_r;
	pthread_t worker;
};

/* Prepare sandboxes until n are ready; after a failure, wait until asked again. */
static void *pool_worker(void *arg)
{
	nslab_sandbox_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		nslab_sandbox *s = NULL;
		nslab_error e = { 0 };
		int r;

		if (p->n_ready >= p->n || p->failed) {
			pthread_cond_wait(&p->cv_need, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		r = jail_sandbox_start(p->plan, NULL, &s, NULL, &e);
		pthread_mutex_lock(&p->mu);
		if (r < 0) {
			p->failed = true;
			p->fail_r = r;
			p->fail_err = e;
		} else {
			p->ready[p->n_ready++] = s;
		}
		pthread_cond_broadcast(&p->cv_ready);
	}
	while (p->n_ready > 0)
		(void)nslab_sandbox_free(p->ready[--p->n_ready]);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Take a prepared sandbox, waiting for the worker if none is. */
static int pool_take(nslab_sandbox_pool *p, nslab_sandbox **ret, nslab_error *err)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	while (!p->n_ready && !p->failed)
		pthread_cond_wait(&p->cv_ready, &p->mu);
	if (p->n_ready) {
		*ret = p->ready[--p->n_ready];
	} else {
		r = p->fail_r;
		if (err)
			*err = p->fail_err;
		p->failed = false; /* the next call tries again */
		pthread_cond_signal(&p->cv_need);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

/* Wake the worker to prepare a replacement: after the start, so as not to compete with it. */
static void pool_refill(nslab_sandbox_pool *p)
{
	pthread_mutex_lock(&p->mu);
	pthread_cond_signal(&p->cv_need);
	pthread_mutex_unlock(&p->mu);
}

int nslab_sandbox_pool_new(const nslab_sandbox_config *c, unsigned n, nslab_sandbox_pool **ret,
			   nslab_error *err)
{
	nslab_sandbox_pool *p;
	int r;

	if (n == 0 || n > 1024)
		return nslab_err_setx(err, EINVAL, "pool of %u sandboxes: 1 to 1024", n);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->ready = calloc(n, sizeof(*p->ready)))) {
		free(p);
		return nslab_err_set(err, ENOMEM, "sandbox pool");
	}
	p->n = n;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_ready, NULL);
	pthread_cond_init(&p->cv_need, NULL);
	r = jail_plan_prepare(c, &p->plan, err);
	if (r < 0)
		goto fail;
	jail_limits_drop_cgroup(&p->plan->limits);
	r = -pthread_create(&p->worker, NULL, pool_worker, p);
	if (r < 0) {
		(void)nslab_err_set(err, -r, "start the pool's thread");
		goto fail;
	}
	p->worker_started = true;
	/* the first one tells whether this config can start at all */
	pthread_mutex_lock(&p->mu);
	while (!p->n_ready && !p->failed)
		pthread_cond_wait(&p->cv_ready, &p->mu);
	r = p->n_ready ? 0 : p->fail_r;
	if (r < 0 && err)
		*err = p->fail_err;
	pthread_mutex_unlock(&p->mu);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	(void)nslab_sandbox_pool_free(p);
	return r;
}

int nslab_sandbox_pool_spawn(nslab_sandbox_pool *p, char *const argv[], nslab_sandbox **ret,
			     nslab_error *err)
{
	nslab_sandbox *s = NULL;
	int r;

	if (!argv || !argv[0])
		return nslab_err_setx(err, EINVAL, "sandbox: empty command");
	r = pool_take(p, &s, err);
	if (r < 0)
		return r;
	r = jail_sandbox_run_prepared(s, argv, err);
	pool_refill(p);
	if (r < 0) {
		(void)nslab_sandbox_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

nslab_sandbox_pool *nslab_sandbox_pool_free(nslab_sandbox_pool *p)
{
	if (!p)
		return NULL;
	if (p->worker_started) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_broadcast(&p->cv_need);
		pthread_mutex_unlock(&p->mu);
		(void)pthread_join(p->worker, NULL);
	}
	jail_plan_unref(p->plan);
	pthread_cond_destroy(&p->cv_ready);
	pthread_cond_destroy(&p->cv_need);
	pthread_mutex_destroy(&p->mu);
	free(p->ready);
	free(p);
	return NULL;
}

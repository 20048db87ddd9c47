/* SPDX-License-Identifier: MIT */
/*
 * sim/run: running a sim's steps over its lab (nslab/sim.h).
 *
 * One thread: the lab is built by the caller's thread (its processes die
 * with it), and each step runs to its end before the next (steps-proc.c and
 * steps-lab.c); blocks (repeat, every, use) run their bodies here.
 */
#include "sim/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double now_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int do_step(struct nslab_sim *sim, size_t i)
{
	switch (sim->file->steps[i].kind) {
	case SIM_RUN:
		return sim_run_step(sim, i);
	case SIM_SPAWN:
		return sim_spawn_step(sim, i);
	case SIM_WAIT:
		return sim_wait_step(sim, i);
	case SIM_WAIT_FOR:
		return sim_wait_for_step(sim, i);
	case SIM_ASSERT:
		return sim_assert_step(sim, i);
	case SIM_GEN_FILE:
		return sim_gen_file_step(sim, i);
	case SIM_LINK:
		return sim_link_step(sim, i);
	case SIM_DEVICE:
		return sim_device_step(sim, i);
	case SIM_ROUTER:
		return sim_router_step(sim, i);
	case SIM_CAPTURE:
		return sim_capture_step(sim, i);
	case SIM_DNS:
		return sim_dns_step(sim, i);
	case SIM_GEN_CERTS:
		return sim_gen_certs_step(sim, i);
	case SIM_REGION:
		return sim_region_step(sim, i);
	case SIM_REPEAT:
	case SIM_EVERY:
	case SIM_GROUP:
		break; /* run_one() runs blocks */
	}
	return -1;
}

/* The run */

static int run_one(struct nslab_sim *sim, size_t i);

/* A step run again (repeat, every): what its last run left is let go first. */
static void state_reset(struct nslab_sim *sim, size_t i)
{
	struct sim_state *s = &sim->state[i];

	if (s->proc && !s->has_exit) {
		sim_kill_proc(s);
		(void)sim_wait_exit(sim, i, UINT64_MAX);
	}
	s->proc = nslab_proc_free(s->proc);
	s->cap = pkt_capture_free(s->cap);
	if (s->out_fd >= 0)
		(void)close(s->out_fd);
	if (s->err_fd >= 0)
		(void)close(s->err_fd);
	s->out_fd = s->err_fd = -1;
	for (size_t k = 0; k < sim->file->steps[i].n_caps; k++) {
		free(s->values[k]);
		s->values[k] = NULL;
	}
	free(s->out);
	free(s->errtext);
	free(s->path);
	free(s->key);
	free(s->picks);
	s->out = s->errtext = s->path = s->key = s->picks = NULL;
	s->has_exit = false;
	s->exit = s->signal = 0;
	s->iterations = 0;
}

/* How many entries of steps[] step i takes: itself and its body. */
static size_t span(const struct nslab_sim *sim, size_t i)
{
	return 1 + sim->file->steps[i].n_body;
}

/* Steps [from, to) in order, until one fails; -1 if one did. */
static int run_range(struct nslab_sim *sim, size_t from, size_t to)
{
	for (size_t i = from; i < to; i += span(sim, i))
		if (run_one(sim, i) < 0)
			return -1;
	return 0;
}

/* After a failure inside a block: the block fails too, the sim's error says where. */
static int block_failed(struct nslab_sim *sim, size_t i, const char *what, unsigned k)
{
	size_t len = strlen(sim->error);

	if (k)
		snprintf(sim->error + len, sizeof(sim->error) - len, " (%s %u of '%s')", what, k,
			 sim->file->steps[i].id);
	else
		snprintf(sim->error + len, sizeof(sim->error) - len, " (in %s '%s')", what,
			 sim->file->steps[i].id);
	sim->state[i].status = SIM_STEP_FAILED;
	return -1;
}

/* Its body N times, or again until for_ms is over (at least once). */
static int repeat_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	uint64_t until = sim_now_ms() + st->for_ms;

	for (unsigned k = 0; st->times ? k < st->times : (k == 0 || sim_now_ms() < until); k++) {
		if (run_range(sim, i + 1, i + 1 + st->n_body) < 0)
			return block_failed(sim, i, "iteration", k + 1);
		s->iterations = k + 1;
	}
	return 0;
}

/* splitmix64: a seeded sequence, the same on every machine. */
static uint64_t next_random(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The index in steps[] of block i's direct child number c. */
static size_t child_at(const struct nslab_sim *sim, size_t i, size_t c)
{
	size_t k = i + 1;

	while (c--)
		k += span(sim, k);
	return k;
}

static int add_pick(struct sim_state *s, const char *id)
{
	char *p = NULL;

	if (asprintf(&p, "%s%s%s", s->picks ? s->picks : "", s->picks ? "," : "", id) < 0)
		return -1;
	free(s->picks);
	s->picks = p;
	return 0;
}

/* At each interval, one of its choices (seeded), for times ticks or for_ms. */
static int every_step(struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	struct sim_state *s = &sim->state[i];
	uint64_t start = sim_now_ms(), rng = st->seed;

	for (unsigned k = 0; !st->times || k < st->times; k++) {
		uint64_t due = start + (k + 1) * st->wait_ms;
		size_t c;

		if (st->for_ms && due > start + st->for_ms)
			break;
		sim_sleep_until(sim, due);
		if (sim_now_ms() < due)
			return sim_step_fail(sim, i, "the sim's timeout ran out after %u ticks", k);
		c = child_at(sim, i, (size_t)(next_random(&rng) % st->n_choices));
		if (add_pick(s, sim->file->steps[c].id) < 0)
			return sim_step_fail(sim, i, "out of memory");
		if (run_one(sim, c) < 0)
			return block_failed(sim, i, "tick", k + 1);
		s->iterations = k + 1;
	}
	return 0;
}

static int run_one(struct nslab_sim *sim, size_t i)
{
	struct sim_state *s = &sim->state[i];
	double t0;
	int r;

	if (s->runs++)
		state_reset(sim, i);
	if (sim->appev)
		sim_appev_flush(
			sim->appev); /* what programs said so far, before this step's events */
	s->status = SIM_STEP_RUNNING;
	if (sim->cb)
		sim->cb(sim, i, 0, sim->cb_data);
	t0 = now_ms_f(); /* the step's own time: the caller's callback is not in it */
	if (sim_now_ms() >= sim->deadline)
		r = sim_step_fail(sim, i, "the sim's timeout (%llu ms) ran out before it",
				  (unsigned long long)sim->file->timeout_ms);
	else if (sim->file->steps[i].kind == SIM_REPEAT)
		r = repeat_step(sim, i);
	else if (sim->file->steps[i].kind == SIM_EVERY)
		r = every_step(sim, i);
	else if (sim->file->steps[i].kind == SIM_GROUP)
		r = run_range(sim, i + 1, i + span(sim, i)) < 0 ? block_failed(sim, i, "group", 0)
								: 0;
	else
		r = do_step(sim, i);
	sim_release_kept(sim);
	s->ms = now_ms_f() - t0;
	if (r >= 0 && s->status == SIM_STEP_RUNNING)
		s->status = sim->file->steps[i].kind == SIM_SPAWN && !s->has_exit ? SIM_STEP_RUNNING
										  : SIM_STEP_PASSED;
	if (sim->cb)
		sim->cb(sim, i, 1, sim->cb_data);
	return r < 0 ? -1 : 0;
}

/* Every step in order until one fails; those that never ran are skipped. */
static void run_steps(struct nslab_sim *sim)
{
	(void)run_range(sim, 0, sim->file->n_steps);
	for (size_t i = 0; i < sim->file->n_steps; i++)
		if (sim->state[i].status == SIM_STEP_PENDING)
			sim->state[i].status = SIM_STEP_SKIPPED;
}

/* Captures still running when the sim ends: stopped (before the lab goes). */
static void end_captures(struct nslab_sim *sim)
{
	for (size_t i = 0; i < sim->file->n_steps; i++)
		(void)sim_capture_stop(sim, i, NULL);
}

/* Spawned commands still running when the sim ends: killed, their output kept. */
static void end_spawned(struct nslab_sim *sim)
{
	for (size_t i = 0; i < sim->file->n_steps; i++) {
		struct sim_state *s = &sim->state[i];

		if (!s->proc || s->has_exit)
			continue;
		sim_kill_proc(s);
		(void)sim_wait_exit(sim, i, UINT64_MAX);
		(void)sim_take_outputs(sim, i);
		if (s->status == SIM_STEP_RUNNING)
			s->status = SIM_STEP_PASSED; /* it was up when the sim needed it */
	}
}

static int open_dirs(struct nslab_sim *sim, const char *dir, nslab_error *err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create '%s'", dir);
	sim->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sim->dir_fd < 0)
		return nslab_err_set(err, errno, "open '%s'", dir);
	if (faccessat(sim->dir_fd, "sim.json", F_OK, 0) == 0)
		return nslab_err_setx(err, EEXIST, "'%s' holds a sim already", dir);
	if (mkdirat(sim->dir_fd, "steps", 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create '%s/steps'", dir);
	sim->steps_fd = openat(sim->dir_fd, "steps", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return sim->steps_fd < 0 ? nslab_err_set(err, errno, "open '%s/steps'", dir) : 0;
}

/* NSLAB_EVENTS for the built lab's nodes (a sim without it could not run its programs as told). */
static int open_appev(struct nslab_sim *sim, nslab_error *err)
{
	char path[4096];
	int r = sim_dir_path(sim, path, sizeof(path));

	if (r < 0)
		return nslab_err_set(err, -r, "the sim's directory");
	return sim_appev_open(sim->lab, sim->dir_fd, path, &sim->appev, err);
}

int nslab_sim_run(nslab_sim *sim, const char *dir, nslab_sim_cb cb, void *data, nslab_error *err)
{
	double t0 = now_ms_f();
	nslab_error e = { 0 };
	int r;

	if (sim->status != NSLAB_SIM_NOT_RUN)
		return nslab_err_setx(err, EALREADY, "the sim has run already");
	sim->started_wall = time(NULL);
	sim->started = sim_now_ms();
	sim->deadline = sim->started + sim->file->timeout_ms;
	r = open_dirs(sim, dir, &e);
	if (r >= 0)
		r = nslab_lab_set_outdir(sim->lab, dir, &e);
	if (r >= 0)
		r = nslab_lab_build(sim->lab, &e);
	if (r >= 0)
		r = open_appev(sim, &e);
	if (r < 0) {
		sim->status = NSLAB_SIM_ERROR;
		snprintf(sim->error, sizeof(sim->error), "%s", e.msg);
		if (err)
			*err = e;
		sim->ms = now_ms_f() - t0;
		if (sim->dir_fd >= 0)
			(void)sim_write_outputs(sim);
		return r;
	}
	sim->built = true;
	sim->cb = cb;
	sim->cb_data = data;
	run_steps(sim);
	end_spawned(sim);
	end_captures(sim);
	sim->appev = sim_appev_free(sim->appev); /* the last events logged before the lab goes */
	sim->status = sim->failed_step >= 0 ? NSLAB_SIM_FAILED : NSLAB_SIM_PASSED;
	sim->lab = nslab_lab_free(sim->lab); /* torn down before the timing ends */
	sim->ms = now_ms_f() - t0;
	r = sim_write_outputs(sim);
	if (r < 0) {
		snprintf(sim->error, sizeof(sim->error), "write the outputs of '%s': %s", dir,
			 strerror(-r));
		sim->status = NSLAB_SIM_ERROR;
		return nslab_err_setx(err, -r, "%s", sim->error);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* cli/sim-progress: progress.json and the terminal's block (see sim-progress.h). */
#include "sim-progress.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define TICK_MS 100 /* progress.json catches up, the block's times move, this often */

struct prog_sim {
	struct sim_progress *p;
	size_t index;
	bool running, done;
	long step;  /* the step running, -1 none yet */
	double t0;  /* CLOCK_MONOTONIC s when it started */
	double end; /* when it ended */
};

struct sim_progress {
	pthread_mutex_t mu;
	char *path, *tmp; /* progress.json and its next version */
	char *run_dir;
	nslab_sim *const *sims;
	const char *const *dirs;
	struct prog_sim *s;
	size_t n;
	bool tty;
	unsigned drawn; /* lines of the block on the screen */
	bool dirty;	/* a step changed since progress.json was written */
	double written; /* when it was (CLOCK_MONOTONIC s) */
	pthread_t ticker;
	bool ticking, stop;
	pthread_cond_t cv;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *sim_state(const struct prog_sim *s)
{
	if (s->done)
		return nslab_sim_status_name(nslab_sim_status(s->p->sims[s->index]));
	return s->running ? "running" : "pending";
}

static double elapsed_ms(const struct prog_sim *s)
{
	if (!s->running && !s->done)
		return 0;
	return ((s->done ? s->end : mono()) - s->t0) * 1000;
}

/* progress.json, written whole to a temporary name and renamed over the old one. */
static void write_json(struct sim_progress *p)
{
	FILE *f = fopen(p->tmp, "we");
	size_t done = 0;

	if (!f)
		return; /* a view of the run, never a reason to stop it */
	fprintf(f, "{\"schema\": 1, \"run\": ");
	cli_json_str(f, p->run_dir);
	fprintf(f, ", \"updated\": %.3f, \"sims\": [", (double)time(NULL));
	for (size_t i = 0; i < p->n; i++) {
		const struct prog_sim *s = &p->s[i];
		nslab_sim *sim = p->sims[i];

		done += s->done;
		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		cli_json_str(f, nslab_sim_name(sim));
		fprintf(f, ", \"dir\": ");
		cli_json_str(f, p->dirs[i]);
		fprintf(f, ", \"status\": \"%s\", \"steps\": %zu, \"step\": ", sim_state(s),
			nslab_sim_step_count(sim));
		if (s->step >= 0) {
			fprintf(f, "{\"index\": %ld, \"id\": ", s->step);
			cli_json_str(f, nslab_sim_step_id(sim, (size_t)s->step));
			fprintf(f, ", \"kind\": \"%s\", \"status\": \"%s\"}",
				nslab_sim_step_kind(sim, (size_t)s->step),
				nslab_sim_step_status(sim, (size_t)s->step));
		} else {
			fputs("null", f);
		}
		fprintf(f, ", \"ms\": %.0f}", elapsed_ms(s));
	}
	fprintf(f, "], \"total\": %zu, \"done\": %zu}\n", p->n, done);
	if (fclose(f) == 0)
		(void)rename(p->tmp, p->path);
	p->dirty = false;
	p->written = mono();
}

/*
 * A step's change: written now if the file is older than a tick, else by the
 * ticker (a sim of short steps would otherwise write it twice per step).
 */
static void step_changed(struct sim_progress *p)
{
	p->dirty = true;
	if (mono() - p->written >= TICK_MS / 1000.0)
		write_json(p);
}

/* The block: one line per running sim and a count, in place of the last one. */
static void redraw(struct sim_progress *p)
{
	size_t done = 0, lines = 0;

	if (!p->tty)
		return;
	if (p->drawn)
		printf("\033[%uA", p->drawn);
	printf("\r\033[J");
	for (size_t i = 0; i < p->n; i++) {
		const struct prog_sim *s = &p->s[i];
		nslab_sim *sim = p->sims[i];

		done += s->done;
		if (!s->running)
			continue;
		printf("  %-24.24s %6.1f s  step %ld/%zu %s (%s)\n", nslab_sim_name(sim),
		       elapsed_ms(s) / 1000, s->step + 1, nslab_sim_step_count(sim),
		       s->step >= 0 ? nslab_sim_step_id(sim, (size_t)s->step) : "-",
		       s->step >= 0 ? nslab_sim_step_kind(sim, (size_t)s->step) : "lab");
		lines++;
	}
	printf("  [%zu/%zu done]\n", done, p->n);
	p->drawn = (unsigned)lines + 1;
	fflush(stdout);
}

static void *ticker(void *arg)
{
	struct sim_progress *p = arg;
	struct timespec ts;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		if (!p->stop && p->dirty)
			write_json(p);
		if (!p->stop)
			redraw(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct sim_progress *sim_progress_new(const char *run_dir, nslab_sim *const *sims,
				      const char *const *dirs, size_t n, bool tty)
{
	struct sim_progress *p = calloc(1, sizeof(*p));
	sigset_t all, old;

	if (!p)
		return NULL;
	p->s = calloc(n + 1, sizeof(*p->s));
	p->run_dir = strdup(run_dir);
	if (!p->s || !p->run_dir || asprintf(&p->path, "%s/progress.json", run_dir) < 0 ||
	    asprintf(&p->tmp, "%s/.progress.json.new", run_dir) < 0) {
		free(p->s);
		free(p->run_dir);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->sims = sims;
	p->dirs = dirs;
	p->n = n;
	p->tty = tty;
	for (size_t i = 0; i < n; i++)
		p->s[i] = (struct prog_sim){ .p = p, .index = i, .step = -1 };
	write_json(p);
	/* the ticker takes no signal: SIGINT stays the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	p->ticking = pthread_create(&p->ticker, NULL, ticker, p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void sim_progress_sim(struct sim_progress *p, size_t i, bool done)
{
	struct prog_sim *s = &p->s[i];

	pthread_mutex_lock(&p->mu);
	if (done) {
		s->end = mono();
		s->running = false;
		s->done = true;
	} else {
		s->t0 = mono();
		s->running = true;
	}
	write_json(p);
	redraw(p);
	pthread_mutex_unlock(&p->mu);
}

void *sim_progress_cb_data(struct sim_progress *p, size_t i)
{
	return &p->s[i];
}

void sim_progress_step(nslab_sim *sim, size_t step, int done, void *data)
{
	struct prog_sim *s = data;
	struct sim_progress *p = s->p;

	(void)sim;
	pthread_mutex_lock(&p->mu);
	s->step = (long)step;
	(void)done;
	step_changed(p);
	pthread_mutex_unlock(&p->mu);
}

void sim_progress_print(struct sim_progress *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->mu);
	if (p->tty && p->drawn) {
		printf("\033[%uA\r\033[J", p->drawn);
		p->drawn = 0;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	redraw(p);
	fflush(stdout); /* a pipe too sees each line when it happens */
	pthread_mutex_unlock(&p->mu);
}

void sim_progress_free(struct sim_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->ticking)
		(void)pthread_join(p->ticker, NULL);
	if (p->dirty)
		write_json(p);
	if (p->tty && p->drawn)
		printf("\033[%uA\r\033[J", p->drawn);
	fflush(stdout);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->s);
	free(p->path);
	free(p->tmp);
	free(p->run_dir);
	free(p);
}

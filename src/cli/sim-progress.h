/* SPDX-License-Identifier: MIT */
/*
 * cli/sim-progress: where `nslab sim` is while it runs. progress.json in the
 * run directory, written again (atomically) whenever a sim starts or ends,
 * and when a step starts or ends at most once per tick (100 ms: a ticker
 * thread writes what is left); on a terminal, a block of one line per running
 * sim (its current step, its elapsed time) redrawn below the summary lines.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "nslab/sim.h"

struct sim_progress;

/* A progress over n sims (borrowed: they outlive it); tty: draw the block. NULL when out of memory. */
struct sim_progress *sim_progress_new(const char *run_dir, nslab_sim *const *sims,
				      const char *const *dirs, size_t n, bool tty);
/* Sim i starts (running) or ends (its status as nslab_sim_status() says). */
void sim_progress_sim(struct sim_progress *p, size_t i, bool done);
/* The nslab_sim_cb of sim i: its data is what sim_progress_cb_data() returns. */
void sim_progress_step(nslab_sim *sim, size_t step, int done, void *data);
void *sim_progress_cb_data(struct sim_progress *p, size_t i);
/* Print a line above the block (a sim's summary), the block redrawn below it. */
void sim_progress_print(struct sim_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Stops the redraws; the block is cleared. Accepts NULL. */
void sim_progress_free(struct sim_progress *p);

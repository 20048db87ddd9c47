/* SPDX-License-Identifier: MIT */
/*
 * nslab/sim.h: scripted scenarios over a lab (`nslab sim`).
 *
 * A sim file names a lab and a list of steps (run a command in a node, spawn
 * one and wait until it is ready, wait, wait for a spawned command, assert on
 * what the steps printed or captured). nslab_sim_run() builds the lab, runs
 * the steps in order until one fails, tears the lab down, and writes the
 * sim's directory: the lab's events.jsonl, state.json and nodes/ logs,
 * steps/NN-ID.stdout|stderr, sim.json, results.json and results.md
 * (docs/sim.md has the file format and the schemas).
 */
#ifndef NSLAB_SIM_H
#define NSLAB_SIM_H

#include <stddef.h>

#include "nslab/lab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nslab_sim nslab_sim;

enum nslab_sim_status {
	NSLAB_SIM_NOT_RUN = 0,
	NSLAB_SIM_PASSED,
	NSLAB_SIM_FAILED, /* a step failed: an assertion, a command's exit, a timeout */
	NSLAB_SIM_ERROR,  /* the sim could not run: its lab, its output directory */
};

/*
 * nslab_sim_from_file() - Read a sim file (and check its lab file)
 * Return: 0, or -EINVAL with "FILE:LINE:COL: ..." (the sim's or its lab's).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sim_from_file(const char *path, nslab_sim **ret,
						     nslab_error *err);
NSLAB_EXPORT nslab_sim *nslab_sim_free(nslab_sim *sim);
/*
 * nslab_sim_project_dir() - The sims directory a project's nslab.yaml names (`sims: DIR`)
 * @dir: where to start looking: it, then each directory above it, up to /
 * Return: 0 and *ret (malloc'd, relative to the file's directory resolved),
 * -ENOENT when no nslab.yaml is found, -EINVAL at FILE:LINE:COL for a bad one.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sim_project_dir(const char *dir, char **ret,
						       nslab_error *err);
NSLAB_EXPORT const char *nslab_sim_name(const nslab_sim *sim);
NSLAB_EXPORT const char *nslab_sim_path(const nslab_sim *sim);

/* Called when a step starts (done false) and when it ends (done true). */
typedef void (*nslab_sim_cb)(nslab_sim *sim, size_t step, int done, void *data);

/*
 * nslab_sim_run() - Build the lab, run the steps, tear the lab down
 * @dir: the sim's output directory (created; it must not hold a sim already)
 * Needs root, or nslab_bootstrap() first. Return: 0 when the sim ran to its
 * end or to a failing step (see nslab_sim_status()), -errno when it could
 * not run (the status is then NSLAB_SIM_ERROR and nslab_sim_error() says why).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sim_run(nslab_sim *sim, const char *dir, nslab_sim_cb cb,
					       void *data, nslab_error *err);

NSLAB_EXPORT enum nslab_sim_status nslab_sim_status(const nslab_sim *sim);
/* "passed", "failed", "error" or "not-run" (sim.json's words). */
NSLAB_EXPORT const char *nslab_sim_status_name(enum nslab_sim_status status);
/* Why the sim failed or could not run ("step 'x' (assert): '3' >= '5' does not hold"), or "". */
NSLAB_EXPORT const char *nslab_sim_error(const nslab_sim *sim);
/* Milliseconds the run took, lab included. */
NSLAB_EXPORT double nslab_sim_ms(const nslab_sim *sim);
NSLAB_EXPORT size_t nslab_sim_step_count(const nslab_sim *sim);
NSLAB_EXPORT const char *nslab_sim_step_id(const nslab_sim *sim, size_t i);
/* "run", "spawn", "wait", "wait-for", "assert", "gen-file", "gen-certs", "link", "router",
 * "device", "capture", "dns", "repeat" or "every". */
NSLAB_EXPORT const char *nslab_sim_step_kind(const nslab_sim *sim, size_t i);
/* "pending", "running", "passed", "failed" or "skipped". */
NSLAB_EXPORT const char *nslab_sim_step_status(const nslab_sim *sim, size_t i);
NSLAB_EXPORT double nslab_sim_step_ms(const nslab_sim *sim, size_t i);

#ifdef __cplusplus
}
#endif
#endif

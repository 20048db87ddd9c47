/* SPDX-License-Identifier: MIT */
/*
 * sim/steps: what the step kinds share inside the sim layer. values.c gives
 * ${...} their values and fails steps; steps-proc.c runs commands (run,
 * spawn, wait-for, wait, assert); steps-lab.c changes the lab and makes files
 * (gen-file, link, device, router, dns, capture, gen-certs); run.c runs them
 * in order, blocks included. Each step function takes the sim and the step's
 * index and returns 0, or -1 with the step failed (sim_step_fail()).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pollfd;

#include "shared/macro.h"
#include "sim/sim.h"

/* values.c */

/* v kept until the step that asked for it ends; NULL if v is. */
const char *sim_keep(struct nslab_sim *sim, char *v);
/* Frees what sim_keep() kept (at each step's end). */
void sim_release_kept(struct nslab_sim *sim);
/* A sim_lookup_fn: ${NODE.ip}, ${NODE.ip6}, ${STEP.stdout|stderr|exit|ms|...}; data is the sim. */
const char *sim_lookup(const char *name, void *data);
/* Step i failed: "FILE:LINE:COL: step 'ID' (KIND): message" into sim->error. Return: -1. */
int sim_step_fail(struct nslab_sim *sim, size_t i, const char *fmt, ...) _printf_(3, 4);

/* steps-proc.c */

void sim_argv_free(char **argv);
/* Start step i's command: made (borrowed), or NULL for the file's words interpolated. */
int sim_start_argv(struct nslab_sim *sim, size_t i, char **made);
/* A started command to its end (or its timeout), its exit status as expected. */
int sim_finish_run(struct nslab_sim *sim, size_t i);
/* Until the process ends or the deadline: 1 ended, 0 deadline, -1 error. */
int sim_wait_exit(struct nslab_sim *sim, size_t i, uint64_t deadline);
void sim_kill_proc(struct sim_state *s);
/* The whole of an output file so far, up to its limit (a NUL-terminated copy; NULL: no memory). */
char *sim_read_output(int fd);
/* The step's outputs read into its state, then its captures. */
int sim_take_outputs(struct nslab_sim *sim, size_t i);
/* Sleep until a CLOCK_MONOTONIC time in ms, or the sim's deadline if sooner. */
void sim_sleep_until(struct nslab_sim *sim, uint64_t until);
#define SIM_POLL_MAX 4
/*
 * sim_poll() - poll() on up to SIM_POLL_MAX fds until one is ready or the
 * deadline (CLOCK_MONOTONIC ms), the programs' events logged while it waits
 * (so they are in events.jsonl during a long step, not only after it)
 * Return: how many of pfd are ready, 0 at the deadline, -1 with errno.
 */
int sim_poll(struct nslab_sim *sim, struct pollfd *pfd, size_t n, uint64_t deadline);
int sim_run_step(struct nslab_sim *sim, size_t i);
int sim_spawn_step(struct nslab_sim *sim, size_t i);
int sim_wait_for_step(struct nslab_sim *sim, size_t i);
int sim_wait_step(struct nslab_sim *sim, size_t i);
int sim_assert_step(struct nslab_sim *sim, size_t i);

/* steps-lab.c */

/* The sim's directory as a path (what its fd leads to). Return: 0 or -errno. */
int sim_dir_path(struct nslab_sim *sim, char *buf, size_t len);
/* Stop step ci's capture if it runs. Return: 0, or -errno of a failed write. */
int sim_capture_stop(struct nslab_sim *sim, size_t ci, nslab_error *e);
int sim_gen_file_step(struct nslab_sim *sim, size_t i);
int sim_link_step(struct nslab_sim *sim, size_t i);
int sim_device_step(struct nslab_sim *sim, size_t i);
int sim_router_step(struct nslab_sim *sim, size_t i);
int sim_region_step(struct nslab_sim *sim, size_t i);
int sim_capture_step(struct nslab_sim *sim, size_t i);
int sim_dns_step(struct nslab_sim *sim, size_t i);
int sim_gen_certs_step(struct nslab_sim *sim, size_t i);

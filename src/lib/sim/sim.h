/* SPDX-License-Identifier: MIT */
/* sim: the object behind nslab_sim (run.c runs it, output.c writes its files). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "nslab/sim.h"
#include "pkt/capture.h"
#include "sim/appev.h"
#include "sim/simfile.h"

enum sim_step_status {
	SIM_STEP_PENDING = 0,
	SIM_STEP_RUNNING, /* started; a spawned command stays so until it ends */
	SIM_STEP_PASSED,
	SIM_STEP_FAILED,
	SIM_STEP_SKIPPED, /* after a failure */
};

struct sim_state {
	enum sim_step_status status;
	double ms;
	nslab_proc *proc;
	int out_fd, err_fd; /* steps/NN-ID.stdout|stderr */
	bool has_exit;
	int exit;		 /* 128+N when killed by signal N */
	int signal;		 /* the signal, or 0 */
	char *out, *errtext;	 /* what it printed (read when it ended) */
	char **values;		 /* captures, by the step's caps[] index */
	char *path;		 /* gen-file, capture, gen-certs: the file written */
	char *key;		 /* gen-certs: the key's file */
	struct pkt_capture *cap; /* capture: running until its stop step or the sim's end */
	unsigned runs;		 /* times it started (more than 1 in a repeat or every) */
	unsigned iterations;	 /* repeat: bodies run; every: ticks */
	char *picks;		 /* every: the ids chosen, comma-separated */
};

struct nslab_sim {
	struct sim_file *file;
	nslab_lab *lab; /* checked at load, built by nslab_sim_run(), freed when it ends */
	bool built;
	struct sim_state *state;
	enum nslab_sim_status status;
	long failed_step; /* -1: none */
	char error[1024];
	time_t started_wall;
	uint64_t started, deadline; /* ms, CLOCK_MONOTONIC */
	double ms;
	int dir_fd, steps_fd;
	struct sim_appev *appev; /* NSLAB_EVENTS while the lab runs */
	nslab_sim_cb cb;	 /* nslab_sim_run()'s, for each step that starts and ends */
	void *cb_data;
	char **kept; /* values handed out for ${...} */
	size_t n_kept;
};

/* "run", "spawn", ...: a step kind's word in messages and sim.json (api.c). */
const char *sim_kind_name(enum sim_step_kind k);
/* "pending", "running", "passed", "failed" or "skipped". */
const char *sim_step_status_name(enum sim_step_status s);
/* CLOCK_MONOTONIC in ms. */
uint64_t sim_now_ms(void);
/* sim.json, results.json and results.md in the sim's directory; 0 or -errno. */
int sim_write_outputs(const struct nslab_sim *sim);

/* SPDX-License-Identifier: MIT */
/* sim/api: the nslab_sim object: reading it, freeing it, and what it says of its run. */
#include "sim/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "lab/lab.h"

static const char *const kind_names[] = { "run",    "spawn",	"wait", "wait-for",
					  "assert", "gen-file", "link", "router",
					  "device", "capture",	"dns",	"gen-certs",
					  "repeat", "every",	"use",	"region" };
static const char *const status_names[] = { "pending", "running", "passed", "failed", "skipped" };

const char *sim_kind_name(enum sim_step_kind k)
{
	return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

const char *sim_step_status_name(enum sim_step_status s)
{
	return (size_t)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

int nslab_sim_from_file(const char *path, nslab_sim **ret, nslab_error *err)
{
	nslab_sim *sim = calloc(1, sizeof(*sim));
	int r;

	if (!sim)
		return nslab_err_set(err, ENOMEM, "sim");
	sim->dir_fd = sim->steps_fd = -1;
	sim->failed_step = -1;
	r = sim_file_read(path, &sim->file, err);
	if (r >= 0)
		sim->state =
			calloc(sim->file->n_steps ? sim->file->n_steps : 1, sizeof(*sim->state));
	if (r >= 0 && !sim->state)
		r = nslab_err_set(err, ENOMEM, "sim");
	for (size_t i = 0; r >= 0 && i < sim->file->n_steps; i++) {
		struct sim_state *s = &sim->state[i];

		s->out_fd = s->err_fd = -1;
		s->values = calloc(sim->file->steps[i].n_caps + 1, sizeof(*s->values));
		if (!s->values)
			r = nslab_err_set(err, ENOMEM, "sim");
	}
	if (r >= 0 && sim->file->lab_tree)
		r = lab_from_tree(sim->file->lab_tree, sim->file->lab_path, &sim->lab, err);
	else if (r >= 0)
		r = nslab_lab_from_file(sim->file->lab_path, &sim->lab, err);
	if (r >= 0)
		r = nslab_lab_check(sim->lab, err);
	if (r < 0) {
		nslab_sim_free(sim);
		return r;
	}
	*ret = sim;
	return 0;
}

nslab_sim *nslab_sim_free(nslab_sim *sim)
{
	if (!sim)
		return NULL;
	for (size_t i = 0; sim->state && i < sim->file->n_steps; i++) {
		struct sim_state *s = &sim->state[i];

		pkt_capture_free(s->cap);
		nslab_proc_free(s->proc);
		if (s->out_fd >= 0)
			(void)close(s->out_fd);
		if (s->err_fd >= 0)
			(void)close(s->err_fd);
		free(s->out);
		free(s->errtext);
		free(s->path);
		free(s->key);
		free(s->picks);
		for (size_t k = 0; k < sim->file->steps[i].n_caps; k++)
			free(s->values[k]);
		free(s->values);
	}
	free(sim->state);
	sim_appev_free(sim->appev);
	nslab_lab_free(sim->lab);
	for (size_t i = 0; i < sim->n_kept; i++)
		free(sim->kept[i]);
	free(sim->kept);
	if (sim->dir_fd >= 0)
		(void)close(sim->dir_fd);
	if (sim->steps_fd >= 0)
		(void)close(sim->steps_fd);
	sim_file_free(sim->file);
	free(sim);
	return NULL;
}

const char *nslab_sim_name(const nslab_sim *sim)
{
	return sim->file->name;
}

const char *nslab_sim_path(const nslab_sim *sim)
{
	return sim->file->path;
}

enum nslab_sim_status nslab_sim_status(const nslab_sim *sim)
{
	return sim->status;
}

const char *nslab_sim_error(const nslab_sim *sim)
{
	return sim->error;
}

double nslab_sim_ms(const nslab_sim *sim)
{
	return sim->ms;
}

size_t nslab_sim_step_count(const nslab_sim *sim)
{
	return sim->file->n_steps;
}

const char *nslab_sim_step_id(const nslab_sim *sim, size_t i)
{
	return i < sim->file->n_steps ? sim->file->steps[i].id : NULL;
}

const char *nslab_sim_step_kind(const nslab_sim *sim, size_t i)
{
	return i < sim->file->n_steps ? sim_kind_name(sim->file->steps[i].kind) : NULL;
}

const char *nslab_sim_step_status(const nslab_sim *sim, size_t i)
{
	return i < sim->file->n_steps ? sim_step_status_name(sim->state[i].status) : NULL;
}

double nslab_sim_step_ms(const nslab_sim *sim, size_t i)
{
	return i < sim->file->n_steps ? sim->state[i].ms : 0.0;
}

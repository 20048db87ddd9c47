/* SPDX-License-Identifier: MIT */
/* sim/output: a sim's sim.json, results.json and results.md (schemas in docs/sim.md). */
#include "sim/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"

#define SIM_JSON_SCHEMA 1

const char *nslab_sim_status_name(enum nslab_sim_status s)
{
	switch (s) {
	case NSLAB_SIM_PASSED:
		return "passed";
	case NSLAB_SIM_FAILED:
		return "failed";
	case NSLAB_SIM_ERROR:
		return "error";
	case NSLAB_SIM_NOT_RUN:
		break;
	}
	return "not-run";
}

static int write_file(int dir_fd, const char *name, const char *text)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t len = strlen(text), done = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static void json_step(struct jw *w, const struct nslab_sim *sim, size_t i)
{
	const struct sim_step *st = &sim->file->steps[i];
	const struct sim_state *s = &sim->state[i];

	jw_obj_open(w, NULL);
	jw_str(w, "id", st->id);
	jw_str(w, "kind", sim_kind_name(st->kind));
	jw_str(w, "status", sim_step_status_name(s->status));
	jw_double(w, "ms", s->ms, 3);
	if (s->has_exit)
		jw_int(w, "exit", s->exit);
	else
		jw_raw(w, "exit", "null");
	jw_obj_open(w, "captures");
	for (size_t k = 0; k < st->n_caps; k++)
		jw_str(w, st->caps[k].name, s->values[k]);
	jw_obj_close(w);
	jw_uint(w, "runs", s->runs);
	if (st->kind == SIM_REPEAT || st->kind == SIM_EVERY || st->kind == SIM_GROUP)
		jw_uint(w, "body", st->n_body); /* the steps of its body follow it */
	if (st->kind == SIM_REPEAT || st->kind == SIM_EVERY)
		jw_uint(w, st->kind == SIM_REPEAT ? "iterations" : "ticks", s->iterations);
	if (st->kind == SIM_EVERY)
		jw_str(w, "picks", s->picks ? s->picks : "");
	jw_obj_close(w);
}

static void json_error(struct jw *w, const struct nslab_sim *sim)
{
	if (sim->status == NSLAB_SIM_PASSED) {
		jw_raw(w, "error", "null");
		return;
	}
	jw_obj_open(w, "error");
	if (sim->failed_step >= 0) {
		jw_str(w, "step", sim->file->steps[sim->failed_step].id);
		jw_uint(w, "index", (uint64_t)sim->failed_step);
	} else {
		jw_raw(w, "step", "null");
	}
	jw_str(w, "message", sim->error);
	jw_obj_close(w);
}

static void iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_sim_json(const struct nslab_sim *sim)
{
	char started[32];
	struct jw w;
	int r;

	iso_time(sim->started_wall, started, sizeof(started));
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_uint(&w, "schema", SIM_JSON_SCHEMA);
	jw_str(&w, "sim", sim->file->name);
	jw_str(&w, "file", sim->file->path);
	jw_str(&w, "lab", sim->file->lab_path);
	jw_str(&w, "status", nslab_sim_status_name(sim->status));
	jw_str(&w, "started", started);
	jw_double(&w, "ms", sim->ms, 3);
	json_error(&w, sim);
	jw_arr_open(&w, "steps");
	for (size_t i = 0; i < sim->file->n_steps; i++)
		json_step(&w, sim, i);
	jw_arr_close(&w);
	jw_obj_close(&w);
	r = jw_get(&w) ? write_file(sim->dir_fd, "sim.json", jw_get(&w)) : -ENOMEM;
	jw_free(&w);
	return r;
}

static int write_results(const struct nslab_sim *sim)
{
	FILE *md;
	char *text = NULL;
	size_t size = 0;
	struct jw w;
	int r;

	md = open_memstream(&text, &size);
	if (!md)
		return -ENOMEM;
	fprintf(md, "# %s: %s\n\n| result | value | step |\n|---|---|---|\n", sim->file->name,
		nslab_sim_status_name(sim->status));
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_uint(&w, "schema", SIM_JSON_SCHEMA);
	jw_str(&w, "sim", sim->file->name);
	jw_str(&w, "status", nslab_sim_status_name(sim->status));
	jw_obj_open(&w, "results");
	for (size_t i = 0; i < sim->file->n_steps; i++)
		for (size_t k = 0; k < sim->file->steps[i].n_caps; k++) {
			const struct sim_capture *c = &sim->file->steps[i].caps[k];
			const char *v = sim->state[i].values[k];

			if (!c->result)
				continue;
			jw_str(&w, c->name, v);
			fprintf(md, "| %s | %s | %s |\n", c->name, v ? v : "—",
				sim->file->steps[i].id);
		}
	jw_obj_close(&w);
	jw_obj_close(&w);
	fclose(md);
	r = text && jw_get(&w) ? write_file(sim->dir_fd, "results.json", jw_get(&w)) : -ENOMEM;
	if (r >= 0)
		r = write_file(sim->dir_fd, "results.md", text);
	free(text);
	jw_free(&w);
	return r;
}

int sim_write_outputs(const struct nslab_sim *sim)
{
	int r = write_sim_json(sim);

	return r < 0 ? r : write_results(sim);
}

/* SPDX-License-Identifier: MIT */
/* sim/values: the values of ${...} while a sim runs, and a failing step's message. */
#include "sim/steps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * A value for ${...} kept until the step that asked for it ends (sim_release_kept()):
 * a lookup's value is copied into the text being interpolated at once, and a
 * soak (every: for an hour) would otherwise keep every one it ever made.
 */
const char *sim_keep(struct nslab_sim *sim, char *v)
{
	char **k;

	if (!v)
		return NULL;
	k = reallocarray(sim->kept, sim->n_kept + 1, sizeof(*k));
	if (!k) {
		free(v);
		return NULL;
	}
	sim->kept = k;
	k[sim->n_kept++] = v;
	return v;
}

void sim_release_kept(struct nslab_sim *sim)
{
	for (size_t i = 0; i < sim->n_kept; i++)
		free(sim->kept[i]);
	sim->n_kept = 0;
}

static const char *node_value(struct nslab_sim *sim, nslab_node *node, const char *what)
{
	char buf[64];

	if (strcmp(what, "ip") != 0 && strcmp(what, "ip6") != 0)
		return NULL;
	if (nslab_node_addr(node, NULL, what[2] ? AF_INET6 : AF_INET, buf, sizeof(buf), NULL) < 0)
		return NULL;
	return sim_keep(sim, strdup(buf));
}

static const char *step_value(struct nslab_sim *sim, size_t i, const char *what)
{
	struct sim_state *s = &sim->state[i];
	char buf[32];

	if (s->status == SIM_STEP_PENDING)
		return NULL;
	if (strcmp(what, "stdout") == 0 || strcmp(what, "stderr") == 0) {
		int fd = what[3] == 'o' ? s->out_fd : s->err_fd;
		const char *done = what[3] == 'o' ? s->out : s->errtext;

		/* a spawn still running: what it printed so far */
		if (!done && s->proc && !s->has_exit && fd >= 0)
			return sim_keep(sim, sim_read_output(fd));
		return done ? done : "";
	}
	if (strcmp(what, "exit") == 0 && s->has_exit) {
		snprintf(buf, sizeof(buf), "%d", s->exit);
		return sim_keep(sim, strdup(buf));
	}
	if (strcmp(what, "path") == 0 && s->path)
		return s->path;
	if (strcmp(what, "key") == 0 && s->key)
		return s->key;
	if (strcmp(what, "dir") == 0 && s->path)
		return sim_keep(sim, strndup(s->path, (size_t)(strrchr(s->path, '/') - s->path)));
	if (s->cap && (strcmp(what, "packets") == 0 || strcmp(what, "bytes") == 0)) {
		uint64_t packets, bytes;

		pkt_capture_counts(s->cap, &packets, &bytes);
		snprintf(buf, sizeof(buf), "%llu",
			 (unsigned long long)(what[0] == 'p' ? packets : bytes));
		return sim_keep(sim, strdup(buf));
	}
	if (strcmp(what, "iterations") == 0 || strcmp(what, "ticks") == 0) {
		snprintf(buf, sizeof(buf), "%u", s->iterations);
		return sim_keep(sim, strdup(buf));
	}
	if (strcmp(what, "picks") == 0)
		return s->picks ? s->picks : "";
	if (strcmp(what, "ms") == 0) {
		snprintf(buf, sizeof(buf), "%.3f", s->ms);
		return sim_keep(sim, strdup(buf));
	}
	for (size_t k = 0; k < sim->file->steps[i].n_caps; k++)
		if (s->values[k] && strcmp(sim->file->steps[i].caps[k].name, what) == 0)
			return s->values[k];
	return NULL;
}

/* ${NODE.ip}, ${NODE.ip6}, ${STEP.stdout|stderr|exit|ms|CAPTURE}. */
const char *sim_lookup(const char *name, void *data)
{
	struct nslab_sim *sim = data;
	const char *dot = strrchr(name, '.');
	char head[128];
	nslab_node *node;

	if (!dot || (size_t)(dot - name) >= sizeof(head))
		return NULL;
	snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
	for (size_t i = 0; i < sim->file->n_steps; i++)
		if (strcmp(sim->file->steps[i].id, head) == 0)
			return step_value(sim, i, dot + 1);
	node = sim->built ? nslab_lab_node(sim->lab, head) : NULL;
	return node ? node_value(sim, node, dot + 1) : NULL;
}

/* Step failures */

int sim_step_fail(struct nslab_sim *sim, size_t i, const char *fmt, ...)
{
	const struct sim_step *st = &sim->file->steps[i];
	char msg[sizeof(sim->error) - 160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sim->error, sizeof(sim->error), "%s:%u:%u: step '%s' (%s): %s", sim->file->path,
		 st->loc.line, st->loc.col, st->id, sim_kind_name(st->kind), msg);
	sim->state[i].status = SIM_STEP_FAILED;
	sim->failed_step = (long)i;
	return -1;
}

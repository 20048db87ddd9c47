/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lab/lab: the lab object behind the public nslab_lab: spec (what was asked),
 * plan (addresses and names), and the live part (namespaces, mount namespace,
 * processes, event log, control socket).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/events.h"
#include "core/log.h"
#include "lab/plan.h"
#include "lab/spec.h"
#include "nslab/lab.h"
#include "ns/netns.h"
#include "ns/pidns.h"

struct nslab_node {
	struct nslab_lab *lab;
	size_t idx; /* plan node index (0 = lab root) */
	const struct plan_node *pn;
	struct netns *ns;
	int next_ifindex; /* next ifindex to request in this namespace */
	unsigned spawn_seq;
};

struct nslab_proc {
	struct nslab_lab *lab;
	struct nslab_node *node;
	pid_t pid;
	int pidfd;
	bool reaped;
	int status;
	unsigned seq;
	char *cmd;
	struct nslab_proc *next; /* in lab->procs */
};

struct nslab_lab {
	struct lab_spec *spec;
	struct lab_plan *plan;
	struct nslab_node *nodes; /* plan->n_nodes entries */
	bool built, rootless;
	int mntns_fd;		/* mount namespace with the lab's /etc/hosts */
	struct pidns_init init; /* pid 1 of the lab PID namespace: every process runs there */
	char **env;		/* NSLAB_IP_* entries plus the caller's environment */
	char *outdir;
	struct evlog ev;
	struct logger log;
	nslab_event_func event_fn;
	void *event_data;
	struct nslab_proc *procs;
	int listen_fd;
	int *waiters; /* clients of `down`, answered by closing once the lab is gone */
	size_t n_waiters;
	double built_at;
};

/* Build everything in the plan on a worker thread (see build.c). */
int lab_build(struct nslab_lab *lab, nslab_error *err);
/* Undo lab_build(): kill processes, close namespaces. */
void lab_teardown(struct nslab_lab *lab);
/* The /etc/hosts text for the lab (see hosts.c). Return: malloc'd text. */
int lab_hosts_text(const struct nslab_lab *lab, char **ret, nslab_error *err);
/* NSLAB_IP_* environment merged over environ (see hosts.c). */
int lab_env_make(struct nslab_lab *lab, nslab_error *err);
void lab_env_free(struct nslab_lab *lab);
/* Write the lab's state as JSON (status replies and state.json) into w (see state.c). */
void lab_state_json(const struct nslab_lab *lab, struct jw *w);
/* The human table of nodes, interfaces and addresses. Return: malloc'd text. */
int lab_table_text(const struct nslab_lab *lab, char **ret, nslab_error *err);
int lab_state_write(const struct nslab_lab *lab, nslab_error *err);
/* Events about the lab (see state.c). */
void lab_emit_built(struct nslab_lab *lab);
void lab_emit_destroyed(struct nslab_lab *lab);
/* Primary iface of a node: a device's default_via, a router's uplink; -1 if none. */
ssize_t lab_node_primary_iface(const struct plan_node *pn);
/* Outer uid: the caller's uid outside our user namespace (for socket names). */
unsigned lab_outer_uid(void);

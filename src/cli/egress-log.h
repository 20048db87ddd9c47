/* SPDX-License-Identifier: MIT */
/* cli/egress-log: the live lines and the JSON log of a filtered run (see egress-log.c). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nslab/egress.h"

#define EGRESS_LOG_SCHEMA 1

#define EGRESS_LOG_TIME	 32  /* "2026-12-02T18:30:14.615Z" and a NUL, rounded */
#define EGRESS_LOG_TIMES 128 /* connections whose start and end are kept for their record */

/* When a connection started and ended (flow events), for its record at the end of the run. */
struct egress_log_times {
	char key[128];					   /* protocol and 5-tuple; "" unused */
	char start[EGRESS_LOG_TIME], end[EGRESS_LOG_TIME]; /* "" unknown */
};

struct egress_log {
	pthread_mutex_t lock; /* the session's threads report at once: one record at a time */
	FILE *f;	      /* --log FILE, or NULL */
	bool lines;	      /* one line per query on stderr */
	unsigned queries, allowed, blocked, connections;
	unsigned decisions;	/* --interactive: connections decided by asking */
	unsigned blocked_flows; /* new flows the policy denied */
	uint64_t t0;		/* CLOCK_MONOTONIC ms at open */
	char id[48];		/* the session's id: PID-EPOCH */
	bool ruled;		/* the rule before the end-of-run connections was drawn */
	struct egress_log_times times[EGRESS_LOG_TIMES]; /* the latest connections' */
	unsigned n_times;
};

/* An egress option as given on the command line (value NULL for a flag). */
struct egress_log_opt {
	const char *name, *value;
};

/* A filtered run's resolv.conf: $XDG_RUNTIME_DIR (or /tmp)/nslab-resolv-PID-XXXXXX. */
#define EGRESS_RESOLV_PREFIX "nslab-resolv-"
/*
 * egress_cleanup() - Remove what killed filtered runs of this user left: the
 * resolv.conf files of runs whose PID is gone (a SIGKILL in the few ms between
 * their creation and the sandbox's start). Return: how many were removed.
 */
unsigned egress_cleanup(void);

/* Open path for writing (NULL: no file), owned as egress_log_own() says. Return: 0 or -errno. */
int egress_log_open(struct egress_log *l, const char *path);
/* The session record: command, mode, the egress options as given, the policy as parsed (JSON, or NULL). */
void egress_log_session(struct egress_log *l, char **argv, const char *mode,
			const struct egress_log_opt *opts, size_t n, const char *policy);
/* Under sudo (root, SUDO_UID and SUDO_GID set): give the file on fd to the invoking user. */
void egress_log_own(int fd);
/* nslab_egress_event_func: data is the struct egress_log. Runs on the DNS gate's thread. */
void egress_log_event(const struct nslab_egress_event *ev, void *data);
/* --interactive: an "ASKED" live line as a question is put (its answer comes as an event). */
void egress_log_asked(struct egress_log *l, const struct nslab_egress_question *q);
/* nslab_egress_connection_func: data is the struct egress_log. */
void egress_log_connection(const struct nslab_egress_connection *c, void *data);
/* nslab_egress_connection_func, live: a "flow" record (event new or end). */
void egress_log_flow(const struct nslab_egress_connection *c, void *data);
/* The summary record, then close. Return: 0 or -errno of the close. */
int egress_log_close(struct egress_log *l, int exit_code);

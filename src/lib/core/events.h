/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/events: the one event stream. Every layer reports what it did as a JSON
 * object {"seq","ts","kind",...fields}; sinks are an events.jsonl file and a
 * callback (CLI live output, supervisor). Writing is synchronous and ordered.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/json.h"
#include "nslab/error.h"

/*
 * Called with each event's JSON text (one line, no newline) and its kind, both
 * borrowed for the call. It may emit events itself (evlog_begin/end): they are
 * written after the current one and passed to the callback in turn.
 */
typedef void (*evlog_cb)(const char *kind, const char *json, void *data);

struct evlog {
	FILE *file; /* NULL: no file sink */
	uint64_t seq;
	evlog_cb cb;
	void *cb_data;
	struct jw w;
	const char *kind; /* of the event being written */
	bool flush_each;  /* flush the file after every event (off while bulk building) */
};

void evlog_init(struct evlog *ev);
/* Open (truncate) path as the file sink. */
int evlog_open(struct evlog *ev, const char *path, nslab_error *err);
void evlog_close(struct evlog *ev);
/*
 * evlog_begin() - Start an event; add fields to the returned writer, then evlog_end()
 * Return: the writer (borrowed, valid until evlog_end()).
 */
struct jw *evlog_begin(struct evlog *ev, const char *kind);
void evlog_end(struct evlog *ev);
void evlog_flush(struct evlog *ev);
/* Wall-clock time in seconds since the epoch (microsecond resolution). */
double evlog_now(void);

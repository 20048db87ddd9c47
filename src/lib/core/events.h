/* SPDX-License-Identifier: MIT */
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

/**
 * evlog_init() - Start an event log with no sinks, seq 0, flushing after each event
 * @ev:  event log (caller's storage); set cb/cb_data directly, add a file with evlog_open()
 */
void evlog_init(struct evlog *ev);
/**
 * evlog_open_fd() - Make fd (open for writing) the file sink
 * @ev:   event log
 * @fd:   taken: closed with the sink, or at once on failure
 * @err:  on failure, the cause
 *
 * Replaces (closes) any file sink opened before; on failure that one stays.
 * The caller opens the file: see outdir_create() for an output directory.
 * Return: 0, or fdopen()'s -errno
 */
int evlog_open_fd(struct evlog *ev, int fd, nslab_error *err);
/**
 * evlog_close() - Close the file sink and free the writer
 * @ev:  event log; the callback and seq are kept, so it may still be used
 */
void evlog_close(struct evlog *ev);
/**
 * evlog_begin() - Start an event; add fields to the returned writer, then evlog_end()
 * @ev:    event log
 * @kind:  event kind, borrowed: must stay valid until evlog_end() (a literal, usually)
 *
 * Takes the next seq number and stamps "ts" (evlog_now()).
 * Return: the writer (borrowed, valid until evlog_end()).
 */
struct jw *evlog_begin(struct evlog *ev, const char *kind);
/**
 * evlog_end() - Finish the event and write it to the file, then to the callback
 * @ev:  event log
 *
 * Never fails: an event that ran out of memory is dropped (its seq number is not
 * reused), and file write errors are ignored.
 */
void evlog_end(struct evlog *ev);
/**
 * evlog_flush() - Flush the file sink, if any (after bulk writing with flush_each off)
 * @ev:  event log
 */
void evlog_flush(struct evlog *ev);
/**
 * evlog_now() - Wall-clock time (CLOCK_REALTIME)
 * Return: seconds since the epoch, microsecond resolution
 */
double evlog_now(void);

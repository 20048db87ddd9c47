/* SPDX-License-Identifier: MIT */
/* core/events: seq-numbered JSON lines to a file and to a callback. */
#include "core/events.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void evlog_init(struct evlog *ev)
{
	memset(ev, 0, sizeof(*ev));
	jw_init(&ev->w);
	ev->flush_each = true;
}

int evlog_open_fd(struct evlog *ev, int fd, nslab_error *err)
{
	FILE *f = fdopen(fd, "w");

	if (!f) {
		int r = nslab_err_set(err, errno, "event log");

		(void)close(fd);
		return r;
	}
	if (ev->file)
		fclose(ev->file);
	ev->file = f;
	return 0;
}

void evlog_close(struct evlog *ev)
{
	if (ev->file)
		fclose(ev->file);
	jw_free(&ev->w);
	ev->file = NULL;
}

double evlog_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}

struct jw *evlog_begin(struct evlog *ev, const char *kind)
{
	jw_reset(&ev->w);
	jw_obj_open(&ev->w, NULL);
	jw_uint(&ev->w, "seq", ++ev->seq);
	jw_double(&ev->w, "ts", evlog_now(), 6);
	jw_str(&ev->w, "kind", kind);
	ev->kind = kind;
	return &ev->w;
}

/*
 * The callback may emit events of its own, and evlog_begin() reuses ev->w: so
 * the event being handed out moves to a local writer first, and ev->w starts
 * empty for any nested event. Nested events are written whole, after this one
 * (their seq is higher), and reach the callback in turn. ev->w gets its buffer
 * back afterwards unless a nested event allocated a new one.
 */
static void call_back(struct evlog *ev, const char *text)
{
	struct jw out = ev->w;

	jw_init(&ev->w);
	ev->cb(ev->kind, text, ev->cb_data);
	if (ev->w.buf) {
		jw_free(&out);
	} else {
		jw_reset(&out);
		ev->w = out;
	}
}

void evlog_end(struct evlog *ev)
{
	const char *text;

	jw_obj_close(&ev->w);
	text = jw_get(&ev->w);
	if (!text)
		return; /* out of memory: the event is lost, the lab goes on */
	if (ev->file) {
		fputs(text, ev->file);
		fputc('\n', ev->file);
		if (ev->flush_each)
			fflush(ev->file);
	}
	if (ev->cb)
		call_back(ev, text);
}

void evlog_flush(struct evlog *ev)
{
	if (ev->file)
		fflush(ev->file);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/events: seq-numbered JSON lines to a file and to a callback. */
#include "core/events.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

void evlog_init(struct evlog *ev)
{
	memset(ev, 0, sizeof(*ev));
	jw_init(&ev->w);
	ev->flush_each = true;
}

int evlog_open(struct evlog *ev, const char *path, nslab_error *err)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return nslab_err_set(err, errno, "open '%s'", path);
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
		ev->cb(ev->kind, text, ev->cb_data);
}

void evlog_flush(struct evlog *ev)
{
	if (ev->file)
		fflush(ev->file);
}

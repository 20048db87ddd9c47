/* SPDX-License-Identifier: MIT */
/*
 * httpd/runs-watch: /api/runs?watch=1, the runs list as server-sent events:
 * the list at once, then again each time it changes, so the UI never polls.
 *
 * What can change it: a directory under a served one (a run's output
 * directory made, a report written, a run removed) and the caller's live labs.
 * Every directory the list's walk visits is watched with inotify (at most
 * RUNS_WATCH_MAX a root; a new directory is watched by the walk its creation
 * triggers). Live labs are abstract sockets, which nothing can watch: their
 * names (/proc/net/unix, no connection to any supervisor) are compared every
 * second, and only a difference pays for asking their supervisors again (a
 * busy one may take seconds to answer: a directory's change never waits for
 * that, it reuses the labs last heard of). A list is sent only when its text
 * differs from the last one sent.
 */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <nslab/control.h>

#include "shared/macro.h"

#define LIVE_CHECK_MS 1000
#define SETTLE_MS     100 /* a burst of changes (a lab's outdir being made) is one list */
#define PING_MS	      15000

struct rwatch {
	struct httpd *h;
	int ino;
	int client; /* the connection's socket (borrowed): its hang-up ends the stream */
	int stop;   /* the server's stop eventfd (borrowed) */
	bool dirty; /* a watched directory changed: walk again */
	char *last; /* the list last sent */
	char *labs; /* the live labs' names last seen, one a line */
	char *live; /* what nslab_ctl_ls() said of them then; NULL: ask at the next walk */
	char *out;
	size_t out_len, out_off;
	unsigned idle_ms; /* since the last byte sent */
};

static void rwatch_free(void *cls)
{
	struct rwatch *s = cls;

	(void)close_fd(s->ino);
	free(s->last);
	free(s->labs);
	free(s->live);
	free(s->out);
	free(s);
}

/* The live labs' names as one string, NULL if they cannot be listed. */
static char *lab_names(void)
{
	char **names = NULL, *text = NULL;
	size_t len = 1;

	if (nslab_ctl_list(&names, NULL) < 0)
		return NULL;
	for (size_t i = 0; names[i]; i++)
		len += strlen(names[i]) + 1;
	text = calloc(1, len);
	for (size_t i = 0; text && names[i]; i++)
		strcat(strcat(text, names[i]), "\n");
	nslab_strv_free(names);
	return text;
}

/* "data: " before each line of json (SSE joins them with \n again). */
static int format_event(struct rwatch *s, const char *json)
{
	size_t lines = 1, len = strlen(json);
	char *p;

	for (const char *c = json; *c; c++)
		lines += *c == '\n';
	free(s->out);
	s->out = p = malloc(len + lines * 6 + 3);
	if (!p)
		return -ENOMEM;
	p = stpcpy(p, "data: ");
	for (const char *c = json; *c; c++)
		p = *c == '\n' ? stpcpy(p, "\ndata: ") : (*p = *c, p + 1);
	p = stpcpy(p, "\n\n");
	s->out_len = (size_t)(p - s->out);
	s->out_off = 0;
	return 0;
}

/* Walk the served directories again (watching what is new); queue the list if it changed. */
static int rescan(struct rwatch *s)
{
	struct jw w;
	int r = 0;

	s->dirty = false;
	/* failing, the walk asks itself and the list says why (live_error) */
	if (!s->live && nslab_ctl_ls(NSLAB_LS_JSON, &s->live, NULL) < 0)
		s->live = NULL;
	jw_init(&w);
	runs_json(s->h, &w, s->ino, s->live);
	if (!jw_get(&w))
		r = -ENOMEM;
	else if (!s->last || strcmp(s->last, jw_get(&w)) != 0) {
		free(s->last);
		s->last = strdup(jw_get(&w));
		r = s->last ? format_event(s, s->last) : -ENOMEM;
	}
	jw_free(&w);
	return r;
}

static bool labs_changed(struct rwatch *s)
{
	char *now = lab_names();
	bool changed = now && (!s->labs || strcmp(now, s->labs) != 0);

	if (changed) {
		free(s->labs);
		s->labs = now;
		free(s->live);
		s->live = NULL; /* asked again by the walk */
	} else {
		free(now);
	}
	return changed;
}

static ssize_t rwatch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct rwatch *s = cls;

	(void)pos;
	for (;;) {
		size_t n = stream_take(s->out, s->out_len, &s->out_off, buf, max);

		if (n) {
			s->idle_ms = 0;
			return (ssize_t)n;
		}
		s->out_len = s->out_off = 0;
		if (s->idle_ms >= PING_MS) {
			free(s->out);
			s->out = strdup(": ping\n\n");
			if (!s->out)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			s->out_len = strlen(s->out);
			continue;
		}
		/* a change waits SETTLE_MS for the rest of its burst before the walk */
		switch (stream_wait(s->ino, s->stop, s->client,
				    s->dirty ? SETTLE_MS : LIVE_CHECK_MS)) {
		case STREAM_CHANGED:
			s->dirty = true;
			continue;
		case STREAM_TIMEOUT:
			s->idle_ms += s->dirty ? SETTLE_MS : LIVE_CHECK_MS;
			if ((labs_changed(s) || s->dirty) && rescan(s) < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		case STREAM_END:
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
}

enum MHD_Result api_runs_watch(struct http_req *q)
{
	struct rwatch *s = calloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *r;

	if (!s)
		return MHD_NO;
	s->h = q->h;
	s->stop = q->h->stop_fd;
	s->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (s->ino < 0) {
		int e = errno;

		rwatch_free(s);
		return http_reply_error(q->c, 500, "runs: inotify: %s", strerror(e));
	}
	ci = dl_mhd.MHD_get_connection_info(q->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->client = ci ? ci->connect_fd : -1;
	s->labs = lab_names();
	/* the first list at once: what /api/runs would answer */
	if (rescan(s) < 0) {
		rwatch_free(s);
		return MHD_NO;
	}
	r = dl_mhd.MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 << 10, rwatch_read, s,
						     rwatch_free);
	if (!r) {
		rwatch_free(s);
		return MHD_NO;
	}
	(void)dl_mhd.MHD_add_response_header(r, "Content-Type", "text/event-stream");
	(void)dl_mhd.MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return http_queue(q->c, 200, r);
}

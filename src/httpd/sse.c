/* SPDX-License-Identifier: MIT */
/*
 * httpd/sse: a run's events.jsonl as server-sent events: the history, then
 * (unless ?follow=0) the live tail, each event as "id: SEQ" + "data: LINE".
 * A client that reconnects with Last-Event-ID (or ?last=SEQ) gets only later
 * events. The tail waits on inotify (never polls the file), on the client's
 * hang-up and on the server's stop, with a comment every 15 s to keep the
 * connection and any proxy in between alive.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "shared/macro.h"

#define SSE_LINE_MAX (256 << 10) /* a longer line is not one of nslab's events: skipped */
#define SSE_PING_MS  15000
#define SSE_CHUNK    (16 << 10)

struct sse {
	int fd;	    /* events.jsonl */
	int ino;    /* inotify on it; -1 without ?follow */
	int client; /* the connection's socket (borrowed): its hang-up ends the stream */
	int stop;   /* the server's stop eventfd (borrowed) */
	uint64_t last;
	bool skipping; /* inside an over-long line */
	char *in;      /* read, not yet a whole line */
	size_t in_len;
	char *out; /* formatted, not yet handed to the connection */
	size_t out_len, out_off, out_cap;
};

static void sse_free(void *cls)
{
	struct sse *s = cls;

	(void)close_fd(s->fd);
	(void)close_fd(s->ino);
	free(s->in);
	free(s->out);
	free(s);
}

static int out_add(struct sse *s, const char *text, size_t len)
{
	if (s->out_len + len > s->out_cap) {
		size_t cap = (s->out_len + len) * 2;
		char *p = realloc(s->out, cap);

		if (!p)
			return -ENOMEM;
		s->out = p;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, text, len);
	s->out_len += len;
	return 0;
}

/* One line of events.jsonl as an SSE event, unless the client has it already. */
static int emit_line(struct sse *s, const char *line, size_t len)
{
	uint64_t seq = http_event_seq(line, len);
	char head[48];
	int n;

	if (len == 0 || (seq && seq <= s->last))
		return 0;
	n = seq ? snprintf(head, sizeof(head), "id: %" PRIu64 "\ndata: ", seq)
		: snprintf(head, sizeof(head), "data: ");
	if (out_add(s, head, (size_t)n) < 0 || out_add(s, line, len) < 0 ||
	    out_add(s, "\n\n", 2) < 0)
		return -ENOMEM;
	return 0;
}

/* Read what the file has now; complete lines become events. */
static int fill(struct sse *s)
{
	for (;;) {
		/* a chunk at a time: of the line buffer, only what a line needs is ever touched */
		size_t room = SSE_LINE_MAX - s->in_len;
		ssize_t n = read(s->fd, s->in + s->in_len, room < SSE_CHUNK ? room : SSE_CHUNK);
		size_t start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		s->in_len += (size_t)n;
		for (size_t i = 0; i < s->in_len; i++) {
			if (s->in[i] != '\n')
				continue;
			if (!s->skipping && emit_line(s, s->in + start, i - start) < 0)
				return -ENOMEM;
			s->skipping = false;
			start = i + 1;
		}
		memmove(s->in, s->in + start, s->in_len - start);
		s->in_len -= start;
		if (s->in_len == SSE_LINE_MAX) {
			s->skipping = true;
			s->in_len = 0;
		}
		if (s->out_len)
			return 0;
	}
}

enum stream_wake stream_wait(int ino, int stop, int client, int ms)
{
	struct pollfd p[3] = { { .fd = ino, .events = POLLIN },
			       { .fd = stop, .events = POLLIN },
			       { .fd = client, .events = POLLRDHUP } };
	char buf[4096];
	int n;

	do
		n = poll(p, client >= 0 ? 3 : 2, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0 || p[1].revents || p[2].revents)
		return STREAM_END;
	if (n == 0)
		return STREAM_TIMEOUT;
	while (read(ino, buf, sizeof(buf)) > 0)
		; /* what changed does not matter: the caller looks again */
	return STREAM_CHANGED;
}

size_t stream_take(const char *out, size_t len, size_t *off, char *buf, size_t max)
{
	size_t n = len - *off < max ? len - *off : max;

	if (n == 0)
		return 0; /* out may be NULL: nothing was ever written */
	memcpy(buf, out + *off, n);
	*off += n;
	return n;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;

	(void)pos;
	for (;;) {
		size_t n = stream_take(s->out, s->out_len, &s->out_off, buf, max);

		if (n)
			return (ssize_t)n;
		s->out_len = s->out_off = 0;
		if (fill(s) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (s->out_len)
			continue;
		if (s->ino < 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		switch (stream_wait(s->ino, s->stop, s->client, SSE_PING_MS)) {
		case STREAM_CHANGED:
			break;
		case STREAM_TIMEOUT:
			if (out_add(s, ": ping\n\n", 8) < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		case STREAM_END:
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
}

static int last_seen(struct http_req *q, uint64_t *ret)
{
	const char *v = dl_mhd.MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Last-Event-ID");
	char *end;

	if (!v)
		v = http_arg(q, "last");
	*ret = 0;
	if (!v || !*v)
		return 0;
	errno = 0;
	*ret = strtoull(v, &end, 10);
	return errno || *end || *v == '-' ? -EINVAL : 0;
}

/* The stream's state: the file open and, when following, watched before its first read. */
static int sse_open(struct http_req *q, int dfd, bool follow, struct sse **ret, nslab_error *err)
{
	_cleanup_free_ struct sse *s = calloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *ci;
	char path[64];

	if (!s || !(s->in = malloc(SSE_LINE_MAX))) {
		if (s)
			free(s->in);
		return nslab_err_set(err, ENOMEM, "events");
	}
	s->ino = -1;
	s->stop = q->h->stop_fd;
	s->fd = open_beneath(dfd, "events.jsonl", O_RDONLY, err);
	if (s->fd < 0) {
		free(s->in);
		return s->fd;
	}
	ci = dl_mhd.MHD_get_connection_info(q->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->client = ci ? ci->connect_fd : -1;
	if (follow) {
		/* the watch goes on the file we opened (the magic link), never on a name */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
		s->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (s->ino < 0 || inotify_add_watch(s->ino, path, IN_MODIFY | IN_CLOSE_WRITE) < 0) {
			int e = errno;

			sse_free(TAKE_PTR(s));
			return nslab_err_set(err, e, "events: inotify");
		}
	}
	*ret = TAKE_PTR(s);
	return 0;
}

enum MHD_Result api_events(struct http_req *q)
{
	struct run run = { .dfd = -1 };
	const char *f = http_arg(q, "follow");
	bool follow = !f || strcmp(f, "0") != 0;
	struct MHD_Response *r;
	nslab_error err = { 0 };
	struct sse *s = NULL;
	uint64_t last;
	int rc;

	if (last_seen(q, &last) < 0)
		return http_reply_error(q->c, 400,
					"Last-Event-ID / ?last=: expected an event's seq");
	if (run_open(q->h, http_arg(q, "run"), &run, &err) < 0)
		return http_reply_err(q->c, &err);
	rc = sse_open(q, run.dfd, follow, &s, &err);
	run_close(&run);
	if (rc < 0)
		return http_reply_err(q->c, &err);
	s->last = last;
	if (out_add(s, "retry: 1000\n\n", 13) < 0) {
		sse_free(s);
		return MHD_NO;
	}
	r = dl_mhd.MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 << 10, sse_read, s,
						     sse_free);
	if (!r) {
		sse_free(s);
		return MHD_NO;
	}
	(void)dl_mhd.MHD_add_response_header(r, "Content-Type", "text/event-stream");
	(void)dl_mhd.MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return http_queue(q->c, 200, r);
}

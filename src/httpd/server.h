/* SPDX-License-Identifier: MIT */
/* httpd/server: the state every request handler shares, and the replies. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nslab/error.h>

#include "core/json.h"
#include "http-parse.h"
#include "mhd-dl.h"

#define HTTP_BUCKETS   256	   /* rate-limit buckets, by hash of the client address */
#define HTTP_BODY_MAX  (256 << 10) /* a POST body (the playground's suite) */
#define HTTP_TOKEN_HEX 32

struct httpd_root {
	char *path; /* as given, for the runs list */
	int fd;	    /* O_PATH|O_DIRECTORY, opened once at start: every lookup starts here */
};

struct http_bucket {
	uint64_t key;  /* hash of the address; 0 unused */
	double tokens; /* a token bucket: `rate` per second, at most 2 * rate */
	double at;     /* when tokens was last brought up to date (s, monotonic) */
};

struct httpd {
	struct httpd_root *roots;
	size_t n_roots;
	int ui_fd;   /* the built UI's directory, -1 if there is none */
	int stop_fd; /* an eventfd that becomes readable when the server stops (SSE streams end) */
	bool need_token, playground, any_host, loopback;
	char token[HTTP_TOKEN_HEX + 1];
	char host[64]; /* the bound address as a Host header spells it (brackets for IPv6) */
	unsigned port, rate;
	pthread_mutex_t mu; /* buckets */
	struct http_bucket buckets[HTTP_BUCKETS];
	pthread_mutex_t play_mu; /* one playground run at a time */
};

/* One request that passed the checks, handed to an endpoint. */
struct http_req {
	struct httpd *h;
	struct MHD_Connection *c;
	const char *path; /* the URL's path (decoded), without the query */
	const char *body; /* POST only */
	size_t body_len;
};

/* A query argument (decoded), NULL if absent. */
const char *http_arg(const struct http_req *q, const char *name);
/* Queue r with the headers every answer carries, and drop our reference. */
enum MHD_Result http_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r);
/* Reply with a copy of body (len bytes) as type. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *type,
			   const char *body, size_t len);
enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status, const char *json);
/* {"error": "MSG"} with status. */
enum MHD_Result http_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* {"error": err->msg} with the status that err->code stands for (ENOENT: 404...). */
enum MHD_Result http_reply_err(struct MHD_Connection *c, const nslab_error *err);

/*
 * confine: every file the server reads is opened beneath a directory fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): no "..", no absolute path,
 * no symbolic link may lead out of it (the kernel checks each step, so a link
 * planted while a request runs cannot either).
 */
/**
 * open_beneath() - Open path beneath dirfd, never leaving it
 * @flags: O_RDONLY, O_DIRECTORY...; O_CLOEXEC|O_NOCTTY are added
 * Return: the fd, or -errno with err naming path: -EXDEV (would escape), -EINVAL (bad path)
 */
int open_beneath(int dirfd, const char *path, int flags, nslab_error *err);
/* Read a regular file beneath dirfd, at most max bytes (-EFBIG if larger); free() it. */
int read_beneath(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
		 nslab_error *err);

/*
 * runs: what the served directories hold, and one run's directory. An id is
 * "N:PATH" (the Nth served directory, a path beneath it; "N:." is the
 * directory itself) or "live:LAB" (a running lab of the caller's, its output
 * directory from the supervisor).
 */
struct run {
	int dfd;    /* the run's directory, O_DIRECTORY */
	char *live; /* the lab's name for a live lab, else NULL */
};
#define RUNS_WATCH_MAX 256 /* directories one runs stream watches (of a root each) */
/*
 * The runs list; with ino >= 0, every directory walked is also watched there.
 * live_json: what nslab_ctl_ls() said a moment ago, or NULL to ask it now.
 */
void runs_json(struct httpd *h, struct jw *w, int ino, const char *live_json);
int run_open(struct httpd *h, const char *id, struct run *ret, nslab_error *err);
void run_close(struct run *run);

/* Endpoints (api.c, sse.c, play.c). */
enum MHD_Result api_runs(struct http_req *q);
enum MHD_Result api_state(struct http_req *q);
enum MHD_Result api_logs(struct http_req *q);
enum MHD_Result api_log(struct http_req *q);
enum MHD_Result api_file(struct http_req *q);
enum MHD_Result api_results(struct http_req *q);
enum MHD_Result api_link(struct http_req *q);
enum MHD_Result api_conntrack(struct http_req *q);
enum MHD_Result api_events(struct http_req *q);
enum MHD_Result api_runs_watch(struct http_req *q);
enum MHD_Result api_playground(struct http_req *q);

/*
 * A stream's wait (an SSE stream's, the runs list's): until its inotify fd ino
 * has news (drained: the caller looks again), the server's stop eventfd or the
 * client's hang-up (client -1: none), or ms pass.
 */
enum stream_wake { STREAM_CHANGED, STREAM_TIMEOUT, STREAM_END };
enum stream_wake stream_wait(int ino, int stop, int client, int ms);

/* A stream's pending output out[*off, len) into buf, at most max: the count copied (0: drained). */
size_t stream_take(const char *out, size_t len, size_t *off, char *buf, size_t max);

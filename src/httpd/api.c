/* SPDX-License-Identifier: MIT */
/*
 * httpd/api: the read-only JSON endpoints over a run (see docs/serve.md):
 * runs, state, logs (list, and tail by byte offset), files and sim results.
 * Every file is opened beneath the run's directory (confine.c).
 */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nslab/control.h>

#include "shared/macro.h"

#define JSON_MAX      (16 << 20) /* state.json, results.json */
#define LOG_CHUNK     (64 << 10) /* /api/log's default and ... */
#define LOG_CHUNK_MAX (1 << 20)	 /* ... largest slice */
#define LOGS_MAX      2000	 /* files listed by /api/logs */

static enum MHD_Result reply_jw(struct MHD_Connection *c, struct jw *w)
{
	enum MHD_Result ret = jw_get(w) ? http_reply_json(c, 200, jw_get(w))
					: http_reply_error(c, 500, "out of memory");

	jw_free(w);
	return ret;
}

enum MHD_Result api_runs(struct http_req *q)
{
	const char *watch = http_arg(q, "watch");
	struct jw w;

	if (watch && strcmp(watch, "0") != 0)
		return api_runs_watch(q);
	jw_init(&w);
	runs_json(q->h, &w, -1, NULL);
	return reply_jw(q->c, &w);
}

/* A JSON file of the run, as it is. */
static enum MHD_Result reply_file_json(struct http_req *q, int dfd, const char *name)
{
	_cleanup_free_ char *text = NULL;
	nslab_error err = { 0 };
	size_t len;

	if (read_beneath(dfd, name, JSON_MAX, &text, &len, &err) < 0)
		return http_reply_err(q->c, &err);
	return http_reply(q->c, 200, "application/json", text, len);
}

enum MHD_Result api_state(struct http_req *q)
{
	struct run run = { .dfd = -1 };
	_cleanup_free_ char *json = NULL;
	nslab_error err = { 0 };
	enum MHD_Result ret;
	const char *id = http_arg(q, "run");

	/* a live lab: its supervisor's current state, not the file's last copy */
	if (id && strncmp(id, "live:", 5) == 0) {
		if (nslab_ctl_status(id + 5, &json, &err) < 0)
			return http_reply_err(q->c, &err);
		return http_reply_json(q->c, 200, json);
	}
	if (run_open(q->h, id, &run, &err) < 0)
		return http_reply_err(q->c, &err);
	ret = reply_file_json(q, run.dfd, "state.json");
	run_close(&run);
	return ret;
}

/* A live lab's link: its condition and counters now (`nslab link LAB NODE IFACE --json`). */
enum MHD_Result api_link(struct http_req *q)
{
	_cleanup_free_ char *json = NULL;
	nslab_error err = { 0 };
	const char *id = http_arg(q, "run"), *node = http_arg(q, "node"),
		   *iface = http_arg(q, "iface");

	if (!id || strncmp(id, "live:", 5) != 0 || !node || !iface)
		return http_reply_error(q->c, 400, "expected ?run=live:LAB&node=NODE&iface=IFACE");
	if (nslab_ctl_link(id + 5, node, iface, NULL, 0, NSLAB_CTL_LINK_JSON, &json, &err) < 0)
		return http_reply_err(q->c, &err);
	return http_reply_json(q->c, 200, json);
}

/* A live lab's node's conntrack table now (the supervisor dumps it in the node's namespace). */
enum MHD_Result api_conntrack(struct http_req *q)
{
	_cleanup_free_ char *json = NULL;
	nslab_error err = { 0 };
	const char *id = http_arg(q, "run"), *node = http_arg(q, "node");

	if (!id || strncmp(id, "live:", 5) != 0 || !node)
		return http_reply_error(q->c, 400, "expected ?run=live:LAB&node=NODE");
	if (nslab_ctl_conntrack(id + 5, node, &json, &err) < 0)
		return http_reply_err(q->c, &err);
	return http_reply_json(q->c, 200, json);
}

enum MHD_Result api_results(struct http_req *q)
{
	struct run run = { .dfd = -1 };
	nslab_error err = { 0 };
	enum MHD_Result ret;
	const char *what = http_arg(q, "of");
	const char *name = !what || strcmp(what, "results") == 0 ? "results.json"
			   : strcmp(what, "sim") == 0		 ? "sim.json"
			   : strcmp(what, "manifest") == 0	 ? "manifest.json"
								 : NULL;

	if (!name)
		return http_reply_error(q->c, 400, "?of='%s': expected results, sim or manifest",
					what);
	if (run_open(q->h, http_arg(q, "run"), &run, &err) < 0)
		return http_reply_err(q->c, &err);
	ret = reply_file_json(q, run.dfd, name);
	run_close(&run);
	return ret;
}

/* ---- logs: nodes/<node>/<file> and steps/<file> ---- */

static void list_dir(struct jw *w, int dfd, const char *rel, size_t *n)
{
	_cleanup_close_ int fd = -1;
	struct dirent *e;
	DIR *d;

	fd = open_beneath(dfd, rel, O_RDONLY | O_DIRECTORY, NULL);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		return;
	fd = -1;
	while ((e = readdir(d)) && *n < LOGS_MAX) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", rel, e->d_name);
		if (S_ISDIR(st.st_mode) && strcmp(rel, "nodes") == 0) {
			list_dir(w, dfd, path, n);
		} else if (S_ISREG(st.st_mode)) {
			jw_obj_open(w, NULL);
			jw_str(w, "path", path);
			jw_uint(w, "size", (uint64_t)st.st_size);
			jw_double(w, "mtime", (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9,
				  3);
			jw_obj_close(w);
			(*n)++;
		}
	}
	closedir(d);
}

enum MHD_Result api_logs(struct http_req *q)
{
	struct run run = { .dfd = -1 };
	nslab_error err = { 0 };
	size_t n = 0;
	struct jw w;

	if (run_open(q->h, http_arg(q, "run"), &run, &err) < 0)
		return http_reply_err(q->c, &err);
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_arr_open(&w, "logs");
	list_dir(&w, run.dfd, "nodes", &n);
	list_dir(&w, run.dfd, "steps", &n);
	jw_arr_close(&w);
	jw_bool(&w, "truncated", n >= LOGS_MAX);
	jw_obj_close(&w);
	run_close(&run);
	return reply_jw(q->c, &w);
}

static int parse_u64(const char *s, uint64_t dflt, uint64_t *ret)
{
	char *end;

	if (!s) {
		*ret = dflt;
		return 0;
	}
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

/* Open path beneath the run as a regular file; fills st. */
static int open_run_file(struct http_req *q, struct run *run, struct stat *st, nslab_error *err)
{
	const char *path = http_arg(q, "path");
	int fd, r = run_open(q->h, http_arg(q, "run"), run, err);

	if (r < 0)
		return r;
	if (!path)
		return nslab_err_setx(err, EINVAL, "missing ?path=");
	fd = open_beneath(run->dfd, path, O_RDONLY, err);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return nslab_err_setx(err, EACCES, "'%s' is not a regular file", path);
	}
	return fd;
}

/*
 * A slice of a log from a byte offset (a tail follows with next): the bytes as
 * they are, their place in X-Nslab-Offset, X-Nslab-Next and X-Nslab-Size.
 */
enum MHD_Result api_log(struct http_req *q)
{
	struct run run = { .dfd = -1 };
	nslab_error err = { 0 };
	uint64_t off, max;
	struct MHD_Response *r;
	struct stat st;
	char num[32];
	size_t len;
	int fd;

	if (parse_u64(http_arg(q, "offset"), 0, &off) < 0 ||
	    parse_u64(http_arg(q, "max"), LOG_CHUNK, &max) < 0 || max > LOG_CHUNK_MAX)
		return http_reply_error(q->c, 400,
					"?offset= and ?max= are byte counts (max at "
					"most %d)",
					LOG_CHUNK_MAX);
	fd = open_run_file(q, &run, &st, &err);
	run_close(&run);
	if (fd < 0)
		return http_reply_err(q->c, &err);
	off = off > (uint64_t)st.st_size ? (uint64_t)st.st_size : off;
	len = (size_t)((uint64_t)st.st_size - off < max ? (uint64_t)st.st_size - off : max);
	r = dl_mhd.MHD_create_response_from_fd_at_offset64(len, fd, off); /* takes fd */
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	(void)dl_mhd.MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	snprintf(num, sizeof(num), "%" PRIu64, off);
	(void)dl_mhd.MHD_add_response_header(r, "X-Nslab-Offset", num);
	snprintf(num, sizeof(num), "%" PRIu64, off + len);
	(void)dl_mhd.MHD_add_response_header(r, "X-Nslab-Next", num);
	snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)st.st_size);
	(void)dl_mhd.MHD_add_response_header(r, "X-Nslab-Size", num);
	return http_queue(q->c, 200, r);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* A whole file of the run. Never as HTML or script: it is the run's text, not ours. */
enum MHD_Result api_file(struct http_req *q)
{
	struct run run = { .dfd = -1 };
	nslab_error err = { 0 };
	const char *path = http_arg(q, "path");
	struct MHD_Response *r;
	struct stat st;
	bool json = ends_with(path, ".json") || ends_with(path, ".jsonl");
	bool text = json || ends_with(path, ".txt") || ends_with(path, ".md") ||
		    ends_with(path, ".stdout") || ends_with(path, ".stderr");
	int fd = open_run_file(q, &run, &st, &err);

	run_close(&run);
	if (fd < 0)
		return http_reply_err(q->c, &err);
	r = dl_mhd.MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	(void)dl_mhd.MHD_add_response_header(r, "Content-Type",
					     json   ? "application/json"
					     : text ? "text/plain; charset=utf-8"
						    : "application/octet-stream");
	if (!text)
		(void)dl_mhd.MHD_add_response_header(r, "Content-Disposition", "attachment");
	return http_queue(q->c, 200, r);
}

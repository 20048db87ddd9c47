/* SPDX-License-Identifier: MIT */
/*
 * httpd/runs: run discovery, done afresh for every list (so new runs appear
 * without a restart), bounded in depth and in entries read.
 *
 * A directory is
 * - a "sim-run" if it holds manifest.json (`nslab sim`'s run directory; its
 *   sims are its subdirectories, listed in turn);
 * - a "sim" if it holds events.jsonl and sim.json, a "lab" with events.jsonl
 *   alone (an output directory); neither is searched further;
 * - and every *.json in it whose text starts as `nslab test --format json`'s
 *   is a "report".
 * Symbolic links are never followed (nslab-runs/latest would list a run twice)
 * and hidden names are skipped.
 */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nslab/control.h>

#include "shared/macro.h"

#define WALK_DEPTH   4
#define WALK_ENTRIES 20000 /* per list: a home directory served by mistake stays cheap */
#define WALK_RUNS    1000

struct walk {
	struct jw *w;
	size_t root;
	size_t entries, runs;
	int ino; /* an inotify fd: every directory walked is watched (runs-watch.c); or -1 */
	unsigned watches;
};

/* The changes that may add or remove a run below a directory. */
#define WATCH_MASK                                                                           \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR | \
	 IN_DELETE_SELF)

static void watch_dir(struct walk *wk, int dfd)
{
	char path[64];

	if (wk->ino < 0 || wk->watches >= RUNS_WATCH_MAX)
		return;
	/* the directory we opened (the magic link), never a name that may have moved */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	if (inotify_add_watch(wk->ino, path, WATCH_MASK) >= 0)
		wk->watches++;
}

static bool has_file(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* `nslab test --format json` begins {"schema":1,"suite": */
static bool is_report(int dfd, const char *name)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	char head[64];
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head) - 1);
	if (n <= 0)
		return false;
	head[n] = '\0';
	return strncmp(head, "{\"schema\":1,\"suite\":", 20) == 0;
}

static void run_entry(struct walk *wk, const char *rel, const char *kind, const char *file)
{
	char id[PATH_MAX + 32];
	const char *name = strrchr(rel, '/');

	snprintf(id, sizeof(id), "%zu:%s", wk->root, rel);
	jw_obj_open(wk->w, NULL);
	jw_str(wk->w, "id", id);
	jw_str(wk->w, "kind", kind);
	jw_str(wk->w, "name", file ? file : name ? name + 1 : rel);
	jw_uint(wk->w, "root", wk->root);
	jw_str(wk->w, "path", rel);
	if (file)
		jw_str(wk->w, "file", file);
	jw_obj_close(wk->w);
	wk->runs++;
}

static void walk_dir(struct walk *wk, int dfd, const char *rel, int depth);

static void walk_entries(struct walk *wk, int dfd, const char *rel, int depth)
{
	_cleanup_close_ int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d)
		return;
	fd = -1; /* the DIR owns it now */
	while ((e = readdir(d)) && wk->entries++ < WALK_ENTRIES && wk->runs < WALK_RUNS) {
		char sub[PATH_MAX];
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", strcmp(rel, ".") ? rel : "",
			 strcmp(rel, ".") ? "/" : "", e->d_name);
		if (e->d_type == DT_DIR && depth < WALK_DEPTH) {
			int cfd = openat(dfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (cfd >= 0) {
				walk_dir(wk, cfd, sub, depth + 1);
				close(cfd);
			}
		} else if (e->d_type == DT_REG && n > 5 &&
			   strcmp(e->d_name + n - 5, ".json") == 0 && is_report(dfd, e->d_name)) {
			run_entry(wk, rel, "report", e->d_name);
		}
	}
	closedir(d);
}

static void walk_dir(struct walk *wk, int dfd, const char *rel, int depth)
{
	watch_dir(wk, dfd);
	if (has_file(dfd, "events.jsonl")) {
		run_entry(wk, rel, has_file(dfd, "sim.json") ? "sim" : "lab", NULL);
		return;
	}
	if (has_file(dfd, "manifest.json"))
		run_entry(wk, rel, "sim-run", NULL);
	walk_entries(wk, dfd, rel, depth);
}

void runs_json(struct httpd *h, struct jw *w, int ino, const char *live_json)
{
	_cleanup_free_ char *live = NULL;
	nslab_error err = { 0 };

	jw_obj_open(w, NULL);
	jw_arr_open(w, "roots");
	for (size_t i = 0; i < h->n_roots; i++)
		jw_str(w, NULL, h->roots[i].path);
	jw_arr_close(w);
	jw_arr_open(w, "runs");
	for (size_t i = 0; i < h->n_roots; i++) {
		struct walk wk = { .w = w, .root = i, .ino = ino };
		_cleanup_close_ int fd =
			open_beneath(h->roots[i].fd, ".", O_RDONLY | O_DIRECTORY, NULL);

		if (fd >= 0)
			walk_dir(&wk, fd, ".", 0);
	}
	jw_arr_close(w);
	/* `nslab ls --json` as it is: name, mode, nodes, built_at, pid, outdir (or error) */
	if (live_json)
		jw_raw(w, "live", live_json);
	else if (nslab_ctl_ls(NSLAB_LS_JSON, &live, &err) == 0)
		jw_raw(w, "live", live);
	else
		jw_str(w, "live_error", err.msg);
	jw_obj_close(w);
}

static int parse_root(struct httpd *h, const char *id, const char **ret_rel, size_t *ret_root,
		      nslab_error *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(id, &end, 10);
	if (errno || end == id || *end != ':' || n >= h->n_roots)
		return nslab_err_setx(
			err, EINVAL, "run '%s': not an id from /api/runs (N:PATH or live:LAB)", id);
	*ret_rel = end + 1;
	*ret_root = n;
	return 0;
}

/* A live lab's output directory, which its supervisor (the caller's own, SO_PEERCRED) names. */
static int open_live(const char *lab, struct run *ret, nslab_error *err)
{
	_cleanup_free_ char *path = NULL;
	int fd, r = nslab_ctl_outdir(lab, &path, err);

	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno, "lab '%s': output directory '%s'", lab, path);
	ret->live = strdup(lab);
	if (!ret->live) {
		close(fd);
		return nslab_err_set(err, ENOMEM, "lab '%s'", lab);
	}
	ret->dfd = fd;
	return 0;
}

int run_open(struct httpd *h, const char *id, struct run *ret, nslab_error *err)
{
	const char *rel = NULL;
	size_t root = 0;
	int fd, r;

	if (!id)
		return nslab_err_setx(err, EINVAL, "missing ?run=ID (see /api/runs)");
	if (strncmp(id, "live:", 5) == 0)
		return open_live(id + 5, ret, err);
	r = parse_root(h, id, &rel, &root, err);
	if (r < 0)
		return r;
	fd = open_beneath(h->roots[root].fd, rel, O_RDONLY | O_DIRECTORY, err);
	if (fd < 0)
		return nslab_err_prefix(err, fd, "run '%s'", id);
	ret->dfd = fd;
	ret->live = NULL;
	return 0;
}

void run_close(struct run *run)
{
	run->dfd = close_fd(run->dfd);
	free(run->live);
	run->live = NULL;
}

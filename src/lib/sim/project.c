/* SPDX-License-Identifier: MIT */
/*
 * sim/project: a project's nslab.yaml, which names where its sims are, so
 * that `nslab sim` with no file runs them (found in the working directory or
 * the closest directory above it that has one, as git finds its repository).
 *
 * DOC: nslab.yaml
 *   sims: DIR      (relative to the file; the one key for now, others refused)
 */
#include "nslab/sim.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/yaml.h"
#include "shared/macro.h"

#define PROJECT_FILE_MAX (64u << 10)

/* The closest nslab.yaml from dir up to /; -ENOENT when there is none. */
static int find_file(const char *dir, char **ret)
{
	char *d = realpath(dir, NULL);

	if (!d)
		return -errno;
	for (;;) {
		char *f = NULL;

		if (asprintf(&f, "%s%snslab.yaml", d, strcmp(d, "/") ? "/" : "") < 0) {
			free(d);
			return -ENOMEM;
		}
		if (access(f, F_OK) == 0) {
			free(d);
			*ret = f;
			return 0;
		}
		free(f);
		if (strcmp(d, "/") == 0) {
			free(d);
			return -ENOENT;
		}
		*strrchr(d, '/') = '\0';
		if (!*d)
			strcpy(d, "/");
	}
}

/* sims: DIR, resolved against the file's directory. */
static int sims_dir(const char *path, const char *text, size_t len, char **ret, nslab_error *err)
{
	static const char *const keys[] = { "sims", NULL };
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_free_ char *copy = strdup(path);
	struct yctx y = { .file = path, .err = err };
	const char *dir = NULL;
	uint32_t seen = 0;
	int r = copy ? yaml_read(&y, text, len, 0, &root) : -ENOMEM;

	if (r >= 0 && !root)
		return nslab_err_setx(err, EINVAL, "%s: empty (expected sims: DIR)", path);
	if (r >= 0)
		r = y_map(&y, root, "nslab.yaml", NULL);
	for (size_t i = 0; r >= 0 && i + 1 < root->n; i += 2) {
		r = y_key(&y, root->kids[i], keys, SIZE_MAX, &seen);
		if (r >= 0)
			r = y_str(&y, root->kids[i + 1], "sims", &dir);
	}
	if (r >= 0 && !dir)
		r = y_error(&y, root, "nslab.yaml: expected sims: DIR");
	if (r < 0)
		return r == -ENOMEM ? nslab_err_set(err, ENOMEM, "%s", path) : r;
	if (*dir == '/')
		*ret = strdup(dir);
	else if (asprintf(ret, "%s/%s", dirname(copy), dir) < 0)
		*ret = NULL;
	return *ret ? 0 : nslab_err_set(err, ENOMEM, "%s", path);
}

int nslab_sim_project_dir(const char *dir, char **ret, nslab_error *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;
	int r = find_file(dir, &path);

	if (r == -ENOENT)
		return nslab_err_setx(err, ENOENT, "no nslab.yaml in '%s' or above it", dir);
	if (r < 0)
		return nslab_err_set(err, -r, "look for nslab.yaml from '%s'", dir);
	r = yaml_read_file(path, PROJECT_FILE_MAX, &text, &len, err);
	return r < 0 ? r : sims_dir(path, text ? text : "", len, ret, err);
}

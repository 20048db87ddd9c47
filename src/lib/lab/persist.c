/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lab/persist: `nslab up --persist` names each node's namespace
 * /run/netns/<lab>-<node> (a bind mount, as `ip netns add` makes) and records
 * the paths in /run/nslab/persist/<lab>.list; nslab_cleanup() undoes both.
 * These are the only things nslab leaves behind, and only when asked to.
 */
#include "nslab/control.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab.h"

#define NETNS_RUN_DIR "/run/netns"
#define PERSIST_DIR   "/run/nslab/persist"

static int bind_netns(int nsfd, const char *path, nslab_error *err)
{
	char src[64];
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);

	if (fd < 0)
		return nslab_err_set(err, errno, "create '%s'", path);
	(void)close(fd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", nsfd);
	if (mount(src, path, NULL, MS_BIND, NULL) < 0) {
		int r = nslab_err_set(err, errno, "bind namespace to '%s'", path);

		(void)unlink(path);
		return r;
	}
	return 0;
}

/* Name one node's namespace; the list file records it for nslab_cleanup(). */
static int persist_node(nslab_lab *lab, nslab_node *n, FILE *list, nslab_error *err)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, NETNS_RUN_DIR "/%s-%s", lab->spec->name, n->pn->name) < 0)
		return nslab_err_set(err, ENOMEM, "persist");
	/* recorded first: whatever gets bound, even by a process killed right after, is listed */
	if (fprintf(list, "%s\n", path) < 0 || fflush(list) != 0)
		return nslab_err_set(err, EIO, "record '%s' for nslab cleanup", path);
	r = bind_netns(n->ns->fd, path, err);
	return r < 0 ? r : 0;
}

int nslab_lab_persist(nslab_lab *lab, nslab_error *err)
{
	_cleanup_free_ char *listpath = NULL;
	FILE *list;
	int r = 0;

	if (lab->rootless || geteuid() != 0)
		return nslab_err_setx(err, EPERM,
				      "--persist needs root (it names namespaces in " NETNS_RUN_DIR
				      ")");
	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "persist: build the lab first");
	(void)mkdir("/run/nslab", 0755);
	(void)mkdir(PERSIST_DIR, 0755);
	(void)mkdir(NETNS_RUN_DIR, 0755);
	if (asprintf(&listpath, PERSIST_DIR "/%s.list", lab->spec->name) < 0)
		return nslab_err_set(err, ENOMEM, "persist");
	list = fopen(listpath, "ae");
	if (!list)
		return nslab_err_set(err, errno, "open '%s'", listpath);
	for (size_t i = 1; r >= 0 && i < lab->plan->n_nodes; i++)
		r = persist_node(lab, &lab->nodes[i], list, err);
	fclose(list);
	return r;
}

/*
 * A list file is only as trustworthy as /run/nslab/persist: accept exactly
 * NETNS_RUN_DIR "/<name>" with no further '/' and no "..", so that a bad line
 * can never point the umount2()/unlink() below anywhere else.
 */
static bool is_netns_entry(const char *line)
{
	const char *name = line + strlen(NETNS_RUN_DIR "/");

	if (strncmp(line, NETNS_RUN_DIR "/", strlen(NETNS_RUN_DIR "/")) != 0)
		return false;
	return *name && strcmp(name, ".") != 0 && !strchr(name, '/') && !strstr(name, "..");
}

static int cleanup_list(const char *listpath, nslab_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(listpath, "re");

	if (!f)
		return nslab_err_set(err, errno, "open '%s'", listpath);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!is_netns_entry(line))
			continue; /* only ever touch what we made */
		(void)umount2(line, MNT_DETACH);
		(void)unlink(line);
	}
	fclose(f);
	if (unlink(listpath) < 0)
		return nslab_err_set(err, errno, "remove '%s'", listpath);
	return 0;
}

int nslab_cleanup(const char *lab, nslab_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (lab) {
		/* lab becomes a path: the name rules keep '/' and ".." out of it */
		if (!spec_lab_name_ok(lab))
			return nslab_err_setx(
				err, EINVAL,
				"'%s': not a valid lab name (a-z, 0-9 and '-', at most %d)",
				SPEC_Q(lab), LAB_NAME_MAX);
		if (asprintf(&path, PERSIST_DIR "/%s.list", lab) < 0)
			return nslab_err_set(err, ENOMEM, "cleanup");
		if (access(path, F_OK) < 0)
			return nslab_err_setx(err, ENOENT, "nothing persisted for lab '%s'", lab);
		return cleanup_list(path, err);
	}
	d = opendir(PERSIST_DIR);
	if (!d)
		return errno == ENOENT ? 0 : nslab_err_set(err, errno, "open " PERSIST_DIR);
	while (r >= 0 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".list") != 0)
			continue;
		free(TAKE_PTR(path)); /* asprintf() leaves path untouched on failure */
		if (asprintf(&path, PERSIST_DIR "/%s", de->d_name) < 0)
			r = nslab_err_set(err, ENOMEM, "cleanup");
		else
			r = cleanup_list(path, err);
	}
	closedir(d);
	return r;
}

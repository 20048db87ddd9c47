/* SPDX-License-Identifier: MIT */
/*
 * lab/persist: `nslab up --persist` names each node's namespace
 * /run/netns/<lab>-<node> (a bind mount, as `ip netns add` makes) while the lab
 * is up; nslab_lab_free() (`nslab down`) removes them again, and nslab_cleanup()
 * removes what a killed supervisor left behind.
 *
 * DOC: what is recorded, and why cleanup can trust it
 * 1. /run/nslab/persist/<lab>.list is created O_EXCL (an existing one means
 *    entries of an earlier run: `nslab cleanup LAB` first); its first line is
 *    "owner UID", the user who ran `sudo nslab up` (SUDO_UID, else the uid).
 * 2. Each entry is created O_CREAT|O_EXCL (never someone else's) and the node's
 *    namespace is bound on it; then its identity is recorded as one line
 *    "NAME DEV INO COOKIE": the nsfs device and inode seen through the mount, and
 *    the namespace's SO_NETNS_COOKIE (inode numbers are reused, cookies never).
 * 3. Cleanup unmounts and unlinks an entry only if its current identity is the
 *    recorded one: an entry made by `ip netns add`, or swapped for another
 *    namespace since, is left alone. A lab still up is skipped: down does it.
 */
#include "nslab/control.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab.h"
#include "ns/netns.h"

#define NSLAB_RUN_DIR "/run/nslab"
#define NETNS_RUN_DIR "/run/netns"
#define PERSIST_DIR   "/run/nslab/persist"

struct ns_ident {
	uint64_t dev, ino, cookie;
};

static int get_cookie(void *data, nslab_error *err)
{
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(uint64_t);

	if (s < 0)
		return nslab_err_set(err, errno, "socket");
	if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, data, &len) < 0)
		return nslab_err_set(err, errno, "SO_NETNS_COOKIE");
	return 0;
}

/* The identity of the namespace open as fd (a namespace fd, or an entry opened). */
static int ns_ident_of(int fd, struct ns_ident *ret, nslab_error *err)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "fstat namespace");
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	r = netns_call(fd, get_cookie, &ret->cookie, err);
	return r < 0 ? r : 0;
}

/* The persist owner: who ran `sudo nslab`, which is root for all of them. */
static unsigned persist_owner(void)
{
	const char *s = getenv("SUDO_UID");
	char *end;
	unsigned long v;

	if (geteuid() == 0 && s && *s) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (!errno && !*end && v < UINT32_MAX)
			return (unsigned)v;
	}
	return (unsigned)getuid();
}

/* Open a root-owned directory nobody else may write to, creating it with mode if missing. */
static int open_root_dir(const char *path, mode_t mode, int *ret_fd, nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (mode && mkdir(path, mode) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create %s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return nslab_err_set(err, errno, "%s", path);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return nslab_err_setx(err, EPERM, "%s is not root's alone (uid %u, mode %04o)",
				      path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int open_dirs(bool create, int *ret_persist, int *ret_netns, nslab_error *err)
{
	_cleanup_close_ int pfd = -1, nfd = -1;
	int r;

	if (create && mkdir(NSLAB_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create " NSLAB_RUN_DIR);
	r = open_root_dir(PERSIST_DIR, create ? 0700 : 0, &pfd, err);
	if (r >= 0)
		r = open_root_dir(NETNS_RUN_DIR, create ? 0755 : 0, &nfd, err);
	if (r < 0)
		return r;
	*ret_persist = TAKE_FD(pfd);
	*ret_netns = TAKE_FD(nfd);
	return 0;
}

/*
 * As iproute2's netns_add(): NETNS_RUN_DIR a mount point of its own with shared
 * propagation, so that entries show in every mount namespace and a later
 * `ip netns add` does not bind the directory over them.
 */
static int share_netns_dir(nslab_error *err)
{
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return nslab_err_set(err, errno, "make " NETNS_RUN_DIR " shared");
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
	    mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return nslab_err_set(err, errno, "make " NETNS_RUN_DIR " a shared mount point");
	return 0;
}

static int stale_error(const char *lab, const char *what, nslab_error *err)
{
	return nslab_err_setx(err, EEXIST,
			      "%s already exists: left by an earlier `nslab up --persist`? "
			      "run `nslab cleanup %s` (it removes only what nslab made)",
			      what, lab);
}

/* Steps 2 of the DOC: name one node's namespace, then record what was made. */
static int persist_node(nslab_lab *lab, nslab_node *n, int netns_dir, FILE *list, nslab_error *err)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int fd = -1;
	struct ns_ident want, got;
	char src[64], dst[64];
	int r;

	if (asprintf(&name, "%s-%s", lab->spec->name, n->pn->name) < 0)
		return nslab_err_set(err, ENOMEM, "persist");
	fd = openat(netns_dir, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0 && errno == EEXIST)
		return stale_error(lab->spec->name, SPEC_Q(name), err);
	if (fd < 0)
		return nslab_err_set(err, errno, "create " NETNS_RUN_DIR "/%s", name);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", n->ns->fd);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d",
		 fd); /* the file made above, whatever its path */
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
		r = nslab_err_set(err, errno, "bind namespace to " NETNS_RUN_DIR "/%s", name);
		(void)unlinkat(netns_dir, name, 0);
		return r;
	}
	fd = close_fd(fd);
	fd = openat(netns_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 ? nslab_err_set(err, errno, "open " NETNS_RUN_DIR "/%s", name)
		   : ns_ident_of(fd, &got, err);
	if (r >= 0)
		r = ns_ident_of(n->ns->fd, &want, err);
	if (r >= 0 && memcmp(&got, &want, sizeof(got)) != 0)
		r = nslab_err_setx(err, EIO, NETNS_RUN_DIR "/%s is not the node's namespace", name);
	if (r >= 0 && (fprintf(list, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", name, got.dev,
			       got.ino, got.cookie) < 0 ||
		       fflush(list) != 0))
		r = nslab_err_set(err, EIO, "record " NETNS_RUN_DIR "/%s for nslab cleanup", name);
	if (r < 0) {
		(void)umount2(dst, MNT_DETACH);
		(void)unlinkat(netns_dir, name, 0);
	}
	return r;
}

static int create_list(const char *lab, int persist_dir, FILE **ret, nslab_error *err)
{
	_cleanup_free_ char *name = NULL;
	FILE *f;
	int fd;

	if (asprintf(&name, "%s.list", lab) < 0)
		return nslab_err_set(err, ENOMEM, "persist");
	fd = openat(persist_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return stale_error(lab, PERSIST_DIR "/<lab>.list", err);
	if (fd < 0)
		return nslab_err_set(err, errno, "create " PERSIST_DIR "/%s", name);
	f = fdopen(fd, "w");
	if (!f || fprintf(f, "owner %u\n", persist_owner()) < 0 || fflush(f) != 0) {
		if (f)
			fclose(f);
		else
			(void)close(fd);
		(void)unlinkat(persist_dir, name, 0);
		return nslab_err_set(err, EIO, "write " PERSIST_DIR "/%s", name);
	}
	*ret = f;
	return 0;
}

int nslab_lab_persist(nslab_lab *lab, nslab_error *err)
{
	_cleanup_close_ int pdir = -1, ndir = -1;
	FILE *list = NULL;
	int r;

	if (lab->rootless || geteuid() != 0)
		return nslab_err_setx(err, EPERM,
				      "--persist needs root (it names namespaces in " NETNS_RUN_DIR
				      ")");
	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "persist: build the lab first");
	if (lab->persisted)
		return 0;
	/* shared first: a directory fd opened before would see under the new mount */
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return nslab_err_set(err, errno, "create " NETNS_RUN_DIR);
	r = share_netns_dir(err);
	if (r >= 0)
		r = open_dirs(true, &pdir, &ndir, err);
	if (r >= 0)
		r = create_list(lab->spec->name, pdir, &list, err);
	if (r < 0)
		return r;
	lab->persisted = true; /* from here on, nslab_lab_free() undoes what was made */
	for (size_t i = 1; r >= 0 && i < lab->plan->n_nodes; i++)
		r = persist_node(lab, &lab->nodes[i], ndir, list, err);
	fclose(list);
	return r;
}

/* Only a plain entry name: no '/', not "." or "..". */
static bool is_entry_name(const char *s)
{
	return *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/');
}

/* The entry name in NETNS_RUN_DIR is the namespace recorded as rec. */
static bool entry_is(int netns_dir, const char *name, const struct ns_ident *rec)
{
	_cleanup_close_ int fd = openat(netns_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct ns_ident cur;

	return fd >= 0 && ns_ident_of(fd, &cur, NULL) >= 0 && memcmp(&cur, rec, sizeof(cur)) == 0;
}

/*
 * Unmount and unlink one recorded entry if it is still what was recorded. By
 * path: NETNS_RUN_DIR was checked to be root's alone and name is one component.
 * A recursive bind of NETNS_RUN_DIR on itself (an older `ip netns add` did so)
 * stacks copies of the mount: unmount while the entry still is the namespace.
 */
static void cleanup_entry(int netns_dir, const char *name, const struct ns_ident *rec)
{
	_cleanup_free_ char *path = NULL;
	int n = 0;

	if (asprintf(&path, NETNS_RUN_DIR "/%s", name) < 0)
		return;
	while (n < 16 && entry_is(netns_dir, name, rec) &&
	       umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		n++;
	if (n > 0 && !entry_is(netns_dir, name, rec))
		(void)unlinkat(netns_dir, name, 0);
}

/* The owner line of an open list: its uid, or -1 for a list without one (an older nslab's). */
static long list_owner(FILE *f)
{
	unsigned owner;
	char line[64];

	if (!fgets(line, sizeof(line), f) || sscanf(line, "owner %u", &owner) != 1)
		return -1;
	return owner;
}

enum { CLEAN_ALL_USERS = 1 << 0 };

/* Remove the entries recorded in lab's list, then the list; -EPERM for another owner's. */
static int cleanup_lab(int persist_dir, int netns_dir, const char *lab, unsigned flags,
		       nslab_error *err)
{
	_cleanup_free_ char *name = NULL, *line = NULL;
	size_t cap = 0;
	FILE *f;
	long owner;
	int fd;

	if (asprintf(&name, "%s.list", lab) < 0)
		return nslab_err_set(err, ENOMEM, "cleanup");
	fd = openat(persist_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return nslab_err_setx(err, ENOENT, "nothing persisted for lab '%s'", lab);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		int r = nslab_err_set(err, errno, "open " PERSIST_DIR "/%s", name);

		(void)close_fd(fd);
		return r;
	}
	owner = list_owner(f);
	if (!(flags & CLEAN_ALL_USERS) && owner != (long)persist_owner()) {
		fclose(f);
		if (owner < 0)
			return nslab_err_setx(err, EPERM,
					      "lab '%s' was persisted by an unknown user: "
					      "nslab cleanup --all %s",
					      lab, lab);
		return nslab_err_setx(err, EPERM,
				      "lab '%s' was persisted by uid %ld: nslab cleanup --all %s",
				      lab, owner, lab);
	}
	while (getline(&line, &cap, f) > 0) {
		struct ns_ident rec;
		char entry[128];

		if (sscanf(line, "%127s %" SCNu64 " %" SCNu64 " %" SCNu64, entry, &rec.dev,
			   &rec.ino, &rec.cookie) == 4 &&
		    is_entry_name(entry))
			cleanup_entry(netns_dir, entry, &rec);
	}
	fclose(f);
	if (unlinkat(persist_dir, name, 0) < 0)
		return nslab_err_set(err, errno, "remove " PERSIST_DIR "/%s", name);
	return 0;
}

/* A lab of the caller's that is up (its supervisor removes its entries at down). */
static bool lab_is_up(char **up, const char *lab)
{
	for (char **n = up; n && *n; n++)
		if (strcmp(*n, lab) == 0)
			return true;
	return false;
}

/* Every list in PERSIST_DIR: the caller's (or everyone's) labs that are not up. */
static int cleanup_every(int pdir, int ndir, char **up, unsigned flags, nslab_error *err)
{
	DIR *d = fdopendir(dup(pdir));
	struct dirent *de;
	int r = 0;

	if (!d)
		return nslab_err_set(err, errno, "open " PERSIST_DIR);
	while (r >= 0 && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		_cleanup_free_ char *lab = NULL;

		if (len < 6 || strcmp(de->d_name + len - 5, ".list") != 0)
			continue;
		lab = strndup(de->d_name, len - 5);
		if (!lab)
			r = nslab_err_set(err, ENOMEM, "cleanup");
		else if (!lab_is_up(up, lab)) {
			r = cleanup_lab(pdir, ndir, lab, flags, err);
			if (r == -EPERM)
				r = 0; /* another user's: not without --all */
		}
	}
	closedir(d);
	return r;
}

int nslab_cleanup_flags(const char *lab, unsigned flags, nslab_error *err)
{
	_cleanup_close_ int pdir = -1, ndir = -1;
	char **up = NULL;
	int r;

	if (flags & ~NSLAB_CLEANUP_ALL_USERS)
		return nslab_err_setx(err, EINVAL, "cleanup: unknown flags %#x", flags);
	/* lab becomes a file name: the name rules keep '/' and ".." out of it */
	if (lab && !spec_lab_name_ok(lab))
		return nslab_err_setx(err, EINVAL,
				      "'%s': not a valid lab name (a-z, 0-9 and '-', at most %d)",
				      SPEC_Q(lab), LAB_NAME_MAX);
	r = open_dirs(false, &pdir, &ndir, err);
	if (r == -ENOENT)
		return lab ? nslab_err_setx(err, ENOENT, "nothing persisted for lab '%s'", lab) : 0;
	/* root's directory, closed to a rootless user (or a rootless lab's root): nothing of theirs */
	if (r == -EACCES && !lab)
		return 0;
	if (r >= 0)
		r = nslab_ctl_list(&up, err);
	if (r < 0)
		return r;
	if (lab && lab_is_up(up, lab))
		r = nslab_err_setx(err, EBUSY,
				   "lab '%s' is up: `nslab down %s` removes its entries", lab, lab);
	else if (lab)
		r = cleanup_lab(pdir, ndir, lab,
				flags & NSLAB_CLEANUP_ALL_USERS ? CLEAN_ALL_USERS : 0, err);
	else
		r = cleanup_every(pdir, ndir, up,
				  flags & NSLAB_CLEANUP_ALL_USERS ? CLEAN_ALL_USERS : 0, err);
	nslab_strv_free(up);
	return r;
}

int nslab_cleanup(const char *lab, nslab_error *err)
{
	return nslab_cleanup_flags(lab, 0, err);
}

void lab_persist_remove(nslab_lab *lab)
{
	_cleanup_close_ int pdir = -1, ndir = -1;

	if (!lab->persisted || open_dirs(false, &pdir, &ndir, NULL) < 0)
		return;
	(void)cleanup_lab(pdir, ndir, lab->spec->name, CLEAN_ALL_USERS, NULL);
	lab->persisted = false;
}

/* The lab's list opened to append to (nslab_lab_persist() created it). */
static int append_list(const char *lab, int persist_dir, FILE **ret, nslab_error *err)
{
	_cleanup_free_ char *name = NULL;
	FILE *f;
	int fd;

	if (asprintf(&name, "%s.list", lab) < 0)
		return nslab_err_set(err, ENOMEM, "persist");
	fd = openat(persist_dir, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nslab_err_set(err, errno, "open " PERSIST_DIR "/%s", name);
	f = fdopen(fd, "a");
	if (!f) {
		int r = nslab_err_set(err, errno, "open " PERSIST_DIR "/%s", name);

		(void)close(fd);
		return r;
	}
	*ret = f;
	return 0;
}

int lab_persist_nodes(nslab_lab *lab, size_t first, nslab_error *err)
{
	_cleanup_close_ int pdir = -1, ndir = -1;
	FILE *list = NULL;
	size_t i = first;
	int r;

	if (!lab->persisted)
		return 0;
	r = open_dirs(false, &pdir, &ndir, err);
	if (r >= 0)
		r = append_list(lab->spec->name, pdir, &list, err);
	if (r < 0)
		return r;
	for (; i < lab->plan->n_nodes; i++) {
		r = persist_node(lab, &lab->nodes[i], ndir, list, err);
		if (r < 0)
			break;
	}
	/* buffered: a write error shows here, and an unlisted entry would outlive a SIGKILL */
	if (fclose(list) != 0 && r >= 0)
		r = nslab_err_set(err, errno, "write the list of /run/netns entries of '%s'",
				  lab->spec->name);
	/* persist_node() took its own failed entry back; the ones before it go too */
	while (r < 0 && i-- > first)
		lab_persist_drop(lab, i);
	return r;
}

/*
 * The list without the line of entry (written aside, then renamed over it:
 * a crash leaves the old list or the new one, never half of one); the entry
 * itself removed as cleanup removes it.
 */
static void drop_entry(int pdir, int ndir, const char *lab, const char *entry)
{
	_cleanup_free_ char *name = NULL, *tmp = NULL, *line = NULL;
	size_t cap = 0, len = strlen(entry);
	FILE *in, *out;
	int fd;

	if (asprintf(&name, "%s.list", lab) < 0 || asprintf(&tmp, "%s.list.new", lab) < 0)
		return;
	fd = openat(pdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	in = fd < 0 ? NULL : fdopen(fd, "r");
	if (!in) {
		(void)close_fd(fd);
		return;
	}
	fd = openat(pdir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	out = fd < 0 ? NULL : fdopen(fd, "w");
	if (!out) {
		(void)close_fd(fd);
		fclose(in);
		return;
	}
	while (getline(&line, &cap, in) > 0) {
		struct ns_ident rec;

		if (strncmp(line, entry, len) == 0 && line[len] == ' ' &&
		    sscanf(line + len, " %" SCNu64 " %" SCNu64 " %" SCNu64, &rec.dev, &rec.ino,
			   &rec.cookie) == 3) {
			cleanup_entry(ndir, entry, &rec);
			continue;
		}
		(void)fputs(line, out);
	}
	fclose(in);
	if (fclose(out) == 0)
		(void)renameat(pdir, tmp, pdir, name);
	else
		(void)unlinkat(pdir, tmp, 0);
}

void lab_persist_drop(nslab_lab *lab, size_t idx)
{
	_cleanup_close_ int pdir = -1, ndir = -1;
	_cleanup_free_ char *entry = NULL;

	if (!lab->persisted || open_dirs(false, &pdir, &ndir, NULL) < 0 ||
	    asprintf(&entry, "%s-%s", lab->spec->name, lab->plan->nodes[idx].name) < 0)
		return;
	drop_entry(pdir, ndir, lab->spec->name, entry);
}

/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's filesystem (jail/fs.c, fs-plan.c) on the real kernel, as root
 * and rootless (meson test --setup rootless). For each case the test prepares
 * a plan, then a child unshares a user namespace (mapping itself), a mount
 * and a PID namespace, and its child, pid 1 there, runs jail_fs_enter() and
 * checks what it sees from inside (CHECK exits 1 there). The test then checks
 * the host side: files written through binds, nothing created on the host for
 * a read-only tree, no mount left in the host's table. It prints the time
 * jail_fs_enter() takes next to `unshare -Urnmipuf --mount-proc true`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "jail/fs.h"
#include "jail/jail.h"
#include "nslab-test.h"

extern char **environ;

static char scratch[PATH_MAX]; /* the test's directory on the host, in /tmp */
static pid_t test_pid;	       /* the test's process, which removes scratch at exit */

/* --- small file helpers ----------------------------------------------------- */

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", path);
	close(fd);
}

/* The file's first bytes as a string ("" if it cannot be read). */
static const char *file_text(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* errno of creating path (0 if it could be created: then it is removed again) */
static int create_errno(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	unlink(path);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The directory's entries, sorted, space-separated ("." and ".." left out). */
static const char *listing(const char *path)
{
	static char out[1024];
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (out[0])
				strncat(out, " ", sizeof(out) - strlen(out) - 1);
			strncat(out, names[i]->d_name, sizeof(out) - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
	return n < 0 ? "(unreadable)" : out;
}

static long fs_type(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 ? (long)sf.f_type : -1;
}

static char *scratch_path(const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *p = bufs[next++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", scratch, name);
	return p;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* At exit, failed or not; not in the test's children (a sandbox's CHECK exits too). */
static void remove_scratch(void)
{
	if (getpid() == test_pid)
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- a config as the config helper makes it ----------------------------------- */

static struct jail_mount mounts[16];

static struct nslab_sandbox_config base_config(unsigned ns)
{
	memset(mounts, 0, sizeof(mounts));
	return (struct nslab_sandbox_config){ .ns = ns, .readonly_root = true, .mounts = mounts };
}

static void add_mount(struct nslab_sandbox_config *c, enum jail_mount_kind kind, const char *src,
		      const char *dst, unsigned flags)
{
	struct jail_mount *m = &mounts[c->n_mounts++];

	*m = (struct jail_mount){
		.kind = kind, .src = (char *)src, .dst = (char *)dst, .flags = flags
	};
}

/* --- running inside ------------------------------------------------------------ */

struct enter_report {
	int r;
	nslab_error err;
	double ms; /* jail_fs_enter()'s time */
};

typedef void (*inside_fn)(void);

static void write_map(const char *file, unsigned id)
{
	char map[64];

	snprintf(map, sizeof(map), "%u %u 1", id, id);
	if (!nslab_test_write(file, map))
		_exit(3);
}

/* pid 1 of the sandbox: enter, report, check. */
static _Noreturn void sandbox_init(const struct jail_fs_plan *plan, inside_fn fn, int report_fd)
{
	struct enter_report rep = { 0 };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rep.r = jail_fs_enter(plan, &rep.err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep.ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	close(report_fd);
	if (rep.r < 0)
		_exit(2);
	if (fn)
		fn();
	_exit(0);
}

/* The child that owns the namespaces: unshare, map itself, fork pid 1, pass its status on. */
static _Noreturn void sandbox_owner(unsigned ns, const struct jail_fs_plan *plan, inside_fn fn,
				    int report_fd)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int status;
	pid_t pid;

	if (ns & NSLAB_SANDBOX_NS_USER) {
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(3);
		if (!nslab_test_write("/proc/self/setgroups", "deny"))
			_exit(3);
		write_map("/proc/self/uid_map", uid);
		write_map("/proc/self/gid_map", gid);
	}
	if (unshare(CLONE_NEWNS | (ns & NSLAB_SANDBOX_NS_PID ? CLONE_NEWPID : 0) |
		    (ns & NSLAB_SANDBOX_NS_NET ? CLONE_NEWNET : 0)) < 0)
		_exit(3);
	pid = fork();
	if (pid < 0)
		_exit(3);
	if (pid == 0)
		sandbox_init(plan, fn, report_fd);
	if (waitpid(pid, &status, 0) != pid)
		_exit(3);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/*
 * Run fn as pid 1 of a sandbox whose filesystem is c's.
 * Return: the sandbox's exit status (0: every check inside held); rep filled
 */
static int run_sandbox(const struct nslab_sandbox_config *c, inside_fn fn, struct enter_report *rep)
{
	struct jail_fs_plan *plan = NULL;
	nslab_error err = { 0 };
	int fds[2], status;
	pid_t pid;

	CHECK(jail_fs_prepare(c, &plan, &err) == 0, "prepare: %s", err.msg);
	CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		sandbox_owner(c->ns, plan, fn, fds[1]);
	}
	close(fds[1]);
	memset(rep, 0, sizeof(*rep));
	rep->r = 1; /* no report: the sandbox's setup failed before jail_fs_enter() */
	(void)!read(fds[0], rep, sizeof(*rep));
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	jail_fs_plan_free(plan);
	CHECK(rep->r != 1, "the sandbox's namespaces could not be made (status %d)", status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run and require that enter succeeded and every check inside held. */
static double run_ok(const char *name, const struct nslab_sandbox_config *c, inside_fn fn)
{
	struct enter_report rep;
	int st = run_sandbox(c, fn, &rep);

	CHECK(rep.r == 0, "%s: jail_fs_enter: %s", name, rep.err.msg);
	CHECK(st == 0, "%s: a check inside failed (exit %d)", name, st);
	printf("ok: %s (jail_fs_enter %.2f ms)\n", name, rep.ms);
	return rep.ms;
}

/* --- checks made inside ----------------------------------------------------------- */

/* The numeric entries of /proc, space-separated. */
static const char *pids_in_proc(void)
{
	static char out[256];
	DIR *d = opendir("/proc");
	struct dirent *e;

	out[0] = '\0';
	while (d && (e = readdir(d)))
		if (strspn(e->d_name, "0123456789") == strlen(e->d_name)) {
			if (out[0])
				strncat(out, " ", sizeof(out) - strlen(out) - 1);
			strncat(out, e->d_name, sizeof(out) - strlen(out) - 1);
		}
	if (d)
		closedir(d);
	return out;
}

/* Only pid 1 (us) in /proc, and /proc is nosuid, nodev, noexec. */
static void check_proc(void)
{
	struct statvfs sv;
	char self[32] = "";

	CHECK(getpid() == 1, "pid %d", (int)getpid());
	CHECK(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc is not a proc");
	CHECK(readlink("/proc/self", self, sizeof(self) - 1) > 0 && strcmp(self, "1") == 0,
	      "/proc/self -> %s", self);
	CHECK(strcmp(pids_in_proc(), "1") == 0, "/proc shows more processes than pid 1: %s",
	      pids_in_proc());
	CHECK(statvfs("/proc", &sv) == 0, "statvfs /proc");
	CHECK((sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) ==
		      (ST_NOSUID | ST_NODEV | ST_NOEXEC),
	      "/proc flags %#lx", sv.f_flag);
}

#define DEV_MINIMAL "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"

/* Exactly the nodes in want; they work; /dev is read-only, pts and shm are not. */
static void check_dev(const char *want)
{
	char buf[16] = { 1 }, link[64] = "";
	int fd, pty;

	CHECK(strcmp(listing("/dev"), want) == 0, "/dev has: %s", listing("/dev"));
	CHECK(fs_type("/dev") == TMPFS_MAGIC, "/dev is not a tmpfs");
	fd = open("/dev/null", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null: %s", strerror(errno));
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 && buf[15] == 0,
	      "read /dev/zero");
	close(fd);
	fd = open("/dev/full", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "x", 1) < 0 && errno == ENOSPC, "/dev/full is not full");
	close(fd);
	CHECK(readlink("/dev/fd", link, sizeof(link) - 1) > 0 && strcmp(link, "/proc/self/fd") == 0,
	      "/dev/fd -> %s", link);
	CHECK(fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC, "/dev/pts is not a devpts");
	CHECK(strcmp(listing("/dev/pts"), "ptmx") == 0, "/dev/pts is not new: %s",
	      listing("/dev/pts"));
	pty = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	CHECK(pty >= 0, "open /dev/ptmx: %s", strerror(errno));
	CHECK(strcmp(listing("/dev/pts"), "0 ptmx") == 0, "no pty in /dev/pts: %s",
	      listing("/dev/pts"));
	close(pty);
	CHECK(fs_type("/dev/shm") == TMPFS_MAGIC && create_errno("/dev/shm/x") == 0,
	      "/dev/shm is not a writable tmpfs");
	CHECK(create_errno("/dev/x") == EROFS, "/dev is writable: %s",
	      strerror(create_errno("/dev/x")));
}

/* A private, empty, writable /tmp. */
static void check_tmp(void)
{
	CHECK(fs_type("/tmp") == TMPFS_MAGIC, "/tmp is not a tmpfs");
	CHECK(strcmp(listing("/tmp"), "") == 0, "/tmp is not empty: %s", listing("/tmp"));
	CHECK(create_errno("/tmp/x") == 0, "/tmp is not writable");
	CHECK(!exists(scratch), "the host's %s is visible", scratch);
}

/* No trace of the staging: neither its directories nor its mounts. */
static void check_no_staging(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	CHECK(!exists("/oldroot") && !exists("/newroot"), "staging directories visible");
	CHECK(f, "open mountinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		CHECK(!strstr(line, "oldroot") && !strstr(line, "newroot"), "mount left: %s", line);
	fclose(f);
}

/* A fresh sysfs of the sandbox's network namespace: loopback is its only interface. */
static void check_sys(void)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	int n = 0, lo = 0;

	CHECK(d, "opendir /sys/class/net: %s", strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		lo += strcmp(e->d_name, "lo") == 0;
	}
	closedir(d);
	CHECK(n == 1 && lo == 1, "/sys/class/net shows %d interfaces (the host's?)", n);
	CHECK(create_errno("/sys/nslab-test") == EROFS, "/sys is not read-only");
}

static void check_host_root(const char *dev)
{
	check_proc();
	check_sys();
	check_dev(dev);
	check_tmp();
	check_no_staging();
	/* the host root, read-only */
	CHECK(exists("/etc/passwd") && exists("/usr/bin"), "the host root is not /");
	CHECK(create_errno("/etc/nslab-test") == EROFS, "/etc: %s",
	      strerror(create_errno("/etc/nslab-test")));
	CHECK(mkdir("/nslab-test-dir", 0755) < 0 && errno == EROFS, "mkdir /: %s", strerror(errno));
	CHECK(create_errno("/usr/lib/nslab-test") == EROFS, "/usr is writable (not recursive)");
}

static void inside_host_root(void)
{
	check_host_root(DEV_MINIMAL);
}

/* The binds and tmpfs mounts of case_mounts(). */
static void inside_mounts(void)
{
	struct stat st;

	check_host_root("fd full nslab-file null ptmx pts random shm stderr stdin stdout tty "
			"urandom zero");
	/* a file bind in the read-only /dev: /dev mirrored, its nodes still work */
	CHECK(strcmp(file_text("/dev/nslab-file"), "file outside\n") == 0, "bind in /dev");
	/* a rw bind on a path missing at "/": "/" mirrored, its entries still there, read-only */
	put_file("/nslab-test/rw/out.txt", "written inside\n");
	CHECK(strcmp(file_text("/nslab-test/rw/seed"), "seed\n") == 0, "rw bind content");
	CHECK(exists("/etc/passwd") && exists("/proc/1") && exists("/var"), "/ lost entries");
	CHECK(fs_type("/proc") == PROC_SUPER_MAGIC && fs_type("/tmp") == TMPFS_MAGIC,
	      "the mirror of / lost the mounts below it");
	CHECK(create_errno("/nslab-other") == EROFS, "the mirrored / is writable");
	/* a read-only bind next to it (same mirror) */
	CHECK(strcmp(file_text("/nslab-test/ro/seed"), "seed\n") == 0, "ro bind content");
	CHECK(create_errno("/nslab-test/ro/x") == EROFS, "the ro bind is writable");
	/* a file bind on a path missing in /etc */
	CHECK(strcmp(file_text("/etc/nslab-test-file"), "file outside\n") == 0, "file bind");
	put_file("/etc/nslab-test-file", "file inside\n");
	CHECK(exists("/etc/passwd") && create_errno("/etc/nslab-x") == EROFS, "mirrored /etc");
	/* tmpfs on an existing directory and on a missing one, a ro bind inside the latter */
	CHECK(fs_type("/mnt") == TMPFS_MAGIC && strcmp(listing("/mnt"), "") == 0 &&
		      create_errno("/mnt/x") == 0,
	      "tmpfs on /mnt");
	CHECK(stat("/mnt", &st) == 0 && (st.st_mode & 07777) == 01777, "tmpfs mode %o",
	      st.st_mode & 07777);
	CHECK(fs_type("/var/nslab-tmpfs") == TMPFS_MAGIC && exists("/var/lib"), "tmpfs in /var");
	CHECK(strcmp(file_text("/var/nslab-tmpfs/sub/ro/seed"), "seed\n") == 0 &&
		      create_errno("/var/nslab-tmpfs/sub/ro/x") == EROFS,
	      "ro bind in a tmpfs");
	CHECK(create_errno("/var/nslab-tmpfs/y") == 0, "the tmpfs in /var is not writable");
	/* a bind of the host's file over /etc/hostname-like existing file */
	CHECK(strcmp(file_text("/etc/os-release"), "file inside\n") == 0,
	      "bind on an existing file");
}

/* Without a PID namespace: the host's /proc. */
static void inside_no_pidns(void)
{
	char self[32] = "", want[32];

	snprintf(want, sizeof(want), "%d", (int)getpid());
	CHECK(getpid() != 1 && exists("/proc/1"), "pid %d", (int)getpid());
	CHECK(readlink("/proc/self", self, sizeof(self) - 1) > 0 && strcmp(self, want) == 0,
	      "/proc/self -> %s, pid %s", self, want);
	check_dev(DEV_MINIMAL);
	check_tmp();
	check_no_staging();
}

/* A sandbox started from inside a sandbox gets the same filesystem, built on the outer one. */
static void inside_nested(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);

	CHECK(create_errno("/tmp/outer") == 0 && create_errno("/etc/x") == EROFS, "outer");
	run_ok("  nested sandbox", &c, inside_host_root);
}

/* --- the cases ------------------------------------------------------------------ */

static void case_host_root(unsigned ns, const char *name, inside_fn fn)
{
	struct nslab_sandbox_config c = base_config(ns);

	run_ok(name, &c, fn);
}

static void case_mounts(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);
	struct jail_fs_plan *plan = NULL;
	nslab_error err = { 0 };

	mkdir(scratch_path("rw"), 0755);
	put_file(scratch_path("rw/seed"), "seed\n");
	put_file(scratch_path("file"), "file outside\n");
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("rw"), "/nslab-test/rw", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("rw"), "/nslab-test/ro", NSLAB_SANDBOX_BIND_RO);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("file"), "/etc/nslab-test-file", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("missing"), "/nslab-try",
		  NSLAB_SANDBOX_BIND_TRY);
	add_mount(&c, JAIL_MOUNT_TMPFS, NULL, "/mnt", 0);
	add_mount(&c, JAIL_MOUNT_TMPFS, NULL, "/var/nslab-tmpfs", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("rw"), "/var/nslab-tmpfs/sub/ro",
		  NSLAB_SANDBOX_BIND_RO);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("file"), "/etc/os-release", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("file"), "/dev/nslab-file",
		  NSLAB_SANDBOX_BIND_RO);
	CHECK(jail_fs_prepare(&c, &plan, &err) == 0, "prepare: %s", err.msg);
	CHECK(!plan->in_place, "/nslab-test is missing at /, yet the plan runs in place");
	jail_fs_plan_free(plan);
	run_ok("binds and tmpfs mounts", &c, inside_mounts);
	/* what the sandbox wrote through the rw binds is outside; nothing made on the host */
	CHECK(strcmp(file_text(scratch_path("rw/out.txt")), "written inside\n") == 0,
	      "rw bind write not visible outside: '%s'", file_text(scratch_path("rw/out.txt")));
	CHECK(strcmp(file_text(scratch_path("file")), "file inside\n") == 0, "file bind write");
	CHECK(!exists("/nslab-test") && !exists("/etc/nslab-test-file") &&
		      !exists("/var/nslab-tmpfs") && !exists("/nslab-try"),
	      "a mount point was created on the host");
}

/* The binds of case_mounts_in_place(): the host's tree changed in place. */
static void inside_mounts_in_place(void)
{
	check_host_root("fd full nslab-file null ptmx pts random shm stderr stdin stdout tty "
			"urandom zero");
	CHECK(strcmp(file_text("/dev/nslab-file"), "file outside\n") == 0, "bind in /dev");
	/* binds whose sources are under the host's /tmp, which the sandbox's /tmp covers */
	put_file("/var/nslab-test/rw/out.txt", "written inside\n");
	CHECK(strcmp(file_text("/var/nslab-test/rw/seed"), "seed\n") == 0, "rw bind content");
	CHECK(exists("/var/lib") && create_errno("/var/nslab-other") == EROFS, "mirrored /var");
	CHECK(strcmp(file_text("/var/nslab-test/ro/seed"), "seed\n") == 0 &&
		      create_errno("/var/nslab-test/ro/x") == EROFS,
	      "ro bind");
	CHECK(strcmp(file_text("/etc/nslab-test-file"), "file outside\n") == 0, "file bind");
	put_file("/etc/nslab-test-file", "file inside\n");
	CHECK(fs_type("/mnt") == TMPFS_MAGIC && create_errno("/mnt/x") == 0, "tmpfs on /mnt");
	CHECK(!exists("/opt/nslab-try"), "a bind of a missing source (try) made its mount point");
}

/* Every destination's top exists: the plan runs in place; what it does is the same. */
static void case_mounts_in_place(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);
	struct jail_fs_plan *plan = NULL;
	nslab_error err = { 0 };

	mkdir(scratch_path("rw"), 0755);
	put_file(scratch_path("rw/seed"), "seed\n");
	put_file(scratch_path("file"), "file outside\n");
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("rw"), "/var/nslab-test/rw", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("rw"), "/var/nslab-test/ro",
		  NSLAB_SANDBOX_BIND_RO);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("file"), "/etc/nslab-test-file", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("missing"), "/opt/nslab-try",
		  NSLAB_SANDBOX_BIND_TRY);
	add_mount(&c, JAIL_MOUNT_TMPFS, NULL, "/mnt", 0);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("file"), "/dev/nslab-file",
		  NSLAB_SANDBOX_BIND_RO);
	CHECK(jail_fs_prepare(&c, &plan, &err) == 0, "prepare: %s", err.msg);
	CHECK(plan->in_place, "every destination's top exists, yet the plan is staged");
	jail_fs_plan_free(plan);
	run_ok("binds and tmpfs mounts, in place", &c, inside_mounts_in_place);
	CHECK(strcmp(file_text(scratch_path("rw/out.txt")), "written inside\n") == 0,
	      "rw bind write not visible outside: '%s'", file_text(scratch_path("rw/out.txt")));
	CHECK(strcmp(file_text(scratch_path("file")), "file inside\n") == 0, "file bind write");
	CHECK(!exists("/var/nslab-test") && !exists("/etc/nslab-test-file") &&
		      !exists("/opt/nslab-try"),
	      "a mount point was created on the host");
}

static void inside_rootfs(void)
{
	pid_t pid;
	int status;

	check_proc();
	check_dev(DEV_MINIMAL);
	check_tmp();
	check_no_staging();
	CHECK(strcmp(file_text("/hello"), "rootfs\n") == 0, "/hello: '%s'", file_text("/hello"));
	CHECK(!exists("/etc") && !exists("/work") && !exists("/home"), "host files visible: %s",
	      listing("/"));
	CHECK(create_errno("/hello2") == EROFS, "the rootfs is writable");
	/* a program runs from the bound /usr through the rootfs's own symlinks */
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "/bin/true in the rootfs: status %#x", status);
}

static void make_rootfs(const char *dir)
{
	char path[PATH_MAX];

	CHECK(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/usr", dir);
	CHECK(mkdir(path, 0755) == 0, "mkdir %s", path);
	snprintf(path, sizeof(path), "%s/hello", dir);
	put_file(path, "rootfs\n");
	for (const char *const *l = (const char *const[]){ "bin", "lib", "lib64", NULL }; *l; l++) {
		char target[64];

		snprintf(path, sizeof(path), "%s/%s", dir, *l);
		snprintf(target, sizeof(target), "usr/%s", *l);
		CHECK(symlink(target, path) == 0, "symlink %s", path);
	}
}

/* A given rootfs, read-only: it lacks /dev, /proc and /tmp, which are mirrored in. */
static void case_rootfs(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);

	make_rootfs(scratch_path("rootfs"));
	c.rootfs = scratch_path("rootfs");
	add_mount(&c, JAIL_MOUNT_BIND, "/usr", NULL, NSLAB_SANDBOX_BIND_RO);
	run_ok("rootfs, read-only", &c, inside_rootfs);
	CHECK(strcmp(listing(scratch_path("rootfs")), "bin hello lib lib64 usr") == 0,
	      "the read-only rootfs was written: %s", listing(scratch_path("rootfs")));
}

static void inside_rootfs_rw(void)
{
	check_proc();
	check_tmp();
	put_file("/hello2", "rw\n");
}

/* A writable rootfs: mount points are made in it (as bwrap and Docker do), writes land in it. */
static void case_rootfs_rw(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);

	make_rootfs(scratch_path("rootfs-rw"));
	c.rootfs = scratch_path("rootfs-rw");
	c.readonly_root = false;
	add_mount(&c, JAIL_MOUNT_BIND, "/usr", NULL, NSLAB_SANDBOX_BIND_RO);
	run_ok("rootfs, writable", &c, inside_rootfs_rw);
	CHECK(strcmp(file_text(scratch_path("rootfs-rw/hello2")), "rw\n") == 0,
	      "write in a writable rootfs not visible outside");
}

/* A failure inside names the step and the path. */
static void case_enter_error(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);
	struct enter_report rep;
	char want[PATH_MAX + 64];

	mkdir(scratch_path("dir"), 0755);
	add_mount(&c, JAIL_MOUNT_BIND, scratch_path("dir"), "/etc/passwd", 0);
	CHECK(run_sandbox(&c, NULL, &rep) == 2, "a bind of a directory on a file succeeded");
	snprintf(want, sizeof(want), "bind %s on /etc/passwd: Not a directory",
		 scratch_path("dir"));
	CHECK(rep.r == -ENOTDIR && rep.err.code == ENOTDIR && strcmp(rep.err.msg, want) == 0,
	      "error '%s' (%d), want '%s'", rep.err.msg, rep.r, want);
	printf("ok: a failed step is named: %s\n", rep.err.msg);
}

/* prepare() refuses bad values and names them. */
static void expect_refused(struct nslab_sandbox_config *c, int code, const char *part)
{
	struct jail_fs_plan *plan = NULL;
	nslab_error err = { 0 };
	int r = jail_fs_prepare(c, &plan, &err);

	CHECK(r == -code && err.code == code && strstr(err.msg, part), "got %d '%s', want %s '%s'",
	      r, err.msg, strerrorname_np(code), part);
	CHECK(!plan, "a plan returned on failure");
	c->n_mounts = 0;
	c->rootfs = NULL;
}

static void case_prepare_errors(void)
{
	static const char *const bad_dst[] = { "relative/x", "/a/../b", "/a//b",
					       "/a/",	     "/a/./b",	"/" };
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);

	for (size_t i = 0; i < sizeof(bad_dst) / sizeof(bad_dst[0]); i++) {
		add_mount(&c, JAIL_MOUNT_TMPFS, NULL, bad_dst[i], 0);
		expect_refused(&c, EINVAL, bad_dst[i]);
	}
	add_mount(&c, JAIL_MOUNT_BIND, "/nonexistent-nslab", "/x", 0);
	expect_refused(&c, ENOENT, "bind source '/nonexistent-nslab': No such file or directory");
	c.rootfs = "/nonexistent-nslab-root";
	expect_refused(&c, ENOENT, "rootfs '/nonexistent-nslab-root'");
	c.rootfs = "/etc/passwd";
	expect_refused(&c, ENOTDIR, "rootfs '/etc/passwd': Not a directory");
	c = base_config(NSLAB_SANDBOX_NS_ALL & ~NSLAB_SANDBOX_NS_MOUNT);
	add_mount(&c, JAIL_MOUNT_TMPFS, NULL, "/x", 0);
	expect_refused(&c, EINVAL, "mount namespace");
	printf("ok: prepare refuses bad destinations, sources and rootfs\n");
}

static void case_visible(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);
	struct jail_fs_plan *plan = NULL;
	nslab_error err = { 0 };

	add_mount(&c, JAIL_MOUNT_BIND, "/usr", "/usr", NSLAB_SANDBOX_BIND_RO);
	add_mount(&c, JAIL_MOUNT_BIND, "/usr", "/opt/u", 0);
	CHECK(jail_fs_prepare(&c, &plan, &err) == 0, "prepare: %s", err.msg);
	CHECK(jail_fs_path_visible(plan, "/etc") && jail_fs_path_visible(plan, "/usr/lib") &&
		      jail_fs_path_visible(plan, "/devices"),
	      "host paths under the host root");
	CHECK(!jail_fs_path_visible(plan, "/tmp/x") && !jail_fs_path_visible(plan, "/dev") &&
		      !jail_fs_path_visible(plan, "/proc/1") &&
		      !jail_fs_path_visible(plan, "/opt/u/lib"),
	      "paths under tmpfs, /dev, /proc or a bind elsewhere");
	jail_fs_plan_free(plan);
	c.rootfs = "/usr";
	CHECK(jail_fs_prepare(&c, &plan, &err) == 0, "prepare: %s", err.msg);
	CHECK(!jail_fs_path_visible(plan, "/etc") && jail_fs_path_visible(plan, "/usr/bin"),
	      "with a rootfs only the binds of the same path");
	jail_fs_plan_free(plan);
	printf("ok: jail_fs_path_visible\n");
}

/* --- time, and the host's mount table ------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Median time of `unshare -Urnmipuf --mount-proc true`, the start the sandbox is measured against. */
static double unshare_median(int rounds)
{
	char *argv[] = { "unshare", "-Urnmipuf", "--mount-proc", "true", NULL };
	double t[64];
	int n = 0;

	for (int i = 0; i < rounds && i < 64; i++) {
		struct timespec t0;
		int status;
		pid_t pid;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (posix_spawnp(&pid, "unshare", NULL, NULL, argv, environ) != 0 ||
		    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return -1;
		t[n++] = ms_since(&t0);
	}
	qsort(t, n, sizeof(t[0]), cmp_double);
	return n ? t[n / 2] : -1;
}

static void case_timing(void)
{
	struct nslab_sandbox_config c = base_config(NSLAB_SANDBOX_NS_ALL);
	enum { ROUNDS = 21 };
	double t[ROUNDS], total[ROUNDS], ref;

	for (int i = 0; i < ROUNDS; i++) {
		struct enter_report rep;
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK(run_sandbox(&c, NULL, &rep) == 0 && rep.r == 0, "round %d: %s", i,
		      rep.err.msg);
		total[i] = ms_since(&t0);
		t[i] = rep.ms;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	qsort(total, ROUNDS, sizeof(total[0]), cmp_double);
	ref = unshare_median(ROUNDS);
	printf("time: jail_fs_enter median %.2f ms (min %.2f, max %.2f) over %d runs; "
	       "prepare+fork+unshare+enter+exit median %.2f ms; "
	       "`unshare -Urnmipuf --mount-proc true` median %.2f ms\n",
	       t[ROUNDS / 2], t[0], t[ROUNDS - 1], ROUNDS, total[ROUNDS / 2], ref);
	/*
	 * The whole start is measured against unshare's: the filesystem must stay a
	 * small part of it. Bound loosely, relative to unshare's time in the same
	 * run (a loaded machine or ASan slows both): an order of magnitude, not noise.
	 */
	CHECK(t[ROUNDS / 2] < 10 + 2 * (ref > 0 ? ref : 20), "jail_fs_enter takes %.2f ms",
	      t[ROUNDS / 2]);
}

/* The host's mount ids and mount points, one "id point" a line. */
static char *mount_table(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], point[4096], *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	unsigned id;

	CHECK(f && o, "mountinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %*u %*s %*s %4095s", &id, point) == 2)
			fprintf(o, "%u %s\n", id, point);
	fclose(f);
	fclose(o);
	return out;
}

/* No mount the host did not have before (others' /run/netns entries aside: shared machine). */
static void check_no_mount_left(const char *before)
{
	char *after = mount_table(), *save = NULL;

	for (char *l = strtok_r(after, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[4200];

		snprintf(key, sizeof(key), "%s\n", l);
		if (strstr(before, key) || strstr(l, " /run/netns/"))
			continue;
		CHECK(false, "a mount was left in the host's table: %s", l);
	}
	free(after);
	printf("ok: no mount left in the host's mount table\n");
}

int main(void)
{
	bool as_root;
	char *before;

	as_root = nslab_test_enter_netns() == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(scratch, sizeof(scratch), "/tmp/nslab-fs-XXXXXX");
	CHECK(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
	test_pid = getpid();
	atexit(remove_scratch);
	before = mount_table();
	case_prepare_errors();
	case_visible();
	case_host_root(NSLAB_SANDBOX_NS_ALL, "host root, read-only", inside_host_root);
	if (as_root)
		case_host_root(NSLAB_SANDBOX_NS_ALL & ~NSLAB_SANDBOX_NS_USER,
			       "host root, read-only, no user namespace (root)", inside_host_root);
	case_host_root(NSLAB_SANDBOX_NS_ALL & ~NSLAB_SANDBOX_NS_PID, "host root, no PID namespace",
		       inside_no_pidns);
	case_mounts();
	case_mounts_in_place();
	case_rootfs();
	case_rootfs_rw();
	case_enter_error();
	case_host_root(NSLAB_SANDBOX_NS_ALL, "nested", inside_nested);
	case_timing();
	check_no_mount_left(before);
	free(before);
	printf("ok: %u checks (%s)\n", checks, as_root ? "root" : "rootless");
	return 0;
}

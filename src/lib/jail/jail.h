/* SPDX-License-Identifier: MIT */
/*
 * jail: the process sandbox under `nslab run` and nslab/sandbox.h.
 *
 * DOC: who does what
 * config.c    the configuration object: setters, validation, describe (JSON),
 *             profiles (YAML) and the effective defaults (sudo, caller ids)
 * plan.c      every decision before the clone: namespaces, maps, env, fs, seccomp
 * spawn.c     the start sequence: clone3 into new namespaces, uid/gid maps,
 *             GO, the wait for STARTED; handle.c the handle (wait, kill,
 *             result, events); update.c dynamic updates through the handle
 * init.c      pid 1 of the sandbox: reaps, watches limits, reports the result;
 *             init-early.c, init-net.c, init-pool.c, init-watch.c its parts,
 *             command.c the command between fork and exec, child.c the
 *             messages and clone
 * limits.c    rlimits, cgroup v2 where delegated, CPU share, accounting
 * fs.c        the new root: pivot_root, binds, tmpfs, /dev, /proc, /tmp
 * seccomp.c   the default profile, OCI/Docker JSON profiles, BPF compiled in
 *             the parent and installed in the child
 * caps.c      capabilities, no_new_privs, securebits
 * pool.c      sandboxes prepared ahead
 *
 * Between clone and exec only async-signal-safe calls: everything a child step
 * needs is computed by the parent before the clone (the *_prepare() calls),
 * and the child-side calls (*_enter(), *_install(), *_apply()) allocate
 * nothing and report failures as an nslab_error written to a pipe.
 */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "nslab/sandbox.h"

enum jail_mount_kind {
	JAIL_MOUNT_BIND = 1,
	JAIL_MOUNT_TMPFS = 2,
};

struct jail_mount {
	enum jail_mount_kind kind;
	char *src;	/* BIND: the path outside */
	char *dst;	/* the path inside */
	unsigned flags; /* NSLAB_SANDBOX_BIND_* */
};

/* One environment change, in order: "K=V" sets, "K" unsets. */
struct jail_envop {
	char *text;
};

struct nslab_sandbox_config {
	unsigned ns; /* NSLAB_SANDBOX_NS_* */
	enum nslab_sandbox_net net;
	int net_userns_fd, netns_fd;	   /* NET_JOIN; -1 otherwise */
	int lab_conn_fd;		   /* set_lab_node(): the lab's control connection, or -1 */
	const struct nslab_egress *egress; /* set_egress() (borrowed): a session per spawn */

	bool uid_set, gid_set, as_root;
	uid_t uid; /* inside */
	gid_t gid;

	uint64_t limit[NSLAB_SANDBOX_LIMIT__COUNT]; /* 0: unset; units in sandbox.h */
	unsigned cpu_shares;			    /* 0: unset; else 100..1024 */

	char *rootfs; /* NULL: the host root */
	bool readonly_root;
	struct jail_mount *mounts; /* in the order given */
	size_t n_mounts;
	char *cwd; /* NULL: the caller's if visible inside, else / */

	enum nslab_sandbox_seccomp seccomp;
	char *seccomp_path;
	struct jail_seccomp_profile *seccomp_profile; /* SECCOMP_FILE: parsed at set time */
	enum nslab_sandbox_violation violation;

	uint64_t keep_caps; /* bit (1 << CAP_*) */
	bool ambient;

	bool clear_env;
	struct jail_envop *env;
	size_t n_env;
	char *hostname; /* NULL: "nslab" */
	int stdio[3];	/* -1: the caller's; else owned duplicates */

	nslab_sandbox_event_func event_fn;
	void *event_data;
	bool init_shares_memory; /* set_shared_init(): nslab run's */
};

/* --- config.c ------------------------------------------------------------- */

/**
 * jail_config_ids() - The uid and gid the command runs as inside the sandbox
 * @c:    the configuration
 * @uid:  filled with the uid: set_uid()'s if given; else 0 with as_root;
 *        else the caller's real uid, or SUDO_UID when the caller is root
 *        (euid 0) under sudo, so that `sudo nslab run` runs the command as
 *        the invoking user, mapped to itself; nobody (65534) when the caller
 *        is root with a pids limit (the host's root escapes RLIMIT_NPROC)
 * @gid:  the same for the gid (set_gid(), 0, getgid() or SUDO_GID)
 * SUDO_UID/SUDO_GID are used only when they are decimal, non-zero ids.
 */
void jail_config_ids(const struct nslab_sandbox_config *c, uid_t *uid, gid_t *gid);
/* The unit a limit's value is in ("bytes", "seconds", ...); NULL for none. */
const char *jail_limit_unit(enum nslab_sandbox_limit l);

/**
 * jail_config_dup() - A deep copy of c (strings, mounts, environment, fds duplicated)
 * @c:    the configuration
 * @ret:  the copy, free with nslab_sandbox_config_free()
 * @err:  on failure (ENOMEM, EMFILE)
 * The one thing not copied is the parsed seccomp profile (opaque to config.c):
 * the copy's seccomp_profile is NULL, with seccomp and seccomp_path as in c.
 * A copy meant to run (a pool's) needs its filter compiled from c (or the file
 * loaded again with jail_seccomp_load_file()).
 * Return: 0 or -errno.
 */
int jail_config_dup(const struct nslab_sandbox_config *c, struct nslab_sandbox_config **ret,
		    nslab_error *err);

/* --- fs.c ---------------------------------------------------------------- */

struct jail_fs_plan;
/*
 * jail_fs_prepare() - Check the config's filesystem part and plan every mount (parent side)
 * Sources must exist (unless BIND_TRY), destinations must be absolute and
 * normalised; the error names the offending path.
 */
int jail_fs_prepare(const struct nslab_sandbox_config *c, struct jail_fs_plan **ret,
		    nslab_error *err);
void jail_fs_plan_free(struct jail_fs_plan *p);
/*
 * jail_fs_enter() - Build the new root and pivot_root into it (child side)
 * Called in a new mount namespace (and the new PID namespace, for /proc),
 * with capabilities in the owning user namespace. Async-signal-safe; uses
 * about 12 KiB of stack. On success the root and the working directory are
 * the new root's "/" (the caller's chdir comes after). On failure err names
 * the step and the path ("bind /x on /y: No such file or directory") and the
 * mount namespace is half built: the caller exits.
 */
int jail_fs_enter(const struct jail_fs_plan *p, nslab_error *err);
typedef int (*jail_fs_hook)(void *data, nslab_error *err);
/*
 * jail_fs_enter_hooked() - jail_fs_enter(), calling hook(data, err) right
 * before the sysfs step (after the last step if there is none): the network
 * namespace whose sysfs is mounted may be made meanwhile. A hook's failure
 * (-errno, err set) ends the build.
 */
int jail_fs_enter_hooked(const struct jail_fs_plan *p, jail_fs_hook hook, void *data,
			 nslab_error *err);
/*
 * jail_fs_path_visible() - Whether the host's path is the same file at the same
 * path inside (parent side; e.g. the caller's working directory): true when
 * the mount that covers it inside is the host root or a bind of that very path
 * (a path under a tmpfs, /dev, /proc or another bind is not). @path: absolute
 * and canonical (getcwd()'s). A plan without a mount namespace shows everything.
 */
bool jail_fs_path_visible(const struct jail_fs_plan *p, const char *path);

/* --- seccomp.c ----------------------------------------------------------- */

struct jail_seccomp_profile;
/* Read an OCI/Docker JSON profile; errors at FILE:LINE:COL. */
int jail_seccomp_load_file(const char *path, struct jail_seccomp_profile **ret, nslab_error *err);
void jail_seccomp_profile_free(struct jail_seccomp_profile *p);
/*
 * jail_seccomp_compile() - The BPF program for c's seccomp settings (parent side)
 * @ret:  filled with a malloc'd program (free ret->filter); len 0 for SECCOMP_NONE
 */
int jail_seccomp_compile(const struct nslab_sandbox_config *c, struct sock_fprog *ret,
			 nslab_error *err);
/* Install a compiled program (child side, after no_new_privs). Async-signal-safe. */
int jail_seccomp_install(const struct sock_fprog *prog, nslab_error *err);
/*
 * What a profile file had that was skipped ("FILE:LINE:COL: system call 'x'
 * unknown to libseccomp, skipped"), for the front end to print: the library
 * does not. Return: how many; *ret borrowed from p.
 */
size_t jail_seccomp_profile_warnings(const struct jail_seccomp_profile *p, const char *const **ret);

/* One call of the default profile, for describe. */
struct jail_seccomp_entry {
	const char *name; /* the system call */
	const char *when; /* "always", or which arguments are refused */
	const char *why;
};
/* The default profile's calls, in table order. Return: how many; *ret static. */
size_t jail_seccomp_default_names(const char *const **ret);
/* Entry i of the default profile (i < jail_seccomp_default_names()). Return: 0 or -ENOENT. */
int jail_seccomp_default_entry(size_t i, struct jail_seccomp_entry *ret);

/* --- caps.c -------------------------------------------------------------- */

/* Parse "CAP_NET_RAW" or "net_raw" (any case). Return: the number, or -EINVAL. */
int jail_cap_from_name(const char *name);
/*
 * jail_caps_prepare_setuid() - Make the coming uid/gid change keep the capability sets
 * (child side, before setresgid()/setresuid(), while still holding CAP_SETPCAP).
 * Without it a change to a non-zero uid empties the sets, and jail_caps_enter()
 * can then neither keep a capability nor clear the bounding set. Harmless when
 * the uid stays 0. Async-signal-safe.
 */
int jail_caps_prepare_setuid(nslab_error *err);
/*
 * jail_caps_enter() - Keep only keep in every set (and ambient if asked), lock
 * securebits, set no_new_privs (child side, last step before seccomp and exec).
 * @last:  the kernel's last capability (jail_caps_last()), or -1: found by
 *         dropping until the kernel refuses (a call that fails)
 * Async-signal-safe.
 */
int jail_caps_enter(uint64_t keep, bool ambient, int last, nslab_error *err);
/* The kernel's last capability (parent side; two or three prctl() calls). */
int jail_caps_last(void);

/* --- limits.c ------------------------------------------------------------ */

/* What the parent decided for the limits: mechanism per limit, cgroup dir fd. */
struct jail_limits {
	enum nslab_sandbox_mechanism mech[NSLAB_SANDBOX_LIMIT__COUNT];
	int cgroup_fd;				    /* the sandbox's own cgroup directory, or -1 */
	uint64_t value[NSLAB_SANDBOX_LIMIT__COUNT]; /* the config's (0: unset) */
	unsigned nproc_extra; /* tasks of the command's user that are not the command's (init) */
	unsigned cpu_shares;  /* 0: unset */
	int nice;	      /* with cpu_shares and no cgroup: at least this nice value */
	bool sched_idle;      /* ... or SCHED_IDLE (shares below 128) */
	int cgroup_parent_fd; /* where the sandbox's cgroup was made (to remove it), or -1 */
	char cgroup_name[64];
};
/*
 * jail_limits_prepare() - Decide each limit's mechanism (cgroup v2 where a
 * delegated subtree has the controller, else rlimits) and make the cgroup
 * Return: 0 (a cgroup that cannot be made falls back to rlimits), or -errno
 */
int jail_limits_prepare(const struct nslab_sandbox_config *c, struct jail_limits *ret,
			nslab_error *err);
/* Close the fds and remove the sandbox's cgroup (once empty). */
void jail_limits_release(struct jail_limits *l);
/* Set the rlimits (and nice/SCHED_IDLE) in the child. Async-signal-safe. */
int jail_limits_apply(const struct jail_limits *l, nslab_error *err);

/* --- inject.c: changing a running process from outside (ptrace) ---------- */

/*
 * jail_inject_seccomp() - Make every thread of pid install prog (TSYNC)
 * The process is stopped briefly with ptrace, made to call seccomp() with
 * prog, and resumed as it was. Filters only stack, so this only ever tightens.
 */
int jail_inject_seccomp(pid_t pid, const struct sock_fprog *prog, nslab_error *err);
/* Make every thread of pid drop cap from its effective, permitted, inheritable and ambient sets. */
int jail_inject_drop_cap(pid_t pid, int cap, nslab_error *err);
/* The BPF program that refuses these calls (by name) with the config's violation action. */
int jail_seccomp_compile_deny(const char *const names[], size_t n, enum nslab_sandbox_violation v,
			      struct sock_fprog *ret, nslab_error *err);

/* SPDX-License-Identifier: MIT */
/*
 * nslab/sandbox.h - run an untrusted command in a process and network jail
 *
 * A configuration is built with setters (every setter validates its value and
 * refuses a bad one with -EINVAL and the offending value in err), then one or
 * many commands run under it:
 *
 *	nslab_sandbox_config *c;
 *	struct nslab_sandbox_result res;
 *	nslab_sandbox_config_new(&c, &err);
 *	nslab_sandbox_config_set_memory_limit(c, 100 << 20, &err);
 *	nslab_sandbox_run(c, (char *[]){ "/bin/ls", "-la", NULL }, &res, &err);
 *
 * Defaults are the strictest that still runs ordinary programs: every namespace
 * (user, PID, network with loopback only, mount, UTS, IPC, cgroup), the caller
 * mapped to itself inside (under sudo: the invoking user), the host root
 * mounted read-only as the root with a private /tmp, a minimal /dev and a
 * fresh /proc, the default seccomp profile, no capabilities, no_new_privs,
 * securebits locked, a new session, the environment of the caller.
 *
 * Lifetime: the sandbox's pid 1 (an nslab init that reaps) dies with the
 * thread that started it and takes every process of the sandbox with it; a
 * SIGKILL of the owner leaves no process, mount or namespace behind.
 *
 * Nesting: a sandboxed process may start sandboxes of its own (every limit and
 * filter of the outer one still holds). Not from a sandbox whose command is
 * the host's root, though: since Linux 5.12 a user namespace maps its parent's
 * uid 0 only if its creator holds CAP_SETFCAP, so that command can map no uid
 * and nslab_sandbox_run() refuses with -EPERM; run the outer command as
 * another user (set_uid(), or sudo) to nest.
 *
 * Calls return >= 0 on success and -errno on failure (see nslab/error.h).
 */
#ifndef NSLAB_SANDBOX_H
#define NSLAB_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nslab/egress.h>
#include <nslab/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nslab_sandbox_config nslab_sandbox_config;
typedef struct nslab_sandbox nslab_sandbox; /* a started sandbox */
typedef struct nslab_sandbox_pool nslab_sandbox_pool;

/* Namespaces (process-sandbox's SANDBOX_NS_* flags). */
enum nslab_sandbox_ns {
	NSLAB_SANDBOX_NS_USER = 1u << 0,
	NSLAB_SANDBOX_NS_PID = 1u << 1,
	NSLAB_SANDBOX_NS_NET = 1u << 2,
	NSLAB_SANDBOX_NS_MOUNT = 1u << 3,
	NSLAB_SANDBOX_NS_UTS = 1u << 4,
	NSLAB_SANDBOX_NS_IPC = 1u << 5,
	NSLAB_SANDBOX_NS_CGROUP = 1u << 6,
	NSLAB_SANDBOX_NS_ALL = (1u << 7) - 1,
};

/* The network the command sees. */
enum nslab_sandbox_net {
	NSLAB_SANDBOX_NET_NONE = 0, /* a new network namespace with loopback up (default) */
	NSLAB_SANDBOX_NET_HOST = 1, /* the caller's network namespace */
	NSLAB_SANDBOX_NET_JOIN = 2, /* a given namespace (a lab node): set_netns() */
};

/* The limits: what each is, its unit, and how it is enforced. */
enum nslab_sandbox_limit {
	NSLAB_SANDBOX_LIMIT_NONE = 0,
	NSLAB_SANDBOX_LIMIT_MEMORY = 1, /* bytes: memory.max, else RLIMIT_AS */
	NSLAB_SANDBOX_LIMIT_CPU =
		2, /* CPU seconds of the whole tree: cpu accounting, else RLIMIT_CPU + nslab's sampling */
	NSLAB_SANDBOX_LIMIT_PIDS =
		3, /* processes at once: pids.max, else RLIMIT_NPROC in the sandbox's own user namespace */
	NSLAB_SANDBOX_LIMIT_FILES = 4,	 /* open files per process: RLIMIT_NOFILE */
	NSLAB_SANDBOX_LIMIT_FSIZE = 5,	 /* bytes per file written: RLIMIT_FSIZE */
	NSLAB_SANDBOX_LIMIT_TIMEOUT = 6, /* wall-clock milliseconds: nslab's timer */
	NSLAB_SANDBOX_LIMIT__COUNT
};

/* How a limit was enforced in a run. */
enum nslab_sandbox_mechanism {
	NSLAB_SANDBOX_MECH_UNSET = 0, /* the limit was not set */
	NSLAB_SANDBOX_MECH_RLIMIT = 1,
	NSLAB_SANDBOX_MECH_CGROUP = 2, /* a cgroup v2 controller in a delegated subtree */
	NSLAB_SANDBOX_MECH_TIMER = 3,  /* nslab measures and kills (wall clock; see below) */
};

/*
 * How each limit is seen and what ends the sandbox (rlimits; with a cgroup,
 * its own counters, memory.events and pids.events, say "reached"):
 * - memory: RLIMIT_AS makes allocations fail and the program decides what
 *   then. nslab's init samples the peak virtual size of every process (and
 *   the peak resident set of each one it reaps); at 7/8 of the limit it is
 *   reached, and if the command then fails (non-zero exit or fatal signal)
 *   the sandbox was ended by memory.
 * - pids: RLIMIT_NPROC in the sandbox's own user namespace (counted per user
 *   per user namespace since Linux 5.14: the sandbox's tasks, threads
 *   included). Reached when the tasks are at the limit. A fork bomb under it
 *   never ends by itself, so a pids limit that stays reached for 500 ms ends
 *   the sandbox (ended_by pids, the command killed by SIGKILL), as the OOM
 *   killer ends a memory cgroup that cannot reclaim. The host's root is not
 *   held by RLIMIT_NPROC: a command that runs as it (root without sudo, not
 *   remapped) has its pids limit held by nslab alone (mechanism TIMER), and
 *   one task over the limit ends the sandbox at once.
 * - cpu: RLIMIT_CPU per process (SIGXCPU at the limit, SIGKILL a second
 *   later) and the whole tree's CPU time sampled every 10 ms: past the limit
 *   the sandbox ends (ended_by cpu).
 * - files: RLIMIT_NOFILE (EMFILE; never reported as reached).
 * - fsize: RLIMIT_FSIZE (SIGXFSZ, or EFBIG when ignored); a process killed by
 *   SIGXFSZ reaches it, the command killed by it ends the sandbox by fsize.
 * - timeout: a timer from the command's start; exit code 124.
 * An rlimit never goes above the caller's own hard limit.
 */

enum nslab_sandbox_seccomp {
	NSLAB_SANDBOX_SECCOMP_DEFAULT = 0, /* the calls containers refuse (Docker's list) */
	NSLAB_SANDBOX_SECCOMP_NONE = 1,
	NSLAB_SANDBOX_SECCOMP_FILE = 2, /* an OCI/Docker JSON profile */
};

/* What a call refused by seccomp gets. */
enum nslab_sandbox_violation {
	NSLAB_SANDBOX_VIOLATION_EPERM = 0, /* the call fails with EPERM (default) */
	NSLAB_SANDBOX_VIOLATION_KILL = 1,  /* the process is killed (SIGSYS) */
};

enum nslab_sandbox_bind_flags {
	NSLAB_SANDBOX_BIND_RO = 1u << 0,
	NSLAB_SANDBOX_BIND_TRY = 1u << 1, /* a missing source is skipped, not an error */
};

/* --- configuration ------------------------------------------------------ */

NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_new(nslab_sandbox_config **ret,
							  nslab_error *err);
NSLAB_EXPORT nslab_sandbox_config *nslab_sandbox_config_free(nslab_sandbox_config *c);

/* Namespaces: an OR of NSLAB_SANDBOX_NS_*. Without NS_NET the network is the host's. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_namespaces(nslab_sandbox_config *c,
								     unsigned ns, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_network(nslab_sandbox_config *c,
								  enum nslab_sandbox_net net,
								  nslab_error *err);
/*
 * Join a network namespace held by fd (NET_JOIN, e.g. a lab node's), entering
 * its owning user namespace first when userns_fd >= 0 (a rootless lab's).
 * The fds are duplicated.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_netns(nslab_sandbox_config *c,
								int userns_fd, int netns_fd,
								nslab_error *err);

/*
 * nslab_sandbox_config_set_egress() - Filtered egress (nslab/egress.h) for every command of c
 * Each nslab_sandbox_spawn()/_run() starts a session of e (the jail, its
 * gateway, the DNS gate; the ask function and capture of e included), runs
 * the command in its jail with /etc/resolv.conf naming the gate, and ends the
 * session with nslab_sandbox_free(). e is borrowed: it must outlive the
 * sandboxes. NULL: no egress (the network none). A later set_network() or
 * set_netns() replaces it. Root only on this release (see docs/egress.md).
 * Return: 0
 */
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_config_set_egress(nslab_sandbox_config *c, const nslab_egress *e, nslab_error *err);

/*
 * nslab_sandbox_config_set_lab_node() - Join a node of a running lab (`nslab run --in LAB NODE`)
 * Asks the lab's supervisor (its control socket, as `nslab exec` does) for the
 * node's network namespace and, for a rootless lab, the lab's user namespace,
 * and sets them as set_netns() does; adds the lab's NSLAB_IP* variables to the
 * environment and names the host after the node (unless a host name was set
 * before: a later set_hostname() wins anyway). The connection stays open
 * until c is freed, so that the lab's event log shows the run.
 * Return: 0, or -errno: -ESRCH no such lab up, -ENODEV no such node.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_lab_node(nslab_sandbox_config *c,
								   const char *lab,
								   const char *node,
								   nslab_error *err);

/* The uid and gid the command runs as inside (default: the caller's, or SUDO_UID/SUDO_GID). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_uid(nslab_sandbox_config *c, uid_t uid,
							      nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_gid(nslab_sandbox_config *c, gid_t gid,
							      nslab_error *err);
/* Map the caller to 0 inside (still no capabilities unless kept). */
NSLAB_EXPORT void nslab_sandbox_config_set_as_root(nslab_sandbox_config *c, bool as_root);

/* A limit (units in enum nslab_sandbox_limit); 0 removes it. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_limit(nslab_sandbox_config *c,
								enum nslab_sandbox_limit limit,
								uint64_t value, nslab_error *err);
/* process-sandbox's names for the same. */
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_config_set_memory_limit(nslab_sandbox_config *c, uint64_t bytes, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_max_fds(nslab_sandbox_config *c,
								  unsigned n, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_config_set_max_processes(nslab_sandbox_config *c, unsigned n, nslab_error *err);
/*
 * CPU share, 100..1024 (process-sandbox's cpu_shares; 1024 = a full share):
 * cgroup cpu.weight where delegated (shares * 100 / 1024), else a nice value
 * (1024 -> 0, 512 -> 5, 256 -> 10, 128 -> 15) and SCHED_IDLE below 128.
 */
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_config_set_cpu_shares(nslab_sandbox_config *c, unsigned shares, nslab_error *err);

/* Filesystem. rootfs NULL: the host root, read-only. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_rootfs(nslab_sandbox_config *c,
								 const char *dir, nslab_error *err);
NSLAB_EXPORT void nslab_sandbox_config_set_readonly_root(nslab_sandbox_config *c, bool ro);
/* Bind src (outside) at dst (inside; NULL: the same path), in the order given. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_add_bind(nslab_sandbox_config *c,
							       const char *src, const char *dst,
							       unsigned flags, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_add_tmpfs(nslab_sandbox_config *c,
								const char *dst, nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_cwd(nslab_sandbox_config *c,
							      const char *dir, nslab_error *err);

/* seccomp: path only with SECCOMP_FILE (read and checked now, not at run). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_seccomp(nslab_sandbox_config *c,
								  enum nslab_sandbox_seccomp mode,
								  const char *path,
								  nslab_error *err);
NSLAB_EXPORT void nslab_sandbox_config_set_violation(nslab_sandbox_config *c,
						     enum nslab_sandbox_violation v);

/* Capabilities (CAP_* numbers, or names via nslab_sandbox_config_keep_cap_name()). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_keep_cap(nslab_sandbox_config *c, int cap,
							       nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_config_keep_cap_name(nslab_sandbox_config *c, const char *name, nslab_error *err);
/*
 * nslab_sandbox_config_warnings() - What a seccomp profile file asked that was skipped
 * (syscall names this libseccomp does not know, where skipping refuses nothing
 * the profile allows). ret: borrowed array of n "FILE:LINE:COL: ..." strings.
 */
NSLAB_EXPORT size_t nslab_sandbox_config_warnings(const nslab_sandbox_config *c,
						  const char *const **ret);
/* Kept capabilities also raised in the ambient set (they survive exec of non-setcap files). */
NSLAB_EXPORT void nslab_sandbox_config_set_ambient(nslab_sandbox_config *c, bool ambient);

/*
 * nslab_sandbox_config_set_shared_init() - A faster start, for a caller that only waits
 * With on, the sandbox's init shares the caller's memory instead of a copy of
 * it: about 0.1 ms less per start (the copy's page tables, init's
 * copy-on-write faults and their teardown at its exit). The price: until the
 * sandbox has been waited for, init and the command run on the calling
 * thread's thread-local storage, its errno among it. So from spawn (or run)
 * to the return of nslab_sandbox_wait() (or run), the calling thread must do
 * nothing but that wait, and take no signal while spawn runs (block the ones
 * it handles; they may come once spawn returned); an event function runs on
 * that thread meanwhile. The command taking other ids than the caller's may
 * leave the caller not dumpable (the kernel's rule on set*id()). Ignored for
 * a pool, with a cgroup limit, a kept capability or no PID namespace, in a
 * lab's network (set_netns(), set_lab_node(), set_egress()), for a caller
 * that is not dumpable and under AddressSanitizer. `nslab run` sets it.
 */
NSLAB_EXPORT void nslab_sandbox_config_set_shared_init(nslab_sandbox_config *c, bool on);

/* Environment: start empty instead of the caller's, then set K=V (value NULL: unset K). */
NSLAB_EXPORT void nslab_sandbox_config_clear_env(nslab_sandbox_config *c);
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_env(nslab_sandbox_config *c,
							      const char *name, const char *value,
							      nslab_error *err);
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_config_set_hostname(nslab_sandbox_config *c, const char *name, nslab_error *err);
/* stdin, stdout, stderr of the command (-1: the caller's). The fds are duplicated. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_set_stdio(nslab_sandbox_config *c, int in,
								int out, int errfd,
								nslab_error *err);

/*
 * nslab_sandbox_config_load() - Apply a profile (YAML, every option of `nslab run`)
 * Keys are the long option names without dashes (mem, cpu, pids, fds, fsize,
 * timeout, rootfs, ro, bind, ro-bind, tmpfs, chdir, seccomp, cap-add, uid, gid,
 * as-root, hostname, env, clearenv, net). Errors at "FILE:LINE:COL: ...";
 * on error c is unchanged.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_config_load(nslab_sandbox_config *c,
							   const char *path, nslab_error *err);

/*
 * nslab_sandbox_config_describe() - The effective policy as JSON (`nslab run --dry-run`)
 * Return: a malloc'd NUL-terminated string the caller frees, or NULL on ENOMEM.
 */
NSLAB_EXPORT char *nslab_sandbox_config_describe(const nslab_sandbox_config *c);

/* --- running ------------------------------------------------------------- */

/* Why the command ended. */
struct nslab_sandbox_result {
	int status;    /* waitpid()-style status of the command */
	int exit_code; /* shell-style: the exit status, 128+N for signal N, 124 for a timeout */
	enum nslab_sandbox_limit ended_by; /* the limit that ended it, or LIMIT_NONE */
	uint32_t limits_reached;	   /* bit (1u << limit) for every limit seen reached */
	enum nslab_sandbox_mechanism mechanism[NSLAB_SANDBOX_LIMIT__COUNT];
	uint64_t wall_usec;
	uint64_t user_usec, sys_usec; /* the whole tree's, reaped processes included */
	uint64_t maxrss_kib;	      /* the largest resident set of any process */
	uint64_t minflt, majflt, nvcsw, nivcsw;
	uint64_t reserved[8];
};

enum nslab_sandbox_event_kind {
	NSLAB_SANDBOX_EV_STARTED = 1,	/* the command was exec'd */
	NSLAB_SANDBOX_EV_EXITED = 2,	/* it exited; result filled */
	NSLAB_SANDBOX_EV_SIGNALED = 3,	/* it was killed by a signal; result filled */
	NSLAB_SANDBOX_EV_LIMIT_HIT = 4, /* a limit was reached (limit says which) */
	NSLAB_SANDBOX_EV_TIMEOUT = 5, /* the wall-clock limit ended it; result filled (no EXITED) */
};

struct nslab_sandbox_event {
	enum nslab_sandbox_event_kind kind;
	pid_t pid;				   /* the command, in the caller's PID namespace */
	enum nslab_sandbox_limit limit;		   /* LIMIT_HIT, TIMEOUT */
	const struct nslab_sandbox_result *result; /* EXITED, SIGNALED, TIMEOUT; else NULL */
};
typedef void (*nslab_sandbox_event_func)(const struct nslab_sandbox_event *ev, void *data);
/*
 * Events of the sandboxes started with c, delivered from nslab_sandbox_wait()'s
 * thread, in order: STARTED, LIMIT_HIT for each limit reached (timeout aside),
 * then one of EXITED, SIGNALED or TIMEOUT.
 */
NSLAB_EXPORT void nslab_sandbox_config_set_event_func(nslab_sandbox_config *c,
						      nslab_sandbox_event_func fn, void *data);

/*
 * nslab_sandbox_run() - Run argv (argv[0] looked up in the sandbox's PATH) and wait
 * Return: 0 with res filled once the command ran (whatever its status), or
 * -errno when it could not start: res->exit_code 127 when exec found no such
 * command (-ENOENT), 126 when it could not run it (-EACCES, -ENOEXEC, -EPERM),
 * 125 for any other step, which err names.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_run(const nslab_sandbox_config *c,
						   char *const argv[],
						   struct nslab_sandbox_result *res,
						   nslab_error *err);
/* Start argv; ret is the handle (free with nslab_sandbox_free()). Errors as nslab_sandbox_run(). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_spawn(const nslab_sandbox_config *c,
						     char *const argv[], nslab_sandbox **ret,
						     nslab_error *err);
/*
 * nslab_sandbox_spawn_ex() - nslab_sandbox_spawn(), and what a failure stands for
 * On failure, *ret_exit_code (when not NULL) is the shell-style status a
 * failed start reports: 127 (exec: not found), 126 (exec: found, not
 * executable: EACCES, ENOEXEC, EPERM), 125 (any other step, whatever its
 * errno: a setup step's ENOENT is not "command not found").
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_spawn_ex(const nslab_sandbox_config *c,
							char *const argv[], nslab_sandbox **ret,
							int *ret_exit_code, nslab_error *err);
NSLAB_EXPORT pid_t nslab_sandbox_pid(const nslab_sandbox *s); /* the command */
/* The sandbox's pid 1's (borrowed): readable once the sandbox is gone (wait() will not block). */
NSLAB_EXPORT int nslab_sandbox_pidfd(const nslab_sandbox *s);
/* Block until the command ended and the sandbox is gone; fill res. */
NSLAB_EXPORT NSLAB_NODISCARD int
nslab_sandbox_wait(nslab_sandbox *s, struct nslab_sandbox_result *res, nslab_error *err);
/* Signal the command (sig) or, with SIGKILL, the whole sandbox. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_kill(nslab_sandbox *s, int sig, nslab_error *err);
/* Kill the sandbox if still running, reap it, free the handle. NULL is fine. Return: NULL. */
NSLAB_EXPORT nslab_sandbox *nslab_sandbox_free(nslab_sandbox *s);

/* --- dynamic policy updates (only ever tighter) -------------------------- */

/* Lower a limit for every process of the running sandbox; raising one is -EPERM. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_set_limit(nslab_sandbox *s,
							 enum nslab_sandbox_limit limit,
							 uint64_t value, nslab_error *err);
/* Refuse more system calls from now on, by name (seccomp filters only stack). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_deny_syscalls(nslab_sandbox *s,
							     const char *const names[], size_t n,
							     nslab_error *err);
/* Drop a capability from every process of the running sandbox. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_drop_cap(nslab_sandbox *s, int cap,
							nslab_error *err);

/* --- pool: sandboxes prepared ahead, for frequent short runs ------------- */

/*
 * nslab_sandbox_pool_new() - Keep n sandboxes of config c prepared (namespaces,
 * mounts, limits set), each waiting for its command. c is copied. Each also
 * holds its command's process, forked and set up ahead (ids, limits,
 * capabilities dropped and, with the default profile, the seccomp filter):
 * a start writes argv to it and it execs, without a round trip through the
 * sandbox's init. An argv over about 256 KiB starts a process as without a
 * pool.
 * A thread of the pool prepares them and every sandbox dies with the thread
 * that started it: sandboxes started from a pool end with the pool. Their
 * limits are rlimits, never a cgroup.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_pool_new(const nslab_sandbox_config *c, unsigned n,
							nslab_sandbox_pool **ret, nslab_error *err);
/* Start argv in a prepared sandbox (one is prepared again in its place). */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_sandbox_pool_spawn(nslab_sandbox_pool *p, char *const argv[],
							  nslab_sandbox **ret, nslab_error *err);
NSLAB_EXPORT nslab_sandbox_pool *nslab_sandbox_pool_free(nslab_sandbox_pool *p);

/* "memory", "cpu", "pids", "files", "fsize", "timeout"; "none" for LIMIT_NONE. */
NSLAB_EXPORT const char *nslab_sandbox_limit_name(enum nslab_sandbox_limit limit);
/* "rlimit", "cgroup", "timer"; "unset". */
NSLAB_EXPORT const char *nslab_sandbox_mechanism_name(enum nslab_sandbox_mechanism m);

#ifdef __cplusplus
}
#endif
#endif

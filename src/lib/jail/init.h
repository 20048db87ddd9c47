/* SPDX-License-Identifier: MIT */
/*
 * jail/init: what the pieces of the sandbox's pid 1 share (init.c,
 * init-early.c, init-net.c, init-pool.c, init-watch.c, command.c, child.c):
 * init's state, the small async-signal-safe helpers, and the calls between
 * the files. Internal to the jail; everything here runs in a child (no
 * malloc, no stdio, no locks).
 */
#pragma once

#include "jail/core.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"

/* How long a wait on the start's path polls before it blocks (init-early.c's DOC). */
#define JAIL_SPIN_NS (300 * 1000ull)

/* --- async-signal-safe helpers ------------------------------------------------ */

/* "what 'arg': strerror(code)" into err, without printf. */
static inline void child_err(nslab_error *err, int code, const char *what, const char *arg)
{
	const char *cause = strerrordesc_np(code);
	const char *parts[] = { what, arg ? " '" : "",	      arg ? arg : "", arg ? "'" : "",
				": ", cause ? cause : "error" };
	size_t n = 0;

	err->code = code > 0 ? code : EIO;
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (const char *p = parts[i]; *p && n < sizeof(err->msg) - 1; p++)
			err->msg[n++] = *p;
	err->msg[n] = '\0';
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t parse_u64(const char **s)
{
	uint64_t v = 0;

	while (**s == ' ')
		(*s)++;
	while (**s >= '0' && **s <= '9')
		v = v * 10 + (uint64_t)(*(*s)++ - '0');
	return v;
}

static inline void skip_fields(const char **s, int n)
{
	while (n-- > 0) {
		while (**s == ' ')
			(*s)++;
		while (**s && **s != ' ')
			(*s)++;
	}
}

static inline ssize_t read_at(int dirfd, const char *path, char *buf, size_t len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	(void)close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static inline char *fmt_u64(char *end, uint64_t v)
{
	*--end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

/* --- init's state (init.c) ------------------------------------------------------- */

struct init {
	const struct jail_plan *p;
	char *const *argv;
	char *cmd_stack; /* non-NULL: init shares the caller's memory, the command's stack (spawn.c) */
	int sock;	 /* -1 once the parent is gone */
	int sigfd, tfd_timeout, tfd_sample, procfd;
	pid_t cmd;
	bool cmd_done;
	int cmd_status;
	uint64_t limit[NSLAB_SANDBOX_LIMIT__COUNT];
	uint32_t reached;
	enum nslab_sandbox_limit ended_by;
	uint64_t t0, wall_usec;
	uint64_t pids_since; /* when the pids limit was first seen reached; 0: not reached */
	uint64_t sig_used;   /* the caller's signals with a disposition set (init_signals()) */
	bool set_groups;     /* the command clears its groups (the plan's, unless GO said denied) */
	/* the command forked early (init-early.c's DOC): -1 / NULL otherwise */
	int early_go, early_ep, early_net, early_pidfd; /* init's ends, the command's pidfd */
	char *early_stack;				/* mapped here, or cmd_stack */
	struct {
		int ep, go, net; /* the command's ends */
		int close[4];	 /* init's, closed in the command */
	} early_args;		 /* written before the clone, read-only after */
};

/* One pass over the sandbox's processes (init-watch.c). */
struct sample {
	uint64_t tasks, cpu_ticks, vm_peak;
};

/* The network namespace's helper (init-net.c). */
struct net_helper {
	pid_t pid; /* 0: none started */
	int fd;	   /* the namespace, from the helper */
	int err;   /* the helper's errno, 0 if it worked */
	const char *what;
	char *stack;
};

/* --- command.c ------------------------------------------------------------------- */

/* Report e on the exec pipe and end the command (127: it never ran). */
_Noreturn void jail_cmd_fail(int pipe_fd, nslab_error *e);
/* Everything before the seccomp filter and exec: what a pool's command does ahead. */
void jail_cmd_setup(const struct jail_plan *p, bool set_groups, int pipe_fd);
/* The seccomp filter last (a profile may refuse what the steps before need), unless installed. */
_Noreturn void jail_cmd_exec(const struct jail_plan *p, char *const argv[], int pipe_fd,
			     bool filtered);
/*
 * The command forked early (init-early.c's DOC), from fork to exec: net >= 0:
 * it makes the network namespace and sends an fd of it on that socket
 * (SCM_RIGHTS); once a first byte on go says the
 * maps are written (JAIL_EARLY_SET_GROUPS: and struct init's set_groups), it resets the signals in *sig_used (init's reading of the
 * caller's, written before that byte) and sets itself up; it waits for a
 * second byte on go before its working directory and the exec.
 */
#define JAIL_EARLY_SET_GROUPS 'g'
_Noreturn void jail_cmd_early(const struct jail_plan *p, char *const argv[], int pipe_fd, int go,
			      int net, const uint64_t *sig_used);
/* The command, from fork to exec (core.h's DOC: "command"); set_groups: struct init's. */
_Noreturn void jail_cmd_main(const struct jail_plan *p, char *const argv[], bool set_groups,
			     int pipe_fd);

/* --- init.c ---------------------------------------------------------------------- */

/* Say ERROR (exec_failed: the exec step's, for 126/127) and exit. */
_Noreturn void jail_init_fail(struct init *in, const nslab_error *e, bool exec_failed);
/* A limit was reached: remembered, and told the parent once. */
void jail_init_reach(struct init *in, enum nslab_sandbox_limit limit);
/* A limit ends the sandbox: reached, and the first one is what ended it. */
void jail_init_end(struct init *in, enum nslab_sandbox_limit by);
/* Bring "lo" up in the current network namespace. Return: 0 or -1 (errno) */
int jail_loopback_up(void);
/*
 * Poll fd for up to JAIL_SPIN_NS, yielding the CPU at each turn, before the
 * caller blocks in its read: for what usually comes within a few hundred
 * microseconds on the start's path (init-early.c's DOC: why).
 */
void jail_spin_readable(int fd);

/* The argc of a blob "argc\0arg0\0arg1\0..." (from the caller: trusted). */
uint64_t jail_blob_argc(const char *blob);
/* blob's argv array, in argv (jail_blob_argc() + 1 slots), or mapped if NULL. Return: NULL on ENOMEM */
char *const *jail_argv_of_blob(const char *blob, char **argv);
/* Pool: the command's argv arrives in a memfd, as a blob (jail_argv_of_blob()). */
const char *jail_init_recv_blob(struct init *in, size_t *ret_len);
/* The command's exec pipe: end of file when execve() worked, else its error (then init ends). */
void jail_init_await_exec(struct init *in, int ep);
/* Start the command; its exec pipe tells whether execve() worked. */
void jail_init_start_command(struct init *in, int *ret_pidfd);

/* --- init-early.c ------------------------------------------------------------------ */

/* Whether init forks the command at once (not for a pool, a cgroup or ASan). */
bool jail_early_possible(const struct init *in);
/* Clone the command with its pipes: exec report, GO and (net_late) network made. */
void jail_early_fork(struct init *in);
/* jail_fs_enter_hooked()'s hook: the command's network namespace, once made, joined. */
int jail_early_net_join(void *data, nslab_error *err);
/* The maps are written: the command may take its ids (the first byte on its GO socket). */
void jail_early_maps_written(struct init *in);
/* The command forked early: GO, then its exec report (or why it ended before GO). */
void jail_early_go(struct init *in, int *ret_pidfd);

/* --- init-net.c ------------------------------------------------------------------ */

/*
 * A new network namespace for the calling process (the command forked early),
 * its loopback still down: init brings it up once it joined (init-early.c).
 * Return: an fd of it, or -1 (err set)
 */
int jail_net_make(nslab_error *err);
/* Start the helper that makes the network namespace (ASan: nothing, join makes it). */
void jail_net_start(struct net_helper *h);
/* jail_fs_enter_hooked()'s hook: the helper's namespace joined (or made now). */
int jail_net_join(void *data, nslab_error *err);
/*
 * The helper took pid 2 of the sandbox's PID namespace: the next pid is 2
 * again (ns_last_pid, CRIU's way; init holds CAP_SYS_ADMIN over the namespace),
 * so that the command is pid 2 as it is without a helper. Best effort: a
 * command at pid 3 is no failure.
 */
void jail_reset_last_pid(int procfd);

/* --- init-pool.c ----------------------------------------------------------------- */

/* Our PID namespace, for the parent's walks of /proc (it cannot read ours once non-dumpable). */
void jail_msg_ns(struct jail_msg *m);
/*
 * Pool: prepare the command, say READY, and wait until the prepared command
 * starts (the caller wrote it its argv) or RUN comes (argv too large for it).
 * Return: true for the prepared command (the caller has its pidfd already).
 */
bool jail_init_pool_start(struct init *in, struct jail_msg *m, int *ret_pidfd);

/* --- init-watch.c ---------------------------------------------------------------- */

/* One process of the sandbox: /proc/PID/stat (and VmPeak when memory is limited). */
void jail_sample_one(struct init *in, const char *pid, struct sample *s);
/* Walk the sandbox's /proc (getdents64: readdir() may allocate). */
void jail_sample_walk(struct init *in, struct sample *s);
/* One sample of the tree against the memory, CPU and pids limits (DOC: what init watches). */
void jail_init_sample(struct init *in);
/* Arm the timeout (from the command's start) and, with a limit to watch, the sampling. */
void jail_init_timers(struct init *in);

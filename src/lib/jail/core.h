/* SPDX-License-Identifier: MIT */
/*
 * jail/core: what plan.c, spawn.c, init.c, limits.c and pool.c share (the start
 * sequence, the sandbox's pid 1, limits and accounting, the pool).
 *
 * DOC: the start sequence
 * parent (the caller; any thread; never changed by the call):
 *   1. jail_plan_prepare(): every decision and allocation (fs plan, seccomp
 *      BPF, limits and cgroup, uid/gid maps, argv/envp arrays)
 *   2. clone3(CLONE_PIDFD | the namespace flags): the child is init, pid 1 of
 *      the new PID namespace (NET_JOIN: a short-lived helper enters the lab's
 *      user and network namespaces first and clones init with CLONE_PARENT;
 *      set_shared_init(): clone() with CLONE_VM, spawn.c's DOC).
 *      A new network namespace is left to init (net_late), unless a seccomp
 *      filter holds the caller
 *   3. root: write uid_map/gid_map, send GO. Rootless (one id each way,
 *      setgroups denied) init writes its own maps and nobody waits for GO
 * init (init.c):
 *   4. PR_SET_PDEATHSIG(SIGKILL), and the parent (a pidfd) still there;
 *      a run (no pool, cgroup or ASan): the command forked at once (init-early.c's
 *      DOC: the command forked early) makes the network namespace meanwhile;
 *      write its own maps, or wait for GO; then the command may take its ids
 *   5. a run: the command sets itself up while init builds the root, and
 *      hands init the network namespace. Else net_late: a helper makes
 *      the network namespace (loopback up) meanwhile. Init sets the host
 *      name and builds the root (jail_fs_enter_hooked(): the network
 *      namespace joined before sysfs); else loopback up; non-dumpable
 *   6. pool only: fork the command ahead, set up, waiting for argv; say READY
 *      with its argv socket, exec pipe and pidfd: the caller starts it
 *      directly (init hears a byte when it starts). An argv too large for it
 *      comes in RUN (a memfd) instead: init kills it and goes on to 7
 *   7. fork the command (a run: GO to the one forked early); its exec pipe
 *      says whether execve() worked
 *   8. say STARTED (with the command's pidfd; not for a command the caller
 *      started) or ERROR, then supervise:
 *      reap everything, watch the limits, and when the command ended kill
 *      the rest, reap it, and say REPORT; exit
 * command (command.c, between fork and exec):
 *   setsid, cgroup namespace (cgroup mode), stdio, cwd, rlimits and nice,
 *   gid/groups/uid, signal mask cleared (init reset the dispositions),
 *   jail_caps_enter() (caps, securebits, no_new_privs), jail_seccomp_install(),
 *   execve() along the sandbox's PATH
 *
 * Every message between parent and init is one struct jail_msg on a
 * SOCK_SEQPACKET socket pair (fds ride along as SCM_RIGHTS).
 */
#pragma once

/* AddressSanitizer does not follow a stack switch: no clone() onto a stack of ours under it. */
#if defined(__SANITIZE_ADDRESS__)
#define JAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAIL_ASAN 1
#endif
#endif

#include <linux/filter.h>
#include <linux/sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "jail/jail.h"

/* Time a pids limit may stay reached before init ends the sandbox (a fork bomb never ends). */
#define JAIL_PIDS_GRACE_MS 500
/* How often init samples the tree's processes while a memory, CPU or pids limit is set. */
#define JAIL_SAMPLE_MS	   10
/* A peak virtual size (or resident set) at or above this share of a memory limit reaches it. */
#define JAIL_MEM_NEAR_NUM  7
#define JAIL_MEM_NEAR_DEN  8

/* Everything a sandbox needs, computed by the parent before the clone; read-only afterwards. */
struct jail_plan {
	unsigned refs;	      /* spawn: one per handle; pool: one more for the pool */
	uint64_t clone_flags; /* CLONE_NEW* for init */
	bool new_net;	      /* bring loopback up */
	bool net_late; /* new_net, made by init's helper while it builds the root (init-net.c) */
	bool pidns;    /* init is pid 1 of a PID namespace of its own */
	bool join;     /* NET_JOIN: through the helper */
	int join_userns_fd; /* -1: none (then maps are the parent's) */
	int join_netns_fd;  /* -1 unless join */
	bool userns;	    /* a user namespace: maps to write */
	char uid_map[64];   /* lines for /proc/PID/uid_map, "" when no user namespace */
	char gid_map[64];
	bool deny_setgroups; /* rootless: setgroups must be denied before gid_map */
	bool self_maps;	     /* one id each, setgroups denied: init writes its own maps */
	bool cgroupns_late;  /* cgroup mode: the command unshares its cgroup namespace */
	uid_t uid;	     /* the command's, inside */
	gid_t gid;
	uid_t cmd_kuid;		 /* the command's uid as this process's namespace sees it */
	bool init_vm;		 /* a run's init may share the caller's memory (spawn.c's DOC) */
	bool set_groups;	 /* may clear the groups (CAP_SETGID); GO: unless denied */
	struct jail_fs_plan *fs; /* NULL: no mount namespace (or nothing to do) */
	struct sock_fprog seccomp;
	bool seccomp_default; /* the default profile: it refuses nothing a waiting command needs */
	struct jail_limits limits;
	long clk_tck;
	uint64_t keep_caps;
	bool ambient;
	int cap_last; /* the kernel's last capability (jail_caps_last()) */
	enum nslab_sandbox_violation violation;
	char *hostname; /* NULL: keep */
	char *cwd;	/* the command's; "/" when it does not exist inside */
	int stdio[3];	/* -1: inherit */
	char **envp;	/* NULL-terminated, owned */
	nslab_sandbox_event_func event_fn;
	void *event_data;
};

/* Plan everything for c (parent side). Return: 0, or -errno with the step in err. */
int jail_plan_prepare(const struct nslab_sandbox_config *c, struct jail_plan **ret,
		      nslab_error *err);
struct jail_plan *jail_plan_ref(struct jail_plan *p);
void jail_plan_unref(struct jail_plan *p);
/*
 * Whether the command's user is the host's root, which RLIMIT_NPROC does not
 * hold (kernel/fork.c): asked only with a pids limit (it reads our uid map).
 */
bool jail_plan_nproc_unenforced(const struct jail_plan *p);

enum jail_msg_kind {
	JAIL_MSG_GO = 1,  /* parent -> init: maps written, go on (value: setgroups denied) */
	JAIL_MSG_RUN,	  /* parent -> init (pool): argv in the attached memfd */
	JAIL_MSG_LIMIT,	  /* parent -> init: a limit was lowered (limit, value) */
	JAIL_MSG_READY,	  /* init -> parent (pool): prepared, waiting for RUN (ns_*) */
	JAIL_MSG_ERROR,	  /* init -> parent: the start failed (err); init exits */
	JAIL_MSG_STARTED, /* init -> parent: exec'd; the command's pidfd attached (ns_*) */
	JAIL_MSG_REACHED, /* init -> parent: a limit was reached (limit) */
	JAIL_MSG_REPORT,  /* init -> parent: the end (status, ended_by, reached, wall, ru) */
};

/*
 * STARTED: where the caller finds the command's pid in its own PID namespace.
 * Never from the pidfd's fdinfo alone: a quick command may be reaped by init
 * before the caller reads it, and a reaped pidfd's fdinfo says -1.
 */
enum jail_pid_in {
	JAIL_PID_IN_FDINFO = 0, /* neither below (init could attach nothing) */
	JAIL_PID_IN_CRED,	/* the SCM_CREDENTIALS pid: init's view, translated by the kernel */
	JAIL_PID_IN_VALUE,	/* value: init shares the caller's PID namespace */
};

struct jail_msg {
	uint32_t kind;
	uint32_t limit;	   /* LIMIT, REACHED */
	uint64_t value;	   /* LIMIT; STARTED: the command's pid in init's PID namespace */
	int32_t status;	   /* REPORT: the command's waitpid() status */
	uint32_t ended_by; /* REPORT */
	uint32_t reached;  /* REPORT: bits (1u << limit) */
	uint64_t wall_usec;
	uint64_t ns_dev, ns_ino; /* READY, STARTED: init's PID namespace */
	struct rusage ru;	 /* REPORT: every process of the sandbox (init's RUSAGE_CHILDREN) */
	nslab_error err;	 /* ERROR */
	uint32_t pid_in;	 /* STARTED: enum jail_pid_in */
};

#define JAIL_MSG_FDS_MAX 3

/* Pool: a prepared command's argv area: the blob, its NUL, the argv array (init-pool.c's DOC). */
#define JAIL_PREP_ARGV_MAX (256u << 10)
static inline bool jail_prep_fits(uint64_t len, uint64_t argc)
{
	return len + 1 + sizeof(char *) + (argc + 1) * sizeof(char *) <= JAIL_PREP_ARGV_MAX;
}

/* Send one message, with fd attached if >= 0. Async-signal-safe. Return: 0 or -errno. */
int jail_msg_send(int sock, const struct jail_msg *m, int fd);
/* The same with n_fds (at most JAIL_MSG_FDS_MAX) fds attached. */
int jail_msg_send_fds(int sock, const struct jail_msg *m, const int *fds, size_t n_fds);
/*
 * The same with credentials attached (SCM_CREDENTIALS; cred->pid in the
 * sender's PID namespace, which the kernel translates for the receiver).
 */
int jail_msg_send_cred(int sock, const struct jail_msg *m, const int *fds, size_t n_fds,
		       const struct ucred *cred);
/* Receive one message (fd attached: *ret_fd, else -1). Return: 1, 0 at end of file, or -errno. */
int jail_msg_recv(int sock, struct jail_msg *m, int *ret_fd);
/* The same with up to n_fds fds, in fds (-1 for each one not attached; extra ones closed). */
int jail_msg_recv_fds(int sock, struct jail_msg *m, int *fds, size_t n_fds);
/* The same, and the credentials attached in *ret_cred (pid -1 when none came). */
int jail_msg_recv_cred(int sock, struct jail_msg *m, int *fds, size_t n_fds,
		       struct ucred *ret_cred);

/*
 * jail_init_main() - pid 1 of the sandbox (see DOC: the start sequence)
 * @p:     the plan (a copy of the parent's memory: valid until exec)
 * @argv:  the command, or NULL in a pool (it comes with RUN)
 * @sock:  init's end of the socket pair
 * @parent_pidfd: the caller's pidfd (is it still there once PR_SET_PDEATHSIG took?)
 * @cmd_stack: NULL, or JAIL_CMD_STACK_SIZE bytes of the caller's for the
 *        command forked early: init shares the caller's memory (spawn.c's DOC)
 * Never returns.
 */
_Noreturn void jail_init_main(const struct jail_plan *p, char *const *argv, int sock,
			      int parent_pidfd, char *cmd_stack);
/*
 * jail_clone() - clone3() as fork(), or clone() where clone3() says ENOSYS (a
 * container's seccomp profile, ours included: a nested sandbox): with
 * args->flags, exit_signal and pidfd; CLONE_INTO_CGROUP needs clone3().
 * Async-signal-safe. Return: as fork()
 */
pid_t jail_clone(struct clone_args *args);
/* "inside outside 1\n" into buf without printf (the NET_JOIN helper's maps). Return: its length, 0 if too long. */
size_t jail_map_line(char *buf, size_t len, unsigned inside, unsigned outside);

/* --- the handle (spawn.c, handle.c, update.c) -------------------------------- */

/* A sandbox as its caller holds it (nslab/sandbox.h's opaque handle). */
struct nslab_sandbox {
	struct jail_plan *plan;
	pid_t init_pid;
	int init_pidfd;
	int sock;
	pid_t cmd_pid;
	int cmd_pidfd;
	int prep_go, prep_ep; /* pool: the prepared command's argv socket and exec pipe, or -1 */
	dev_t pidns_dev;
	ino_t pidns_ino;
	uint64_t limit[NSLAB_SANDBOX_LIMIT__COUNT]; /* as lowered so far */
	enum nslab_sandbox_mechanism mech[NSLAB_SANDBOX_LIMIT__COUNT];
	uint64_t t0; /* CLOCK_MONOTONIC ns at the start, for the wall time without a report */
	bool started_told, reaped;
	uint32_t reached;
	struct nslab_sandbox_result res;
	nslab_egress_session *egress; /* set_egress(): ended with the sandbox */
	char *init_stack; /* plan->init_vm: init's stack, given back once it is reaped */
};

/* The command's stack while it shares init's memory (CLONE_VM, until its exec). */
#define JAIL_CMD_STACK_SIZE  (1u << 20)
/*
 * The stacks of an init that shares the caller's memory (spawn.c's DOC),
 * reserved lazily: the command's JAIL_CMD_STACK_SIZE at the bottom, init's above
 */
#define JAIL_INIT_STACK_SIZE (JAIL_CMD_STACK_SIZE + (1u << 20))
/* A stack for clone(), reserved lazily (pages as they are touched); MAP_FAILED with errno. */
static inline void *jail_stack_map(size_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
}
/*
 * Such stacks, one kept for the next start rather than unmapped (spawn.c's
 * DOC). get: NULL with errno set by mmap(); put: only once the init that ran
 * on it is reaped (its PID namespace, the command's too, is gone then).
 */
char *jail_init_stack_get(void);
void jail_init_stack_put(char *stack);

/* CLOCK_MONOTONIC in ns: the sandbox's wall time when init reports none. */
static inline uint64_t jail_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reap init after a failed start or at free, first sending it sig if not 0 (spawn.c). */
void jail_sandbox_reap_init(nslab_sandbox *s, int sig);
/* Wait for init's end and reap it, with the whole reaped tree's rusage. Return: 0 or -errno */
int jail_sandbox_wait_init(nslab_sandbox *s, struct rusage *ru);

/*
 * jail_sandbox_start() - Clone init and let it set up (steps 2 to 5)
 * @argv:  the command; NULL for a pool sandbox (then it waits for RUN and ret
 *         is returned once it said READY)
 * @ret_exit_code: on failure, what the start stands for: 127 (exec: not found),
 *         126 (exec: not executable), 125 (any other step); may be NULL
 * Return: 0, or -errno
 */
int jail_sandbox_start(struct jail_plan *p, char *const argv[], nslab_sandbox **ret,
		       int *ret_exit_code, nslab_error *err);
/* Send argv to a pool sandbox and wait until it exec'd it. */
int jail_sandbox_run_prepared(nslab_sandbox *s, char *const argv[], nslab_error *err);

/* --- limits.c, beyond jail.h's -------------------------------------------- */

/* Cgroup v2 controllers, as a mask. */
enum jail_cgroup_ctl {
	JAIL_CG_MEMORY = 1u << 0,
	JAIL_CG_PIDS = 1u << 1,
	JAIL_CG_CPU = 1u << 2,
};

/*
 * jail_cgroup_find() - Where the sandbox's cgroup can go: a directory of a
 * delegated cgroup v2 subtree whose children get every controller in need
 * @need:     JAIL_CG_* mask
 * @ret_dir:  on success, the directory (in the cgroup2 mount)
 * @why:      on failure, the reason (for the debug log and the tests)
 * Only cgroup2 mounts are looked at (never the v1 hierarchies). The caller's
 * own cgroup qualifies if it is the root (which may hold processes), else its
 * parent if that is delegated to the caller (owned by its non-root euid): the
 * kernel refuses controllers to a cgroup that holds processes, and the caller
 * is never moved. A missing controller is enabled in cgroup.subtree_control
 * only when it is listed in cgroup.controllers.
 * Return: 0, or -ENOENT (no such subtree; why says which step)
 */
int jail_cgroup_find(unsigned need, char *ret_dir, size_t dir_len, char *why, size_t why_len);
/* The JAIL_CG_* controllers the config's limits need. */
unsigned jail_cgroup_needed(const struct nslab_sandbox_config *c);
/*
 * jail_cpu_shares_nice() - process-sandbox's cpu_shares (100..1024) as a nice value
 * 1024 -> 0, 512 -> 5, 256 -> 10, 128 -> 15: nice = 5 * log2(1024 / shares),
 * rounded to the nearest; below 128, SCHED_IDLE (*ret_idle, nice 19).
 */
int jail_cpu_shares_nice(unsigned shares, bool *ret_idle);
/*
 * jail_limits_lower_pid() - Lower a limit (rlimit) of one process from outside (prlimit)
 * Return: 1 if it changed, 0 if it already was that low, -errno (ESRCH: gone)
 */
int jail_limits_lower_pid(pid_t pid, const struct jail_limits *l, enum nslab_sandbox_limit limit,
			  uint64_t value);
/* A pool's sandboxes use rlimits: give up a cgroup made by jail_limits_prepare(). */
void jail_limits_drop_cgroup(struct jail_limits *l);
/* Write a lowered limit to the sandbox's cgroup. Return: 0 or -errno. */
int jail_limits_cgroup_set(const struct jail_limits *l, enum nslab_sandbox_limit limit,
			   uint64_t value, nslab_error *err);
/* Limits the cgroup saw reached (memory.events, pids.events): bits (1u << limit). */
uint32_t jail_limits_cgroup_reached(const struct jail_limits *l);
/* The cgroup's CPU time so far (cpu.stat usage_usec), for init. Async-signal-safe. */
int jail_limits_cgroup_cpu_usec(const struct jail_limits *l, uint64_t *ret);

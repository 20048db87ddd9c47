/* SPDX-License-Identifier: MIT */
/*
 * ns/spawn: start a process inside namespaces held by fd.
 *
 * DOC: child steps (between clone and exec only async-signal-safe calls)
 * 1. PR_SET_PDEATHSIG(SIGKILL) if die_with_parent, then check the parent is still there;
 *    setsid() if new_session
 * 2. setns: user namespace (if given), mount namespace, network namespace
 * 3. a UTS namespace named after the node, if asked
 *    chdir to cwd (setns(CLONE_NEWNS) moved us to the namespace's root); a cwd
 *    that does not exist there is said on stderr, and the command runs in /
 * 4. stdio: dup2 the given fds
 * 5. default signal dispositions, empty signal mask, RLIMIT_NOFILE as it was
 *    before spawn_raise_nofile()
 * 6. execvpe; any failure writes an nslab_error to the CLOEXEC pipe and _exit(127)
 *
 * DOC: relayed spawn (spawn_relayed(), for clients of a lab such as `nslab exec`)
 * The caller never changes namespace (crun's pattern). A helper process, the
 * caller's child, dies with the calling thread (PR_SET_PDEATHSIG), enters the
 * user namespace and the PID namespace (for its children), and clones the
 * command, which dies with the helper. The helper forwards SIGTERM and SIGHUP
 * it receives to the command, reaps it at once (so a stopped caller never keeps
 * a zombie inside the lab's PID namespace, which would hold back its pid 1's
 * exit), writes the command's status to a pipe and exits.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "nslab/error.h"

struct spawn_opts {
	char *const *argv; /* argv[0] is looked up in PATH */
	char *const *envp; /* NULL: the caller's environ */
	int userns_fd;	   /* -1: stay */
	int pidns_fd;	   /* -1: stay; else the child is born in this PID namespace (see below) */
	int mntns_fd;	   /* -1: stay */
	int netns_fd;	   /* -1: stay */
	int stdin_fd, stdout_fd, stderr_fd; /* -1: inherit */
	const char *cwd;      /* NULL: "/" after a mount namespace change, else stay */
	const char *hostname; /* non-NULL: a new UTS namespace with this host name */
	bool die_with_parent;
	bool new_session; /* setsid(): not for commands that need the caller's terminal */
	bool detach;	  /* spawn_relayed(): the command outlives the caller (see there) */
};

/*
 * A PID namespace cannot be entered by the child itself (setns() only moves its
 * future children), so with pidns_fd the clone happens on a short-lived thread
 * that entered it first; die_with_parent is then ignored (the child dies with
 * the namespace's pid 1 instead). With pidns_fd, a userns_fd other than the
 * caller's own is refused: the caller never changes user namespace (see
 * spawn_relayed()).
 * Without pidns_fd, die_with_parent ties the child to the *calling thread*
 * (PR_SET_PDEATHSIG fires when that thread exits, not the process).
 */

/**
 * spawn_in_ns() - Fork, enter the namespaces and exec
 * @o:          options; read during the call only, every fd in it stays the caller's
 * @ret_pid:    on success, the child's pid in the caller's PID namespace
 * @ret_pidfd:  on success, its pidfd (CLOEXEC, caller owns: reap with spawn_wait()
 *              and close it, or hand it to loop_add_child())
 * @err:        on failure, the cause
 * Return: 0 once exec succeeded, or -errno: -EINVAL for an empty argv, the
 * parent's own setns()/pipe2()/clone3() failure, or the child's code with its
 * own message in @err (e.g. "exec 'x': No such file or directory"), the child
 * then being reaped. If cwd cannot be entered the child falls back to "/"
 * silently.
 */
int spawn_in_ns(const struct spawn_opts *o, pid_t *ret_pid, int *ret_pidfd, nslab_error *err);
/* A command started by spawn_relayed(): its helper, and the command itself. */
struct spawn_relay {
	pid_t helper_pid; /* the caller's child */
	int helper_pidfd; /* CLOEXEC; signals for the command go here (the helper forwards) */
	pid_t cmd_pid;	  /* the command, in the caller's PID namespace */
	int status_fd;	  /* read end: the command's waitpid()-style status, once */
};

/**
 * spawn_relayed() - Start a command through a helper process (see DOC: relayed spawn)
 * @o:    options; pidns_fd is required; die_with_parent is implied (the command
 *        dies with the helper, the helper with the calling thread), unless detach:
 *        then the command runs in a session of its own, its parent the PID
 *        namespace's pid 1, until it ends or the namespace goes; cmd_pid is its
 *        pid *in that namespace*, and spawn_relay_wait() says 0 at once
 * @ret:  on success, the helper and the command (fds the caller owns: release with
 *        spawn_relay_wait()); untouched on failure
 * @err:  on failure, the cause
 *
 * Safe in a multi-threaded caller: between fork and exec only async-signal-safe calls.
 * Return: 0 once the command was exec'd, or -errno as spawn_in_ns() (the helper
 * is then reaped)
 */
int spawn_relayed(const struct spawn_opts *o, struct spawn_relay *ret, nslab_error *err);
/**
 * spawn_relay_wait() - Reap the helper and tell how the command ended; close the fds
 * @rel:         from spawn_relayed(); its fds are -1 afterwards
 * @ret_status:  the command's waitpid()-style status; if the helper died before
 *               reporting one (it was killed), the helper's own
 * @err:         on failure, the cause
 * Return: 0, or waitid()'s -errno
 */
int spawn_relay_wait(struct spawn_relay *rel, int *ret_status, nslab_error *err);
/**
 * spawn_raise_nofile() - Raise this process's RLIMIT_NOFILE soft limit to the hard limit
 *
 * A lab holds a few fds per node, so the default soft limit of 1024 ends near
 * 165 nodes. The limit before the call is remembered (rlimits belong to the
 * process, hence one process-wide value) and every later spawn restores it in
 * the child: select() users must not see fds past 1024.
 * Return: the new soft limit
 */
unsigned long spawn_raise_nofile(void);
/**
 * spawn_wait() - Block until a child exits, and reap it
 * @pidfd:       pidfd of a child of this process (borrowed: not closed)
 * @ret_status:  on success, waitpid()-style status (W_EXITCODE, or the signal number)
 * @err:         on failure, the cause
 * Return: 0, or waitid()'s -errno (EINTR is retried; -ECHILD if already reaped)
 */
int spawn_wait(int pidfd, int *ret_status, nslab_error *err);

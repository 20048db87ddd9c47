/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ns/spawn: start a process inside namespaces held by fd.
 *
 * DOC: child steps (between clone and exec only async-signal-safe calls)
 * 1. PR_SET_PDEATHSIG(SIGKILL) if die_with_parent, then check the parent is still there;
 *    setsid() if new_session
 * 2. setns: user namespace (if given), mount namespace, network namespace
 * 3. a UTS namespace named after the node, if asked
 *    chdir to cwd (setns(CLONE_NEWNS) moved us to the namespace's root)
 * 4. stdio: dup2 the given fds
 * 5. default signal dispositions, empty signal mask
 * 6. execvpe; any failure writes an nslab_error to the CLOEXEC pipe and _exit(127)
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
};

/*
 * A PID namespace cannot be entered by the child itself (setns() only moves its
 * future children), so with pidns_fd the clone happens on a short-lived thread
 * that entered it first; die_with_parent is then ignored (the child dies with
 * the namespace's pid 1 instead). With both pidns_fd and userns_fd, the
 * *calling process* enters the user namespace first, for good (it must be
 * single-threaded, as `nslab exec` is; a later call finds it already there).
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
/**
 * spawn_wait() - Block until a child exits, and reap it
 * @pidfd:       pidfd of a child of this process (borrowed: not closed)
 * @ret_status:  on success, waitpid()-style status (W_EXITCODE, or the signal number)
 * @err:         on failure, the cause
 * Return: 0, or waitid()'s -errno (EINTR is retried; -ECHILD if already reaped)
 */
int spawn_wait(int pidfd, int *ret_status, nslab_error *err);

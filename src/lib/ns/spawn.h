/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ns/spawn: start a process inside namespaces held by fd.
 *
 * DOC: child steps (between clone and exec only async-signal-safe calls)
 * 1. PR_SET_PDEATHSIG(SIGKILL) if die_with_parent, then check the parent is still there
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
 *
 * spawn_in_ns() - Fork, enter the namespaces and exec
 * Return: 0 with *ret_pid and *ret_pidfd (CLOEXEC, caller owns) once exec
 * succeeded, or -errno with the child's own error message (the child is reaped).
 */
int spawn_in_ns(const struct spawn_opts *o, pid_t *ret_pid, int *ret_pidfd, nslab_error *err);
/* Wait for a child by pidfd; *ret_status is waitpid()-style. */
int spawn_wait(int pidfd, int *ret_status, nslab_error *err);

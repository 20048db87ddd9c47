/* SPDX-License-Identifier: MIT */
/*
 * ns/pidns: the lab's PID namespace. Its pid 1 ("nslab-init") reaps orphans and
 * dies with the thread that started it (PR_SET_PDEATHSIG); the kernel then
 * kills every process in the namespace. So whatever runs in a lab, even a
 * daemon that forked into the background, ends with the lab's owner.
 */
#pragma once

#include <sys/types.h>

#include "nslab/error.h"

#define PIDNS_STOP_TIMEOUT_MS 3000 /* see pidns_init_stop() */

struct pidns_init {
	pid_t pid; /* of nslab-init, in our PID namespace */
	int pidfd; /* -1 when not running */
	int nsfd;  /* the PID namespace, for setns() */
};

/**
 * pidns_init_start() - Start pid 1 of a new PID namespace
 * @mntns_fd: mount namespace in which it mounts a /proc for the new namespace
 *            (best effort; -1 to skip); borrowed
 * @netns_fd: network namespace pid 1 lives in (the lab root's; -1: stay); borrowed
 * @ret:      on success, pid, pidfd and nsfd (CLOEXEC fds the caller owns; release
 *            everything with pidns_init_stop()); untouched on failure
 * @err:      on failure, the cause
 *
 * Needs CAP_SYS_ADMIN in the current user namespace. pid 1 dies with the *calling
 * thread*, so call it from the thread that owns the lab for its whole life.
 * Return: 0, or -errno from pidfd_open() ("pidfd_open(self)"), clone3() ("start the
 * lab's PID namespace") or opening /proc/<pid>/ns/pid (pid 1 is then stopped again)
 */
int pidns_init_start(int mntns_fd, int netns_fd, struct pidns_init *ret, nslab_error *err);
/**
 * pidns_init_stop() - SIGKILL pid 1 (and so every process of the namespace), reap it, close the fds
 * @init:  from pidns_init_start(), or with pidfd and nsfd at -1 (then a no-op); both are
 *         -1 afterwards, so a second call does nothing
 *
 * Waits until pid 1 is reaped, PIDNS_STOP_TIMEOUT_MS at most. Reap first every
 * process this process spawned into the namespace itself (spawn_in_ns() with
 * pidns_fd: they are our children, not pid 1's): the kernel holds back pid 1's
 * exit until such zombies are gone. One held by another process (a stopped
 * client's) cannot be reaped from here: pid 1 is then left to finish later.
 */
void pidns_init_stop(struct pidns_init *init);

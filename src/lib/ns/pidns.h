/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ns/pidns: the lab's PID namespace. Its pid 1 ("nslab-init") reaps orphans and
 * dies with the thread that started it (PR_SET_PDEATHSIG); the kernel then
 * kills every process in the namespace. So whatever runs in a lab, even a
 * daemon that forked into the background, ends with the lab's owner.
 */
#pragma once

#include <sys/types.h>

#include "nslab/error.h"

struct pidns_init {
	pid_t pid; /* of nslab-init, in our PID namespace */
	int pidfd; /* -1 when not running */
	int nsfd;  /* the PID namespace, for setns() */
};

/*
 * pidns_init_start() - Start pid 1 of a new PID namespace
 * @mntns_fd: mount namespace in which it mounts a /proc for the new namespace
 *            (best effort; -1 to skip)
 * Return: 0 and *ret filled, or -errno.
 */
int pidns_init_start(int mntns_fd, struct pidns_init *ret, nslab_error *err);
/* SIGKILL pid 1 (and so every process of the namespace), reap it, close the fds. */
void pidns_init_stop(struct pidns_init *init);

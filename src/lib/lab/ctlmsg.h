/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lab/ctlmsg: control-socket addressing and messages with fds (see control.c's DOC). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "nslab/error.h"

#define CTL_MAX_FDS 8
#define CTL_REQ_MAX 1024 /* a request, command line included */

/* The abstract address "@nslab/<uid>/<lab>" of the current user's lab. */
void ctl_addr(const char *lab, struct sockaddr_un *ret, socklen_t *ret_len);
/* Send text with up to CTL_MAX_FDS fds. Return: 0 or -errno. */
int ctl_send(int fd, const char *text, const int *fds, size_t n_fds);
/*
 * ctl_recv() - Receive one message with its fds
 * Return: 0 with text NUL-terminated and *ret_n_fds fds (caller closes), or -errno.
 */
int ctl_recv(int fd, char *text, size_t len, int *fds, size_t *ret_n_fds);
/* True if the peer of a connected UNIX socket runs as uid (SO_PEERCRED). */
bool ctl_peer_is(int fd, uid_t uid);
/* Connect to lab's supervisor (of our own uid only); -ESRCH is "no lab 'x' is up". */
int ctl_connect(const char *lab, int *ret_fd, nslab_error *err);
/* Send req, wait for the reply; an "error: ..." reply becomes -EINVAL with that text. */
int ctl_call(int conn, const char *req, int *fds, size_t *n_fds, nslab_error *err);

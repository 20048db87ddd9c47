/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lab/ctlmsg: control-socket addressing and messages with fds (see control.c's DOC). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "nslab/error.h"

#define CTL_MAX_FDS    8
#define CTL_REQ_MAX    1024 /* a request, command line included */
#define CTL_TIMEOUT_MS 5000 /* a client's wait for any one answer of the supervisor */

/**
 * ctl_addr() - The abstract address "@nslab/<uid>/<lab>" of the current user's lab
 * @lab:      lab name; validate it first (spec_lab_name_ok()): a long one is cut short
 * @ret:      the address
 * @ret_len:  its exact length, for bind()/connect()
 *
 * <uid> is lab_outer_uid(), so a rootless supervisor and its clients agree.
 */
void ctl_addr(const char *lab, struct sockaddr_un *ret, socklen_t *ret_len);
/**
 * ctl_send() - Send text with up to CTL_MAX_FDS fds as one message (no SIGPIPE)
 * @fd:     connected SOCK_SEQPACKET socket
 * @text:   NUL-terminated text, sent without its NUL
 * @fds:    fds to pass (SCM_RIGHTS), borrowed: the caller still closes its copies
 * @n_fds:  number of @fds
 * Return: 0, or -EINVAL if @n_fds > CTL_MAX_FDS, or sendmsg()'s -errno
 */
int ctl_send(int fd, const char *text, const int *fds, size_t n_fds);
/**
 * ctl_recv() - Receive one message with its fds
 * @fd:         connected SOCK_SEQPACKET socket
 * @text:       buffer for the text
 * @len:        size of @text (at least 1); a longer message fails
 * @fds:        room for CTL_MAX_FDS fds; any beyond that are closed
 * @ret_n_fds:  on success, number of fds in @fds
 * Return: 0 with text NUL-terminated and *ret_n_fds fds (CLOEXEC, caller closes), or
 * -errno: recvmsg()'s, -ECONNRESET at end of file (or an empty message), -EMSGSIZE
 * if text or fds were cut short; on failure every fd received is closed
 */
int ctl_recv(int fd, char *text, size_t len, int *fds, size_t *ret_n_fds);
/**
 * ctl_peer_is() - Whether the peer of a connected UNIX socket runs as uid (SO_PEERCRED)
 * @fd:   connected socket
 * @uid:  expected uid, as seen from our user namespace
 * Return: true if it does; false also if SO_PEERCRED fails
 */
bool ctl_peer_is(int fd, uid_t uid);
/**
 * ctl_connect() - Connect to lab's supervisor (of our own uid only)
 * @lab:     lab name
 * @ret_fd:  on success, a CLOEXEC SOCK_SEQPACKET socket the caller closes
 * @err:     on failure, the cause
 * Return: 0, or -EINVAL ("not a lab name"), -ESRCH ("no lab 'x' is up"), -EPERM
 * when the socket is served by another user, or socket()/connect()'s -errno
 */
int ctl_connect(const char *lab, int *ret_fd, nslab_error *err);
/**
 * ctl_call() - Send req, wait for the reply
 * @conn:     from ctl_connect()
 * @req:      request text; the supervisor reads at most CTL_REQ_MAX - 1 bytes
 * @fds:      room for CTL_MAX_FDS fds received with an "ok" reply; NULL if none are taken
 * @max_fds:  how many fds the request takes; a reply with more is refused (-EPROTO)
 * @n_fds:    on success, how many; NULL to have any received fds closed
 * @err:      on failure, the cause
 *
 * The reply must fit in NSLAB_ERROR_MSG_MAX bytes.
 * Return: 0 for a reply starting with "ok"; -EINVAL with the text of any other
 * reply (an "error: " prefix stripped), its fds closed; -ETIMEDOUT naming the
 * supervisor's pid and state if it did not answer within CTL_TIMEOUT_MS; or the
 * -errno of ctl_send()/ctl_recv()
 */
int ctl_call(int conn, const char *req, int *fds, size_t max_fds, size_t *n_fds, nslab_error *err);
/**
 * ctl_set_timeout() - Bound every send and receive (and connect) on a socket
 * @fd:  socket
 * @ms:  the bound, in milliseconds
 * Return: 0, or setsockopt()'s -errno
 */
int ctl_set_timeout(int fd, unsigned ms);
/**
 * ctl_peer_describe() - "the supervisor (pid N, stopped)", from SO_PEERCRED and /proc
 * @fd:   connected socket
 * @buf:  where to write
 * @len:  its size
 * Return: snprintf()'s count
 */
int ctl_peer_describe(int fd, char *buf, size_t len);
/**
 * ctl_timeout_error() - Set "WHAT: the supervisor (pid N, state) did not answer within T s"
 * @conn:  the connection that timed out
 * @what:  what was waited for
 * @err:   set to that message with ETIMEDOUT
 * Return: -ETIMEDOUT
 */
int ctl_timeout_error(int conn, const char *what, nslab_error *err);

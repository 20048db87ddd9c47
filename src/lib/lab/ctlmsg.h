/* SPDX-License-Identifier: MIT */
/* lab/ctlmsg: control-socket addressing, messages with fds, and the client's side of a call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lab/ctlproto.h"
#include "nslab/error.h"
#include "shared/macro.h"

#define CTL_MAX_FDS    8
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
 * ctl_send() - Send one message with up to CTL_MAX_FDS fds (no SIGPIPE)
 * @fd:     connected SOCK_SEQPACKET socket
 * @nlh:    the message (ctlproto.h), nlmsg_len bytes
 * @fds:    fds to pass (SCM_RIGHTS), borrowed: the caller still closes its copies
 * @n_fds:  number of @fds
 * Return: 0, or -EINVAL if @n_fds > CTL_MAX_FDS, or sendmsg()'s -errno
 */
int ctl_send(int fd, const struct nlmsghdr *nlh, const int *fds, size_t n_fds);
/**
 * ctl_recv() - Receive one message with its fds
 * @fd:         connected SOCK_SEQPACKET socket
 * @buf:        CTL_MSG_MAX bytes, 4-byte aligned
 * @fds:        room for CTL_MAX_FDS fds; any beyond that are closed
 * @ret_n_fds:  on success, number of fds in @fds
 * Return: the message's length with *ret_n_fds fds (CLOEXEC, caller closes), or
 * -errno: recvmsg()'s, -ECONNRESET at end of file, -EMSGSIZE if the message or
 * its fds were cut short; on failure every fd received is closed
 */
ssize_t ctl_recv(int fd, void *buf, int *fds, size_t *ret_n_fds);
/**
 * ctl_peer_is() - Whether the peer of a connected UNIX socket runs as uid (SO_PEERCRED)
 * @fd:   connected socket
 * @uid:  expected uid, as seen from our user namespace
 * Return: true if it does; false also if SO_PEERCRED fails
 */
bool ctl_peer_is(int fd, uid_t uid);
/* Whether lab's socket is served by our own user (a connect and SO_PEERCRED, no request). */
bool ctl_is_ours(const char *lab);

/* A client's connection: HELLO done, the last reply kept. */
struct ctl_conn {
	int fd;
	uint32_t seq;
	struct ctl_msg
		hello; /* the HELLO reply: lab, pid, mode, nodes... (points into hello_buf) */
	struct ctl_msg reply; /* the last reply of ctl_call() (points into buf) */
	char hello_buf[CTL_MSG_MAX] __attribute__((aligned(4)));
	char buf[CTL_MSG_MAX] __attribute__((aligned(4)));
};

/**
 * ctl_open() - Connect to a lab's supervisor (of our own uid only) and say HELLO
 * @lab:  lab name
 * @ret:  on success, the connection; free with ctl_close()
 * @err:  on failure, the cause
 * Return: 0, or -EINVAL ("not a lab name"), -ESRCH ("no lab 'x' is up"), -EPERM
 * when the socket is served by another user, -ETIMEDOUT, -EPROTONOSUPPORT when the
 * supervisor speaks another protocol version, or socket()/connect()'s -errno
 */
int ctl_open(const char *lab, struct ctl_conn **ret, nslab_error *err);
/* Close the connection and free it; NULL is fine. Return: NULL. */
struct ctl_conn *ctl_close(struct ctl_conn *c);
DEFINE_CLEANUP_FUNC(struct ctl_conn, ctl_close)
/**
 * ctl_call() - Send a request, wait for its reply
 * @c:        from ctl_open()
 * @req:      the request (ctl_msg_start() with reply = false); its seq is set here
 * @fds:      room for CTL_MAX_FDS fds that come with the reply; NULL if none are taken
 * @max_fds:  how many fds the reply may carry; more is refused (-EPROTO)
 * @n_fds:    on success, how many came; NULL to have them closed
 * @err:      on failure, the cause
 *
 * On success c->reply holds the reply.
 * Return: 0; the supervisor's error (its code, its message); -ETIMEDOUT naming its
 * pid and state if it did not answer within CTL_TIMEOUT_MS; -EPROTO for a reply
 * that is malformed or to another request; or ctl_send()/ctl_recv()'s -errno
 */
int ctl_call(struct ctl_conn *c, struct nlmsghdr *req, int *fds, size_t max_fds, size_t *n_fds,
	     nslab_error *err);
/**
 * ctl_notify() - Send a notification (no reply comes)
 * @c:      connection
 * @req:    the message; its seq is set here
 * @fds:    fds to pass, borrowed
 * @n_fds:  how many
 * Return: 0, or ctl_send()'s -errno
 */
int ctl_notify(struct ctl_conn *c, struct nlmsghdr *req, const int *fds, size_t n_fds);
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

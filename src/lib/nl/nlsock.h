/* SPDX-License-Identifier: MIT */
/*
 * nl/nlsock: one netlink socket type and one talk function. A socket belongs to
 * the network namespace it was opened in (the calling thread's at open time).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "nslab/error.h"
#include "shared/macro.h"

#define NL_REQ_BUFSIZ  8192
#define NL_DUMP_BUFSIZ 32768

struct nlsock;

/*
 * nlsock_open() - Open and bind a netlink socket in the calling thread's netns
 * @protocol: NETLINK_ROUTE, NETLINK_NETFILTER, ...
 * Extended ACK and strict checking are enabled when the kernel has them.
 * Return: 0 and *ret (free with nlsock_free()), or -errno.
 */
int nlsock_open(int protocol, struct nlsock **ret, nslab_error *err);
/* Close and free; NULL is fine. Return: NULL. */
struct nlsock *nlsock_free(struct nlsock *nl);
DEFINE_CLEANUP_FUNC(struct nlsock, nlsock_free)
int nlsock_fd(const struct nlsock *nl);

/**
 * nlsock_recv_kernel() - Receive the next netlink message that the kernel sent
 * @fd:     netlink socket
 * @buf:    where to receive
 * @len:    its size
 * @flags:  recvmsg() flags (MSG_DONTWAIT)
 *
 * Messages from any other sender (source nl_pid != 0: another process can
 * send to our port id) are dropped, as iproute2 and systemd do.
 * Return: the message's length, or -1 with errno (ENOSPC if it was truncated)
 */
ssize_t nlsock_recv_kernel(int fd, void *buf, size_t len, int flags);

typedef void (*nlsock_datagram_fn)(const void *buf, size_t len, void *data);
/**
 * nlsock_recv_queued() - Receive every datagram queued on the socket, without waiting
 * @nl:    socket; its receive buffer is shared with the talk functions (not during a talk)
 * @fn:    called per datagram the kernel sent (others are dropped, as by
 *         nlsock_recv_kernel()); @data is its argument
 * Several datagrams a system call (recvmmsg(), up to 2 KiB each: a trace
 * event, not a dump's chunk nor a link's notification): a socket subscribed
 * to events gets one datagram an event.
 * Return: 0 once the queue is empty, or -1 with errno (ENOSPC: a datagram did
 * not fit; ENOBUFS: the kernel dropped some, EINTR: the caller may go on)
 */
int nlsock_recv_queued(struct nlsock *nl, nlsock_datagram_fn fn, void *data);
/*
 * nlsock_talk() - Send one request, wait for its ACK or the end of its dump
 * @nl:   socket opened in the namespace the request is meant for
 * @nlh:  request; sequence number assigned here, NLM_F_ACK forced
 * @cb:   called per data message (dumps/replies), NULL if none expected; @data is its argument
 * @err:  on failure, -nlmsgerr.error as code plus the extended-ACK text: '...: cause (kernel: "text")'
 * A malformed reply is -EPROTO, never an exit. A callback returning MNL_CB_ERROR
 * stops the talk with -EPROTO unless it filled err itself via nlsock_cb_error().
 * Return: 0 on success, negative errno on failure
 */
int nlsock_talk(struct nlsock *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, nslab_error *err);

/*
 * A batch: several requests laid one after another in a caller's buffer, sent
 * with one sendmsg(); only the last asks for an ACK (a failing one is answered
 * anyway, naming its index). Used on hot paths (building a lab issues
 * several requests per namespace).
 *
 *	char buf[NL_REQ_BUFSIZ];
 *	struct nlbatch b;
 *	nlbatch_init(&b, buf, sizeof(buf));
 *	r = rtnl_build_addr(nlbatch_tail(&b), nlbatch_room(&b), ...);   (builder at the tail)
 *	nlbatch_push(&b);                                                 (accept what it wrote)
 *	...
 *	r = nlsock_talk_batch(nl, &b, err);
 */
struct nlbatch {
	char *buf;
	size_t len; /* bytes used by pushed requests */
	size_t cap;
	unsigned count;	   /* requests pushed */
	bool enoent_is_ok; /* deletes of what may be gone already: ENOENT is no failure */
};
void nlbatch_init(struct nlbatch *b, void *buf, size_t cap);
void *nlbatch_tail(struct nlbatch *b);
size_t nlbatch_room(const struct nlbatch *b);
/* Accept the request a builder just wrote at the tail (its nlmsg_len, aligned). */
void nlbatch_push(struct nlbatch *b);
/*
 * nlsock_talk_batch() - Send every pushed request at once, collect every ACK
 * On failure err names the first failing request ("request 3 (RTM_NEWADDR): ..."),
 * an ENOENT excepted when the caller set b->enoent_is_ok.
 * The batch is empty afterwards, whatever the result.
 * Return: 0, or the first failure's -errno.
 */
int nlsock_talk_batch(struct nlsock *nl, struct nlbatch *b, nslab_error *err);
/* nlsock_talk_batch(), with cb called per data message of any request (as nlsock_talk()'s). */
int nlsock_talk_batch_cb(struct nlsock *nl, struct nlbatch *b, mnl_cb_t cb, void *data,
			 nslab_error *err);

/*
 * Name of a netlink message type for messages ("RTM_NEWLINK"), or "message N".
 * Return: a static string, or for "message N" a per-thread buffer valid until
 * the thread's next call.
 */
const char *nlsock_msg_name(unsigned type);

/*
 * nlsock_msg_ok() - Whether a whole message starts at nlh within len bytes
 * Use instead of mnl_nlmsg_ok(): its (int) cast lets an nlmsg_len >= 2^31 pass
 * as negative, and mnl_nlmsg_next() then jumps gigabytes ahead (found by fuzzing).
 */
static inline bool nlsock_msg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned)len;
}

/*
 * nlsock_cb_error() - Fail the running talk from its callback with r, err already filled
 * @nl: the socket whose nlsock_talk() called the callback (keep it in the callback's data)
 * @r:  negative errno the talk returns; the callback has filled the talk's err itself
 * The talk stops calling the callback and reads on to the end of the reply.
 * Return: MNL_CB_ERROR, so a callback can "return nlsock_cb_error(nl, r);"
 */
int nlsock_cb_error(struct nlsock *nl, int r);

/*
 * nlsock_parse_ack() - Status of an NLMSG_ERROR (error 0 is the ACK) or NLMSG_DONE
 * @nlh:       the message; nlmsg_len bytes readable
 * @ret_error: 0, or the kernel's negative errno
 * @ret_text:  the extended-ACK text (NLMSGERR_ATTR_MSG), borrowed from nlh, or NULL
 * Pure (used by nlsock_talk(), tested on recorded replies).
 * Return: 0, or -EPROTO for a malformed message (ret_* untouched)
 */
int nlsock_parse_ack(const struct nlmsghdr *nlh, int *ret_error, const char **ret_text,
		     nslab_error *err);

/* SPDX-License-Identifier: MIT */
/*
 * lab/ctlserve: the supervisor's side of the control socket, shared by the
 * loop (control.c: listening, accepting, stopping) and the operations
 * (ctlops.c: what each request does, and who may ask it).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "lab/lab.h"

/*
 * A connection's state: NEW until HELLO settles the version; READY for
 * requests; EXEC once it started a command, which it then reports on.
 */
enum conn_state { CONN_NEW = 1u << 0, CONN_READY = 1u << 1, CONN_EXEC = 1u << 2 };

struct conn {
	struct serve_ctx *ctx;
	struct loop_source *src; /* owns the fd */
	enum conn_state state;
	uid_t peer_uid; /* SO_PEERCRED at accept, in our user namespace */
	char node
		[64]; /* EXEC: the node's name, "ix" for the root (a copy: nodes move when one is added or removed) */
	uint64_t id;   /* EXEC */
	bool exited;   /* EXEC: its status was reported */
	int cmd_pidfd; /* EXEC: the command, once announced; or -1 */
	struct conn *next;
};

struct serve_ctx {
	nslab_lab *lab;
	struct loop *loop;
	struct conn *conns;
	uint64_t exec_seq;
	int reserve_fd; /* given up for a moment to accept (and refuse) a client on EMFILE */
	bool stopping;	/* down or a signal: connections closing now are the lab's end */
	nslab_error *err;
	struct labdns *dns;	      /* the lab's DNS (lab/labdns.h), or NULL */
	struct loop_source **ra_srcs; /* the routers' RA sockets watched (ctl_ra_watch()) */
	size_t n_ra_srcs;
};

/**
 * ctl_ra_watch() - Answer Router Solicitations on every router's RA socket
 * Nodes added or removed at run time come and go with their sockets: a node
 * operation calls ctl_ra_unwatch() before and this after (sockets still
 * open when they leave the epoll set, never a closed fd's number).
 * Return: 0, or -errno
 */
int ctl_ra_watch(struct serve_ctx *ctx, nslab_error *err);
/* ctl_ra_unwatch() - Stop watching them (the sockets stay the lab's) */
void ctl_ra_unwatch(struct serve_ctx *ctx);

/**
 * ctl_serve_message() - Read one message of a connection and carry it out
 * @ctx:  the serving loop
 * @c:    the connection
 * @fd:   its socket (non-blocking)
 * Return: 1 to keep the connection, 0 to close it
 */
int ctl_serve_message(struct serve_ctx *ctx, struct conn *c, int fd);
/**
 * ctl_conn_gone() - A connection is closing: end what it left running
 * @ctx:  the serving loop
 * @c:    the connection; an EXEC one whose command did not report its end has
 *        it killed, and cmd_exited logged with the reason
 */
void ctl_conn_gone(struct serve_ctx *ctx, struct conn *c);

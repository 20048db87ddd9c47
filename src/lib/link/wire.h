/* SPDX-License-Identifier: MIT */
/*
 * link/wire: the wire backend's datapath. One thread per lab (epoll +
 * timerfd) serves every conditioned direction ("port"): the egress of an
 * interface is diverted by a tc filter (clsact egress, u32 matching all,
 * mirred redirect) to a TAP the thread reads; each frame gets its fate from
 * link/engine, waits in its port's departure queue, and is sent on the same
 * interface through an AF_PACKET socket with PACKET_QDISC_BYPASS, which
 * skips the egress hook, so it is not diverted again.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "link/engine.h"
#include "nl/nlsock.h"
#include "nslab/link.h"

struct wire;
struct wire_port;

/* Start the thread. Return: 0, or -errno (resources, thread). */
int wire_new(struct wire **ret, nslab_error *err);
/*
 * Stop the thread and free. With undo, every port is removed properly first
 * (filters, sinks); without, sockets are only closed (the namespaces holding
 * filters and sinks are about to go). NULL is fine. Return: NULL.
 */
struct wire *wire_free(struct wire *w, bool undo);

struct wire_port_spec {
	int netns_fd;	   /* namespace of the interface (borrowed) */
	struct nlsock *nl; /* its rtnetlink socket (borrowed, kept for the port's life) */
	int ifindex;	   /* the interface whose egress is conditioned */
	const char *what;  /* for messages: "laptop eth0 up" */
};

/**
 * wire_port_add() - Condition the egress of one interface
 * @cfg:   the direction's condition (a trace file is loaded here)
 * @seed:  the direction's seed (see wire_dir_seed())
 * @ret:   on success, the port (owned by w; valid until wire_port_del() or wire_free())
 * The filter goes on last, so frames flow unconditioned until the port is ready.
 * Return: 0, or -errno naming the step (nothing is left behind).
 */
int wire_port_add(struct wire *w, const struct wire_port_spec *s, const nslab_link_dir *cfg,
		  uint64_t seed, struct wire_port **ret, nslab_error *err);
/* Change the condition in place: frames already queued keep their times. */
int wire_port_set(struct wire *w, struct wire_port *p, const nslab_link_dir *cfg, uint64_t seed,
		  nslab_error *err);
/* Remove the filter, send what is queued, close. Return: 0 or the filter removal's -errno. */
int wire_port_del(struct wire *w, struct wire_port *p, nslab_error *err);
/*
 * wire_port_drop() - Let go of a port whose interface is being deleted
 * Its filter is left to go with the interface (one RTM_DELLINK: the link is
 * never unconditioned), what is queued is dropped with the link rather than
 * sent ahead of its time, the sockets closed; with del_sink the idle sink is
 * deleted too (its namespace stays). Returns once the thread no longer uses p.
 */
void wire_port_drop(struct wire *w, struct wire_port *p, bool del_sink);
/* Counters and condition of a port, consistent with each other. */
void wire_port_stats(struct wire *w, struct wire_port *p, struct wire_stats *ret_stats,
		     nslab_link_dir *ret_cfg);

/*
 * Other fds the link thread serves: fn(ctx, fd) runs on the thread, under the
 * same lock as the ports, whenever fd is readable (it must read without
 * blocking). Used by a router's NAT64 TUN (lab/nat64). The fd stays the
 * caller's; wire_fd_del() returns once the thread can no longer call fn.
 */
struct wire_fd;
typedef void (*wire_fd_fn)(void *ctx, int fd);
int wire_fd_add(struct wire *w, int fd, wire_fd_fn fn, void *ctx, struct wire_fd **ret,
		nslab_error *err);
struct wire_fd *wire_fd_del(struct wire *w, struct wire_fd *f);
/* fn(ctx) under the thread's lock: to read what a wire_fd_fn writes. */
void wire_locked(struct wire *w, void (*fn)(void *ctx), void *ctx);

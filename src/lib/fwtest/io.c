/* SPDX-License-Identifier: MIT */
/* fwtest/io: sockets inside the nodes (see io.h). */
#include "fwtest/io.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <poll.h>
#include <sys/ioctl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "nl/nftables.h"
#include "nl/nftrace.h"
#include "nl/rtnl.h"

/*
 * A thread that entered the node's namespace once and runs requests handed
 * over under the mutex until told to stop. netns_call() creates and joins a
 * thread per call (~0.1 ms); a hand-over costs two wake-ups.
 */
#define POOL_SIZE 4 /* sockets of each kind made ahead per node */
/*
 * A test that takes a socket wakes the worker only when the pool is down to
 * this many: a wake-up (futex, another CPU) costs about what the socket does,
 * so the worker makes them a few at a time.
 */
#define POOL_LOW  1

struct fw_worker {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int netns_fd;
	netns_call_fn fn; /* the pending request; NULL when idle */
	void *data;
	nslab_error err;
	int r;
	bool ready, done, stop;
	int close_at_stop; /* an fd the worker closes before it ends, or -1 */
	/*
	 * Sockets made ahead while the worker is idle, per kind (pool_kind()):
	 * a socket belongs to the namespace it was made in, and what follows
	 * (options, bind, listen, connect) works from any thread, so a test
	 * takes one without a hand-over. pool_off after a failure.
	 */
	int pool[4][POOL_SIZE];
	size_t n_pool[4];
	bool pool_used[4]; /* a kind is made ahead once a test asked for one */
	bool pool_off;
};

static const struct {
	int family, type;
} pool_kinds[4] = { { AF_INET6, SOCK_STREAM },
		    { AF_INET6, SOCK_DGRAM },
		    { AF_INET, SOCK_STREAM },
		    { AF_INET, SOCK_DGRAM } };

/* The pool a socket of family and type comes from; -1 if none. */
static int pool_kind(int family, int type)
{
	for (int i = 0; i < 4; i++)
		if (pool_kinds[i].family == family && pool_kinds[i].type == type)
			return i;
	return -1;
}

/* A kind whose pool is not full, or -1 (w->mu held). */
static int pool_wants(const struct fw_worker *w)
{
	for (int i = 0; !w->pool_off && i < 4; i++)
		if (w->pool_used[i] && w->n_pool[i] < POOL_SIZE)
			return i;
	return -1;
}

/* The options every listener and flow socket takes (sock_setup()), set ahead. */
static void sock_preset(int fd, int family)
{
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int));
}

/* Fill one slot (w->mu held, released meanwhile). */
static void pool_fill(struct fw_worker *w, int kind)
{
	int fd;

	pthread_mutex_unlock(&w->mu);
	fd = socket(pool_kinds[kind].family, pool_kinds[kind].type | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd >= 0)
		sock_preset(fd, pool_kinds[kind].family);
	pthread_mutex_lock(&w->mu);
	if (fd < 0)
		w->pool_off = true; /* EMFILE and the like: sockets are made on demand */
	else /* above FD_SETSIZE when it can: libnftables select()s on its own socket */
		w->pool[kind][w->n_pool[kind]++] = fd_move_high(fd);
}

static void *worker_main(void *arg)
{
	struct fw_worker *w = arg;
	int r = 0;

	if (setns(w->netns_fd, CLONE_NEWNET) < 0)
		r = nslab_err_set(&w->err, errno, "setns(CLONE_NEWNET)");
	pthread_mutex_lock(&w->mu);
	w->r = r;
	w->ready = true;
	pthread_cond_broadcast(&w->cv);
	while (r >= 0) {
		int kind;

		while (!w->fn && !w->stop && (kind = pool_wants(w)) < 0)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		if (!w->fn) {
			pool_fill(w, kind);
			continue;
		}
		pthread_mutex_unlock(&w->mu);
		r = w->fn(w->data, &w->err);
		pthread_mutex_lock(&w->mu);
		w->r = r;
		r = 0;
		w->fn = NULL;
		w->done = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->close_at_stop >= 0)
		(void)close(w->close_at_stop);
	return NULL;
}

/* Tell the worker to end, closing fd (-1: none) first; worker_stop() waits for it. */
static void worker_ask_stop(struct fw_worker *w, int fd)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	if (fd >= 0)
		w->close_at_stop = fd;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void worker_stop(struct fw_worker *w)
{
	if (!w)
		return;
	worker_ask_stop(w, -1);
	(void)pthread_join(w->tid, NULL);
	for (int i = 0; i < 4; i++)
		for (size_t k = 0; k < w->n_pool[i]; k++)
			(void)close(w->pool[i][k]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static int worker_start(int netns_fd, bool spare_sockets, struct fw_worker **ret, nslab_error *err)
{
	struct fw_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return nslab_err_set(err, ENOMEM, "allocate a namespace worker");
	w->netns_fd = netns_fd;
	w->close_at_stop = -1;
	w->pool_off = !spare_sockets;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	r = pthread_create(&w->tid, NULL, worker_main, w);
	if (r != 0) {
		free(w);
		return nslab_err_set(err, r, "create a thread to enter a network namespace");
	}
	pthread_mutex_lock(&w->mu);
	while (!w->ready)
		pthread_cond_wait(&w->cv, &w->mu);
	r = w->r;
	pthread_mutex_unlock(&w->mu);
	if (r < 0) {
		if (err)
			*err = w->err;
		worker_stop(w); /* it has returned already */
		return r;
	}
	*ret = w;
	return 0;
}

/* A socket from the pool (sock_preset() done), or -1 when it is empty; the worker makes more. */
static int worker_take_socket(struct fw_worker *w, int family, int type)
{
	int kind = pool_kind(family, type), fd = -1;
	bool first;

	if (kind < 0)
		return -1;
	pthread_mutex_lock(&w->mu);
	if (w->n_pool[kind])
		fd = w->pool[kind][--w->n_pool[kind]];
	first = !w->pool_used[kind];
	w->pool_used[kind] = true;
	if (!w->pool_off && (first || w->n_pool[kind] <= POOL_LOW))
		pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return fd;
}

/* One request at a time: the runner is single-threaded. */
static int worker_call(struct fw_worker *w, netns_call_fn fn, void *data, nslab_error *err)
{
	int r;

	pthread_mutex_lock(&w->mu);
	w->fn = fn;
	w->data = data;
	w->done = false;
	w->err = (nslab_error){ 0 };
	pthread_cond_broadcast(&w->cv);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	r = w->r;
	if (r < 0 && err)
		*err = w->err;
	pthread_mutex_unlock(&w->mu);
	return r;
}

int fw_io_call(struct fw_node *n, const struct fw_node_io *io, netns_call_fn fn, void *data,
	       nslab_error *err)
{
	if (io && io->worker)
		return worker_call(io->worker, fn, data, err);
	return netns_call(n->ns->fd, fn, data, err);
}

static void io_close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

void fw_io_close(struct fw_node_io *io)
{
	io_close_fd(&io->raw4);
	io_close_fd(&io->raw6);
	io_close_fd(&io->cap);
	io->rtnl = nlsock_free(io->rtnl);
	worker_stop(io->worker);
	io->worker = NULL;
}

void fw_io_close_all(struct fw_node_io *io, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (io[i].worker && io[i].cap >= 0) {
			worker_ask_stop(io[i].worker, io[i].cap);
			io[i].cap = -1;
		}
	for (size_t i = 0; i < n; i++)
		fw_io_close(&io[i]);
}

static int io_open_fn(void *data, nslab_error *err)
{
	struct fw_node_io *io = data;
	int r;

	io->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (io->raw4 < 0)
		return nslab_err_set(err, errno, "raw IPv4 socket");
	io->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (io->raw6 < 0)
		return nslab_err_set(err, errno, "raw IPv6 socket");
	io->cap = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (io->cap < 0)
		return nslab_err_set(err, errno, "packet socket");
	r = nlsock_open(NETLINK_ROUTE, &io->rtnl, err);
	if (r < 0)
		return r;
	/* big enough for a test's worth of frames between two reads */
	(void)setsockopt(io->cap, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 }, sizeof(int));
	/* three per node for the whole run: out of select()'s way (fd_move_high()) */
	io->raw4 = fd_move_high(io->raw4);
	io->raw6 = fd_move_high(io->raw6);
	io->cap = fd_move_high(io->cap);
	return 0;
}

int fw_io_open(struct fw_node *n, struct fw_node_io *io, bool spare_sockets, nslab_error *err)
{
	struct fw_worker *w = NULL;
	int r;

	*io = FW_NODE_IO_INIT;
	r = worker_start(n->ns->fd, spare_sockets, &w, err);
	if (r >= 0) {
		io->worker = w;
		r = worker_call(w, io_open_fn, io, err);
	}
	if (r < 0) {
		fw_io_close(io);
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	}
	return 0;
}

struct nf_open {
	struct nlsock *trace, *req;
};

static int nf_open_fn(void *data, nslab_error *err)
{
	struct nf_open *o = data;
	int r = nftrace_open(&o->trace, err);

	if (r >= 0)
		r = nlsock_open(NETLINK_NETFILTER, &o->req, err);
	return r;
}

int fw_io_open_nf(struct fw_node *n, struct nlsock **ret_trace, struct nlsock **ret_req,
		  nslab_error *err)
{
	struct nf_open o = { 0 };
	int r = netns_call(n->ns->fd, nf_open_fn, &o, err);

	if (r < 0) {
		nlsock_free(o.trace);
		nlsock_free(o.req);
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	}
	*ret_trace = o.trace;
	*ret_req = o.req;
	return 0;
}

struct sock_req {
	int family, proto, port;
	bool listen;
	int fd;
	bool preset; /* fd came from the pool: sock_preset() done */
};

/* Options, bind and listen of q->fd: any thread (the socket's namespace is its own). */
static int sock_setup(struct sock_req *q, nslab_error *err)
{
	int type = q->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;

	if (!q->preset)
		sock_preset(q->fd, q->family);
	/* a UDP listener answers from the address it was asked at (fw_collect's echo) */
	if (q->listen && type == SOCK_DGRAM) {
		(void)setsockopt(q->fd, IPPROTO_IP, IP_PKTINFO, &(int){ 1 }, sizeof(int));
		(void)setsockopt(q->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &(int){ 1 }, sizeof(int));
	}
	if (!q->port)
		return 0;
	if (q->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)q->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)q->port);
		sl = sizeof(*s4);
	}
	if (bind(q->fd, (struct sockaddr *)&ss, sl) < 0)
		return nslab_err_set(err, errno, "bind port %d", q->port);
	if (q->listen && type == SOCK_STREAM && listen(q->fd, 128) < 0)
		return nslab_err_set(err, errno, "listen on port %d", q->port);
	return 0;
}

static int sock_fn(void *data, nslab_error *err)
{
	struct sock_req *q = data;
	int type = q->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;

	q->fd = socket(q->family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0)
		return nslab_err_set(err, errno, "socket");
	return sock_setup(q, err);
}

static int open_sock(struct fw_node *n, const struct fw_node_io *io, struct sock_req *q,
		     int *ret_fd, nslab_error *err)
{
	int type = q->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int r;

	q->fd = io && io->worker ? worker_take_socket(io->worker, q->family, type) : -1;
	q->preset = q->fd >= 0;
	if (q->fd >= 0)
		r = sock_setup(q, err);
	else
		r = fw_io_call(n, io, sock_fn, q, err);
	if (r < 0) {
		io_close_fd(&q->fd);
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	}
	*ret_fd = q->fd;
	return 0;
}

int fw_io_listen(struct fw_node *n, const struct fw_node_io *io, int proto, int port, int *ret_fd,
		 nslab_error *err)
{
	struct sock_req q = { .family = AF_INET6, .proto = proto, .port = port, .listen = true };

	return open_sock(n, io, &q, ret_fd, err);
}

int fw_io_socket(struct fw_node *n, const struct fw_node_io *io, int family, int proto, int sport,
		 int *ret_fd, nslab_error *err)
{
	struct sock_req q = { .family = family, .proto = proto, .port = sport };

	return open_sock(n, io, &q, ret_fd, err);
}

struct nft_req {
	struct nftbl_ctx **ctx;
	const char *text;
	bool with_handles;
	char **out;
	bool untrusted; /* a user's ruleset: nftbl_ctx_load() */
	bool settle;	/* then nftbl_settle() */
};

static int nft_fn(void *data, nslab_error *err)
{
	struct nft_req *q = data;
	int r;

	if (!q->ctx && q->untrusted)
		return nftbl_load(q->text, err);
	if (!q->ctx)
		return nftbl_run(q->text, q->with_handles, q->out, err);
	if (!*q->ctx) {
		r = nftbl_ctx_new(q->ctx, err);
		if (r < 0)
			return r;
	}
	if (q->untrusted) {
		r = nftbl_ctx_load(*q->ctx, q->text, err);
		if (r >= 0 && q->settle)
			nftbl_settle();
		return r;
	}
	return nftbl_ctx_run(*q->ctx, q->text, q->with_handles, q->out, err);
}

int fw_io_nft(struct fw_node *n, struct nftbl_ctx **ctx, const char *text, bool with_handles,
	      char **ret_output, nslab_error *err)
{
	return fw_io_nft_on(n, NULL, ctx, text, with_handles, ret_output, err);
}

int fw_io_nft_on(struct fw_node *n, const struct fw_node_io *io, struct nftbl_ctx **ctx,
		 const char *text, bool with_handles, char **ret_output, nslab_error *err)
{
	struct nft_req q = { ctx, text, with_handles, ret_output };

	return fw_io_call(n, io, nft_fn, &q, err);
}

/* Neighbours */

#define NEIGH_FLUSH_MAX 256 /* entries deleted per dump; more means another round */

struct neigh_list {
	struct rtnl_neigh_info e[NEIGH_FLUSH_MAX];
	size_t n;
	bool more;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_list *l = data;
	struct rtnl_neigh_info info;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || rtnl_parse_neigh(nlh, &info, NULL) < 0)
		return MNL_CB_OK;
	if (info.state & (NUD_PERMANENT | NUD_NOARP))
		return MNL_CB_OK;
	if (l->n == NEIGH_FLUSH_MAX) {
		l->more = true;
		return MNL_CB_OK;
	}
	l->e[l->n++] = info;
	return MNL_CB_OK;
}

/* Delete the entries of l in one batch (an entry that expired since the dump is gone already). */
static int neigh_delete(struct fw_node_io *io, const struct neigh_list *l, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ] __attribute__((aligned(4)));
	struct nlbatch b;
	int r = 0;

	nlbatch_init(&b, buf, sizeof(buf));
	b.enoent_is_ok = true;
	for (size_t i = 0; r >= 0 && i < l->n; i++) {
		r = rtnl_build_neigh(nlbatch_tail(&b), nlbatch_room(&b), RTM_DELNEIGH,
				     l->e[i].ifindex, &l->e[i].ip, NULL, 0, err);
		if (r >= 0)
			nlbatch_push(&b);
		if (r >= 0 && nlbatch_room(&b) < NL_REQ_BUFSIZ / 4)
			r = nlsock_talk_batch(io->rtnl, &b, err);
	}
	return r < 0 ? r : nlsock_talk_batch(io->rtnl, &b, err);
}

int fw_io_flush_neigh(struct fw_node *n, struct fw_node_io *io, int family, nslab_error *err)
{
	char buf[NL_REQ_BUFSIZ];
	_cleanup_free_ struct neigh_list *l = malloc(sizeof(*l));
	int r;

	if (!l)
		return nslab_err_set(err, ENOMEM, "neighbour list");
	do {
		l->n = 0;
		l->more = false;
		r = rtnl_build_dump(buf, sizeof(buf), RTM_GETNEIGH, family, err);
		if (r >= 0)
			r = nlsock_talk(io->rtnl, (struct nlmsghdr *)buf, neigh_cb, l, err);
		if (r >= 0)
			r = neigh_delete(io, l, err);
	} while (r >= 0 && l->more);
	return r < 0 ? nslab_err_prefix(err, r, "node '%s': flush neighbours", n->name) : 0;
}

/* Links */

/*
 * A link the kernel has not finished bringing up: carrier on (IFF_LOWER_UP)
 * but its operstate not yet UP. Carrier-on is handled later by the linkwatch
 * work, which attaches the transmit qdisc (noop_qdisc until then: every
 * packet dropped) and only then sets the operstate and announces the link.
 * A veth's operstate starts UNKNOWN; other kinds without carrier handling
 * (dummy) stay UNKNOWN for good.
 */
static bool link_pending(const struct rtnl_link_info *l)
{
	if (!(l->flags & IFF_UP) || !(l->flags & IFF_LOWER_UP) || (l->flags & IFF_LOOPBACK))
		return false;
	if (l->operstate == IF_OPER_UP)
		return false;
	return l->operstate != IF_OPER_UNKNOWN || strcmp(l->kind, "veth") == 0;
}

/* What is not ready yet in a node: links (ifindexes) and IPv6 addresses without their local route. */
struct ready_wait {
	int pending[FW_IFACE_MAX * 4];
	size_t n;
	struct nslab_prefix v6[FW_IFACE_MAX * 4]; /* IPv6 addresses of the node */
	size_t n_v6;
	bool v6_local[FW_IFACE_MAX * 4]; /* ... with a local route */
	char what[96];			 /* one thing still pending, for the message */
};

static int links_dump_cb(const struct rtnl_link_info *l, void *data)
{
	struct ready_wait *w = data;

	if (link_pending(l) && w->n < ARRAY_SIZE(w->pending)) {
		w->pending[w->n++] = l->ifindex;
		snprintf(w->what, sizeof(w->what), "interface '%s' not up", l->name);
	}
	return 0;
}

static int addrs_dump_cb(const struct rtnl_addr_info *a, void *data)
{
	struct ready_wait *w = data;

	if (a->addr.family == AF_INET6 && w->n_v6 < ARRAY_SIZE(w->v6))
		w->v6[w->n_v6++] = a->addr;
	return 0;
}

static int routes_dump_cb(const struct rtnl_route_info *rt, void *data)
{
	struct ready_wait *w = data;

	for (size_t i = 0; rt->type == RTN_LOCAL && i < w->n_v6; i++)
		if (rt->dst.len == 128 && memcmp(rt->dst.addr, w->v6[i].addr, 16) == 0)
			w->v6_local[i] = true;
	return 0;
}

/*
 * ETHTOOL_GLINK on each pending link: the kernel runs the link's pending
 * linkwatch work there and then (linkwatch_sync_dev(), Linux 5.15), qdisc
 * and operstate included, instead of in up to a second.
 */
static int glink_fn(void *data, nslab_error *err)
{
	const struct ready_wait *w = data;
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	(void)err;
	for (size_t i = 0; fd >= 0 && i < w->n; i++) {
		struct ethtool_value ev = { .cmd = ETHTOOL_GLINK };
		struct ifreq ifr = { .ifr_data = (char *)&ev };

		if (if_indextoname((unsigned)w->pending[i], ifr.ifr_name))
			(void)ioctl(fd, SIOCETHTOOL, &ifr);
	}
	return 0;
}

/* A socket of the node's namespace subscribed to link, IPv6 address and route events. */
static int ready_monitor_fn(void *data, nslab_error *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups =
					  RTMGRP_LINK | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE };
	int *fd = data;

	*fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (*fd < 0)
		return nslab_err_set(err, errno, "link monitor socket");
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return nslab_err_set(err, errno, "subscribe to link events");
	return 0;
}

/*
 * Whether everything is ready, asked afresh (the tables are the node's own:
 * small). An IPv6 address gets its local route when the kernel's DAD work
 * completes it (even with IFA_F_NODAD: it runs on a workqueue, under RTNL),
 * which is also when the node joins its solicited-node group: before, the
 * node neither receives packets for the address nor answers ND for it.
 */
static int ready_check(struct fw_node *n, struct fw_node_io *io, struct ready_wait *w, bool glink,
		       nslab_error *err)
{
	int r;

	*w = (struct ready_wait){ .n = 0 };
	r = rtnl_link_dump(io->rtnl, links_dump_cb, w, err);
	if (r >= 0 && w->n && glink) {
		r = fw_io_call(n, io, glink_fn, w, err);
		w->n = 0;
		if (r >= 0)
			r = rtnl_link_dump(io->rtnl, links_dump_cb, w, err);
	}
	if (r >= 0)
		r = rtnl_addr_dump(io->rtnl, AF_INET6, addrs_dump_cb, w, err);
	if (r >= 0 && w->n_v6)
		r = rtnl_route_dump(io->rtnl, AF_INET6, routes_dump_cb, w, err);
	for (size_t i = 0; r >= 0 && i < w->n_v6; i++)
		if (!w->v6_local[i]) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, w->v6[i].addr, a, sizeof(a));
			snprintf(w->what, sizeof(w->what), "address %s not ready", a);
			return 0;
		}
	return r < 0 ? r : !w->n;
}

int fw_io_wait_links(struct fw_node *n, struct fw_node_io *io, int timeout_ms, nslab_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct ready_wait *w = calloc(1, sizeof(*w));
	char buf[16384] __attribute__((aligned(4)));
	int r, left = timeout_ms;
	struct timespec t0, t1;

	if (!w)
		return nslab_err_set(err, ENOMEM, "links");
	/* subscribed before the first look: an event between the two is not lost */
	r = fw_io_call(n, io, ready_monitor_fn, &fd, err);
	if (r >= 0)
		r = ready_check(n, io, w, true, err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r == 0 && left > 0) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return nslab_err_set(err, errno, "node '%s': wait for links", n->name);
		/* what the events say is asked again below; ENOBUFS (events lost) likewise */
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
			;
		r = ready_check(n, io, w, false, err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = timeout_ms -
		       (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
	if (r < 0)
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	if (r == 0)
		return nslab_err_setx(err, ETIMEDOUT, "node '%s': %s after %d ms", n->name, w->what,
				      timeout_ms);
	return 0;
}

int fw_io_nft_load(struct fw_node *n, const struct fw_node_io *io, struct nftbl_ctx **ctx,
		   const char *text, bool settle, nslab_error *err)
{
	struct nft_req q = { .ctx = ctx, .text = text, .untrusted = true, .settle = settle };

	return fw_io_call(n, io, nft_fn, &q, err);
}

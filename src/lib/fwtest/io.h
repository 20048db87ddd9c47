/* SPDX-License-Identifier: MIT */
/*
 * fwtest/io: the sockets a firewall test uses inside its nodes, each opened
 * on a thread inside the node's namespace and used from the runner's thread
 * afterwards: raw sockets to inject crafted packets, an AF_PACKET socket to
 * see what arrives, listeners, flow sockets, the node's rtnetlink socket
 * (neighbour flushes), and the netfilter sockets of the node whose rules are
 * tested. Each node keeps one worker thread inside its namespace for the
 * run: a test's nft commands and sockets cost a hand-over to it, not a new
 * thread each (netns_call(), the fallback without a worker).
 */
#pragma once

#include "fwtest/topo.h"
#include "nl/nftables.h"
#include "nl/nlsock.h"

struct fw_worker;

struct fw_node_io {
	int raw4, raw6;		  /* IPPROTO_RAW: we write the IP header */
	int cap;		  /* AF_PACKET, SOCK_DGRAM, every interface, non-blocking */
	struct nlsock *rtnl;	  /* NETLINK_ROUTE in the node (neighbour flushes) */
	struct fw_worker *worker; /* a thread inside the node's namespace, or NULL */
};

#define FW_NODE_IO_INIT ((struct fw_node_io){ .raw4 = -1, .raw6 = -1, .cap = -1 })

/*
 * Start the node's worker, then open its sockets on it; io is FW_NODE_IO_INIT
 * on failure. spare_sockets: the worker makes a few sockets of each kind a
 * test used ahead of the next test (up to 16 fds a node: small topologies).
 */
int fw_io_open(struct fw_node *n, struct fw_node_io *io, bool spare_sockets, nslab_error *err);
/* Close the sockets and stop the worker (an io already closed is fine). */
void fw_io_close(struct fw_node_io *io);
/*
 * fw_io_close_all() - fw_io_close() on n nodes at once
 * Closing a packet socket waits for an RCU grace period (packet_release():
 * 10-25 ms on a loaded host): each node's worker closes its own, so that the
 * waits overlap instead of adding up.
 */
void fw_io_close_all(struct fw_node_io *io, size_t n);
/*
 * fw_io_call() - Run fn inside the node's namespace: on its worker when it
 * has one (io not NULL), else on a thread of its own (netns_call())
 * Return: fn's result, or -errno from entering the namespace
 */
int fw_io_call(struct fw_node *n, const struct fw_node_io *io, netns_call_fn fn, void *data,
	       nslab_error *err);
/*
 * fw_io_flush_neigh() - Delete every neighbour entry of the node but the
 * permanent and NOARP ones (ARP and ND start afresh, as `ip neigh flush all`)
 * @family: AF_INET (ARP), AF_INET6 (ND), or AF_UNSPEC for both. A dump walks
 *          every bucket of the table, which the host's namespaces share and
 *          which never shrinks (3-6 us a table here, both tables in one dump)
 * Return: 0, or -errno (the dump's or a delete's; an entry gone meanwhile is fine)
 */
int fw_io_flush_neigh(struct fw_node *n, struct fw_node_io *io, int family, nslab_error *err);

/* The rules node's netfilter sockets: traces, and requests (conntrack flush). */
int fw_io_open_nf(struct fw_node *n, struct nlsock **ret_trace, struct nlsock **ret_req,
		  nslab_error *err);

/*
 * fw_io_wait_links() - Wait until the kernel has brought up every link of the
 * node that has carrier (operstate UP) and completed every IPv6 address (its
 * local route is in): until then a veth drops what it is given, and the node
 * ignores ND for an address, the first ARP or ND request among it (and the
 * packet waiting for it waits for the next, 1 s later). Woken by RTM_NEWLINK,
 * RTM_NEWADDR and RTM_NEWROUTE events.
 * Return: 0, -ETIMEDOUT naming what is still not ready after timeout_ms, or -errno
 */
int fw_io_wait_links(struct fw_node *n, struct fw_node_io *io, int timeout_ms, nslab_error *err);
/* A TCP or UDP listener on [::]:port (v4 and v6), non-blocking; returns its fd. */
int fw_io_listen(struct fw_node *n, const struct fw_node_io *io, int proto, int port, int *ret_fd,
		 nslab_error *err);
/* A non-blocking TCP or UDP socket of family in the node, optionally bound to sport (> 0). */
int fw_io_socket(struct fw_node *n, const struct fw_node_io *io, int family, int proto, int sport,
		 int *ret_fd, nslab_error *err);
/*
 * Run nft text in the node (libnftables); output as nftbl_run(). With ctx,
 * a context kept across calls (*ctx NULL: made on first use; free it with
 * nftbl_ctx_free()); NULL for a one-off context.
 */
int fw_io_nft(struct fw_node *n, struct nftbl_ctx **ctx, const char *text, bool with_handles,
	      char **ret_output, nslab_error *err);
/*
 * A user's ruleset in the node, as fw_io_nft() with nftbl_ctx_load(): checked
 * in a child first; settle: then wait until the ruleset it replaced is gone
 * (nftbl_settle()).
 */
int fw_io_nft_load(struct fw_node *n, const struct fw_node_io *io, struct nftbl_ctx **ctx,
		   const char *text, bool settle, nslab_error *err);
/* fw_io_nft() on the node's worker (io NULL: as fw_io_nft()). */
int fw_io_nft_on(struct fw_node *n, const struct fw_node_io *io, struct nftbl_ctx **ctx,
		 const char *text, bool with_handles, char **ret_output, nslab_error *err);

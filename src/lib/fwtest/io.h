/* SPDX-License-Identifier: MIT */
/*
 * fwtest/io: the sockets a firewall test uses inside its nodes, each opened
 * on a thread inside the node's namespace (netns_call()) and used from the
 * runner's thread afterwards: raw sockets to inject crafted packets, an
 * AF_PACKET socket to see what arrives, listeners, flow sockets, and the
 * netfilter sockets of the node whose rules are tested.
 */
#pragma once

#include "fwtest/topo.h"
#include "nl/nftables.h"
#include "nl/nlsock.h"

struct fw_node_io {
	int raw4, raw6; /* IPPROTO_RAW: we write the IP header */
	int cap;	/* AF_PACKET, SOCK_DGRAM, every interface, non-blocking */
};

int fw_io_open(struct fw_node *n, struct fw_node_io *io, nslab_error *err);
void fw_io_close(struct fw_node_io *io);

/* The rules node's netfilter sockets: traces, and requests (conntrack flush). */
int fw_io_open_nf(struct fw_node *n, struct nlsock **ret_trace, struct nlsock **ret_req,
		  nslab_error *err);

/* A TCP or UDP listener on [::]:port (v4 and v6), non-blocking; returns its fd. */
int fw_io_listen(struct fw_node *n, int proto, int port, int *ret_fd, nslab_error *err);
/* A non-blocking TCP or UDP socket of family in the node, optionally bound to sport (> 0). */
int fw_io_socket(struct fw_node *n, int family, int proto, int sport, int *ret_fd,
		 nslab_error *err);
/*
 * Run nft text in the node (libnftables); output as nftbl_run(). With ctx,
 * a context kept across calls (*ctx NULL: made on first use; free it with
 * nftbl_ctx_free()); NULL for a one-off context.
 */
int fw_io_nft(struct fw_node *n, struct nftbl_ctx **ctx, const char *text, bool with_handles,
	      char **ret_output, nslab_error *err);
/* A user's ruleset in the node, as fw_io_nft() with nftbl_ctx_load(): checked in a child first. */
int fw_io_nft_load(struct fw_node *n, struct nftbl_ctx **ctx, const char *text, nslab_error *err);

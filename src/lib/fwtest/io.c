/* SPDX-License-Identifier: MIT */
/* fwtest/io: sockets inside the nodes (see io.h). */
#include "fwtest/io.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "nl/nftables.h"
#include "nl/nftrace.h"

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
}

static int io_open_fn(void *data, nslab_error *err)
{
	struct fw_node_io *io = data;

	io->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (io->raw4 < 0)
		return nslab_err_set(err, errno, "raw IPv4 socket");
	io->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (io->raw6 < 0)
		return nslab_err_set(err, errno, "raw IPv6 socket");
	io->cap = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (io->cap < 0)
		return nslab_err_set(err, errno, "packet socket");
	/* big enough for a test's worth of frames between two reads */
	(void)setsockopt(io->cap, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 }, sizeof(int));
	/* three per node for the whole run: out of select()'s way (fd_move_high()) */
	io->raw4 = fd_move_high(io->raw4);
	io->raw6 = fd_move_high(io->raw6);
	io->cap = fd_move_high(io->cap);
	return 0;
}

int fw_io_open(struct fw_node *n, struct fw_node_io *io, nslab_error *err)
{
	int r;

	*io = (struct fw_node_io){ .raw4 = -1, .raw6 = -1, .cap = -1 };
	r = netns_call(n->ns->fd, io_open_fn, io, err);
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
};

static int sock_fn(void *data, nslab_error *err)
{
	struct sock_req *q = data;
	int type = q->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;

	q->fd = socket(q->family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0)
		return nslab_err_set(err, errno, "socket");
	(void)setsockopt(q->fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (q->family == AF_INET6)
		(void)setsockopt(q->fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int));
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

static int open_sock(struct fw_node *n, struct sock_req *q, int *ret_fd, nslab_error *err)
{
	int r;

	q->fd = -1;
	r = netns_call(n->ns->fd, sock_fn, q, err);
	if (r < 0) {
		io_close_fd(&q->fd);
		return nslab_err_prefix(err, r, "node '%s'", n->name);
	}
	*ret_fd = q->fd;
	return 0;
}

int fw_io_listen(struct fw_node *n, int proto, int port, int *ret_fd, nslab_error *err)
{
	struct sock_req q = { .family = AF_INET6, .proto = proto, .port = port, .listen = true };

	return open_sock(n, &q, ret_fd, err);
}

int fw_io_socket(struct fw_node *n, int family, int proto, int sport, int *ret_fd, nslab_error *err)
{
	struct sock_req q = { .family = family, .proto = proto, .port = sport };

	return open_sock(n, &q, ret_fd, err);
}

struct nft_req {
	struct nftbl_ctx **ctx;
	const char *text;
	bool with_handles;
	char **out;
	bool untrusted; /* a user's ruleset: nftbl_ctx_load() */
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
	if (q->untrusted)
		return nftbl_ctx_load(*q->ctx, q->text, err);
	return nftbl_ctx_run(*q->ctx, q->text, q->with_handles, q->out, err);
}

int fw_io_nft(struct fw_node *n, struct nftbl_ctx **ctx, const char *text, bool with_handles,
	      char **ret_output, nslab_error *err)
{
	struct nft_req q = { ctx, text, with_handles, ret_output };

	return netns_call(n->ns->fd, nft_fn, &q, err);
}

int fw_io_nft_load(struct fw_node *n, struct nftbl_ctx **ctx, const char *text, nslab_error *err)
{
	struct nft_req q = { .ctx = ctx, .text = text, .untrusted = true };

	return netns_call(n->ns->fd, nft_fn, &q, err);
}

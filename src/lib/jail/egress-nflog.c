// SPDX-License-Identifier: MIT
/*
 * jail/egress-nflog: an nflog group of the gateway read on a thread (see
 * egress-nflog.h). The socket is made inside the gateway (nflog instances
 * belong to a network namespace) and configured to copy whole packets and
 * to hand each over at once (a queue threshold of 1: a held flow is asked
 * about while its client waits, a capture keeps the order of the packets).
 */
#include "jail/egress-nflog.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>

#include "nl/ct.h"
#include "nl/nlsock.h"
#include "shared/macro.h"

#define NFLOG_COPY_MAX 0xffff

struct egress_nflog {
	struct nlsock *nl;
	uint16_t group; /* 0: conntrack events (egress_ctev_start()) */
	size_t rcvbuf;
	int stop_fd;
	pthread_t thread;
	bool started;
	egress_nflog_fn fn;
	egress_ctev_fn ct_fn;
	void *data;
	atomic_uint_fast64_t lost;
	uint8_t buf[NFLOG_COPY_MAX + 4096];
};

/* Bind the group, copy whole packets, deliver each at once. */
static int nflog_config(struct egress_nflog *n, nslab_error *err)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_BUFSIZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(NFLOG_COPY_MAX),
					       .copy_mode = NFULNL_COPY_PACKET };
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(n->group);
	if (!mnl_attr_put_check(nlh, sizeof(buf), NFULA_CFG_CMD, sizeof(cmd), &cmd) ||
	    !mnl_attr_put_check(nlh, sizeof(buf), NFULA_CFG_MODE, sizeof(mode), &mode) ||
	    !mnl_attr_put_u32_check(nlh, sizeof(buf), NFULA_CFG_QTHRESH, htonl(1)) ||
	    !mnl_attr_put_u32_check(nlh, sizeof(buf), NFULA_CFG_TIMEOUT, htonl(0)))
		return nslab_err_setx(err, EMSGSIZE, "nflog config does not fit");
	return nlsock_talk(n->nl, nlh, NULL, NULL, err);
}

/* Conntrack events: new entries and destroyed ones (with their final counters). */
static int ctev_subscribe(struct egress_nflog *n, nslab_error *err)
{
	int fd = nlsock_fd(n->nl);
	unsigned groups[] = { NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_DESTROY };

	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0)
			return nslab_err_set(err, errno, "conntrack events");
	return 0;
}

/* On a thread inside the gateway: the socket, bound there. */
static int open_in_gw(void *data, nslab_error *err)
{
	struct egress_nflog *n = data;
	int sz = (int)n->rcvbuf;
	int r = nlsock_open(NETLINK_NETFILTER, &n->nl, err);

	if (r < 0)
		return r;
	/* a capture's burst must not overflow the default buffer; root may force more */
	if (sz > 0 && setsockopt(nlsock_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(nlsock_fd(n->nl), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (n->group == 0)
		return ctev_subscribe(n, err);
	r = nflog_config(n, err);
	return r < 0 ? nslab_err_prefix(err, r, "nflog group %u (nfnetlink_log)", n->group) : 0;
}

struct pkt_attrs {
	const struct nlattr *payload, *prefix;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct pkt_attrs *p = data;

	if (mnl_attr_type_valid(a, NFULA_MAX) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(a) == NFULA_PAYLOAD)
		p->payload = a;
	else if (mnl_attr_get_type(a) == NFULA_PREFIX &&
		 mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		p->prefix = a;
	return MNL_CB_OK;
}

static void one_datagram(struct egress_nflog *n, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)n->buf;
	int left = (int)len;

	for (; nlsock_msg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		struct pkt_attrs p = { 0 };
		struct ct_entry e;
		bool destroyed;

		if (n->group == 0) {
			if (ct_parse_event(nlh, &e, &destroyed, NULL) == 0)
				n->ct_fn(&e, destroyed, n->data);
			continue;
		}
		if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
		    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
			continue;
		if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &p) < 0 || !p.payload)
			continue;
		n->fn(mnl_attr_get_payload(p.payload), mnl_attr_get_payload_len(p.payload),
		      p.prefix ? mnl_attr_get_str(p.prefix) : "", n->data);
	}
}

/* Everything queued now; false once the socket fails for good. */
static bool drain(struct egress_nflog *n)
{
	for (;;) {
		ssize_t len =
			nlsock_recv_kernel(nlsock_fd(n->nl), n->buf, sizeof(n->buf), MSG_DONTWAIT);

		if (len > 0) {
			one_datagram(n, (size_t)len);
			continue;
		}
		if (len < 0 && errno == ENOBUFS) {
			atomic_fetch_add(&n->lost, 1);
			continue;
		}
		return len < 0 && (errno == EAGAIN || errno == EINTR);
	}
}

static void *reader(void *arg)
{
	struct egress_nflog *n = arg;
	struct pollfd pfd[2] = { { .fd = n->stop_fd, .events = POLLIN },
				 { .fd = nlsock_fd(n->nl), .events = POLLIN } };

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if ((pfd[1].revents & (POLLIN | POLLERR)) && !drain(n))
			break;
		if (pfd[0].revents) {
			(void)drain(n); /* what the last packets of the command left */
			break;
		}
	}
	return NULL;
}

static int reader_start(struct egress_gw *gw, struct egress_nflog *proto, struct egress_nflog **ret,
			nslab_error *err)
{
	_cleanup_(egress_nflog_freep) struct egress_nflog *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return nslab_err_set(err, ENOMEM, "nflog reader");
	n->group = proto->group;
	n->rcvbuf = proto->rcvbuf;
	n->fn = proto->fn;
	n->ct_fn = proto->ct_fn;
	n->data = proto->data;
	n->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (n->stop_fd < 0)
		return nslab_err_set(err, errno, "nflog reader: eventfd");
	r = netns_call(gw->gw->fd, open_in_gw, n, err);
	if (r < 0)
		return r;
	r = pthread_create(&n->thread, NULL, reader, n);
	if (r != 0)
		return nslab_err_set(err, r, "nflog reader: thread");
	n->started = true;
	*ret = TAKE_PTR(n);
	return 0;
}

int egress_nflog_start(struct egress_gw *gw, uint16_t group, size_t rcvbuf, egress_nflog_fn fn,
		       void *data, struct egress_nflog **ret, nslab_error *err)
{
	struct egress_nflog proto = { .group = group, .rcvbuf = rcvbuf, .fn = fn, .data = data };

	return reader_start(gw, &proto, ret, err);
}

int egress_ctev_start(struct egress_gw *gw, egress_ctev_fn fn, void *data,
		      struct egress_nflog **ret, nslab_error *err)
{
	struct egress_nflog proto = { .group = 0, .rcvbuf = 1u << 20, .ct_fn = fn, .data = data };

	return reader_start(gw, &proto, ret, err);
}

uint64_t egress_nflog_lost(const struct egress_nflog *n)
{
	return n ? atomic_load(&n->lost) : 0;
}

struct egress_nflog *egress_nflog_free(struct egress_nflog *n)
{
	uint64_t one = 1;

	if (!n)
		return NULL;
	if (n->started) {
		(void)!write(n->stop_fd, &one, sizeof(one));
		(void)pthread_join(n->thread, NULL);
	}
	nlsock_free(n->nl);
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	free(n);
	return NULL;
}

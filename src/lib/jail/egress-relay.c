// SPDX-License-Identifier: MIT
/*
 * jail/egress-relay: an uplink for the gateway that needs no TUN device.
 *
 * DOC: the socket relay (`--egress proxy`)
 *   jail --veth-- gateway (the policy, unchanged) --veth-- relay netns
 * The gateway forwards what its ruleset allows to the relay namespace, whose
 * only route is "local default": every destination is local there, so
 * nothing is forwarded any further by the kernel. Its ruleset hands each TCP
 * connection to one listener (REDIRECT; the destination comes back from
 * SO_ORIGINAL_DST) and each UDP datagram to one socket (TPROXY; the
 * destination comes with IP_ORIGDSTADDR). Those sockets are made inside the
 * relay namespace; the relay's threads sit in the caller's namespace, and
 * each connection or UDP flow goes on through a socket made there, as any
 * unprivileged program's would be. UDP replies go back through a socket of
 * the relay namespace bound (IP_TRANSPARENT) to the original destination,
 * so the jail sees them come from where it sent to. ICMP echo requests go
 * out through an ICMP socket where the caller's namespace gives nslab one
 * (see "ICMP echo" below); everything else gets an ICMP admin-prohibited
 * from the relay namespace.
 * Fail closed: the relay is threads of nslab; when nslab dies, its sockets
 * and the namespaces die with it, and the jail has no way out.
 */
#include "jail/egress-relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/ip.h>

#include "jail/egress.h"
#include "ns/netns.h"

#define RELAY_BUF	   65536
#define RELAY_UDP_IDLE_MS  30000 /* a UDP flow without traffic for this long is forgotten */
#define RELAY_UDP_FLOWS	   256	 /* at most this many UDP flows at once; more are dropped */
#define RELAY_ICMP_IDLE_MS 10000 /* an echo flow (one ping) without a request for this long */
#define RELAY_ICMP_FLOWS   64	 /* at most this many echo flows at once; more are dropped */

/* A socket address of either family (the relay carries IPv4, and IPv6 with --ipv6). */
union sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static socklen_t sa_len(const union sa *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

static bool sa_equal(const union sa *a, const union sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0 &&
		       a->in6.sin6_port == b->in6.sin6_port;
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr && a->in.sin_port == b->in.sin_port;
}

/* One ping: the jail's (masqueraded) source, its destination (ports 0) and echo identifier. */
struct icmp_flow {
	union sa src, dst;
	uint16_t id; /* the jail's identifier, network order */
	int out_fd; /* an ICMP socket (ICMPv6 for IPv6) of the caller's namespace, connected to dst */
	bool used;
};

struct udp_flow {
	union sa src, dst;
	int out_fd;   /* connected to dst, in the caller's namespace */
	int reply_fd; /* bound to dst, connected to src, in the relay namespace */
	bool used;
};

struct egress_relay {
	int netns_fd;	      /* the relay namespace (a dup) */
	int tcp_fd, udp_fd;   /* the listeners, in the relay namespace */
	int tcp6_fd, udp6_fd; /* with --ipv6: IPv6's (else -1) */
	int stop_fd;	      /* eventfd: readable once the relay stops (never read) */
	pthread_t thread;     /* the listeners' thread */
	bool started;
	pthread_mutex_t lock; /* active, flows */
	pthread_cond_t idle;  /* active fell to 0 */
	unsigned active;      /* connection and flow threads running */
	struct udp_flow flows[RELAY_UDP_FLOWS];
	char host_ports[128];	 /* --host-port: to the relay's own address, carried to loopback */
	struct in6_addr listen6; /* the IPv6 listeners' address (any: the relay namespace's) */
	bool only6;		 /* no IPv4 listeners (the gateway through pasta) */
	enum egress_relay_icmp icmp;  /* how echo requests go out (NONE: refused in the relay ns) */
	int icmp_in_fd;		      /* raw, relay namespace: the jail's echo requests */
	int icmp_reply_fd;	      /* raw IPPROTO_RAW, relay namespace: replies, as their dst */
	enum egress_relay_icmp icmp6; /* the same for ICMPv6 echo (NONE without --ipv6) */
	int icmp6_in_fd;	      /* raw ICMPv6, relay namespace: the jail's echo requests */
	int icmp6_reply_fd;	      /* raw ICMPv6 (IPV6_FREEBIND), relay namespace: replies */
	struct icmp_flow pings[RELAY_ICMP_FLOWS];
};

/*
 * Where a flow to dst goes on from the caller's namespace. The gateway sends
 * the jail's --host-port packets to the relay's own address (egress-rules.c;
 * through pasta, IPv6: they keep the gateway's): those, and only on a listed
 * port, go to the caller's loopback.
 * Return: false to refuse (such an address on another port)
 */
static bool out_dst(const struct egress_relay *r, const union sa *dst, union sa *ret)
{
	struct in_addr relay;
	struct in6_addr relay6, gw6;
	bool to_host;

	*ret = *dst;
	if (dst->sa.sa_family == AF_INET6) {
		(void)inet_pton(AF_INET6, EGRESS_RELAY_ADDR6, &relay6);
		(void)inet_pton(AF_INET6, EGRESS_GW_ADDR6, &gw6);
		to_host = memcmp(&dst->in6.sin6_addr, &relay6, 16) == 0 ||
			  memcmp(&dst->in6.sin6_addr, &gw6, 16) == 0;
		if (to_host)
			ret->in6.sin6_addr = in6addr_loopback;
	} else {
		(void)inet_pton(AF_INET, EGRESS_RELAY_ADDR4, &relay);
		to_host = dst->in.sin_addr.s_addr == relay.s_addr;
		if (to_host)
			ret->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	/* the port sits at the same place in both families */
	return !to_host || egress_host_ports_has(r->host_ports, ntohs(dst->in.sin_port));
}

/* --- threads of connections and flows ----------------------------------------- */

static void thread_done(struct egress_relay *r)
{
	pthread_mutex_lock(&r->lock);
	if (--r->active == 0)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->lock);
}

/* What a UDP or ICMP flow's thread is started with (freed by the thread). */
struct flow_job {
	struct egress_relay *r;
	void *f; /* struct udp_flow or struct icmp_flow */
};

#define FLOW_FDS_MAX 2

/*
 * The life of a UDP or ICMP flow's thread: fds[0..n) polled with the relay's
 * stop fd, ready(f, i) for each readable fds[i], until idle_ms pass with none
 * or the relay stops; then, under the lock, the fds closed and the flow's
 * slot given back (*used).
 */
static void flow_run(struct egress_relay *r, const int *fds, size_t n, int idle_ms,
		     void (*ready)(struct egress_relay *r, void *f, size_t i), void *f, bool *used)
{
	struct pollfd p[FLOW_FDS_MAX + 1];

	for (;;) {
		int m;

		for (size_t i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		p[n] = (struct pollfd){ .fd = r->stop_fd, .events = POLLIN };
		m = poll(p, (nfds_t)n + 1, idle_ms);
		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0 || p[n].revents)
			break;
		for (size_t i = 0; i < n; i++)
			if (p[i].revents)
				ready(r, f, i);
	}
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < n; i++)
		(void)close(fds[i]);
	*used = false;
	pthread_mutex_unlock(&r->lock);
	thread_done(r);
}

static int start_detached(struct egress_relay *r, void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	pthread_t t;
	int e;

	pthread_mutex_lock(&r->lock);
	r->active++;
	pthread_mutex_unlock(&r->lock);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	e = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	if (e != 0)
		thread_done(r);
	return -e;
}

/*
 * Under the lock: fn started on flow f, already marked used (*used; the lock
 * is let go meanwhile: start_detached() takes it too). Return: 0, -1 (nothing
 * started: the caller's to undo), or 1: started and already over (a relay
 * stopping meanwhile): its thread closed the flow's fds, which are not to be used.
 */
static int flow_start(struct egress_relay *r, void *(*fn)(void *), void *f, const bool *used)
{
	struct flow_job *j = malloc(sizeof(*j));
	int e;

	if (!j)
		return -1;
	*j = (struct flow_job){ r, f };
	pthread_mutex_unlock(&r->lock);
	e = start_detached(r, fn, j);
	pthread_mutex_lock(&r->lock);
	if (e < 0)
		free(j);
	return e < 0 ? -1 : *used ? 0 : 1;
}

/* Close with a reset (SO_LINGER 0): the peer learns the other side failed, as without a relay. */
static void close_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

/* One direction of a TCP relay: bytes read from `from`, not yet written to `to`. */
struct half {
	int from, to;
	size_t off, len;
	bool eof;
	char buf[RELAY_BUF];
};

/* Move what can move without blocking. Return: 0, or -1 when the connection failed (reset). */
static int half_step(struct half *h, short rev_from, short rev_to)
{
	ssize_t n;

	if (h->len == 0 && !h->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		n = read(h->from, h->buf, sizeof(h->buf));
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n == 0) {
			h->eof = true;
			(void)shutdown(h->to, SHUT_WR);
		}
		if (n > 0) {
			h->off = 0;
			h->len = (size_t)n;
		}
	}
	if (h->len > 0 && (rev_to & (POLLOUT | POLLERR))) {
		n = send(h->to, h->buf + h->off, h->len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0) {
			h->off += (size_t)n;
			h->len -= (size_t)n;
		}
	}
	return 0;
}

/* Both directions until both ended, one failed, or the relay stops. Return: 0, or -1 (reset). */
static int pump(int a, int b, int stop_fd)
{
	struct half *h = malloc(2 * sizeof(*h));
	int r = -1;

	if (!h)
		return -1;
	h[0] = (struct half){ .from = a, .to = b };
	h[1] = (struct half){ .from = b, .to = a };
	for (;;) {
		struct pollfd p[3] = { { .fd = a },
				       { .fd = b },
				       { .fd = stop_fd, .events = POLLIN } };

		if (h[0].eof && h[1].eof && h[0].len == 0 && h[1].len == 0) {
			r = 0;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (h[i].len == 0 && !h[i].eof)
				p[i].events |= POLLIN;
			if (h[i].len > 0)
				p[1 - i].events |= POLLOUT;
		}
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
		if (half_step(&h[0], p[0].revents, p[1].revents) < 0 ||
		    half_step(&h[1], p[1].revents, p[0].revents) < 0)
			break;
	}
	free(h);
	return r;
}

struct tcp_conn {
	struct egress_relay *r;
	int client;
	union sa dst;
};

/* Connect without blocking past the relay's stop. Return: 0, or -1 (refused, unreachable, stopped). */
static int connect_out(int fd, const union sa *dst, int stop_fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLOUT },
			       { .fd = stop_fd, .events = POLLIN } };
	int e = 0;
	socklen_t len = sizeof(e);

	if (connect(fd, &dst->sa, sa_len(dst)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return -1;
	if (p[1].revents)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0)
		return -1;
	return 0;
}

static void *tcp_thread(void *arg)
{
	struct tcp_conn *c = arg;
	struct egress_relay *r = c->r;
	/* made on this thread: in the caller's namespace, like the relay's own thread */
	int out = socket(c->dst.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (out >= 0 && connect_out(out, &c->dst, r->stop_fd) == 0 &&
	    pump(c->client, out, r->stop_fd) == 0) {
		(void)close(out);
		(void)close(c->client);
	} else {
		/* refused, unreachable or reset: the jail's client gets a reset too */
		if (out >= 0)
			close_reset(out);
		close_reset(c->client);
	}
	free(c);
	thread_done(r);
	return NULL;
}

/* Where the jail sent a connection, before the relay namespace's REDIRECT. */
static int original_dst(int fd, bool v6, union sa *ret)
{
	socklen_t len = v6 ? sizeof(ret->in6) : sizeof(ret->in);

	return v6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ret->in6, &len)
		  : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ret->in, &len);
}

static void on_tcp(struct egress_relay *r, int lfd, bool v6)
{
	struct tcp_conn *c;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || original_dst(fd, v6, &c->dst) < 0 || !out_dst(r, &c->dst, &c->dst)) {
		free(c);
		close_reset(fd);
		return;
	}
	c->r = r;
	c->client = fd;
	if (start_detached(r, tcp_thread, c) < 0) {
		close_reset(fd);
		free(c);
	}
}

/* --- UDP ---------------------------------------------------------------------- */

struct reply_req {
	const union sa *src, *dst;
	int fd;
};

/* In the relay namespace: a socket that sends as dst to src (IP_TRANSPARENT: dst is not ours). */
static int reply_socket(void *data, nslab_error *err)
{
	struct reply_req *q = data;
	int one = 1;
	bool v6 = q->dst->sa.sa_family == AF_INET6;
	int fd = socket(q->dst->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return nslab_err_set(err, errno, "relay: UDP reply socket");
	if ((v6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one))
		: setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one))) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &q->dst->sa, sa_len(q->dst)) < 0 ||
	    connect(fd, &q->src->sa, sa_len(q->src)) < 0) {
		int e = errno;

		(void)close(fd);
		return nslab_err_set(err, e, "relay: UDP reply socket");
	}
	q->fd = fd;
	return 0;
}

/* Under lock: the flow of src to dst, or NULL. */
static struct udp_flow *flow_find(struct egress_relay *r, const union sa *src, const union sa *dst)
{
	for (size_t i = 0; i < RELAY_UDP_FLOWS; i++)
		if (r->flows[i].used && sa_equal(&r->flows[i].src, src) &&
		    sa_equal(&r->flows[i].dst, dst))
			return &r->flows[i];
	return NULL;
}

static void forward_dgram(int from, int to)
{
	char buf[RELAY_BUF];
	ssize_t n = recv(from, buf, sizeof(buf), MSG_DONTWAIT);

	if (n >= 0)
		(void)send(to, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void udp_ready(struct egress_relay *r, void *arg, size_t i)
{
	struct udp_flow *f = arg;

	(void)r;
	/* later datagrams of the flow: TPROXY finds the connected reply socket first */
	if (i == 0)
		forward_dgram(f->out_fd, f->reply_fd);
	else
		forward_dgram(f->reply_fd, f->out_fd);
}

/* A flow's thread: datagrams each way until it is idle for RELAY_UDP_IDLE_MS or the relay stops. */
static void *udp_thread(void *arg)
{
	struct flow_job *j = arg;
	struct egress_relay *r = j->r;
	struct udp_flow *f = j->f;
	int fds[] = { f->out_fd, f->reply_fd };

	free(j);
	flow_run(r, fds, 2, RELAY_UDP_IDLE_MS, udp_ready, f, &f->used);
	return NULL;
}

/* Under lock: a new flow (its sockets made), or NULL (table full, or a socket failed). */
static struct udp_flow *flow_new(struct egress_relay *r, const union sa *src, const union sa *dst)
{
	struct reply_req q = { src, dst, -1 };
	struct udp_flow *f = NULL;
	union sa to;
	int started;

	for (size_t i = 0; i < RELAY_UDP_FLOWS && !f; i++)
		if (!r->flows[i].used)
			f = &r->flows[i];
	if (!f || !out_dst(r, dst, &to) || netns_call(r->netns_fd, reply_socket, &q, NULL) < 0)
		return NULL;
	*f = (struct udp_flow){ .src = *src, .dst = *dst, .reply_fd = q.fd, .used = true };
	f->out_fd = socket(to.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* the flow is marked used: nobody else takes it while the lock is let go */
	if (f->out_fd < 0 || connect(f->out_fd, &to.sa, sa_len(&to)) < 0 ||
	    (started = flow_start(r, udp_thread, f, &f->used)) < 0)
		goto fail;
	return started == 0 ? f : NULL;
fail:
	if (f->out_fd >= 0)
		(void)close(f->out_fd);
	(void)close(f->reply_fd);
	f->used = false;
	return NULL;
}

/* The original destination of a datagram, from its IP_ORIGDSTADDR (IPV6_ORIGDSTADDR). */
static bool orig_dst(struct msghdr *m, union sa *ret)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ret->in))) {
			memcpy(&ret->in, CMSG_DATA(c), sizeof(ret->in));
			return true;
		}
		if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ret->in6))) {
			memcpy(&ret->in6, CMSG_DATA(c), sizeof(ret->in6));
			return true;
		}
	}
	return false;
}

static void on_udp(struct egress_relay *r, int lfd)
{
	char buf[RELAY_BUF];
	char ctl[CMSG_SPACE(sizeof(struct sockaddr_in6))];
	union sa src = { 0 }, dst = { 0 };
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &src,
			    .msg_namelen = sizeof(src),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct udp_flow *f;
	ssize_t n = recvmsg(lfd, &m, MSG_DONTWAIT);

	if (n < 0 || !orig_dst(&m, &dst))
		return;
	pthread_mutex_lock(&r->lock);
	f = flow_find(r, &src, &dst);
	if (!f)
		f = flow_new(r, &src, &dst);
	if (f)
		(void)send(f->out_fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	pthread_mutex_unlock(&r->lock);
}

/* --- ICMP echo ---------------------------------------------------------------- */

/*
 * Echo requests the jail sent (past the gateway's policy) arrive in the
 * relay namespace, where the kernel answers none (icmp_echo_ignore_all, and
 * IPv6's icmp/echo_ignore_all) and a raw socket reads them. Each (source,
 * destination, identifier) gets an ICMP (ICMPv6) socket of the caller's
 * namespace connected to the destination: a ping socket where
 * net.ipv4.ping_group_range lets nslab's group in (the kernel then picks the
 * identifier; the range rules IPv6's ping sockets too), else a raw one
 * (CAP_NET_RAW there: root). Its echo replies go back into the relay
 * namespace as from the destination with the jail's identifier: an IPv4
 * packet written whole, an ICMPv6 message sent from the destination's
 * address (IPV6_FREEBIND and IPV6_PKTINFO; the kernel sums ICMPv6).
 */

static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int icmp_proto(int family)
{
	return family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

enum egress_relay_icmp egress_relay_icmp_probe(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, icmp_proto(family));

	if (fd >= 0) {
		(void)close(fd);
		return EGRESS_RELAY_ICMP_PING;
	}
	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, icmp_proto(family));
	if (fd >= 0) {
		(void)close(fd);
		return EGRESS_RELAY_ICMP_RAW;
	}
	return EGRESS_RELAY_ICMP_NONE;
}

/* An IPv4 echo reply for the flow, back into the relay namespace: from f->dst, to f->src. */
static void icmp_reply4(struct egress_relay *r, const struct icmp_flow *f, uint8_t *icmp,
			size_t len)
{
	uint8_t pkt[sizeof(struct iphdr) + RELAY_BUF];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct icmphdr *h = (struct icmphdr *)icmp;

	if (len < sizeof(*h) || len > RELAY_BUF || h->type != ICMP_ECHOREPLY)
		return;
	h->un.echo.id = f->id;
	h->checksum = 0;
	h->checksum = inet_csum(icmp, len);
	*ip = (struct iphdr){ .ihl = 5,
			      .version = 4,
			      .ttl = 64,
			      .protocol = IPPROTO_ICMP,
			      .saddr = f->dst.in.sin_addr.s_addr,
			      .daddr = f->src.in.sin_addr.s_addr };
	memcpy(pkt + sizeof(*ip), icmp, len);
	/* IPPROTO_RAW: the kernel fills in the length, the IP id and the header's checksum */
	(void)sendto(r->icmp_reply_fd, pkt, sizeof(*ip) + len, MSG_DONTWAIT, &f->src.sa,
		     sizeof(f->src.in));
}

/* An ICMPv6 echo reply for the flow: sent from f->dst's address (IPV6_PKTINFO) to f->src. */
static void icmp_reply6(struct egress_relay *r, const struct icmp_flow *f, uint8_t *icmp,
			size_t len)
{
	struct icmp6_hdr *h = (struct icmp6_hdr *)icmp;
	char ctl[CMSG_SPACE(sizeof(struct in6_pktinfo))] = { 0 };
	struct iovec iov = { icmp, len };
	struct msghdr m = { .msg_name = (void *)&f->src.in6,
			    .msg_namelen = sizeof(f->src.in6),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	struct in6_pktinfo pi = { .ipi6_addr = f->dst.in6.sin6_addr };

	if (len < sizeof(*h) || h->icmp6_type != ICMP6_ECHO_REPLY)
		return;
	h->icmp6_id = f->id;
	h->icmp6_cksum = 0; /* a raw ICMPv6 socket always sums it (RFC 3542) */
	c->cmsg_level = SOL_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	(void)sendmsg(r->icmp6_reply_fd, &m, MSG_DONTWAIT);
}

/*
 * A reply on the flow's socket: a ping socket gives the ICMP message, a raw
 * IPv4 one the IP packet, a raw ICMPv6 one the message (filtered to echo
 * replies, but every one from dst: this flow's identifier only).
 */
static void icmp_on_reply(struct egress_relay *r, struct icmp_flow *f)
{
	uint8_t buf[RELAY_BUF];
	ssize_t n = recv(f->out_fd, buf, sizeof(buf), MSG_DONTWAIT);
	bool v6 = f->dst.sa.sa_family == AF_INET6;
	bool raw = (v6 ? r->icmp6 : r->icmp) == EGRESS_RELAY_ICMP_RAW;
	size_t off = 0;

	if (n <= 0)
		return;
	if (raw && !v6) {
		struct iphdr *ip = (struct iphdr *)buf;

		if ((size_t)n < sizeof(*ip) || (size_t)n < (size_t)ip->ihl * 4 + 8)
			return;
		off = (size_t)ip->ihl * 4;
	}
	if (raw && ((size_t)n < off + 8 || ((struct icmphdr *)(buf + off))->un.echo.id != f->id))
		return;
	if (v6)
		icmp_reply6(r, f, buf, (size_t)n);
	else
		icmp_reply4(r, f, buf + off, (size_t)n - off);
}

static void icmp_ready(struct egress_relay *r, void *f, size_t i)
{
	(void)i;
	icmp_on_reply(r, f);
}

static void *icmp_thread(void *arg)
{
	struct flow_job *j = arg;
	struct egress_relay *r = j->r;
	struct icmp_flow *f = j->f;

	free(j);
	flow_run(r, &f->out_fd, 1, RELAY_ICMP_IDLE_MS, icmp_ready, f, &f->used);
	return NULL;
}

/* In the caller's namespace: the flow's ICMP socket to dst (a raw ICMPv6 one: echo replies only). */
static int icmp_out_socket(const struct egress_relay *r, const union sa *dst)
{
	bool v6 = dst->sa.sa_family == AF_INET6;
	enum egress_relay_icmp how = v6 ? r->icmp6 : r->icmp;
	int fd = socket(dst->sa.sa_family,
			(how == EGRESS_RELAY_ICMP_PING ? SOCK_DGRAM : SOCK_RAW) | SOCK_NONBLOCK |
				SOCK_CLOEXEC,
			icmp_proto(dst->sa.sa_family));
	struct icmp6_filter filt;

	if (fd < 0)
		return -1;
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filt);
	if ((v6 && how == EGRESS_RELAY_ICMP_RAW &&
	     setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)) < 0) ||
	    connect(fd, &dst->sa, sa_len(dst)) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Under lock: the flow of (src, dst, id), made with its socket and thread if new; or NULL. */
static struct icmp_flow *icmp_flow_get(struct egress_relay *r, const union sa *src,
				       const union sa *dst, uint16_t id)
{
	struct icmp_flow *f = NULL;
	int started;

	for (size_t i = 0; i < RELAY_ICMP_FLOWS; i++) {
		struct icmp_flow *g = &r->pings[i];

		if (g->used && sa_equal(&g->src, src) && sa_equal(&g->dst, dst) && g->id == id)
			return g;
		if (!g->used && !f)
			f = g;
	}
	if (!f)
		return NULL;
	/* made on this thread: in the caller's namespace */
	f->out_fd = icmp_out_socket(r, dst);
	if (f->out_fd < 0)
		return NULL;
	f->src = *src;
	f->dst = *dst;
	f->id = id;
	f->used = true;
	started = flow_start(r, icmp_thread, f, &f->used);
	if (started < 0) {
		f->used = false;
		(void)close(f->out_fd);
		return NULL;
	}
	return started == 0 ? f : NULL;
}

/* An echo request (the ICMP message) from src to dst: sent on from the caller's namespace. */
static void icmp_forward(struct egress_relay *r, const union sa *src, const union sa *dst,
			 const uint8_t *msg, size_t len)
{
	/* the identifier sits at the same place in ICMP and ICMPv6 */
	const struct icmphdr *h = (const struct icmphdr *)msg;
	struct icmp_flow *f;

	pthread_mutex_lock(&r->lock);
	f = icmp_flow_get(r, src, dst, h->un.echo.id);
	/* a ping socket sets its own identifier and checksum; a raw one sends it as it came */
	if (f)
		(void)send(f->out_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	pthread_mutex_unlock(&r->lock);
}

/* An IPv4 echo request of the jail, read in the relay namespace (the whole IP packet). */
static void on_icmp(struct egress_relay *r)
{
	uint8_t buf[RELAY_BUF];
	ssize_t n = recv(r->icmp_in_fd, buf, sizeof(buf), MSG_DONTWAIT);
	struct iphdr *ip = (struct iphdr *)buf;
	union sa src = { .in = { .sin_family = AF_INET } }, dst = src;
	struct icmphdr *h;
	size_t off;

	if (n < (ssize_t)sizeof(*ip))
		return;
	off = (size_t)ip->ihl * 4;
	if ((size_t)n < off + sizeof(*h))
		return;
	h = (struct icmphdr *)(buf + off);
	if (h->type != ICMP_ECHO || h->code != 0)
		return;
	src.in.sin_addr.s_addr = ip->saddr;
	dst.in.sin_addr.s_addr = ip->daddr;
	icmp_forward(r, &src, &dst, buf + off, (size_t)n - off);
}

/* An ICMPv6 echo request of the jail: the message, its source, its destination from IPV6_PKTINFO. */
static void on_icmp6(struct egress_relay *r)
{
	uint8_t buf[RELAY_BUF];
	char ctl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	union sa src = { 0 }, dst = { .in6 = { .sin6_family = AF_INET6 } };
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &src.in6,
			    .msg_namelen = sizeof(src.in6),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(r->icmp6_in_fd, &m, MSG_DONTWAIT);
	bool have_dst = false;

	if (n < (ssize_t)sizeof(struct icmp6_hdr) || buf[0] != ICMP6_ECHO_REQUEST || buf[1] != 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst.in6.sin6_addr = pi.ipi6_addr;
			have_dst = true;
		}
	if (!have_dst)
		return;
	/* the flow's key: addresses only (a raw socket's name has the protocol as its port) */
	src.in6.sin6_port = 0;
	src.in6.sin6_flowinfo = 0;
	src.in6.sin6_scope_id = 0;
	icmp_forward(r, &src, &dst, buf, (size_t)n);
}

/* In the relay namespace: the raw sockets that read echo requests and write replies. */
static int icmp_sockets(void *data, nslab_error *err)
{
	struct egress_relay *r = data;
	/* ICMP_FILTER: a set bit drops that type; echo requests only */
	struct icmp_filter filt = { .data = ~(1U << ICMP_ECHO) };

	r->icmp_in_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (r->icmp_in_fd < 0 ||
	    setsockopt(r->icmp_in_fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)) < 0)
		return nslab_err_set(err, errno, "relay: ICMP socket");
	r->icmp_reply_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (r->icmp_reply_fd < 0)
		return nslab_err_set(err, errno, "relay: ICMP reply socket");
	return 0;
}

/* The same for ICMPv6: echo requests in (with their destination), replies out from any address. */
static int icmp6_sockets(void *data, nslab_error *err)
{
	struct egress_relay *r = data;
	struct icmp6_filter in, none;
	int one = 1;

	ICMP6_FILTER_SETBLOCKALL(&in);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REQUEST, &in);
	ICMP6_FILTER_SETBLOCKALL(&none);
	r->icmp6_in_fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (r->icmp6_in_fd < 0 ||
	    setsockopt(r->icmp6_in_fd, IPPROTO_ICMPV6, ICMP6_FILTER, &in, sizeof(in)) < 0 ||
	    setsockopt(r->icmp6_in_fd, SOL_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
		return nslab_err_set(err, errno, "relay: ICMPv6 socket");
	/* FREEBIND: IPV6_PKTINFO may then name a source that is no address of the namespace */
	r->icmp6_reply_fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (r->icmp6_reply_fd < 0 ||
	    setsockopt(r->icmp6_reply_fd, IPPROTO_ICMPV6, ICMP6_FILTER, &none, sizeof(none)) < 0 ||
	    setsockopt(r->icmp6_reply_fd, SOL_IPV6, IPV6_FREEBIND, &one, sizeof(one)) < 0)
		return nslab_err_set(err, errno, "relay: ICMPv6 reply socket");
	return 0;
}

/* --- the listeners ------------------------------------------------------------ */

static void *listen_thread(void *arg)
{
	struct egress_relay *r = arg;

	for (;;) {
		/* poll() skips the fds that are -1 (no IPv6, no ICMP) */
		struct pollfd p[7] = { { .fd = r->tcp_fd, .events = POLLIN },
				       { .fd = r->udp_fd, .events = POLLIN },
				       { .fd = r->stop_fd, .events = POLLIN },
				       { .fd = r->icmp_in_fd, .events = POLLIN },
				       { .fd = r->tcp6_fd, .events = POLLIN },
				       { .fd = r->udp6_fd, .events = POLLIN },
				       { .fd = r->icmp6_in_fd, .events = POLLIN } };

		if (poll(p, 7, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
		if (p[0].revents)
			on_tcp(r, r->tcp_fd, false);
		if (p[1].revents)
			on_udp(r, r->udp_fd);
		if (p[3].revents)
			on_icmp(r);
		if (p[4].revents)
			on_tcp(r, r->tcp6_fd, true);
		if (p[5].revents)
			on_udp(r, r->udp6_fd);
		if (p[6].revents)
			on_icmp6(r);
	}
	return NULL;
}

/*
 * The relay's TCP listener and transparent UDP socket of one family, on a
 * (an IPv6 pair IPV6_V6ONLY: IPv4 has its own).
 */
static int listen_pair(const struct sockaddr *a, socklen_t alen, int *tcp, int *udp,
		       nslab_error *err)
{
	bool v6 = a->sa_family == AF_INET6;
	int lvl = v6 ? SOL_IPV6 : SOL_IP, one = 1;
	const char *fam = v6 ? " (IPv6)" : "";

	*tcp = socket(a->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*tcp < 0 || (v6 && setsockopt(*tcp, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    setsockopt(*tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(*tcp, a, alen) < 0 || listen(*tcp, 128) < 0)
		return nslab_err_set(err, errno, "relay: TCP listener%s", fam);
	*udp = socket(a->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*udp < 0 || (v6 && setsockopt(*udp, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    setsockopt(*udp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(*udp, lvl, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &one, sizeof(one)) < 0 ||
	    setsockopt(*udp, lvl, v6 ? IPV6_RECVORIGDSTADDR : IP_RECVORIGDSTADDR, &one,
		       sizeof(one)) < 0 ||
	    bind(*udp, a, alen) < 0)
		return nslab_err_set(err, errno, "relay: UDP listener%s", fam);
	return 0;
}

static int listeners(void *data, nslab_error *err)
{
	struct egress_relay *r = data;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(EGRESS_RELAY_PORT) };

	return listen_pair((struct sockaddr *)&a, sizeof(a), &r->tcp_fd, &r->udp_fd, err);
}

/* With --ipv6: the same two listeners for IPv6. */
static int listeners6(void *data, nslab_error *err)
{
	struct egress_relay *r = data;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(EGRESS_RELAY_PORT),
				  .sin6_addr = r->listen6 };

	return listen_pair((struct sockaddr *)&a, sizeof(a), &r->tcp6_fd, &r->udp6_fd, err);
}

int egress_relay_start(int netns_fd, const struct egress_relay_conf *c, struct egress_relay **ret,
		       nslab_error *err)
{
	_cleanup_(egress_relay_freep) struct egress_relay *r = calloc(1, sizeof(*r));
	int e = 0;

	if (!r)
		return nslab_err_set(err, ENOMEM, "relay");
	snprintf(r->host_ports, sizeof(r->host_ports), "%s", c->host_ports);
	r->tcp_fd = r->udp_fd = r->icmp_in_fd = r->icmp_reply_fd = -1;
	r->tcp6_fd = r->udp6_fd = r->icmp6_in_fd = r->icmp6_reply_fd = -1;
	r->netns_fd = r->stop_fd = -1; /* egress_relay_free() on an early return */
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->idle, NULL);
	r->only6 = c->listen6 != NULL;
	r->listen6 = in6addr_any;
	if (c->listen6 && inet_pton(AF_INET6, c->listen6, &r->listen6) != 1)
		return nslab_err_setx(err, EINVAL, "relay: bad IPv6 address '%s'", c->listen6);
	/* echo requests are the relay namespace's to carry, never the gateway's */
	r->icmp = r->only6 ? EGRESS_RELAY_ICMP_NONE : c->icmp;
	r->icmp6 = c->ipv6 && !r->only6 ? c->icmp6 : EGRESS_RELAY_ICMP_NONE;
	r->netns_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
	r->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (r->netns_fd < 0 || r->stop_fd < 0)
		return nslab_err_set(err, errno, "relay");
	if (!r->only6)
		e = netns_call(r->netns_fd, listeners, r, err);
	if (e >= 0 && c->ipv6)
		e = netns_call(r->netns_fd, listeners6, r, err);
	if (e >= 0 && r->icmp != EGRESS_RELAY_ICMP_NONE)
		e = netns_call(r->netns_fd, icmp_sockets, r, err);
	if (e >= 0 && r->icmp6 != EGRESS_RELAY_ICMP_NONE)
		e = netns_call(r->netns_fd, icmp6_sockets, r, err);
	if (e < 0)
		return e;
	e = pthread_create(&r->thread, NULL, listen_thread, r);
	if (e != 0)
		return nslab_err_set(err, e, "relay: thread");
	r->started = true;
	*ret = TAKE_PTR(r);
	return 0;
}

static void close_if(int fd)
{
	if (fd >= 0)
		(void)close(fd);
}

struct egress_relay *egress_relay_free(struct egress_relay *r)
{
	if (!r)
		return NULL;
	if (r->stop_fd >= 0)
		(void)eventfd_write(r->stop_fd, 1);
	if (r->started)
		(void)pthread_join(r->thread, NULL);
	/* the connections' and flows' threads see stop_fd too; each closes its sockets */
	pthread_mutex_lock(&r->lock);
	while (r->active > 0)
		pthread_cond_wait(&r->idle, &r->lock);
	pthread_mutex_unlock(&r->lock);
	close_if(r->tcp_fd);
	close_if(r->udp_fd);
	close_if(r->tcp6_fd);
	close_if(r->udp6_fd);
	close_if(r->icmp_in_fd);
	close_if(r->icmp_reply_fd);
	close_if(r->icmp6_in_fd);
	close_if(r->icmp6_reply_fd);
	close_if(r->stop_fd);
	close_if(r->netns_fd);
	pthread_cond_destroy(&r->idle);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}

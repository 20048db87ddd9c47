/* SPDX-License-Identifier: MIT */
/*
 * fwtest/inject: what a test sends. Endpoints resolved against the topology
 * (node names, literal addresses, defaults), listeners on the destination
 * ports, crafted packets (tagged, sent from the sending node's raw socket)
 * and flows (real sockets); each then waits in collect.c for what the kernel
 * did with it.
 */
#include "fwtest/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Endpoints */

static const char *node_list(const struct fw_topo *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 t->nodes[i].name);
	return buf;
}

static int find_node(struct fw_runner *r, const char *name, struct fw_loc loc, size_t *ret,
		     nslab_error *err)
{
	struct fw_topo *t = r->env->topo;
	char names[128];

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].name, name) == 0) {
			*ret = i;
			return 0;
		}
	return nslab_err_setx(err, EINVAL, "%s:%u:%u: unknown node '%s' (this topology has %s)",
			      r->suite->path, loc.line, loc.col, name,
			      node_list(t, names, sizeof(names)));
}

/* The address of an endpoint for family, into out (16 bytes). */
static int endpoint_addr(struct fw_runner *r, const struct fw_endpoint *ep, size_t dflt_node,
			 int family, uint8_t *out, nslab_error *err)
{
	const struct nslab_prefix *p;
	size_t node = dflt_node;
	int k;

	if (ep->addr.family) {
		memcpy(out, ep->addr.addr, 16);
		return 0;
	}
	if (ep->node) {
		k = find_node(r, ep->node, ep->loc, &node, err);
		if (k < 0)
			return k;
	}
	p = fw_node_addr(&r->env->topo->nodes[node], family);
	if (!p)
		return nslab_err_setx(err, EINVAL, "%s:%u:%u: node '%s' has no IPv%c address",
				      r->suite->path, ep->loc.line, ep->loc.col,
				      r->env->topo->nodes[node].name,
				      family == AF_INET ? '4' : '6');
	memcpy(out, p->addr, 16);
	return 0;
}

/* Which node an endpoint is (by name or by owning its literal address); SIZE_MAX if none. */
static size_t endpoint_node(struct fw_runner *r, const struct fw_endpoint *ep, size_t dflt)
{
	struct fw_topo *t = r->env->topo;
	struct fw_node *n;

	if (ep->node) {
		n = fw_topo_node(t, ep->node);
		return n ? (size_t)(n - t->nodes) : SIZE_MAX;
	}
	if (ep->addr.family) {
		n = fw_topo_node_by_addr(t, ep->addr.addr, ep->addr.family);
		return n ? (size_t)(n - t->nodes) : SIZE_MAX;
	}
	return dflt;
}

static int pick_family(struct fw_runner *r, int proto, const struct fw_endpoint *src,
		       const struct fw_endpoint *dst, struct fw_loc loc, int *ret, nslab_error *err)
{
	int f = src->addr.family ? src->addr.family : dst->addr.family;

	if (src->addr.family && dst->addr.family && src->addr.family != dst->addr.family)
		return nslab_err_setx(err, EINVAL,
				      "%s:%u:%u: src and dst are of different families",
				      r->suite->path, loc.line, loc.col);
	if (proto == IPPROTO_ICMPV6)
		f = f ? f : AF_INET6;
	if (!f)
		f = AF_INET;
	if ((proto == IPPROTO_ICMPV6 && f != AF_INET6) || (proto == IPPROTO_ICMP && f != AF_INET))
		return nslab_err_setx(err, EINVAL, "%s:%u:%u: %s with IPv%c addresses",
				      r->suite->path, loc.line, loc.col,
				      proto == IPPROTO_ICMP ? "icmp" : "icmpv6",
				      f == AF_INET ? '4' : '6');
	*ret = f;
	return 0;
}

unsigned fw_test_families(struct fw_runner *r, const struct fw_test *t)
{
	unsigned bits = 0;
	int f;

	for (size_t i = 0; i < t->n_packets; i++)
		bits |= pick_family(r, t->packets[i].proto, &t->packets[i].src, &t->packets[i].dst,
				    t->packets[i].loc, &f, NULL) < 0
				? FW_FAMILIES_ALL
				: FW_FAMILY_BIT(f);
	for (size_t i = 0; i < t->n_flows; i++)
		bits |= pick_family(r, t->flows[i].proto, &t->flows[i].src, &t->flows[i].dst,
				    t->flows[i].loc, &f, NULL) < 0
				? FW_FAMILIES_ALL
				: FW_FAMILY_BIT(f);
	return bits;
}

/* The sending node: from, else the source's node, else the topology's client. */
static int sender_node(struct fw_runner *r, const char *from, const struct fw_endpoint *src,
		       struct fw_loc loc, size_t *ret, nslab_error *err)
{
	size_t n;

	if (from)
		return find_node(r, from, loc, ret, err);
	n = endpoint_node(r, src, r->env->topo->client_node);
	if (n == SIZE_MAX && src->node)
		return find_node(r, src->node, src->loc, ret, err);
	*ret = n == SIZE_MAX ? r->env->topo->client_node : n;
	return 0;
}

/* Listeners */

static int listen_on(struct fw_runner *r, size_t node, int proto, int port, nslab_error *err)
{
	int fd, *l, k;

	if (node == SIZE_MAX || port <= 0 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	k = fw_io_listen(&r->env->topo->nodes[node], &r->env->io[node], proto, port, &fd, err);
	if (k == -EADDRINUSE)
		return 0; /* this test listens there already */
	if (k < 0)
		return k;
	l = reallocarray(r->listeners, r->n_listeners + 1, sizeof(*l));
	if (!l) {
		(void)close(fd);
		return nslab_err_set(err, ENOMEM, "listeners");
	}
	r->listeners = l;
	r->listeners[r->n_listeners++] = fd;
	if (proto != IPPROTO_UDP)
		return 0; /* TCP: the kernel completes handshakes; nothing to poll */
	l = reallocarray(r->udp, r->n_udp + 1, sizeof(*l));
	if (!l)
		return nslab_err_set(err, ENOMEM, "listeners");
	r->udp = l;
	r->udp[r->n_udp++] = fd;
	return 0;
}

void fw_listeners_close(struct fw_runner *r)
{
	for (size_t i = 0; i < r->n_held; i++)
		(void)close(r->held[i]);
	free(r->held);
	r->held = NULL;
	r->n_held = 0;
	for (size_t i = 0; i < r->n_listeners; i++)
		(void)close(r->listeners[i]);
	free(r->listeners);
	r->listeners = NULL;
	r->n_listeners = 0;
	free(r->udp);
	r->udp = NULL;
	r->n_udp = 0;
}

int fw_start_listeners(struct fw_runner *r, const struct fw_test *t, nslab_error *err)
{
	size_t server = r->env->topo->server_node;
	int k = 0;

	if (!t->listen)
		return 0;
	for (size_t i = 0; k >= 0 && i < t->n_packets; i++)
		k = listen_on(r, endpoint_node(r, &t->packets[i].dst, server), t->packets[i].proto,
			      t->packets[i].dport, err);
	for (size_t i = 0; k >= 0 && i < t->n_flows; i++)
		k = listen_on(r, endpoint_node(r, &t->flows[i].dst, server), t->flows[i].proto,
			      t->flows[i].dport, err);
	return k;
}

/* Packets */

static struct fw_track *track_new(struct fw_runner *r, nslab_error *err)
{
	struct fw_track *t = reallocarray(r->tracks, r->n_tracks + 1, sizeof(*t));

	if (!t) {
		nslab_err_set(err, ENOMEM, "track a packet");
		return NULL;
	}
	r->tracks = t;
	t = &r->tracks[r->n_tracks++];
	*t = (struct fw_track){ 0 };
	return t;
}

static void tcp_flags_text(uint8_t f, char *buf)
{
	static const char letters[] = "FSRPAUEC";
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
}

static void describe(struct fw_track *t)
{
	const struct pkt_spec *s = &t->spec;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pbuf[16], flags[9];
	bool v6 = s->family == AF_INET6;
	const char *pn = fw_proto_name(s->proto, pbuf);

	inet_ntop(s->family, s->src, a, sizeof(a));
	inet_ntop(s->family, s->dst, b, sizeof(b));
	if (s->proto == IPPROTO_TCP && t->is_flow) {
		snprintf(t->desc, sizeof(t->desc), "tcp %s%s%s:%u > %s%s%s:%u (connection)",
			 v6 ? "[" : "", a, v6 ? "]" : "", s->sport, v6 ? "[" : "", b, v6 ? "]" : "",
			 s->dport);
	} else if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		tcp_flags_text(s->tcp_flags, flags);
		snprintf(t->desc, sizeof(t->desc), "%s %s%s%s:%u > %s%s%s:%u%s%s%s", pn,
			 v6 ? "[" : "", a, v6 ? "]" : "", s->sport, v6 ? "[" : "", b, v6 ? "]" : "",
			 s->dport, s->proto == IPPROTO_TCP ? " [" : "",
			 s->proto == IPPROTO_TCP ? flags : "", s->proto == IPPROTO_TCP ? "]" : "");
	} else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		snprintf(t->desc, sizeof(t->desc), "%s %s > %s type %u code %u", pn, a, b,
			 s->icmp_type, s->icmp_code);
	} else {
		snprintf(t->desc, sizeof(t->desc), "%s %s > %s", pn, a, b);
	}
}

static uint32_t take_tag(struct fw_runner *r, int family)
{
	uint32_t tag = r->next_tag++;

	if (family == AF_INET && (tag & 0xffff) == 0)
		tag = r->next_tag++;
	return tag & (family == AF_INET ? 0xffffu : 0xfffffu);
}

static int fill_spec(struct fw_runner *r, const struct fw_packet *p, int family, unsigned copy,
		     struct pkt_spec *s, nslab_error *err)
{
	bool l4 = p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP;

	if (l4 && p->dport < 0)
		return nslab_err_setx(err, EINVAL, "%s:%u:%u: a %s packet needs dport",
				      r->suite->path, p->loc.line, p->loc.col,
				      p->proto == IPPROTO_TCP ? "tcp" : "udp");
	s->family = family;
	s->proto = p->proto;
	s->tag = take_tag(r, family);
	s->sport = (uint16_t)(p->sport >= 0 ? p->sport : r->next_sport++);
	s->dport = (uint16_t)(p->dport >= 0 ? p->dport : 0);
	s->tcp_flags = (uint8_t)(p->tcp_flags >= 0 ? p->tcp_flags : 0x02);
	s->tcp_seq = 0x10000u * s->tag + 1;
	/* unique per packet, like seq: a RST answering an ACK carries it back */
	s->tcp_ack = (s->tcp_flags & 0x10) ? 0x20000u * s->tag + 1 : 0;
	s->icmp_type = (uint8_t)(p->icmp_type >= 0 ? p->icmp_type : (family == AF_INET ? 8 : 128));
	s->icmp_code = (uint8_t)(p->icmp_code >= 0 ? p->icmp_code : 0);
	s->icmp_id = (uint16_t)s->tag;
	s->icmp_seq = (uint16_t)(copy + 1);
	s->ttl = (uint8_t)(p->ttl > 0 ? p->ttl : 64);
	s->payload = p->payload;
	s->payload_len = p->payload_len;
	if (r->next_sport < FW_SPORT_BASE)
		r->next_sport = FW_SPORT_BASE;
	return 0;
}

static int send_raw(const struct fw_node_io *io, const struct pkt_spec *s, const uint8_t *buf,
		    size_t len, nslab_error *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	ssize_t n;

	if (s->family == AF_INET) {
		memcpy(&sin.sin_addr, s->dst, 4);
		n = sendto(io->raw4, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		memcpy(&sin6.sin6_addr, s->dst, 16);
		n = sendto(io->raw6, buf, len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	/* EPERM: the sender's own output hook dropped it; the trace says where and why */
	if (n < 0 && errno != EPERM)
		return nslab_err_set(err, errno, "send the packet");
	return 0;
}

int fw_inject_packet(struct fw_runner *r, const struct fw_test *test, size_t i, unsigned copy,
		     nslab_error *err)
{
	const struct fw_packet *p = &test->packets[i];
	_cleanup_free_ uint8_t *buf = malloc(PKT_MAX);
	struct fw_track *t;
	size_t from, len;
	int family, k;
	bool last = i + 1 == test->n_packets && copy + 1 == p->count && !test->n_flows;

	if (!buf)
		return nslab_err_set(err, ENOMEM, "packet buffer");
	k = pick_family(r, p->proto, &p->src, &p->dst, p->loc, &family, err);
	if (k >= 0)
		k = sender_node(r, p->from, &p->src, p->loc, &from, err);
	if (k < 0)
		return k;
	t = track_new(r, err);
	if (!t)
		return -ENOMEM;
	t->index = i;
	t->copy = copy;
	t->from = from;
	t->expect = p->has_expect ? &p->expect : (last ? &test->expect : NULL);
	k = fill_spec(r, p, family, copy, &t->spec, err);
	if (k >= 0)
		k = endpoint_addr(r, &p->src, from, family, t->spec.src, err);
	if (k >= 0)
		k = endpoint_addr(r, &p->dst, r->env->topo->server_node, family, t->spec.dst, err);
	if (k < 0)
		return -EINVAL;
	describe(t);
	k = pkt_build(&t->spec, buf, PKT_MAX, &len, err);
	if (k >= 0)
		k = send_raw(&r->env->io[from], &t->spec, buf, len, err);
	if (k < 0)
		return nslab_err_prefix(err, k, "%s:%u:%u: %s", r->suite->path, p->loc.line,
					p->loc.col, t->desc);
	return fw_collect_until(r, t, t->expect && t->expect->reply != FW_REPLY_UNSET, err);
}

/* Flows */

/*
 * An explicit source: the socket's address, and sport if given (else the kernel's). An unset
 * sport is -1: bound as is it was port 65535 for every flow with a src.
 */
static int bind_source(int fd, const struct pkt_spec *s, int sport)
{
	uint16_t port = htons(sport > 0 ? (uint16_t)sport : 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = port };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = port };

	if (s->family == AF_INET) {
		memcpy(&sin.sin_addr, s->src, 4);
		return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	memcpy(&sin6.sin6_addr, s->src, 16);
	return bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
}

/* The socket's own address and port: what the kernel chose is what the trace shows. */
static int take_local(int fd, struct pkt_spec *s, nslab_error *err)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return nslab_err_set(err, errno, "getsockname");
	if (ss.ss_family == AF_INET) {
		s->sport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		memcpy(s->src, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		s->sport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		memcpy(s->src, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	return 0;
}

/* bind_src: bind to the spec's source address (and sport > 0) before connecting. */
static int flow_connect(struct fw_track *t, int fd, bool bind_src, int sport, nslab_error *err)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;

	if (t->spec.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->spec.dport);
		memcpy(&s4->sin_addr, t->spec.dst, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->spec.dport);
		memcpy(&s6->sin6_addr, t->spec.dst, 16);
		sl = sizeof(*s6);
	}
	if (bind_src && bind_source(fd, &t->spec, sport) < 0)
		return nslab_err_set(err, errno, "bind the flow to its source address");
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		return nslab_err_set(err, errno, "connect");
	return take_local(fd, &t->spec, err);
}

static int hold_fd(struct fw_runner *r, int fd, nslab_error *err)
{
	int *h = reallocarray(r->held, r->n_held + 1, sizeof(*h));

	if (!h) {
		(void)close(fd);
		return nslab_err_set(err, ENOMEM, "flow sockets");
	}
	r->held = h;
	r->held[r->n_held++] = fd;
	return 0;
}

int fw_run_flow(struct fw_runner *r, const struct fw_test *test, size_t i, nslab_error *err)
{
	const struct fw_flow *f = &test->flows[i];
	bool bind_src = f->src.node || f->src.addr.family;
	_cleanup_close_ int fd = -1;
	struct fw_track *t;
	size_t from;
	int family, k;

	k = pick_family(r, f->proto, &f->src, &f->dst, f->loc, &family, err);
	if (k >= 0)
		k = sender_node(r, f->from, &f->src, f->loc, &from, err);
	if (k < 0)
		return k;
	t = track_new(r, err);
	if (!t)
		return -ENOMEM;
	t->is_flow = true;
	t->index = i;
	t->from = from;
	t->expect = i + 1 == test->n_flows ? &test->expect : NULL;
	t->spec.family = family;
	t->spec.proto = f->proto;
	t->spec.dport = (uint16_t)f->dport;
	k = endpoint_addr(r, &f->src, from, family, t->spec.src, err);
	if (k >= 0)
		k = endpoint_addr(r, &f->dst, r->env->topo->server_node, family, t->spec.dst, err);
	if (k >= 0)
		k = fw_io_socket(&r->env->topo->nodes[from], &r->env->io[from], family, f->proto,
				 f->sport > 0 && !bind_src ? f->sport : 0, &fd, err);
	if (k >= 0)
		k = flow_connect(t, fd, bind_src, f->sport, err);
	if (k < 0)
		return nslab_err_prefix(err, k, "%s:%u:%u: flow", r->suite->path, f->loc.line,
					f->loc.col);
	describe(t);
	k = fw_collect_flow(r, t, fd, f->send, f->send_len, err);
	/* open until the test ends: its conntrack entry stays as the connection left it */
	return k < 0 ? k : hold_fd(r, TAKE_FD(fd), err);
}

/* SPDX-License-Identifier: MIT */
/*
 * lab/labdns: the lab's DNS server (see labdns.h). Why not dnsmasq per lab:
 * a process per lab to start, watch and feed with every run-time change
 * (nslab dns, replug, default-via), where the supervisor already holds the
 * plan the answers come from; and ldns was already loaded lazily for jail's
 * DNS gate, so no new dependency.
 */
#include "lab/labdns.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/ldns-dl.h"
#include "lab/lab.h"
#include "lab/nat.h"
#include "lab/plan.h"
#include "ns/netns.h"
#include "shared/macro.h"

struct pending {
	uint16_t id_out, id_in; /* the id sent upstream, the client's own */
	int fd;			/* the listening socket the query came in on; -1: free */
	struct sockaddr_storage from;
	socklen_t fromlen;
};

struct labdns {
	const struct nslab_lab *lab;
	int fds[4]; /* listening on IPv4, IPv6; forwarding from IPv4, IPv6 */
	struct pending pend[LABDNS_PENDING];
	uint16_t next_id;
};

struct open_ctx {
	const struct nslab_prefix *a4, *a6;
	int *fds;
};

/* a as a socket address, port 53. */
static socklen_t sockaddr_of(const struct nslab_prefix *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		memcpy(&sin->sin_addr, a->addr, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(53);
	memcpy(&sin6->sin6_addr, a->addr, 16);
	return sizeof(*sin6);
}

/* A UDP socket on a's port 53 (listen), or an unbound one of a's family to forward from. */
static int open_one(const struct nslab_prefix *a, bool listen, int *ret_fd, nslab_error *err)
{
	_cleanup_close_ int fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(a, &ss);
	int one = 1;

	if (fd < 0)
		return nslab_err_set(err, errno, "lab DNS socket");
	if (listen && a->family == AF_INET) {
		/* the address is there already; freebind only spares a race with its setup */
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	} else if (listen) {
		/* with dad: true the IX address may still be tentative */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (listen && bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return nslab_err_set(err, errno, "lab DNS: bind port 53");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int open_in_root(void *data, nslab_error *err)
{
	struct open_ctx *c = data;
	int r = open_one(c->a4, true, &c->fds[0], err);

	if (r >= 0)
		r = open_one(c->a6, true, &c->fds[1], err);
	if (r >= 0)
		r = open_one(c->a4, false, &c->fds[2], err);
	if (r >= 0)
		r = open_one(c->a6, false, &c->fds[3], err);
	return r;
}

struct labdns *labdns_free(struct labdns *d)
{
	if (d) {
		for (size_t i = 0; i < ARRAY_SIZE(d->fds); i++)
			(void)close_fd(d->fds[i]);
		free(d);
	}
	return NULL;
}

const int *labdns_fds(const struct labdns *d)
{
	return d->fds;
}

int labdns_open(struct nslab_lab *lab, struct labdns **ret, nslab_error *err)
{
	const struct plan_node *root = &lab->plan->nodes[0];
	struct labdns *d = calloc(1, sizeof(*d));
	struct open_ctx c = { &root->down4, &root->down6, NULL };
	int r = d ? dl_ldns_load(err) : nslab_err_set(err, ENOMEM, "lab DNS");

	if (r < 0) {
		free(d);
		return r;
	}
	d->lab = lab;
	for (size_t i = 0; i < ARRAY_SIZE(d->fds); i++)
		d->fds[i] = -1;
	for (size_t i = 0; i < LABDNS_PENDING; i++)
		d->pend[i].fd = -1;
	c.fds = d->fds;
	r = netns_call(lab->nodes[0].ns->fd, open_in_root, &c, err);
	if (r < 0) {
		labdns_free(d);
		return nslab_err_prefix(err, r, "lab '%s'", lab->spec->name);
	}
	*ret = d;
	return 0;
}

/* The question's name without the root's dot, in buf; -1 if too long. */
static int question_name(const ldns_rr *q, char *buf, size_t len)
{
	_cleanup_free_ char *s = dl_ldns.ldns_rdf2str(dl_ldns.ldns_rr_owner(q));
	size_t n = s ? strlen(s) : 0;

	if (n && s[n - 1] == '.')
		s[--n] = '\0';
	if (!s || n >= len)
		return -1;
	memcpy(buf, s, n + 1);
	return 0;
}

static void push_address(ldns_pkt *r, const ldns_rr *q, const struct nslab_prefix *a)
{
	bool v4 = a->family == AF_INET;
	ldns_rr *rr = dl_ldns.ldns_rr_new();
	ldns_rdf *owner = dl_ldns.ldns_rdf_clone(dl_ldns.ldns_rr_owner(q));
	ldns_rdf *data = dl_ldns.ldns_rdf_new_frm_data(v4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
						       v4 ? 4 : 16, a->addr);

	if (!rr || !owner || !data) {
		if (rr)
			dl_ldns.ldns_rr_free(rr);
		if (owner)
			dl_ldns.ldns_rdf_deep_free(owner);
		if (data)
			dl_ldns.ldns_rdf_deep_free(data);
		return;
	}
	dl_ldns.ldns_rr_set_owner(rr, owner);
	dl_ldns.ldns_rr_set_type(rr, v4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA);
	dl_ldns.ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	dl_ldns.ldns_rr_set_ttl(rr, LABDNS_TTL);
	(void)dl_ldns.ldns_rr_push_rdf(rr, data);
	(void)dl_ldns.ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
}

#define LABDNS_FORWARD 0xff /* not an rcode: the name is dns_upstream's to answer */

/* RFC 6147 5.1.7 with the well-known prefix (RFC 6052): 64:ff9b::a.b.c.d */
static void push_synthesised(ldns_pkt *r, const ldns_rr *q, const struct nslab_prefix *a4)
{
	struct nslab_prefix a6 = { .family = AF_INET6, .len = 128 };

	a6.addr[1] = 0x64;
	a6.addr[2] = 0xff;
	a6.addr[3] = 0x9b;
	memcpy(a6.addr + 12, a4->addr, 4);
	push_address(r, q, &a6);
}

/* The answer section and rcode for the one question q. */
static uint8_t answer(const struct nslab_lab *lab, const ldns_rr *q, bool dns64, ldns_pkt *r)
{
	ldns_rr_type t = dl_ldns.ldns_rr_get_type(q);
	bool any = t == LDNS_RR_TYPE_ANY;
	struct nslab_prefix a;
	char name[256];
	int found = -ENOENT;

	if (dl_ldns.ldns_rr_get_class(q) != LDNS_RR_CLASS_IN ||
	    question_name(q, name, sizeof(name)) < 0)
		return LDNS_RCODE_REFUSED;
	if (any || t == LDNS_RR_TYPE_A) {
		found = lab_name_lookup(lab, name, AF_INET, &a);
		if (found > 0)
			push_address(r, q, &a);
	}
	if (any || t == LDNS_RR_TYPE_AAAA || found == -ENOENT) {
		int f6 = lab_name_lookup(lab, name, AF_INET6, &a);

		if (f6 > 0 && (any || t == LDNS_RR_TYPE_AAAA))
			push_address(r, q, &a);
		else if (f6 != -ENOENT && dns64 && t == LDNS_RR_TYPE_AAAA &&
			 lab_name_lookup(lab, name, AF_INET, &a) > 0)
			push_synthesised(r, q, &a); /* the name exists, IPv4 only */
		found = found > 0 ? found : f6;
	}
	if (found == -ENOENT && lab->spec->dns_upstream)
		return LABDNS_FORWARD;
	return found == -ENOENT ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR;
}

static uint8_t judge(const struct nslab_lab *lab, const ldns_pkt *in, bool dns64, ldns_pkt *r)
{
	if (dl_ldns.ldns_pkt_get_opcode(in) != LDNS_PACKET_QUERY)
		return LDNS_RCODE_NOTIMPL;
	if (dl_ldns.ldns_pkt_qdcount(in) != 1)
		return LDNS_RCODE_FORMERR;
	return answer(lab, dl_ldns.ldns_rr_list_rr(dl_ldns.ldns_pkt_question(in), 0), dns64, r);
}

int labdns_reply(const struct nslab_lab *lab, const uint8_t *q, size_t len, bool dns64,
		 uint8_t **ret, size_t *ret_len)
{
	ldns_pkt *in = NULL, *r;
	ldns_rr_list *qs;
	ldns_status st;
	uint8_t rcode;

	if (dl_ldns.ldns_wire2pkt(&in, q, len) != LDNS_STATUS_OK)
		return 0;
	if (dl_ldns.ldns_pkt_qr(in) || !(r = dl_ldns.ldns_pkt_new())) {
		dl_ldns.ldns_pkt_free(in);
		return 0;
	}
	dl_ldns.ldns_pkt_set_id(r, dl_ldns.ldns_pkt_id(in));
	dl_ldns.ldns_pkt_set_qr(r, true);
	dl_ldns.ldns_pkt_set_aa(r, true); /* the lab's names are its own: an authoritative answer */
	dl_ldns.ldns_pkt_set_rd(r, dl_ldns.ldns_pkt_rd(in));
	dl_ldns.ldns_pkt_set_opcode(r, dl_ldns.ldns_pkt_get_opcode(in));
	rcode = judge(lab, in, dns64, r);
	if (rcode == LABDNS_FORWARD) {
		dl_ldns.ldns_pkt_free(in);
		dl_ldns.ldns_pkt_free(r);
		return 2;
	}
	dl_ldns.ldns_pkt_set_rcode(r, rcode);
	qs = dl_ldns.ldns_pkt_question(in);
	for (size_t i = 0; qs && i < dl_ldns.ldns_rr_list_rr_count(qs) && i < 1; i++)
		(void)dl_ldns.ldns_pkt_push_rr(
			r, LDNS_SECTION_QUESTION,
			dl_ldns.ldns_rr_clone(dl_ldns.ldns_rr_list_rr(qs, i)));
	dl_ldns.ldns_pkt_free(in);
	st = dl_ldns.ldns_pkt2wire(ret, r, ret_len);
	dl_ldns.ldns_pkt_free(r);
	return st == LDNS_STATUS_OK ? 1 : 0;
}

static bool in_net(const struct nslab_prefix *net, const uint8_t *a)
{
	unsigned bits = net->len, whole = bits / 8;

	if (net->family != AF_INET6 || memcmp(net->addr, a, whole) != 0)
		return false;
	return bits % 8 == 0 || ((net->addr[whole] ^ a[whole]) & (0xff00u >> (bits % 8))) == 0;
}

/* The router whose downstream holds @a, or 0 (the lab root: not behind any router). */
static size_t router_of(const struct lab_plan *plan, const uint8_t *a)
{
	for (size_t i = 1; i < plan->n_nodes; i++)
		if (plan->nodes[i].kind == PLAN_ROUTER && in_net(&plan->nodes[i].down6, a))
			return i;
	return 0;
}

bool labdns_wants_dns64(const struct nslab_lab *lab, const struct sockaddr_storage *from)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;
	size_t i;

	if (lab->spec->dns64)
		return true;
	if (from->ss_family != AF_INET6)
		return false;
	/* up the tree from the client's router: any NAT64 on the way translates for it */
	for (i = router_of(lab->plan, s6->sin6_addr.s6_addr); i > 0;
	     i = lab->plan->nodes[i].ifaces[0].up_node) {
		const struct plan_node *pn = &lab->plan->nodes[i];

		if (pn->kind == PLAN_ROUTER && pn->n_ifaces > 0 &&
		    lab->spec->routers[pn->spec_index].nat6 == NAT6_NAT64)
			return true;
		if (pn->n_ifaces == 0)
			break;
	}
	return false;
}

/* dns_upstream's address (port 53), of family fam if it has one, else of the other. */
static int upstream_addr(const struct labdns *d, int fam, struct sockaddr_storage *ss,
			 socklen_t *sl)
{
	const char *up = d->lab->spec->dns_upstream;
	struct nslab_prefix a;

	if (!up || (lab_target_addr(d->lab, up, fam, &a) < 0 &&
		    lab_target_addr(d->lab, up, fam == AF_INET ? AF_INET6 : AF_INET, &a) < 0))
		return -ENOENT;
	*sl = sockaddr_of(&a, ss);
	return 0;
}

/* The query q (from a client on listening socket fd) sent upstream under an id of ours. */
static void forward(struct labdns *d, int fd, uint8_t *q, size_t len,
		    const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct sockaddr_storage up;
	socklen_t uplen;
	struct pending *p;
	uint16_t id = d->next_id++;

	if (len < 12 || upstream_addr(d, fd == d->fds[0] ? AF_INET : AF_INET6, &up, &uplen) < 0)
		return;
	p = &d->pend[id % LABDNS_PENDING]; /* the oldest, answered or not */
	*p = (struct pending){ .id_out = id,
			       .id_in = (uint16_t)(q[0] << 8 | q[1]),
			       .fd = fd,
			       .from = *from,
			       .fromlen = fromlen };
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	if (sendto(up.ss_family == AF_INET ? d->fds[2] : d->fds[3], q, len, 0,
		   (struct sockaddr *)&up, uplen) < 0)
		p->fd = -1;
}

/* An answer from upstream: back to its client under the client's id. */
static void pass_back(struct labdns *d, uint8_t *a, size_t len)
{
	uint16_t id = len >= 12 ? (uint16_t)(a[0] << 8 | a[1]) : 0;
	struct pending *p = &d->pend[id % LABDNS_PENDING];

	if (len < 12 || p->fd < 0 || p->id_out != id)
		return;
	a[0] = (uint8_t)(p->id_in >> 8);
	a[1] = (uint8_t)p->id_in;
	(void)sendto(p->fd, a, len, 0, (struct sockaddr *)&p->from, p->fromlen);
	p->fd = -1;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a,
				 *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a,
				  *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && memcmp(&a4->sin_addr, &b4->sin_addr, 4) == 0;
	return a6->sin6_port == b6->sin6_port && memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* One datagram read from fd: a client's query, or an upstream's answer. */
static void handle(struct labdns *d, int fd, uint8_t *buf, size_t n,
		   const struct sockaddr_storage *from, socklen_t fromlen)
{
	_cleanup_free_ uint8_t *out = NULL;
	struct sockaddr_storage up;
	socklen_t uplen;
	size_t out_len = 0;
	int r;

	if (fd == d->fds[2] || fd == d->fds[3]) {
		/* only the upstream's own answers: anyone may send to an unbound socket */
		if (upstream_addr(d, fd == d->fds[2] ? AF_INET : AF_INET6, &up, &uplen) == 0 &&
		    same_addr(&up, from))
			pass_back(d, buf, n);
		return;
	}
	r = labdns_reply(d->lab, buf, n, labdns_wants_dns64(d->lab, from), &out, &out_len);
	if (r == 2)
		forward(d, fd, buf, n, from, fromlen);
	else if (r == 1 && sendto(fd, out, out_len, 0, (const struct sockaddr *)from, fromlen) < 0)
		log_debugf(&d->lab->log, "lab DNS: send: %s", strerror(errno));
}

int labdns_on_readable(struct labdns *d, int fd, nslab_error *err)
{
	uint8_t buf[1500]; /* one datagram of the IX's MTU */

	for (unsigned i = 0; i < LABDNS_ANSWERS_MAX; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);

		if (n < 0)
			return errno == EAGAIN ? 0 : nslab_err_set(err, errno, "lab DNS: read");
		handle(d, fd, buf, (size_t)n, &from, fromlen);
	}
	return 0;
}

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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/ldns-dl.h"
#include "lab/lab.h"
#include "ns/netns.h"
#include "shared/macro.h"

struct open_ctx {
	const struct nslab_prefix *a4, *a6;
	int fds[2];
};

static int bind_one(const struct nslab_prefix *a, int *ret_fd, nslab_error *err)
{
	_cleanup_close_ int fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1;

	if (fd < 0)
		return nslab_err_set(err, errno, "lab DNS socket");
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		memcpy(&sin->sin_addr, a->addr, 4);
		sl = sizeof(*sin);
		/* the address is there already; freebind only spares a race with its setup */
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		sl = sizeof(*sin6);
		/* with dad: true the IX address may still be tentative */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return nslab_err_set(err, errno, "lab DNS: bind port 53");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int open_in_root(void *data, nslab_error *err)
{
	struct open_ctx *c = data;
	int r = bind_one(c->a4, &c->fds[0], err);

	if (r >= 0)
		r = bind_one(c->a6, &c->fds[1], err);
	if (r < 0)
		c->fds[0] = close_fd(c->fds[0]);
	return r;
}

int labdns_open(struct nslab_lab *lab, int fds[2], nslab_error *err)
{
	const struct plan_node *root = &lab->plan->nodes[0];
	struct open_ctx c = { &root->down4, &root->down6, { -1, -1 } };
	int r = dl_ldns_load(err);

	if (r >= 0)
		r = netns_call(lab->nodes[0].ns->fd, open_in_root, &c, err);
	if (r < 0)
		return nslab_err_prefix(err, r, "lab '%s'", lab->spec->name);
	fds[0] = c.fds[0];
	fds[1] = c.fds[1];
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

/* The answer section and rcode for the one question q. */
static uint8_t answer(const struct nslab_lab *lab, const ldns_rr *q, ldns_pkt *r)
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
		found = found > 0 ? found : f6;
	}
	return found == -ENOENT ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR;
}

static uint8_t judge(const struct nslab_lab *lab, const ldns_pkt *in, ldns_pkt *r)
{
	if (dl_ldns.ldns_pkt_get_opcode(in) != LDNS_PACKET_QUERY)
		return LDNS_RCODE_NOTIMPL;
	if (dl_ldns.ldns_pkt_qdcount(in) != 1)
		return LDNS_RCODE_FORMERR;
	return answer(lab, dl_ldns.ldns_rr_list_rr(dl_ldns.ldns_pkt_question(in), 0), r);
}

int labdns_reply(const struct nslab_lab *lab, const uint8_t *q, size_t len, uint8_t **ret,
		 size_t *ret_len)
{
	ldns_pkt *in = NULL, *r;
	ldns_rr_list *qs;
	ldns_status st;

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
	dl_ldns.ldns_pkt_set_rcode(r, judge(lab, in, r));
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

int labdns_answer(const struct nslab_lab *lab, int fd, nslab_error *err)
{
	uint8_t buf[1500]; /* one datagram of the IX's MTU */

	for (unsigned i = 0; i < LABDNS_ANSWERS_MAX; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		_cleanup_free_ uint8_t *out = NULL;
		size_t out_len = 0;

		if (n < 0)
			return errno == EAGAIN ? 0 : nslab_err_set(err, errno, "lab DNS: read");
		if (labdns_reply(lab, buf, (size_t)n, &out, &out_len) == 1 &&
		    sendto(fd, out, out_len, 0, (struct sockaddr *)&from, fromlen) < 0)
			log_debugf(&lab->log, "lab DNS: send: %s", strerror(errno));
	}
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * jail/egress-dns: the DNS gate, a thread of the owner answering the jail at
 * the gateway's address (UDP and TCP port 53).
 *
 * DOC: one query
 *   1. parse it with ldns (one question, opcode QUERY; else FORMERR/NOTIMP)
 *   2. a name no rule allows is answered REFUSED (or NXDOMAIN) at once and
 *      never leaves: DNS cannot carry data out through names
 *   3. an allowed name is asked of the upstream in a query of the gate's
 *      own (forward_clean(): the question only, lower case, a fresh ID),
 *      from a socket in the owner's namespace (UDP, or TCP for a TCP query)
 *   4. the answer is parsed: the CNAME chain from the question is followed,
 *      and its last name must be allowed too (else REFUSED, nothing added)
 *   5. every A/AAAA of the chain goes to the gateway's sets, with the rules
 *      that allowed the question's name, for TTL + grace seconds; only then
 *      is the answer passed on (a client never holds an address the
 *      gateway does not know yet). A failed set update is a SERVFAIL.
 * The thread is part of the owner: if the owner dies, pasta dies with it,
 * the gateway with pasta, and the jail has no route left.
 */
#include "jail/egress-dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/ldns-dl.h"
#include "shared/macro.h"

#define DNS_MSG_MAX	  65535
#define DNS_UPSTREAM_MS	  3000 /* an upstream that does not answer in time: SERVFAIL */
#define DNS_CNAME_MAX	  16   /* links of a CNAME chain followed */
#define DNS_TCP_CLIENT_MS 3000 /* a TCP client that does not send its query in time is dropped */

struct egress_dns {
	const struct egress_policy *p; /* borrowed */
	struct egress_gw *gw;	       /* borrowed */
	struct sockaddr_storage up;
	socklen_t up_len;
	int udp_fd, tcp_fd, stop_fd;
	pthread_t thread;
	bool started;
	egress_dns_log_fn log;
	void *log_data;
	egress_dns_ask_fn ask; /* --interactive: names no rule allows are asked */
	void *ask_data;
	uint8_t buf[DNS_MSG_MAX], ans[DNS_MSG_MAX];
};

/* --- answers of our own ------------------------------------------------------ */

/* A reply to query q with rcode and no records, in wire form. */
static int reply_rcode(const ldns_pkt *q, uint8_t rcode, uint8_t **ret, size_t *ret_len)
{
	ldns_pkt *r = dl_ldns.ldns_pkt_new();
	ldns_rr_list *qs = dl_ldns.ldns_pkt_question(q);
	ldns_status st;

	if (!r)
		return -ENOMEM;
	dl_ldns.ldns_pkt_set_id(r, dl_ldns.ldns_pkt_id(q));
	dl_ldns.ldns_pkt_set_qr(r, true);
	dl_ldns.ldns_pkt_set_rd(r, dl_ldns.ldns_pkt_rd(q));
	dl_ldns.ldns_pkt_set_ra(r, true);
	dl_ldns.ldns_pkt_set_opcode(r, dl_ldns.ldns_pkt_get_opcode(q));
	dl_ldns.ldns_pkt_set_rcode(r, rcode);
	for (size_t i = 0; qs && i < dl_ldns.ldns_rr_list_rr_count(qs); i++)
		(void)dl_ldns.ldns_pkt_push_rr(
			r, LDNS_SECTION_QUESTION,
			dl_ldns.ldns_rr_clone(dl_ldns.ldns_rr_list_rr(qs, i)));
	st = dl_ldns.ldns_pkt2wire(ret, r, ret_len);
	dl_ldns.ldns_pkt_free(r);
	return st == LDNS_STATUS_OK ? 0 : -ENOMEM;
}

/* A name of a record (owner or rdata) canonical, into buf; -EINVAL if it is not a host name. */
static int rdf_name(const ldns_rdf *d, char *buf, size_t len)
{
	_cleanup_free_ char *s = d ? dl_ldns.ldns_rdf2str(d) : NULL;

	if (!s)
		return -EINVAL;
	if (strcmp(s, ".") == 0)
		return -EINVAL;
	return egress_name_canon(s, strlen(s), buf, len);
}

/* Whether a rule allows name (every name under --analyse; a DoH endpoint only by its own name). */
static bool name_allowed(const struct egress_policy *p, const char *name)
{
	bool doh = egress_name_doh(name);

	if (p->analyse)
		return true;
	for (size_t i = 0; i < p->allow.n; i++)
		if (egress_name_match(&p->allow.v[i], name) &&
		    (!doh || p->allow.v[i].kind == EGRESS_NAME))
			return true;
	return false;
}

/* --- the answer: CNAME chain, addresses to the sets ------------------------------ */

/* The chain from qname through the answer's CNAMEs: names[0] = qname, *n names. */
static void follow_chain(const ldns_rr_list *an, char names[][EGRESS_NAME_MAX + 1], size_t *n)
{
	bool moved = true;

	while (moved && *n < DNS_CNAME_MAX) {
		moved = false;
		for (size_t i = 0; an && i < dl_ldns.ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = dl_ldns.ldns_rr_list_rr(an, i);
			char owner[EGRESS_NAME_MAX + 1];

			if (dl_ldns.ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    rdf_name(dl_ldns.ldns_rr_owner(rr), owner, sizeof(owner)) < 0 ||
			    strcmp(owner, names[*n - 1]) != 0 ||
			    rdf_name(dl_ldns.ldns_rr_rdf(rr, 0), names[*n], sizeof(names[*n])) < 0)
				continue;
			(*n)++;
			moved = true;
			break;
		}
	}
}

static bool in_chain(const char names[][EGRESS_NAME_MAX + 1], size_t n, const ldns_rr *rr)
{
	char owner[EGRESS_NAME_MAX + 1];

	if (rdf_name(dl_ldns.ldns_rr_owner(rr), owner, sizeof(owner)) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(owner, names[i]) == 0)
			return true;
	return false;
}

/* The address of an A or AAAA record; false for anything else. */
static bool rr_address(const ldns_rr *rr, bool ipv6, struct nslab_prefix *ret)
{
	const ldns_rdf *d = dl_ldns.ldns_rr_rd_count(rr) == 1 ? dl_ldns.ldns_rr_rdf(rr, 0) : NULL;
	ldns_rr_type t = dl_ldns.ldns_rr_get_type(rr);

	memset(ret, 0, sizeof(*ret));
	if (d && t == LDNS_RR_TYPE_A && dl_ldns.ldns_rdf_size(d) == 4) {
		ret->family = AF_INET;
		ret->len = 32;
	} else if (d && t == LDNS_RR_TYPE_AAAA && ipv6 && dl_ldns.ldns_rdf_size(d) == 16) {
		ret->family = AF_INET6;
		ret->len = 128;
	} else {
		return false;
	}
	memcpy(ret->addr, dl_ldns.ldns_rdf_data(d), dl_ldns.ldns_rdf_size(d));
	return true;
}

/*
 * nft commands for every address of the chain, for each rule allowing qname
 * (none under --analyse); for a name approved by asking, any port of each.
 */
static size_t answer_cmds(const struct egress_policy *p, const char *qname, bool approved,
			  const ldns_rr_list *an, const char names[][EGRESS_NAME_MAX + 1], size_t n,
			  FILE *f, struct nslab_prefix addrs[EGRESS_DNS_ADDRS],
			  uint32_t ttls[EGRESS_DNS_ADDRS])
{
	const struct egress_rule any = { .kind = EGRESS_NAME };
	size_t count = 0;

	for (size_t i = 0; an && i < dl_ldns.ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = dl_ldns.ldns_rr_list_rr(an, i);
		struct nslab_prefix a;

		if (!rr_address(rr, p->ipv6, &a) || !in_chain(names, n, rr))
			continue;
		for (size_t k = 0; k < p->allow.n && !p->analyse; k++)
			if (egress_name_match(&p->allow.v[k], qname))
				egress_elements(&p->allow.v[k], &a,
						(uint64_t)dl_ldns.ldns_rr_ttl(rr) + p->ttl_grace,
						f);
		if (approved)
			egress_elements(&any, &a, (uint64_t)dl_ldns.ldns_rr_ttl(rr) + p->ttl_grace,
					f);
		if (count < EGRESS_DNS_ADDRS) {
			addrs[count] = a;
			ttls[count] = dl_ldns.ldns_rr_ttl(rr);
		}
		count++;
	}
	return count;
}

/* approved: qname was approved by asking, which covers its CNAME chain too */
static int judge_answer(const struct egress_policy *p, const char *qname, bool approved,
			const uint8_t *ans, size_t len, struct egress_dns_judgement *ret)
{
	char names[DNS_CNAME_MAX + 1][EGRESS_NAME_MAX + 1];
	char *cmds = NULL;
	size_t n = 1, clen = 0;
	ldns_pkt *a = NULL;
	FILE *f;

	*ret = (struct egress_dns_judgement){ 0 };
	if (dl_ldns_load(NULL) < 0)
		return -ENOSYS;
	if (dl_ldns.ldns_wire2pkt(&a, ans, len) != LDNS_STATUS_OK)
		return -EPROTO;
	snprintf(names[0], sizeof(names[0]), "%s", qname);
	follow_chain(dl_ldns.ldns_pkt_answer(a), names, &n);
	snprintf(ret->final, sizeof(ret->final), "%s", names[n - 1]);
	if (!approved && !name_allowed(p, names[n - 1])) {
		dl_ldns.ldns_pkt_free(a);
		return -EACCES;
	}
	f = open_memstream(&cmds, &clen);
	if (!f) {
		dl_ldns.ldns_pkt_free(a);
		return -ENOMEM;
	}
	ret->n_addr = answer_cmds(p, qname, approved, dl_ldns.ldns_pkt_answer(a),
				  (const char(*)[EGRESS_NAME_MAX + 1]) names, n, f, ret->addrs,
				  ret->ttls);
	dl_ldns.ldns_pkt_free(a);
	if (fclose(f) != 0) {
		free(cmds);
		return -ENOMEM;
	}
	if (clen)
		ret->cmds = cmds;
	else
		free(cmds);
	return 0;
}

int egress_dns_judge_answer(const struct egress_policy *p, const char *qname, const uint8_t *ans,
			    size_t len, struct egress_dns_judgement *ret)
{
	return judge_answer(p, qname, false, ans, len, ret);
}

int egress_dns_judge_query(const struct egress_policy *p, const uint8_t *q, size_t len,
			   char qname[EGRESS_NAME_MAX + 1], uint8_t *ret_rcode)
{
	ldns_pkt *pkt = NULL;
	const ldns_rr *question;
	int r = 1;

	if (dl_ldns_load(NULL) < 0)
		return -ENOSYS;
	if (dl_ldns.ldns_wire2pkt(&pkt, q, len) != LDNS_STATUS_OK)
		return -EPROTO;
	snprintf(qname, EGRESS_NAME_MAX + 1, "?");
	if (dl_ldns.ldns_pkt_qr(pkt) || dl_ldns.ldns_pkt_qdcount(pkt) != 1) {
		*ret_rcode = LDNS_RCODE_FORMERR;
		r = 0;
	} else if (dl_ldns.ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) {
		*ret_rcode = LDNS_RCODE_NOTIMPL;
		r = 0;
	} else {
		question = dl_ldns.ldns_rr_list_rr(dl_ldns.ldns_pkt_question(pkt), 0);
		if (rdf_name(dl_ldns.ldns_rr_owner(question), qname, EGRESS_NAME_MAX + 1) < 0 ||
		    !name_allowed(p, qname)) {
			*ret_rcode = p->dns_nxdomain ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_REFUSED;
			r = 0;
		}
	}
	dl_ldns.ldns_pkt_free(pkt);
	return r;
}

/* --- upstream -------------------------------------------------------------------- */

static int upstream_udp(struct egress_dns *d, const uint8_t *q, size_t qlen, size_t *ret_len)
{
	_cleanup_close_ int fd = socket(d->up.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (fd < 0 || connect(fd, (struct sockaddr *)&d->up, d->up_len) < 0 ||
	    send(fd, q, qlen, 0) != (ssize_t)qlen)
		return -errno;
	while (poll(&pfd, 1, DNS_UPSTREAM_MS) > 0) {
		n = recv(fd, d->ans, sizeof(d->ans), 0);
		if (n < 0)
			return -errno;
		/* the same ID, or a stray datagram: wait for the next */
		if (n >= 12 && memcmp(d->ans, q, 2) == 0) {
			*ret_len = (size_t)n;
			return 0;
		}
	}
	return -ETIMEDOUT;
}

/* Read or write exactly len bytes within the deadline of ms. */
static int full_io(int fd, void *buf, size_t len, bool wr, int ms)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd pfd = { .fd = fd, .events = wr ? POLLOUT : POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, ms) <= 0)
			return -ETIMEDOUT;
		n = wr ? send(fd, (uint8_t *)buf + done, len - done, MSG_NOSIGNAL)
		       : recv(fd, (uint8_t *)buf + done, len - done, 0);
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		done += (size_t)n;
	}
	return 0;
}

static int upstream_tcp(struct egress_dns *d, const uint8_t *q, size_t qlen, size_t *ret_len)
{
	_cleanup_close_ int fd = socket(d->up.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint8_t hdr[2] = { (uint8_t)(qlen >> 8), (uint8_t)qlen };
	size_t n;
	int r;

	if (fd < 0 || connect(fd, (struct sockaddr *)&d->up, d->up_len) < 0)
		return -errno;
	r = full_io(fd, hdr, 2, true, DNS_UPSTREAM_MS);
	if (r >= 0)
		r = full_io(fd, (void *)q, qlen, true, DNS_UPSTREAM_MS);
	if (r >= 0)
		r = full_io(fd, hdr, 2, false, DNS_UPSTREAM_MS);
	n = (size_t)hdr[0] << 8 | hdr[1];
	if (r >= 0 && n < 12)
		r = -EPROTO;
	if (r >= 0)
		r = full_io(fd, d->ans, n, false, DNS_UPSTREAM_MS);
	if (r < 0)
		return r;
	*ret_len = n;
	return 0;
}

/* --- one query ------------------------------------------------------------------ */

static void log_query(struct egress_dns *d, const char *name, const char *type, const char *verdict,
		      size_t n_addr)
{
	if (d->log)
		d->log(d->log_data, name, type, verdict, n_addr, NULL, NULL);
}

/*
 * Steps 3 to 5 for an allowed name; ret is the answer's wire form (d->ans or
 * malloc'd). approved: the verdict of asking ("ALLOWED (asked)"), or NULL
 * for a name a rule allows.
 */
static uint8_t forward(struct egress_dns *d, const char *qname, const char *type, const uint8_t *q,
		       size_t qlen, bool tcp, const char *approved, size_t *ret_len)
{
	struct egress_dns_judgement j;
	nslab_error err;
	int r = tcp ? upstream_tcp(d, q, qlen, ret_len) : upstream_udp(d, q, qlen, ret_len);

	if (r >= 0)
		r = judge_answer(d->p, qname, approved != NULL, d->ans, *ret_len, &j);
	if (r == -EACCES) {
		log_query(d, j.final, type, "BLOCKED (CNAME target)", 0);
		return d->p->dns_nxdomain ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_REFUSED;
	}
	if (r < 0) {
		log_query(d, qname, type, "SERVFAIL (upstream)", 0);
		return LDNS_RCODE_SERVFAIL;
	}
	r = j.cmds ? egress_gw_nft(d->gw, j.cmds, &err) : 0;
	free(j.cmds);
	if (r < 0) {
		log_query(d, qname, type, "SERVFAIL (gateway set)", 0);
		return LDNS_RCODE_SERVFAIL;
	}
	if (d->log)
		d->log(d->log_data, qname, type, approved ? approved : "ALLOWED", j.n_addr,
		       j.n_addr ? j.addrs : NULL, j.n_addr ? j.ttls : NULL);
	return LDNS_RCODE_NOERROR;
}

/*
 * The query the upstream sees: the question alone, its name in lower case,
 * a fresh ID, recursion desired, EDNS only as a buffer size. Nothing else the
 * client sent leaves: not its ID, not the case of its name's letters (0x20),
 * not EDNS options or records in other sections, each a channel out.
 */
static uint8_t forward_clean(struct egress_dns *d, const ldns_pkt *in, const char *qname,
			     const char *type, bool tcp, const char *approved, size_t *ret_len)
{
	const ldns_rr *q = dl_ldns.ldns_rr_list_rr(dl_ldns.ldns_pkt_question(in), 0);
	ldns_rdf *name = dl_ldns.ldns_dname_new_frm_str(qname);
	ldns_pkt *p = name ? dl_ldns.ldns_pkt_query_new(name, dl_ldns.ldns_rr_get_type(q),
							dl_ldns.ldns_rr_get_class(q), LDNS_RD)
			   : NULL;
	uint8_t *wire = NULL, rcode;
	size_t len = 0;

	if (!p) {
		dl_ldns.ldns_rdf_deep_free(name);
		return LDNS_RCODE_SERVFAIL;
	}
	dl_ldns.ldns_pkt_set_id(p, dl_ldns.ldns_get_random());
	if (dl_ldns.ldns_pkt_edns(in))
		dl_ldns.ldns_pkt_set_edns_udp_size(p, 1232);
	if (dl_ldns.ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK) {
		dl_ldns.ldns_pkt_free(p);
		return LDNS_RCODE_SERVFAIL;
	}
	dl_ldns.ldns_pkt_free(p);
	rcode = forward(d, qname, type, wire, len, tcp, approved, ret_len);
	free(wire);
	return rcode;
}

static void type_name(const ldns_rr *rr, char *buf, size_t len)
{
	_cleanup_free_ char *t = dl_ldns.ldns_rr_type2str(dl_ldns.ldns_rr_get_type(rr));

	snprintf(buf, len, "%s", t ? t : "?");
}

/*
 * --interactive: a name no rule allows is held until the asker decides (the
 * client waits, or retries the same question: asked again, or remembered).
 * Return: 1 forward (*verdict says how it was approved), 0 refuse (*verdict: why)
 */
static int ask_asker(struct egress_dns *d, const char *qname, const char *type,
		     const char **verdict)
{
	char canon[EGRESS_NAME_MAX + 1];

	/* a question that is no host name is never asked about */
	if (!d->ask || egress_name_canon(qname, strlen(qname), canon, sizeof(canon)) < 0)
		return 0;
	return d->ask(d->ask_data, canon, type, verdict) ? 1 : 0;
}

/*
 * Answer query q: *ret points at the answer (d->ans, or *ret_free when made
 * here, for the caller to free). Return: 0, or -1 when there is nothing to say
 * (not even a header to answer).
 */
static int handle(struct egress_dns *d, const uint8_t *q, size_t qlen, bool tcp,
		  const uint8_t **ret, size_t *ret_len, uint8_t **ret_free)
{
	ldns_pkt *pkt = NULL;
	char qname[EGRESS_NAME_MAX + 1] = "?", type[16] = "?";
	const char *verdict = "BLOCKED", *approved = NULL;
	uint8_t rcode = LDNS_RCODE_FORMERR;
	int v = egress_dns_judge_query(d->p, q, qlen, qname, &rcode);
	int r;

	*ret_free = NULL;
	if (v < 0 || dl_ldns.ldns_wire2pkt(&pkt, q, qlen) != LDNS_STATUS_OK)
		return -1;
	if (dl_ldns.ldns_pkt_qdcount(pkt) == 1 &&
	    dl_ldns.ldns_rr_list_rr(dl_ldns.ldns_pkt_question(pkt), 0))
		type_name(dl_ldns.ldns_rr_list_rr(dl_ldns.ldns_pkt_question(pkt), 0), type,
			  sizeof(type));
	if (v == 0 && (rcode == LDNS_RCODE_REFUSED || rcode == LDNS_RCODE_NXDOMAIN)) {
		v = ask_asker(d, qname, type, &verdict);
		if (v == 1)
			approved = verdict;
		else
			log_query(d, qname, type, verdict, 0);
	}
	if (v == 1) {
		rcode = forward_clean(d, pkt, qname, type, tcp, approved, ret_len);
		if (rcode == LDNS_RCODE_NOERROR) {
			/* the answer to our query, under the client's ID */
			memcpy(d->ans, q, 2);
			dl_ldns.ldns_pkt_free(pkt);
			*ret = d->ans;
			return 0;
		}
	}
	r = reply_rcode(pkt, rcode, ret_free, ret_len);
	dl_ldns.ldns_pkt_free(pkt);
	*ret = *ret_free;
	return r < 0 ? -1 : 0;
}

/* --- the thread ----------------------------------------------------------------- */

static void serve_udp(struct egress_dns *d)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	_cleanup_free_ uint8_t *made = NULL;
	const uint8_t *ans;
	size_t alen = 0;
	uint8_t q[4096];
	ssize_t n =
		recvfrom(d->udp_fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);

	if (n <= 0 || handle(d, q, (size_t)n, false, &ans, &alen, &made) < 0)
		return;
	/* a UDP answer larger than the client's 512 bytes: ldns-built REFUSED never is */
	(void)sendto(d->udp_fd, ans, alen, MSG_DONTWAIT, (struct sockaddr *)&from, flen);
}

static void serve_tcp(struct egress_dns *d)
{
	_cleanup_close_ int fd = accept4(d->tcp_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	_cleanup_free_ uint8_t *made = NULL;
	const uint8_t *ans;
	uint8_t hdr[2];
	size_t qlen, alen = 0;

	if (fd < 0 || full_io(fd, hdr, 2, false, DNS_TCP_CLIENT_MS) < 0)
		return;
	qlen = (size_t)hdr[0] << 8 | hdr[1];
	if (qlen < 12 || full_io(fd, d->buf, qlen, false, DNS_TCP_CLIENT_MS) < 0)
		return;
	if (handle(d, d->buf, qlen, true, &ans, &alen, &made) < 0)
		return;
	hdr[0] = (uint8_t)(alen >> 8);
	hdr[1] = (uint8_t)alen;
	if (full_io(fd, hdr, 2, true, DNS_TCP_CLIENT_MS) == 0)
		(void)full_io(fd, (void *)ans, alen, true, DNS_TCP_CLIENT_MS);
}

static void *gate_thread(void *arg)
{
	struct egress_dns *d = arg;
	struct pollfd pfd[3] = { { .fd = d->stop_fd, .events = POLLIN },
				 { .fd = d->udp_fd, .events = POLLIN },
				 { .fd = d->tcp_fd, .events = POLLIN } };

	for (;;) {
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			serve_udp(d);
		if (pfd[2].revents & POLLIN)
			serve_tcp(d);
	}
	return NULL;
}

/* The listening sockets, made on a thread inside the gateway. */
static int listen_thread(void *data, nslab_error *err)
{
	struct egress_dns *d = data;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	int one = 1;

	(void)inet_pton(AF_INET, EGRESS_GW_ADDR4, &sa.sin_addr);
	d->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->udp_fd < 0 || bind(d->udp_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return nslab_err_set(err, errno, "DNS gate: UDP %s:53", EGRESS_GW_ADDR4);
	d->tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->tcp_fd < 0 ||
	    setsockopt(d->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(d->tcp_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(d->tcp_fd, 16) < 0)
		return nslab_err_set(err, errno, "DNS gate: TCP %s:53", EGRESS_GW_ADDR4);
	return 0;
}

int egress_dns_upstream(const struct egress_policy *p, struct nslab_prefix *ret, nslab_error *err)
{
	struct nslab_prefix a = p->upstream;
	char line[256], *val, *save = NULL;
	FILE *f;

	if (!prefix_is_set(&a)) {
		f = fopen("/etc/resolv.conf", "re");
		if (!f)
			return nslab_err_set(
				err, errno,
				"DNS upstream: /etc/resolv.conf (or give --dns-upstream)");
		while (!prefix_is_set(&a) && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "nameserver", 10) != 0)
				continue;
			val = strtok_r(line + 10, " \t\r\n", &save);
			if (val)
				(void)prefix_parse(val, false, &a, NULL);
		}
		fclose(f);
		if (!prefix_is_set(&a))
			return nslab_err_setx(
				err, ENOENT,
				"DNS upstream: no nameserver in /etc/resolv.conf (give "
				"--dns-upstream IP)");
	}
	*ret = a;
	return 0;
}

/* The upstream as a socket address (egress_dns_upstream()). */
static int upstream_addr(const struct egress_policy *p, struct sockaddr_storage *ss, socklen_t *len,
			 nslab_error *err)
{
	struct nslab_prefix a;
	int r = egress_dns_upstream(p, &a, err);

	if (r < 0)
		return r;
	memset(ss, 0, sizeof(*ss));
	if (a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		memcpy(&s4->sin_addr, a.addr, 4);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		memcpy(&s6->sin6_addr, a.addr, 16);
		*len = sizeof(*s6);
	}
	return 0;
}

int egress_dns_start(const struct egress_policy *p, struct egress_gw *gw, egress_dns_log_fn log,
		     egress_dns_ask_fn ask, void *data, struct egress_dns **ret, nslab_error *err)
{
	_cleanup_(egress_dns_freep) struct egress_dns *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return nslab_err_set(err, ENOMEM, "DNS gate");
	r = dl_ldns_load(err);
	if (r < 0)
		return r;
	d->p = p;
	d->gw = gw;
	d->log = log;
	d->log_data = data;
	d->ask = ask;
	d->ask_data = data;
	d->udp_fd = d->tcp_fd = -1;
	d->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (d->stop_fd < 0)
		return nslab_err_set(err, errno, "DNS gate: eventfd");
	r = upstream_addr(p, &d->up, &d->up_len, err);
	if (r < 0)
		return r;
	r = netns_call(gw->gw->fd, listen_thread, d, err);
	if (r < 0)
		return r;
	r = pthread_create(&d->thread, NULL, gate_thread, d);
	if (r != 0)
		return nslab_err_set(err, r, "DNS gate: thread");
	d->started = true;
	*ret = TAKE_PTR(d);
	return 0;
}

struct egress_dns *egress_dns_free(struct egress_dns *d)
{
	uint64_t one = 1;

	if (!d)
		return NULL;
	if (d->started) {
		(void)!write(d->stop_fd, &one, sizeof(one));
		(void)pthread_join(d->thread, NULL);
	}
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	if (d->tcp_fd >= 0)
		close(d->tcp_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	free(d);
	return NULL;
}

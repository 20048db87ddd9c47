// SPDX-License-Identifier: MIT
/* jail/egress: the public egress API (nslab/egress.h) over the policy, the gateway and the DNS gate. */
#include "nslab/egress.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jail/egress-dns.h"
#include "jail/egress-gw.h"
#include "jail/egress-nflog.h"
#include "core/json.h"
#include "jail/egress-relay.h"
#include "jail/egress.h"
#include "nl/ct.h"
#include "pkt/pcapng.h"
#include "shared/macro.h"

#define EGRESS_TTL_GRACE_DEFAULT 60

#define CAPTURE_RCVBUF (4u << 20) /* a burst of the jail's packets waits here for the writer */

struct nslab_egress {
	struct egress_policy p;
	nslab_egress_event_func fn;
	void *fn_data;
	nslab_egress_ask_func ask;
	void *ask_data;
	nslab_egress_connection_func conn_fn; /* live connection events, or NULL */
	void *conn_data;
	int capture_fd; /* -1: no capture */
};

/* Which name an address was last resolved from (the DNS gate's answers). */
struct resolved {
	char addr[PREFIX_STRLEN];
	char name[EGRESS_NAME_MAX + 1];
};

#define RESOLVED_MAX 1024 /* the oldest is forgotten past this many (a ring) */

/* An answer remembered: "n NAME", or "a PROTO ADDR PORT" (a connection), and what it was. */
struct remembered {
	char key[EGRESS_NAME_MAX + 16];
	enum nslab_egress_answer answer;
};

struct nslab_egress_session {
	const nslab_egress *e;
	struct egress_gw *gw;
	struct egress_dns *dns;
	struct egress_nflog *held, *capture, *conns, *blocked;
	/* blocked flows reported lately (a dropped SYN's retransmissions are new flows again) */
	struct {
		char key[PREFIX_STRLEN + 16];
		time_t at;
	} reported[64];
	size_t n_reported;
	FILE *pcap;
	/* --interactive: one question at a time, answers remembered for the session */
	pthread_mutex_t ask_lock;
	struct remembered *mem;
	size_t n_mem;
	/* the names addresses were resolved from: written by the gate, read by the flow reader */
	pthread_mutex_t names_lock;
	struct resolved *names; /* RESOLVED_MAX, a ring */
	size_t n_names;		/* how many were ever added */
};

int egress_resolv_file(char *path, size_t len, nslab_error *err)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	int fd;

	snprintf(path, len, "%s/nslab-resolv-%d-XXXXXX", dir && *dir ? dir : "/tmp", (int)getpid());
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		path[0] = 0;
		return nslab_err_set(err, e, "the jail's resolv.conf");
	}
	if (dprintf(fd, "nameserver %s\noptions edns0\n", EGRESS_GW_ADDR4) < 0 ||
	    fchmod(fd, 0644) < 0) {
		int e = errno;

		(void)close(fd);
		(void)unlink(path);
		path[0] = 0;
		return nslab_err_set(err, e, "the jail's resolv.conf");
	}
	(void)close(fd);
	return 0;
}

int nslab_egress_new(nslab_egress **ret, nslab_error *err)
{
	nslab_egress *e = calloc(1, sizeof(*e));

	if (!e)
		return nslab_err_set(err, ENOMEM, "egress policy");
	e->p.ttl_grace = EGRESS_TTL_GRACE_DEFAULT;
	e->p.uplink = EGRESS_UPLINK_AUTO;
	e->capture_fd = -1;
	*ret = e;
	return 0;
}

nslab_egress *nslab_egress_free(nslab_egress *e)
{
	if (e) {
		egress_list_clear(&e->p.allow);
		if (e->capture_fd >= 0)
			close(e->capture_fd);
		free(e);
	}
	return NULL;
}

int nslab_egress_allow(nslab_egress *e, const char *list, nslab_error *err)
{
	return egress_list_parse(&e->p.allow, list, err);
}

int nslab_egress_allow_file(nslab_egress *e, const char *path, nslab_error *err)
{
	return egress_file_parse(&e->p.allow, path, err);
}

void nslab_egress_set_deny(nslab_egress *e, enum nslab_egress_deny deny)
{
	e->p.deny_reject = deny == NSLAB_EGRESS_DENY_REJECT;
}

void nslab_egress_set_dns_deny(nslab_egress *e, enum nslab_egress_dns_deny deny)
{
	e->p.dns_nxdomain = deny == NSLAB_EGRESS_DNS_NXDOMAIN;
}

int nslab_egress_set_dns_upstream(nslab_egress *e, const char *ip, nslab_error *err)
{
	struct nslab_prefix a;

	if (prefix_parse(ip, false, &a, NULL) < 0 || a.len != prefix_addr_len(&a) * 8)
		return nslab_err_setx(err, EINVAL, "'%s': not an IP address", ip);
	e->p.upstream = a;
	return 0;
}

void nslab_egress_set_ttl_grace(nslab_egress *e, unsigned seconds)
{
	e->p.ttl_grace = seconds;
}

void nslab_egress_set_ipv6(nslab_egress *e, bool on)
{
	e->p.ipv6 = on;
}

void nslab_egress_set_analyse(nslab_egress *e, bool on)
{
	e->p.analyse = on;
}

int nslab_egress_set_uplink(nslab_egress *e, enum nslab_egress_uplink uplink, nslab_error *err)
{
	static const enum egress_uplink map[] = {
		[NSLAB_EGRESS_UPLINK_PASTA] = EGRESS_UPLINK_PASTA,
		[NSLAB_EGRESS_UPLINK_VETH] = EGRESS_UPLINK_VETH,
		[NSLAB_EGRESS_UPLINK_PROXY] = EGRESS_UPLINK_PROXY,
		[NSLAB_EGRESS_UPLINK_AUTO] = EGRESS_UPLINK_AUTO,
	};

	if ((unsigned)uplink > NSLAB_EGRESS_UPLINK_AUTO)
		return nslab_err_setx(err, EINVAL, "uplink %d: must be pasta, veth, proxy or auto",
				      (int)uplink);
	if (uplink == NSLAB_EGRESS_UPLINK_VETH && e->p.host_ports[0])
		return nslab_err_setx(
			err, EINVAL,
			"veth: host ports are exposed through pasta or the relay only");
	e->p.uplink = map[uplink];
	return 0;
}

void nslab_egress_set_event_func(nslab_egress *e, nslab_egress_event_func fn, void *data)
{
	e->fn = fn;
	e->fn_data = data;
	e->p.report_blocked = fn != NULL;
}

int nslab_egress_set_host_ports(nslab_egress *e, const char *ports, nslab_error *err)
{
	if (e->p.uplink == EGRESS_UPLINK_VETH)
		return nslab_err_setx(err, EINVAL,
				      "only through pasta or the relay (not --egress veth)");
	return egress_host_ports_parse(ports, e->p.host_ports, sizeof(e->p.host_ports), err);
}

void nslab_egress_set_connection_func(nslab_egress *e, nslab_egress_connection_func fn, void *data)
{
	e->conn_fn = fn;
	e->conn_data = data;
}

static bool names_find(nslab_egress_session *s, const char *addr, char *buf, size_t len);

/* egress_ctev_fn: a conntrack event of the gateway; the jail's own connections go on. */
static void on_conn_event(const struct ct_entry *c, bool destroyed, void *data)
{
	nslab_egress_session *s = data;
	char name[EGRESS_NAME_MAX + 1];
	bool v4 = c->family == AF_INET;
	struct nslab_prefix jail, gate, p = { .family = c->family, .len = v4 ? 32 : 128 };
	char src[PREFIX_STRLEN], dst[PREFIX_STRLEN];
	struct nslab_egress_connection out = {
		.family = c->family,
		.proto = c->proto,
		.src = src,
		.dst = dst,
		.sport = c->sport,
		.dport = c->dport,
		.has_counters = destroyed && c->has_counters,
		.packets_out = c->orig_packets,
		.bytes_out = c->orig_bytes,
		.packets_in = c->repl_packets,
		.bytes_in = c->repl_bytes,
		.event = destroyed ? NSLAB_EGRESS_CONN_END : NSLAB_EGRESS_CONN_NEW,
	};

	if (prefix_parse(v4 ? EGRESS_JL_ADDR4 : EGRESS_JL_ADDR6, false, &jail, NULL) < 0 ||
	    prefix_parse(v4 ? EGRESS_GW_ADDR4 : EGRESS_GW_ADDR6, false, &gate, NULL) < 0)
		return;
	/* the jail's flows only (its DNS to the gate is the gate's to report) */
	if (memcmp(c->src, jail.addr, v4 ? 4 : 16) != 0 ||
	    memcmp(c->dst, gate.addr, v4 ? 4 : 16) == 0)
		return;
	memcpy(p.addr, c->src, sizeof(p.addr));
	prefix_format(&p, false, src, sizeof(src));
	memcpy(p.addr, c->dst, sizeof(p.addr));
	prefix_format(&p, false, dst, sizeof(dst));
	if (names_find(s, dst, name, sizeof(name)))
		out.name = name;
	s->e->conn_fn(&out, s->e->conn_data);
}

void nslab_egress_set_ask_func(nslab_egress *e, nslab_egress_ask_func fn, void *data)
{
	e->ask = fn;
	e->ask_data = data;
	e->p.interactive = fn != NULL;
}

int nslab_egress_set_capture(nslab_egress *e, int fd, nslab_error *err)
{
	int n = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;

	if (fd >= 0 && n < 0)
		return nslab_err_set(err, errno, "capture: fd %d", fd);
	if (e->capture_fd >= 0)
		close(e->capture_fd);
	e->capture_fd = n;
	e->p.capture = n >= 0;
	return 0;
}

static void emit(const nslab_egress_session *s, const struct nslab_egress_event *ev)
{
	if (s->e->fn)
		s->e->fn(ev, s->e->fn_data);
}

/* Remember that addr was resolved from name (a newer answer for the address wins). */
static void names_add(nslab_egress_session *s, const struct nslab_prefix *addr, const char *name)
{
	struct resolved *r;

	if (!s->names)
		return;
	pthread_mutex_lock(&s->names_lock);
	r = &s->names[s->n_names++ % RESOLVED_MAX];
	prefix_format(addr, false, r->addr, sizeof(r->addr));
	snprintf(r->name, sizeof(r->name), "%s", name);
	pthread_mutex_unlock(&s->names_lock);
}

/* The name addr (text) was last resolved from, into buf; false if none. */
static bool names_find(nslab_egress_session *s, const char *addr, char *buf, size_t len)
{
	size_t n = s->n_names < RESOLVED_MAX ? s->n_names : RESOLVED_MAX;
	bool found = false;

	if (!s->names)
		return false;
	pthread_mutex_lock(&s->names_lock);
	/* newest first */
	for (size_t i = 0; i < n && !found; i++) {
		const struct resolved *r = &s->names[(s->n_names - 1 - i) % RESOLVED_MAX];

		if (strcmp(r->addr, addr) == 0) {
			snprintf(buf, len, "%s", r->name);
			found = true;
		}
	}
	pthread_mutex_unlock(&s->names_lock);
	return found;
}

static void dns_log(void *data, const char *name, const char *type, const char *verdict,
		    size_t n_addr, const struct nslab_prefix *addrs, const uint32_t *ttls)
{
	nslab_egress_session *s = data;
	char text[EGRESS_DNS_ADDRS][PREFIX_STRLEN];
	const char *list[EGRESS_DNS_ADDRS];
	struct nslab_egress_event ev = {
		.name = name, .type = type, .verdict = verdict, .n_addr = n_addr
	};

	for (size_t i = 0; addrs && i < n_addr && i < EGRESS_DNS_ADDRS; i++) {
		names_add(s, &addrs[i], name);
		list[i] = prefix_format(&addrs[i], false, text[i], sizeof(text[i]));
		ev.n_answers = i + 1;
	}
	if (ev.n_answers) {
		ev.addr = list[0];
		ev.answers = list;
		ev.ttls = ttls;
	}
	emit(s, &ev);
}

/* --- --interactive: asking, and remembering the answers ---------------------- */

/* The answer remembered for key (names: an ALWAYS for a name above counts too); -1 none. */
static int recall(const nslab_egress_session *s, const char *key)
{
	for (size_t i = 0; i < s->n_mem; i++) {
		const struct remembered *m = &s->mem[i];
		size_t n = strlen(m->key), k = strlen(key);

		if (strcmp(m->key, key) == 0)
			return (int)m->answer;
		/* "n x.test" ALWAYS covers "n www.x.test" */
		if (m->answer == NSLAB_EGRESS_ANSWER_ALWAYS && key[0] == 'n' && m->key[0] == 'n' &&
		    k > n && key[k - n + 1] == '.' && strcmp(key + k - n + 2, m->key + 2) == 0)
			return (int)m->answer;
	}
	return -1;
}

static void remember(nslab_egress_session *s, const char *key, enum nslab_egress_answer a)
{
	struct remembered *m = reallocarray(s->mem, s->n_mem + 1, sizeof(*m));

	if (!m)
		return; /* asked again next time: no worse than that */
	s->mem = m;
	snprintf(m[s->n_mem].key, sizeof(m[s->n_mem].key), "%s", key);
	m[s->n_mem++].answer = a;
}

static const char *verdict_of(enum nslab_egress_answer a, bool remembered)
{
	switch (a) {
	case NSLAB_EGRESS_ANSWER_ALLOW:
		return remembered ? "ALLOWED (remembered)" : "ALLOWED (asked)";
	case NSLAB_EGRESS_ANSWER_ALWAYS:
		return remembered ? "ALLOWED (remembered)" : "ALLOWED (always)";
	case NSLAB_EGRESS_ANSWER_TIMEOUT:
		return remembered ? "BLOCKED (remembered)" : "BLOCKED (timeout)";
	case NSLAB_EGRESS_ANSWER_DENY:
		break;
	}
	return remembered ? "BLOCKED (remembered)" : "BLOCKED (asked)";
}

/*
 * The answer about key: remembered, or asked (under ask_lock: one question at
 * a time; the other thread's question waits). *ret_asked: it was asked now.
 */
static enum nslab_egress_answer answer_for(nslab_egress_session *s, const char *key,
					   const struct nslab_egress_question *q, bool *ret_asked)
{
	int known = recall(s, key);
	enum nslab_egress_answer a;

	*ret_asked = known < 0;
	if (known >= 0)
		return (enum nslab_egress_answer)known;
	a = s->e->ask(q, s->e->ask_data);
	if (a > NSLAB_EGRESS_ANSWER_TIMEOUT)
		a = NSLAB_EGRESS_ANSWER_DENY;
	remember(s, key, a);
	return a;
}

/* egress_dns_ask_fn: a name no rule allows. */
static bool ask_name(void *data, const char *name, const char *type, const char **verdict)
{
	nslab_egress_session *s = data;
	struct nslab_egress_question q = { .name = name, .type = type };
	char key[EGRESS_NAME_MAX + 16];
	enum nslab_egress_answer a;
	bool asked;

	snprintf(key, sizeof(key), "n %s", name);
	pthread_mutex_lock(&s->ask_lock);
	a = answer_for(s, key, &q, &asked);
	pthread_mutex_unlock(&s->ask_lock);
	*verdict = verdict_of(a, !asked);
	return a == NSLAB_EGRESS_ANSWER_ALLOW || a == NSLAB_EGRESS_ANSWER_ALWAYS;
}

/* The destination of a held packet (IP header first): address, protocol, port. */
static bool held_dest(const uint8_t *pkt, size_t len, struct nslab_prefix *ret_dst, int *ret_proto,
		      unsigned *ret_port)
{
	size_t l4;

	memset(ret_dst, 0, sizeof(*ret_dst));
	if (len >= 20 && pkt[0] >> 4 == 4) {
		ret_dst->family = AF_INET;
		ret_dst->len = 32;
		memcpy(ret_dst->addr, pkt + 16, 4);
		*ret_proto = pkt[9];
		l4 = (size_t)(pkt[0] & 0xf) * 4;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		ret_dst->family = AF_INET6;
		ret_dst->len = 128;
		memcpy(ret_dst->addr, pkt + 24, 16);
		*ret_proto = pkt[6]; /* extension headers: asked about as what they are */
		l4 = 40;
	} else {
		return false;
	}
	*ret_port = 0;
	if ((*ret_proto == IPPROTO_TCP || *ret_proto == IPPROTO_UDP) && len >= l4 + 4)
		*ret_port = (unsigned)pkt[l4 + 2] << 8 | pkt[l4 + 3];
	return true;
}

/* The source of a packet whose held_dest() is known: address and port (TCP, UDP; else 0). */
static void pkt_src(const uint8_t *pkt, size_t len, struct nslab_prefix *ret, unsigned *ret_port)
{
	bool v4 = pkt[0] >> 4 == 4;
	size_t l4 = v4 ? (size_t)(pkt[0] & 0xf) * 4 : 40;
	int proto = v4 ? pkt[9] : pkt[6];

	memset(ret, 0, sizeof(*ret));
	ret->family = v4 ? AF_INET : AF_INET6;
	ret->len = v4 ? 32 : 128;
	memcpy(ret->addr, pkt + (v4 ? 12 : 8), v4 ? 4 : 16);
	*ret_port = 0;
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= l4 + 4)
		*ret_port = (unsigned)pkt[l4] << 8 | pkt[l4 + 1];
}

static const char *proto_text(int proto)
{
	return proto == IPPROTO_TCP				  ? "TCP"
	       : proto == IPPROTO_UDP				  ? "UDP"
	       : proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? "ICMP"
								  : "IP";
}

/*
 * The gateway's sets after an answer about a flow: ALLOW its address,
 * protocol and port (TCP and UDP; any other protocol: the address), ALWAYS
 * the address; a deny its address, protocol and port in the denied set (so
 * the next packet gets the deny chain: a reset with --deny reject). No
 * timeout: for the session.
 */
static void apply_flow(nslab_egress_session *s, const char *addr, bool v6, int proto, unsigned port,
		       enum nslab_egress_answer a)
{
	bool ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP;
	const char *ptxt = proto == IPPROTO_TCP ? "tcp" : "udp";
	char cmd[256];
	nslab_error err;

	if (a == NSLAB_EGRESS_ANSWER_ALWAYS || (a == NSLAB_EGRESS_ANSWER_ALLOW && !ports))
		snprintf(cmd, sizeof(cmd), "add element inet " EGRESS_TABLE " %s { %s }\n",
			 v6 ? EGRESS_SET6 : EGRESS_SET4, addr);
	else if (a == NSLAB_EGRESS_ANSWER_ALLOW)
		snprintf(cmd, sizeof(cmd),
			 "add element inet " EGRESS_TABLE " %s_svc { %s . %s . %u }\n",
			 v6 ? EGRESS_SET6 : EGRESS_SET4, addr, ptxt, port);
	else if (ports)
		snprintf(cmd, sizeof(cmd),
			 "add element inet " EGRESS_TABLE " %s { %s . %s . %u }\n",
			 v6 ? EGRESS_DENIED6 : EGRESS_DENIED4, addr, ptxt, port);
	else
		return; /* held and dropped as before */
	(void)egress_gw_nft(s->gw, cmd, &err);
}

/* egress_nflog_fn for group EGRESS_NFLOG_ASK: a new flow no rule allows was held. */
static void on_held(const uint8_t *pkt, size_t len, const char *prefix, void *data)
{
	nslab_egress_session *s = data;
	struct nslab_egress_question q = { 0 };
	struct nslab_egress_event ev = { .connection = true };
	struct nslab_prefix dst;
	char addr[PREFIX_STRLEN], key[EGRESS_NAME_MAX + 16], whole[PREFIX_STRLEN + 4];
	enum nslab_egress_answer a;
	int proto;
	unsigned port;
	bool asked;

	(void)prefix;
	if (!held_dest(pkt, len, &dst, &proto, &port))
		return;
	prefix_format(&dst, false, addr, sizeof(addr));
	q = (struct nslab_egress_question){ .type = proto_text(proto), .addr = addr, .port = port };
	snprintf(key, sizeof(key), "a %d %s %u", proto, addr, port);
	snprintf(whole, sizeof(whole), "A %s", addr);
	pthread_mutex_lock(&s->ask_lock);
	/* the whole address approved (ALWAYS) covers each of its ports */
	if (recall(s, whole) >= 0) {
		pthread_mutex_unlock(&s->ask_lock);
		return;
	}
	a = answer_for(s, key, &q, &asked);
	if (asked && a == NSLAB_EGRESS_ANSWER_ALWAYS)
		remember(s, whole, a);
	if (asked)
		apply_flow(s, addr, dst.family == AF_INET6, proto, port, a);
	pthread_mutex_unlock(&s->ask_lock);
	/* a retransmission of a flow decided before: no new event */
	if (!asked)
		return;
	ev.name = addr;
	ev.type = q.type;
	ev.port = port;
	ev.verdict = verdict_of(a, false);
	emit(s, &ev);
}

#define BLOCKED_QUIET_S 10 /* a blocked destination is reported again after this long */

/* Whether this destination's block was reported in the last BLOCKED_QUIET_S; if not, it is now. */
static bool reported_lately(nslab_egress_session *s, int proto, const char *addr, unsigned port)
{
	size_t n = s->n_reported < 64 ? s->n_reported : 64;
	time_t now = time(NULL);
	char key[PREFIX_STRLEN + 16];

	snprintf(key, sizeof(key), "%d %s %u", proto, addr, port);
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->reported[i].key, key) == 0 &&
		    now - s->reported[i].at < BLOCKED_QUIET_S)
			return true;
	snprintf(s->reported[s->n_reported % 64].key, sizeof(key), "%s", key);
	s->reported[s->n_reported++ % 64].at = now;
	return false;
}

/* egress_nflog_fn for group EGRESS_NFLOG_BLOCKED: a new flow the deny chain took. */
static void on_blocked(const uint8_t *pkt, size_t len, const char *prefix, void *data)
{
	nslab_egress_session *s = data;
	struct nslab_egress_event ev = { .connection = true, .blocked_flow = true };
	struct nslab_prefix dst, src;
	char addr[PREFIX_STRLEN], saddr[PREFIX_STRLEN];
	int proto;
	unsigned port;

	(void)prefix;
	if (!held_dest(pkt, len, &dst, &proto, &port))
		return;
	prefix_format(&dst, false, addr, sizeof(addr));
	if (reported_lately(s, proto, addr, port))
		return;
	pkt_src(pkt, len, &src, &ev.sport);
	ev.src = prefix_format(&src, false, saddr, sizeof(saddr));
	ev.name = addr;
	ev.type = proto_text(proto);
	ev.port = port;
	ev.verdict = "BLOCKED";
	emit(s, &ev);
}

/* --- --pcap ------------------------------------------------------------------ */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* egress_nflog_fn for group EGRESS_NFLOG_CAPTURE: every packet of the jail, in order. */
static void on_packet(const uint8_t *pkt, size_t len, const char *prefix, void *data)
{
	nslab_egress_session *s = data;
	const char *comment = NULL;

	if (strcmp(prefix, "blocked") == 0)
		comment = "blocked by the egress policy";
	else if (strcmp(prefix, "held") == 0)
		comment = "blocked: held for a decision (--interactive)";
	/* flushed at once: a killed run keeps what it captured */
	if (pcapng_write_packet(s->pcap, now_usec(), pkt, len, comment) == 0)
		(void)fflush(s->pcap);
}

static int capture_start(nslab_egress_session *s, nslab_error *err)
{
	int fd = fcntl(s->e->capture_fd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return nslab_err_set(err, errno, "capture");
	s->pcap = fdopen(fd, "w");
	if (!s->pcap) {
		close(fd);
		return nslab_err_set(err, errno, "capture");
	}
	if (pcapng_write_header(s->pcap, PCAPNG_LINKTYPE_RAW, EGRESS_GW_IF, "nslab run") < 0 ||
	    fflush(s->pcap) != 0)
		return nslab_err_set(err, EIO, "capture: writing the pcapng header");
	return egress_nflog_start(s->gw, EGRESS_NFLOG_CAPTURE, CAPTURE_RCVBUF, on_packet, s,
				  &s->capture, err);
}

int nslab_egress_start(const nslab_egress *e, nslab_egress_session **ret, nslab_error *err)
{
	nslab_egress_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return nslab_err_set(err, ENOMEM, "egress session");
	s->e = e;
	pthread_mutex_init(&s->ask_lock, NULL);
	pthread_mutex_init(&s->names_lock, NULL);
	s->names = calloc(RESOLVED_MAX, sizeof(*s->names)); /* none: connections without names */
	r = egress_gw_start(&e->p, &s->gw, err);
	if (r >= 0 && e->capture_fd >= 0)
		r = capture_start(s, err);
	if (r >= 0 && e->ask)
		r = egress_nflog_start(s->gw, EGRESS_NFLOG_ASK, 0, on_held, s, &s->held, err);
	if (r >= 0 && e->conn_fn)
		r = egress_ctev_start(s->gw, on_conn_event, s, &s->conns, err);
	if (r >= 0 && e->p.report_blocked)
		r = egress_nflog_start(s->gw, EGRESS_NFLOG_BLOCKED, 0, on_blocked, s, &s->blocked,
				       err);
	if (r >= 0)
		r = egress_dns_start(&e->p, s->gw, dns_log, e->ask ? ask_name : NULL, s, &s->dns,
				     err);
	if (r < 0) {
		nslab_egress_session_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct conn_relay {
	nslab_egress_connection_func fn;
	void *data;
	nslab_egress_session *s;
};

static void conn_relay(const struct egress_conn *c, void *data)
{
	struct conn_relay *r = data;
	char name[EGRESS_NAME_MAX + 1];
	struct nslab_prefix p = { .family = c->family, .len = c->family == AF_INET ? 32 : 128 };
	char src[PREFIX_STRLEN], dst[PREFIX_STRLEN];
	struct nslab_egress_connection out = { .family = c->family,
					       .proto = c->proto,
					       .src = src,
					       .dst = dst,
					       .sport = c->sport,
					       .dport = c->dport,
					       .has_counters = c->has_counters,
					       .packets_out = c->out_packets,
					       .bytes_out = c->out_bytes,
					       .packets_in = c->in_packets,
					       .bytes_in = c->in_bytes };

	memcpy(p.addr, c->src, sizeof(p.addr));
	prefix_format(&p, false, src, sizeof(src));
	memcpy(p.addr, c->dst, sizeof(p.addr));
	prefix_format(&p, false, dst, sizeof(dst));
	if (names_find(r->s, dst, name, sizeof(name)))
		out.name = name;
	r->fn(&out, r->data);
}

int nslab_egress_session_connections(nslab_egress_session *s, nslab_egress_connection_func fn,
				     void *data, nslab_error *err)
{
	struct conn_relay r = { fn, data, s };

	return egress_gw_connections(s->gw, conn_relay, &r, err);
}

uint64_t nslab_egress_session_capture_lost(const nslab_egress_session *s)
{
	return egress_nflog_lost(s->capture);
}

int nslab_egress_session_netns_fd(const nslab_egress_session *s)
{
	return egress_gw_jail_fd(s->gw);
}

const char *nslab_egress_session_dns(const nslab_egress_session *s)
{
	(void)s; /* one address for every session: each jail is a namespace of its own */
	return EGRESS_GW_ADDR4;
}

nslab_egress_session *nslab_egress_session_free(nslab_egress_session *s)
{
	if (!s)
		return NULL;
	/* the threads first: they use the gateway and the capture file */
	egress_dns_free(s->dns);
	egress_nflog_free(s->held);
	egress_nflog_free(s->capture);
	egress_nflog_free(s->conns);
	egress_nflog_free(s->blocked);
	if (s->pcap)
		fclose(s->pcap);
	egress_gw_free(s->gw);
	pthread_mutex_destroy(&s->ask_lock);
	pthread_mutex_destroy(&s->names_lock);
	free(s->names);
	free(s->mem);
	free(s);
	return NULL;
}

/* --- the policy in words (--dry-run) ------------------------------------------- */

static void describe_rule(FILE *f, const struct egress_rule *r, bool ipv6)
{
	char host[EGRESS_NAME_MAX + 3], buf[PREFIX_STRLEN];
	bool v6 = r->kind == EGRESS_PREFIX && r->prefix.family == AF_INET6;

	if (r->kind == EGRESS_PREFIX) {
		prefix_format(&r->prefix, r->prefix.len != prefix_addr_len(&r->prefix) * 8, buf,
			      sizeof(buf));
		snprintf(host, sizeof(host), v6 ? "[%s]" : "%s", buf);
	} else {
		snprintf(host, sizeof(host), "%s%s", r->kind == EGRESS_WILDCARD ? "*." : "",
			 r->name);
	}
	fprintf(f, "  %-8s %-32s",
		r->kind == EGRESS_NAME	     ? "name"
		: r->kind == EGRESS_WILDCARD ? "wildcard"
					     : "address",
		host);
	if (!r->port)
		fputs(r->kind == EGRESS_PREFIX ? " any protocol, any port" : " any port", f);
	else
		fprintf(f, " port %u/%s", r->port,
			r->proto == IPPROTO_TCP	  ? "tcp"
			: r->proto == IPPROTO_UDP ? "udp"
						  : "tcp+udp");
	if (v6 && !ipv6)
		fputs(" (not in effect: no --ipv6)", f);
	fputc('\n', f);
}

static const char *uplink_text(enum egress_uplink up, enum egress_uplink asked)
{
	switch (up) {
	case EGRESS_UPLINK_PASTA:
		return asked == EGRESS_UPLINK_AUTO ? "pasta (nslab's choice: /dev/net/tun opens)"
						   : "pasta";
	case EGRESS_UPLINK_PROXY:
		return asked == EGRESS_UPLINK_AUTO
			       ? "proxy, nslab's socket relay (nslab's choice: /dev/net/tun "
				 "does not open)"
			       : "proxy, nslab's socket relay";
	case EGRESS_UPLINK_VETH:
		return "veth to the caller's namespace, an owner-flagged nftables table there "
		       "(needs root and a host that forwards)";
	case EGRESS_UPLINK_AUTO: /* egress_gw_choose_uplink() never leaves it */
		break;
	}
	return "?";
}

/*
 * --egress proxy: whether the relay can carry ping (AF_INET) or ping6
 * (AF_INET6) from the caller's namespace, and why not. One sysctl,
 * net.ipv4.ping_group_range, rules ping sockets of both families.
 */
static void describe_relay_icmp(FILE *f, int family)
{
	const char *what = family == AF_INET6 ? "ICMPv6" : "ICMP";
	char range[64] = "?";
	FILE *r;

	switch (egress_relay_icmp_probe(family)) {
	case EGRESS_RELAY_ICMP_PING:
		fprintf(f,
			"%s echo: carried by the relay (ping sockets of the caller's namespace)\n",
			what);
		return;
	case EGRESS_RELAY_ICMP_RAW:
		fprintf(f,
			"%s echo: carried by the relay (raw %s sockets: CAP_NET_RAW in the "
			"caller's namespace)\n",
			what, what);
		return;
	case EGRESS_RELAY_ICMP_NONE:
		break;
	}
	r = fopen("/proc/sys/net/ipv4/ping_group_range", "re");
	if (r) {
		if (fgets(range, sizeof(range), r))
			range[strcspn(range, "\n")] = 0;
		for (char *c = range; *c; c++)
			*c = *c == '\t' ? ' ' : *c;
		fclose(r);
	}
	fprintf(f,
		"%s echo: not carried (answered admin-prohibited): the caller's namespace "
		"gives this user no ping socket (net.ipv4.ping_group_range '%s' leaves out gid "
		"%u) and no raw one (no CAP_NET_RAW there)\n",
		what, range, (unsigned)getgid());
}

/*
 * pasta: it sends echo requests through ping sockets of its own, in the
 * caller's namespace, and never raw ones; whether it gets one is the
 * caller's net.ipv4.ping_group_range's to say (probed as nslab, whose
 * credentials pasta keeps).
 */
static void describe_pasta_icmp(FILE *f)
{
	if (egress_relay_icmp_probe(AF_INET) == EGRESS_RELAY_ICMP_PING) {
		fputs("ICMP echo: carried by pasta (ping sockets of the caller's namespace)\n", f);
		return;
	}
	fputs("ICMP echo: not answered: pasta sends echo through ping sockets only, and the "
	      "caller's net.ipv4.ping_group_range gives this user none (--egress proxy carries "
	      "it where nslab has CAP_NET_RAW there)\n",
	      f);
}

static int describe(const nslab_egress *e, FILE *f, nslab_error *err)
{
	const struct egress_policy *src = &e->p;
	struct egress_policy p = *src;
	_cleanup_free_ char *rules = NULL;
	struct nslab_prefix up;
	char upbuf[PREFIX_STRLEN];
	int r = egress_gw_choose_uplink(src, &p.uplink, err);

	if (r >= 0)
		r = egress_dns_upstream(src, &up, err);
	if (r >= 0)
		r = egress_ruleset(&p, &rules, err);
	if (r < 0)
		return r;
	fprintf(f, "egress policy (nothing started)\nmode: %s\n",
		p.analyse	? "analyse (everything allowed and logged)"
		: p.interactive ? "interactive (what no entry allows is asked about)"
				: "allow (what no entry allows is denied)");
	fprintf(f, "allow list (%zu entries, as parsed):\n", p.allow.n);
	for (size_t i = 0; i < p.allow.n; i++)
		describe_rule(f, &p.allow.v[i], p.ipv6);
	fprintf(f, "denied: %s\n",
		p.deny_reject ? "rejected (TCP reset, ICMP admin-prohibited)" : "dropped");
	fprintf(f, "ipv6: %s\n", p.ipv6 ? "on" : "off (the jail has no IPv6 address or route)");
	fprintf(f, "uplink: %s\n", uplink_text(p.uplink, src->uplink));
	if (p.uplink == EGRESS_UPLINK_PROXY) {
		describe_relay_icmp(f, AF_INET);
		if (p.ipv6)
			describe_relay_icmp(f, AF_INET6);
	}
	if (p.uplink == EGRESS_UPLINK_PASTA)
		describe_pasta_icmp(f);
	if (p.host_ports[0])
		fprintf(f,
			"host ports: %s: the caller's 127.0.0.1 at %s and at the jail's own "
			"127.0.0.1%s%s%s (a bypass: what listens on the caller's loopback there "
			"acts outside the policy)\n",
			p.host_ports, EGRESS_GW_ADDR4, p.ipv6 ? ", its ::1 at [" : "",
			p.ipv6 ? EGRESS_GW_ADDR6 : "", p.ipv6 ? "]" : "");
	prefix_format(&up, false, upbuf, sizeof(upbuf));
	fprintf(f,
		"DNS gate: %s:53 in the gateway (the jail's resolv.conf); upstream %s%s; "
		"names no entry allows: %s, never forwarded; TTL grace %u s; %s\n",
		EGRESS_GW_ADDR4, upbuf,
		prefix_is_set(&src->upstream) ? "" : " (the first nameserver of /etc/resolv.conf)",
		p.analyse	 ? "(none: --analyse forwards every name)"
		: p.dns_nxdomain ? "NXDOMAIN"
				 : "REFUSED",
		p.ttl_grace,
		p.analyse ? "--analyse: DNS to other servers and DoT pass too (logged)"
			  : "DNS to other servers, DoT (853) and known DoH endpoints blocked");
	fprintf(f, "gateway ruleset (loaded in the gateway's network namespace):\n%s", rules);
	return 0;
}

/* One entry of the allow list as parsed (the JSON log's session record). */
static void rule_json(struct jw *w, const struct egress_rule *r, bool ipv6)
{
	char buf[PREFIX_STRLEN];
	bool v6 = r->kind == EGRESS_PREFIX && r->prefix.family == AF_INET6;

	jw_obj_open(w, NULL);
	jw_str(w, "kind",
	       r->kind == EGRESS_NAME	    ? "name"
	       : r->kind == EGRESS_WILDCARD ? "wildcard"
					    : "address");
	if (r->kind == EGRESS_PREFIX)
		jw_str(w, "host",
		       prefix_format(&r->prefix, r->prefix.len != prefix_addr_len(&r->prefix) * 8,
				     buf, sizeof(buf)));
	else if (r->kind == EGRESS_WILDCARD && snprintf(buf, sizeof(buf), "*.%s", r->name) > 0)
		jw_str(w, "host", buf);
	else
		jw_str(w, "host", r->name);
	if (r->port)
		jw_uint(w, "port", r->port);
	else
		jw_raw(w, "port", "null");
	jw_str(w, "proto",
	       r->proto == IPPROTO_TCP	 ? "tcp"
	       : r->proto == IPPROTO_UDP ? "udp"
	       : r->port		 ? "tcp+udp"
					 : "any");
	jw_bool(w, "in_effect", !v6 || ipv6);
	jw_obj_close(w);
}

int nslab_egress_policy_json(const nslab_egress *e, char **ret, nslab_error *err)
{
	const struct egress_policy *p = &e->p;
	struct nslab_prefix up;
	char upbuf[PREFIX_STRLEN];
	const char *text;
	struct jw w;
	int r = egress_dns_upstream(p, &up, err);

	if (r < 0)
		return r;
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "mode", p->analyse ? "analyse" : p->interactive ? "interactive" : "allow");
	jw_arr_open(&w, "allow");
	for (size_t i = 0; i < p->allow.n; i++)
		rule_json(&w, &p->allow.v[i], p->ipv6);
	jw_arr_close(&w);
	jw_str(&w, "deny", p->deny_reject ? "reject" : "drop");
	jw_str(&w, "dns_deny", p->dns_nxdomain ? "nxdomain" : "refused");
	jw_str(&w, "dns_upstream", prefix_format(&up, false, upbuf, sizeof(upbuf)));
	jw_uint(&w, "ttl_grace", p->ttl_grace);
	jw_bool(&w, "ipv6", p->ipv6);
	if (p->host_ports[0])
		jw_str(&w, "host_ports", p->host_ports);
	else
		jw_raw(&w, "host_ports", "null");
	jw_obj_close(&w);
	text = jw_get(&w);
	*ret = text ? strdup(text) : NULL;
	jw_free(&w);
	return *ret ? 0 : nslab_err_set(err, ENOMEM, "the egress policy as JSON");
}

int nslab_egress_describe(const nslab_egress *e, char **ret, nslab_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return nslab_err_set(err, errno, "describe the egress policy");
	r = describe(e, f, err);
	if (fclose(f) != 0 && r >= 0)
		r = nslab_err_set(err, ENOMEM, "describe the egress policy");
	if (r < 0) {
		free(text);
		return r;
	}
	*ret = text;
	return 0;
}

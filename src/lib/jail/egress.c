// SPDX-License-Identifier: MIT
/* jail/egress: the public egress API (nslab/egress.h) over the policy, the gateway and the DNS gate. */
#include "nslab/egress.h"

#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jail/egress-dns.h"
#include "jail/egress-gw.h"
#include "jail/egress.h"
#include "shared/macro.h"

#define EGRESS_TTL_GRACE_DEFAULT 60

struct nslab_egress {
	struct egress_policy p;
	nslab_egress_event_func fn;
	void *fn_data;
};

struct nslab_egress_session {
	const nslab_egress *e;
	struct egress_gw *gw;
	struct egress_dns *dns;
};

int nslab_egress_new(nslab_egress **ret, nslab_error *err)
{
	nslab_egress *e = calloc(1, sizeof(*e));

	if (!e)
		return nslab_err_set(err, ENOMEM, "egress policy");
	e->p.ttl_grace = EGRESS_TTL_GRACE_DEFAULT;
	*ret = e;
	return 0;
}

nslab_egress *nslab_egress_free(nslab_egress *e)
{
	if (e) {
		egress_list_clear(&e->p.allow);
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
	if (uplink != NSLAB_EGRESS_UPLINK_PASTA && uplink != NSLAB_EGRESS_UPLINK_VETH)
		return nslab_err_setx(err, EINVAL, "uplink %d: must be pasta or veth", (int)uplink);
	e->p.uplink = uplink == NSLAB_EGRESS_UPLINK_VETH ? EGRESS_UPLINK_VETH : EGRESS_UPLINK_PASTA;
	return 0;
}

void nslab_egress_set_event_func(nslab_egress *e, nslab_egress_event_func fn, void *data)
{
	e->fn = fn;
	e->fn_data = data;
}

static void dns_log(void *data, const char *name, const char *type, const char *verdict,
		    size_t n_addr)
{
	const nslab_egress *e = data;
	struct nslab_egress_event ev = { name, type, verdict, n_addr };

	if (e->fn)
		e->fn(&ev, e->fn_data);
}

int nslab_egress_start(const nslab_egress *e, nslab_egress_session **ret, nslab_error *err)
{
	nslab_egress_session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return nslab_err_set(err, ENOMEM, "egress session");
	s->e = e;
	r = egress_gw_start(&e->p, &s->gw, err);
	if (r >= 0)
		r = egress_dns_start(&e->p, s->gw, dns_log, (void *)e, &s->dns, err);
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
};

static void conn_relay(const struct egress_conn *c, void *data)
{
	struct conn_relay *r = data;
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
	r->fn(&out, r->data);
}

int nslab_egress_session_connections(nslab_egress_session *s, nslab_egress_connection_func fn,
				     void *data, nslab_error *err)
{
	struct conn_relay r = { fn, data };

	return egress_gw_connections(s->gw, conn_relay, &r, err);
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
	egress_dns_free(s->dns);
	egress_gw_free(s->gw);
	free(s);
	return NULL;
}

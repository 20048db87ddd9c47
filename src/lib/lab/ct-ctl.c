/* SPDX-License-Identifier: MIT */
/*
 * lab/ct-ctl: a node's conntrack table as JSON, for the control socket's
 * CONNTRACK operation (`nslab serve`'s /api/conntrack). The dump runs in the
 * node's namespace; at most CT_JSON_MAX entries are written (a dump walks the
 * hash table the whole host shares, so it is asked for, never polled fast).
 */
#include "nslab/lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "core/json.h"
#include "lab/lab.h"
#include "nl/ct.h"
#include "nl/nlsock.h"
#include "shared/macro.h"

#define CT_JSON_MAX 5000

struct ct_json {
	struct jw *w;
	size_t n;
	bool truncated;
};

static const char *proto_name(int proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_IGMP:
		return "igmp";
	case IPPROTO_GRE:
		return "gre";
	default:
		snprintf(buf, len, "%d", proto);
		return buf;
	}
}

/* One direction's tuple as "src", "dst" (+ ports where the protocol has them). */
static void put_tuple(struct jw *w, const char *key, int family, const uint8_t *src,
		      const uint8_t *dst, uint16_t sport, uint16_t dport, bool ports)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	jw_obj_open(w, key);
	jw_str(w, "src", inet_ntop(family, src, a, sizeof(a)) ? a : "?");
	jw_str(w, "dst", inet_ntop(family, dst, b, sizeof(b)) ? b : "?");
	if (ports) {
		jw_uint(w, "sport", sport);
		jw_uint(w, "dport", dport);
	}
	jw_obj_close(w);
}

static int put_entry(const struct ct_entry *e, void *data)
{
	struct ct_json *j = data;
	bool ports = e->sport || e->dport;
	char num[16];

	if (j->n >= CT_JSON_MAX) {
		j->truncated = true;
		return 0;
	}
	j->n++;
	jw_obj_open(j->w, NULL);
	jw_str(j->w, "family", e->family == AF_INET ? "ipv4" : "ipv6");
	jw_str(j->w, "proto", proto_name(e->proto, num, sizeof(num)));
	put_tuple(j->w, "orig", e->family, e->src, e->dst, e->sport, e->dport, ports);
	put_tuple(j->w, "reply", e->family, e->rsrc, e->rdst, e->rsport, e->rdport, ports);
	if (e->has_icmp_id)
		jw_uint(j->w, "icmp_id", e->icmp_id);
	if (e->has_tcp_state)
		jw_str(j->w, "state", ct_tcp_state_name(e->tcp_state));
	jw_bool(j->w, "replied", e->status & IPS_SEEN_REPLY);
	jw_bool(j->w, "assured", e->status & IPS_ASSURED);
	jw_bool(j->w, "nat", e->status & (IPS_SRC_NAT | IPS_DST_NAT));
	if (e->has_counters) {
		jw_uint(j->w, "packets", e->orig_packets + e->repl_packets);
		jw_uint(j->w, "bytes", e->orig_bytes + e->repl_bytes);
	}
	jw_obj_close(j->w);
	return 0;
}

static int dump_in_ns(void *data, nslab_error *err)
{
	_cleanup_(nlsock_freep) struct nlsock *nl = NULL;
	int r = nlsock_open(NETLINK_NETFILTER, &nl, err);

	if (r >= 0)
		r = ct_dump(nl, AF_INET, put_entry, data, err);
	if (r >= 0)
		r = ct_dump(nl, AF_INET6, put_entry, data, err);
	return r;
}

int lab_conntrack_json(nslab_lab *lab, const char *node, char **ret_json, nslab_error *err)
{
	struct nslab_node *n = node ? nslab_lab_node(lab, node) : NULL;
	struct jw w;
	struct ct_json j = { .w = &w };
	int r;

	if (!lab->built)
		return nslab_err_setx(err, EINVAL, "the lab is not built");
	if (!n)
		return nslab_err_setx(err, ENOENT, "no node '%s' in lab '%s'", node ? node : "",
				      lab->spec->name);
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "node", node);
	jw_arr_open(&w, "entries");
	r = netns_call(n->ns->fd, dump_in_ns, &j, err);
	jw_arr_close(&w);
	jw_bool(&w, "truncated", j.truncated);
	jw_obj_close(&w);
	if (r >= 0) {
		char *json = jw_get(&w) ? strdup(jw_get(&w)) : NULL;

		if (json)
			*ret_json = json;
		else
			r = nslab_err_set(err, ENOMEM, "out of memory");
	}
	jw_free(&w);
	return r < 0 ? nslab_err_prefix(err, r, "conntrack of '%s'", node) : 0;
}

/* SPDX-License-Identifier: MIT */
/* fwtest/verdict: a packet's verdict from its trace (see verdict.h). */
#include "fwtest/verdict.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "nl/nlsock.h"
#include "nl/rtnl.h"
#include "ns/netns.h"
#include "shared/macro.h"

/*
 * Priorities are the extremes nft accepts, so that no user chain runs before
 * tracing starts or after the end chains. The statements end with ';' since
 * nft 1.0.6 refuses "meta nftrace set 1 }".
 *
 * Not traced: IPv6 nodes announcing themselves (router solicitations and MLD
 * reports from :: or a link-local address to a link-scope group). A lab of a
 * few hundred nodes sends thousands as it starts, and their traces would
 * crowd the tests' own out of the socket (ENOBUFS; rootless, the buffer cannot
 * be raised past rmem_max).
 */
#define FW_TRACE_SKIP                                                                       \
	"ip6 saddr { ::, fe80::/10 } ip6 daddr ff02::/16 icmpv6 type { nd-router-solicit, " \
	"mld-listener-report, mld-listener-done, mld2-listener-report } return; "
/* netdev and bridge chains see every frame: only IP packets are the tests' */
#define FW_TRACE_NOT_IP "meta protocol != { ip, ip6 } return; "
static const char trace_table[] =
	"table inet " FW_TRACE_TABLE " {\n"
	"\tchain pre { type filter hook prerouting priority -2147483648; " FW_TRACE_SKIP
	"meta nftrace set 1; }\n"
	"\tchain out { type filter hook output priority -2147483648; " FW_TRACE_SKIP
	"meta nftrace set 1; }\n"
	"\tchain in_end { type filter hook input priority 2147483647; }\n"
	"\tchain post_end { type filter hook postrouting priority 2147483647; }\n"
	"}\n";

const char *fw_trace_table_text(void)
{
	return trace_table;
}

/* Chain names are nft identifiers: an interface name that is not one gets its index. */
static void chain_name(char *buf, size_t len, const char *prefix, const char *dev, size_t k)
{
	bool ok = true;

	for (const char *p = dev; *p; p++)
		ok = ok && (isalnum((unsigned char)*p) || strchr("_.-/", *p));
	if (ok)
		snprintf(buf, len, "%s%s", prefix, dev);
	else
		snprintf(buf, len, "%s_%zu", prefix, k);
}

/* The bridge part: tracing from bridge prerouting/output to the end of postrouting. */
static const char bridge_table[] =
	"table bridge " FW_TRACE_TABLE " {\n"
	"\tchain pre { type filter hook prerouting priority -2147483648; " FW_TRACE_NOT_IP
		FW_TRACE_SKIP "meta nftrace set 1; }\n"
	"\tchain out { type filter hook output priority -2147483648; " FW_TRACE_NOT_IP FW_TRACE_SKIP
	"meta nftrace set 1; }\n"
	"\tchain " FW_END_POST " { type filter hook postrouting priority 2147483647; }\n"
	"}\n";

int fw_trace_table_build(const struct fw_trace_dev *devs, size_t n, bool egress, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	bool bridge = false;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fputs(trace_table, f);
	if (n)
		fputs("table netdev " FW_TRACE_TABLE " {\n", f);
	for (size_t k = 0; k < n; k++) {
		char name[IFNAMSIZ + 16];

		bridge = bridge || devs[k].is_bridge;
		chain_name(name, sizeof(name), FW_NETDEV_IN, devs[k].name, k);
		fprintf(f,
			"\tchain %s { type filter hook ingress device \"%s\" priority -2147483648; "
			"" FW_TRACE_NOT_IP FW_TRACE_SKIP "meta nftrace set 1; }\n",
			name, devs[k].name);
		/* a bridge's own egress comes before bridge output and postrouting: not the end */
		if (!egress || devs[k].is_bridge)
			continue;
		chain_name(name, sizeof(name), FW_NETDEV_END, devs[k].name, k);
		fprintf(f,
			"\tchain %s { type filter hook egress device \"%s\" priority 2147483647; "
			"}\n",
			name, devs[k].name);
	}
	if (n)
		fputs("}\n", f);
	if (bridge)
		fputs(bridge_table, f);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* netdev egress hooks exist since Linux 5.16 (commit 42df6e1d221d). */
static bool kernel_has_egress(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 16);
}

struct dev_list {
	struct fw_trace_dev *devs;
	size_t n;
};

static int dev_cb(const struct rtnl_link_info *info, void *data)
{
	struct dev_list *l = data;
	struct fw_trace_dev *v;

	/*
	 * Not lo; not a bridge's port either: its frames are traced by the bridge
	 * table, and a router with a few hundred devices would give a trace table
	 * too big for one netlink message (rootless, the send buffer cannot grow).
	 */
	if (strcmp(info->name, "lo") == 0 || info->master)
		return 0;
	v = reallocarray(l->devs, l->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->devs = v;
	memset(&v[l->n], 0, sizeof(v[l->n]));
	snprintf(v[l->n].name, sizeof(v[l->n].name), "%s", info->name);
	v[l->n++].is_bridge = strcmp(info->kind, "bridge") == 0;
	return 0;
}

/* Inside the rules node: its interfaces but lo and bridge ports. */
static int list_devs_fn(void *data, nslab_error *err)
{
	_cleanup_(nlsock_freep) struct nlsock *nl = NULL;
	struct dev_list *l = data;
	int r = nlsock_open(NETLINK_ROUTE, &nl, err);

	if (r >= 0)
		r = rtnl_link_dump(nl, dev_cb, l, err);
	if (r >= 0 && !l->devs && !(l->devs = calloc(1, sizeof(*l->devs))))
		r = nslab_err_set(err, ENOMEM, "list interfaces");
	return r < 0 ? nslab_err_prefix(err, r, "list interfaces") : 0;
}

int fw_trace_table_for(const struct fw_node *rn, char **ret, nslab_error *err)
{
	struct dev_list l = { 0 };
	int r = netns_call(rn->ns->fd, list_devs_fn, &l, err);

	if (r >= 0 && fw_trace_table_build(l.devs, l.n, kernel_has_egress(), ret) < 0)
		r = nslab_err_set(err, ENOMEM, "trace table");
	free(l.devs);
	return r < 0 ? nslab_err_prefix(err, r, "node '%s'", rn->name) : 0;
}

void fw_decision_clear(struct fw_decision *d)
{
	free(d->rule_text);
	free(d->comment);
	*d = (struct fw_decision){ 0 };
}

static bool is_trace_table(const struct nftrace_event *ev)
{
	return strcmp(ev->table, FW_TRACE_TABLE) == 0;
}

static bool is_end_chain(const struct nftrace_event *ev)
{
	if (!is_trace_table(ev))
		return false;
	if (ev->family == NFPROTO_NETDEV)
		return strncmp(ev->chain, FW_NETDEV_END, strlen(FW_NETDEV_END)) == 0;
	return strcmp(ev->chain, "in_end") == 0 || strcmp(ev->chain, FW_END_POST) == 0;
}

/* Whether the trace set ends the way out at netdev egress (the kernel has the hook). */
static bool ends_at_egress(const struct nftbl_listing *l)
{
	for (size_t i = 0; l && i < l->n_chains; i++)
		if (strcmp(l->chains[i].family, "netdev") == 0 &&
		    strcmp(l->chains[i].table, FW_TRACE_TABLE) == 0 &&
		    strcmp(l->chains[i].hook, "egress") == 0)
			return true;
	return false;
}

/*
 * Whether an end chain's event is where the packet's fate is known. A packet
 * the namespace sends to itself leaves postrouting for lo and comes back
 * through prerouting and input: its end is input's, not postrouting's. With
 * egress end chains, inet postrouting is a hop: a netdev egress chain may
 * still drop the packet. Bridge postrouting is the last hook of a bridged
 * frame (its port has no egress end chain).
 */
static bool is_final(const struct nftrace_event *ev, uint32_t oif, bool egress)
{
	if (strcmp(ev->chain, FW_END_POST) != 0)
		return true;
	/* a bridge's ports get no egress end chain (dev_cb()): bridge postrouting is the last */
	if (ev->family == NFPROTO_BRIDGE)
		return true;
	return oif != 1 && !egress; /* lo is ifindex 1 */
}

const char *fw_family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_NETDEV:
		return "netdev";
	default:
		return "?";
	}
}

bool fw_rule_is_reject(const char *text)
{
	const char *c = text ? strstr(text, "comment \"") : NULL;
	size_t len = text ? (c ? (size_t)(c - text) : strlen(text)) : 0;

	for (const char *p = text; p && (size_t)(p - text) + 6 <= len; p++)
		if (strncmp(p, "reject", 6) == 0 && (p == text || p[-1] == ' ') &&
		    (p[6] == ' ' || p[6] == '\0' || (size_t)(p - text) + 6 == len))
			return true;
	return false;
}

bool fw_rule_matches(const struct fw_decision *d, const char *want)
{
	if (strcmp(want, "policy") == 0)
		return d->by_policy;
	if (d->by_policy || !d->decided)
		return false;
	if (d->comment && strcmp(d->comment, want) == 0)
		return true;
	return d->rule_text && strstr(d->rule_text, want);
}

static void path_add(struct fw_decision *d, const struct nftrace_event *ev, const char *rule,
		     const char *v)
{
	size_t used = strlen(d->path);

	if (used + 4 >= sizeof(d->path))
		return;
	if (used)
		snprintf(d->path + used, sizeof(d->path) - used, "; ");
	used = strlen(d->path);
	snprintf(d->path + used, sizeof(d->path) - used, "%s %s %s: %s -> %s",
		 fw_family_name(ev->family), ev->table, ev->chain, rule, v);
}

/* Remember the user chain and rule behind a terminal event. */
static int take_decider(struct fw_decision *d, const struct nftrace_event *ev,
			const struct nftbl_listing *l)
{
	const struct nftbl_rule *r = NULL;

	free(d->rule_text);
	free(d->comment);
	d->rule_text = d->comment = NULL;
	d->decided = true;
	d->by_policy = ev->type == NFT_TRACETYPE_POLICY;
	snprintf(d->family, sizeof(d->family), "%s", fw_family_name(ev->family));
	snprintf(d->table, sizeof(d->table), "%s", ev->table);
	snprintf(d->chain, sizeof(d->chain), "%s", ev->chain);
	d->handle = ev->has_rule ? ev->rule_handle : 0;
	if (!d->by_policy && l)
		r = nftbl_listing_find(l, d->family, ev->table, ev->chain, ev->rule_handle);
	if (r && !(d->rule_text = strdup(r->text)))
		return -ENOMEM;
	if (r && r->comment && !(d->comment = strdup(r->comment)))
		return -ENOMEM;
	return 0;
}

static const char *rule_label(const struct nftrace_event *ev, const struct nftbl_listing *l,
			      char *buf, size_t len)
{
	const struct nftbl_rule *r = l ? nftbl_listing_find(l, fw_family_name(ev->family),
							    ev->table, ev->chain, ev->rule_handle)
				       : NULL;

	if (ev->type == NFT_TRACETYPE_POLICY)
		return "policy";
	if (r)
		return r->text;
	snprintf(buf, len, "rule handle %llu", (unsigned long long)ev->rule_handle);
	return buf;
}

static bool is_nat_chain(const struct nftbl_listing *l, const struct nftrace_event *ev)
{
	const struct nftbl_chain *c =
		l ? nftbl_listing_chain(l, fw_family_name(ev->family), ev->table, ev->chain) : NULL;

	return c && strcmp(c->type, "nat") == 0;
}

static bool is_terminal(const struct nftrace_event *ev, enum nftrace_verdict *ret)
{
	enum nftrace_verdict v = ev->verdict;

	if (ev->type == NFT_TRACETYPE_POLICY)
		v = ev->policy == NF_DROP ? NFTRACE_V_DROP : NFTRACE_V_ACCEPT;
	else if (ev->type != NFT_TRACETYPE_RULE)
		return false;
	*ret = v;
	return v == NFTRACE_V_ACCEPT || v == NFTRACE_V_DROP || v == NFTRACE_V_QUEUE ||
	       v == NFTRACE_V_STOLEN;
}

/*
 * The kernel sends at most 20 bytes of transport header: a SYN with options
 * (40 bytes of TCP header) does not parse as TCP, but its ports and flags are there.
 */
static void ports_from_quote(const struct nftrace_event *ev, struct pkt_info *pi)
{
	if ((pi->proto != IPPROTO_TCP && pi->proto != IPPROTO_UDP) || ev->th_len < 4)
		return;
	pi->has_ports = true;
	pi->sport = (uint16_t)(ev->th[0] << 8 | ev->th[1]);
	pi->dport = (uint16_t)(ev->th[2] << 8 | ev->th[3]);
	if (pi->proto == IPPROTO_TCP && ev->th_len >= 14)
		pi->tcp_flags = ev->th[13];
}

bool fw_event_info(const struct nftrace_event *ev, struct pkt_info *pi)
{
	*pi = (struct pkt_info){ 0 };
	if (!ev->nh_len || pkt_parse_l3(ev->nh, ev->nh_len, pi, NULL) < 0)
		return false;
	if (ev->th_len && pkt_parse_l4(ev->th, ev->th_len, pi, NULL) < 0)
		ports_from_quote(ev, pi);
	pi->payload = NULL; /* points into ev: not kept */
	pi->payload_len = 0;
	return true;
}

/* Headers at an end chain: the packet as it leaves (after NAT). */
static void take_final(struct fw_decision *d, const struct nftrace_event *ev)
{
	struct pkt_info pi;

	if (fw_event_info(ev, &pi)) {
		d->final = pi;
		d->has_final = true;
	}
}

/* Whether a rule's text has a ct expression ("ct state ...", "ct mark ..."), comment aside. */
static bool has_ct_expr(const char *text)
{
	const char *c = text ? strstr(text, "comment \"") : NULL;

	for (const char *p = text; p && (p = strstr(p, "ct ")) && (!c || p < c); p++)
		if (p == text || p[-1] == ' ' || p[-1] == '{' || p[-1] == '(')
			return true;
	return false;
}

/* Whether the ruleset makes the kernel track connections: a ct expression or a NAT chain. */
static bool uses_conntrack(const struct nftbl_listing *l)
{
	for (size_t i = 0; l && i < l->n_chains; i++)
		if (strcmp(l->chains[i].type, "nat") == 0)
			return true;
	for (size_t i = 0; l && i < l->n; i++)
		if (has_ct_expr(l->rules[i].text))
			return true;
	return false;
}

/*
 * Whether the packet had passed conntrack (prerouting/output, priority -200)
 * at this event: input, forward and postrouting chains all come after it, and
 * a rule with a ct expression that matched saw what conntrack left (nothing:
 * invalid, for nft too).
 */
static bool is_past_ct(const struct nftrace_event *ev, const struct nftbl_listing *l)
{
	const struct nftbl_chain *c;
	const struct nftbl_rule *r;

	if (is_end_chain(ev))
		return true;
	if (is_trace_table(ev))
		return false;
	c = l ? nftbl_listing_chain(l, fw_family_name(ev->family), ev->table, ev->chain) : NULL;
	if (c && (strcmp(c->hook, "input") == 0 || strcmp(c->hook, "forward") == 0 ||
		  strcmp(c->hook, "postrouting") == 0 || strcmp(c->hook, "egress") == 0))
		return true;
	r = ev->type == NFT_TRACETYPE_RULE && ev->has_rule && l
		    ? nftbl_listing_find(l, fw_family_name(ev->family), ev->table, ev->chain,
					 ev->rule_handle)
		    : NULL;
	return r && has_ct_expr(r->text);
}

/* No ct attributes, yet conntrack saw the packet: it found it invalid. */
static void derive_ct_state(struct fw_decision *d)
{
	if (d->has_ct_state || !d->ct_used || !d->past_ct)
		return;
	d->has_ct_state = true;
	d->ct_derived = true;
	d->ct_state = NF_CT_STATE_INVALID_BIT;
}

int fw_decide(const struct nftrace_event *evs, size_t n, const struct nftbl_listing *l,
	      struct fw_decision *ret)
{
	struct fw_decision d = { 0 };
	uint32_t oif = 0;
	bool egress;
	char hbuf[48];

	d.n_events = n;
	d.n_read = n;
	d.ct_used = uses_conntrack(l);
	egress = ends_at_egress(l);
	for (size_t i = 0; i < n; i++) {
		const struct nftrace_event *ev = &evs[i];
		enum nftrace_verdict v;

		if (ev->has_ct_state) {
			d.has_ct_state = true;
			d.ct_state = ev->ct_state;
		}
		d.past_ct = d.past_ct || is_past_ct(ev, l);
		if (ev->oif)
			oif = ev->oif; /* only the first event of a chain carries the interfaces */
		d.n_read = i + 1;
		if (is_end_chain(ev) && is_final(ev, oif, egress)) {
			d.delivered = true;
			take_final(&d, ev);
			break;
		}
		if (is_trace_table(ev))
			continue;
		if (ev->type == NFT_TRACETYPE_RULE &&
		    (ev->verdict == NFTRACE_V_JUMP || ev->verdict == NFTRACE_V_GOTO))
			path_add(&d, ev, rule_label(ev, l, hbuf, sizeof(hbuf)), ev->jump_target);
		if (!is_terminal(ev, &v))
			continue;
		/* NAT chains end in accept whether or not they translate: not a filtering verdict */
		if (v == NFTRACE_V_ACCEPT && d.decided && is_nat_chain(l, ev)) {
			path_add(&d, ev, rule_label(ev, l, hbuf, sizeof(hbuf)), "nat");
			continue;
		}
		path_add(&d, ev, rule_label(ev, l, hbuf, sizeof(hbuf)), nftrace_verdict_name(v));
		if (take_decider(&d, ev, l) < 0) {
			fw_decision_clear(&d);
			return -ENOMEM;
		}
		if (v == NFTRACE_V_DROP) {
			d.verdict = !d.by_policy && fw_rule_is_reject(d.rule_text)
					    ? FW_VERDICT_REJECT
					    : FW_VERDICT_DROP;
			break;
		}
		if (v != NFTRACE_V_ACCEPT)
			break; /* queued or stolen: the packet left nftables' hands */
	}
	if (d.delivered)
		d.verdict = FW_VERDICT_ACCEPT;
	derive_ct_state(&d);
	*ret = d;
	return 0;
}

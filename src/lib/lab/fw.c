/* SPDX-License-Identifier: MIT */
/*
 * lab/fw: firewall presets as data, port lists, and the nftables text of a
 * router's firewall.
 *
 * DOC: how the firewall is made (table inet nslab-fw, both families)
 * One forward chain. Outbound limits come first and hold whatever the flow's
 * state (`ct direction original`, so a change at run time stops flows in
 * progress too, and replies of flows let in are never limited): TCP and UDP
 * from the bridge to the uplink go only to the listed ports; ICMP is not
 * limited (ping and path MTU discovery keep working). Inbound, with
 * block_inbound, the uplink lets in what belongs to a flow of the inside
 * (conntrack's established and related: replies, ICMP errors such as Packet
 * Too Big) and what the router's own IPv4 NAT maps in (`ct status dnat`: a
 * full cone's mapping exists because the inside sent first, and filtering it
 * is the NAT's choice; NPTv6's one-to-one mapping is not such a choice), plus ICMPv6 echo requests (RFC 4890 section 4.3.1, as
 * OpenWrt's default does); every other new inbound flow of any protocol is
 * dropped silently (RFC 6092 REC-11, REC-12). Nothing is rejected: a dropped
 * flow times out, as behind the real boxes these presets stand for.
 */
#include "lab/fw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/plan.h"
#include "shared/macro.h"

struct fw_preset_def {
	const char *name;
	struct fw_config c;
};

#define ANY ((struct fw_ports){ .any = true })

/* Web is TCP 80 and 443, DNS is UDP 53 (and TCP 53 for a portal's resolver). */
static const struct fw_preset_def presets[] = {
	{ "none", { .enabled = false, .tcp = ANY, .udp = ANY } },
	{ "block-inbound", { .enabled = true, .block_inbound = true, .tcp = ANY, .udp = ANY } },
	{ "corporate",
	  { .enabled = true,
	    .block_inbound = true,
	    .tcp = { .n = 2, .lo = { 80, 443 }, .hi = { 80, 443 } },
	    .udp = { .n = 1, .lo = { 53 }, .hi = { 53 } } } },
	{ "captive-portal",
	  { .enabled = true,
	    .block_inbound = true,
	    .captive = true,
	    .tcp = { .n = 3, .lo = { 53, 80, 443 }, .hi = { 53, 80, 443 } },
	    .udp = { .n = 1, .lo = { 53 }, .hi = { 53 } } } },
};

int fw_preset(const char *name, struct fw_config *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++) {
		if (strcmp(presets[i].name, name) != 0)
			continue;
		*ret = presets[i].c;
		snprintf(ret->preset, sizeof(ret->preset), "%s", presets[i].name);
		return 0;
	}
	return -ENOENT;
}

const char *fw_preset_list(void)
{
	return "none, block-inbound, corporate or captive-portal";
}

int fw_release(struct fw_config *c)
{
	if (!c->enabled || !c->captive)
		return -EINVAL;
	c->released = true;
	c->tcp = ANY;
	c->udp = (struct fw_ports){ .n = 1, .lo = { 53 }, .hi = { 53 } };
	return 0;
}

const char *fw_name(const struct fw_config *c)
{
	if (!c->enabled)
		return "none";
	if (c->released)
		return "captive-portal-released";
	return c->preset[0] ? c->preset : "custom";
}

/* A decimal in 1..65535, without sign or blanks; *end after it. */
static int parse_port(const char *s, const char **end, unsigned *ret)
{
	unsigned v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (p == s || v == 0)
		return -EINVAL;
	*end = p;
	*ret = v;
	return 0;
}

int fw_ports_parse_one(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned a, b;
	const char *end;

	if (parse_port(s, &end, &a) < 0)
		return -EINVAL;
	b = a;
	if (*end == '-' && parse_port(end + 1, &end, &b) < 0)
		return -EINVAL;
	if (*end || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

bool fw_where_of(const struct plan_node *pn, struct fw_where *ret)
{
	if (pn->kind != PLAN_ROUTER || pn->n_ifaces < 1)
		return false;
	*ret = (struct fw_where){ .wan = pn->ifaces[0].name, .lan = pn->bridge };
	return true;
}

/* Ruleset text */

static void put_ports(FILE *f, const struct fw_ports *p)
{
	fputs("{ ", f);
	for (size_t i = 0; i < p->n; i++) {
		fprintf(f, "%s%u", i ? ", " : "", p->lo[i]);
		if (p->hi[i] != p->lo[i])
			fprintf(f, "-%u", p->hi[i]);
	}
	fputs(" }", f);
}

/* Outbound TCP or UDP only to the listed ports (no limit: no rule). */
static void gen_outbound(FILE *f, const struct fw_where *w, const char *proto,
			 const struct fw_ports *p)
{
	if (p->any)
		return;
	fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" ct direction original ", w->lan, w->wan);
	if (p->n == 0) {
		fprintf(f, "meta l4proto %s drop\n", proto);
		return;
	}
	fprintf(f, "%s dport != ", proto);
	put_ports(f, p);
	fputs(" drop\n", f);
}

static void gen_inbound(FILE *f, const struct fw_where *w)
{
	fprintf(f,
		"\t\tiifname \"%s\" ct state established,related accept\n"
		"\t\tiifname \"%s\" meta nfproto ipv4 ct status dnat accept\n"
		"\t\tiifname \"%s\" icmpv6 type echo-request accept\n"
		"\t\tiifname \"%s\" drop\n",
		w->wan, w->wan, w->wan, w->wan);
}

const char *fw_delete_text(void)
{
	return "table inet " FW_TABLE " {\n}\ndelete table inet " FW_TABLE "\n";
}

int fw_ruleset_text(const struct fw_config *c, const struct fw_where *w, char **ret,
		    nslab_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int failed;

	if (!f)
		return nslab_err_set(err, errno, "firewall ruleset");
	fprintf(f,
		"# nslab firewall: %s (block inbound %s)\ntable inet " FW_TABLE " {\n"
		"\tchain forward {\n\t\ttype filter hook forward priority filter; policy "
		"accept;\n",
		fw_name(c), c->block_inbound ? "on" : "off");
	gen_outbound(f, w, "tcp", &c->tcp);
	gen_outbound(f, w, "udp", &c->udp);
	if (c->block_inbound)
		gen_inbound(f, w);
	fputs("\t}\n}\n", f);
	failed = ferror(f);
	if (fclose(f) != 0 || failed)
		return nslab_err_set(err, ENOMEM, "firewall ruleset");
	*ret = TAKE_PTR(buf);
	return 0;
}

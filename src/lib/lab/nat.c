/* SPDX-License-Identifier: MIT */
/*
 * lab/nat: NAT presets as data, the value parsers of the `nat:` key, and the
 * nftables text of a router's NAT.
 *
 * DOC: how the matrix is made of nftables (table ip nslab-nat)
 * Linux's snat/masquerade alone is endpoint-independent only by accident: it
 * keeps the internal port whenever the 5-tuple is free, so two devices that
 * bind the same port get the same external port towards different servers,
 * and one of them gets another port towards a server both talk to. The table
 * keeps the mappings itself, per protocol:
 *  - map own_P:  external port -> internal address . port (every mapping)
 *  - map eim_P:  internal address . port [. remote address for ADM] -> external port
 *  - set seen_P: external port . remote address (ADF only)
 * A postrouting filter chain after srcnat records each mapping from conntrack
 * (ct original / ct reply), refreshing the entries on every packet either way.
 * A new outbound flow takes, in order: its recorded mapping (EIM, ADM); its
 * own port if no mapping owns that port (port preservation); else a random
 * port of the range. EDM never records, so each remote address:port gets a
 * new mapping. Filtering: APDF is conntrack's own (only replies come in);
 * ADF and EIF dnat a new inbound flow through own_P when the remote address
 * was seen (ADF) or always (EIF). Hairpinning dnats flows from the inside to
 * the external address the same way and snats them as outbound flows (a
 * packet mark bit tells them apart in postrouting, see NAT_HAIRPIN_MARK).
 * Unsolicited flows to the router itself or through it are dropped, as a
 * NAT box drops them (no RST, no ICMP).
 */
#include "lab/nat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"

#define NAT_PROTOS	 2
/*
 * Flows hairpinned by prerouting carry this packet mark bit to postrouting,
 * where they are snat'ed like outbound ones: in postrouting, iifname does not
 * match the bridge for a packet dnat'ed away from a local address (measured:
 * the rule counted nothing while `oifname "br0"` counted the packet). The mark
 * is scrubbed when the packet crosses into the next namespace.
 */
#define NAT_HAIRPIN_MARK "0x40000000"

struct nat_preset_def {
	const char *name;
	struct nat_config c;
};

/*
 * Timeouts: home routers follow RFC 4787 REQ-5's floor for UDP (2 min) only
 * for streams and RFC 5382's for TCP (2 h 4 min established, 4 min
 * transitory); the carrier NAT follows RFC 6888 (RFC 4787 compliance: 2 min
 * UDP); cloud-nat takes a public cloud's documented defaults (UDP 30 s, TCP
 * established 1200 s, transitory 30 s); corporate firewalls are tighter than
 * home ones on TCP.
 */
static const struct nat_preset_def presets[] = {
	{ "none", { .enabled = false } },
	{ "home",
	  { .enabled = true,
	    .mapping = NAT_MAP_EIM,
	    .filtering = NAT_FILT_APDF,
	    .timeouts = { 30, 180, 7440, 240 } } },
	{ "full-cone",
	  { .enabled = true,
	    .mapping = NAT_MAP_EIM,
	    .filtering = NAT_FILT_EIF,
	    .hairpin = true,
	    .timeouts = { 30, 180, 7440, 240 } } },
	{ "restricted-cone",
	  { .enabled = true,
	    .mapping = NAT_MAP_EIM,
	    .filtering = NAT_FILT_ADF,
	    .timeouts = { 30, 180, 7440, 240 } } },
	{ "corporate",
	  { .enabled = true,
	    .mapping = NAT_MAP_EDM,
	    .filtering = NAT_FILT_APDF,
	    .timeouts = { 30, 120, 3600, 120 } } },
	{ "cloud-nat",
	  { .enabled = true,
	    .mapping = NAT_MAP_EDM,
	    .filtering = NAT_FILT_APDF,
	    .timeouts = { 30, 30, 1200, 30 } } },
	{ "cgnat",
	  { .enabled = true,
	    .mapping = NAT_MAP_EIM,
	    .filtering = NAT_FILT_ADF,
	    .hairpin = true,
	    .carrier = true,
	    .timeouts = { 120, 300, 7440, 240 },
	    .port_lo = 1024,
	    .port_hi = 65535 } },
};

int nat_preset(const char *name, struct nat_config *ret)
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

const char *nat_preset_list(void)
{
	return "none, home, full-cone, restricted-cone, corporate, cloud-nat or cgnat";
}

static const char *const mapping_names[] = { "eim", "adm", "edm", NULL };
static const char *const filtering_names[] = { "eif", "adf", "apdf", NULL };

const char *nat_mapping_name(enum nat_mapping m)
{
	return (unsigned)m <= NAT_MAP_EDM ? mapping_names[m] : "?";
}

const char *nat_filtering_name(enum nat_filtering f)
{
	return (unsigned)f <= NAT_FILT_APDF ? filtering_names[f] : "?";
}

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -ENOENT;
}

int nat_mapping_parse(const char *s, enum nat_mapping *ret)
{
	int i = name_index(mapping_names, s);

	if (i < 0)
		return i;
	*ret = (enum nat_mapping)i;
	return 0;
}

int nat_filtering_parse(const char *s, enum nat_filtering *ret)
{
	int i = name_index(filtering_names, s);

	if (i < 0)
		return i;
	*ret = (enum nat_filtering)i;
	return 0;
}

/* A decimal without sign or leading blanks, at most max. */
static int parse_num(const char *s, const char **end, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return -EINVAL;
	}
	if (p == s)
		return -EINVAL;
	*end = p;
	*ret = v;
	return 0;
}

int nat_duration_parse(const char *s, unsigned *ret)
{
	unsigned long v, mul = 1;
	const char *end;

	if (parse_num(s, &end, NAT_TIMEOUT_MAX, &v) < 0)
		return -EINVAL;
	if (*end == 'm')
		mul = 60;
	else if (*end == 'h')
		mul = 3600;
	else if (*end != 's' && *end != '\0')
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	if (v == 0 || v * mul > NAT_TIMEOUT_MAX)
		return -EINVAL;
	*ret = (unsigned)(v * mul);
	return 0;
}

int nat_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	const char *end;

	if (parse_num(s, &end, 65535, &a) < 0 || *end != '-' ||
	    parse_num(end + 1, &end, 65535, &b) < 0 || *end || a == 0 || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* Ruleset text */

struct gen {
	FILE *f;
	const struct nat_config *c;
	char ext[INET_ADDRSTRLEN];
	const char *wan, *lan;
	unsigned lo, hi;
};

static const char *const protos[NAT_PROTOS] = { "udp", "tcp" };

/* How long a mapping's entries live after its last packet: conntrack's own timeout. */
static unsigned map_timeout(const struct nat_config *c, int p, bool stream)
{
	if (p == 1)
		return c->timeouts.tcp_established;
	return stream ? c->timeouts.udp_stream : c->timeouts.udp;
}

static unsigned map_timeout_max(const struct nat_config *c, int p)
{
	unsigned a = map_timeout(c, p, false), b = map_timeout(c, p, true);

	return a > b ? a : b;
}

/*
 * A dynamic set's size is both its most elements and the kernel's first hash
 * size (nft_rhash_init()'s nelem_hint): 65535 zeroed a 1 MiB table per set and
 * walked it for each rule bound to it, 20 ms of CPU per router (measured with
 * perf: clear_page_erms, nft_rhash_walk from nf_tables_bind_set); 8192 costs
 * about 1 ms and still holds 8192 mappings per protocol.
 */
#define NAT_SET_SIZE "8192"

static void gen_sets(struct gen *g)
{
	const struct nat_config *c = g->c;

	for (int p = 0; p < NAT_PROTOS; p++) {
		const char *P = protos[p];
		unsigned t = map_timeout_max(c, p);

		fprintf(g->f,
			"\tmap own_%s {\n\t\ttypeof %s sport : ip saddr . %s sport\n"
			"\t\tsize " NAT_SET_SIZE
			"\n\t\tflags dynamic,timeout\n\t\ttimeout %us\n\t}\n",
			P, P, P, t);
		if (c->mapping != NAT_MAP_EDM)
			fprintf(g->f,
				"\tmap eim_%s {\n\t\ttypeof ip saddr . %s sport%s : %s sport\n"
				"\t\tsize " NAT_SET_SIZE
				"\n\t\tflags dynamic,timeout\n\t\ttimeout %us\n\t}\n",
				P, P, c->mapping == NAT_MAP_ADM ? " . ip daddr" : "", P, t);
		if (c->filtering == NAT_FILT_ADF)
			fprintf(g->f,
				"\tset seen_%s {\n\t\ttypeof %s sport . ip daddr\n"
				"\t\tsize " NAT_SET_SIZE
				"\n\t\tflags dynamic,timeout\n\t\ttimeout %us\n\t}\n",
				P, P, t);
	}
}

/*
 * Conntrack's timeouts as ct timeout objects given to every new flow the
 * router forwards or receives: per router, in the table (the namespace's
 * sysctls would do as well, but a write under /proc/sys grows slower with
 * every namespace on the host).
 */
static void gen_timeouts(struct gen *g)
{
	const struct nat_timeouts *t = &g->c->timeouts;
	unsigned x = t->tcp_transitory;

	fprintf(g->f,
		"\tct timeout udp-timeouts {\n\t\tprotocol udp\n\t\tl3proto ip\n"
		"\t\tpolicy = { unreplied : %u, replied : %u }\n\t}\n",
		t->udp, t->udp_stream);
	fprintf(g->f,
		"\tct timeout tcp-timeouts {\n\t\tprotocol tcp\n\t\tl3proto ip\n"
		"\t\tpolicy = { established : %u, syn_sent : %u, syn_recv : %u, fin_wait : %u, "
		"close_wait : %u, last_ack : %u, time_wait : %u }\n\t}\n",
		t->tcp_established, x, x, x, x, x, x);
	fprintf(g->f, "\tchain timeouts {\n\t\ttype filter hook prerouting priority filter; "
		      "policy accept;\n"
		      "\t\tct state new meta l4proto udp ct timeout set \"udp-timeouts\"\n"
		      "\t\tct state new meta l4proto tcp ct timeout set \"tcp-timeouts\"\n\t}\n");
}

static void gen_prerouting(struct gen *g)
{
	const struct nat_config *c = g->c;

	fprintf(g->f, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
		      "policy accept;\n");
	for (int p = 0; p < NAT_PROTOS; p++) {
		const char *P = protos[p];

		if (c->filtering == NAT_FILT_EIF)
			fprintf(g->f,
				"\t\tiifname \"%s\" ip daddr %s dnat ip to %s dport map @own_%s\n",
				g->wan, g->ext, P, P);
		else if (c->filtering == NAT_FILT_ADF)
			fprintf(g->f,
				"\t\tiifname \"%s\" ip daddr %s %s dport . ip saddr @seen_%s "
				"dnat ip to %s dport map @own_%s\n",
				g->wan, g->ext, P, P, P, P);
		if (c->hairpin)
			fprintf(g->f,
				"\t\tiifname \"%s\" ip daddr %s meta mark set meta mark "
				"| " NAT_HAIRPIN_MARK " dnat ip to %s dport map @own_%s\n",
				g->lan, g->ext, P, P);
	}
	fprintf(g->f, "\t}\n");
}

static void gen_snat_chain(struct gen *g, int p)
{
	const struct nat_config *c = g->c;
	const char *P = protos[p];
	char keep[32] = "";

	fprintf(g->f, "\tchain snat_%s {\n", P);
	if (c->mapping != NAT_MAP_EDM) {
		const char *key = c->mapping == NAT_MAP_ADM ? " . ip daddr" : "";

		fprintf(g->f,
			"\t\tip saddr . %s sport%s @eim_%s snat ip to %s : ip saddr . %s sport%s "
			"map @eim_%s\n",
			P, key, P, g->ext, P, key, P);
	}
	if (c->port_lo)
		snprintf(keep, sizeof(keep), "%s sport %u-%u ", P, g->lo, g->hi);
	fprintf(g->f, "\t\t%s%s sport != @own_%s snat ip to %s : %u-%u\n", keep, P, P, g->ext,
		c->port_lo ? g->lo : 1, g->hi);
	fprintf(g->f, "\t\tmeta l4proto %s snat ip to %s : %u-%u fully-random\n\t}\n", P, g->ext,
		g->lo, g->hi);
}

static void gen_postrouting(struct gen *g)
{
	fprintf(g->f, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; "
		      "policy accept;\n");
	for (int p = 0; p < NAT_PROTOS; p++)
		fprintf(g->f, "\t\tiifname \"%s\" oifname \"%s\" meta l4proto %s jump snat_%s\n",
			g->lan, g->wan, protos[p], protos[p]);
	fprintf(g->f, "\t\tiifname \"%s\" oifname \"%s\" snat ip to %s\n", g->lan, g->wan, g->ext);
	for (int p = 0; g->c->hairpin && p < NAT_PROTOS; p++)
		fprintf(g->f,
			"\t\toifname \"%s\" meta mark & " NAT_HAIRPIN_MARK " == " NAT_HAIRPIN_MARK
			" ct status dnat meta l4proto %s jump snat_%s\n",
			g->lan, protos[p], protos[p]);
	fprintf(g->f, "\t}\n");
}

/* The mapping of one snat'ed flow, recorded (or refreshed) with timeout t. */
static void gen_record_snat(struct gen *g, int p, const char *cond, unsigned t)
{
	const struct nat_config *c = g->c;
	const char *P = protos[p];

	fprintf(g->f,
		"\t\tct status snat meta l4proto %s %supdate @own_%s { ct reply proto-dst timeout "
		"%us : "
		"ct original ip saddr . ct original proto-src }\n",
		P, cond, P, t);
	if (c->mapping != NAT_MAP_EDM)
		fprintf(g->f,
			"\t\tct status snat meta l4proto %s %supdate @eim_%s { ct original ip "
			"saddr . "
			"ct original proto-src%s timeout %us : ct reply proto-dst }\n",
			P, cond, P, c->mapping == NAT_MAP_ADM ? " . ct original ip daddr" : "", t);
	if (c->filtering == NAT_FILT_ADF)
		fprintf(g->f,
			"\t\tct status snat meta l4proto %s %supdate @seen_%s { ct reply proto-dst "
			". "
			"ct original ip daddr timeout %us }\n",
			P, cond, P, t);
}

/* Flows let in through a mapping (EIF, ADF, hairpin) keep it alive too. */
static void gen_record_dnat(struct gen *g, int p)
{
	const char *P = protos[p];

	fprintf(g->f,
		"\t\tct status dnat ct original ip daddr %s meta l4proto %s update @own_%s { ct "
		"original proto-dst timeout %us : ct reply ip saddr . ct reply proto-src }\n",
		g->ext, P, P, map_timeout_max(g->c, p));
}

static void gen_record(struct gen *g)
{
	const struct nat_config *c = g->c;

	fprintf(g->f, "\tchain record {\n\t\ttype filter hook postrouting priority srcnat + 1; "
		      "policy accept;\n");
	/* UDP: conntrack's udp timeout, then udp_stream once replies were seen (the later update wins) */
	gen_record_snat(g, 0, "", map_timeout(c, 0, false));
	gen_record_snat(g, 0, "ct status seen-reply ", map_timeout(c, 0, true));
	gen_record_snat(g, 1, "", map_timeout(c, 1, true));
	if (c->filtering != NAT_FILT_APDF || c->hairpin)
		for (int p = 0; p < NAT_PROTOS; p++)
			gen_record_dnat(g, p);
	fprintf(g->f, "\t}\n");
}

static void gen_filter(struct gen *g)
{
	fprintf(g->f,
		"\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tiifname \"%s\" meta l4proto { tcp, udp } ct state new drop\n",
		g->wan);
	/*
	 * From the inside, to the external address: hairpinned flows are dnat'ed
	 * away before input, so what reaches input has no mapping. Dropped
	 * unconfirmed, it leaves no conntrack entry that would keep later
	 * packets of the flow from being hairpinned once the mapping exists.
	 */
	fprintf(g->f,
		"\t\tiifname \"%s\" ip daddr %s meta l4proto { tcp, udp } ct state new "
		"drop\n",
		g->lan, g->ext);
	fprintf(g->f,
		"\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy "
		"accept;\n"
		"\t\tiifname \"%s\" ct state new ct status dnat accept\n"
		"\t\tiifname \"%s\" ct state new drop\n\t}\n",
		g->wan, g->wan);
}

const char *nat_delete_text(void)
{
	return "table ip " NAT_TABLE " {\n}\ndelete table ip " NAT_TABLE "\n";
}

int nat_ruleset_text(const struct nat_config *c, const struct nat_where *w, char **ret,
		     nslab_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct gen g = { .c = c, .wan = w->wan, .lan = w->lan };
	int failed;

	g.lo = c->port_lo ? c->port_lo : NAT_PORT_LO_DEF;
	g.hi = c->port_lo ? c->port_hi : NAT_PORT_HI_DEF;
	inet_ntop(AF_INET, &w->ext, g.ext, sizeof(g.ext));
	g.f = open_memstream(&buf, &len);
	if (!g.f)
		return nslab_err_set(err, errno, "NAT ruleset");
	fprintf(g.f,
		"# nslab NAT: %s (mapping %s, filtering %s, hairpin %s)\ntable ip " NAT_TABLE
		" {\n",
		c->preset[0] ? c->preset : "custom", nat_mapping_name(c->mapping),
		nat_filtering_name(c->filtering), c->hairpin ? "on" : "off");
	gen_sets(&g);
	gen_timeouts(&g);
	gen_prerouting(&g);
	for (int p = 0; p < NAT_PROTOS; p++)
		gen_snat_chain(&g, p);
	gen_postrouting(&g);
	gen_record(&g);
	gen_filter(&g);
	fprintf(g.f, "}\n");
	failed = ferror(g.f);
	if (fclose(g.f) != 0 || failed)
		return nslab_err_set(err, ENOMEM, "NAT ruleset");
	*ret = TAKE_PTR(buf);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Firewall verdicts from traces, and the nft text helpers behind them:
 * decisions from synthetic trace events (accept, drop by rule or policy,
 * reject, inconclusive, jumps, ct state, NAT'd headers), rule matching,
 * the listing parser, error locations and include detection.
 */
#include "fwtest/verdict.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <errno.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "nl/ct.h"

static const char listing_text[] =
	"table inet nslab_trace { # handle 1\n"
	"\tchain pre { # handle 1\n"
	"\t\ttype filter hook prerouting priority -2147483648; policy accept;\n"
	"\t\tmeta nftrace set 1 # handle 5\n"
	"\t}\n"
	"}\n"
	"table inet filter { # handle 2\n"
	"\tset allowed { # handle 7\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 10.0.0.1,\n"
	"\t\t\t     10.0.0.3 }\n"
	"\t}\n"
	"\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\tct state established,related accept # handle 2\n"
	"\t\ttcp dport { 22, 2222 } accept comment \"ssh\" # handle 3\n"
	"\t\tudp dport 161 reject # handle 4\n"
	"\t\tjump extra # handle 6\n"
	"\t}\n"
	"\n"
	"\tchain extra { # handle 5\n"
	"\t\tip saddr @allowed accept comment \"reject-free zone\" # handle 8\n"
	"\t}\n"
	"}\n"
	"table ip nat { # handle 3\n"
	"\tchain postrouting { # handle 1\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"eth1\" masquerade comment \"masq\" # handle 2\n"
	"\t}\n"
	"}\n";

static struct nftbl_listing listing;

static int setup(void **state)
{
	(void)state;
	return nftbl_parse_listing(listing_text, &listing, NULL);
}

static int teardown(void **state)
{
	(void)state;
	nftbl_listing_clear(&listing);
	return 0;
}

static struct nftrace_event ev_rule(const char *table, const char *chain, uint64_t handle,
				    enum nftrace_verdict v)
{
	struct nftrace_event ev = { .id = 7, .type = NFT_TRACETYPE_RULE, .family = NFPROTO_INET };

	snprintf(ev.table, sizeof(ev.table), "%s", table);
	snprintf(ev.chain, sizeof(ev.chain), "%s", chain);
	ev.has_rule = true;
	ev.rule_handle = handle;
	ev.verdict = v;
	return ev;
}

static struct nftrace_event ev_policy(const char *table, const char *chain, uint32_t policy)
{
	struct nftrace_event ev = { .id = 7, .type = NFT_TRACETYPE_POLICY, .family = NFPROTO_INET };

	snprintf(ev.table, sizeof(ev.table), "%s", table);
	snprintf(ev.chain, sizeof(ev.chain), "%s", chain);
	ev.policy = policy;
	return ev;
}

static void test_listing(void **state)
{
	const struct nftbl_rule *r;

	(void)state;
	assert_int_equal(listing.n, 7);
	assert_int_equal(listing.n_chains, 4);
	assert_string_equal(nftbl_listing_chain(&listing, "inet", "filter", "input")->type,
			    "filter");
	assert_string_equal(nftbl_listing_chain(&listing, "inet", "filter", "input")->hook,
			    "input");
	assert_string_equal(nftbl_listing_chain(&listing, "inet", "filter", "extra")->type, "");
	assert_string_equal(nftbl_listing_chain(&listing, "ip", "nat", "postrouting")->type, "nat");
	assert_null(nftbl_listing_chain(&listing, "inet", "nat", "postrouting"));
	r = nftbl_listing_find(&listing, "inet", "filter", "input", 3);
	assert_non_null(r);
	assert_string_equal(r->text, "tcp dport { 22, 2222 } accept comment \"ssh\"");
	assert_string_equal(r->comment, "ssh");
	r = nftbl_listing_find(&listing, "inet", "filter", "extra", 8);
	assert_non_null(r);
	assert_string_equal(r->comment, "reject-free zone");
	assert_null(nftbl_listing_find(&listing, "inet", "filter", "input", 8));
	assert_null(nftbl_listing_find(&listing, "ip", "filter", "input", 3));
}

static void test_listing_unbalanced(void **state)
{
	struct nftbl_listing l = { 0 };
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nftbl_parse_listing("table ip t {\n}\n}\n", &l, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "line 3"));
	assert_null(l.rules);
}

/* libnfnetlink's copy of nfnetlink.h (through conntrack's header) predates nftables */
#ifndef NFNL_SUBSYS_NFTABLES
#define NFNL_SUBSYS_NFTABLES 10
#endif

/* nft allows 255-byte table and chain names (NFT_NAME_MAXLEN 256): the listing keeps them whole. */
static void test_listing_long_names(void **state)
{
	char table[256], chain[256], *text;
	struct nftbl_listing l = { 0 };
	const struct nftbl_rule *r;
	nslab_error err = { 0 };

	(void)state;
	memset(table, 't', 255);
	table[255] = '\0';
	memset(chain, 'c', 255);
	chain[255] = '\0';
	assert_true(asprintf(&text,
			     "table inet %s { # handle 1\n\tchain %s { # handle 2\n"
			     "\t\ttcp dport 22 accept # handle 3\n\t}\n}\n",
			     table, chain) > 0);
	assert_int_equal(nftbl_parse_listing(text, &l, &err), 0);
	r = nftbl_listing_find(&l, "inet", table, chain, 3);
	assert_non_null(r);
	assert_int_equal(strlen(r->table), 255);
	assert_int_equal(strlen(r->chain), 255);
	assert_string_equal(r->text, "tcp dport 22 accept");
	assert_non_null(nftbl_listing_chain(&l, "inet", table, chain));
	nftbl_listing_clear(&l);
	free(text);
	/* a name longer than nft allows is an error, not a silently shorter name */
	table[254] = '\0';
	assert_true(asprintf(&text, "table inet %sxx {\n}\n", table) > 0);
	assert_int_equal(nftbl_parse_listing(text, &l, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "table name too long"));
	free(text);
}

/* A trace message with 255-byte table, chain and jump target names keeps them whole. */
static void test_trace_long_names(void **state)
{
	char buf[4096] __attribute__((aligned(4))), name[256], jump[256];
	struct nftrace_event ev = { 0 };
	nslab_error err = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *nest;

	(void)state;
	memset(name, 'n', 255);
	name[255] = '\0';
	memset(jump, 'j', 255);
	jump[255] = '\0';
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(7));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, name);
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, name);
	mnl_attr_put_u64(nlh, NFTA_TRACE_RULE_HANDLE, htobe64(3));
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, jump);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(nftrace_parse(nlh, &ev, &err), 0);
	assert_int_equal(ev.id, 7);
	assert_string_equal(ev.table, name);
	assert_string_equal(ev.chain, name);
	assert_string_equal(ev.jump_target, jump);
}

/*
 * Malformed trace messages are -EPROTO, untouched event: a name without its
 * NUL (libnftnl 1.2 copied past it with strdup()), a jump without its target
 * (libnftnl exited the process), a conntrack state of the wrong size.
 */
static void test_trace_malformed(void **state)
{
	static const char unterminated[4] = { 'p', 'r', 'e', 'x' };
	char buf[4096] __attribute__((aligned(4)));
	nslab_error err = { 0 };

	(void)state;
	for (int c = 0; c < 3; c++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct nftrace_event ev = { .id = 42 };
		struct nfgenmsg *nfg;
		struct nlattr *nest;

		nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = NFPROTO_INET;
		mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(7));
		mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
		if (c == 0)
			mnl_attr_put(nlh, NFTA_TRACE_CHAIN, sizeof(unterminated), unterminated);
		if (c == 1) {
			nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
			mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
			mnl_attr_nest_end(nlh, nest);
		}
		if (c == 2)
			mnl_attr_put_u64(nlh, 21 /* NFTA_TRACE_CT_STATE */, 8);
		assert_int_equal(nftrace_parse(nlh, &ev, &err), -EPROTO);
		assert_int_equal(ev.id, 42);
	}
}

/* The conntrack state Linux 6.8 added (NFTA_TRACE_CT_STATE, 21) is read. */
static void test_trace_ct_state(void **state)
{
	char buf[4096] __attribute__((aligned(4)));
	struct nftrace_event ev = { 0 };
	nslab_error err = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	(void)state;
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(7));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_POLICY));
	mnl_attr_put_u32(nlh, NFTA_TRACE_POLICY, htonl(NF_DROP));
	mnl_attr_put_u32(nlh, 21 /* NFTA_TRACE_CT_STATE */, htonl(8));
	assert_int_equal(nftrace_parse(nlh, &ev, &err), 0);
	assert_true(ev.has_ct_state);
	assert_int_equal(ev.ct_state, 8);
	assert_int_equal(ev.policy, NF_DROP);
	assert_false(ev.has_rule);
	assert_string_equal(ev.table, "");
}

static void test_accept_by_rule(void **state)
{
	struct nftrace_event evs[] = {
		ev_rule(FW_TRACE_TABLE, "pre", 5, NFTRACE_V_CONTINUE),
		ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT),
		ev_rule("filter", "input", 3, NFTRACE_V_ACCEPT),
		ev_policy(FW_TRACE_TABLE, "in_end", NF_ACCEPT),
	};
	struct fw_decision d;

	(void)state;
	evs[2].has_ct_state = true;
	evs[2].ct_state = 8; /* new */
	assert_int_equal(fw_decide(evs, 4, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(d.delivered);
	assert_false(d.by_policy);
	assert_string_equal(d.chain, "input");
	assert_true(fw_rule_matches(&d, "ssh"));
	assert_true(fw_rule_matches(&d, "dport { 22"));
	assert_false(fw_rule_matches(&d, "policy"));
	assert_false(fw_rule_matches(&d, "http"));
	assert_true(d.has_ct_state);
	assert_int_equal(d.ct_state, 8);
	assert_non_null(strstr(d.path, "inet filter input"));
	assert_non_null(strstr(d.path, "-> accept"));
	fw_decision_clear(&d);
}

/*
 * Two packets of one flow with one trace id (the kernel's id hashes the skb's
 * address, and the ACK may land in the skb the SYN freed): the decision reads
 * the SYN's events up to the one that delivered it and says where it stopped,
 * so the ACK after it is read for the flow's latest state (fwtest/collect.c).
 */
static void test_read_stops_at_decision(void **state)
{
	struct nftrace_event evs[] = {
		ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT),
		ev_rule("filter", "input", 3, NFTRACE_V_ACCEPT),
		ev_policy(FW_TRACE_TABLE, "in_end", NF_ACCEPT),
		ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT),
		ev_rule("filter", "input", 2, NFTRACE_V_ACCEPT),
		ev_policy(FW_TRACE_TABLE, "in_end", NF_ACCEPT),
	};
	struct fw_decision d;

	(void)state;
	evs[1].has_ct_state = true;
	evs[1].ct_state = 8; /* new */
	evs[4].has_ct_state = true;
	evs[4].ct_state = 2; /* established */
	assert_int_equal(fw_decide(evs, 6, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_int_equal(d.ct_state, 8);
	assert_int_equal(d.n_read, 3);
	fw_decision_clear(&d);
	assert_int_equal(fw_decide(evs, 2, &listing, &d), 0); /* not decided yet: all read */
	assert_int_equal(d.n_read, 2);
	fw_decision_clear(&d);
}

/*
 * The kernel sends no ct attributes for a packet conntrack found invalid: a
 * trace past conntrack without them, under a ruleset that uses conntrack, is
 * invalid; untracked (notrack) keeps the state the kernel sent; no conntrack
 * in the ruleset, or a trace that ends before it, derives nothing.
 */
static void test_ct_invalid_derived(void **state)
{
	struct nftrace_event evs[] = {
		ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT),
		ev_policy("filter", "input", NF_DROP),
	};
	struct fw_decision d;

	(void)state;
	assert_int_equal(fw_decide(evs, 2, &listing, &d), 0);
	assert_true(d.ct_used);
	assert_true(d.past_ct);
	assert_true(d.has_ct_state);
	assert_true(d.ct_derived);
	assert_int_equal(d.ct_state, NF_CT_STATE_INVALID_BIT);
	fw_decision_clear(&d);

	assert_int_equal(fw_decide(evs, 2, NULL, &d), 0); /* no listing: no conntrack in use */
	assert_false(d.ct_used);
	assert_false(d.has_ct_state);
	fw_decision_clear(&d);

	assert_int_equal(fw_decide(evs, 1, &listing, &d), 0); /* ends before conntrack */
	assert_false(d.past_ct);
	assert_false(d.has_ct_state);
	fw_decision_clear(&d);

	evs[1].has_ct_state = true;
	evs[1].ct_state = NF_CT_STATE_UNTRACKED_BIT;
	assert_int_equal(fw_decide(evs, 2, &listing, &d), 0);
	assert_false(d.ct_derived);
	assert_int_equal(d.ct_state, NF_CT_STATE_UNTRACKED_BIT);
	fw_decision_clear(&d);
}

static void test_drop_by_policy(void **state)
{
	struct nftrace_event evs[] = {
		ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT),
		ev_policy("filter", "input", NF_DROP),
	};
	struct fw_decision d;

	(void)state;
	assert_int_equal(fw_decide(evs, 2, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_DROP);
	assert_true(d.by_policy);
	assert_false(d.delivered);
	assert_true(fw_rule_matches(&d, "policy"));
	assert_false(fw_rule_matches(&d, "ssh"));
	fw_decision_clear(&d);
}

static void test_reject(void **state)
{
	struct nftrace_event evs[] = {
		ev_rule("filter", "input", 4, NFTRACE_V_DROP),
		/* nothing after a drop counts, even an end chain */
		ev_policy(FW_TRACE_TABLE, "in_end", NF_ACCEPT),
	};
	struct fw_decision d;

	(void)state;
	assert_int_equal(fw_decide(evs, 2, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_REJECT);
	assert_false(d.delivered);
	assert_string_equal(d.rule_text, "udp dport 161 reject");
	fw_decision_clear(&d);
}

static void test_jump_then_accept(void **state)
{
	struct nftrace_event evs[] = {
		ev_rule("filter", "input", 6, NFTRACE_V_JUMP),
		ev_rule("filter", "extra", 8, NFTRACE_V_ACCEPT),
		ev_policy(FW_TRACE_TABLE, "in_end", NF_ACCEPT),
	};
	struct fw_decision d;

	(void)state;
	snprintf(evs[0].jump_target, sizeof(evs[0].jump_target), "extra");
	assert_int_equal(fw_decide(evs, 3, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_string_equal(d.chain, "extra");
	/* "reject" in a comment does not make a rule a reject */
	assert_false(fw_rule_is_reject(d.rule_text));
	assert_non_null(strstr(d.path, "-> extra"));
	fw_decision_clear(&d);
}

static void test_nat_accept_is_not_the_decider(void **state)
{
	struct nftrace_event evs[] = {
		ev_rule("filter", "input", 3, NFTRACE_V_ACCEPT),
		ev_rule("nat", "postrouting", 2, NFTRACE_V_ACCEPT),
		ev_policy(FW_TRACE_TABLE, "post_end", NF_ACCEPT),
	};
	struct fw_decision d;

	(void)state;
	evs[1].family = NFPROTO_IPV4;
	assert_int_equal(fw_decide(evs, 3, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(fw_rule_matches(&d, "ssh"));
	assert_false(fw_rule_matches(&d, "masq"));
	assert_non_null(strstr(d.path, "ip nat postrouting: oifname \"eth1\" masquerade"));
	assert_non_null(strstr(d.path, "-> nat"));
	fw_decision_clear(&d);
}

static void test_inconclusive(void **state)
{
	struct nftrace_event evs[] = {
		ev_rule(FW_TRACE_TABLE, "pre", 5, NFTRACE_V_CONTINUE),
		ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT),
		ev_rule("filter", "input", 3, NFTRACE_V_ACCEPT),
	};
	struct fw_decision d;

	(void)state;
	/* accepted in input but never seen at the end: not a verdict */
	assert_int_equal(fw_decide(evs, 3, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_UNSET);
	fw_decision_clear(&d);
	assert_int_equal(fw_decide(NULL, 0, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_UNSET);
	assert_string_equal(d.path, "");
	fw_decision_clear(&d);
}

static void test_final_headers(void **state)
{
	struct nftrace_event evs[] = { ev_policy(FW_TRACE_TABLE, "post_end", NF_ACCEPT) };
	static const uint8_t ip[20] = { 0x45, 0, 0,   40, 0x4e, 0x01, 0,  0, 63, 6,
					0,    0, 203, 0,  113,	1,    10, 0, 2,	 2 };
	static const uint8_t tcp[20] = { 0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02 };
	struct fw_decision d;

	(void)state;
	memcpy(evs[0].nh, ip, sizeof(ip));
	evs[0].nh_len = sizeof(ip);
	memcpy(evs[0].th, tcp, sizeof(tcp));
	evs[0].th_len = sizeof(tcp);
	assert_int_equal(fw_decide(evs, 1, NULL, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(d.has_final);
	assert_memory_equal(d.final.src, ((uint8_t[]){ 203, 0, 113, 1 }), 4);
	assert_int_equal(d.final.sport, 40000);
	assert_int_equal(d.final.dport, 80);
	assert_int_equal(d.final.tag, 0x4e01);
	fw_decision_clear(&d);
}

/* A recorded trace message (tests/fixtures/nftrace-*.nlmsg), parsed. */
static struct nftrace_event recorded(const char *name)
{
	char path[256];
	uint8_t buf[4096];
	struct nftrace_event ev;
	nslab_error err = { 0 };
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(len >= sizeof(struct nlmsghdr));
	assert_int_equal(nftrace_parse((const struct nlmsghdr *)buf, &ev, &err), 0);
	return ev;
}

/*
 * Recorded on Linux 6.18: a SYN (IP ID 0x4e01) from 10.0.0.1:40000 to
 * 10.0.0.2:22 accepted by "tcp dport 22 accept", and one to port 80 dropped
 * by the input chain's policy; the ruleset has a ct rule, so conntrack is on.
 */
static void test_recorded_traces(void **state)
{
	struct nftrace_event acc[6], drop[5];
	struct fw_decision d;
	struct pkt_info pi;
	char name[64];

	(void)state;
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "nftrace-accept-%d.nlmsg", i);
		acc[i] = recorded(name);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "nftrace-drop-%d.nlmsg", i);
		drop[i] = recorded(name);
	}
	assert_string_equal(acc[0].table, FW_TRACE_TABLE);
	assert_string_equal(acc[0].chain, "pre");
	assert_int_equal(acc[0].nfproto, NFPROTO_IPV4);
	assert_true(fw_event_info(&acc[0], &pi));
	assert_int_equal(pi.tag, 0x4e01);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.dport, 22);
	assert_int_equal(pi.tcp_flags, 0x02);
	assert_false(acc[0].has_ct_state); /* before conntrack */
	assert_string_equal(acc[3].table, "filter");
	assert_int_equal(acc[3].type, NFT_TRACETYPE_RULE);
	assert_int_equal(acc[3].verdict, NFTRACE_V_ACCEPT);
	assert_true(acc[3].has_rule);
	assert_true(acc[3].has_ct_state);
	assert_int_equal(acc[3].ct_state, 8); /* new */
	for (int i = 1; i < 6; i++)
		assert_int_equal(acc[i].id, acc[0].id);

	assert_int_equal(fw_decide(acc, 6, NULL, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(d.delivered);
	assert_string_equal(d.chain, "input");
	assert_true(d.has_final);
	assert_int_equal(d.final.dport, 22);
	fw_decision_clear(&d);

	assert_int_equal(fw_decide(drop, 5, NULL, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_DROP);
	assert_true(d.by_policy);
	assert_false(d.delivered);
	fw_decision_clear(&d);
}

static void test_not_a_trace(void **state)
{
	struct nftrace_event ev = { .id = 42 };
	struct nlmsghdr nlh = { .nlmsg_len = sizeof(nlh), .nlmsg_type = NLMSG_DONE };
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(nftrace_parse(&nlh, &ev, &err), -ENOENT);
	assert_int_equal(ev.id, 42); /* untouched */
}

/* A conntrack entry built by libnetfilter_conntrack, parsed back by ct_parse(). */
static void test_ct_parse(void **state)
{
	struct nf_conntrack *ct = nfct_new();
	char buf[4096] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct ct_entry e = { .proto = 99 };
	nslab_error err = { 0 };

	(void)state;
	assert_non_null(ct);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
	nfct_set_attr_u32(ct, ATTR_IPV4_SRC, htonl(0x0a000001));
	nfct_set_attr_u32(ct, ATTR_IPV4_DST, htonl(0x0a000002));
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, htonl(0x0a000002));
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, htonl(0xcb007101));
	nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(40000));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(22));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(22));
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(61000));
	nfct_set_attr_u8(ct, ATTR_TCP_STATE, 3);
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED);
	assert_int_equal(nfct_nlmsg_build(nlh, ct), 0);
	nfct_destroy(ct);

	assert_int_equal(ct_parse(nlh, &e, &err), 0);
	assert_int_equal(e.family, AF_INET);
	assert_int_equal(e.proto, IPPROTO_TCP);
	assert_memory_equal(e.src, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_memory_equal(e.dst, ((uint8_t[]){ 10, 0, 0, 2 }), 4);
	assert_memory_equal(e.rdst, ((uint8_t[]){ 203, 0, 113, 1 }), 4);
	assert_int_equal(e.sport, 40000);
	assert_int_equal(e.dport, 22);
	assert_int_equal(e.rdport, 61000);
	assert_true(e.has_tcp_state);
	assert_string_equal(ct_tcp_state_name(e.tcp_state), "ESTABLISHED");
	assert_true(e.status & IPS_ASSURED);

	/* not an entry (a delete request): refused, e untouched */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	e.proto = 99;
	assert_int_equal(ct_parse(nlh, &e, &err), -ENOENT);
	assert_int_equal(e.proto, 99);
	assert_string_equal(ct_tcp_state_name(200), "?");
}

/* A lookup of one tuple: the request carries it, as libnetfilter_conntrack reads it back. */
static void test_ct_build_get(void **state)
{
	struct ct_entry q = {
		.family = AF_INET6, .proto = IPPROTO_ICMPV6, .has_icmp_id = true, .icmp_id = 0x4e07
	};
	char buf[1024] __attribute__((aligned(4)));
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct nf_conntrack *ct = nfct_new();
	nslab_error err = { 0 };

	(void)state;
	q.src[15] = 1;
	q.dst[15] = 2;
	assert_int_equal(ct_build_get(buf, 100, &q, &err), -EMSGSIZE);
	assert_int_equal(ct_build_get(buf, sizeof(buf), &q, &err), 0);
	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET);
	assert_false(nlh->nlmsg_flags & NLM_F_DUMP);
	assert_int_equal(nfct_nlmsg_parse(nlh, ct), 0);
	assert_int_equal(nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO), IPPROTO_ICMPV6);
	assert_memory_equal(nfct_get_attr(ct, ATTR_ORIG_IPV6_DST), q.dst, 16);
	assert_int_equal(ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID)), 0x4e07);
	assert_int_equal(nfct_get_attr_u8(ct, ATTR_ICMP_TYPE), 128);
	nfct_destroy(ct);
}

/* A delete of one tuple: the same tuple as a lookup, another message type. */
static void test_ct_build_delete(void **state)
{
	struct ct_entry q = {
		.family = AF_INET, .proto = IPPROTO_TCP, .sport = 40000, .dport = 22
	};
	char buf[1024] __attribute__((aligned(4)));
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct nf_conntrack *ct = nfct_new();
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(ct_build_tuple_msg(buf, sizeof(buf), false, &q, &err), 0);
	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE);
	assert_int_equal(nfct_nlmsg_parse(nlh, ct), 0);
	assert_int_equal(ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC)), 40000);
	assert_int_equal(ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST)), 22);
	nfct_destroy(ct);
}

static void test_reject_detection(void **state)
{
	(void)state;
	assert_true(fw_rule_is_reject("reject"));
	assert_true(fw_rule_is_reject("tcp dport 23 reject with tcp reset"));
	assert_true(fw_rule_is_reject("udp dport 161 reject comment \"x\""));
	assert_false(fw_rule_is_reject("tcp dport 23 drop comment \"reject later\""));
	assert_false(fw_rule_is_reject("meta mark set 1 rejected"));
	assert_false(fw_rule_is_reject(NULL));
}

static void test_error_location(void **state)
{
	struct nftbl_error_loc loc;
	static const char text[] = "<cmdline>:2:84-84: Error: syntax error, unexpected '}'\n"
				   "  chain pre { ... }\n  ^\n";

	(void)state;
	assert_int_equal(nftbl_parse_error(text, &loc), 0);
	assert_int_equal(loc.line, 2);
	assert_int_equal(loc.col, 84);
	assert_int_equal(loc.msg_len, strlen("syntax error, unexpected '}'"));
	assert_memory_equal(loc.msg, "syntax error, unexpected '}'", loc.msg_len);
	assert_int_equal(nftbl_parse_error("Error: Could not process rule: No such file\n", &loc),
			 0);
	assert_int_equal(loc.line, 0);
	assert_memory_equal(loc.msg, "Could not process rule", 22);
	assert_int_equal(nftbl_parse_error("", &loc), -EINVAL);
}

static void test_compat_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		/* NSE's one-liner: the chain closes, then the table on the same line */
		{ "table ip f { chain c { drop; } }", "table ip f { chain c { drop; };}" },
		/* a rule ending in a set, then its chain */
		{ "table inet t { chain c { tcp dport { 22 } }\n}",
		  "table inet t { chain c { tcp dport { 22 };}\n}" },
		/* a set inside a set is an expression: no statement ends between them */
		{ "table inet t {\n chain c { tcp dport { { 22, 23 } } accept\n }\n}",
		  "table inet t {\n chain c { tcp dport { { 22, 23 } } accept\n }\n}" },
		{ "add table ip t { set s { type ipv4_addr; elements = { 1.2.3.4 } } }",
		  "add table ip t { set s { type ipv4_addr; elements = { 1.2.3.4 };};}" },
		{ "table ip t { chain c { drop; }}", "table ip t { chain c { drop; }}" },
		{ "table ip t { chain c { drop; } \n}", "table ip t { chain c { drop; } \n}" },
		/* a rule not ended before its chain's brace */
		{ "table inet t { chain c { tcp dport vmap @m }\n}",
		  "table inet t { chain c { tcp dport vmap @m;}\n}" },
		{ "table ip t { chain c { drop comment \"} }\"; }\n}",
		  "table ip t { chain c { drop comment \"} }\"; }\n}" },
		{ "# } }\ntable ip t { chain c { drop; } }",
		  "# } }\ntable ip t { chain c { drop; };}" },
		/* no escapes in nft strings: the string ends at the second quote */
		{ "table ip t { chain c { drop comment \"a\\\"; } }",
		  "table ip t { chain c { drop comment \"a\\\"; };}" },
		/* set, map and vmap expressions in a chain are never ended (nft accepts them) */
		{ "table inet t { chain c { ct state { established, related } accept }\n}",
		  "table inet t { chain c { ct state { established, related } accept;}\n}" },
		{ "table inet t {\n chain c {\n  ct state vmap { established : accept, related : "
		  "accept }\n  ct status { dnat, snat } accept\n  ct direction { original } "
		  "accept\n }\n}",
		  "table inet t {\n chain c {\n  ct state vmap { established : accept, related : "
		  "accept }\n  ct status { dnat, snat } accept\n  ct direction { original } "
		  "accept\n }\n}" },
		{ "table inet t { chain c { counter limit rate 1/second quota 1 mbytes ip saddr { "
		  "1.2.3.4 } } }",
		  "table inet t { chain c { counter limit rate 1/second quota 1 mbytes ip saddr { "
		  "1.2.3.4 };};}" },
		{ "table inet t { chain c { ip saddr . tcp dport { 1.2.3.4 . 22 } accept } }",
		  "table inet t { chain c { ip saddr . tcp dport { 1.2.3.4 . 22 } accept;};}" },
		/* objects of a table are blocks: ct helper, flowtable */
		{ "table inet t { ct helper h { type \"ftp\" protocol tcp } }",
		  "table inet t { ct helper h { type \"ftp\" protocol tcp;};}" },
		{ "table inet t { flowtable f { hook ingress priority 0; devices = { lo } } }",
		  "table inet t { flowtable f { hook ingress priority 0; devices = { lo };};}" },
		/* an anonymous chain is a block */
		{ "table inet t { chain c { jump { drop } } }",
		  "table inet t { chain c { jump { drop;};};}" },
		{ "add element inet t s { 1.2.3.4 }", "add element inet t s { 1.2.3.4 }" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = nftbl_compat_text(cases[i].in);

		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		assert_int_equal(strlen(got), strlen(cases[i].in));
		free(got);
	}
}

static void test_find_nested_set(void **state)
{
	unsigned line = 0, col = 0;

	(void)state;
	assert_false(nftbl_find_nested_set("table inet t { chain c { tcp dport { 22 } accept\n} }",
					   &line, &col));
	assert_false(
		nftbl_find_nested_set("table inet t { set s { elements = { 22 } } }", &line, &col));
	assert_true(nftbl_find_nested_set("table inet t {\n chain c {\n  tcp dport {{22}} accept\n",
					  &line, &col));
	assert_int_equal(line, 3);
	assert_int_equal(col, 14);
	assert_true(nftbl_find_nested_set("table inet t { chain c { ct state { established, { "
					  "related } } } }",
					  &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 50);
}

static void test_find_include(void **state)
{
	unsigned line = 0, col = 0;

	(void)state;
	assert_false(nftbl_find_include("table ip t {}\n", &line, &col));
	assert_false(nftbl_find_include("# include \"/etc/shadow\"\n", &line, &col));
	assert_false(nftbl_find_include("table ip t { comment \"include x\"; }\n", &line, &col));
	assert_false(nftbl_find_include("define includes = 1\n", &line, &col));
	assert_false(nftbl_find_include("add rule ip t c ip saddr @include accept\n", &line, &col));
	/* nft's strings have no escapes: this string ends before the include */
	assert_true(nftbl_find_include("define x = \"a\\\"; include \"/etc/x\"", &line, &col));
	assert_int_equal(col, 18);
	/* anywhere outside strings and comments, not only where a statement starts */
	assert_true(nftbl_find_include("table ip t { chain c { include \"x\" } }", &line, &col));
	assert_true(nftbl_find_include("flush ruleset\n  include \"/etc/x\"\n", &line, &col));
	assert_int_equal(line, 2);
	assert_int_equal(col, 3);
	assert_true(nftbl_find_include("flush ruleset; include \"/etc/x\"", &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 16);
	assert_true(nftbl_find_include("table ip t {\n}\ninclude\"x\"", &line, &col));
	assert_int_equal(line, 3);
}

static void test_trace_table(void **state)
{
	const char *t = fw_trace_table_text();

	(void)state;
	assert_non_null(strstr(t, "table inet " FW_TRACE_TABLE));
	assert_non_null(strstr(t, "hook prerouting priority -2147483648; ip6 saddr"));
	assert_non_null(strstr(t, "hook output priority -2147483648; ip6 saddr"));
	assert_non_null(strstr(t, "mld2-listener-report } return; meta nftrace set 1; }"));
	assert_non_null(strstr(t, "chain in_end { type filter hook input priority 2147483647; }"));
	assert_non_null(
		strstr(t, "chain post_end { type filter hook postrouting priority 2147483647; }"));
}

/* The trace set of a node whose kernel has netdev egress: post_end is a hop, egress the end. */
static const char egress_listing_text[] =
	"table inet nslab_trace { # handle 1\n"
	"\tchain post_end { # handle 4\n"
	"\t\ttype filter hook postrouting priority 2147483647; policy accept;\n"
	"\t}\n"
	"}\n"
	"table netdev nslab_trace { # handle 2\n"
	"\tchain in_eth0 { # handle 1\n"
	"\t\ttype filter hook ingress device \"eth0\" priority -2147483648; policy accept;\n"
	"\t\tmeta nftrace set 1 # handle 3\n"
	"\t}\n"
	"\tchain eg_end_eth0 { # handle 2\n"
	"\t\ttype filter hook egress device \"eth0\" priority 2147483647; policy accept;\n"
	"\t}\n"
	"}\n"
	"table netdev edge { # handle 3\n"
	"\tchain in { # handle 1\n"
	"\t\ttype filter hook ingress device \"eth0\" priority filter; policy accept;\n"
	"\t\ttcp dport 81 drop comment \"in 81\" # handle 2\n"
	"\t}\n"
	"\tchain out { # handle 3\n"
	"\t\ttype filter hook egress device \"eth0\" priority filter; policy accept;\n"
	"\t\ttcp sport 82 drop comment \"out 82\" # handle 4\n"
	"\t}\n"
	"}\n"
	"table bridge nslab_trace { # handle 4\n"
	"\tchain post_end { # handle 3\n"
	"\t\ttype filter hook postrouting priority 2147483647; policy accept;\n"
	"\t}\n"
	"}\n"
	"table bridge lan { # handle 5\n"
	"\tchain fwd { # handle 1\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tether saddr 02:00:00:00:00:09 drop comment \"bad mac\" # handle 2\n"
	"\t}\n"
	"}\n";

static struct nftrace_event with_family(struct nftrace_event ev, uint32_t family)
{
	ev.family = family;
	return ev;
}

/* A drop in a netdev ingress chain: the trace starts there (nslab's in_ chain came first). */
static void test_netdev_ingress_drop(void **state)
{
	struct nftbl_listing l = { 0 };
	struct nftrace_event evs[] = {
		with_family(ev_rule(FW_TRACE_TABLE, "in_eth0", 3, NFTRACE_V_CONTINUE),
			    NFPROTO_NETDEV),
		with_family(ev_policy(FW_TRACE_TABLE, "in_eth0", NF_ACCEPT), NFPROTO_NETDEV),
		with_family(ev_rule("edge", "in", 2, NFTRACE_V_DROP), NFPROTO_NETDEV),
	};
	struct fw_decision d;

	(void)state;
	assert_int_equal(nftbl_parse_listing(egress_listing_text, &l, NULL), 0);
	assert_int_equal(fw_decide(evs, 3, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_DROP);
	assert_false(d.delivered);
	assert_string_equal(d.family, "netdev");
	assert_string_equal(d.chain, "in");
	assert_true(fw_rule_matches(&d, "in 81"));
	assert_false(d.past_ct);
	assert_string_equal(d.path, "netdev edge in: tcp dport 81 drop comment \"in 81\" -> drop");
	fw_decision_clear(&d);
	nftbl_listing_clear(&l);
}

/*
 * With egress end chains, postrouting's end is a hop: a drop in a netdev
 * egress chain after it is the verdict (the packet never left), and only
 * the egress end chain says it left.
 */
static void test_netdev_egress(void **state)
{
	struct nftbl_listing l = { 0 };
	struct nftrace_event evs[] = {
		ev_rule("filter", "input", 3, NFTRACE_V_ACCEPT), /* any accepting chain */
		ev_policy(FW_TRACE_TABLE, "post_end", NF_ACCEPT),
		with_family(ev_rule("edge", "out", 4, NFTRACE_V_DROP), NFPROTO_NETDEV),
	};
	struct nftrace_event left[] = {
		ev_policy(FW_TRACE_TABLE, "post_end", NF_ACCEPT),
		with_family(ev_policy("edge", "out", NF_ACCEPT), NFPROTO_NETDEV),
		with_family(ev_policy(FW_TRACE_TABLE, "eg_end_eth0", NF_ACCEPT), NFPROTO_NETDEV),
	};
	struct fw_decision d;

	(void)state;
	assert_int_equal(nftbl_parse_listing(egress_listing_text, &l, NULL), 0);
	evs[1].oif = left[0].oif = 2;
	assert_int_equal(fw_decide(evs, 2, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_UNSET); /* not yet out */
	fw_decision_clear(&d);
	assert_int_equal(fw_decide(evs, 3, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_DROP);
	assert_false(d.delivered);
	assert_string_equal(d.chain, "out");
	assert_true(fw_rule_matches(&d, "out 82"));
	assert_true(d.past_ct);
	fw_decision_clear(&d);
	assert_int_equal(fw_decide(left, 2, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_UNSET);
	fw_decision_clear(&d);
	assert_int_equal(fw_decide(left, 3, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(d.delivered);
	fw_decision_clear(&d);
	/* without egress chains (kernels before 5.16), postrouting's end is the end */
	assert_int_equal(fw_decide(evs, 3, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(d.delivered);
	fw_decision_clear(&d);
	nftbl_listing_clear(&l);
}

/* A bridged packet: a bridge chain's drop decides; bridge postrouting's end is a hop. */
static void test_bridge(void **state)
{
	struct nftbl_listing l = { 0 };
	struct nftrace_event drop[] = {
		with_family(ev_policy(FW_TRACE_TABLE, "in_eth0", NF_ACCEPT), NFPROTO_NETDEV),
		with_family(ev_policy(FW_TRACE_TABLE, "pre", NF_ACCEPT), NFPROTO_BRIDGE),
		with_family(ev_rule("lan", "fwd", 2, NFTRACE_V_DROP), NFPROTO_BRIDGE),
	};
	struct nftrace_event pass[] = {
		with_family(ev_policy("lan", "fwd", NF_ACCEPT), NFPROTO_BRIDGE),
		with_family(ev_policy(FW_TRACE_TABLE, "post_end", NF_ACCEPT), NFPROTO_BRIDGE),
		with_family(ev_policy(FW_TRACE_TABLE, "eg_end_eth0", NF_ACCEPT), NFPROTO_NETDEV),
	};
	struct fw_decision d;

	(void)state;
	assert_int_equal(nftbl_parse_listing(egress_listing_text, &l, NULL), 0);
	assert_int_equal(fw_decide(drop, 3, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_DROP);
	assert_string_equal(d.family, "bridge");
	assert_true(fw_rule_matches(&d, "bad mac"));
	fw_decision_clear(&d);
	pass[1].oif = 3;
	/* a bridged frame's last hook is bridge postrouting (its port has no egress end) */
	assert_int_equal(fw_decide(pass, 2, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	fw_decision_clear(&d);
	assert_int_equal(fw_decide(pass, 3, &l, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	assert_true(d.delivered);
	fw_decision_clear(&d);
	/* no egress: bridge postrouting's end is the end */
	assert_int_equal(fw_decide(pass, 2, &listing, &d), 0);
	assert_int_equal(d.verdict, FW_VERDICT_ACCEPT);
	fw_decision_clear(&d);
	nftbl_listing_clear(&l);
}

static void test_trace_set(void **state)
{
	const struct fw_trace_dev devs[] = { { "eth0", false }, { "br0", true }, { "a:b", false } };
	char *t = NULL;

	(void)state;
	assert_int_equal(fw_trace_table_build(devs, 3, true, &t), 0);
	assert_non_null(strstr(t, "table inet " FW_TRACE_TABLE " {"));
	assert_non_null(strstr(t, "table netdev " FW_TRACE_TABLE " {"));
	assert_non_null(strstr(t, "\tchain in_eth0 { type filter hook ingress device \"eth0\" "
				  "priority -2147483648; meta protocol != { ip, ip6 } return; "));
	assert_non_null(strstr(t, "\tchain eg_end_eth0 { type filter hook egress device \"eth0\" "
				  "priority 2147483647; }"));
	/* a bridge's own egress is before bridge output: no end there */
	assert_non_null(strstr(t, "chain in_br0 {"));
	assert_null(strstr(t, "eg_end_br0"));
	/* a name nft does not take as an identifier: its index */
	assert_non_null(strstr(t, "chain in__2 { type filter hook ingress device \"a:b\""));
	assert_non_null(strstr(t, "chain eg_end__2 {"));
	assert_non_null(strstr(t, "table bridge " FW_TRACE_TABLE " {"));
	assert_non_null(strstr(t, "chain pre { type filter hook prerouting priority -2147483648;"));
	assert_non_null(strstr(t, "chain post_end { type filter hook postrouting priority "
				  "2147483647; }\n}\n"));
	free(t);
	/* before Linux 5.16: ingress only; no bridge, no bridge table */
	assert_int_equal(fw_trace_table_build(devs, 1, false, &t), 0);
	assert_non_null(strstr(t, "chain in_eth0 {"));
	assert_null(strstr(t, "egress"));
	assert_null(strstr(t, "table bridge"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_listing_unbalanced),
		cmocka_unit_test(test_listing_long_names),
		cmocka_unit_test(test_trace_long_names),
		cmocka_unit_test(test_trace_malformed),
		cmocka_unit_test(test_trace_ct_state),
		cmocka_unit_test(test_accept_by_rule),
		cmocka_unit_test(test_ct_invalid_derived),
		cmocka_unit_test(test_drop_by_policy),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_jump_then_accept),
		cmocka_unit_test(test_nat_accept_is_not_the_decider),
		cmocka_unit_test(test_inconclusive),
		cmocka_unit_test(test_final_headers),
		cmocka_unit_test(test_recorded_traces),
		cmocka_unit_test(test_not_a_trace),
		cmocka_unit_test(test_ct_parse),
		cmocka_unit_test(test_ct_build_get),
		cmocka_unit_test(test_ct_build_delete),
		cmocka_unit_test(test_reject_detection),
		cmocka_unit_test(test_error_location),
		cmocka_unit_test(test_compat_text),
		cmocka_unit_test(test_find_nested_set),
		cmocka_unit_test(test_find_include),
		cmocka_unit_test(test_read_stops_at_decision),
		cmocka_unit_test(test_trace_table),
		cmocka_unit_test(test_netdev_ingress_drop),
		cmocka_unit_test(test_netdev_egress),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_trace_set),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

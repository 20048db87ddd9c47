/* SPDX-License-Identifier: MIT */
/*
 * fwtest/verdict: what the kernel decided for one packet, from its trace.
 *
 * The trace set (fw_trace_table_build()) turns tracing on at the earliest
 * priority of netdev ingress, bridge prerouting, prerouting and output, and
 * ends input, and the way out, with empty chains at the latest priority. The
 * way out ends at netdev egress when the set has egress end chains (Linux
 * 5.16), else at postrouting (bridge postrouting for bridged packets). A
 * packet is therefore decided when its trace shows a drop (a rule's, or a
 * chain's policy) or reaches one of those end chains; anything else is
 * inconclusive, never a drop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "fwtest/suite.h"
#include "fwtest/topo.h"
#include "nl/nftables.h"
#include "nl/nftrace.h"
#include "pkt/pkt.h"

#define FW_TRACE_TABLE "nslab_trace"
#define FW_END_POST    "post_end" /* inet and bridge postrouting end chains */
#define FW_NETDEV_IN   "in_"	  /* netdev ingress chains: "in_eth0" */
#define FW_NETDEV_END  "eg_end_"  /* netdev egress end chains: "eg_end_eth0" */

/* The inet trace table, loaded after the user's ruleset (its own table: never an edit). */
const char *fw_trace_table_text(void);

struct fw_trace_dev {
	char name[IF_NAMESIZE];
	bool is_bridge;
};

/**
 * fw_trace_table_build() - The whole trace set for a node with these interfaces
 * @devs:    the node's interfaces but lo
 * @egress:  the kernel has netdev egress hooks (Linux 5.16)
 * @ret:     the text (malloc'd)
 *
 * The inet table, plus a netdev table named FW_TRACE_TABLE too: per interface
 * an ingress chain at the lowest priority turning tracing on and (@egress) an
 * egress end chain at the highest, but on bridges, whose own egress comes
 * before bridge output and postrouting; with a bridge, a bridge table turning
 * tracing on at prerouting and output and ending postrouting. Pure.
 * Return: 0, or -ENOMEM
 */
int fw_trace_table_build(const struct fw_trace_dev *devs, size_t n, bool egress, char **ret);
/**
 * fw_trace_table_for() - fw_trace_table_build() for a node's interfaces and this kernel
 * @rn:   the rules node (its interfaces are listed in its namespace)
 * @ret:  the text (malloc'd)
 * Return: 0, or -errno
 */
int fw_trace_table_for(const struct fw_node *rn, char **ret, nslab_error *err);

struct fw_decision {
	enum fw_verdict verdict; /* FW_VERDICT_UNSET: inconclusive */
	bool delivered; /* passed every hook of the namespace (input, egress or postrouting end) */
	bool by_policy; /* decided by a chain's policy */
	bool decided;	/* a user chain gave the verdict (table/chain/handle valid) */
	char family[8];
	char table[NFT_NAME_MAXLEN];
	char chain[NFT_NAME_MAXLEN];
	uint64_t handle;
	char *rule_text; /* the deciding rule as listed, or NULL (malloc'd) */
	char *comment;	 /* its comment, or NULL (malloc'd) */
	bool has_ct_state;
	uint32_t ct_state;
	/*
	 * The kernel sends no ct attributes for a packet conntrack found invalid
	 * (nf_ct_get() gives no entry): invalid is derived (ct_derived) when the
	 * ruleset uses conntrack (ct_used: a ct expression or a NAT chain) and the
	 * trace shows the packet past conntrack (past_ct: an event in an input,
	 * forward or postrouting chain, or a rule with a ct expression matched).
	 */
	bool ct_used;
	bool past_ct;
	bool ct_derived;
	bool has_final;	       /* headers seen at the end chain (after NAT) */
	struct pkt_info final; /* payload pointers are not valid */
	size_t n_events;
	size_t n_read; /* events read up to the one that decided (n_events when none did) */
	char path
		[1024]; /* "inet filter input: tcp dport 22 accept -> accept" hops, ';'-separated */
};

/**
 * fw_decide() - Decide one packet from its trace events, in kernel order
 * @evs:      the events of this packet only
 * @n:        their number
 * @listing:  the ruleset's listing with handles, for rule texts (may be NULL)
 * @ret:      the decision (free its strings with fw_decision_clear())
 * Pure. Return: 0, or -ENOMEM
 */
int fw_decide(const struct nftrace_event *evs, size_t n, const struct nftbl_listing *listing,
	      struct fw_decision *ret);
void fw_decision_clear(struct fw_decision *d);

/*
 * fw_event_info() - The packet headers an event carries (the first of each chain's)
 * Ports and TCP flags come from the quoted transport header even when it is
 * cut short (TCP options). Return: false when the event carries none.
 */
bool fw_event_info(const struct nftrace_event *ev, struct pkt_info *pi);

/* nft's name of a table family (NFPROTO_INET: "inet"), "?" if unknown. */
const char *fw_family_name(uint32_t nfproto);

/* Whether a rule's text is a reject (the statement, not a word in its comment). */
bool fw_rule_is_reject(const char *text);
/*
 * fw_rule_matches() - Whether the decision matches an expected rule
 * @want: "policy", a comment (exact), or a fragment of the rule's text
 */
bool fw_rule_matches(const struct fw_decision *d, const char *want);

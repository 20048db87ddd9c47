/* SPDX-License-Identifier: MIT */
/*
 * fwtest/verdict: what the kernel decided for one packet, from its trace.
 *
 * The trace table (fw_trace_table_text()) turns tracing on at the earliest
 * priority of prerouting and output, and ends input and postrouting with
 * empty chains at the latest priority. A packet is therefore decided when
 * its trace shows a drop (a rule's, or a chain's policy) or reaches one of
 * those end chains; anything else is inconclusive, never a drop.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwtest/suite.h"
#include "nl/nftables.h"
#include "nl/nftrace.h"
#include "pkt/pkt.h"

#define FW_TRACE_TABLE "nslab_trace"

/* The trace table, loaded after the user's ruleset (its own table: never an edit). */
const char *fw_trace_table_text(void);

struct fw_decision {
	enum fw_verdict verdict; /* FW_VERDICT_UNSET: inconclusive */
	bool delivered;		 /* passed every hook of the namespace (input or postrouting end) */
	bool by_policy;		 /* decided by a chain's policy */
	bool decided;		 /* a user chain gave the verdict (table/chain/handle valid) */
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

/* SPDX-License-Identifier: MIT */
/*
 * fwtest/run: running a suite's tests against the kernel.
 *
 * DOC: one test
 * 1. the topology of its kind, built once per run and reused (env)
 * 2. the ruleset loaded in the rules node (flush ruleset, the user's text, then
 *    nslab's trace table, in one transaction). When the previous test loaded
 *    the same ruleset and it keeps no state of its own (sets filled by rules,
 *    limits, quotas), counters are reset instead of reloading (a reload waits
 *    for an RCU grace period: ~10 ms). Then, whatever the ruleset, conntrack
 *    is emptied and every node's neighbour table flushed: every test starts
 *    from the same state, whatever ran before it
 * 3. listeners on the destination ports, in the receiving nodes
 * 4. packets, one at a time: crafted, tagged (IPv4 ID, IPv6 flow label),
 *    injected from the sending node's raw socket; its trace events are
 *    matched by content (then by trace id), until the trace decides it;
 *    replies are read from the sender's packet socket
 * 5. flows: real sockets, connect(), data; their trace matched by 4-tuple
 * 6. expectations checked; the last packet or flow takes the test's own
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fwtest/io.h"
#include "fwtest/suite.h"
#include "fwtest/topo.h"
#include "fwtest/verdict.h"
#include "nl/ct.h"
#include "nl/nftables.h"
#include "nl/nftrace.h"
#include "pkt/pkt.h"

#define FW_SPORT_BASE 40000 /* source ports chosen for packets start here */

/* Sets of address families: neighbour tables to flush (ARP for IPv4, ND for IPv6). */
#define FW_FAMILY_BIT(f) ((f) == AF_INET6 ? 2u : 1u)
#define FW_FAMILIES_ALL	 3u

enum fw_status {
	FW_STATUS_PASS = 0,
	FW_STATUS_FAIL,
	FW_STATUS_INCONCLUSIVE,
	FW_STATUS_ERROR,   /* the test could not run (bad reference, rules refused) */
	FW_STATUS_SKIPPED, /* not run: not selected, or the run stopped before it */
};

/* A packet or flow under observation, and what the kernel did with it. */
struct fw_track {
	bool is_flow;
	size_t index;	      /* packet or flow index in its test */
	unsigned copy;	      /* packets: 0 .. count-1 */
	size_t from;	      /* sending node */
	struct pkt_spec spec; /* addresses, proto, ports, tag; payload borrowed from the suite */
	char desc[192];	      /* "tcp 10.0.0.1:40000 > 10.0.0.2:22 [S]" */
	struct nftrace_event *evs; /* freed when the test ends, unless the runner keeps events */
	size_t n_evs, cap_evs;
	bool stale; /* events came since dec was decided */
	struct fw_decision dec;
	bool decided; /* dec has a verdict (or a flow's first packet was decided) */
	enum fw_reply reply;
	enum fw_connect connect; /* flows */
	const struct fw_expect *expect;
	size_t n_ct;	    /* conntrack entries with its original tuple after the test */
	struct ct_entry ct; /* the first of them */
};

struct fw_captured {
	size_t node;
	int ifindex;
	bool outgoing;
	uint8_t *data;
	size_t len;
};

/* A topology with its sockets and loaded ruleset. */
struct fw_env {
	struct fw_topo *topo;
	struct fw_node_io *io; /* one per node */
	struct nlsock *trace, *req;
	const char *loaded;    /* the ruleset text loaded now (the suite's pointer), or NULL */
	const char *last;      /* the last one loaded, even if loaded is NULL */
	struct nftbl_ctx *nft; /* kept libnftables context of the rules node */
	struct nftbl_listing listing;
	struct ct_entry *ct_left; /* original tuples of the last test's packets and flows */
	size_t n_ct_left;
	bool ct_unknown; /* ct_left is not all the last test left (no memory): flush */
	/*
	 * Families whose neighbour tables may hold entries a test made: those
	 * of the last test's packets and flows (all of them at first, and after
	 * a failed flush).
	 */
	unsigned neigh_dirty;
};

struct fw_rule_hits {
	char family[8], table[NFT_NAME_MAXLEN], chain[NFT_NAME_MAXLEN];
	uint64_t handle;
	char *text;
	unsigned hits;
};

struct fw_coverage {
	const char *rules;  /* the ruleset text (borrowed from the suite) */
	const char *origin; /* "suite", or the test name that overrides */
	struct fw_rule_hits *rules_hit;
	size_t n;
};

struct fw_result {
	enum fw_status status;
	double ms;
	char *log;		 /* what failed and the trace paths (malloc'd, may be NULL) */
	struct fw_track *tracks; /* for reports */
	size_t n_tracks;
};

struct fw_runner {
	const struct fw_suite *suite;
	struct fw_env *envs[3]; /* direct, gateway, lab */
	uint32_t next_tag;
	uint16_t next_sport;
	struct fw_coverage *cov;
	size_t n_cov;
	/*
	 * Keep each track's trace events in the results (nslab trace prints
	 * them); a suite's reports need only their number (~1 KiB an event,
	 * twenty a packet: 20 MiB for a thousand tests otherwise).
	 */
	bool keep_events;
	/* the test being run */
	struct fw_env *env;
	struct fw_track *tracks;
	size_t n_tracks;
	uint32_t id_map_id[64];
	size_t id_map_track[64];
	size_t n_id_map;
	int *listeners; /* every listener of the test */
	size_t n_listeners;
	int *udp; /* the UDP ones among them (polled: they echo) */
	size_t n_udp;
	int *held; /* flow sockets, kept open until the test's checks are done */
	size_t n_held;
	uint8_t *frame; /* receive buffer for the packet sockets (collect.c: eight frames) */
	struct fw_captured *caps;
	size_t n_caps;
	/* rule events of the senders' kernels resetting answers to crafted packets (see
	 * fw_is_kernel_reset()): counters subtract them, as captures leave them out */
	struct nftrace_event *resets;
	size_t n_resets, cap_resets;
	FILE *log;
};

/**
 * fw_is_kernel_reset() - Whether a packet is a sender's kernel answering the reply to a crafted one
 * @r:   runner, with the test's tracks
 * @pi:  the packet
 *
 * A crafted SYN comes from a raw socket, so the SYN-ACK finds no socket at the
 * sender, whose kernel resets it: a TCP RST with a crafted packet's tuple (same
 * direction) but not its tag. It is no part of the test.
 * Return: true if it is one
 */
bool fw_is_kernel_reset(const struct fw_runner *r, const struct pkt_info *pi);
int fw_runner_new(const struct fw_suite *suite, struct fw_runner **ret, nslab_error *err);
/*
 * fw_runner_number_from() - Where the next test's packet tags and source ports start
 * @seq:   packets (copies) the tests before it in the run order crafted
 * @ports: those of them that took a source port of ours (no sport given)
 * @tests: the tests before it
 * What one runner counting from the run's start would reach: a test gets the
 * same tags and ports whichever runner (fwtest/jobs.c) takes it.
 */
void fw_runner_number_from(struct fw_runner *r, uint64_t seq, uint64_t ports, uint64_t tests);
/*
 * fw_runner_take_coverage() - Move src's coverage into dst
 * Hits of a ruleset dst has too are added rule by rule (the same text loaded
 * the same way has the same handles); the others are moved over. Then dst's
 * rulesets are put in the order of the first test (in order[]) that used each,
 * as a single runner would have met them. Return: 0, or -ENOMEM.
 */
int fw_runner_take_coverage(struct fw_runner *dst, struct fw_runner *src, const size_t *order,
			    size_t n, nslab_error *err);
struct fw_runner *fw_runner_free(struct fw_runner *r);
DEFINE_CLEANUP_FUNC(struct fw_runner, fw_runner_free)
/*
 * fw_runner_check_rules() - Load every distinct ruleset of the suite once
 * Return: 0, or -EINVAL with "FILE:LINE:COL: ruleset: ..." for the first one
 * nftables refuses (a suite error: nothing runs), or an environment's -errno.
 */
int fw_runner_check_rules(struct fw_runner *r, nslab_error *err);
/*
 * fw_runner_run_test() - Run test i and fill ret (free with fw_result_clear())
 * Return: 0 when the test ran (its status says how it went), -errno when the
 * environment failed (namespaces, sockets): the run cannot go on.
 */
int fw_runner_run_test(struct fw_runner *r, size_t i, struct fw_result *ret, nslab_error *err);
void fw_result_clear(struct fw_result *res);

/* Internals shared by run.c, inject.c, collect.c and check.c */
int fw_start_listeners(struct fw_runner *r, const struct fw_test *t, nslab_error *err);
/* FW_FAMILY_BIT()s of the test's packets and flows (all for one whose family is in error). */
unsigned fw_test_families(struct fw_runner *r, const struct fw_test *t);
/* Close the test's listeners and flow sockets. */
void fw_listeners_close(struct fw_runner *r);
/* Send copy c of packet i of test and wait for its decision; < 0: the test cannot run. */
int fw_inject_packet(struct fw_runner *r, const struct fw_test *test, size_t i, unsigned copy,
		     nslab_error *err);
/* Open, connect and follow flow i of test. */
int fw_run_flow(struct fw_runner *r, const struct fw_test *test, size_t i, nslab_error *err);
/* Wait for a packet's decision (and its reply, if the test looks at replies). */
int fw_collect_until(struct fw_runner *r, struct fw_track *t, bool want_reply, nslab_error *err);
/* Complete a flow whose connect() was issued on fd: its outcome, data, and trace. */
int fw_collect_flow(struct fw_runner *r, struct fw_track *t, int fd, const uint8_t *data,
		    size_t len, nslab_error *err);
void fw_collect_drain(struct fw_runner *r);
void fw_collect_captures(struct fw_runner *r);
void fw_check_track(struct fw_runner *r, const struct fw_track *t, const struct fw_expect *e,
		    struct fw_result *res);
const char *fw_status_name(enum fw_status s);
uint64_t fw_now_us(void);

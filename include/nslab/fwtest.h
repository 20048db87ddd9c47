/* SPDX-License-Identifier: MIT */
/*
 * nslab/fwtest.h - firewall tests: nftables rulesets run by the kernel
 *
 * A suite (YAML) names a topology, a ruleset and tests made of crafted
 * packets and real flows with expectations (verdict, rule, chain, delivery,
 * reply, conntrack state, NAT, captures, connect). The kernel decides every
 * verdict; nslab reads it from nftables' trace. Namespaces are made once per
 * run and dropped with the object.
 */
#ifndef NSLAB_FWTEST_H
#define NSLAB_FWTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <nslab/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nslab_fwtest nslab_fwtest;

enum nslab_fwtest_flags {
	NSLAB_FWTEST_ALLOW_INCLUDE = 1u << 0, /* accept `include` in rulesets */
	/* a suite without rules is fine: nslab_fwtest_set_rules_file() gives them (--compare) */
	NSLAB_FWTEST_RULES_LATER = 1u << 1,
	/* nslab_fwtest_trace(): show nslab's own tracing tables' events too (nslab -v trace) */
	NSLAB_FWTEST_TRACE_ALL = 1u << 2,
};

enum nslab_fwtest_status {
	NSLAB_FWTEST_PASS = 0,
	NSLAB_FWTEST_FAIL = 1,
	NSLAB_FWTEST_INCONCLUSIVE = 2, /* the trace did not decide a packet */
	NSLAB_FWTEST_ERROR = 3,	       /* the test could not run (e.g. ruleset refused) */
	NSLAB_FWTEST_NOT_RUN = 4,      /* not selected, or the run stopped before it */
};

enum nslab_fwtest_format {
	NSLAB_FWTEST_FORMAT_TEXT = 0,
	NSLAB_FWTEST_FORMAT_TAP,
	NSLAB_FWTEST_FORMAT_JUNIT,
	NSLAB_FWTEST_FORMAT_JSON,    /* docs/fwtest-json.md ("schema": 1) */
	NSLAB_FWTEST_FORMAT_SUMMARY, /* text without the test lines (a caller that printed them) */
};

/*
 * nslab_fwtest_from_file() - Read and validate a suite
 * Return: 0 and *ret, or -errno with "FILE:LINE:COL: message" (nothing built).
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_from_file(const char *path, unsigned flags,
							nslab_fwtest **ret, nslab_error *err);
/*
 * nslab_fwtest_warnings() - What the suite reader read but ignored
 * One line per warning, "FILE:LINE:COL: message\n" (NSE's format ignores the
 * ports of an ICMP packet, as NSE does). Borrowed; "" when there is none.
 */
NSLAB_EXPORT const char *nslab_fwtest_warnings(const nslab_fwtest *ft);
/* Replace the suite's ruleset with a file's (e.g. `--compare`); before running. */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_set_rules_file(nslab_fwtest *ft, const char *path,
							     nslab_error *err);
NSLAB_EXPORT nslab_fwtest *nslab_fwtest_free(nslab_fwtest *ft);

/*
 * nslab_fwtest_select() - Run only the tests whose name contains pattern
 * Calls add up: a test must match each pattern. Before nslab_fwtest_run().
 * Return: how many tests remain selected, or -ENOENT when none does.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_select(nslab_fwtest *ft, const char *pattern,
						     nslab_error *err);

enum nslab_fwtest_order {
	NSLAB_FWTEST_ORDER_SUITE = 0, /* as written */
	NSLAB_FWTEST_ORDER_REVERSE,
	NSLAB_FWTEST_ORDER_SHUFFLE, /* a permutation drawn from the seed: the same seed, the same order */
};

/*
 * nslab_fwtest_set_order() - Run the tests in another order
 * Every test starts from the same kernel state whatever ran before it, so the
 * results do not depend on the order; this proves it. Results keep the
 * suite's indexes; the callback sees the tests as they run. Before running.
 * Return: 0, or -EINVAL for an unknown order, -EALREADY after the run
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_set_order(nslab_fwtest *ft,
							enum nslab_fwtest_order order,
							unsigned long long seed, nslab_error *err);

#define NSLAB_FWTEST_JOBS_MAX 64u
/*
 * nslab_fwtest_set_jobs() - Run up to jobs tests at once, each job in a topology of its own
 * 0 (the default) picks as many as are worth it: one per CPU the process may
 * run on, at most 4, and one per 64 tests (a topology costs about what 64
 * tests do); 1 runs one test at a time. Results do not depend on it: a test
 * crafts the same packets whichever job runs it, the callback still sees the
 * tests in the run order (on the caller's thread), and coverage adds up.
 * Tests against a lab (topology: lab) always run one at a time. Before running.
 * Return: 0, or -EINVAL above NSLAB_FWTEST_JOBS_MAX, -EALREADY after the run
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_set_jobs(nslab_fwtest *ft, unsigned jobs,
						       nslab_error *err);

/* Called after each test has run (i is its index). */
typedef void (*nslab_fwtest_cb)(nslab_fwtest *ft, size_t i, void *data);
/*
 * nslab_fwtest_run() - Run every test (needs root, or nslab_bootstrap() first)
 * Every distinct ruleset is loaded once first: one nftables refuses fails the
 * call with -EINVAL and "FILE:LINE:COL: ruleset: ..." (the suite file's place).
 * Return: 0 when the suite ran (see each test's status), -EINVAL for a refused
 * ruleset or a test naming what the topology lacks, -errno when the
 * environment could not be built.
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_run(nslab_fwtest *ft, nslab_fwtest_cb cb, void *data,
						  nslab_error *err);

NSLAB_EXPORT size_t nslab_fwtest_count(const nslab_fwtest *ft);
NSLAB_EXPORT const char *nslab_fwtest_name(const nslab_fwtest *ft, size_t i);
NSLAB_EXPORT enum nslab_fwtest_status nslab_fwtest_status(const nslab_fwtest *ft, size_t i);
NSLAB_EXPORT double nslab_fwtest_ms(const nslab_fwtest *ft, size_t i);
/* What failed, with trace paths; "" when the test passed. Borrowed. */
NSLAB_EXPORT const char *nslab_fwtest_log(const nslab_fwtest *ft, size_t i);
/* Number of packets and flows of test i, and the verdict of each ("accept", ... or "none"). */
NSLAB_EXPORT size_t nslab_fwtest_packet_count(const nslab_fwtest *ft, size_t i);
NSLAB_EXPORT const char *nslab_fwtest_packet_desc(const nslab_fwtest *ft, size_t i, size_t k);
NSLAB_EXPORT const char *nslab_fwtest_packet_verdict(const nslab_fwtest *ft, size_t i, size_t k);
/* Its trace path: "inet filter input: tcp dport 22 accept -> accept" hops, "; "-separated. */
NSLAB_EXPORT const char *nslab_fwtest_packet_trace(const nslab_fwtest *ft, size_t i, size_t k);

/*
 * nslab_fwtest_report() - Write the results
 * @coverage: add every rule with its hit count (rules never hit listed), in every format
 * Return: 0, or -errno (write error)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_report(const nslab_fwtest *ft,
						     enum nslab_fwtest_format format, bool coverage,
						     FILE *out, nslab_error *err);
/*
 * nslab_fwtest_report_error() - A report for a suite that could not run at all
 * @suite_path: the suite file (names the one errored test case)
 * @message:    why (e.g. the nslab_error text of a refused suite or ruleset)
 * Written in @format so that a CI tool reading the report sees the error rather than no file.
 * Return: 0, or -errno (write error)
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_report_error(const char *suite_path,
							   enum nslab_fwtest_format format,
							   const char *message, FILE *out,
							   nslab_error *err);

/*
 * nslab_fwtest_check_rules() - Load a ruleset file in a throwaway namespace
 * Return: 0, or -EINVAL with "FILE:LINE:COL: message".
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_check_rules(const char *path, unsigned flags,
							  nslab_error *err);

/*
 * nslab_fwtest_trace() - One packet through a ruleset, every trace event printed
 * @rules_path: ruleset file
 * @packet:     "PROTO SRC[:PORT] > DST[:PORT] [FLAGS]" ("[v6]:port" for IPv6 with a port)
 * @topology:   "direct" (NULL) or "gateway"
 * Return: 0, or -EINVAL for a bad packet text or ruleset (with FILE:LINE:COL), -errno
 */
NSLAB_EXPORT NSLAB_NODISCARD int nslab_fwtest_trace(const char *rules_path, const char *packet,
						    const char *topology, unsigned flags, FILE *out,
						    nslab_error *err);

#ifdef __cplusplus
}
#endif
#endif

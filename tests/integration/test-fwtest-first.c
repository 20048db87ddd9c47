/* SPDX-License-Identifier: MIT */
/*
 * Integration (stress): the first packet of a fresh topology, many times over,
 * must always be decided by the trace. A run used to end "inconclusive,
 * trace: none" now and then (~1%): the topology's links were up but the
 * kernel had not yet run the carrier-on work that gives a veth its transmit
 * qdisc, so the first ARP or ND request was dropped and the packet waited
 * for the retransmission a second later, past the wait for its verdict.
 *
 * Each round builds a direct topology afresh (one runner per round, in this
 * one process), loads the rules and sends one packet, alternately IPv4 and
 * IPv6. NSLAB_FIRST_ROUNDS sets the number of rounds (default 300: ~10 s as
 * root on a 2-CPU VM); meson runs the 2000 (about a minute), 300 under
 * the sanitizers.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwtest/run.h"
#include "fwtest/suite.h"
#include "nslab/nslab.h"
#include "nslab-test.h"

static const char suite_text[] =
	"topology: direct\n"
	"rules: |\n"
	"  table inet filter {\n"
	"    chain input {\n"
	"      type filter hook input priority 0; policy drop;\n"
	"      icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
	"      tcp dport 22 accept comment \"ssh\"\n"
	"    }\n"
	"  }\n"
	"tests:\n"
	"  - {name: first v4, packets: [{proto: tcp, dport: 22}], expect: {verdict: accept}}\n"
	"  - {name: first v6, packets: [{proto: tcp, dst: 'fd00::2', dport: 22}],\n"
	"     expect: {verdict: accept}}\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
	struct fw_suite *suite = NULL;
	nslab_error err = { 0 };
	const char *env = getenv("NSLAB_FIRST_ROUNDS");
	unsigned rounds = env ? (unsigned)strtoul(env, NULL, 10) : 300, bad = 0;
	double t0;

	(void)nslab_test_enter_netns();
	CHECK(fw_suite_parse_string(suite_text, strlen(suite_text), "first.yaml", false, &suite,
				    &err) == 0,
	      "%s", err.msg);
	t0 = now_ms();
	for (unsigned i = 0; i < rounds; i++) {
		struct fw_runner *runner = NULL;
		struct fw_result res;
		size_t test = i % 2;

		CHECK(fw_runner_new(suite, &runner, &err) == 0, "%s", err.msg);
		CHECK(fw_runner_run_test(runner, test, &res, &err) == 0, "round %u: %s", i,
		      err.msg);
		if (res.status != FW_STATUS_PASS) {
			fprintf(stderr, "round %u, '%s': %s\n%s", i, suite->tests[test].name,
				fw_status_name(res.status), res.log ? res.log : "");
			bad++;
		}
		fw_result_clear(&res);
		fw_runner_free(runner);
	}
	printf("%u rounds, %u not passed, %.1f ms a round\n", rounds, bad,
	       rounds ? (now_ms() - t0) / rounds : 0.0);
	fw_suite_free(suite);
	CHECK(bad == 0, "%u of %u first packets not decided as expected", bad, rounds);
	return 0;
}

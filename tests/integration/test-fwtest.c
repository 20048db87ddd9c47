/* SPDX-License-Identifier: MIT */
/*
 * Integration: the firewall test engine against the real kernel. One suite
 * holds, for every kind of expectation, a test whose expectation is right and
 * one whose expectation is wrong; the right ones must pass and the wrong ones
 * must fail (so a check that cannot fail would show here). A packet that
 * never reaches the rules is inconclusive, never a drop.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwtest/run.h"
#include "fwtest/suite.h"
#include "fwtest/topo.h"
#include "lab/lab.h"
#include "nl/rtnl.h"
#include "nslab/nslab.h"
#include "nslab-test.h"

/* A netdev table dropping port 81 at ingress and source port 82 at egress (YAML escapes). */
#define NETDEV_RULES                                                                           \
	"table netdev edge {\\n chain in { type filter hook ingress device eth0 priority 0; "  \
	"tcp dport 81 drop comment in81; }\\n chain out { type filter hook egress device "     \
	"eth0 priority 0; tcp sport 82 drop comment out82; }\\n}\\ntable inet filter { chain " \
	"input { type filter hook input priority 0; accept; } }\\n"

static const char suite_text[] =
	"topology: direct\n"
	"rules: |\n"
	"  table inet filter {\n"
	"    counter ssh_hits { }\n"
	"    chain input {\n"
	"      type filter hook input priority 0; policy drop;\n"
	"      ct state established,related accept\n"
	"      tcp dport 22 counter name ssh_hits accept comment \"ssh\"\n"
	"      udp dport 161 reject\n"
	"      tcp dport 23 reject with tcp reset comment \"telnet\"\n"
	"      meta l4proto { icmp, ipv6-icmp } accept comment \"icmp\"\n"
	"    }\n"
	"  }\n"
	"  table ip nat {\n"
	"    chain prerouting {\n"
	"      type nat hook prerouting priority -100;\n"
	"      tcp dport 2222 dnat to 10.0.0.2:22 comment \"ssh alt\"\n"
	"    }\n"
	"  }\n"
	"tests:\n"
	"  - {name: verdict ok, packets: [{proto: tcp, dport: 22}], expect: {verdict: accept}}\n"
	"  - {name: verdict bad, packets: [{proto: tcp, dport: 22}], expect: {verdict: drop}}\n"
	"  - {name: rule ok, packets: [{proto: tcp, dport: 22}], expect: {rule: ssh}}\n"
	"  - {name: rule bad, packets: [{proto: tcp, dport: 22}], expect: {rule: policy}}\n"
	"  - {name: chain ok, packets: [{proto: tcp, dport: 80}], expect: {chain: input}}\n"
	"  - {name: chain bad, packets: [{proto: tcp, dport: 80}], expect: {chain: forward}}\n"
	"  - {name: delivered ok, packets: [{proto: icmp}], expect: {delivered: true}}\n"
	"  - {name: delivered bad, packets: [{proto: tcp, dport: 80}], expect: {delivered: true}}\n"
	"  - {name: reject ok, packets: [{proto: udp, dport: 161}], expect: {verdict: reject}}\n"
	"  - {name: reject bad, packets: [{proto: udp, dport: 161}], expect: {verdict: drop}}\n"
	"  - {name: reply ok, packets: [{proto: tcp, dport: 23}], expect: {reply: rst}}\n"
	"  - {name: reply bad, packets: [{proto: tcp, dport: 23}], expect: {reply: syn-ack}}\n"
	"  - {name: reply v6 ok, packets: [{proto: udp, dst: 'fd00::2', dport: 161}],\n"
	"     expect: {reply: icmp-port-unreachable}}\n"
	"  - {name: no reply ok, packets: [{proto: tcp, dport: 80}], expect: {reply: none}}\n"
	"  - {name: no reply bad, packets: [{proto: icmp}], expect: {reply: none}}\n"
	"  - {name: ct ok, packets: [{proto: tcp, dport: 22}], expect: {ct_state: new}}\n"
	"  - {name: ct bad, packets: [{proto: tcp, dport: 22}], expect: {ct_state: established}}\n"
	/* conntrack gives no entry (and the trace no state) to invalid segments */
	"  - {name: ct invalid ok, packets: [{proto: tcp, dport: 22, flags: ''}], "
	"expect: {ct_state: invalid}}\n"
	"  - {name: ct syn-fin ok, packets: [{proto: tcp, dport: 22, flags: SF}], "
	"expect: {ct_state: invalid}}\n"
	"  - {name: ct invalid bad, packets: [{proto: tcp, dport: 22, flags: FPU}], "
	"expect: {ct_state: new}}\n"
	"  - name: ct untracked ok\n"
	"    rules: |\n"
	"      table inet raw {\n"
	"        chain pre { type filter hook prerouting priority -300; tcp dport 9 notrack; }\n"
	"        chain input { type filter hook input priority 0; ct state untracked accept; }\n"
	"      }\n"
	"    packets: [{proto: tcp, dport: 9}]\n"
	"    expect: {ct_state: untracked, verdict: accept}\n"
	"  - {name: nat ok, packets: [{proto: tcp, dport: 2222}], expect: {nat: {dport: 22}}}\n"
	"  - {name: nat bad, packets: [{proto: tcp, dport: 2222}], expect: {nat: {dport: 2222}}}\n"
	"  - name: capture ok\n"
	"    packets: [{proto: tcp, dport: 22, count: 2}]\n"
	"    expect: {capture: {at: 'target:eth0', filter: 'tcp dst port 22 and tcp[tcpflags] & "
	"tcp-syn != 0', count: 2}}\n"
	/* the client kernel's RST to the SYN-ACK is not the test's: one packet to port 22 */
	"  - name: capture reset ok\n"
	"    packets: [{proto: tcp, dport: 22}]\n"
	"    expect: {reply: syn-ack, capture: {at: 'target:eth0', filter: 'tcp dst port 22', "
	"count: 1}}\n"
	"  - name: capture bad\n"
	"    packets: [{proto: tcp, dport: 22}]\n"
	"    expect: {capture: {at: target, filter: 'udp', min: 1}}\n"
	"  - name: counter ok\n"
	"    packets: [{proto: tcp, dport: 22, count: 3}]\n"
	"    expect: {counter: {ssh_hits: {packets: 3}}}\n"
	/* ... nor for a counter, even one the RST reaches (no ct rule before it) */
	"  - {name: counter reset ok, rules: \"table inet c {\\n counter n { }\\n chain input { "
	"type filter hook input priority 0; tcp dport 22 counter name n accept; }\\n}\\n\", "
	"packets: [{proto: tcp, dport: 22}], expect: {reply: syn-ack, counter: {n: {packets: "
	"1}}}}\n"
	"  - name: counter bad\n"
	"    packets: [{proto: tcp, dport: 22}]\n"
	"    expect: {counter: {ssh_hits: {packets: 5}}}\n"
	"  - {name: connect ok, flows: [{dport: 22, send: hi}], expect: {connect: ok, "
	"ct_state: established}}\n"
	"  - {name: connect refused, flows: [{dport: 23}], expect: {connect: refused}}\n"
	"  - {name: connect bad, flows: [{dport: 80}], expect: {connect: ok}}\n"
	"  - {name: conntrack ok, flows: [{dport: 22, send: hi}], expect: {conntrack: "
	"{state: established, assured: true, count: 1}}}\n"
	/* the client's kernel answers the listener's SYN-ACK to a crafted SYN with a RST */
	"  - {name: conntrack syn ok, packets: [{proto: tcp, dport: 22}], expect: {conntrack: "
	"{state: close, replied: true}}}\n"
	"  - {name: conntrack drop ok, packets: [{proto: tcp, dport: 80}], expect: {conntrack: "
	"{count: 0}}}\n"
	"  - {name: conntrack bad, flows: [{dport: 22}], expect: {conntrack: {state: time_wait}}}\n"
	"  - {name: udp flow ok, flows: [{proto: udp, dport: 5353, send: x}], "
	"expect: {connect: timeout}}\n"
	/* a packet the rules node sends itself comes back through input */
	"  - {name: to itself ok, packets: [{proto: tcp, from: target, dst: target, dport: 80}], "
	"expect: {verdict: drop, chain: input}}\n"
	/* one reply answers one packet: the second, dropped, gets none */
	"  - name: one reply each ok\n"
	"    rules: |\n"
	"      table inet filter {\n"
	"        chain input {\n"
	"          type filter hook input priority 0; policy accept;\n"
	"          udp dport 53 limit rate over 1/minute burst 1 packets drop\n"
	"        }\n"
	"      }\n"
	"    packets:\n"
	"      - {proto: udp, sport: 1234, dport: 53, payload: a, expect: {reply: udp}}\n"
	"      - {proto: udp, sport: 1234, dport: 53, payload: a, expect: {verdict: drop, "
	"reply: none}}\n"
	/* netdev chains: traced from ingress; the way out ends after egress */
	"  - {name: netdev ingress drop ok, rules: \"" NETDEV_RULES
	"\", packets: [{proto: tcp, dport: 81}], "
	"expect: {verdict: drop, rule: in81, chain: in, delivered: false}}\n"
	"  - {name: netdev ingress drop bad, rules: \"" NETDEV_RULES
	"\", packets: [{proto: tcp, dport: 81}], "
	"expect: {verdict: accept}}\n"
	"  - {name: netdev ingress pass ok, rules: \"" NETDEV_RULES
	"\", packets: [{proto: tcp, dport: 80}], "
	"expect: {verdict: accept, delivered: true, chain: input}}\n"
	"  - {name: netdev egress drop ok, rules: \"" NETDEV_RULES
	"\", packets: [{proto: tcp, from: target, "
	"dst: client, sport: 82, dport: 5000, flags: SA}], expect: {verdict: drop, rule: out82, "
	"chain: out, delivered: false}}\n"
	"  - {name: netdev egress drop bad, rules: \"" NETDEV_RULES
	"\", packets: [{proto: tcp, from: target, "
	"dst: client, sport: 82, dport: 5000, flags: SA}], expect: {delivered: true}}\n"
	"  - {name: netdev egress pass ok, rules: \"" NETDEV_RULES
	"\", packets: [{proto: tcp, from: target, "
	"dst: client, sport: 83, dport: 5000, flags: SA}], expect: {verdict: accept, "
	"delivered: true}}\n"
	"  - {name: lost, packets: [{proto: udp, dst: 10.0.0.99, dport: 53}], "
	"expect: {verdict: drop}}\n";

static enum fw_status expected_status(const char *name)
{
	if (strcmp(name, "lost") == 0)
		return FW_STATUS_INCONCLUSIVE;
	if (strstr(name, " bad"))
		return FW_STATUS_FAIL;
	return FW_STATUS_PASS;
}

/*
 * The kernel rate-limits ICMP errors per peer (about six in a row) and per
 * namespace (a burst of 50): the test namespaces turn both off, so a reject
 * test passes however many ran before it. 1000 in a row, each family.
 */
#define STORM_TESTS 1000

static char *storm_suite(void)
{
	size_t len = 512 + STORM_TESTS * 128 * 2, used;
	char *s = malloc(len);

	CHECK(s, "malloc");
	used = (size_t)snprintf(
		s, len,
		"topology: direct\n"
		"rules: |\n"
		"  table inet filter {\n"
		"    chain input { type filter hook input priority 0; udp dport 161 "
		"reject; }\n"
		"  }\n"
		"tests:\n");
	for (int i = 0; i < 2 * STORM_TESTS; i++)
		used += (size_t)snprintf(s + used, len - used,
					 "  - {name: reject %d, packets: [{proto: udp, dst: %s, "
					 "dport: 161}], expect: {reply: icmp-port-unreachable}}\n",
					 i, i < STORM_TESTS ? "10.0.0.2" : "'fd00::2'");
	CHECK(used < len, "storm suite too long");
	return s;
}

static unsigned run_storm(void)
{
	char *text = storm_suite();
	struct fw_suite *suite = NULL;
	struct fw_runner *runner = NULL;
	nslab_error err = { 0 };
	unsigned wrong = 0;

	CHECK(fw_suite_parse_string(text, strlen(text), "storm.yaml", false, &suite, &err) == 0,
	      "%s", err.msg);
	CHECK(fw_runner_new(suite, &runner, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < suite->n_tests; i++) {
		struct fw_result res;

		CHECK(fw_runner_run_test(runner, i, &res, &err) == 0, "%s", err.msg);
		if (res.status != FW_STATUS_PASS && wrong++ < 3)
			fprintf(stderr, "FAIL test '%s': %s\n%s", suite->tests[i].name,
				fw_status_name(res.status), res.log ? res.log : "");
		fw_result_clear(&res);
	}
	printf("%s: %zu reject tests in a row, %u did not pass\n", wrong ? "FAIL" : "ok",
	       suite->n_tests, wrong);
	fw_runner_free(runner);
	fw_suite_free(suite);
	free(text);
	return wrong;
}

static size_t test_index(const struct fw_suite *s, const char *name)
{
	for (size_t i = 0; i < s->n_tests; i++)
		if (strcmp(s->tests[i].name, name) == 0)
			return i;
	CHECK(false, "no test '%s'", name);
}

/*
 * Conntrack between tests: an established flow leaves its entry when its test
 * ends; the next test starts with none (deleted by tuple, the namespace's
 * entry count checked, a flush if anything else was left).
 */
static void check_conntrack_reset(struct fw_runner *runner, const struct fw_suite *suite)
{
	struct fw_result res;
	nslab_error err = { 0 };
	unsigned n = 0;

	CHECK(fw_runner_run_test(runner, test_index(suite, "conntrack ok"), &res, &err) == 0, "%s",
	      err.msg);
	fw_result_clear(&res);
	CHECK(ct_count(runner->env->req, &n, &err) == 0, "%s", err.msg);
	CHECK(n >= 1, "a finished flow left %u conntrack entries, expected its own", n);
	CHECK(fw_runner_run_test(runner, test_index(suite, "conntrack drop ok"), &res, &err) == 0,
	      "%s", err.msg);
	CHECK(res.status == FW_STATUS_PASS, "conntrack drop ok: %s", res.log ? res.log : "");
	fw_result_clear(&res);
	CHECK(ct_count(runner->env->req, &n, &err) == 0, "%s", err.msg);
	CHECK(n == 0, "%u conntrack entries after a test that made none", n);
	printf("ok: conntrack empty between tests\n");
}

/* Node name's interface k: its name, the index the kernel gives it, its IPv4 address. */
static void check_iface(struct fw_topo *t, const char *name, size_t k, const char *ifname,
			int ifindex, const char *v4)
{
	struct fw_node *n = fw_topo_node(t, name);
	nslab_node *ln = nslab_lab_node(t->lab, name);
	struct nslab_prefix want;
	nslab_error err = { 0 };
	int kernel = 0;

	CHECK(n && ln && k < n->n_ifaces, "no node '%s' interface %zu", name, k);
	CHECK(strcmp(n->ifaces[k].name, ifname) == 0, "%s: %s, expected %s", name,
	      n->ifaces[k].name, ifname);
	CHECK(n->ifaces[k].ifindex == ifindex, "%s %s: ifindex %d, expected %d", name, ifname,
	      n->ifaces[k].ifindex, ifindex);
	CHECK(rtnl_link_index(ln->ns->nl, ifname, &kernel, &err) == 0, "%s", err.msg);
	CHECK(kernel == ifindex, "%s %s: the kernel says ifindex %d, expected %d", name, ifname,
	      kernel, ifindex);
	CHECK(prefix_parse(v4, true, &want, &err) == 0, "%s", err.msg);
	CHECK(memcmp(n->ifaces[k].v4.addr, want.addr, 4) == 0 && n->ifaces[k].v4.len == want.len,
	      "%s %s: not %s", name, ifname, v4);
}

/*
 * direct and gateway come from the lab builder (point-to-point lab specs):
 * the names, indexes and addresses the suites rely on, in the order they
 * know; a bare lab runs no process.
 */
static void check_topologies(void)
{
	char *argv[] = { (char *)"true", NULL };
	struct fw_topo *t = NULL;
	nslab_proc *proc = NULL;
	nslab_error err = { 0 };

	CHECK(fw_topo_new(FW_TOPO_DIRECT, NULL, NULL, &t, &err) == 0, "%s", err.msg);
	CHECK(t->n == 2 && strcmp(t->nodes[0].name, "client") == 0 &&
		      strcmp(t->nodes[t->rules_node].name, "target") == 0,
	      "direct: nodes in the wrong order");
	check_iface(t, "client", 0, "eth0", 2, "10.0.0.1/24");
	check_iface(t, "target", 0, "eth0", 2, "10.0.0.2/24");
	CHECK(nslab_node_spawn(nslab_lab_node(t->lab, "client"), argv, NULL, &proc, &err) ==
		      -EOPNOTSUPP,
	      "a bare lab spawned a process: %s", err.msg);
	fw_topo_free(t);
	t = NULL;
	CHECK(fw_topo_new(FW_TOPO_GATEWAY, NULL, NULL, &t, &err) == 0, "%s", err.msg);
	CHECK(t->n == 3 && strcmp(t->nodes[t->rules_node].name, "router") == 0 &&
		      strcmp(t->nodes[t->server_node].name, "server") == 0,
	      "gateway: nodes in the wrong order");
	check_iface(t, "client", 0, "eth0", 2, "10.0.1.1/24");
	check_iface(t, "router", 0, "eth0", 2, "10.0.1.2/24");
	check_iface(t, "router", 1, "eth1", 3, "10.0.2.1/24");
	check_iface(t, "server", 0, "eth0", 2, "10.0.2.2/24");
	fw_topo_free(t);
	printf("ok: direct and gateway from the lab builder\n");
}

int main(void)
{
	struct fw_suite *suite = NULL;
	struct fw_runner *runner = NULL;
	nslab_error err = { 0 };
	unsigned wrong = 0;

	/* root: a private netns of our own; rootless: a user namespace first */
	(void)nslab_test_enter_netns();
	check_topologies();
	CHECK(fw_suite_parse_string(suite_text, strlen(suite_text), "engine.yaml", false, &suite,
				    &err) == 0,
	      "%s", err.msg);
	CHECK(fw_runner_new(suite, &runner, &err) == 0, "%s", err.msg);
	CHECK(fw_runner_check_rules(runner, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < suite->n_tests; i++) {
		struct fw_result res;
		const char *name = suite->tests[i].name;

		CHECK(fw_runner_run_test(runner, i, &res, &err) == 0, "%s: %s", name, err.msg);
		if (res.status != expected_status(name)) {
			fprintf(stderr, "FAIL test '%s': %s, expected %s\n%s", name,
				fw_status_name(res.status), fw_status_name(expected_status(name)),
				res.log ? res.log : "");
			wrong++;
		} else {
			printf("ok: '%s' %s\n", name, fw_status_name(res.status));
		}
		fw_result_clear(&res);
	}
	check_conntrack_reset(runner, suite);
	fw_runner_free(runner);
	fw_suite_free(suite);
	wrong += run_storm();
	CHECK(wrong == 0, "%u test(s) ended otherwise than expected", wrong);
	return 0;
}

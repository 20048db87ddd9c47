/* SPDX-License-Identifier: MIT */
/*
 * Firewall test suites: the three formats, every field and expectation with
 * its line:col, literal block scalars (core/yaml), rules files, include
 * refusal, and every error with its place.
 */
#include "fwtest/suite.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/yaml.h"

#define SENTINEL ((struct fw_suite *)0x1)

static struct fw_suite *parse_ok(const char *text)
{
	struct fw_suite *s = NULL;
	nslab_error err = { 0 };
	int r = fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err);

	if (r < 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(err.code, 0); /* success leaves err untouched */
	assert_non_null(s);
	return s;
}

static void assert_loc(struct fw_loc loc, unsigned line, unsigned col)
{
	assert_int_equal(loc.line, line);
	assert_int_equal(loc.col, col);
}

static const char *addr(const struct fw_endpoint *e)
{
	static char buf[4][PREFIX_STRLEN];
	static int k;

	k = (k + 1) % 4;
	return prefix_format(&e->addr, false, buf[k], sizeof(buf[k]));
}

static const char issue_example[] =
	"topology: direct                  # direct | gateway | lab\n"
	"rules: |                          # or rules_file: fw.nft\n"
	"  table inet filter {\n"
	"    chain input { type filter hook input priority 0; policy drop;\n"
	"      ct state established,related accept\n"
	"      tcp dport 22 accept comment \"ssh\"\n"
	"      udp dport 161 reject\n"
	"    }\n"
	"  }\n"
	"tests:\n"
	"  - name: ssh is open\n"
	"    packets: [{proto: tcp, dport: 22, flags: S}]\n"
	"    expect: {verdict: accept, rule: ssh, ct_state: new}\n"
	"  - name: snmp is rejected\n"
	"    packets: [{proto: udp, dport: 161}]\n"
	"    expect: {verdict: reject, reply: icmp-port-unreachable}\n"
	"  - name: web is dropped by policy\n"
	"    packets: [{proto: tcp, src: client, dst: 10.0.0.2, sport: 40000, dport: 80, flags: "
	"S}]\n"
	"    expect: {verdict: drop, rule: policy}\n"
	"  - name: an established flow survives\n"
	"    flows: [{proto: tcp, dport: 22, send: \"hello\"}]\n"
	"    expect: {connect: ok, ct_state: established}\n";

static void test_issue_example(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = parse_ok(issue_example);
	const struct fw_test *t;
	const struct fw_packet *p;
	const struct fw_flow *f;

	(void)state;
	assert_string_equal(s->path, "t.yaml");
	assert_int_equal(s->topology, FW_TOPO_DIRECT);
	assert_null(s->lab_file);
	assert_null(s->rules_in);
	assert_null(s->rules_file);
	assert_string_equal(s->rules, "table inet filter {\n"
				      "  chain input { type filter hook input priority 0; policy "
				      "drop;\n"
				      "    ct state established,related accept\n"
				      "    tcp dport 22 accept comment \"ssh\"\n"
				      "    udp dport 161 reject\n"
				      "  }\n"
				      "}\n");
	assert_loc(s->rules_loc, 3, 3);
	/* nft's 4:5 ("tcp") is the suite's 6:7 */
	assert_loc(fw_rules_loc(s->rules_loc, 4, 5), 6, 7);
	assert_int_equal(s->n_tests, 4);

	t = &s->tests[0];
	assert_string_equal(t->name, "ssh is open");
	assert_loc(t->loc, 11, 5);
	assert_null(t->rules);
	assert_false(t->has_topology);
	assert_true(t->listen);
	assert_int_equal(t->n_packets, 1);
	assert_int_equal(t->n_flows, 0);
	p = &t->packets[0];
	assert_loc(p->loc, 12, 15);
	assert_int_equal(p->proto, IPPROTO_TCP);
	assert_int_equal(p->dport, 22);
	assert_int_equal(p->sport, -1);
	assert_int_equal(p->tcp_flags, FW_TCP_SYN);
	assert_null(p->src.node);
	assert_int_equal(p->src.addr.family, 0);
	assert_null(p->dst.node);
	assert_null(p->from);
	assert_int_equal(p->icmp_type, -1);
	assert_int_equal(p->icmp_code, -1);
	assert_int_equal(p->ttl, -1);
	assert_null(p->payload);
	assert_int_equal(p->payload_len, 0);
	assert_int_equal(p->count, 1);
	assert_false(p->has_expect);
	assert_int_equal(t->expect.verdict, FW_VERDICT_ACCEPT);
	assert_string_equal(t->expect.rule, "ssh");
	assert_null(t->expect.chain);
	assert_int_equal(t->expect.ct_state, FW_CT_NEW);
	assert_int_equal(t->expect.delivered, -1);
	assert_int_equal(t->expect.reply, FW_REPLY_UNSET);
	assert_false(t->expect.nat.set);
	assert_int_equal(t->expect.n_captures, 0);
	assert_int_equal(t->expect.n_counters, 0);
	assert_int_equal(t->expect.connect, FW_CONNECT_UNSET);
	assert_loc(t->expect.loc, 13, 13);

	t = &s->tests[1];
	assert_int_equal(t->packets[0].proto, IPPROTO_UDP);
	assert_int_equal(t->packets[0].tcp_flags, -1);
	assert_int_equal(t->expect.verdict, FW_VERDICT_REJECT);
	assert_int_equal(t->expect.reply, FW_REPLY_ICMP_PORT_UNREACHABLE);

	t = &s->tests[2];
	p = &t->packets[0];
	assert_string_equal(p->src.node, "client");
	assert_loc(p->src.loc, 18, 33);
	assert_null(p->dst.node);
	assert_int_equal(p->dst.addr.family, AF_INET);
	assert_int_equal(p->dst.addr.len, 32);
	assert_string_equal(addr(&p->dst), "10.0.0.2");
	assert_loc(p->dst.loc, 18, 46);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 80);
	assert_string_equal(t->expect.rule, "policy");

	t = &s->tests[3];
	assert_int_equal(t->n_packets, 0);
	assert_int_equal(t->n_flows, 1);
	f = &t->flows[0];
	assert_int_equal(f->proto, IPPROTO_TCP);
	assert_int_equal(f->dport, 22);
	assert_int_equal(f->sport, -1);
	assert_int_equal(f->send_len, 5);
	assert_memory_equal(f->send, "hello", 5);
	assert_loc(f->loc, 21, 13);
	assert_int_equal(t->expect.connect, FW_CONNECT_OK);
	assert_int_equal(t->expect.ct_state, FW_CT_ESTABLISHED);
}

/* NSE's runner format: tests carry topology: simple|gateway, packets expected_verdict. */
static void test_nse_runner_format(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = parse_ok(
		"tests:\n"
		"  - name: ssh\n"
		"    topology: simple\n"
		"    rules: \"table ip filter { chain input { type filter hook input "
		"priority 0; tcp dport 22 accept; drop; } }\"\n"
		"    packets:\n"
		"      - protocol: tcp\n"
		"        src_ip: 10.0.0.1\n"
		"        dst_ip: 10.0.0.2\n"
		"        dst_port: 22\n"
		"        expected_verdict: ACCEPT\n"
		"      - {protocol: udp, dst_port: 53, src_port: 5353, expected_verdict: "
		"Drop}\n"
		"  - name: forward\n"
		"    topology: gateway\n"
		"    rules: 'table ip f { chain fw { type filter hook forward priority 0; } "
		"}'\n"
		"    packets: [{protocol: icmp, src_ip: 10.0.1.1, dst_ip: 10.0.2.2, "
		"expected_verdict: reject}]\n");
	const struct fw_test *t = &s->tests[0];
	const struct fw_packet *p = &t->packets[0];

	(void)state;
	assert_int_equal(s->n_tests, 2);
	assert_null(s->rules);
	assert_true(t->has_topology);
	assert_int_equal(t->topology, FW_TOPO_DIRECT);
	assert_string_equal(t->rules, "table ip filter { chain input { type filter hook input "
				      "priority 0; tcp dport 22 accept; drop; } }");
	/* the first character after the quote */
	assert_loc(t->rules_loc, 4, 13);
	assert_int_equal(p->proto, IPPROTO_TCP);
	assert_string_equal(addr(&p->src), "10.0.0.1");
	assert_string_equal(addr(&p->dst), "10.0.0.2");
	assert_int_equal(p->dport, 22);
	assert_true(p->has_expect);
	assert_int_equal(p->expect.verdict, FW_VERDICT_ACCEPT);
	assert_loc(p->expect.loc, 10, 27);
	assert_int_equal(p->expect.delivered, -1);
	p = &t->packets[1];
	assert_int_equal(p->proto, IPPROTO_UDP);
	assert_int_equal(p->sport, 5353);
	assert_int_equal(p->expect.verdict, FW_VERDICT_DROP);
	t = &s->tests[1];
	assert_true(t->has_topology);
	assert_int_equal(t->topology, FW_TOPO_GATEWAY);
	assert_loc(t->rules_loc, 14, 13);
	assert_int_equal(t->packets[0].proto, IPPROTO_ICMP);
	assert_int_equal(t->packets[0].expect.verdict, FW_VERDICT_REJECT);
	assert_int_equal(t->packets[0].sport, -1);
}

/* NSE's documented format: a top-level list of tests. */
static void test_nse_documented_format(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s =
		parse_ok("- name: SSH accepted\n"
			 "  rules: |\n"
			 "    table ip filter {\n"
			 "      chain input { type filter hook input priority 0; tcp dport 22 "
			 "accept; drop; }\n"
			 "    }\n"
			 "  packets:\n"
			 "    - protocol: tcp\n"
			 "      src_ip: 10.0.0.1\n"
			 "      dst_ip: 10.0.0.2\n"
			 "      dst_port: 22\n"
			 "  expect:\n"
			 "    verdict: ACCEPT\n");
	const struct fw_test *t = &s->tests[0];

	(void)state;
	assert_int_equal(s->topology, FW_TOPO_DIRECT);
	assert_null(s->rules);
	assert_int_equal(s->n_tests, 1);
	assert_string_equal(t->name, "SSH accepted");
	assert_loc(t->loc, 1, 3);
	assert_string_equal(t->rules, "table ip filter {\n"
				      "  chain input { type filter hook input priority 0; tcp "
				      "dport 22 accept; drop; }\n"
				      "}\n");
	assert_loc(t->rules_loc, 3, 5);
	assert_int_equal(t->packets[0].dport, 22);
	assert_false(t->packets[0].has_expect);
	assert_int_equal(t->expect.verdict, FW_VERDICT_ACCEPT);
	assert_loc(t->expect.loc, 12, 5);
}

/* NSE's runner format with NSE's semantics: defaults, ACCEPT, DROP that passes for a reject. */
static const char nse_runner_yaml[] =
	"tests:\n"
	"  - name: defaults\n"
	"    topology: simple\n"
	"    rules: \"table ip f { chain i { type filter hook input priority 0; } }\"\n"
	"    packets:\n"
	"      - {protocol: tcp, dst_ip: 10.0.0.2, expected_verdict: DROP}\n"
	"      - {protocol: udp, tcp_flags: [], dst_port: 53}\n"
	"      - {protocol: icmp, src_ip: 'fd00::1', dst_ip: 'fd00::2', expected_verdict: REJECT}\n"
	"      - {protocol: tcp, tcp_flags: [S, A], src_port: 1000, expected_verdict: accept}\n";

/* The same suite as NSE's JSON: tabs, no blank after ':', escapes. */
static const char nse_runner_json[] =
	"{\n"
	"\t\"tests\": [\n"
	"\t\t{\n"
	"\t\t\t\"name\": \"defaults\",\n"
	"\t\t\t\"topology\":\"simple\",\n"
	"\t\t\t\"rules\": \"table ip f { chain i { type filter hook input priority 0; } }\",\n"
	"\t\t\t\"packets\": [\n"
	"\t\t\t\t{\"protocol\": \"tcp\", \"dst_ip\": \"10.0.0.2\", \"expected_verdict\": "
	"\"DROP\"},\n"
	"\t\t\t\t{\"protocol\": \"udp\", \"tcp_flags\": [], \"dst_port\": 53},\n"
	"\t\t\t\t{\"protocol\": \"icmp\", \"src_ip\": \"fd00::1\", \"dst_ip\": \"fd00::2\", "
	"\"expected_verdict\": \"REJECT\"},\n"
	"\t\t\t\t{\"protocol\": \"tcp\", \"tcp_flags\": [\"S\", \"A\"], \"src_port\": 1000, "
	"\"expected_verdict\": \"accept\"}\n"
	"\t\t\t]\n"
	"\t\t}\n"
	"\t]\n"
	"}\n";

static void check_nse_runner(const struct fw_suite *s)
{
	const struct fw_test *t = &s->tests[0];
	const struct fw_packet *p = t->packets;

	assert_true(s->nse);
	assert_int_equal(s->n_tests, 1);
	assert_int_equal(t->n_packets, 4);
	/* TCP without tcp_flags: no flags at all (not a SYN), ports 12345 -> 80 */
	assert_int_equal(p[0].proto, IPPROTO_TCP);
	assert_int_equal(p[0].tcp_flags, 0);
	assert_int_equal(p[0].sport, 12345);
	assert_int_equal(p[0].dport, 80);
	assert_true(p[0].has_expect);
	assert_int_equal(p[0].expect.verdict, FW_VERDICT_DROP);
	assert_true(p[0].expect.drop_or_reject);
	/* no expected_verdict: ACCEPT; tcp_flags: [] on UDP ignored */
	assert_int_equal(p[1].proto, IPPROTO_UDP);
	assert_int_equal(p[1].tcp_flags, -1);
	assert_int_equal(p[1].sport, 12345);
	assert_int_equal(p[1].dport, 53);
	assert_true(p[1].has_expect);
	assert_int_equal(p[1].expect.verdict, FW_VERDICT_ACCEPT);
	assert_false(p[1].expect.drop_or_reject);
	assert_loc(p[1].expect.loc, p[1].loc.line, p[1].loc.col);
	/* icmp to IPv6 addresses: an ICMPv6 echo request; REJECT stays strict */
	assert_int_equal(p[2].proto, IPPROTO_ICMPV6);
	assert_int_equal(p[2].icmp_type, -1);
	assert_int_equal(p[2].sport, -1);
	assert_int_equal(p[2].expect.verdict, FW_VERDICT_REJECT);
	assert_false(p[2].expect.drop_or_reject);
	assert_int_equal(p[3].tcp_flags, FW_TCP_SYN | FW_TCP_ACK);
	assert_int_equal(p[3].sport, 1000);
	assert_int_equal(p[3].dport, 80);
	assert_int_equal(p[3].expect.verdict, FW_VERDICT_ACCEPT);
}

static void test_nse_semantics(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *y = parse_ok(nse_runner_yaml);
	_cleanup_(fw_suite_freep) struct fw_suite *j = parse_ok(nse_runner_json);

	(void)state;
	check_nse_runner(y);
	check_nse_runner(j);
	assert_string_equal(y->tests[0].rules, j->tests[0].rules);
}

/* NSE's documented format: the test's expect: is its last packet's, the others expect ACCEPT. */
static void test_nse_documented_defaults(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s =
		parse_ok("- name: t\n"
			 "  rules: ''\n"
			 "  packets:\n"
			 "    - {protocol: tcp, tcp_flags: [S]}\n"
			 "    - {protocol: tcp, expect: {verdict: drop}}\n"
			 "    - {protocol: tcp, dst_port: 23}\n"
			 "  expect: {verdict: DROP}\n"
			 "- name: u\n"
			 "  rules: ''\n"
			 "  packets: [{protocol: udp}]\n");
	const struct fw_test *t = &s->tests[0];

	(void)state;
	assert_true(s->nse);
	assert_true(t->packets[0].has_expect);
	assert_int_equal(t->packets[0].expect.verdict, FW_VERDICT_ACCEPT);
	assert_int_equal(t->packets[0].tcp_flags, FW_TCP_SYN);
	/* a packet's own expect: is nslab's: its drop is strict */
	assert_int_equal(t->packets[1].expect.verdict, FW_VERDICT_DROP);
	assert_false(t->packets[1].expect.drop_or_reject);
	assert_int_equal(t->packets[1].tcp_flags, 0);
	assert_false(t->packets[2].has_expect);
	assert_int_equal(t->expect.verdict, FW_VERDICT_DROP);
	assert_true(t->expect.drop_or_reject);
	/* no expectation at all: the (last) packet expects ACCEPT */
	t = &s->tests[1];
	assert_false(t->packets[0].has_expect);
	assert_int_equal(t->expect.verdict, FW_VERDICT_ACCEPT);
}

/* NSE ignores src_port and dst_port on ICMP: NSE's formats too, with a warning; nslab's refuses. */
static void test_nse_icmp_ports(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s =
		parse_ok("- name: t\n"
			 "  rules: ''\n"
			 "  packets:\n"
			 "    - {protocol: icmp, src_port: 1234, dst_port: 0}\n"
			 "    - {protocol: icmp, dst_ip: 'fd00::2', dst_port: 80}\n"
			 "    - {protocol: tcp, src_port: 1, dst_port: 2}\n");
	_cleanup_(fw_suite_freep) struct fw_suite *quiet =
		parse_ok("- {name: t, rules: '', packets: [{protocol: icmp}]}\n");
	static const struct {
		const char *text, *msg;
	} refused[] = {
		/* nslab's format */
		{ "rules: ''\ntests: [{name: t, packets: [{protocol: icmp, src_port: 1}]}]\n",
		  "t.yaml:2:46: src_port: proto icmp has no ports" },
		{ "rules: ''\ntests: [{name: t, packets: [{proto: icmpv6, dport: 1}]}]\n",
		  "t.yaml:2:45: dport: proto icmpv6 has no ports" },
		/* NSE's format with nslab's spelling */
		{ "- {name: t, rules: '', packets: [{protocol: icmp, sport: 1}]}\n",
		  "t.yaml:1:51: sport: proto icmp has no ports" },
	};
	const struct fw_packet *p = s->tests[0].packets;

	(void)state;
	assert_true(s->nse);
	assert_int_equal(p[0].proto, IPPROTO_ICMP);
	assert_int_equal(p[0].sport, -1);
	assert_int_equal(p[0].dport, -1);
	assert_int_equal(p[1].proto, IPPROTO_ICMPV6);
	assert_int_equal(p[1].dport, -1);
	assert_int_equal(p[2].sport, 1);
	assert_int_equal(p[2].dport, 2);
	assert_string_equal(
		s->warnings,
		"t.yaml:4:24: src_port ignored: an ICMP packet has no ports (proto icmp)\n"
		"t.yaml:4:40: dst_port ignored: an ICMP packet has no ports (proto icmp)\n"
		"t.yaml:5:43: dst_port ignored: an ICMP packet has no ports (proto icmp)\n");
	assert_null(quiet->warnings);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		struct fw_suite *bad = SENTINEL;
		nslab_error err = { 0 };

		assert_int_equal(fw_suite_parse_string(refused[i].text, strlen(refused[i].text),
						       "t.yaml", false, &bad, &err),
				 -EINVAL);
		assert_ptr_equal(bad, SENTINEL);
		assert_string_equal(err.msg, refused[i].msg);
	}
}

/* nslab's format keeps its own defaults, even with NSE's spellings and expected_verdict. */
static void test_nslab_semantics(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s =
		parse_ok("rules: ''\n"
			 "tests:\n"
			 "- name: t\n"
			 "  packets:\n"
			 "    - {protocol: tcp, dst_port: 22, expected_verdict: drop}\n"
			 "    - {protocol: udp, dst_port: 53}\n"
			 "    - {dport: 1}\n");
	const struct fw_packet *p = s->tests[0].packets;
	const char *text =
		"rules: ''\ntests:\n- name: t\n"
		"  packets: [{protocol: icmp, dst_ip: 'fd00::2', expected_verdict: drop}]\n";
	struct fw_suite *bad = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_false(s->nse);
	assert_int_equal(p[0].tcp_flags, -1); /* a SYN, by the runner */
	assert_int_equal(p[0].sport, -1);
	assert_int_equal(p[0].expect.verdict, FW_VERDICT_DROP);
	assert_false(p[0].expect.drop_or_reject);
	assert_false(p[1].has_expect);
	assert_false(p[2].has_expect);
	assert_int_equal(s->tests[0].expect.verdict, FW_VERDICT_UNSET);
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &bad, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "t.yaml:4:24: proto icmp with an IPv6 address (use icmpv6)");
}

/* Quoted scalars: '' and escapes decoded; rules with escaped line breaks point at the string. */
static void test_quoted_scalars(void **state)
{
	static const char text[] =
		"a: 'it''s '''''\n"
		"b: \"\\t\\\"x\\\\y\\/\\u00e9\\x41\\U0001F600\\uD83D\\uDE00\\L\"\n"
		"c: \"\"\n"
		"d: ''\n";
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	_cleanup_(fw_suite_freep) struct fw_suite *s = NULL;
	nslab_error err = { 0 };
	struct yctx c = { .file = "f.yaml", .err = &err };

	(void)state;
	assert_int_equal(yaml_read(&c, text, strlen(text), 0, &root), 0);
	assert_int_equal(root->n, 8);
	assert_string_equal(root->kids[1]->text, "it's ''");
	assert_int_equal(root->kids[1]->len, 7);
	assert_string_equal(root->kids[3]->text, "\t\"x\\y/\xc3\xa9"
						 "A\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xe2\x80\xa8");
	assert_int_equal(root->kids[3]->len, 20);
	assert_string_equal(root->kids[5]->text, "");
	assert_false(root->kids[5]->plain);
	assert_string_equal(root->kids[7]->text, "");

	s = parse_ok("rules: \"table ip f {\\n\\tchain c {\\n\\t}\\n}\\n\"\n"
		     "tests: [{name: \"it's \\\"t\\\"\", packets: [{}]}]\n");
	assert_string_equal(s->rules, "table ip f {\n\tchain c {\n\t}\n}\n");
	assert_string_equal(s->tests[0].name, "it's \"t\"");
	/* nft's 3:2 is somewhere in the string: the string's place */
	assert_loc(fw_rules_loc(s->rules_loc, 3, 2), 1, 9);
	assert_loc(fw_rules_loc(s->rules_loc, 1, 1), 1, 9);
}

static void test_packet_fields(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = parse_ok(
		"rules: ''\n"
		"tests:\n"
		"- name: all\n"
		"  listen: false\n"
		"  packets:\n"
		"  - {proto: tcp, src: fd00::1, dst: 'fd00::2', sport: 1, dport: 65535,\n"
		"     flags: [S, A, fin, CWR], hoplimit: 1, count: 10000, from: client}\n"
		"  - {proto: icmp, icmp_type: 0, icmp_code: 255, ttl: 255, payload: hello}\n"
		"  - {proto: 47, payload: 'hex:0a0B 0c:0d\tff'}\n"
		"  - {proto: ICMPv6, dst: 2001:db8::1, payload: 0xDEADbeef}\n"
		"  - {proto: udp, payload: \"\"}\n"
		"  - {flags: 'syn,ack', src: target}\n"
		"  - {flags: SAFRPUEC}\n"
		"  - {flags: '', proto: 6}\n"
		"  - proto: icmp6\n"
		"    payload: |\n"
		"      line one\n"
		"        two\n"
		"  - {proto: 0, payload: 'hex:'}\n");
	const struct fw_test *t = &s->tests[0];
	const struct fw_packet *p = t->packets;

	(void)state;
	assert_false(t->listen);
	assert_int_equal(t->n_packets, 10);
	assert_string_equal(s->rules, "");
	assert_loc(s->rules_loc, 1, 9);

	assert_int_equal(p[0].src.addr.family, AF_INET6);
	assert_int_equal(p[0].src.addr.len, 128);
	assert_string_equal(addr(&p[0].src), "fd00::1");
	assert_string_equal(addr(&p[0].dst), "fd00::2");
	assert_loc(p[0].dst.loc, 6, 37);
	assert_int_equal(p[0].sport, 1);
	assert_int_equal(p[0].dport, 65535);
	assert_int_equal(p[0].tcp_flags, FW_TCP_SYN | FW_TCP_ACK | FW_TCP_FIN | FW_TCP_CWR);
	assert_int_equal(p[0].ttl, 1);
	assert_int_equal(p[0].count, 10000);
	assert_string_equal(p[0].from, "client");

	assert_int_equal(p[1].proto, IPPROTO_ICMP);
	assert_int_equal(p[1].icmp_type, 0);
	assert_int_equal(p[1].icmp_code, 255);
	assert_int_equal(p[1].ttl, 255);
	assert_int_equal(p[1].payload_len, 5);
	assert_memory_equal(p[1].payload, "hello", 5);

	assert_int_equal(p[2].proto, 47);
	assert_int_equal(p[2].payload_len, 5);
	assert_memory_equal(p[2].payload, "\x0a\x0b\x0c\x0d\xff", 5);

	assert_int_equal(p[3].proto, IPPROTO_ICMPV6);
	assert_int_equal(p[3].payload_len, 4);
	assert_memory_equal(p[3].payload, "\xde\xad\xbe\xef", 4);

	assert_int_equal(p[4].proto, IPPROTO_UDP);
	assert_null(p[4].payload);
	assert_int_equal(p[4].payload_len, 0);

	assert_int_equal(p[5].proto, IPPROTO_TCP); /* the default */
	assert_int_equal(p[5].tcp_flags, FW_TCP_SYN | FW_TCP_ACK);
	assert_string_equal(p[5].src.node, "target");
	assert_int_equal(p[6].tcp_flags, 0xff);
	assert_int_equal(p[7].tcp_flags, 0);

	assert_int_equal(p[8].proto, IPPROTO_ICMPV6);
	assert_int_equal(p[8].payload_len, 15);
	assert_memory_equal(p[8].payload, "line one\n  two\n", 15);

	assert_int_equal(p[9].proto, 0);
	assert_null(p[9].payload);
}

/* "flags: ''" is no flag at all, but still a TCP field. */
static void test_flags_need_tcp(void **state)
{
	const char *text = "rules: ''\ntests:\n- name: x\n  packets: [{proto: udp, flags: ''}]\n";
	nslab_error err = { 0 };
	struct fw_suite *s = SENTINEL;

	(void)state;
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "t.yaml:4:26: flags: only for proto tcp, not udp");
}

static void test_expect_fields(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = parse_ok(
		"topology: gateway\n"
		"rules: ''\n"
		"tests:\n"
		"- name: everything\n"
		"  packets:\n"
		"  - dport: 80\n"
		"    expect: {verdict: Reject, reply: RST, delivered: false}\n"
		"  flows: [{dport: 80, proto: UDP, src: 10.0.1.1, sport: 999, from: client,\n"
		"           send: 'hex:00'}]\n"
		"  expect:\n"
		"    verdict: drop\n"
		"    rule: 'tcp dport 80'\n"
		"    chain: input\n"
		"    delivered: true\n"
		"    reply: icmp_admin_prohibited\n"
		"    ct_state: UNTRACKED\n"
		"    nat: {src: 192.0.2.1, sport: 1024, dst: server, dport: 8080}\n"
		"    capture:\n"
		"      - {at: server, filter: tcp port 8080, count: 0}\n"
		"      - {at: 'router:eth1', min: 1, max: 3}\n"
		"      - {at: client:eth0}\n"
		"    counter: {web: 3, other: {bytes: 120}, both: {packets: 0, bytes: "
		"9223372036854775807}}\n"
		"    connect: timeout\n"
		"- name: one capture\n"
		"  packets: [{}]\n"
		"  expect: {capture: {at: server, max: 0}, nat: {dport: 22}}\n");
	const struct fw_test *t = &s->tests[0];
	const struct fw_expect *e = &t->expect;
	const struct fw_packet *p = &t->packets[0];
	const struct fw_flow *f = &t->flows[0];

	(void)state;
	assert_true(p->has_expect);
	assert_int_equal(p->expect.verdict, FW_VERDICT_REJECT);
	assert_int_equal(p->expect.reply, FW_REPLY_RST);
	assert_int_equal(p->expect.delivered, 0);
	assert_loc(p->expect.loc, 7, 13);

	assert_int_equal(f->proto, IPPROTO_UDP);
	assert_string_equal(addr(&f->src), "10.0.1.1");
	assert_int_equal(f->sport, 999);
	assert_string_equal(f->from, "client");
	assert_int_equal(f->send_len, 1);
	assert_int_equal(f->send[0], 0);

	assert_int_equal(e->verdict, FW_VERDICT_DROP);
	assert_string_equal(e->rule, "tcp dport 80");
	assert_string_equal(e->chain, "input");
	assert_int_equal(e->delivered, 1);
	assert_int_equal(e->reply, FW_REPLY_ICMP_ADMIN_PROHIBITED);
	assert_int_equal(e->ct_state, FW_CT_UNTRACKED);
	assert_true(e->nat.set);
	assert_loc(e->nat.loc, 17, 10);
	assert_string_equal(addr(&e->nat.src), "192.0.2.1");
	assert_int_equal(e->nat.sport, 1024);
	assert_string_equal(e->nat.dst.node, "server");
	assert_int_equal(e->nat.dport, 8080);

	assert_int_equal(e->n_captures, 3);
	assert_string_equal(e->captures[0].node, "server");
	assert_null(e->captures[0].iface);
	assert_string_equal(e->captures[0].filter, "tcp port 8080");
	assert_int_equal(e->captures[0].count, 0);
	assert_int_equal(e->captures[0].min, -1);
	assert_int_equal(e->captures[0].max, -1);
	assert_loc(e->captures[0].loc, 19, 9);
	assert_string_equal(e->captures[1].node, "router");
	assert_string_equal(e->captures[1].iface, "eth1");
	assert_int_equal(e->captures[1].count, -1);
	assert_int_equal(e->captures[1].min, 1);
	assert_int_equal(e->captures[1].max, 3);
	assert_string_equal(e->captures[2].iface, "eth0");
	assert_null(e->captures[2].filter);
	/* no count: at least one packet */
	assert_int_equal(e->captures[2].count, -1);
	assert_int_equal(e->captures[2].min, 1);
	assert_int_equal(e->captures[2].max, -1);

	assert_int_equal(e->n_counters, 3);
	assert_string_equal(e->counters[0].name, "web");
	assert_int_equal(e->counters[0].packets, 3);
	assert_int_equal(e->counters[0].bytes, -1);
	assert_loc(e->counters[0].loc, 22, 15);
	assert_string_equal(e->counters[1].name, "other");
	assert_int_equal(e->counters[1].packets, -1);
	assert_int_equal(e->counters[1].bytes, 120);
	assert_int_equal(e->counters[2].packets, 0);
	assert_true(e->counters[2].bytes == INT64_MAX);
	assert_int_equal(e->connect, FW_CONNECT_TIMEOUT);

	e = &s->tests[1].expect;
	assert_int_equal(s->tests[1].packets[0].proto, IPPROTO_TCP);
	assert_int_equal(e->n_captures, 1);
	assert_int_equal(e->captures[0].max, 0);
	assert_int_equal(e->captures[0].min, -1);
	assert_true(e->nat.set);
	assert_int_equal(e->nat.sport, -1);
	assert_int_equal(e->nat.dport, 22);
	assert_null(e->nat.src.node);
	assert_int_equal(e->nat.src.addr.family, 0);
}

static void test_lab_topology(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *a = NULL, *b = NULL;
	const char *text = "topology: lab\nlab: office.yaml\nrules_in: home\nrules: ''\n"
			   "tests: [{name: t, packets: [{dst: server}], topology: gateway}]\n";
	_cleanup_free_ char *abs = realpath("examples/office.yaml", NULL), *abs_text = NULL;
	struct fw_suite *bad = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(
		fw_suite_parse_string(text, strlen(text), "examples/suite.yaml", false, &a, &err),
		0);
	assert_int_equal(a->topology, FW_TOPO_LAB);
	assert_string_equal(a->lab_file, "examples/office.yaml");
	assert_string_equal(a->rules_in, "home");
	assert_true(a->tests[0].has_topology);
	assert_int_equal(a->tests[0].topology, FW_TOPO_GATEWAY);
	assert_string_equal(a->tests[0].packets[0].dst.node, "server"); /* the test's topology */
	/* the topology follows from lab:; absolute paths stay; no file name, no folder */
	assert_non_null(abs);
	assert_true(asprintf(&abs_text,
			     "lab: %s\nrules_in: isp\nrules: ''\ntests: [{name: t, flows: "
			     "[{dport: 1}]}]\n",
			     abs) > 0);
	assert_int_equal(fw_suite_parse_string(abs_text, strlen(abs_text), NULL, false, &b, &err),
			 0);
	assert_int_equal(b->topology, FW_TOPO_LAB);
	assert_string_equal(b->lab_file, abs);
	assert_null(b->path);
	/* the lab file is read while parsing: a missing one is the suite's error, at lab: */
	text = "lab: no-such-lab.yaml\nrules_in: r\nrules: ''\ntests: [{name: t, flows: "
	       "[{dport: 1}]}]\n";
	assert_int_equal(
		fw_suite_parse_string(text, strlen(text), "examples/s.yaml", false, &bad, &err),
		-ENOENT);
	assert_string_equal(err.msg, "examples/s.yaml:1:6: open 'examples/no-such-lab.yaml': No "
				     "such file or directory");
	assert_ptr_equal(bad, SENTINEL);
}

/* Parse text as examples/s.yaml (its lab: is examples/office.yaml): -EINVAL with msg. */
static void assert_lab_error(const char *text, const char *msg)
{
	struct fw_suite *s = SENTINEL;
	nslab_error err = { 0 };

	assert_int_equal(
		fw_suite_parse_string(text, strlen(text), "examples/s.yaml", false, &s, &err),
		-EINVAL);
	assert_string_equal(err.msg, msg);
	assert_ptr_equal(s, SENTINEL);
}

#define OFFICE "lab: office.yaml\nrules_in: home\nrules: ''\ntests:\n- name: t\n"

/* A lab's nodes (count: expanded) and interfaces (a router's uplink: ix or wan) are known. */
static void test_lab_node_names(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s = NULL;
	const char *text =
		OFFICE "  packets:\n"
		       "  - {dst: server-3, from: phone, src: phone}\n"
		       "  - {dst: laptop, expect: {nat: {src: isp, dst: server-1}}}\n"
		       "  expect:\n"
		       "    capture: [{at: 'phone:wlan0'}, {at: 'phone:eth1'}, {at: 'isp:ix'},\n"
		       "              {at: 'home:wan'}, {at: laptop}]\n";
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(
		fw_suite_parse_string(text, strlen(text), "examples/s.yaml", false, &s, &err), 0);
	assert_int_equal(s->tests[0].expect.n_captures, 5);
	assert_lab_error(OFFICE "  packets: [{dst: server-4}]\n",
			 "examples/s.yaml:6:19: dst: unknown node 'server-4' (the lab has isp, "
			 "home, laptop, phone, server-1, server-2, server-3)");
	assert_lab_error(OFFICE "  packets: [{}]\n  expect: {capture: {at: 'home:eth0'}}\n",
			 "examples/s.yaml:7:26: capture at: node 'home' has no interface 'eth0' "
			 "(it has wan)");
	assert_lab_error(OFFICE "  packets: [{}]\n  expect: {capture: {at: 'laptop:wlan0'}}\n",
			 "examples/s.yaml:7:26: capture at: node 'laptop' has no interface "
			 "'wlan0' (it has eth0)");
	/* a test of its own topology has that topology's nodes */
	assert_lab_error(OFFICE "  topology: gateway\n  flows: [{dport: 22, from: laptop}]\n",
			 "examples/s.yaml:7:29: from: unknown node 'laptop' (the gateway "
			 "topology has client, router, server)");
}

/* A long list of names ends in "...". */
static void test_node_list_cut(void **state)
{
	char dir[] = "/tmp/nslab-test-suite-XXXXXX", path[256];
	const char *text = "lab: big.yaml\nrules_in: isp\nrules: ''\n"
			   "tests: [{name: t, packets: [{dst: pc-41}]}]\n";
	struct fw_suite *s = SENTINEL;
	nslab_error err = { 0 };
	int r;
	const char *want = "s.yaml:4:35: dst: unknown node 'pc-41' (the lab has isp, pc-1, "
			   "pc-2, pc-3, pc-4, pc-5, pc-6, pc-7, pc-8, pc-9, pc-10, pc-11, pc-12, "
			   "pc-13, pc-14, pc-15, pc-16, pc-17, pc-18, pc-19, pc-20, pc-21, pc-22, "
			   "pc-23, ...)";
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("routers: {isp: {}}\ndevices: {pc: {router: isp, count: 40}}\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/s.yaml", dir);
	r = fw_suite_parse_string(text, strlen(text), path, false, &s, &err);
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(r, -EINVAL);
	if (!strstr(err.msg, want))
		print_error("got %s\n", err.msg);
	assert_non_null(strstr(err.msg, want));
	assert_ptr_equal(s, SENTINEL);
}

static void test_gateway_and_names(void **state)
{
	_cleanup_(fw_suite_freep) struct fw_suite *s =
		parse_ok("topology: GATEWAY\nrules: x\ntests:\n"
			 "- {name: a, packets: [{}], rules: y}\n- {name: b, packets: [{}]}\n");

	(void)state;
	assert_int_equal(s->topology, FW_TOPO_GATEWAY);
	assert_string_equal(s->rules, "x");
	assert_loc(s->rules_loc, 2, 8);
	assert_string_equal(s->tests[0].rules, "y");
	assert_loc(s->tests[0].rules_loc, 4, 35);
	assert_null(s->tests[1].rules);
}

static void test_rules_file(void **state)
{
	char dir[] = "/tmp/nslab-test-suite-XXXXXX", path[256], suite[256], text_buf[600];
	const char *text = "rules_file: fw.nft\ntests: [{name: t, packets: [{}]}]\n";
	_cleanup_(fw_suite_freep) struct fw_suite *s = NULL;
	struct fw_suite *bad = SENTINEL;
	nslab_error err = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fw.nft", dir);
	snprintf(suite, sizeof(suite), "%s/suite.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("table inet f {\n  chain c { }\n}\n", f);
	fclose(f);
	f = fopen(suite, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);

	assert_int_equal(fw_suite_parse(suite, false, &s, &err), 0);
	assert_string_equal(s->path, suite);
	assert_string_equal(s->rules_file, path);
	assert_string_equal(s->rules, "table inet f {\n  chain c { }\n}\n");
	assert_loc(s->rules_loc, 1, 1);
	assert_loc(fw_rules_loc(s->rules_loc, 2, 3), 2, 3);

	/* an include inside is reported in the rules file */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("flush ruleset\n\tinclude \"/etc/x\"\n", f);
	fclose(f);
	assert_int_equal(fw_suite_parse(suite, false, &bad, &err), -EINVAL);
	snprintf(suite, sizeof(suite),
		 "%s:2:2: 'include' is not allowed in rules (they are loaded with privileges; "
		 "--allow-include accepts it)",
		 path);
	assert_string_equal(err.msg, suite);
	assert_ptr_equal(bad, SENTINEL);

	/* missing, not regular */
	assert_int_equal(unlink(path), 0);
	snprintf(suite, sizeof(suite), "%s/suite.yaml", dir);
	assert_int_equal(fw_suite_parse(suite, false, &bad, &err), -ENOENT);
	snprintf(path, sizeof(path), "%s:1:13: open '%s/fw.nft': No such file or directory", suite,
		 dir);
	assert_string_equal(err.msg, path);
	text = "rules_file: /dev/null\ntests: [{name: t, packets: [{}]}]\n";
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &bad, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "t.yaml:1:13: '/dev/null': not a regular file");
	/* a FIFO is refused without waiting for a writer */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	f = fopen(suite, "w");
	assert_non_null(f);
	fputs("rules_file: fifo\ntests: [{name: t, packets: [{}]}]\n", f);
	fclose(f);
	assert_int_equal(fw_suite_parse(suite, false, &bad, &err), -EINVAL);
	snprintf(text_buf, sizeof(text_buf), "%s:1:13: '%s': not a regular file", suite, path);
	assert_string_equal(err.msg, text_buf);
	assert_int_equal(fw_suite_parse(path, false, &bad, &err), -EINVAL);
	snprintf(text_buf, sizeof(text_buf), "'%s': not a regular file", path);
	assert_string_equal(err.msg, text_buf);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fw_suite_parse("tests/unit/no-such-suite.yaml", false, &bad, &err),
			 -ENOENT);
	assert_string_equal(err.msg,
			    "open 'tests/unit/no-such-suite.yaml': No such file or directory");
	assert_ptr_equal(bad, SENTINEL);

	assert_int_equal(unlink(suite), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_include(void **state)
{
	static const struct {
		const char *rules;
		unsigned line, col; /* 0: no include */
	} cases[] = {
		{ "rules: |\n  table ip t {}\n  include \"a\"\n", 3, 3 },
		{ "rules: |\n  flush ruleset; include \"a\"\n", 2, 18 },
		{ "rules: |\n  table ip t {include \"a\"}\n", 2, 15 },
		{ "rules: |\n  }  INCLUDE\"a\"\n", 2, 6 },
		{ "rules: 'include \"x\"'\n", 1, 9 },
		{ "rules: flush ruleset;include x\n", 1, 22 },
		{ "rules: |4\n      include \"a\"\n", 2, 7 },
		/* not the keyword */
		{ "rules: |\n  # include \"a\"\n", 0, 0 },
		{ "rules: |\n  table ip t { comment \"x; include\" }\n", 0, 0 },
		{ "rules: |\n  includes\n  include-x\n  @include\n", 0, 0 },
		/* anywhere outside comments and strings (nft has no other use for the word) */
		{ "rules: |\n  jump include\n", 2, 8 },
		/* nft's strings have no escapes: this one ends before the include */
		{ "rules: |\n  define x = \"a\\\"; include \"b\"\n", 2, 20 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[256], want[256];
		struct fw_suite *s = SENTINEL;
		nslab_error err = { 0 };
		int r;

		snprintf(text, sizeof(text), "%stests: [{name: t, packets: [{}]}]\n",
			 cases[i].rules);
		r = fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err);
		if (!cases[i].line) {
			if (r < 0)
				print_error("case %zu: %s\n", i, err.msg);
			assert_int_equal(r, 0);
			fw_suite_free(s);
			continue;
		}
		snprintf(want, sizeof(want),
			 "t.yaml:%u:%u: 'include' is not allowed in rules (they are loaded with "
			 "privileges; --allow-include accepts it)",
			 cases[i].line, cases[i].col);
		if (r != -EINVAL || strcmp(err.msg, want) != 0)
			print_error("case %zu: got %s\n", i, err.msg);
		assert_int_equal(r, -EINVAL);
		assert_string_equal(err.msg, want);
		assert_ptr_equal(s, SENTINEL);
		/* allowed on request */
		assert_int_equal(
			fw_suite_parse_string(text, strlen(text), "t.yaml", true, &s, &err), 0);
		fw_suite_free(s);
	}
}

/* What the reader refuses before it could mislead or exhaust: tags, nesting, directives. */
static void test_yaml_refusals(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "a: !!binary aGVsbG8=\n", "y.yaml:1:4: tags ('!') are not supported" },
		{ "a: !x [1]\n", "y.yaml:1:4: tags ('!') are not supported" },
		{ "\xef\xbb\xbf%YAML 1.2\n---\na: 1\n",
		  "y.yaml:1:1: directives ('%') are not supported" },
		{ "# c\r%YAML 1.1\r---\ra: 1\r", "y.yaml:2:1: directives ('%') are not supported" },
	};
	char deep[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ynode *root = (struct ynode *)0x1;
		nslab_error err = { 0 };
		struct yctx c = { .file = "y.yaml", .err = &err };

		assert_int_equal(yaml_read(&c, cases[i].yaml, strlen(cases[i].yaml), 0, &root),
				 -EINVAL);
		assert_string_equal(err.msg, cases[i].msg);
		assert_ptr_equal(root, (struct ynode *)0x1);
	}
	/* 64 levels are read, the 65th is refused (recursion has a bound) */
	for (int depth = 64; depth <= 65; depth++) {
		struct ynode *root = NULL;
		nslab_error err = { 0 };
		struct yctx c = { .file = "y.yaml", .err = &err };
		int r;

		memset(deep, '[', (size_t)depth);
		memset(deep + depth, ']', (size_t)depth);
		deep[2 * depth] = '\0';
		r = yaml_read(&c, deep, strlen(deep), 0, &root);
		if (depth == 64) {
			assert_int_equal(r, 0);
			ynode_free(root);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_string_equal(err.msg, "y.yaml:1:65: nesting deeper than 64 levels");
		}
	}
}

/* core/yaml's literal block scalars, as the YAML spec and PyYAML read them */
static void test_block_scalars(void **state)
{
	static const struct {
		const char *yaml, *text;
		unsigned line, col;
	} cases[] = {
		{ "k: |\n  a\n   b\n\n  c\n\n\nz: 1\n", "a\n b\n\nc\n", 2, 3 },
		{ "k: |-\n  a\n\n", "a", 2, 3 },
		{ "k: |+\n  a\n\n\n", "a\n\n\n", 2, 3 },
		{ "k: |+ # keep\n  a\n  \n", "a\n\n", 2, 3 },
		{ "k: |2\n    a\n   b\n", "  a\n b\n", 2, 3 },
		{ "k: |-1\n   a\n", "  a", 2, 2 },
		{ "a:\n  k: |1-\n     x\n  y: 1\n", "  x", 3, 4 },
		{ "- |\n  a\n- |\n   b\n", "a\n", 2, 3 },
		{ "- k: |\n    a\n  j: 1\n", "a\n", 2, 5 },
		{ "k: |\n  a\r\n  b\r\n", "a\nb\n", 2, 3 },
		{ "k: |\n  a\n  b", "a\nb", 2, 3 },
		{ "k: |\n  a\n   ", "a\n ", 2, 3 },
		{ "k: |\nz: 1\n", "", 2, 2 },
		{ "k: |", "", 1, 2 },
		{ "a:\n  k: | # c\nb: 2\n", "", 3, 4 },
		{ "\"k #|\": &x |\n  v # not a comment\n", "v # not a comment\n", 2, 3 },
		{ "k: |\n\n  \n  a\n", "\n\na\n", 2, 3 },
		{ "k: |\n  a\n # c\nz: 1\n", "a\n", 2, 3 },
		{ "k: |\n  \ta\t\n", "\ta\t\n", 2, 3 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(ynode_freep) struct ynode *root = NULL;
		nslab_error err = { 0 };
		struct yctx c = { .file = "y.yaml", .err = &err };
		const struct ynode *v;
		int r = yaml_read(&c, cases[i].yaml, strlen(cases[i].yaml), YAML_LITERAL_BLOCKS,
				  &root);

		if (r < 0)
			print_error("case %zu: %s\n", i, err.msg);
		assert_int_equal(r, 0);
		v = root->kids[root->type == Y_MAP ? 1 : 0];
		if (v->type == Y_MAP)
			v = v->kids[1];
		if (strcmp(v->text, cases[i].text) != 0 || v->loc.line != cases[i].line ||
		    v->loc.col != cases[i].col)
			print_error("case %zu: got '%s' at %u:%u\n", i, v->text, v->loc.line,
				    v->loc.col);
		assert_true(v->block);
		assert_false(v->plain);
		assert_string_equal(v->text, cases[i].text);
		assert_int_equal(v->len, strlen(cases[i].text));
		assert_int_equal(v->loc.line, cases[i].line);
		assert_int_equal(v->loc.col, cases[i].col);
		/* without the flag: refused, as lab files want */
		ynode_free(TAKE_PTR(root));
		assert_int_equal(yaml_read(&c, cases[i].yaml, strlen(cases[i].yaml), 0, &root),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "block scalars ('|', '>') are not supported"));
	}
}

static void test_yaml_helpers(void **state)
{
	_cleanup_(ynode_freep) struct ynode *root = NULL;
	static const char *const keys[] = { "a", "b", "c", NULL };
	const char *text = "a: |\n  x\n  y\nb: ~\nc: 12\n";
	nslab_error err = { 0 };
	struct yctx c = { .file = NULL, .err = &err };
	uint32_t seen = 0;
	const char *s;
	uint64_t u;

	(void)state;
	assert_int_equal(yaml_read(&c, text, strlen(text), YAML_LITERAL_BLOCKS, &root), 0);
	assert_int_equal(y_key(&c, root->kids[0], keys, 1, &seen), 0);
	assert_int_equal(y_str(&c, root->kids[1], "a", &s), -EINVAL);
	/* no file: no place in the message */
	assert_string_equal(err.msg, "a: expected a single line");
	assert_int_equal(y_text(&c, root->kids[1], "a", &s), 0);
	assert_string_equal(s, "x\ny\n");
	assert_true(y_is_null(root->kids[3]));
	assert_string_equal(y_kind(root->kids[3]), "null");
	assert_int_equal(y_uint(&c, root->kids[5], "c", 0, 11, "0..11", &u), -EINVAL);
	assert_string_equal(err.msg, "bad c '12' (expected 0..11)");
	assert_int_equal(y_key(&c, root->kids[0], keys, 1, &seen), -EINVAL);
	assert_string_equal(err.msg, "duplicate key 'a'");
	c.file = "f.yaml";
	assert_int_equal(y_seq(&c, root, "top"), -EINVAL);
	assert_string_equal(err.msg, "f.yaml:1:1: top: expected a sequence, not a mapping");
	assert_int_equal(
		y_key(&c, root->kids[5], (const char *const[]){ "x", "y", NULL }, 1, &seen),
		-EINVAL);
	assert_string_equal(err.msg, "f.yaml:5:4: unknown key '12' (expected one of: x)");
	/* libfyaml 0.7 reads "  b: 2" into the empty scalar (and loses key b): refused */
	ynode_free(TAKE_PTR(root));
	text = "a:\n  k: | # c\n  b: 2\n";
	assert_int_equal(yaml_read(&c, text, strlen(text), YAML_LITERAL_BLOCKS, &root), -EINVAL);
	assert_string_equal(err.msg, "f.yaml:2:3: empty block scalar followed by a line of its "
				     "key's indentation (not supported: write '' for an empty "
				     "value)");
	/* folded scalars stay refused */
	ynode_free(TAKE_PTR(root));
	assert_int_equal(yaml_read(&c, "a: >\n  x\n", 9, YAML_LITERAL_BLOCKS, &root), -EINVAL);
	assert_string_equal(err.msg,
			    "f.yaml:1:1: folded block scalars ('>') are not supported: use '|'");
}

struct error_case {
	const char *text, *msg;
};

#define T  "tests: [{name: t, packets: [{}]}]\n"
#define R  "rules: ''\n"
#define RT "rules: ''\ntests:\n- name: t\n"
#define SHAPES                                                           \
	"a mapping of counter names to packet counts, like {ssh: 1} or " \
	"{ssh: {packets: 1, bytes: 60}}"

static const struct error_case errors[] = {
	/* the suite */
	{ "", "t.yaml:1:1: empty suite: expected 'tests:' or a list of tests" },
	{ "# nothing\n", "t.yaml:1:1: empty suite: expected 'tests:' or a list of tests" },
	{ "hello\n", "t.yaml:1:1: suite: expected a mapping or a list of tests, not a scalar" },
	{ R "test: []\n", "t.yaml:2:1: unknown key 'test' (expected one of: topology, lab, "
			  "rules_in, rules, rules_file, tests, link, server_link)" },
	{ R, "t.yaml:1:1: suite needs 'tests'" },
	/* link: the client's link of a built-in topology, in a lab file's words */
	{ "link: {delay: fast}\n" RT, "t.yaml:1:15: bad delay 'fast' (expected a time such as "
				      "20ms or 500us, at most 60s)" },
	{ "link: nowhere\n" RT,
	  "t.yaml:1:7: unknown link preset 'nowhere' (see `nslab link --presets`)" },
	/* server_link: the gateway's second link; direct has one, a lab its file's */
	{ "topology: gateway\nserver_link: {loss: 101%}\n" RT,
	  "t.yaml:2:21: bad loss '101%' (expected a percentage such as 1% or 0.05%)" },
	{ "server_link: {delay: 1ms}\n" RT,
	  "t.yaml:1:1: server_link: the direct topology has one link; condition what reaches "
	  "the server with 'link: {down: ...}'" },
	{ "topology: direct\nserver_link: wifi\n" RT,
	  "t.yaml:2:1: server_link: the direct topology has one link; condition what reaches "
	  "the server with 'link: {down: ...}'" },
	{ R "tests: []\n", "t.yaml:2:8: tests: expected at least one test" },
	{ R "tests:\n", "t.yaml:2:1: tests: expected a sequence, not null" },
	{ R "tests: {name: x}\n", "t.yaml:2:8: tests: expected a sequence, not a mapping" },
	{ R "tests: [x]\n", "t.yaml:2:9: test: expected a mapping, not a scalar" },
	{ T, "t.yaml:1:9: test 't' has no rules: set 'rules' in the test, or 'rules' or "
	     "'rules_file' in the suite" },
	{ "rules:\n" T, "t.yaml:1:1: rules: expected a string, not null" },
	{ "rules: [a]\n" T, "t.yaml:1:8: rules: expected a string, not a sequence" },
	{ R "rules_file: x\n" T, "t.yaml:2:1: 'rules' and 'rules_file' cannot be used together" },
	{ "rules_file: ''\n" T, "t.yaml:1:13: rules_file: expected a path" },
	{ R "rules: x\n" T, "t.yaml:2:1: duplicate key 'rules'" },
	{ "rules: >\n  x\n" T,
	  "t.yaml:1:1: folded block scalars ('>') are not supported: use '|'" },
	/* topology */
	{ R "topology: star\n" T,
	  "t.yaml:2:11: bad topology 'star' (expected direct, gateway, simple or lab)" },
	{ R "topology: lab\n" T, "t.yaml:2:11: topology lab needs 'lab: FILE'" },
	{ R "topology: lab\nlab: x.yaml\n" T, "t.yaml:3:6: topology lab needs 'rules_in: NODE'" },
	{ R "lab: examples/office.yaml\nrules_in: Router\n" T,
	  "t.yaml:3:11: bad rules_in 'Router' (expected a node name: a-z, 0-9 and '-', starting "
	  "with a letter)" },
	{ R "lab: examples/office.yaml\nrules_in: nope\n" T,
	  "t.yaml:3:11: rules_in: no node 'nope' in the lab file" },
	{ R "lab: tests/e2e/small.yaml\nrules_in: r\n" T,
	  "t.yaml:3:11: rules_in: no node 'r' in the lab file" },
	{ R "topology: gateway\nlab: x.yaml\n" T, "t.yaml:3:1: 'lab' needs 'topology: lab'" },
	{ R "rules_in: r\n" T, "t.yaml:2:1: 'rules_in' needs 'topology: lab'" },
	{ R "lab: ''\nrules_in: r\n" T, "t.yaml:2:6: lab: expected a path" },
	/* tests */
	{ R "tests: [{packets: [{}]}]\n", "t.yaml:2:9: test needs 'name'" },
	{ R "tests: [{name: '', packets: [{}]}]\n",
	  "t.yaml:2:16: name: expected a test name, not ''" },
	{ R "tests: [{name: [a], packets: [{}]}]\n",
	  "t.yaml:2:16: name: expected a string, not a sequence" },
	{ R "tests:\n- name: |\n    two\n    lines\n  packets: [{}]\n",
	  "t.yaml:4:5: name: expected a single line" },
	{ R "tests: [{name: t}]\n", "t.yaml:2:9: test 't' has no packets or flows" },
	{ R "tests: [{name: t, packets: [], flows: []}]\n",
	  "t.yaml:2:9: test 't' has no packets or flows" },
	{ R "tests: [{name: t, packets: {}}]\n",
	  "t.yaml:2:28: packets: expected a sequence, not a mapping" },
	{ R "tests: [{name: t, packet: [{}]}]\n",
	  "t.yaml:2:19: unknown key 'packet' (expected one of: name, rules, topology, packets, "
	  "flows, expect, listen)" },
	{ R "tests: [{name: t, packets: [{}], topology: lab}]\n",
	  "t.yaml:2:44: bad topology 'lab' (expected direct, gateway or simple)" },
	{ R "tests: [{name: t, packets: [{}], listen: no}]\n",
	  "t.yaml:2:42: bad listen 'no' (expected true or false)" },
	{ R "tests:\n- {name: a, packets: [{}]}\n- {name: b, packets: [{}]}\n"
	    "- {name: b, packets: [{}]}\n- {name: a, packets: [{}]}\n",
	  "t.yaml:5:3: duplicate test name 'b' (already used by the test at 4:3)" },
	{ R "tests:\n- {name: a, packets: [{}]}\n- {name: a, packets: [{}]}\n"
	    "- {name: a, packets: [{}]}\n",
	  "t.yaml:4:3: duplicate test name 'a' (already used by the test at 3:3)" },
	{ R "tests: [{name: t, packets: [{}], expect: {connect: ok}}]\n",
	  "t.yaml:2:52: connect: test 't' has no flows" },
	/* packets: keys */
	{ RT "  packets: [{prot: tcp}]\n",
	  "t.yaml:4:14: unknown key 'prot' (expected one of: proto, src, dst, sport, dport, "
	  "flags, icmp_type, icmp_code, ttl, hoplimit, payload, count, from, expect, "
	  "expected_verdict)" },
	{ RT "  packets: [{proto: tcp, protocol: udp}]\n",
	  "t.yaml:4:26: duplicate key 'protocol' (same as 'proto')" },
	{ RT "  packets: [{ttl: 1, hoplimit: 2}]\n",
	  "t.yaml:4:22: duplicate key 'hoplimit' (same as 'ttl')" },
	{ RT "  packets: [{dst_ip: 10.0.0.1, dst: 10.0.0.2}]\n",
	  "t.yaml:4:32: duplicate key 'dst' (same as 'dst_ip')" },
	{ RT "  packets: [tcp]\n", "t.yaml:4:13: packet: expected a mapping, not a scalar" },
	/* packets: values */
	{ RT "  packets: [{proto: sctp}]\n",
	  "t.yaml:4:21: bad proto 'sctp' (expected tcp, udp, icmp, icmpv6 or a number 0..255)" },
	{ RT "  packets: [{protocol: 256}]\n",
	  "t.yaml:4:24: bad protocol '256' (expected tcp, udp, icmp, icmpv6 or a number "
	  "0..255)" },
	{ RT "  packets: [{proto: -1}]\n",
	  "t.yaml:4:21: bad proto '-1' (expected tcp, udp, icmp, icmpv6 or a number 0..255)" },
	{ RT "  packets: [{dport: 0}]\n", "t.yaml:4:21: bad dport '0' (expected 1..65535)" },
	{ RT "  packets: [{dst_port: 65536}]\n",
	  "t.yaml:4:24: bad dst_port '65536' (expected 1..65535)" },
	{ RT "  packets: [{sport: http}]\n", "t.yaml:4:21: bad sport 'http' (expected 1..65535)" },
	{ RT "  packets: [{src: 10.0.0.300}]\n",
	  "t.yaml:4:19: bad src '10.0.0.300' (expected a node name or an IP address)" },
	{ RT "  packets: [{src: 10.0.0.1/24}]\n",
	  "t.yaml:4:19: bad src '10.0.0.1/24' (expected a node name or an IP address)" },
	{ RT "  packets: [{dst_ip: Target}]\n",
	  "t.yaml:4:22: bad dst_ip 'Target' (expected a node name or an IP address)" },
	{ RT "  packets: [{dst: ''}]\n",
	  "t.yaml:4:19: bad dst '' (expected a node name or an IP address)" },
	{ RT "  packets: [{src: ~}]\n", "t.yaml:4:19: src: expected a string, not null" },
	{ RT "  packets: [{flags: SX}]\n",
	  "t.yaml:4:21: bad flags 'SX' (expected letters of FSRPAUEC such as S or SA, or names "
	  "such as syn,ack)" },
	{ RT "  packets: [{tcp_flags: [S, '']}]\n",
	  "t.yaml:4:29: bad tcp_flags '' (expected letters of FSRPAUEC such as S or SA, or "
	  "names such as syn,ack)" },
	{ RT "  packets: [{flags: [S, [A]]}]\n",
	  "t.yaml:4:25: flags: expected a string, not a sequence" },
	{ RT "  packets: [{flags: 'syn,,foo'}]\n",
	  "t.yaml:4:21: bad flags 'syn,,foo' (expected letters of FSRPAUEC such as S or SA, or "
	  "names such as syn,ack)" },
	{ RT "  packets: [{icmp_type: 256, proto: icmp}]\n",
	  "t.yaml:4:25: bad icmp_type '256' (expected 0..255)" },
	{ RT "  packets: [{ttl: 0}]\n", "t.yaml:4:19: bad ttl '0' (expected 1..255)" },
	{ RT "  packets: [{hoplimit: 256}]\n",
	  "t.yaml:4:24: bad hoplimit '256' (expected 1..255)" },
	{ RT "  packets: [{count: 0}]\n", "t.yaml:4:21: bad count '0' (expected 1..10000)" },
	{ RT "  packets: [{count: 10001}]\n",
	  "t.yaml:4:21: bad count '10001' (expected 1..10000)" },
	{ RT "  packets: [{from: 1client}]\n",
	  "t.yaml:4:20: bad from '1client' (expected a node name: a-z, 0-9 and '-', starting "
	  "with a letter)" },
	{ RT "  packets: [{payload: 'hex:0a0'}]\n",
	  "t.yaml:4:23: bad payload 'hex:0a0' (expected hex: and two hex digits per byte, bytes "
	  "optionally separated by spaces or ':')" },
	{ RT "  packets: [{payload: 'hex:0 a'}]\n",
	  "t.yaml:4:23: bad payload 'hex:0 a' (expected hex: and two hex digits per byte, bytes "
	  "optionally separated by spaces or ':')" },
	{ RT "  packets: [{payload: 0x0g}]\n",
	  "t.yaml:4:23: bad payload '0x0g' (expected 0x and two hex digits per byte)" },
	{ RT "  packets: [{payload: 0x00 01}]\n",
	  "t.yaml:4:23: bad payload '0x00 01' (expected 0x and two hex digits per byte)" },
	{ RT "  packets: [{payload: [1]}]\n",
	  "t.yaml:4:23: payload: expected a string, not a sequence" },
	{ RT "  packets: [{expected_verdict: pass}]\n",
	  "t.yaml:4:32: bad expected_verdict 'pass' (expected accept, drop or reject)" },
	{ RT "  packets: [{expected_verdict: drop, expect: {verdict: drop}}]\n",
	  "t.yaml:4:14: 'expected_verdict' and 'expect: {verdict}' cannot be used together" },
	{ RT "  packets: [{expect: {connect: ok}}]\n",
	  "t.yaml:4:23: connect: only in a test's expect (it checks the test's flows)" },
	{ RT "  packets: [{expect: accept}]\n",
	  "t.yaml:4:22: expect: expected a mapping, not a scalar" },
	/* packets: fields that go together */
	{ RT "  packets: [{src: 10.0.0.1, dst: 'fd00::2'}]\n",
	  "t.yaml:4:13: packet mixes IPv4 and IPv6 (src 10.0.0.1, dst fd00::2)" },
	{ RT "  packets: [{proto: icmp, dst: 'fd00::2'}]\n",
	  "t.yaml:4:21: proto icmp with an IPv6 address (use icmpv6)" },
	{ RT "  packets: [{proto: icmpv6, src: 10.0.0.1}]\n",
	  "t.yaml:4:21: proto icmpv6 with an IPv4 address (use icmp)" },
	{ RT "  packets: [{proto: icmp, dport: 22}]\n",
	  "t.yaml:4:27: dport: proto icmp has no ports" },
	{ RT "  packets: [{proto: 47, src_port: 22}]\n",
	  "t.yaml:4:25: src_port: proto 47 has no ports" },
	{ RT "  packets: [{proto: udp, flags: S}]\n",
	  "t.yaml:4:26: flags: only for proto tcp, not udp" },
	{ RT "  packets: [{icmp_code: 1}]\n",
	  "t.yaml:4:14: icmp_code: only for proto icmp or icmpv6, not tcp" },
	/* flows */
	{ RT "  flows: [{proto: tcp}]\n", "t.yaml:4:11: flow needs 'dport'" },
	{ RT "  flows: [{dport: 1, proto: icmp}]\n",
	  "t.yaml:4:29: bad proto 'icmp' (expected tcp or udp)" },
	{ RT "  flows: [{dport: 1, flags: S}]\n",
	  "t.yaml:4:22: unknown key 'flags' (expected one of: proto, src, dst, from, sport, "
	  "dport, send)" },
	{ RT "  flows: [{dport: 1, dst_ip: 10.0.0.2, src_ip: '::1'}]\n",
	  "t.yaml:4:11: flow mixes IPv6 and IPv4 (src ::1, dst 10.0.0.2)" },
	{ RT "  flows: [{dport: 1, send: 'hex:zz'}]\n",
	  "t.yaml:4:28: bad send 'hex:zz' (expected hex: and two hex digits per byte, bytes "
	  "optionally separated by spaces or ':')" },
	{ RT "  packets: [{dport: 022}]\n",
	  "t.yaml:4:21: bad dport '022' (a leading zero reads as octal to YAML 1.1: write 22)" },
	/* expectations */
	{ RT "  packets: [{}]\n  expect: {verdict: allow}\n",
	  "t.yaml:5:21: bad verdict 'allow' (expected accept, drop or reject)" },
	{ RT "  packets: [{}]\n  expect: {verdikt: drop}\n",
	  "t.yaml:5:12: unknown key 'verdikt' (expected one of: verdict, rule, chain, "
	  "delivered, reply, ct_state, nat, capture, counter, connect, conntrack)" },
	{ RT "  packets: [{}]\n  expect: {reply: icmp-unreachable}\n",
	  "t.yaml:5:19: bad reply 'icmp-unreachable' (expected none, rst, syn-ack, echo-reply, "
	  "icmp-port-unreachable, icmp-admin-prohibited, icmp-host-unreachable, "
	  "icmp-net-unreachable, icmp-prot-unreachable or udp)" },
	{ RT "  packets: [{}]\n  expect: {conntrack: {state: open}}\n",
	  "t.yaml:5:31: bad conntrack state 'open' (expected a TCP conntrack state: syn_sent, "
	  "syn_recv, established, fin_wait, close_wait, last_ack, time_wait, close)" },
	{ RT "  packets: [{}]\n  expect: {conntrack: {}}\n",
	  "t.yaml:5:23: conntrack: expected state, replied, assured or count" },
	{ RT "  packets: [{}]\n  expect: {conntrack: {replied: maybe}}\n",
	  "t.yaml:5:33: bad replied 'maybe' (expected true or false)" },
	{ RT "  packets: [{}]\n  expect: {ct_state: 'new,established'}\n",
	  "t.yaml:5:22: bad ct_state 'new,established' (expected new, established, related, "
	  "invalid or untracked)" },
	{ RT "  packets: [{}]\n  expect: {delivered: 1}\n",
	  "t.yaml:5:23: bad delivered '1' (expected true or false)" },
	{ RT "  packets: [{}]\n  expect: {rule: ''}\n",
	  "t.yaml:5:18: rule: expected a comment or a part of a rule" },
	{ RT "  packets: [{}]\n  expect: {chain: {}}\n",
	  "t.yaml:5:19: chain: expected a string, not a mapping" },
	{ RT "  flows: [{dport: 1}]\n  expect: {connect: yes}\n",
	  "t.yaml:5:21: bad connect 'yes' (expected ok, refused or timeout)" },
	{ RT "  packets: [{}]\n  expect: {nat: {}}\n",
	  "t.yaml:5:17: nat: expected one or more of src, sport, dst, dport" },
	{ RT "  packets: [{}]\n  expect: {nat: {port: 1}}\n",
	  "t.yaml:5:18: unknown key 'port' (expected one of: src, sport, dst, dport)" },
	{ RT "  packets: [{}]\n  expect: {nat: {sport: 0}}\n",
	  "t.yaml:5:25: bad nat sport '0' (expected 1..65535)" },
	{ RT "  packets: [{}]\n  expect: {nat: {dst: 'a b'}}\n",
	  "t.yaml:5:23: bad nat dst 'a b' (expected a node name or an IP address)" },
	{ RT "  packets: [{}]\n  expect: {capture: x}\n",
	  "t.yaml:5:21: capture: expected a mapping or a sequence of them, not a scalar" },
	{ RT "  packets: [{}]\n  expect: {capture: []}\n",
	  "t.yaml:5:21: capture: expected at least one capture" },
	{ RT "  packets: [{}]\n  expect: {capture: {filter: tcp}}\n",
	  "t.yaml:5:21: capture needs 'at' (a node, or node:interface)" },
	{ RT "  packets: [{}]\n  expect: {capture: [{at: client}, y]}\n",
	  "t.yaml:5:36: capture: expected a mapping, not a scalar" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: 'server:'}}\n",
	  "t.yaml:5:26: bad capture at 'server:' (expected a node name, or node:interface)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: 'Server'}}\n",
	  "t.yaml:5:26: bad capture at 'Server' (expected a node name, or node:interface)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: 's:abcdefghijklmnop'}}\n",
	  "t.yaml:5:26: bad capture at 's:abcdefghijklmnop' (expected a node name, or "
	  "node:interface)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: 's:a/b'}}\n",
	  "t.yaml:5:26: bad capture at 's:a/b' (expected a node name, or node:interface)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: target, count: 1, max: 2}}\n",
	  "t.yaml:5:34: capture: 'count' and 'min'/'max' cannot be used together" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: target, min: 3, max: 2}}\n",
	  "t.yaml:5:47: capture: max 2 is less than min 3" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: target, count: 1000001}}\n",
	  "t.yaml:5:41: bad capture count '1000001' (expected 0..1000000)" },
	/* node names: those of the test's topology (direct unless told), at the value */
	{ RT "  packets: [{dst: server}]\n",
	  "t.yaml:4:19: dst: unknown node 'server' (the direct topology has client, target)" },
	{ RT "  packets: [{src_ip: router}]\n",
	  "t.yaml:4:22: src_ip: unknown node 'router' (the direct topology has client, target)" },
	{ RT "  packets: [{from: c-1}]\n",
	  "t.yaml:4:20: from: unknown node 'c-1' (the direct topology has client, target)" },
	{ RT "  packets: [{expect: {nat: {dst: server}}}]\n",
	  "t.yaml:4:34: nat dst: unknown node 'server' (the direct topology has client, target)" },
	{ RT "  flows: [{dport: 1, from: server}]\n",
	  "t.yaml:4:28: from: unknown node 'server' (the direct topology has client, target)" },
	{ RT "  flows: [{dport: 1, dst: target-2}]\n",
	  "t.yaml:4:27: dst: unknown node 'target-2' (the direct topology has client, target)" },
	{ RT "  topology: gateway\n  flows: [{dport: 1, src: target}]\n",
	  "t.yaml:5:27: src: unknown node 'target' (the gateway topology has client, router, "
	  "server)" },
	{ "topology: gateway\n" RT "  topology: direct\n  packets: [{from: router}]\n",
	  "t.yaml:6:20: from: unknown node 'router' (the direct topology has client, target)" },
	{ "- name: t\n  rules: ''\n  topology: simple\n  packets: [{dst: server}]\n",
	  "t.yaml:4:19: dst: unknown node 'server' (the direct topology has client, target)" },
	{ RT "  packets: [{}]\n  expect: {nat: {src: server}}\n",
	  "t.yaml:5:23: nat src: unknown node 'server' (the direct topology has client, target)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: router}}\n",
	  "t.yaml:5:26: capture at: unknown node 'router' (the direct topology has client, "
	  "target)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: 'target:eth1'}}\n",
	  "t.yaml:5:26: capture at: node 'target' has no interface 'eth1' (it has eth0)" },
	{ RT "  packets: [{}]\n  expect: {capture: {at: 'client:veth-c_1.x'}}\n",
	  "t.yaml:5:26: capture at: node 'client' has no interface 'veth-c_1.x' (it has eth0)" },
	{ "topology: gateway\n" RT "  packets: [{}]\n  expect: {capture: {at: 'router:eth2'}}\n",
	  "t.yaml:6:26: capture at: node 'router' has no interface 'eth2' (it has eth0, eth1)" },
	/* counter: every wrong shape shows the accepted ones */
	{ RT "  packets: [{}]\n  expect: {counter: [a]}\n",
	  "t.yaml:5:21: counter: expected " SHAPES ", not a sequence" },
	{ RT "  packets: [{}]\n  expect: {counter: 3}\n",
	  "t.yaml:5:21: counter: expected " SHAPES ", not a scalar" },
	{ RT "  packets: [{}]\n  expect:\n    counter:\n",
	  "t.yaml:6:5: counter: expected " SHAPES ", not null" },
	{ RT "  packets: [{}]\n  expect: {counter: {}}\n",
	  "t.yaml:5:21: counter: expected " SHAPES ", not an empty mapping" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: }}\n",
	  "t.yaml:5:22: counter 'a': expected a packet count or {packets: N, bytes: N}, like "
	  "{a: 1} or {a: {packets: 1, bytes: 60}}, not null" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: {}}}\n",
	  "t.yaml:5:25: counter 'a': expected a packet count or {packets: N, bytes: N}, like "
	  "{a: 1} or {a: {packets: 1, bytes: 60}}, not an empty mapping" },
	{ RT "  packets: [{}]\n  expect: {counter: {ssh: [1]}}\n",
	  "t.yaml:5:27: counter 'ssh': expected a packet count or {packets: N, bytes: N}, like "
	  "{ssh: 1} or {ssh: {packets: 1, bytes: 60}}, not a sequence" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: -1}}\n",
	  "t.yaml:5:25: bad counter packets '-1' (expected a number of packets, like {a: 1} or "
	  "{a: {packets: 1, bytes: 60}})" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: {packets: many}}}\n",
	  "t.yaml:5:35: bad counter packets 'many' (expected a number of packets, like {a: 1} "
	  "or {a: {packets: 1, bytes: 60}})" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: {bytes: x}}}\n",
	  "t.yaml:5:33: bad counter bytes 'x' (expected a number of bytes, like {a: {bytes: 60}} "
	  "or {a: {packets: 1, bytes: 60}})" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: {bytes: [1]}}}\n",
	  "t.yaml:5:33: counter bytes: expected a number of bytes, like {a: {bytes: 60}} or {a: "
	  "{packets: 1, bytes: 60}}, not a sequence" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: {pkts: 1}}}\n",
	  "t.yaml:5:26: counter 'a': unknown key 'pkts' (expected packets or bytes, like {a: "
	  "{packets: 1, bytes: 60}})" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: {packets: 1, packets: 2}}}\n",
	  "t.yaml:5:38: duplicate key 'packets'" },
	{ RT "  packets: [{}]\n  expect: {counter: {'a b': 1}}\n",
	  "t.yaml:5:22: bad counter name 'a b' (expected the name of an nft counter: 1 to 255 "
	  "characters, no blanks, quotes, braces or ';')" },
	{ RT "  packets: [{}]\n  expect: {counter: {a: 1, 'a': 2}}\n",
	  "t.yaml:5:28: duplicate counter 'a'" },
	/* YAML itself (core/yaml) */
	{ "tests: [\n", "t.yaml:2:1: flow sequence without a closing bracket" },
	{ R "tests: &a [{name: t, packets: [{}]}]\nx: *a\n",
	  "t.yaml:3:4: aliases are not supported" },
	{ R "---\n" T "---\n" T, "t.yaml:2:1: expected a single YAML document" },
	/* libfyaml refuses bad escapes first (quoted_text() would too) */
	{ "rules: \"a\\uD800b\"\n" T, "t.yaml:1:10: double-quoted scalar has invalid UTF8 escape" },
	{ R "tests: [{name: \"a\\0b\", packets: [{}]}]\n",
	  "t.yaml:2:16: name: unexpected NUL character" },
	{ R "tests: [{name: !x t, packets: [{}]}]\n", "t.yaml:2:16: tags ('!') are not supported" },
	/* NSE's formats: flags that mean something on UDP are still refused */
	{ "- {name: t, rules: '', packets: [{protocol: udp, tcp_flags: [S]}]}\n",
	  "t.yaml:1:50: tcp_flags: only for proto tcp, not udp" },
	{ "rules: a\n  b\n" T, "t.yaml:1:8: multi-line values are not supported" },
	{ "rules: \xff\n" T, "t.yaml:1:8: invalid UTF-8" },
	{ "%YAML 1.2\n---\n" R T, "t.yaml:1:1: directives ('%') are not supported" },
	/* libfyaml 0.7 would take the packets: line into the rules */
	{ R "tests:\n- name: t\n  rules: |\n  packets: [{}]\n",
	  "t.yaml:4:3: empty block scalar followed by a line of its key's indentation (not "
	  "supported: write '' for an empty value)" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
		struct fw_suite *s = SENTINEL;
		nslab_error err = { 0 };
		int r = fw_suite_parse_string(errors[i].text, strlen(errors[i].text), "t.yaml",
					      false, &s, &err);

		if (r != -EINVAL || strcmp(err.msg, errors[i].msg) != 0)
			print_error("case %zu:\n%s\n  got  %d: %s\n  want %s\n", i, errors[i].text,
				    r, err.msg, errors[i].msg);
		assert_int_equal(r, -EINVAL);
		assert_int_equal(err.code, EINVAL);
		assert_string_equal(err.msg, errors[i].msg);
		assert_ptr_equal(s, SENTINEL); /* ret untouched on failure */
		/* err may be NULL */
		assert_int_equal(fw_suite_parse_string(errors[i].text, strlen(errors[i].text),
						       "t.yaml", false, &s, NULL),
				 -EINVAL);
	}
}

/* link: on a built-in topology: the condition of the client's link, up and down. */
static void test_link(void **state)
{
	static const char text[] = "topology: gateway\nlink: {delay: 200ms, up: {loss: 1%}}\n" R T;
	struct fw_suite *s = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err), 0);
	assert_true(s->has_link);
	assert_int_equal(s->link.up.delay_ns, 200000000);
	assert_int_equal(s->link.down.delay_ns, 200000000);
	assert_int_equal(s->link.up.loss, 10000000);
	assert_int_equal(s->link.down.loss, 0);
	s = fw_suite_free(s);
	assert_int_equal(fw_suite_parse_string(R T, strlen(R T), "t.yaml", false, &s, &err), 0);
	assert_false(s->has_link);
	assert_false(s->has_server_link);
	s = fw_suite_free(s);
}

/* server_link: on gateway: the server's link, up being what the server sends. */
static void test_server_link(void **state)
{
	static const char text[] =
		"topology: gateway\nserver_link: {delay: 30ms, up: {rate: 5mbit}}\n" R T;
	struct fw_suite *s = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err), 0);
	assert_false(s->has_link);
	assert_true(s->has_server_link);
	assert_int_equal(s->server_link.up.delay_ns, 30000000);
	assert_int_equal(s->server_link.down.delay_ns, 30000000);
	assert_int_equal(s->server_link.up.rate_bps, 5000000);
	assert_int_equal(s->server_link.down.rate_bps, 0);
	s = fw_suite_free(s);
}

static void test_no_filename(void **state)
{
	struct fw_suite *s = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(fw_suite_parse_string("tests: 1", 8, NULL, false, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "tests: expected a sequence, not a scalar");
	assert_int_equal(fw_suite_parse_string(NULL, 0, NULL, false, &s, &err), -EINVAL);
	assert_string_equal(err.msg, "empty suite: expected 'tests:' or a list of tests");
	assert_ptr_equal(s, SENTINEL);
}

static void test_limits(void **state)
{
	_cleanup_free_ char *text = NULL, *big = NULL;
	_cleanup_(fw_suite_freep) struct fw_suite *s = NULL;
	struct fw_suite *bad = SENTINEL;
	nslab_error err = { 0 };
	size_t n = FW_PAYLOAD_MAX;

	(void)state;
	big = malloc(n + 2);
	assert_non_null(big);
	memset(big, 'x', n + 1);
	big[n] = '\0';
	assert_true(asprintf(&text, R "tests: [{name: t, packets: [{payload: %s}]}]\n", big) > 0);
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err), 0);
	assert_int_equal(s->tests[0].packets[0].payload_len, FW_PAYLOAD_MAX);
	free(TAKE_PTR(text));
	big[n] = 'x';
	big[n + 1] = '\0';
	assert_true(asprintf(&text, R "tests: [{name: t, packets: [{payload: %s}]}]\n", big) > 0);
	assert_int_equal(fw_suite_parse_string(text, strlen(text), "t.yaml", false, &bad, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "t.yaml:2:39: payload: too long (65001 bytes, at most 65000)");
	assert_ptr_equal(bad, SENTINEL);
}

/* A suite with one capture of filter f (of any length), on the direct topology. */
static char *capture_suite(const char *f)
{
	char *text = NULL;

	assert_true(asprintf(&text,
			     R "tests:\n- name: t\n  packets: [{}]\n"
			       "  expect: {capture: {at: target, filter: '%s'}}\n",
			     f) > 0);
	return text;
}

static char *or_chain(size_t n, const char *fmt)
{
	char *f = calloc(n, 48), *p = f;

	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			p = stpcpy(p, " or ");
		p += sprintf(p, fmt, (unsigned)(i + 1));
	}
	return f;
}

static void test_capture_filters(void **state)
{
	struct fw_suite *bad = SENTINEL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(fw_capture_filter_terms("tcp port 80"), 1);
	assert_int_equal(fw_capture_filter_terms("a or b and c || d && e"), 5);
	assert_int_equal(fw_capture_filter_terms("(port 1)or(port 2) OR port 3"), 3);
	assert_int_equal(fw_capture_filter_terms("host oregon and not portland"), 2);

	/* compiled while parsing: a bad filter is the file's error, at the filter */
	{
		_cleanup_free_ char *text = capture_suite("tcp prot 80");

		assert_int_equal(
			fw_suite_parse_string(text, strlen(text), "t.yaml", false, &bad, &err),
			-EINVAL);
		/* libpcap's own words vary with its version */
		assert_non_null(strstr(err.msg, "t.yaml:5:42: capture filter does not compile: "));
		assert_non_null(strstr(err.msg, "syntax error"));
		assert_ptr_equal(bad, SENTINEL);
	}
	/* as many terms as allowed, of the slowest kind for libpcap: compiled */
	{
		_cleanup_free_ char *f = or_chain(FW_FILTER_TERMS_MAX, "portrange %u-65535");
		_cleanup_free_ char *text = capture_suite(f);
		_cleanup_(fw_suite_freep) struct fw_suite *s = NULL;

		assert_int_equal(
			fw_suite_parse_string(text, strlen(text), "t.yaml", false, &s, &err), 0);
		assert_string_equal(s->tests[0].expect.captures[0].filter, f);
	}
	/* 1000 terms (minutes in libpcap): refused at once, saying why */
	{
		_cleanup_free_ char *f = or_chain(1000, "port %u");
		_cleanup_free_ char *text = capture_suite(f);

		assert_int_equal(
			fw_suite_parse_string(text, strlen(text), "t.yaml", false, &bad, &err),
			-EINVAL);
		assert_string_equal(err.msg,
				    "t.yaml:5:42: capture filter: 1000 terms joined by and/or, at "
				    "most 64 (libpcap compiles long chains in quadratic time)");
		free(TAKE_PTR(text));
		free(TAKE_PTR(f));
		f = or_chain(FW_FILTER_TERMS_MAX + 1, "port %u");
		text = capture_suite(f);
		assert_int_equal(
			fw_suite_parse_string(text, strlen(text), "t.yaml", false, &bad, &err),
			-EINVAL);
		assert_string_equal(
			err.msg, "t.yaml:5:42: capture filter: 65 terms joined by and/or, at most "
				 "64 (libpcap compiles long chains in quadratic time)");
		assert_ptr_equal(bad, SENTINEL);
	}
}

static void test_names(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(fw_verdict_name(FW_VERDICT_ACCEPT), "accept");
	assert_string_equal(fw_verdict_name(FW_VERDICT_DROP), "drop");
	assert_string_equal(fw_verdict_name(FW_VERDICT_REJECT), "reject");
	assert_string_equal(fw_verdict_name(FW_VERDICT_UNSET), "unset");
	assert_string_equal(fw_reply_name(FW_REPLY_NONE), "none");
	assert_string_equal(fw_reply_name(FW_REPLY_SYN_ACK), "syn-ack");
	assert_string_equal(fw_reply_name(FW_REPLY_ICMP_PORT_UNREACHABLE), "icmp-port-unreachable");
	assert_string_equal(fw_reply_name(FW_REPLY_ICMP_PROT_UNREACHABLE), "icmp-prot-unreachable");
	assert_string_equal(fw_reply_name(FW_REPLY_UDP), "udp");
	assert_string_equal(fw_reply_name(FW_REPLY_UNSET), "unset");
	assert_string_equal(fw_connect_name(FW_CONNECT_REFUSED), "refused");
	assert_string_equal(fw_connect_name(FW_CONNECT_UNSET), "unset");
	assert_string_equal(fw_topology_name(FW_TOPO_GATEWAY), "gateway");
	assert_string_equal(fw_topology_name(FW_TOPO_LAB), "lab");
	assert_string_equal(fw_ct_state_format(FW_CT_NEW, buf, sizeof(buf)), "new");
	assert_string_equal(fw_ct_state_format(FW_CT_NEW | FW_CT_ESTABLISHED, buf, sizeof(buf)),
			    "established,new");
	assert_string_equal(fw_ct_state_format(FW_CT_ESTABLISHED | FW_CT_RELATED, buf, sizeof(buf)),
			    "established,related");
	assert_string_equal(fw_ct_state_format(0x7f, buf, sizeof(buf)),
			    "invalid,established,related,new,untracked,0x30");
	assert_string_equal(fw_ct_state_format(0, buf, sizeof(buf)), "unset");
	assert_string_equal(fw_ct_state_format(FW_CT_UNTRACKED | FW_CT_INVALID, buf, 10),
			    "invalid,u");
	/* every name the parser knows reads back */
	for (int r = FW_REPLY_NONE; r <= FW_REPLY_UDP; r++) {
		_cleanup_(fw_suite_freep) struct fw_suite *s = NULL;
		_cleanup_free_ char *text = NULL;

		assert_true(asprintf(&text,
				     R "tests: [{name: t, packets: [{}], expect: {reply: %s}}]",
				     fw_reply_name((enum fw_reply)r)) > 0);
		s = parse_ok(text);
		assert_int_equal(s->tests[0].expect.reply, r);
	}
	assert_loc(fw_rules_loc((struct fw_loc){ 0, 0 }, 3, 4), 0, 0);
	assert_loc(fw_rules_loc((struct fw_loc){ 5, 7 }, 1, 0), 5, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_nse_runner_format),
		cmocka_unit_test(test_nse_documented_format),
		cmocka_unit_test(test_nse_semantics),
		cmocka_unit_test(test_nse_documented_defaults),
		cmocka_unit_test(test_nse_icmp_ports),
		cmocka_unit_test(test_nslab_semantics),
		cmocka_unit_test(test_quoted_scalars),
		cmocka_unit_test(test_packet_fields),
		cmocka_unit_test(test_flags_need_tcp),
		cmocka_unit_test(test_expect_fields),
		cmocka_unit_test(test_lab_topology),
		cmocka_unit_test(test_gateway_and_names),
		cmocka_unit_test(test_rules_file),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_block_scalars),
		cmocka_unit_test(test_yaml_helpers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_server_link),
		cmocka_unit_test(test_no_filename),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_capture_filters),
		cmocka_unit_test(test_lab_node_names),
		cmocka_unit_test(test_node_list_cut),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

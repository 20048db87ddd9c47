/* SPDX-License-Identifier: MIT */
/*
 * sim/expr and sim/simfile: numbers with SI suffixes, durations, ${...}
 * interpolation, every assertion operator (both ways), captures from text
 * and JSON, and the sim file's errors at FILE:LINE:COL.
 */
#include "sim/expr.h"
#include "sim/simfile.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char *vars(const char *name, void *data)
{
	(void)data;
	if (strcmp(name, "up.bps") == 0)
		return "9.5e6";
	if (strcmp(name, "srv.stdout") == 0)
		return "Server listening on 5201";
	if (strcmp(name, "op") == 0)
		return "< 1";
	if (strcmp(name, "empty") == 0)
		return "";
	return NULL;
}

static void test_numbers(void **state)
{
	double v = 0;

	(void)state;
	assert_true(sim_number("5e6", &v) && v == 5e6);
	assert_true(sim_number("10M", &v) && v == 1e7);
	assert_true(sim_number("1.5k", &v) && v == 1500);
	assert_true(sim_number("2Gi", &v) && v == 2147483648.0);
	assert_true(sim_number("-3", &v) && v == -3);
	assert_true(sim_number("250m", &v) && v == 0.25);
	assert_false(sim_number("", &v));
	assert_false(sim_number("10 M", &v));
	assert_false(sim_number("abc", &v));
	assert_false(sim_number("5x", &v));
	assert_false(sim_number(" 5", &v));
}

static void test_durations(void **state)
{
	nslab_error err = { 0 };
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(sim_duration_ms("250ms", &ms, &err), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(sim_duration_ms("1.5s", &ms, &err), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(sim_duration_ms("2m", &ms, &err), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(sim_duration_ms("3", &ms, &err), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(sim_duration_ms("10 s", &ms, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'10 s'"));
	assert_int_equal(sim_duration_ms("-1s", &ms, &err), -EINVAL);
	assert_int_equal(sim_duration_ms("5d", &ms, &err), -EINVAL);
}

static void test_interpolate(void **state)
{
	nslab_error err = { 0 };
	char *out = NULL;

	(void)state;
	assert_int_equal(sim_interpolate("bps=${up.bps} $$x $y", vars, NULL, &out, &err), 0);
	assert_string_equal(out, "bps=9.5e6 $x $y");
	free(out);
	assert_int_equal(sim_interpolate("${nope.x}", vars, NULL, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown ${nope.x}"));
	assert_int_equal(sim_interpolate("a ${up.bps", vars, NULL, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "without its '}'"));
	assert_int_equal(sim_interpolate("${}", vars, NULL, &out, &err), -EINVAL);
}

/* expr must evaluate to want (1 holds, 0 not). */
static void holds(const char *expr, int want)
{
	nslab_error err = { 0 };
	char *detail = NULL;
	int r = sim_assert(expr, vars, NULL, &detail, &err);

	if (r != want)
		fail_msg("'%s': %d, expected %d (%s)", expr, r, want, err.msg);
	free(detail);
}

static void test_assertions(void **state)
{
	(void)state;
	holds("${up.bps} >= 5e6", 1);
	holds("${up.bps} >= 10M", 0);
	holds("${up.bps} < 10M", 1);
	holds("${up.bps} > 9.5M", 0);
	holds("${up.bps} <= 9.5M", 1);
	holds("${up.bps} == 9500k", 1); /* numbers, not text */
	holds("${up.bps} != 9.5e6", 0);
	holds("abc == abc", 1);
	holds("abc != abd", 1);
	holds("'${srv.stdout}' contains 'listening'", 1);
	holds("\"${srv.stdout}\" contains 'closing'", 0);
	holds("'${srv.stdout}' matches 'on [0-9]+$'", 1);
	holds("'${srv.stdout}' matches '^listening'", 0);
	/* a value holding an operator is a value: the expression was split before */
	holds("'${op}' == '< 1'", 1);
	holds("'${empty}' == ''", 1);
}

static void test_assertion_errors(void **state)
{
	nslab_error err = { 0 };
	char *detail = NULL;

	(void)state;
	assert_int_equal(sim_assert("a >= b", vars, NULL, &detail, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "compares numbers"));
	free(detail);
	assert_int_equal(sim_assert("a =~ b", vars, NULL, &detail, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an assertion"));
	assert_int_equal(sim_assert("1 == 1 extra", vars, NULL, &detail, &err), -EINVAL);
	assert_int_equal(sim_assert("'open == 1", vars, NULL, &detail, &err), -EINVAL);
	assert_int_equal(sim_assert("x matches '('", vars, NULL, &detail, &err), -EINVAL);
	free(detail);
	assert_int_equal(sim_assert("${gone.x} == 1", vars, NULL, &detail, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown ${gone.x}"));
	/* the detail shows both values as compared */
	assert_int_equal(sim_assert("${up.bps} > 10M", vars, NULL, &detail, &err), 0);
	assert_string_equal(detail, "'9.5e6' > '10M'");
	free(detail);
}

static void test_json_pick(void **state)
{
	const char *json = "{\"end\": {\"sum\": {\"bps\": 1.5e9, \"ok\": true}, "
			   "\"streams\": [{\"id\": 4}, {\"id\": 7, \"name\": \"a\\\"b\"}]}}";
	nslab_error err = { 0 };
	char *v = NULL;

	(void)state;
	assert_int_equal(sim_json_pick(json, ".end.sum.bps", &v, &err), 0);
	assert_string_equal(v, "1.5e9");
	free(v);
	assert_int_equal(sim_json_pick(json, ".end.streams[1].id", &v, &err), 0);
	assert_string_equal(v, "7");
	free(v);
	assert_int_equal(sim_json_pick(json, ".end.streams[1].name", &v, &err), 0);
	assert_string_equal(v, "a\"b");
	free(v);
	assert_int_equal(sim_json_pick(json, ".end.sum", &v, &err), 0);
	assert_string_equal(v, "{\"bps\":1.5e9,\"ok\":true}");
	free(v);
	assert_int_equal(sim_json_pick(json, ".end.streams[2].id", &v, &err), -ENOENT);
	assert_int_equal(sim_json_pick(json, ".end.missing", &v, &err), -ENOENT);
	assert_int_equal(sim_json_pick(json, "end", &v, &err), -EINVAL);
	assert_int_equal(sim_json_pick("{\"a\": [1,", ".a", &v, &err), -EINVAL);
}

static void test_json_object(void **state)
{
	const char *pretty = "{\n  \"kind\": \"connected\",\n  \"peer\": {\"port\": 80},"
			     " \"ok\": true, \"s\": \"5\"}";
	char *out = NULL;

	(void)state;
	assert_int_equal(sim_json_object(pretty, strlen(pretty), &out), 0);
	assert_string_equal(out, "{\"kind\":\"connected\",\"peer\":{\"port\":80},\"ok\":true,"
				 "\"s\":\"5\"}");
	free(out);
	assert_int_equal(sim_json_object("[1, 2]", 6, &out), -EINVAL);
	assert_int_equal(sim_json_object("hello", 5, &out), -EINVAL);
	assert_int_equal(sim_json_object("{\"a\": ", 6, &out), -EINVAL);
}

static void test_regex_capture(void **state)
{
	const char *ping = "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.058 ms\n"
			   "3 packets transmitted, 3 received, 0% packet loss\n";
	nslab_error err = { 0 };
	char *v = NULL;

	(void)state;
	assert_int_equal(sim_regex_capture(ping, "time=([0-9.]+) ms", &v, &err), 0);
	assert_string_equal(v, "0.058");
	free(v);
	assert_int_equal(sim_regex_capture(ping, "[0-9]+ received", &v, &err), 0);
	assert_string_equal(v, "3 received"); /* no group: the whole match */
	free(v);
	assert_int_equal(sim_regex_capture(ping, "rtt=([0-9]+)", &v, &err), -ENOENT);
	assert_int_equal(sim_regex_capture(ping, "([0-9]", &v, &err), -EINVAL);
}

static void test_ndjson_capture(void **state)
{
	/* iperf3 --json-stream's shape: one event per line, some lines not JSON */
	const char *out = "{\"event\": \"start\", \"data\": {\"port\": 5201}}\n"
			  "warning: \"event\": \"interval\" but not JSON\n"
			  "{\"event\": \"interval\", \"data\": {\"bps\": 1000}}\n"
			  "{\"event\": \"interval\", \"data\": {\"bps\": 2000}}\n"
			  "{\"event\": \"end\", \"data\": {\"sum\": {\"bps\": 1500}}}";
	nslab_error err = { 0 };
	char *v = NULL;

	(void)state;
	assert_int_equal(sim_ndjson_capture(out, "\"interval\"", ".data.bps", &v, &err), 0);
	assert_string_equal(v, "1000"); /* the first JSON line that matches */
	free(v);
	assert_int_equal(sim_ndjson_capture(out, "\"end\"", ".data.sum.bps", &v, &err), 0);
	assert_string_equal(v, "1500"); /* the last line, without a newline */
	free(v);
	assert_int_equal(sim_ndjson_capture(out, "event", ".data.sum", &v, &err), 0);
	assert_string_equal(v, "{\"bps\":1500}"); /* lines without the path are passed */
	free(v);
	assert_int_equal(sim_ndjson_capture(out, "nothing", ".data", &v, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no JSON line matching 'nothing' has .data"));
	assert_int_equal(sim_ndjson_capture(out, "(", ".data", &v, &err), -EINVAL);
	assert_int_equal(sim_ndjson_capture("", "x", ".a", &v, &err), -ENOENT);
}

/* text must be refused with msg (and its place) in the message. */
static void refused(const char *text, const char *msg)
{
	struct sim_file *s = NULL;
	nslab_error err = { 0 };
	int r = sim_file_parse("t.yaml", text, strlen(text), &s, &err);

	if (r != -EINVAL || !strstr(err.msg, msg))
		fail_msg("'%s': %d '%s', expected '%s'", text, r, err.msg, msg);
	sim_file_free(s);
}

static void test_file_errors(void **state)
{
	(void)state;
	refused("steps: []\n", "t.yaml:1:1: a sim needs its lab");
	refused("lab: l.yaml\n", "a sim needs steps");
	refused("lab: l.yaml\nsteps:\n  - {run: [true]}\n",
		"t.yaml:3:11: a command needs the node");
	refused("lab: l.yaml\nsteps:\n  - {run: [true], wait: 1s, node: a}\n",
		"a step does one thing: 'run' and 'wait' together");
	refused("lab: l.yaml\nsteps:\n  - {node: a}\n", "a step needs one of run");
	refused("lab: l.yaml\nsteps:\n  - {wait: 10x}\n",
		"t.yaml:3:12: wait: '10x' is not a duration");
	refused("lab: l.yaml\nsteps:\n  - {wait-for: srv}\n", "wait-for 'srv': no spawn step");
	refused("lab: l.yaml\nsteps:\n  - {id: a, wait: 1s}\n  - {id: a, wait: 1s}\n",
		"t.yaml:4:10: id 'a' is taken by step 1");
	refused("lab: l.yaml\nsteps:\n  - {id: 'a b', wait: 1s}\n", "letters, digits");
	refused("lab: l.yaml\nsteps:\n  - {wait: 1s, ready: {port: 1}}\n",
		"'ready' does not go with this step");
	refused("lab: l.yaml\nsteps:\n  - {spawn: [x], node: a, ready: {port: 0}}\n", "1..65535");
	refused("lab: l.yaml\nsteps:\n  - {spawn: [x], node: a, ready: {}}\n",
		"ready: expected stdout, stderr or port");
	refused("lab: l.yaml\nsteps:\n  - {run: [x], node: a, parse: xml}\n", "text or json");
	refused("lab: l.yaml\nsteps:\n  - {run: [], node: a}\n", "an empty command");
	refused("lab: l.yaml\nstep: []\n", "t.yaml:2:1: unknown key 'step'");
	refused("lab: l.yaml\nsteps:\n  - {gen-file: a.txt}\n", "gen-file needs its content");
	refused("lab: l.yaml\nsteps:\n  - {gen-file: ../a, content: x}\n",
		"gen-file '../a': a file name, without '/'");
	refused("lab: l.yaml\nsteps:\n  - {link: {node: a, set: wifi}}\n",
		"link: node and iface say which link");
	refused("lab: l.yaml\nsteps:\n  - {link: {node: a, iface: e, set: wifi, clear: true}}\n",
		"link: set and clear together");
	refused("lab: l.yaml\nsteps:\n  - {link: {node: a, iface: e}}\n",
		"link: expected set, clear or state");
	refused("lab: l.yaml\nsteps:\n  - {link: {node: a, iface: e, state: off}}\n", "up or down");
	refused("lab: l.yaml\nsteps:\n  - {wait: 1s, content: x}\n",
		"'content' does not go with this step");
	refused("lab: l.yaml\nsteps:\n  - {router: {name: r}}\n",
		"router: expected nat, flush-nat or firewall");
	refused("lab: l.yaml\nsteps:\n  - {router: {nat: home}}\n", "router: name says which");
	refused("lab: l.yaml\nsteps:\n  - {router: {name: r, flush-nat: maybe}}\n", "t.yaml:3:");
	refused("lab: l.yaml\nsteps:\n  - {device: {iface: eth0, state: down}}\n",
		"device: name says which device");
	refused("lab: l.yaml\nsteps:\n  - {device: {name: d}}\n",
		"device: expected set, clear, state, replug or default-via");
	refused("lab: l.yaml\nsteps:\n  - {device: {name: d, replug: {iface: eth0}}}\n",
		"t.yaml:3:32: replug: iface and router say what goes where");
	refused("lab: l.yaml\nsteps:\n  - {device: {name: d, replug: lte}}\n", "t.yaml:3:32:");
	refused("lab: l.yaml\nsteps:\n  - {region: {a: eu, break: true}}\n",
		"t.yaml:3:14: region: a and b say which regions' link");
	refused("lab: l.yaml\nsteps:\n  - {region: {a: eu, b: us}}\n",
		"region: expected break, restore, set or clear");
	refused("lab: l.yaml\nsteps:\n  - {region: {a: eu, b: us, break: true, restore: true}}\n",
		"region: break and restore together");
	refused("lab: l.yaml\nsteps:\n  - {region: {a: eu, b: us, set: wifi, clear: true}}\n",
		"region: set and clear together");
	refused("lab: l.yaml\nsteps:\n  - {region: {a: eu, b: us, state: down}}\n",
		"unknown key 'state'");
	refused("lab: l.yaml\nsteps:\n  - {region: {a: eu, b: us, break: true}, node: x}\n",
		"'node' does not go with this step");
	refused("lab: l.yaml\nsteps:\n  - {device: {name: d, node: x, state: up}}\n",
		"unknown key 'node'");
	refused("lab: l.yaml\nsteps:\n  - {capture: {node: a, iface: e}}\n",
		"capture: a capture needs an id");
	refused("lab: l.yaml\nsteps:\n  - {id: c, capture: {node: a}}\n",
		"capture: node and iface say where");
	refused("lab: l.yaml\nsteps:\n  - {id: c, capture: {node: a, iface: e, filter: 'tcp "
		"port'}}\n",
		"t.yaml:3:50: filter 'tcp port': ");
	refused("lab: l.yaml\nsteps:\n  - {capture: {stop: c, node: a}}\n",
		"capture: stop goes alone");
	refused("lab: l.yaml\nsteps:\n  - {id: c, wait: 1s}\n  - {capture: {stop: c}}\n",
		"t.yaml:4:5: capture stop 'c': no capture step of that id before it");
	refused("lab: l.yaml\nsteps:\n  - {gen-certs: {names: [a]}}\n",
		"gen-certs: node says whose certificate");
	refused("lab: l.yaml\nsteps:\n  - {gen-certs: {node: b, days: 0}}\n", "1..36500");
	refused("lab: l.yaml\nsteps:\n  - {repeat: 3}\n", "t.yaml:3:14: repeat needs its steps:");
	refused("lab: l.yaml\nsteps:\n  - {repeat: soon, steps: []}\n",
		"repeat: 'soon' is not a duration");
	refused("lab: l.yaml\nsteps:\n  - {repeat: 0, steps: []}\n", "1..1000000 or a duration");
	refused("lab: l.yaml\nsteps:\n  - {repeat: 2, steps: [{wait: x}]}\n",
		"t.yaml:3:32: wait: 'x' is not a duration");
	refused("lab: l.yaml\nsteps:\n  - {every: 1s, choose: [{wait: 1s}]}\n",
		"every needs for: DURATION or times: N (one)");
	refused("lab: l.yaml\nsteps:\n  - {every: 1s, times: 2, for: 3s, choose: [{wait: 1s}]}\n",
		"(one)");
	refused("lab: l.yaml\nsteps:\n  - {every: 1s, times: 2, choose: []}\n", "choose: no steps");
	refused("lab: l.yaml\nsteps:\n  - {repeat: 10s, steps: []}\n",
		"t.yaml:3:26: steps: no steps");
	refused("lab: l.yaml\nsteps:\n  - {every: 0s, times: 2, choose: [{wait: 1s}]}\n",
		"every: an interval above 0");
	refused("lab: l.yaml\nsteps:\n  - {wait: 1s, seed: 3}\n", "'seed' does not go with");
	refused("lab: l.yaml\nsteps:\n  - {repeat: 2, steps: [{id: a, wait: 1s}]}\n"
		"  - {id: a, wait: 1s}\n",
		"t.yaml:4:10: id 'a' is taken by step 2");
	refused("lab: l.yaml\nsteps:\n  - {use: t}\n", "t.yaml:3:11: no step template 't'");
	refused("lab: l.yaml\nstep-templates:\n  t: [{wait: '${group.d}'}]\nsteps:\n"
		"  - {use: t, with: {e: 1s}}\n",
		"t.yaml:3:14: no value for ${group.d} in the use of it at t.yaml:5:11 (with:)");
	refused("lab: l.yaml\nstep-templates:\n  'a b': []\nsteps: []\n",
		"template 'a b': letters");
	refused("lab: l.yaml\nstep-templates:\n  t: [{use: t}]\nsteps:\n  - {use: t}\n",
		"use: more than 16 deep (a cycle?)");
	refused("lab: l.yaml\nsteps:\n  - {wait: 1s, with: {a: b}}\n",
		"'with' does not go with this step");
	refused("lab: l.yaml\nstep-templates: {t: []}\nsteps:\n  - {use: t, with: [a]}\n", "with");
	refused("lab: l.yaml\nsteps:\n  - {run: [x], node: a, captures: {v: {match: a, regex: "
		"b}}}\n",
		"capture 'v': match picks from JSON lines (pick:)");
	refused("lab: l.yaml\nsteps:\n  - {run: [x], node: a, captures: {ticks: 'n=([0-9]+)'}}\n",
		"t.yaml:3:36: capture 'ticks': the name of a step's own value");
	refused("lab: l.yaml\nsteps:\n  - {dns: {name: a.example}}\n",
		"dns: expected name and target");
	refused("lab: l.yaml\nsteps:\n  - {dns: {name: a, target: b, ttl: 3}}\n",
		"unknown key 'ttl'");
}

static void test_file_changes(void **state)
{
	const char *text =
		"lab: l.yaml\nsteps:\n"
		"  - run:\n      - sh\n      - -c\n      - |\n        echo a\n"
		"        echo b\n    node: x\n"
		"  - {router: {name: home, nat: corporate, flush-nat: true}}\n"
		"  - {device: {name: laptop, set: wifi}}\n"
		"  - {device: {name: laptop, iface: eth1, state: down}}\n"
		"  - {id: c, capture: {node: b, iface: eth0, filter: icmp}}\n"
		"  - {capture: {stop: c}}\n"
		"  - {dns: {name: web.example, target: '${b.ip}'}}\n"
		"  - {dns: {name: web.example, target: null}}\n"
		"  - {gen-certs: {node: b, names: [web.example, '${b.ip}.nip'], days: 7}}\n"
		"  - {router: {name: office, firewall: corporate}}\n"
		"  - {device: {name: m, replug: {iface: eth0, router: lte}, set: mobile-4g}}\n"
		"  - {device: {name: m, default-via: eth1}}\n"
		"  - {region: {a: eu, b: us, break: true}}\n"
		"  - {region: {a: eu, b: us, set: 'delay 10ms up', restore: true}}\n";
	struct sim_file *s = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(sim_file_parse("t.yaml", text, strlen(text), &s, &err), 0);
	assert_int_equal(s->n_steps, 14);
	assert_string_equal(s->steps[0].argv[2], "echo a\necho b\n"); /* a block scalar word */
	assert_int_equal(s->steps[1].kind, SIM_ROUTER);
	assert_string_equal(s->steps[1].node, "home");
	assert_string_equal(s->steps[1].nat, "corporate");
	assert_true(s->steps[1].flush_nat);
	assert_int_equal(s->steps[2].kind, SIM_DEVICE);
	assert_null(s->steps[2].iface); /* every interface of it */
	assert_int_equal(s->steps[2].n_words, 1);
	assert_int_equal(s->steps[2].link_state, -1);
	assert_string_equal(s->steps[3].iface, "eth1");
	assert_int_equal(s->steps[3].link_state, 0);
	assert_int_equal(s->steps[4].kind, SIM_CAPTURE);
	assert_string_equal(s->steps[4].filter, "icmp");
	assert_null(s->steps[4].target);
	assert_string_equal(s->steps[5].target, "c");
	assert_int_equal(s->steps[6].kind, SIM_DNS);
	assert_string_equal(s->steps[6].dns_target, "${b.ip}");
	assert_null(s->steps[7].dns_target);
	assert_int_equal(s->steps[8].kind, SIM_GEN_CERTS);
	assert_string_equal(s->steps[8].node, "b");
	assert_int_equal(s->steps[8].n_words, 2);
	assert_int_equal(s->steps[8].days, 7);
	assert_string_equal(s->steps[9].firewall, "corporate");
	assert_null(s->steps[9].nat);
	assert_string_equal(s->steps[10].replug_iface, "eth0");
	assert_string_equal(s->steps[10].replug_router, "lte");
	assert_int_equal(s->steps[10].n_words, 1);
	assert_null(s->steps[10].default_via);
	assert_string_equal(s->steps[11].default_via, "eth1");
	assert_null(s->steps[11].replug_iface);
	assert_int_equal(s->steps[12].kind, SIM_REGION);
	assert_string_equal(s->steps[12].node, "eu");
	assert_string_equal(s->steps[12].region_b, "us");
	assert_int_equal(s->steps[12].link_state, 0);
	assert_int_equal(s->steps[13].link_state, 1);
	assert_int_equal(s->steps[13].n_words, 3);
	sim_file_free(s);
}

static void test_file_blocks(void **state)
{
	const char *text = "lab: l.yaml\nsteps:\n"
			   "  - id: flap\n    repeat: 3\n    steps:\n"
			   "      - {wait: 1ms}\n"
			   "      - {id: inner, repeat: 100ms, steps: [{wait: 1ms}, {wait: 2ms}]}\n"
			   "  - {id: ch, every: 1s, for: 10s, seed: 9, choose: [{wait: 1ms}, "
			   "{repeat: 2, steps: [{wait: 1ms}]}]}\n"
			   "  - {id: last, wait: 1ms}\n";
	struct sim_file *s = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(sim_file_parse("t.yaml", text, strlen(text), &s, &err), 0);
	assert_int_equal(s->n_steps, 10); /* flattened: each block's body follows it */
	assert_int_equal(s->steps[0].kind, SIM_REPEAT);
	assert_int_equal(s->steps[0].times, 3);
	assert_int_equal(s->steps[0].n_body, 4);
	assert_int_equal(s->steps[0].n_choices, 2);
	assert_string_equal(s->steps[2].id, "inner");
	assert_int_equal(s->steps[2].for_ms, 100);
	assert_int_equal(s->steps[2].n_body, 2);
	assert_string_equal(s->steps[5].id, "ch");
	assert_int_equal(s->steps[5].kind, SIM_EVERY);
	assert_int_equal(s->steps[5].wait_ms, 1000);
	assert_int_equal(s->steps[5].for_ms, 10000);
	assert_int_equal(s->steps[5].seed, 9);
	assert_int_equal(s->steps[5].n_body, 3);
	assert_int_equal(s->steps[5].n_choices, 2);
	assert_string_equal(s->steps[9].id, "last");
	sim_file_free(s);
}

static void test_file_templates(void **state)
{
	const char *text = "lab:\n  routers: {gw: {}}\n  devices: {p: {router: gw, count: 2}}\n"
			   "step-templates:\n"
			   "  pause: {wait: '${group.d}'}\n"
			   "  two:\n"
			   "    - {id: '${group.id}-a', run: [echo, '${group.word}'], node: p-1}\n"
			   "    - {use: pause, with: {d: 5ms}}\n"
			   "steps:\n"
			   "  - {id: g, use: two, with: {word: '${p-2.ip}'}}\n"
			   "  - {id: h, use: two, with: {word: x}}\n";
	struct sim_file *s = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(sim_file_parse("/d/t.yaml", text, strlen(text), &s, &err), 0);
	assert_non_null(s->lab_tree); /* inline: the lab is read from it with the sim */
	assert_string_equal(s->lab_path, "/d/t.yaml");
	assert_int_equal(s->n_steps, 8);
	assert_int_equal(s->steps[0].kind, SIM_GROUP);
	assert_int_equal(s->steps[0].n_body, 3);
	assert_string_equal(s->steps[1].id, "g-a");
	assert_string_equal(s->steps[1].argv[1], "${p-2.ip}"); /* filled in, run-time ${} kept */
	assert_int_equal(s->steps[2].kind, SIM_GROUP);
	assert_int_equal(s->steps[3].wait_ms, 5);
	assert_string_equal(s->steps[5].id, "h-a");
	assert_string_equal(s->steps[5].argv[1], "x");
	sim_file_free(s);
}

static void test_file_model(void **state)
{
	const char *text = "sim: demo\nlab: ../labs/l.yaml\ntimeout: 30s\nsteps:\n"
			   "  - {id: srv, spawn: iperf3 -s -1, node: b, ready: {port: 5201}}\n"
			   "  - {id: up, run: [iperf3, -c, '${b.ip}'], node: a, parse: json,\n"
			   "     results: {bps: .end.x}, captures: {n: {regex: 'n=([0-9]+)', "
			   "stream: stderr}}}\n"
			   "  - {wait-for: srv, timeout: 5s}\n"
			   "  - {assert: '${up.bps} > 1M'}\n";
	struct sim_file *s = NULL;
	nslab_error err = { 0 };

	(void)state;
	assert_int_equal(sim_file_parse("/x/sims/t.yaml", text, strlen(text), &s, &err), 0);
	assert_string_equal(s->name, "demo");
	assert_string_equal(s->lab_path, "/x/sims/../labs/l.yaml");
	assert_int_equal(s->timeout_ms, 30000);
	assert_int_equal(s->n_steps, 4);
	assert_int_equal(s->steps[0].kind, SIM_SPAWN);
	assert_int_equal(s->steps[0].argc, 3); /* a string command is split on blanks */
	assert_string_equal(s->steps[0].argv[2], "-1");
	assert_int_equal(s->steps[0].ready_port, 5201);
	assert_int_equal(s->steps[1].n_caps, 2);
	assert_true(s->steps[1].caps[1].pick && s->steps[1].caps[1].result);
	assert_false(s->steps[1].caps[0].pick);
	assert_int_equal(s->steps[1].caps[0].stream, SIM_STDERR);
	assert_string_equal(s->steps[2].id, "step-3");
	assert_int_equal(s->steps[2].timeout_ms, 5000);
	assert_int_equal(s->steps[3].n_asserts, 1);
	sim_file_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),		 cmocka_unit_test(test_durations),
		cmocka_unit_test(test_interpolate),	 cmocka_unit_test(test_assertions),
		cmocka_unit_test(test_assertion_errors), cmocka_unit_test(test_json_pick),
		cmocka_unit_test(test_regex_capture),	 cmocka_unit_test(test_ndjson_capture),
		cmocka_unit_test(test_file_errors),	 cmocka_unit_test(test_file_model),
		cmocka_unit_test(test_file_changes),	 cmocka_unit_test(test_file_blocks),
		cmocka_unit_test(test_file_templates),	 cmocka_unit_test(test_json_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

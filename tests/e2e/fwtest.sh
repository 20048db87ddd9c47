#!/bin/sh
# SPDX-License-Identifier: MIT
# fwtest: `nslab test` end to end. Every bundled example suite passes (NSE's
# two formats, reject, flows, gateway masquerade, IPv6, output chain); a wrong
# expectation fails with the trace path; a lab file as topology; a packet that never reaches the rules
# is inconclusive, not a drop; the report formats parse; coverage names the
# rules never hit; --check and --compare work; bad suites and rulesets exit 2
# at FILE:LINE:COL; and a SIGKILLed run leaves no namespace behind.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env

EX="$SRCDIR/examples/fwtest"
leftovers_snapshot start

# holds_netns PID: the process holds a network namespace by fd (it built its topology).
holds_netns() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'net:\['; }


# has NAME REGEX: the output of run NAME (stdout then stderr) matches.
has() {
	if cat "$TMP/$1.out" "$TMP/$1.err" | grep -Eq -- "$2"; then ok "$1: says '$2'"; else
		bad "$1: no line matches '$2'"
		sed 's/^/  | /' "$TMP/$1.out" "$TMP/$1.err" >&2
	fi
}

for s in basic ipv6 output gateway lab nse-simple nse-runner nse-semantics; do
	run_suite "$s" 0 "$EX/$s.yaml"
	has "$s" '^[0-9]+ passed, 0 failed, 0 inconclusive, 0 errors$'
done
# NSE's JSON twins (escapes, tabs) read and pass as their YAML does.
for s in nse-simple nse-runner nse-semantics; do
	run_suite "$s-json" 0 "$EX/$s.json"
	has "$s-json" '^[0-9]+ passed, 0 failed, 0 inconclusive, 0 errors$'
done

# NSE's semantics in its format: a dropped packet without expected_verdict
# fails (it expects ACCEPT), DROP passes for a reject but not for an accept;
# the YAML and its JSON twin give the same results.
cat >"$TMP/nse-fail.yaml" <<'YAML'
tests:
  - name: NSE's failures
    rules: "table ip f {\n  chain i {\n    type filter hook input priority 0;\n    tcp dport 23 reject\n    tcp dport 80 drop\n  }\n}\n"
    packets:
      - {protocol: tcp, dst_port: 23, expected_verdict: DROP}
      - {protocol: tcp, dst_port: 22, expected_verdict: DROP}
      - {protocol: tcp}
YAML
cat >"$TMP/nse-fail.json" <<'JSON'
{"tests": [
	{"name": "NSE's failures",
	 "rules": "table ip f {\n  chain i {\n    type filter hook input priority 0;\n    tcp dport 23 reject\n    tcp dport 80 drop\n  }\n}\n",
	 "packets": [
		{"protocol": "tcp", "dst_port": 23, "expected_verdict": "DROP"},
		{"protocol": "tcp", "dst_port": 22, "expected_verdict": "DROP"},
		{"protocol": "tcp"}
	 ]}
]}
JSON
for f in yaml json; do
	run_suite "nse-fail-$f" 1 "$TMP/nse-fail.$f" --format json
	if $PY - "$TMP/nse-fail-$f.out" <<'PY'; then ok "nse-fail-$f: reject, accept, drop; fails"; else bad "nse-fail-$f: report"; fi
import json, sys
t = json.load(open(sys.argv[1]))["tests"][0]
assert t["status"] == "fail", t
assert [p["verdict"] for p in t["packets"]] == ["reject", "accept", "drop"], t
assert all(p["packet"].startswith("tcp 10.0.0.1:12345 > ") and p["packet"].endswith(" []")
           for p in t["packets"]), t
PY
	"$NSLAB" test "$TMP/nse-fail.$f" >"$TMP/nse-fail-$f.txt" 2>&1
	sed -E -i 's/[0-9.]+ ms/T/g; s/nse-fail\.(yaml|json)/F/g' "$TMP/nse-fail-$f.txt"
done
if grep -q 'expected verdict drop (or reject), got accept' "$TMP/nse-fail-yaml.txt" &&
	grep -q 'expected verdict accept, got drop' "$TMP/nse-fail-yaml.txt" &&
	! grep -q 'packet 1' "$TMP/nse-fail-yaml.txt"; then
	ok "nse-fail: DROP passes for a reject, not for an accept; no verdict means ACCEPT"
else
	bad "nse-fail: NSE's verdicts"
	sed 's/^/  | /' "$TMP/nse-fail-yaml.txt" >&2
fi
if cmp -s "$TMP/nse-fail-yaml.txt" "$TMP/nse-fail-json.txt"; then ok "nse-fail: YAML and JSON agree"; else
	bad "nse-fail: YAML and JSON differ"
	diff "$TMP/nse-fail-yaml.txt" "$TMP/nse-fail-json.txt" | sed 's/^/  | /' >&2
fi
# NSE ignores src_port and dst_port on an ICMP packet: its formats run such a
# packet without them and warn at each key (YAML and JSON); nslab's refuses them.
cat >"$TMP/nse-icmp.yaml" <<'YAML'
- name: ping with ports
  rules: "table ip f { chain i { type filter hook input priority 0; policy drop; icmp type echo-request accept; }; }"
  packets:
    - {protocol: icmp, src_ip: 10.0.0.1, dst_ip: 10.0.0.2, src_port: 1234, dst_port: 80}
YAML
printf '[{"name": "ping with ports",\n  "rules": "table ip f { chain i { type filter hook input priority 0; policy drop; icmp type echo-request accept; }; }",\n  "packets": [{"protocol": "icmp", "dst_port": 80}]}]\n' \
	>"$TMP/nse-icmp.json"
run_suite nse-icmp 0 "$TMP/nse-icmp.yaml"
has nse-icmp '^1 passed, 0 failed, 0 inconclusive, 0 errors$'
has nse-icmp "^nslab: warning: $TMP/nse-icmp.yaml:4:60: src_port ignored: an ICMP packet has no ports \\(proto icmp\\)$"
has nse-icmp "^nslab: warning: $TMP/nse-icmp.yaml:4:76: dst_port ignored: "
run_suite nse-icmp-json 0 "$TMP/nse-icmp.json"
has nse-icmp-json "^nslab: warning: $TMP/nse-icmp.json:3:36: dst_port ignored: "
printf 'rules: ""\ntests: [{name: t, packets: [{proto: icmp, dst_port: 80}]}]\n' >"$TMP/own-icmp.yaml"
run_suite own-icmp 2 "$TMP/own-icmp.yaml"
has own-icmp "^nslab: $TMP/own-icmp.yaml:2:43: dst_port: proto icmp has no ports$"

has basic '^PASS +snmp is rejected'
has gateway '^PASS +web goes out masqueraded'

# A lab's nodes send every ICMP error a reject test asserts: fwtest turns the
# kernel's ICMP rate limits off on them (it stops after about six otherwise).
{
	printf 'topology: lab\nlab: %s/examples/office.yaml\nrules_in: home\nrules: |\n' "$SRCDIR"
	printf '  table inet home {\n    chain forward { type filter hook forward priority 0; udp dport 161 reject; }\n  }\ntests:\n'
	for i in $(seq 1 60); do
		printf '  - {name: reject %s, packets: [{proto: udp, from: laptop, dst: server-1, dport: 161}], expect: {reply: icmp-port-unreachable}}\n' "$i"
	done
} >"$TMP/labreject.yaml"
run_suite labreject 0 "$TMP/labreject.yaml"
has labreject '^60 passed, 0 failed, 0 inconclusive, 0 errors$'

# Bridge chains in a lab: home's br0 bridges the laptop and the phone. Tracing
# starts before bridge prerouting (a drop there is a drop, not "trace: none")
# and ends after bridge postrouting and netdev egress (a routed packet dropped
# there, after inet postrouting, never left).
{
	printf 'topology: lab\nlab: %s/examples/office.yaml\nrules_in: home\nrules: |\n' "$SRCDIR"
	printf '  table bridge lan {\n'
	printf '    chain early { type filter hook prerouting priority -400; tcp dport 7 drop comment "early"; }\n'
	printf '    chain lanfw { type filter hook forward priority 0; tcp dport 8 drop comment "lanfw"; }\n'
	printf '    chain late { type filter hook postrouting priority 400; tcp dport 9 drop comment "late"; }\n'
	printf '  }\ntests:\n'
	printf '  - {name: bridge prerouting drop, packets: [{proto: tcp, from: laptop, dst: phone, dport: 7}], expect: {verdict: drop, rule: early, chain: early}}\n'
	printf '  - {name: bridge forward drop, packets: [{proto: tcp, from: laptop, dst: phone, dport: 8}], expect: {verdict: drop, rule: lanfw}}\n'
	printf '  - {name: bridged, packets: [{proto: tcp, from: laptop, dst: phone, dport: 10}], expect: {verdict: accept, delivered: true}}\n'
	printf '  - {name: routed then bridge drop, packets: [{proto: tcp, from: server-1, dst: laptop, dport: 9}], expect: {verdict: drop, rule: late, delivered: false}}\n'
} >"$TMP/bridge.yaml"
run_suite bridge 0 -v "$TMP/bridge.yaml"
has bridge '^4 passed, 0 failed, 0 inconclusive, 0 errors$'
has bridge 'trace: bridge lan early: tcp dport 7 drop comment "early" -> drop$'

# ct_state: invalid packets pass as invalid (the kernel sends no ct state for
# them); a ruleset without conntrack says so when a state is expected.
cat >"$TMP/ct.yaml" <<'YAML'
rules: |
  table inet filter {
    chain input { type filter hook input priority 0; ct state invalid drop comment "invalid"; }
  }
tests:
  - {name: xmas is invalid, packets: [{proto: tcp, dport: 22, flags: FPU}], expect: {verdict: drop, rule: invalid, ct_state: invalid}}
YAML
run_suite ct 0 "$TMP/ct.yaml"
has ct '^PASS +xmas is invalid'
cat >"$TMP/noct.yaml" <<'YAML'
rules: |
  table inet filter { chain input { type filter hook input priority 0; tcp dport 22 accept; } }
tests:
  - {name: no conntrack no state, packets: [{proto: tcp, dport: 22}], expect: {ct_state: new}}
YAML
run_suite noct 1 "$TMP/noct.yaml"
has noct 'no trace event carried one: no rule of the ruleset uses conntrack'

# A table owned by the socket that loads it ("flags owner") lives as long as
# the run: the ruleset check in a child must not be what loads it (the table
# would go with the child, and port 80 would be accepted).
cat >"$TMP/owner.yaml" <<'YAML'
rules: |
  table inet owned {
    flags owner
    chain input { type filter hook input priority 0; policy drop; tcp dport 22 accept; }
  }
tests:
  - {name: ssh, packets: [{proto: tcp, dport: 22}], expect: {verdict: accept}}
  - {name: web, packets: [{proto: tcp, dport: 80}], expect: {verdict: drop}}
YAML
run_suite owner 0 "$TMP/owner.yaml"
has owner '^2 passed, 0 failed, 0 inconclusive, 0 errors$'

# The longest names nft takes (255 bytes: table, chain, jump target) make the
# biggest trace events; they are read whole (the trace socket reads 2 KiB slots).
long=$(printf '%254s' '' | tr ' ' n) # and a prefix letter: 255
cat >"$TMP/long.yaml" <<YAML
rules: |
  table inet t$long {
    chain j$long { tcp dport 22 accept; }
    chain c$long { type filter hook input priority 0; policy drop; jump j$long; }
  }
tests:
  - {name: long names, packets: [{proto: tcp, dport: 22}], expect: {verdict: accept}}
YAML
run_suite long 0 "$TMP/long.yaml"
has long '^1 passed, 0 failed, 0 inconclusive, 0 errors$'

# A failed capture check lists what was captured there, a line per packet.
cat >"$TMP/capture.yaml" <<'YAML'
rules: |
  table inet filter { chain input { type filter hook input priority 0; } }
tests:
  - {name: wrong capture, packets: [{proto: udp, dport: 53}], expect: {capture: {at: 'target:eth0', filter: udp, count: 5}}}
YAML
run_suite capture 1 "$TMP/capture.yaml"
has capture 'expected 5 packets captured at target:eth0, got 2'
has capture '^    captured:$'
has capture '^      in eth0: udp 10\.0\.0\.1:[0-9]+ > 10\.0\.0\.2:53, [0-9]+ bytes$'

# A wrong expectation must fail, and say why with the kernel's trace.
cat >"$TMP/wrong.yaml" <<'YAML'
rules: |
  table inet filter {
    chain input {
      type filter hook input priority 0; policy accept;
      tcp dport 22 accept comment "ssh"
    }
  }
tests:
  - name: ssh is (wrongly) expected dropped
    packets: [{proto: tcp, dport: 22}]
    expect: {verdict: drop, rule: telnet}
YAML
run_suite wrong 1 "$TMP/wrong.yaml"
has wrong '^FAIL +ssh is \(wrongly\) expected dropped'
has wrong 'expected verdict drop, got accept'
has wrong "expected rule 'telnet'"
has wrong 'trace: inet filter input: tcp dport 22 accept comment "ssh" -> accept'

# A packet that never reaches the rules (nobody has 10.0.0.99) has no verdict.
cat >"$TMP/lost.yaml" <<'YAML'
rules: |
  table inet filter {
    chain input { type filter hook input priority 0; policy drop; }
  }
tests:
  - name: lost
    packets: [{proto: udp, dst: 10.0.0.99, dport: 53}]
    expect: {verdict: drop}
YAML
run_suite lost 1 "$TMP/lost.yaml"
has lost '^INCONCLUSIVE +lost'
has lost 'inconclusive: no verdict'

# A subset: -k runs the tests whose name contains the text.
run_suite only 0 -k flow "$EX/basic.yaml"
has only '^2 passed, 0 failed, 0 inconclusive, 0 errors, 4 not selected$'
# nslab -v test: the trace path of passing tests too.
"$NSLAB" -v test -k 'ssh is open' "$EX/basic.yaml" >"$TMP/verbose.out" 2>"$TMP/verbose.err" ||
	bad "nslab -v test: exit status $?"
has verbose 'trace: inet filter input: tcp dport 22 accept comment "ssh" -> accept'
run_suite only-none 2 -k 'no such test' "$EX/basic.yaml"
has only-none "no test name contains 'no such test'"

# Report formats.
run_suite json 0 "$EX/basic.yaml" --format json --coverage
if $PY - "$TMP/json.out" <<'PY'; then ok "json: a report of 6 passed tests with coverage"; else bad "json report"; fi
import json, sys
r = json.load(open(sys.argv[1]))
assert r["passed"] == 6 and r["failed"] == 0, r
t = {x["name"]: x for x in r["tests"]}
assert t["snmp is rejected"]["packets"][0]["verdict"] == "reject"
assert t["ssh is open"]["packets"][0]["ct_state"] == "new"
rules = r["coverage"][0]["rules"]
assert any(x["rule"].startswith("udp dport 161 reject") and x["hits"] == 1 for x in rules), rules
PY
run_suite tap 1 "$TMP/wrong.yaml" --format tap
has tap '^not ok 1 - ssh is \(wrongly\) expected dropped'
has tap '^1\.\.1$'
run_suite junit 0 "$EX/output.yaml" --format junit -o "$TMP/junit.xml"
if $PY -c "import xml.dom.minidom,sys; d=xml.dom.minidom.parse(sys.argv[1]); assert len(d.getElementsByTagName('testcase'))==2" "$TMP/junit.xml"; then
	ok "junit: two test cases in well-formed XML"
else
	bad "junit: $TMP/junit.xml"
fi

# Coverage names the rules never hit.
run_suite coverage 0 "$EX/output.yaml" --coverage
has coverage '2 of 2 rules hit'
cat >"$TMP/cov.yaml" <<'YAML'
rules: |
  table inet filter {
    chain input {
      type filter hook input priority 0; policy accept;
      tcp dport 22 accept comment "ssh"
      tcp dport 23 drop comment "telnet"
    }
  }
tests:
  - name: ssh
    packets: [{proto: tcp, dport: 22}]
    expect: {verdict: accept}
YAML
run_suite coverage2 0 "$TMP/cov.yaml" --coverage
has coverage2 'tcp dport 23 drop comment "telnet" +<- never hit'
has coverage2 '1 of 2 rules hit'

# --check and --compare.
run_suite check-ok 0 --check "$EX/old.nft"
printf 'table inet t {\n  chain c {\n    tcp dport 22 acept\n  }\n}\n' >"$TMP/bad.nft"
run_suite check-bad 2 --check "$TMP/bad.nft"
has check-bad "^nslab: $TMP/bad.nft:3:[0-9]+: "
run_suite compare 1 --compare "$EX/old.nft" "$EX/new.nft" "$EX/migrate.yaml"
has compare '^web: tcp 10\.0\.0\.1:[0-9]+ > 10\.0\.0\.2:80 \[S\]: accept -> reject$'
has compare '^1 packet differ'

# Bad input: exit 2 at the place, nothing run.
printf 'rules: "table inet t {}"\ntests:\n  - name: x\n    packets: [{proto: tcp, dport: 22, colour: red}]\n' >"$TMP/badkey.yaml"
run_suite badkey 2 "$TMP/badkey.yaml"
has badkey "^nslab: $TMP/badkey.yaml:4:[0-9]+: .*colour"
printf 'rules: |\n  table inet t {\n    chain c { tcp dport 22 acept; }\n  }\ntests:\n  - name: x\n    packets: [{proto: tcp, dport: 22}]\n' >"$TMP/badrules.yaml"
run_suite badrules 2 "$TMP/badrules.yaml"
has badrules "^nslab: $TMP/badrules.yaml:3:[0-9]+: ruleset: "
printf 'rules: |\n  include "/etc/shadow"\ntests:\n  - name: x\n    packets: [{proto: tcp, dport: 22}]\n' >"$TMP/include.yaml"
run_suite include 2 "$TMP/include.yaml"
has include "^nslab: $TMP/include.yaml:2:[0-9]+: .*include"

# SIGKILL in the middle of a run: the kernel drops every namespace with the process.
cat >"$TMP/slow.yaml" <<'YAML'
rules: |
  table inet filter {
    chain input { type filter hook input priority 0; policy drop; }
  }
tests:
  - name: slow
    packets: [{proto: udp, dst: 10.0.0.99, dport: 53, count: 5}]
YAML
"$NSLAB" test "$TMP/slow.yaml" >/dev/null 2>&1 &
_pid=$!
track_pid "$_pid"
# once it holds its namespaces (by fd), kill it wherever it is
wait_until 10 holds_netns "$_pid" || bad "slow: nslab test never held a namespace"
kill -9 "$_pid" 2>/dev/null
wait "$_pid" 2>/dev/null
# The same with a lab file as topology (its PID namespace's init included).
"$NSLAB" test "$EX/lab.yaml" >/dev/null 2>&1 &
_pid=$!
track_pid "$_pid"
wait_until 10 holds_netns "$_pid" || bad "lab: nslab test never held a namespace"
kill -9 "$_pid" 2>/dev/null
wait "$_pid" 2>/dev/null
leftovers_check start fwtest-none

# Order cannot matter: a suite built to be order-sensitive (the first test's
# ND fills the client's neighbour cache, the third blocks ND and must time
# out; likewise ARP, with IPv4 tests between the IPv6 ones) gives the same
# results in suite order, reversed and shuffled.
cat >"$TMP/order.yaml" <<'YAML'
topology: direct
tests:
  - name: nd allowed, v6 flow connects
    rules: |
      table inet filter {
        chain input { type filter hook input priority 0; policy accept; }
      }
    flows: [{proto: tcp, src: "fd00::1", dst: "fd00::2", dport: 443}]
    expect: {connect: ok}
  - name: arp allowed, v4 flow connects
    rules: |
      table inet filter {
        chain input { type filter hook input priority 0; policy accept; }
      }
    flows: [{proto: tcp, dst: "10.0.0.2", dport: 443}]
    expect: {connect: ok}
  - name: nd blocked, v6 flow times out
    rules: |
      table inet filter {
        chain input {
          type filter hook input priority 0; policy accept;
          icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } drop comment "no nd"
        }
      }
    flows: [{proto: tcp, src: "fd00::1", dst: "fd00::2", dport: 443}]
    expect: {connect: timeout}
  - name: arp blocked, v4 flow times out
    rules: |
      table arp filter {
        chain input { type filter hook input priority 0; policy drop; }
      }
    flows: [{proto: tcp, dst: "10.0.0.2", dport: 443}]
    expect: {connect: timeout}
  - name: nd allowed again, v6 flow connects
    rules: |
      table inet filter {
        chain input { type filter hook input priority 0; policy accept; }
      }
    flows: [{proto: tcp, src: "fd00::1", dst: "fd00::2", dport: 443}]
    expect: {connect: ok}
YAML
for o in "--order suite" "--order reverse" "--seed 1" "--seed 2"; do
	n="order-$(echo "$o" | tr -dc 'a-z0-9')"
	run_suite "$n" 0 "$TMP/order.yaml" $o
	has "$n" '^5 passed, 0 failed, 0 inconclusive, 0 errors$'
	sed -n 's/ ([0-9.]* ms)$//p' "$TMP/$n.out" | sort >"$TMP/$n.res"
done
cmp -s "$TMP/order-ordersuite.res" "$TMP/order-orderreverse.res" &&
	cmp -s "$TMP/order-ordersuite.res" "$TMP/order-seed1.res" &&
	cmp -s "$TMP/order-ordersuite.res" "$TMP/order-seed2.res" &&
	ok "order: the same results in every order" ||
	bad "order: results differ between orders"
# the two seeds run different orders (so the shuffle is exercised), each the same every time
[ "$(grep -E '^(PASS|FAIL)' "$TMP/order-seed1.out" | head -1)" != \
	"$(grep -E '^(PASS|FAIL)' "$TMP/order-seed2.out" | head -1)" ] &&
	ok "order: --seed 1 and --seed 2 start with different tests" ||
	bad "order: --seed 1 and --seed 2 ran the same order"
# Rejects answer every time: the kernel's ICMP rate limit (a burst of 6 per
# peer, then one a second) is off in the test nodes, or the 7th test on would
# get no reply depending on what ran before it.
{
	printf 'rules: |\n  table inet filter {\n    chain input {\n'
	printf '      type filter hook input priority 0; policy accept;\n'
	printf '      udp dport 161 reject\n    }\n  }\ntests:\n'
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		printf '  - {name: r%d, packets: [{proto: udp, dport: 161}], expect: {reply: icmp-port-unreachable}}\n' $i
		printf '  - {name: r%d v6, packets: [{proto: udp, dst: "fd00::2", dport: 161}], expect: {reply: icmp-port-unreachable}}\n' $i
	done
} >"$TMP/ratelimit.yaml"
run_suite ratelimit 0 "$TMP/ratelimit.yaml"
has ratelimit '^24 passed, 0 failed, 0 inconclusive, 0 errors$'
# A stateless ruleset after a stateful one sees its packets untracked, as in a
# fresh namespace: the kernel frees the replaced ruleset (and its hold on
# conntrack) after a grace period, which nslab waits for.
{
	printf 'tests:
'
	for i in 1 2 3 4 5 6 7 8 9 10; do
		printf '  - name: stateful %d
    rules: "table inet f { chain input { type filter hook input priority 0; ct state new accept; } }"
' $i
		printf '    packets: [{proto: tcp, dport: 22}]
    expect: {verdict: accept, ct_state: new, conntrack: {count: 1}}
'
		printf '  - name: stateless %d
    rules: "table inet g { chain input { type filter hook input priority 0; tcp dport 25 accept; } }"
' $i
		printf '    packets: [{proto: tcp, dport: 25}]
    expect: {verdict: accept, conntrack: {count: 0}}
'
	done
} >"$TMP/untracked.yaml"
run_suite untracked 0 "$TMP/untracked.yaml" -j 1
has untracked '^20 passed, 0 failed, 0 inconclusive, 0 errors$'
run_suite order-badseed 2 "$TMP/order.yaml" --seed x
has order-badseed "--seed: 'x' is not a number"

# A report that cannot be written is said before any test runs (exit 2, no output).
"$NSLAB" test "$EX/basic.yaml" --format json -o "$TMP/no-such-dir/r.json" >"$TMP/o.out" 2>"$TMP/o.err"
rc=$?
[ $rc -eq 2 ] && [ ! -s "$TMP/o.out" ] && grep -q "no-such-dir/r.json" "$TMP/o.err" &&
	ok "an unwritable -o: exit 2 before any test ran" ||
	bad "an unwritable -o: rc $rc, stdout '$(head -c 200 "$TMP/o.out")', stderr '$(cat "$TMP/o.err")'"
finish

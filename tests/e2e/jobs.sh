#!/bin/sh
# SPDX-License-Identifier: MIT
# jobs: `nslab test --jobs N` runs tests N at once, each job in namespaces of its
# own, and reports exactly what one job does: for every example suite and for a
# generated one mixing topologies, per-test rulesets, counters, conntrack,
# captures and flows, the JSON report of -j 3 (and of a shuffled -j 4) equals
# -j 1's test by test (status, verdicts, rules, replies, conntrack, the crafted
# packets' ports) and in coverage; the text lines come in the run order; the
# report says how many jobs ran. As root and rootless.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env python3

EX="$SRCDIR/examples/fwtest"

# the generated suite: 40 rounds of six tests, two rulesets, two topologies
{
	cat <<'YAML'
topology: direct
rules: |
  table inet filter {
    counter seen {}
    chain input {
      type filter hook input priority 0; policy drop;
      ct state established,related accept comment "established"
      tcp dport 22 counter name seen accept comment "ssh"
      udp dport 161 reject comment "snmp"
      meta l4proto icmp accept comment "ping"
    }
  }
tests:
YAML
	i=0
	while [ $i -lt 40 ]; do
		cat <<YAML
  - name: ssh $i
    packets: [{proto: tcp, dport: 22, count: 2}]
    expect: {verdict: accept, rule: ssh, reply: syn-ack, counter: {seen: 2}}
  - name: snmp $i
    packets: [{proto: udp, dport: 161}]
    expect: {verdict: reject, reply: icmp-port-unreachable}
  - name: web $i
    packets: [{proto: tcp, dport: 80, sport: $((30000 + i))}]
    expect: {verdict: drop, rule: policy}
  - name: ping $i
    packets: [{proto: icmp}]
    expect: {verdict: accept, rule: ping, reply: echo-reply}
  - name: flow $i
    flows: [{proto: tcp, dport: 22, send: "hello"}]
    expect: {connect: ok, conntrack: {state: established, assured: true}}
  - name: own rules $i
    rules: |
      table ip own { chain input { type filter hook input priority 0; tcp dport 25 drop comment "smtp"; } }
    packets: [{proto: tcp, dport: 25}]
    expect: {verdict: drop, rule: smtp}
YAML
		i=$((i + 1))
	done
} >"$TMP/mixed.yaml"

# report NAME ARGS...: nslab test -f json --coverage ARGS, into NAME.json (exit 0 or 1)
report() {
	_n=$1
	shift
	"$NSLAB" test -f json --coverage -o "$TMP/$_n.json" "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
	_rc=$?
	[ $_rc -le 1 ] || bad "$_n: exit $_rc: $(head -c 400 "$TMP/$_n.err")"
}

# same A B WHAT: the two reports agree on everything but times, jobs and flows' own ports
same() {
	if $PY - "$TMP/$1.json" "$TMP/$2.json" >"$TMP/diff.out" 2>&1 <<'PY'; then ok "$3"; else bad "$3: $(head -c 600 "$TMP/diff.out")"; fi
import json, sys
def norm(path):
    r = json.load(open(path))
    for t in r["tests"]:
        t.pop("ms", None)
        for p in t["packets"]:
            p.pop("trace_events", None)  # read until decided: the late ones are timing
            if p["kind"] == "flow":   # a socket's ports: the kernel's choice
                p.pop("packet", None)
                p.pop("trace", None)
        t["log"] = "" if t["status"] == "pass" else t["log"]
    r.pop("jobs", None)
    return r
a, b = norm(sys.argv[1]), norm(sys.argv[2])
def first_diff(x, y, at):
    if type(x) != type(y) or not isinstance(x, (dict, list)):
        return None if x == y else f"{at}: {json.dumps(x)[:200]} vs {json.dumps(y)[:200]}"
    if isinstance(x, list):
        if len(x) != len(y):
            return f"{at}: {len(x)} vs {len(y)} items"
        pairs = [(str(i), x[i], y[i]) for i in range(len(x))]
    else:
        pairs = [(k, x.get(k), y.get(k)) for k in sorted(set(x) | set(y))]
    for k, u, v in pairs:
        d = first_diff(u, v, f"{at}.{k}")
        if d:
            return d
    return None
for x, y in zip(a["tests"], b["tests"]):
    d = first_diff(x, y, x["name"])
    if d:
        print("differs:", d); sys.exit(1)
for k in a:
    if k != "tests" and a[k] != b[k]:
        print("differs in", k, json.dumps(a[k])[:200], json.dumps(b[k])[:200]); sys.exit(1)
sys.exit(0 if len(a["tests"]) == len(b["tests"]) else 1)
PY
}

# jobs NAME: the report's jobs member
jobs() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"])' "$TMP/$1.json" 2>/dev/null; }

for s in basic gateway ipv6 migrate nse-runner nse-semantics nse-simple output; do
	[ -f "$EX/$s.yaml" ] || continue
	report "$s-1" "$EX/$s.yaml" -j 1
	report "$s-3" "$EX/$s.yaml" -j 3
	same "$s-1" "$s-3" "$s.yaml: -j 3 reports what -j 1 does"
done

report mixed-1 "$TMP/mixed.yaml" -j 1
report mixed-3 "$TMP/mixed.yaml" -j 3
same mixed-1 mixed-3 "a 240-test suite: -j 3 reports what -j 1 does"
$PY - "$TMP/mixed-1.json" <<'PY' && ok "and -j 1 passes it whole" || bad "-j 1: $(grep -c '"fail"' "$TMP/mixed-1.json") failures"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["passed"] == 240 == r["total"] else 1)
PY
[ "$(jobs mixed-1)" = 1 ] && [ "$(jobs mixed-3)" = 3 ] && ok "the report says how many jobs ran" ||
	bad "jobs: $(jobs mixed-1) and $(jobs mixed-3)"
report mixed-auto "$TMP/mixed.yaml"
[ "$(jobs mixed-auto)" -ge 1 ] && same mixed-1 mixed-auto "the default jobs ($(jobs mixed-auto)) report what -j 1 does" ||
	bad "default jobs: $(jobs mixed-auto)"

# shuffled: the same tests, another order, four jobs
report shuf-1 "$TMP/mixed.yaml" -j 1 --order shuffle --seed 7
report shuf-4 "$TMP/mixed.yaml" -j 4 --order shuffle --seed 7
same shuf-1 shuf-4 "shuffled, -j 4 reports what -j 1 does"

# the test lines come in the run order, however the jobs finish
"$NSLAB" test -j 3 "$TMP/mixed.yaml" >"$TMP/lines.out" 2>&1
grep -E '^(PASS|FAIL|ERROR|INCONCLUSIVE) ' "$TMP/lines.out" | sed 's/ *(.*//; s/^[A-Z]* *//' >"$TMP/lines.names"
$PY -c 'import json,sys; [print(t["name"]) for t in json.load(open(sys.argv[1]))["tests"]]' \
	"$TMP/mixed-1.json" >"$TMP/suite.names"
if cmp -s "$TMP/lines.names" "$TMP/suite.names"; then ok "-j 3: the test lines in the suite's order"; else
	bad "-j 3 lines: $(diff "$TMP/suite.names" "$TMP/lines.names" | head -5)"
fi

# a lab's nodes are shared: a lab suite runs one test at a time whatever -j says
for bad_jobs in 0 65 x -1; do
	"$NSLAB" test -j "$bad_jobs" "$EX/basic.yaml" >/dev/null 2>"$TMP/badj.err"
	_rc=$?
	[ $_rc -eq 2 ] && grep -q -- "--jobs: '$bad_jobs'" "$TMP/badj.err" && ok "-j $bad_jobs refused (exit 2)" ||
		bad "-j $bad_jobs: exit $_rc: $(cat "$TMP/badj.err")"
done
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# reports: every report read by the tool it is for. TAP through prove (a failing test named
# "# TODO" must fail), JUnit against tests/fixtures/junit.xsd with xmllint (classname,
# timestamp, hostname, skipped, failure message, system-out; a refused suite still writes its
# -o file), JSON (schema 1, counts that add up with -k, null for packets never decided, a
# flow's reply, an IPv6 flow's real source port), text -o with the summary on the terminal,
# --coverage in every format, and --compare on a suite without rules.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env prove xmllint

EX="$SRCDIR/examples/fwtest"
XSD="$SRCDIR/tests/fixtures/junit.xsd"

# run NAME STATUS ARGS...: nslab test ARGS into NAME.out/.err, expecting exit status STATUS.
run() { run_suite "$@"; }

# check NAME: the python on stdin (argv[1] = the file to read) must succeed.
check() {
	_what=$1
	shift
	if $PY - "$@"; then ok "$_what"; else bad "$_what"; fi
}

cat >"$TMP/mixed.yaml" <<'YAML'
rules: |
  table inet filter {
    chain input {
      type filter hook input priority 0; policy accept;
      tcp dport 22 accept comment "ssh"
      tcp dport 23 drop comment "telnet"
    }
  }
tests:
  - name: 'ssh # TODO later \ maybe'
    packets: [{proto: tcp, dport: 22}]
    expect: {verdict: drop}
  - name: ssh stays open
    packets: [{proto: tcp, dport: 22}]
    expect: {verdict: accept}
  - name: lost
    packets: [{proto: udp, dst: 10.0.0.99, dport: 53}]
    expect: {verdict: drop}
YAML

# TAP: '#' and '\' escaped, so the failure is not read as a TODO.
run tap 1 "$TMP/mixed.yaml" --format tap --coverage -k ssh
if prove -e cat "$TMP/tap.out" >"$TMP/prove.out" 2>&1; then
	bad "prove passed a TAP stream with a failing test"
	sed 's/^/  | /' "$TMP/tap.out" "$TMP/prove.out" >&2
else
	grep -Eq 'Failed tests?: *1$' "$TMP/prove.out" && ok "tap: prove fails test 1 (named '# TODO')" ||
		bad "tap: prove output: $(cat "$TMP/prove.out")"
fi
grep -q '^not ok 1 - ssh \\# TODO later \\\\ maybe$' "$TMP/tap.out" && ok "tap: name escaped" ||
	bad "tap: $(head -3 "$TMP/tap.out")"
grep -q '^ok 3 - lost # SKIP not selected$' "$TMP/tap.out" && ok "tap: -k skips" || bad "tap: no skip"
grep -q '^# *1 of 2 rules hit\|coverage (suite ruleset): 1 of 2 rules hit' "$TMP/tap.out" &&
	ok "tap: --coverage" || bad "tap: no coverage"

# JUnit, valid against the schema CI tools use.
run junit 1 "$TMP/mixed.yaml" --format junit --coverage -k ssh -o "$TMP/junit.xml"
xmllint --noout --schema "$XSD" "$TMP/junit.xml" 2>"$TMP/xmllint.err" && ok "junit: valid" ||
	bad "junit: $(cat "$TMP/xmllint.err")"
grep -q '^1 passed, 1 failed, 0 inconclusive, 0 errors, 1 not selected$' "$TMP/junit.out" &&
	ok "junit -o: the summary on the terminal" || bad "junit -o: stdout $(cat "$TMP/junit.out")"
check "junit: classname, skipped, failure message, system-out, coverage" "$TMP/junit.xml" <<'PY'
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
s = d.getElementsByTagName("testsuite")[0]
assert s.getAttribute("skipped") == "1" and s.getAttribute("failures") == "1", s.attributes.items()
assert s.getAttribute("hostname") and s.getAttribute("timestamp")
c = {t.getAttribute("name"): t for t in d.getElementsByTagName("testcase")}
assert all(t.getAttribute("classname") == "mixed" for t in c.values())
f = c["ssh # TODO later \\ maybe"].getElementsByTagName("failure")[0]
assert f.getAttribute("message") == "expected verdict drop, got accept", f.getAttribute("message")
out = c["ssh # TODO later \\ maybe"].getElementsByTagName("system-out")[0].firstChild.data
assert 'trace: inet filter input: tcp dport 22 accept comment "ssh" -> accept' in out, out
assert c["lost"].getElementsByTagName("skipped")
assert "1 of 2 rules hit" in s.getElementsByTagName("system-out")[-1].firstChild.data
PY
# A refused suite (exit 2) still writes -o, with one error test case.
printf 'rules: |\n  table inet t {\n    chain c { tcp dport 22 acept; }\n  }\ntests:\n  - name: x\n    packets: [{proto: tcp, dport: 22}]\n' >"$TMP/badrules.yaml"
run refused 2 "$TMP/badrules.yaml" --format junit -o "$TMP/refused.xml"
xmllint --noout --schema "$XSD" "$TMP/refused.xml" 2>"$TMP/xmllint.err" &&
	grep -q '<error type="error" message="[^"]*badrules.yaml:3:[0-9]*: ruleset: ' "$TMP/refused.xml" &&
	ok "refused: -o holds a valid report with the error" ||
	bad "refused: $(cat "$TMP/refused.xml" "$TMP/xmllint.err")"

# JSON: schema 1, counts add up, undecided packets null, flows' replies, real IPv6 ports.
run json 1 "$TMP/mixed.yaml" --format json --coverage -k st
check "json: schema 1, counts, nulls, coverage" "$TMP/json.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == 1, r
n = sum(r[k] for k in ("passed", "failed", "inconclusive", "errors", "skipped"))
assert n == r["total"] == len(r["tests"]) == 3 and r["skipped"] == 1, r
t = {x["name"]: x for x in r["tests"]}
p = t["lost"]["packets"][0]
assert p["verdict"] is None and p["delivered"] is None and p["table"] is None, p
assert t["ssh stays open"]["packets"][0]["delivered"] is True
assert r["coverage"][0]["rules"]
PY
run json6 0 "$EX/ipv6.yaml" --format json -k flow
check "json: an IPv6 flow with its real source port and reply" "$TMP/json6.out" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["tests"] if x["status"] == "pass"][0]["packets"][0]
port = int(re.match(r"tcp \[fd00::1\]:(\d+) >", f["packet"]).group(1))
assert port != 65535, f
assert f["kind"] == "flow" and f["reply"] == "syn-ack" and f["connect"] == "ok", f
PY

# Text -o: the whole report in the file, the summary line still on the terminal.
run text 1 "$TMP/mixed.yaml" --coverage -o "$TMP/report.txt"
grep -q '^FAIL  *ssh # TODO' "$TMP/report.txt" && grep -q '^INCONCLUSIVE  *lost' "$TMP/report.txt" &&
	grep -q '1 of 2 rules hit' "$TMP/report.txt" &&
	grep -q '^1 passed, 1 failed, 1 inconclusive, 0 errors$' "$TMP/report.txt" &&
	ok "text -o: lines, coverage and summary in the file" || bad "text -o: $(cat "$TMP/report.txt")"
grep -q '^1 passed, 1 failed, 1 inconclusive, 0 errors$' "$TMP/text.out" &&
	ok "text -o: summary on the terminal" || bad "text -o: stdout $(cat "$TMP/text.out")"

# --compare: a suite without rules, --format json, exit 2 for a refused ruleset.
printf 'tests:\n  - name: web\n    packets: [{proto: tcp, dport: 80}]\n  - name: ssh\n    packets: [{proto: tcp, dport: 22}]\n' >"$TMP/norules.yaml"
run compare 1 --compare "$EX/old.nft" "$EX/new.nft" "$TMP/norules.yaml"
grep -q '^web: tcp 10\.0\.0\.1:[0-9]* > 10\.0\.0\.2:80 \[S\]: accept -> reject$' "$TMP/compare.out" &&
	ok "compare: a suite without rules" || bad "compare: $(cat "$TMP/compare.out" "$TMP/compare.err")"
run compare-json 1 --compare --format json "$EX/old.nft" "$EX/new.nft" "$TMP/norules.yaml"
check "compare: JSON" "$TMP/compare-json.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == 1 and r["count"] == 1, r
assert r["differ"][0]["test"] == "web" and (r["differ"][0]["old"], r["differ"][0]["new"]) == ("accept", "reject"), r
PY
printf 'table inet t {\n  chain c {\n    tcp dport 22 acept\n  }\n}\n' >"$TMP/bad.nft"
run compare-bad 2 --compare "$EX/old.nft" "$TMP/bad.nft" "$TMP/norules.yaml"
grep -q "^nslab: $TMP/bad.nft:3:[0-9]*: " "$TMP/compare-bad.err" && ok "compare: refused ruleset at FILE:LINE:COL" ||
	bad "compare-bad: $(cat "$TMP/compare-bad.err")"
run norules 2 "$TMP/norules.yaml"
finish

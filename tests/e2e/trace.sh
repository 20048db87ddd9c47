#!/bin/sh
# SPDX-License-Identifier: MIT
# trace: `nslab trace` shows a reject as reject, hides nslab's own tracing
# table unless -v, names each chain's family, exits 1 with the reason when the
# trace decides nothing, and takes every topology: direct, gateway and a lab
# file (FILE:NODE, or FILE alone for its first router). And nslab test counts
# a crafted SYN once and lists what a failed counter check counted.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env

cat >"$TMP/rules.nft" <<'NFT'
table inet f {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 23 reject with tcp reset
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		tcp dport 22 drop comment "no ssh"
	}
}
NFT
tr() { "$NSLAB" "$@" >"$TMP/out" 2>"$TMP/err"; }

tr trace --rules "$TMP/rules.nft" 'tcp 10.0.0.1:40000 > 10.0.0.2:23 S'
rc=$?
[ $rc -eq 0 ] || bad "trace of a rejected SYN: rc $rc, $(cat "$TMP/err")"
grep -Eq '^    rule +reject +tcp dport 23 reject with tcp reset$' "$TMP/out" &&
	ok "a reject rule's event says reject" || bad "no reject event line: $(cat "$TMP/out")"
grep -q '^  inet f input$' "$TMP/out" && ok "chain headers name the family" ||
	bad "no 'inet f input' header: $(cat "$TMP/out")"
grep -q nslab_trace "$TMP/out" && bad "nslab's own table shows without -v: $(cat "$TMP/out")"
tr -v trace --rules "$TMP/rules.nft" 'tcp 10.0.0.1:40000 > 10.0.0.2:23 S'
grep -q '^  inet nslab_trace pre (nslab)$' "$TMP/out" && ok "-v shows nslab's own table" ||
	bad "-v: no nslab_trace header: $(cat "$TMP/out")"

tr trace --rules "$TMP/rules.nft" 'udp 10.0.0.1:4000 > 10.0.0.99:53'
rc=$?
[ $rc -eq 1 ] && grep -q "inconclusive: .*never reached the end of the hooks" "$TMP/err" &&
	ok "an undecided packet: exit 1, '$(cat "$TMP/err")'" ||
	bad "an undecided packet: rc $rc, stderr '$(cat "$TMP/err")'"

tr trace --rules "$TMP/rules.nft" --topology gateway 'tcp 10.0.1.1:40000 > 10.0.2.2:22 S'
rc=$?
grep -q 'verdict: drop (f forward: tcp dport 22 drop comment "no ssh")' "$TMP/out" &&
	ok "gateway topology" || bad "gateway: rc $rc, $(cat "$TMP/out" "$TMP/err")"
cd "$SRCDIR/examples" || fail "no examples folder"
for topo in office.yaml:home office.yaml; do
	tr trace --rules "$TMP/rules.nft" --topology $topo 'tcp laptop:40000 > server-1:22 S'
	rc=$?
	[ $rc -eq 0 ] && grep -q 'verdict: drop (f forward: tcp dport 22 drop comment "no ssh")' "$TMP/out" &&
		ok "lab topology $topo: the laptop's ssh dropped in the router" ||
		bad "lab topology $topo: rc $rc, $(cat "$TMP/out" "$TMP/err")"
done
cd "$TMP" || exit 1
tr trace --rules "$TMP/rules.nft" --topology 'lab"x' 'tcp 10.0.0.1:1 > 10.0.0.2:2 S'
rc=$?
[ $rc -eq 2 ] && grep -q "a topology is direct, gateway, or a lab file as FILE\[:NODE\]" "$TMP/err" &&
	ok "a bad topology: exit 2, said what is accepted" || bad "a bad topology: rc $rc, $(cat "$TMP/err")"

# nslab test's view of the same packets: a failed counter check lists what it
# counted, and leaves out the resets the client's kernel sends (not the test's).
cat >"$TMP/cnt.yaml" <<'YAML'
topology: direct
rules: |
  table inet c {
    counter n { }
    chain input { type filter hook input priority 0; tcp dport 22 counter name n accept; }
  }
tests:
  - {name: one ssh packet, packets: [{proto: tcp, dport: 22}], expect: {reply: syn-ack, counter: {n: {packets: 1}}}}
  - {name: two counted as one, packets: [{proto: tcp, dport: 22, count: 2}], expect: {counter: {n: {packets: 1}}}}
YAML
"$NSLAB" test "$TMP/cnt.yaml" >"$TMP/cnt.out" 2>&1
grep -q "^PASS .*one ssh packet" "$TMP/cnt.out" && ok "a crafted SYN counts once, its kernel reset left out" ||
	bad "one crafted SYN: $(cat "$TMP/cnt.out")"
grep -q "expected counter n packets 1, got 2" "$TMP/cnt.out" &&
	[ "$(grep -c '^    counted: tcp 10.0.0.1:[0-9]* > 10.0.0.2:22 \[S\] (1 rule hit)$' "$TMP/cnt.out")" -eq 2 ] &&
	grep -q "and 2 resets of the sender's kernel, left out" "$TMP/cnt.out" &&
	ok "a failed counter check lists what it counted" || bad "counter listing: $(cat "$TMP/cnt.out")"
finish

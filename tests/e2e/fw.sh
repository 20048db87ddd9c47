#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-fw: firewall and router presets with real TCP and UDP flows: corporate
# lets out web and DNS only; a hotel's captive portal lets out web and DNS
# until `release`, then any TCP but no UDP beyond DNS; block-inbound (home)
# keeps unsolicited IPv6 flows out while the inside's own flows work; every
# firewall changed while the lab runs, seen in traffic, events.jsonl and
# state.json; a router's rules_file loaded beside nslab's tables; bad
# requests refused.
. "$SRCDIR/tests/e2e/lib.sh"
require_env
PROBE="$SRCDIR/tests/tools/probe.py"

L=$(new_lab_name fw)
cat >mine.nft <<'NFT'
table inet mine {
	chain forward {
		type filter hook forward priority filter - 1; policy accept;
		tcp dport 9999 counter drop
	}
}
NFT
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  home: {upstream: isp, preset: home}
  corp: {upstream: isp, preset: corporate}
  hotel: {upstream: isp, preset: hotel}
  pub: {upstream: isp, rules_file: mine.nft}
devices:
  srv: {router: isp}
  h: {router: home}
  c: {router: corp}
  g: {router: hotel}
  p: {router: pub}
YAML
lab_up lab.yaml "$L" --outdir "$TMP/out"
status_json "$L" st.json
SRV4=$(addr st.json srv 4) || fail "no IPv4 address for srv"
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
H6=$(addr st.json h 6) || fail "no IPv6 address for h"
P6=$(addr st.json p 6) || fail "no IPv6 address for p"
x() { "$NSLAB" exec "$L" "$@"; }
serve() {
	x "$1" "$PY" "$PROBE" serve 53 80 443 3478 8080 9999 >"serve-$1.out" 2>&1 &
	track_pid $!
}
serving() { grep -q serving "serve-$1.out"; }
for n in srv h p; do serve $n; done
for n in srv h p; do wait_until 10 serving $n || fail "no server in $n: $(cat serve-$n.out)"; done

# reach NODE PROTO HOST PORT: an answer within 5 s; blocked: none within 1.5 s
reach() { x "$1" "$PY" "$PROBE" try "$2" "$3" "$4" 5 >/dev/null; }
blocked() { ! x "$1" "$PY" "$PROBE" try "$2" "$3" "$4" 1.5 >/dev/null; }
# want open|closed NODE PROTO HOST PORT WHAT
want() {
	_w=$1
	shift
	if [ "$_w" = open ]; then
		reach "$1" "$2" "$3" "$4" && ok "$5: $2 $4 from $1 gets through" ||
			bad "$5: $2 $4 from $1 to $3 got no answer"
	else
		blocked "$1" "$2" "$3" "$4" && ok "$5: $2 $4 from $1 is dropped" ||
			bad "$5: $2 $4 from $1 to $3 got through"
	fi
}

# corporate: TCP 80 and 443 and UDP 53 out, nothing else
want open c tcp "$SRV4" 443 corporate
want open c tcp "$SRV4" 80 corporate
want open c udp "$SRV4" 53 corporate
want closed c tcp "$SRV4" 8080 corporate
want closed c udp "$SRV4" 3478 corporate
want closed c udp "$SRV4" 443 corporate

# hotel: web and DNS until released; then any TCP, UDP to DNS only
want open g tcp "$SRV4" 80 captive-portal
want open g tcp "$SRV4" 53 captive-portal
want closed g tcp "$SRV4" 8080 captive-portal
"$NSLAB" router "$L" hotel firewall release || fail "nslab router $L hotel firewall release failed"
want open g tcp "$SRV4" 8080 released
want open g udp "$SRV4" 53 released
want closed g udp "$SRV4" 3478 released

# home (block-inbound): the device's flows out and their answers work; flows
# from outside to its IPv6 address do not, ping6 does (RFC 4890)
want open h tcp "$SRV6" 8080 block-inbound
want open h udp "$SRV6" 3478 block-inbound
want closed srv tcp "$H6" 8080 block-inbound
want closed srv udp "$H6" 3478 block-inbound
x srv ping -6 -c 1 -W 5 "$H6" >/dev/null 2>&1 && ok "block-inbound: ping6 to h gets through" ||
	bad "block-inbound: ping6 from srv to h got no answer"

# pub: open, with its own rules_file beside nslab's tables
want open srv tcp "$P6" 8080 "no firewall"
want closed srv tcp "$P6" 9999 "rules_file"
x pub nft list table inet mine | grep -q 'tcp dport 9999 counter packets [1-9]' &&
	ok "rules_file: its rule counted the dropped flow" || bad "rules_file: its counter is 0"

# at run time: block-inbound, corporate, none
"$NSLAB" router "$L" pub firewall block-inbound || fail "nslab router $L pub firewall block-inbound failed"
want closed srv tcp "$P6" 8080 "pub as block-inbound"
want open p tcp "$SRV6" 8080 "pub as block-inbound"
"$NSLAB" router "$L" pub firewall corporate || fail "nslab router $L pub firewall corporate failed"
want open p tcp "$SRV4" 443 "pub as corporate"
want closed p tcp "$SRV4" 8080 "pub as corporate"
"$NSLAB" router "$L" pub firewall none || fail "nslab router $L pub firewall none failed"
want open srv tcp "$P6" 8080 "pub back to none"
want open p tcp "$SRV4" 8080 "pub back to none"

# one event each, and state.json follows
ev() { grep -c "\"kind\":\"firewall_changed\",\"lab\":\"$L\",\"node\":\"$1\",\"firewall\":\"$2\"" "$TMP/out/events.jsonl"; }
[ "$(ev hotel captive-portal-released)" = 1 ] && ok "one firewall_changed event for the release" ||
	bad "firewall events: $(grep firewall_ "$TMP/out/events.jsonl")"
[ "$(grep -c '"kind":"firewall_changed"' "$TMP/out/events.jsonl")" = 4 ] &&
	ok "four firewall_changed events" || bad "firewall events: $(grep firewall_ "$TMP/out/events.jsonl")"
$PY - "$TMP/out/state.json" <<'PY' && ok "state.json: presets and firewalls" || bad "state.json: $(cat "$TMP/out/state.json")"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
want = {"home": ("home", "home", "block-inbound"), "corp": ("corporate", "corporate", "corporate"),
        "hotel": ("hotel", "corporate", "captive-portal-released"), "pub": (None, "none", "none")}
got = {k: (nodes[k].get("preset"), nodes[k].get("nat"), nodes[k].get("firewall")) for k in want}
sys.exit(0 if got == want else print(got) or 1)
PY

# refused, with the offending value, and no event
refused() {
	if "$NSLAB" router "$L" "$@" >ref.out 2>&1; then
		bad "nslab router $L $* succeeded"
	elif grep -q "$REFUSE" ref.out; then
		ok "refused: $*: $(cat ref.out)"
	else
		bad "nslab router $L $*: $(cat ref.out), want '$REFUSE'"
	fi
}
REFUSE="unknown firewall mode 'open'" refused home firewall open
REFUSE="release needs a captive-portal firewall (it has block-inbound)" refused home firewall release
REFUSE="'h' is a device, not a router" refused h firewall none
[ "$(grep -c '"kind":"firewall_changed"' "$TMP/out/events.jsonl")" = 4 ] &&
	ok "no event for a refused change" || bad "refused changes left events"

# a bad rules_file: FILE:LINE:COL, nothing left behind
printf 'table inet bad {\n\tchain c { bogus }\n}\n' >bad.nft
printf 'routers:\n  r: {rules_file: bad.nft}\n' >bad.yaml
B=$(new_lab_name fwbad)
if "$NSLAB" up -d -q --name "$B" bad.yaml >bad.out 2>&1; then
	track_lab "$B"
	bad "a lab with a bad rules_file came up"
elif grep -q "^nslab: router 'r': bad.nft:2:17: " bad.out; then
	ok "bad rules_file refused: $(head -1 bad.out)"
else
	bad "bad rules_file: $(cat bad.out)"
fi
lab_listed "$B" && bad "the refused lab is listed" || ok "nothing left of the refused lab"
finish

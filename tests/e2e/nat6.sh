#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-nat6: IPv6 NAT on routers (`nat6:`), seen by real TCP and UDP peers:
# NPTv6 maps each device one to one onto the router's external /64 (the
# same interface identifier, both ways); masquerade (NAT66) shows the
# router's uplink address and lets nothing in; behind NPTv6 a block-inbound
# firewall still keeps unsolicited flows out; the inside prefixes are not
# routed from outside. At run time (`nslab router LAB R nat6 MODE`) a router
# switches between its modes, seen by the same peers.
. "$SRCDIR/tests/e2e/lib.sh"
require_env
PROBE="$SRCDIR/tests/tools/probe.py"

L=$(new_lab_name nat6)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  npt: {upstream: isp, nat6: nptv6}
  masq: {upstream: isp, nat6: masquerade}
  fwd: {upstream: isp, nat6: nptv6, firewall: block-inbound}
devices:
  srv: {router: isp}
  a: {router: npt}
  a2: {router: npt}
  b: {router: masq}
  c: {router: fwd}
YAML
lab_up lab.yaml "$L" --outdir "$TMP/out"
status_json "$L" st.json
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
MASQ6=$(addr st.json masq 6) || fail "no IPv6 address for masq"
# outer NODE ROUTER: the node's address in the router's external /64 (same interface id)
outer() {
	$PY - st.json "$1" "$2" <<'PY'
import ipaddress, json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
net = ipaddress.ip_network(nodes[sys.argv[3]]["ip6_outer"])
ip = ipaddress.ip_interface(nodes[sys.argv[2]]["ifaces"][0]["ip6"])
host = int(ip.ip) & ((1 << (128 - net.prefixlen)) - 1)
print(net.network_address + host)
PY
}
A_OUT=$(outer a npt) && A2_OUT=$(outer a2 npt) && C_OUT=$(outer c fwd) ||
	fail "no ip6_outer in nslab status --json"
A_IN=$(addr st.json a 6)
B_IN=$(addr st.json b 6)
x() { "$NSLAB" exec "$L" "$@"; }
serve() {
	x "$1" "$PY" "$PROBE" serve 8080 3478 >"serve-$1.out" 2>&1 &
	track_pid $!
}
serving() { grep -q serving "serve-$1.out"; }
for n in srv a b c; do serve $n; done
for n in srv a b c; do wait_until 10 serving $n || fail "no server in $n: $(cat serve-$n.out)"; done

# seen NODE PROTO HOST WANT WHAT: HOST's server saw NODE's flow come from WANT
seen() {
	_got=$(x "$1" "$PY" "$PROBE" try "$2" "$3" 8080 5) || {
		bad "$5: $2 from $1 to $3 got no answer"
		return
	}
	[ "$_got" = "$4" ] && ok "$5: $2 from $1 is seen from $4" ||
		bad "$5: $2 from $1 seen from $_got, want $4"
}
blocked() {
	x "$1" "$PY" "$PROBE" try "$2" "$3" 8080 1.5 >/dev/null &&
		bad "$4: $2 from $1 to $3 got through" || ok "$4: $2 from $1 to $3 is dropped"
}

seen a tcp "$SRV6" "$A_OUT" nptv6
seen a udp "$SRV6" "$A_OUT" "nptv6 (the same mapping for UDP)"
seen a2 udp "$SRV6" "$A2_OUT" "nptv6 (one to one: a2 has its own)"
seen srv tcp "$A_OUT" "$SRV6" "nptv6 inbound (srv's own address reaches a)"
blocked srv tcp "$A_IN" "nptv6: the inside prefix is not routed"
seen b tcp "$SRV6" "$MASQ6" masquerade
seen b udp "$SRV6" "$MASQ6" masquerade
blocked srv tcp "$B_IN" "masquerade: the inside prefix is not routed"
seen c tcp "$SRV6" "$C_OUT" "nptv6 + block-inbound"
blocked srv tcp "$C_OUT" "nptv6 + block-inbound"
$PY - st.json <<'PY' && ok "status --json: nat6 of every router" || bad "status --json: nat6 wrong"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
want = {"isp": "none", "npt": "nptv6", "masq": "masquerade", "fwd": "nptv6"}
sys.exit(0 if all(nodes[k].get("nat6") == v for k, v in want.items()) else 1)
PY

# at run time: npt masquerades, then maps again; masq stops translating, then
# maps with NPTv6 onto an external /64 planned and routed at that moment
NPT6=$(addr st.json npt 6) || fail "no IPv6 address for npt"
"$NSLAB" router "$L" npt nat6 masquerade || fail "nslab router $L npt nat6 masquerade failed"
seen a tcp "$SRV6" "$NPT6" "npt set to masquerade at run time"
"$NSLAB" router "$L" npt nat6 nptv6 || fail "nslab router $L npt nat6 nptv6 failed"
seen a tcp "$SRV6" "$A_OUT" "npt back to nptv6"
"$NSLAB" router "$L" masq nat6 none || fail "nslab router $L masq nat6 none failed"
blocked b tcp "$SRV6" "masq set to none (its private prefix is routed back by nobody)"
"$NSLAB" router "$L" masq nat6 masquerade || fail "back to masquerade failed"
seen b tcp "$SRV6" "$MASQ6" "masq back to masquerade"
"$NSLAB" router "$L" masq nat6 nptv6 || fail "nslab router $L masq nat6 nptv6 (built without it) failed"
status_json "$L" st.json
B_OUT=$(outer b masq) || fail "no ip6_outer for masq after nat6 nptv6"
case "$B_OUT" in "${MASQ6%::*}"*) bad "masq's external /64 $B_OUT is its uplink's" ;; esac
seen b tcp "$SRV6" "$B_OUT" "masq set to nptv6 at run time (its external /64 planned and routed now)"
seen srv tcp "$B_OUT" "$SRV6" "nptv6 inbound to b through masq's new external /64"
blocked srv tcp "$B_IN" "masq's inside prefix stays unrouted"
# to nat64 and back at run time (its translator's traffic: e2e-nat64)
"$NSLAB" router "$L" npt nat6 nat64 >ref.out 2>&1 && "$NSLAB" router "$L" npt nat6 nptv6 >>ref.out 2>&1 &&
	ok "npt switched to nat64 and back to nptv6 at run time" || bad "nat64 and back: $(cat ref.out)"
[ "$(grep -c '"kind":"nat6_changed"' "$TMP/out/events.jsonl")" = 7 ] && ok "seven nat6_changed events" ||
	bad "nat6_changed events: $(grep nat6_changed "$TMP/out/events.jsonl")"
status_json "$L" st2.json
$PY - st2.json <<'PY' && ok "status --json: masq's nat6 is nptv6 now" || bad "status: nat6 not followed"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes["masq"].get("nat6") == "nptv6" and nodes["npt"].get("nat6") == "nptv6" else 1)
PY
finish

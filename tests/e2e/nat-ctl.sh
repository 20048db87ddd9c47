#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-nat-ctl: a router's NAT changed and flushed while the lab runs
# (`nslab router LAB R nat MODE | flush-nat`), each seen with real traffic, as
# one event in events.jsonl and in state.json; bad requests refused.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ip
PUNCH="$SRCDIR/tests/tools/punch.py"

L=$(new_lab_name natctl)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  home: {upstream: isp, nat: home}
  fc: {upstream: isp, nat: full-cone}
devices:
  srv: {router: isp}
  home-d: {router: home}
  fc-d: {router: fc}
YAML
lab_up lab.yaml "$L" --outdir "$TMP/out"
status_json "$L" st.json
SRV=$(addr st.json srv 4) || fail "no IPv4 address for srv"
x() { "$NSLAB" exec "$L" "$@"; }
x srv sh -c "python3 $PUNCH echo $SRV 7001 >/dev/null 2>&1 &" || fail "start the echo server"

# listen NODE LPORT NAME: a listener in the background, its lines in NAME.out
listen() {
	x "$1" python3 "$PUNCH" listen "$SRV" 7001 "$2" "$TMP/$3.trigger" >"$3.out" 2>&1 &
	track_pid $!
}
has() { grep -qx "$2" "$1.out"; }
mapped() { grep -q "^$2" "$1.out"; }
send() { x srv python3 "$PUNCH" send "$1" "$2" 7100 "$3"; }
# a datagram from srv to the mapping, and an "end" marker after it: when
# "end" arrived, an earlier datagram that did not was dropped
send_then() {
	send "$1" "$2" "$3"
	send "$1" "$2" "mark-$3"
	wait_until 5 has "$4" "got mark-$3"
}

FC_EXT=$(addr st.json fc 4)
HOME_EXT=$(addr st.json home 4)

# flush-nat: the full cone lets srv's other port in, until the mapping is flushed
listen fc-d 6600 fc
wait_until 10 mapped fc "mapped $FC_EXT:6600" || fail "fc-d made no mapping: $(cat fc.out)"
send_then "$FC_EXT" 6600 one fc || bad "the mark after 'one' did not arrive: $(cat fc.out)"
has fc "got one" && ok "full-cone: srv's other port reaches fc-d at $FC_EXT:6600" ||
	bad "full-cone: 'one' did not reach fc-d"
"$NSLAB" router "$L" fc flush-nat || fail "nslab router $L fc flush-nat failed"
send "$FC_EXT" 6600 two
touch "$TMP/fc.trigger.1"
wait_until 10 mapped fc "again 1 $FC_EXT:6600" || bad "fc-d made no new mapping: $(cat fc.out)"
send_then "$FC_EXT" 6600 three fc || bad "the mark after 'three' did not arrive: $(cat fc.out)"
if has fc "got two"; then
	bad "flush-nat: 'two' still reached fc-d through the flushed mapping"
else
	ok "flush-nat: 'two' to the flushed mapping was dropped"
fi
has fc "got three" && ok "flush-nat: a new mapping ($FC_EXT:6600) works again" ||
	bad "flush-nat: 'three' did not arrive through the new mapping"

# nat MODE: the home NAT (APDF) keeps srv's other port out; as a full cone, lets it in
listen home-d 6700 home
wait_until 10 mapped home "mapped $HOME_EXT:6700" || fail "home-d made no mapping: $(cat home.out)"
send "$HOME_EXT" 6700 x1
# the echo's answer to a new request comes after x1, through the same NAT
touch "$TMP/home.trigger.1"
wait_until 10 mapped home "again 1 $HOME_EXT:6700" || bad "home-d's mapping changed: $(cat home.out)"
has home "got x1" && bad "home (APDF) let srv's other port in" ||
	ok "home (APDF): srv's other port is dropped"
"$NSLAB" router "$L" home nat full-cone || fail "nslab router $L home nat full-cone failed"
touch "$TMP/home.trigger.2"
wait_until 10 mapped home "again 2 $HOME_EXT:6700" || bad "home-d's mapping changed: $(cat home.out)"
send "$HOME_EXT" 6700 x2
wait_until 5 has home "got x2" && ok "home as full-cone: srv's other port gets in, same mapping" ||
	bad "home as full-cone: 'x2' did not arrive: $(cat home.out)"
send "$FC_EXT" 6600 end
send "$HOME_EXT" 6700 end

# one event each, and state.json follows
ev() { grep -c "\"kind\":\"$1\",\"lab\":\"$L\",\"node\":\"$2\",\"nat\":\"$3\"" "$TMP/out/events.jsonl"; }
[ "$(ev nat_flushed fc full-cone)" = 1 ] && ok "one nat_flushed event" ||
	bad "nat_flushed events: $(grep nat_ "$TMP/out/events.jsonl")"
[ "$(ev nat_changed home full-cone)" = 1 ] && ok "one nat_changed event" ||
	bad "nat_changed events: $(grep nat_ "$TMP/out/events.jsonl")"
status_json "$L" st2.json
$PY - st2.json <<'PY' && ok "status --json: home's nat is full-cone" || bad "status --json does not say home is full-cone"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes["home"].get("nat") == "full-cone" and nodes["isp"].get("nat") == "none" else 1)
PY
$PY - "$TMP/out/state.json" <<'PY' && ok "state.json: home's nat is full-cone" || bad "state.json was not updated"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes["home"].get("nat") == "full-cone" else 1)
PY

# refused, with the offending value
refused() {
	if "$NSLAB" router "$L" "$@" >ref.out 2>&1; then
		bad "nslab router $L $* succeeded"
	elif grep -q "$REFUSE" ref.out; then
		ok "refused: $*: $(cat ref.out)"
	else
		bad "nslab router $L $*: $(cat ref.out), want '$REFUSE'"
	fi
}
REFUSE="unknown NAT mode 'bogus'" refused home nat bogus
REFUSE="'home-d' is a device, not a router" refused home-d nat home
REFUSE="no node 'nosuch'" refused nosuch flush-nat
REFUSE="router 'isp' has no NAT to flush" refused isp flush-nat
REFUSE="unknown router change 'nat64'" refused home nat64 on
[ "$(grep -c '"kind":"nat_' "$TMP/out/events.jsonl")" = 2 ] && ok "no event for a refused change" ||
	bad "refused changes left events: $(grep nat_ "$TMP/out/events.jsonl")"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-device-ctl: a device's default interface changed while the lab runs
# (`nslab device LAB D default-via IFACE`): the address a server (on no subnet
# of the device's) sees
# moves from the home NAT's to the device's own, IPv6 follows, status,
# NSLAB_IP_<DEVICE>, one event and state.json follow; bad requests refused.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ip
PUNCH="$SRCDIR/tests/tools/punch.py"
PROBE="$SRCDIR/tests/tools/probe.py"

L=$(new_lab_name devctl)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  home: {upstream: isp, nat: home}
  dc: {upstream: isp}
devices:
  srv: {router: dc}
  m:
    ifaces: {wlan0: {router: home}, eth1: {router: isp}}
    default_via: wlan0
YAML
lab_up lab.yaml "$L" --outdir "$TMP/out"
status_json "$L" st.json
SRV=$(addr st.json srv 4) || fail "no IPv4 address for srv"
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
HOME_EXT=$(addr st.json home 4)
M_ETH1=$(addr st.json m 4 eth1)
M_ETH1_6=$(addr st.json m 6 eth1)
M_WLAN6=$(addr st.json m 6 wlan0)
x() { "$NSLAB" exec "$L" "$@"; }
x srv sh -c "python3 $PUNCH echo $SRV 7001 >/dev/null 2>&1 &" || fail "start the echo server"
x srv "$PY" "$PROBE" serve 8080 >serve.out 2>&1 &
track_pid $!
wait_until 10 grep -q serving serve.out || fail "no probe server in srv: $(cat serve.out)"
seen() { x m "$PY" "$PUNCH" whoami "$SRV" 7001 "$1" | cut -d: -f1; }
seen6() { x m "$PY" "$PROBE" try tcp "$SRV6" 8080 5; }

[ "$(seen 6001)" = "$HOME_EXT" ] && ok "through wlan0, srv sees the home NAT's $HOME_EXT" ||
	bad "through wlan0, srv sees $(seen 6001), want $HOME_EXT"
[ "$(seen6)" = "$M_WLAN6" ] && ok "through wlan0, IPv6 from $M_WLAN6" || bad "IPv6 seen from $(seen6)"
"$NSLAB" device "$L" m default-via eth1 || fail "nslab device $L m default-via eth1 failed"
[ "$(seen 6002)" = "$M_ETH1" ] && ok "through eth1, srv sees m's own $M_ETH1" ||
	bad "through eth1, srv sees $(seen 6002), want $M_ETH1"
[ "$(seen6)" = "$M_ETH1_6" ] && ok "through eth1, IPv6 from $M_ETH1_6" || bad "IPv6 seen from $(seen6)"
status_json "$L" st2.json
$PY - st2.json <<'PY' && ok "status: m's primary is eth1" || bad "status: m's primary is not eth1"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes["m"].get("primary") == "eth1" else 1)
PY
[ "$(x m sh -c 'echo $NSLAB_IP_M')" = "$M_ETH1" ] && ok "NSLAB_IP_M is eth1's address" ||
	bad "NSLAB_IP_M: $(x m sh -c 'echo $NSLAB_IP_M'), want $M_ETH1"
"$NSLAB" device "$L" m default-via wlan0 || fail "back to wlan0 failed"
[ "$(seen 6003)" = "$HOME_EXT" ] && ok "back through wlan0: $HOME_EXT again" ||
	bad "back through wlan0, srv sees $(seen 6003)"
[ "$(grep -c "\"kind\":\"default_via_changed\",\"lab\":\"$L\",\"node\":\"m\"" "$TMP/out/events.jsonl")" = 2 ] &&
	ok "two default_via_changed events" || bad "events: $(grep default_via "$TMP/out/events.jsonl")"
$PY - "$TMP/out/state.json" <<'PY' && ok "state.json: m's primary is wlan0" || bad "state.json was not updated"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes["m"].get("primary") == "wlan0" else 1)
PY

refused() {
	if "$NSLAB" device "$L" "$@" >ref.out 2>&1; then
		bad "nslab device $L $* succeeded"
	elif grep -q "$REFUSE" ref.out; then
		ok "refused: $*: $(cat ref.out)"
	else
		bad "nslab device $L $*: $(cat ref.out), want '$REFUSE'"
	fi
}
REFUSE="device 'm' has no interface 'eth9'" refused m default-via eth9
REFUSE="'home' is a router, not a device" refused home default-via wan
REFUSE="no node 'nosuch'" refused nosuch default-via eth0
REFUSE="unknown device change 'replug'" refused m replug eth1 isp
[ "$(grep -c '"kind":"default_via_changed"' "$TMP/out/events.jsonl")" = 2 ] &&
	ok "no event for a refused change" || bad "refused changes left events"
finish

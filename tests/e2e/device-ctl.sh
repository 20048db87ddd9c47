#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-device-ctl: a device's default interface changed, and an interface
# replugged into another router (`nslab device LAB D replug IFACE ROUTER`:
# the server sees the new router's NAT) or readdressed (`renew-ip IFACE`: the
# server sees the new address), or added and removed (add-iface, remove-iface:
# the server sees the new interface's NAT, then the fallback's); status, event
# and state.json follow,
# while the lab runs
# (`nslab device LAB D default-via IFACE`): the address a server (on no subnet
# of the device's) sees
# moves from the home NAT's to the device's own, IPv6 follows, status,
# NSLAB_IP_<DEVICE>, one event and state.json follow; bad requests refused; a
# replug that fails part-way leaves the device's interfaces, addresses and
# routes as they were.
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
  cafe: {upstream: isp, nat: full-cone}
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
# replug wlan0 (the default) from the home NAT into the cafe's
CAFE_EXT=$(addr st.json cafe 4)
"$NSLAB" device "$L" m replug wlan0 cafe || fail "nslab device $L m replug wlan0 cafe failed"
[ "$(seen 6004)" = "$CAFE_EXT" ] && ok "replugged into cafe: srv sees the cafe's $CAFE_EXT" ||
	bad "after the replug, srv sees $(seen 6004), want $CAFE_EXT"
status_json "$L" st3.json
W4=$(addr st3.json m 4 wlan0)
CAFE_NET=$($PY -c 'import json,sys; print([n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"]=="cafe"][0]["bridge"]["ip4"])' st3.json)
[ "${W4%.*}" = "${CAFE_NET%.*}" ] && ok "wlan0 now has $W4, in the cafe's $CAFE_NET" ||
	bad "wlan0's address $W4 is not in the cafe's $CAFE_NET"
x m ip -6 route show default | grep -q "dev wlan0" && ok "IPv6 default route back on wlan0" ||
	bad "IPv6 default route: $(x m ip -6 route show default)"
grep -q "\"kind\":\"device_replugged\",\"lab\":\"$L\",\"node\":\"m\",\"iface\":\"wlan0\",\"router\":\"cafe\",\"ip4\":\"$W4/24\"" "$TMP/out/events.jsonl" &&
	ok "one device_replugged event with the new address" ||
	bad "device_replugged: $(grep replug "$TMP/out/events.jsonl")"
$PY - "$TMP/out/state.json" <<'PY' && ok "state.json: wlan0 on cafe" || bad "state.json: wlan0 is not on cafe"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
w = [i for i in nodes["m"]["ifaces"] if i["name"] == "wlan0"][0]
sys.exit(0 if w.get("peer") == "cafe" else print(w) or 1)
PY
"$NSLAB" device "$L" m replug wlan0 home || fail "replug back into home failed"
[ "$(seen 6005)" = "$HOME_EXT" ] && ok "back into home: $HOME_EXT again" ||
	bad "back into home, srv sees $(seen 6005)"

# renew-ip: eth1 (m's default again) gets the next free address of the ISP's subnet
"$NSLAB" device "$L" m default-via eth1 || fail "default-via eth1 failed"
"$NSLAB" device "$L" m renew-ip eth1 || fail "nslab device $L m renew-ip eth1 failed"
status_json "$L" st4.json
R4=$(addr st4.json m 4 eth1)
R6=$(addr st4.json m 6 eth1)
[ -n "$R4" ] && [ "$R4" != "$M_ETH1" ] && [ "${R4%.*}" = "${M_ETH1%.*}" ] &&
	ok "renew-ip: eth1 now has $R4 (was $M_ETH1), same subnet" || bad "renew-ip: eth1 has '$R4', was $M_ETH1"
[ "$(seen 6006)" = "$R4" ] && ok "after renew-ip, srv sees m from $R4" ||
	bad "after renew-ip, srv sees $(seen 6006), want $R4"
[ "$(seen6)" = "$R6" ] && [ "$R6" != "$M_ETH1_6" ] && ok "after renew-ip, IPv6 from $R6" ||
	bad "after renew-ip, IPv6 seen from $(seen6), want $R6 (was $M_ETH1_6)"
x m ip -4 addr show eth1 | grep -q "inet $M_ETH1/" && bad "the old $M_ETH1 is still on eth1" ||
	ok "the old address is gone"
grep -q "\"kind\":\"ip_renewed\",\"lab\":\"$L\",\"node\":\"m\",\"iface\":\"eth1\",\"ip4\":\"$R4/24\"" "$TMP/out/events.jsonl" &&
	ok "one ip_renewed event" || bad "ip_renewed: $(grep renew "$TMP/out/events.jsonl")"
[ "$(x m sh -c 'echo $NSLAB_IP_M_ETH1')" = "$R4" ] && ok "NSLAB_IP_M_ETH1 follows" ||
	bad "NSLAB_IP_M_ETH1: $(x m sh -c 'echo $NSLAB_IP_M_ETH1')"
"$NSLAB" device "$L" m default-via wlan0 || fail "back to wlan0 failed"

# add-iface / remove-iface: lte0 on the cafe's full cone, the default through it, then gone
"$NSLAB" device "$L" m add-iface lte0 cafe || fail "nslab device $L m add-iface lte0 cafe failed"
status_json "$L" st5.json
L4=$(addr st5.json m 4 lte0) || bad "status: no lte0 on m"
[ "${L4%.*}" = "${CAFE_NET%.*}" ] && ok "add-iface: lte0 has $L4 in the cafe's $CAFE_NET" ||
	bad "lte0's address '$L4' is not in the cafe's $CAFE_NET"
x m ip -4 addr show lte0 | grep -q "inet $L4/" && ok "lte0 is up in m with $L4" ||
	bad "lte0 in m: $(x m ip -4 addr show lte0)"
"$NSLAB" device "$L" m default-via lte0 || fail "default-via lte0 failed"
[ "$(seen 6007)" = "$CAFE_EXT" ] && ok "through lte0, srv sees the cafe's $CAFE_EXT" ||
	bad "through lte0, srv sees $(seen 6007), want $CAFE_EXT"
grep -q "\"kind\":\"iface_added\",\"lab\":\"$L\",\"node\":\"m\",\"iface\":\"lte0\",\"router\":\"cafe\",\"ip4\":\"$L4/24\"" "$TMP/out/events.jsonl" &&
	ok "one iface_added event" || bad "iface_added: $(grep iface_added "$TMP/out/events.jsonl")"
"$NSLAB" device "$L" m remove-iface lte0 || fail "nslab device $L m remove-iface lte0 failed"
[ "$(seen 6008)" = "$HOME_EXT" ] && ok "lte0 removed: the default falls back to wlan0 ($HOME_EXT)" ||
	bad "after remove-iface, srv sees $(seen 6008), want $HOME_EXT"
x m ip link show lte0 >/dev/null 2>&1 && bad "lte0 is still in m" || ok "lte0 is gone from m"
status_json "$L" st6.json
addr st6.json m 4 lte0 >/dev/null && bad "status still lists lte0" || ok "status: no lte0"
grep -q "\"kind\":\"iface_removed\",\"lab\":\"$L\",\"node\":\"m\",\"iface\":\"lte0\"" "$TMP/out/events.jsonl" &&
	ok "one iface_removed event" || bad "iface_removed: $(grep iface_removed "$TMP/out/events.jsonl")"
"$NSLAB" device "$L" m add-iface lte0 dc && x m ip link show lte0 >/dev/null &&
	ok "lte0 added again (on dc)" || bad "adding lte0 again failed"

"$NSLAB" link "$L" m lte0 set delay 5ms >/dev/null || fail "nslab link $L m lte0 set delay 5ms failed"
REFUSE="'lte0' of 'm' has a link condition: clear it first" refused m remove-iface lte0
"$NSLAB" link "$L" m lte0 clear >/dev/null || fail "nslab link $L m lte0 clear failed"
"$NSLAB" device "$L" m remove-iface lte0 && ok "cleared, lte0 is removed" ||
	bad "remove-iface lte0 after its condition was cleared failed"
# a replug that fails part-way (cafe has a link of the name eth1's peer would
# take, so the new veth is refused after the old one went): no half-made veth,
# m's interfaces, addresses (its own link-locals too) and routes as before
links_of() { x "$1" ip -o link show | awk '{ sub(/[@:].*/, "", $2); print $2 }' | sort; }
m_addrs() { x m ip -o addr show | awk '{ print $2, $3, $4 }' | sort; }
m_routes() { { x m ip route show; x m ip -6 route show | grep -v '^multicast'; } | sort; }
x cafe ip link add m.eth1 type bridge || fail "make a link m.eth1 on cafe"
links_of m >m-links.before
m_addrs >m-addrs.before
m_routes >m-routes.before
links_of cafe >cafe-links.before
REFUSE="replug eth1 into 'cafe': .*File exists" refused m replug eth1 cafe
links_of m >m-links.after
cmp -s m-links.before m-links.after && ok "m's interfaces are as before the failed replug" ||
	bad "m's interfaces: $(tr '\n' ' ' <m-links.after), were $(tr '\n' ' ' <m-links.before)"
m_addrs >m-addrs.after
cmp -s m-addrs.before m-addrs.after && ok "m's addresses are as before the failed replug" ||
	bad "m's addresses: $(tr '\n' ' ' <m-addrs.after), were $(tr '\n' ' ' <m-addrs.before)"
m_routes >m-routes.after
cmp -s m-routes.before m-routes.after && ok "m's routes are as before the failed replug" ||
	bad "m's routes: $(tr '\n' ';' <m-routes.after) were $(tr '\n' ';' <m-routes.before)"
links_of cafe >cafe-links.after
cmp -s cafe-links.before cafe-links.after && ok "cafe's links are as before: no half-made veth" ||
	bad "cafe's links: $(tr '\n' ' ' <cafe-links.after)"
status_json "$L" st-fail.json
x isp ping -c 1 -W 2 "$(addr st-fail.json m 4 eth1)" >/dev/null && ok "isp still reaches m's eth1" ||
	bad "isp cannot ping m's eth1 after the failed replug"
x cafe ip link del m.eth1 || fail "delete cafe's m.eth1"
REFUSE="device 'm' already has an interface 'wlan0'" refused m add-iface wlan0 cafe
# an interface of the user's own (not in the plan) by the name add-iface asks
# for: refused, and the user's interface is left as it was (the undo deletes
# only what it made, by its index, never by name)
x m ip link add wg0 type bridge || fail "make a bridge wg0 in m"
links_of cafe >cafe-links.before2
REFUSE="add wg0 on 'cafe': .*File exists" refused m add-iface wg0 cafe
x m ip link show wg0 >/dev/null 2>&1 && ok "a refused add-iface leaves m's own wg0 alone" ||
	bad "the refused add-iface deleted m's own wg0"
links_of cafe >cafe-links.after2
cmp -s cafe-links.before2 cafe-links.after2 && ok "cafe's links are as before the refused add-iface" ||
	bad "cafe's links after the refused add-iface: $(tr '\n' ' ' <cafe-links.after2)"
x m ip link del wg0 || fail "delete m's wg0"
REFUSE="no router 'nosuch'" refused m add-iface wwan0 nosuch
REFUSE="bad interface name 'a b'" refused m add-iface "a b" cafe
REFUSE="device 'm' has no interface 'eth9'" refused m remove-iface eth9
REFUSE="device 'm' has no interface 'eth9'" refused m renew-ip eth9
REFUSE="device 'm' has no interface 'eth9'" refused m default-via eth9
REFUSE="no router 'nosuch'" refused m replug wlan0 nosuch
REFUSE="'wlan0' of 'm' is already plugged into 'home'" refused m replug wlan0 home
REFUSE="'home' is a router, not a device" refused home default-via wan
REFUSE="no node 'nosuch'" refused nosuch default-via eth0
REFUSE="unknown device change 'unplug'" refused m unplug eth1
[ "$(grep -c '"kind":"default_via_changed"' "$TMP/out/events.jsonl")" = 5 ] &&
	ok "no event for a refused change" || bad "refused changes left events"
finish

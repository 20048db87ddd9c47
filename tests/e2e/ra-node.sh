#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-ra-node: nodes added and removed, and default-via changed, at run time
# under `ipv6: {provisioning: ra}`. default-via moves the RA-learnt default
# route: a server sees the new interface's SLAAC address. A router added
# sends RAs on its bridge and answers solicitations; a device added behind it
# configures by SLAAC (the address nslab reports, made by the device's
# kernel) with its default route from that RA, and reaches the server over
# IPv6; so does a device added to a router built with the lab. Removing them
# leaves the other routers answering solicitations; a SIGKILL of the
# supervisor after adds leaves nothing behind.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ip ping "$PY"

L=$(new_lab_name ran)
leftovers_snapshot start
lab_up "$SRCDIR/examples/ra-two-routers.yaml" "$L" --outdir "$TMP/out"
EV="$TMP/out/events.jsonl"
events() { grep -c "\"kind\":\"$1\",\"lab\":\"$L\",\"node\":\"$2\"" "$EV"; }
primary_in_state() {
	$PY - "$TMP/out/state.json" "$1" "$2" <<'PY'
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes[sys.argv[2]].get("primary") == sys.argv[3] else 1)
PY
}
in_state() { grep -q "\"$1\"" "$TMP/out/state.json"; }
x() { "$NSLAB" exec "$L" "$@"; }
st() { status_json "$L" st.json; }
st
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
slaac_on() { x "$1" ip -6 addr show dev "$2" | grep "inet6 $3/64 " | grep -q dynamic; }
ra_default_on() { x "$1" ip -6 route show default | grep -q "dev $2 proto ra"; }

### default-via under RA: the default route, and the traffic, move to wlan0
E6=$(addr st.json d 6 eth0) || fail "no IPv6 address for d's eth0"
W6=$(addr st.json d 6 wlan0) || fail "no IPv6 address for d's wlan0"
wait_until 5 slaac_on d eth0 "$E6" && wait_until 5 slaac_on d wlan0 "$W6" ||
	fail "d has no SLAAC addresses: $(x d ip -6 addr)"
wait_until 5 ra_default_on d eth0 || fail "d's default route: $(x d ip -6 route show default)"
# a UDP echo on srv that answers with the address it saw the datagram from
x srv "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 7000))
print("ready", flush=True)
while True:
    b, a = s.recvfrom(100)
    s.sendto(a[0].encode(), a)
' >echo.out 2>&1 &
track_pid $!
wait_until 5 grep -q ready echo.out || fail "the echo server on srv did not start: $(cat echo.out)"
seen_from() {
	x d "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"x", (sys.argv[1], 7000))
print(s.recvfrom(100)[0].decode())
' "$SRV6"
}
[ "$(seen_from)" = "$E6" ] && ok "before: srv sees d's datagrams from eth0's $E6" ||
	bad "before: srv saw '$(seen_from)', want eth0's $E6"
"$NSLAB" device "$L" d default-via wlan0 || fail "nslab device $L d default-via wlan0 failed"
[ "$(x d ip -6 route show default | grep -c 'proto ra')" = 1 ] && ra_default_on d wlan0 &&
	ok "at once: one IPv6 default route, learnt from cafe's RA on wlan0" ||
	bad "d's IPv6 default routes: $(x d ip -6 route show default)"
[ "$(seen_from)" = "$W6" ] && ok "after: srv sees d's datagrams from wlan0's $W6" ||
	bad "after: srv saw '$(seen_from)', want wlan0's $W6"
primary_in_state d wlan0 && ok "state.json: d's primary is wlan0" ||
	bad "state.json: d's primary is not wlan0"
[ "$(events default_via_changed d)" = 1 ] && ok "one default_via_changed event" ||
	bad "events: $(grep default_via "$EV")"
if "$NSLAB" device "$L" d default-via nope >ref.out 2>&1; then bad "default-via nope succeeded"; else
	grep -q "no interface 'nope'" ref.out && ra_default_on d wlan0 &&
		ok "refused: default-via nope: $(cat ref.out); the route stays on wlan0" ||
		bad "default-via nope: $(cat ref.out); routes $(x d ip -6 route show default)"
fi
"$NSLAB" device "$L" d default-via eth0 || fail "default-via eth0 back failed"
[ "$(seen_from)" = "$E6" ] && ra_default_on d eth0 && ok "and back: srv sees $E6 again" ||
	bad "back: srv saw '$(seen_from)', routes $(x d ip -6 route show default)"

### a router and a device behind it, added
"$NSLAB" add "$L" router hotel upstream isp || fail "nslab add $L router hotel failed"
"$NSLAB" add "$L" device g router hotel || fail "nslab add $L device g failed"
st
G6=$(addr st.json g 6) || fail "no IPv6 address for g in status"
wait_until 5 slaac_on g eth0 "$G6" && ok "g made $G6 by SLAAC from hotel's RA" ||
	bad "no SLAAC address $G6 on g: $(x g ip -6 addr show dev eth0)"
wait_until 5 ra_default_on g eth0 && ok "g's default route comes from hotel's RA" ||
	bad "g's IPv6 default routes: $(x g ip -6 route show default)"
x g ping -6 -c 1 -W 5 "$SRV6" >/dev/null && ok "g reaches srv over IPv6 through hotel" ||
	bad "g cannot ping6 srv"
x srv ping -6 -c 1 -W 5 "$G6" >/dev/null && ok "srv reaches g at $G6" || bad "srv cannot ping6 $G6"
# the supervisor answers solicitations on the new router's bridge: a link
# flap makes g solicit again, and the answer gives the address back at once
flap() {
	x "$1" ip link set eth0 down || fail "$1: link down"
	slaac_on "$1" eth0 "$2" && bad "$1 kept $2 with its link down"
	x "$1" ip link set eth0 up || fail "$1: link up"
}
flap g "$G6"
wait_until 5 slaac_on g eth0 "$G6" && wait_until 5 ra_default_on g eth0 &&
	ok "after a flap g solicits and hotel answers: $G6 and the default route again" ||
	bad "after a flap: $(x g ip -6 addr show dev eth0) / $(x g ip -6 route show default)"
# a device added to a router that was built with the lab
"$NSLAB" add "$L" device h router home || fail "nslab add $L device h failed"
st
H6=$(addr st.json h 6) || fail "no IPv6 address for h in status"
wait_until 5 slaac_on h eth0 "$H6" && x h ping -6 -c 1 -W 5 "$SRV6" >/dev/null &&
	ok "h (added behind home) made $H6 by SLAAC and reaches srv" ||
	bad "h: $(x h ip -6 addr show dev eth0) / $(x h ip -6 route)"
[ "$(events router_added hotel)" = 1 ] && [ "$(events device_added g)" = 1 ] &&
	in_state hotel && in_state g && ok "one router_added and one device_added event; state.json has them" ||
	bad "events: $(grep -e hotel -e '"g"' "$EV")"

### removed: the lab's other routers keep answering solicitations
"$NSLAB" remove --force "$L" hotel || fail "nslab remove $L --force hotel failed"
[ "$(events node_removed hotel)" = 1 ] && ! in_state hotel && ! in_state g &&
	ok "one node_removed event; state.json without hotel and g" ||
	bad "events: $(grep node_removed "$EV")"
"$NSLAB" remove "$L" h || fail "nslab remove $L h failed"
flap d "$E6"
wait_until 5 slaac_on d eth0 "$E6" && wait_until 5 ra_default_on d eth0 &&
	x d ping -6 -c 1 -W 5 "$SRV6" >/dev/null &&
	ok "after the removals home still answers d's solicitation, and d reaches srv" ||
	bad "after the removals: $(x d ip -6 addr show dev eth0) / $(x d ip -6 route show default)"
# SIGKILL of the supervisor, a router and a device added again first: nothing left
"$NSLAB" add "$L" router inn upstream isp || fail "nslab add $L router inn failed"
"$NSLAB" add "$L" device k router inn || fail "nslab add $L device k failed"
sup=$("$NSLAB" ls | awk -v l="$L" '$1 == l { print $5 }')
[ -n "$sup" ] || fail "no supervisor pid for $L in nslab ls"
kill -9 "$sup"
wait_until 10 not lab_listed "$L" && ok "$L: gone from 'nslab ls' after SIGKILL" ||
	bad "$L still listed after SIGKILL of $sup"
leftovers_check start "$L"
finish

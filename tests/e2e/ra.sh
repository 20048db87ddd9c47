#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-ra: `ipv6: {provisioning: ra}`: routers send real Router Advertisements
# (seen on the wire by a raw socket in a device: hop limit 255, the router's
# /64 as an on-link autonomous prefix) and devices configure by SLAAC: the
# address nslab reports is the one the device's kernel made, the default
# route is the RA's (only on the default_via interface), traffic flows; after
# a link flap the device solicits and the supervisor answers with a new RA.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ip ping
ND="$SRCDIR/tests/tools/ndwatch.py"

L=$(new_lab_name ra)
cat >lab.yaml <<'YAML'
ipv6: {provisioning: ra}
routers:
  isp: {}
  home: {upstream: isp, nat: home}
devices:
  srv: {router: isp}
  d: {router: home}
  m:
    ifaces: {eth0: {router: home}, eth1: {router: isp}}
    default_via: eth1
YAML
lab_up lab.yaml "$L"
status_json "$L" st.json
D6=$(addr st.json d 6) || fail "no IPv6 address for d"
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
NET=$($PY -c 'import json,sys; print([n for n in json.load(open(sys.argv[1]))["nodes"] if n["name"]=="home"][0]["bridge"]["ip6"])' st.json)
x() { "$NSLAB" exec "$L" "$@"; }

# the address the kernel made from the RA (dynamic: SLAAC), as reported
has_slaac() { x d ip -6 addr show dev eth0 | grep "inet6 $D6/64 " | grep -q dynamic; }
wait_until 5 has_slaac && ok "d made $D6 by SLAAC, as nslab status says" ||
	bad "d has no SLAAC address $D6: $(x d ip -6 addr show dev eth0)"
x d ip -6 route show default | grep -q "via fe80::.* dev eth0 proto ra" &&
	ok "d's default route comes from the RA" || bad "d's default route: $(x d ip -6 route)"
m_default() { x m ip -6 route show default | grep -q "dev eth1 proto ra"; }
wait_until 5 m_default && [ "$(x m ip -6 route show default | grep -c 'proto ra')" = 1 ] &&
	ok "m: one default route, through its default_via eth1" ||
	bad "m's default routes: $(x m ip -6 route show default)"
x d ping -6 -c 1 -W 5 "$SRV6" >/dev/null && ok "d reaches srv over IPv6" ||
	bad "d cannot ping6 srv"
x srv ping -6 -c 1 -W 5 "$D6" >/dev/null && ok "srv reaches d's SLAAC address" ||
	bad "srv cannot ping6 $D6"

# a link flap: the address goes with the link; the device solicits, the
# router answers with an RA on the wire, and SLAAC makes the address again
x d "$PY" "$ND" 15 >nd.out 2>&1 &
track_pid $!
ND_PID=$!
wait_until 10 grep -q ready nd.out || fail "ndwatch did not start: $(cat nd.out)"
x d ip link set eth0 down || fail "link down"
not has_slaac && ok "the SLAAC address went with the link" || bad "the address stayed while down"
x d ip link set eth0 up || fail "link up"
# the answer to d's solicitation comes to d's link-local address (the initial RAs go to ff02::1)
LL=$(x d ip -6 addr show dev eth0 scope link | awk '/inet6/ { sub("/.*", "", $2); print $2 }')
got_ra() { grep -q "^ra from fe80::[0-9a-f:]* to $LL " nd.out; }
wait_until 10 got_ra && ok "d's solicitation was answered: $(grep " to $LL " nd.out | head -1)" ||
	bad "no RA to d ($LL) after the link came up: $(cat nd.out)"
grep -q "^ra from fe80::[0-9a-f:]* to [0-9a-f:]* hoplimit 255 lifetime 9000 prefix ${NET%1/64}/64 flags c0$" nd.out &&
	ok "the RA: hop limit 255, router lifetime 9000, ${NET%1/64}/64 on-link and autonomous" ||
	bad "RA fields: $(cat nd.out), want prefix ${NET%1/64}/64"
wait_until 10 has_slaac && ok "SLAAC made $D6 again" ||
	bad "no address after the link came up: $(x d ip -6 addr show dev eth0)"
kill "$ND_PID" 2>/dev/null
finish

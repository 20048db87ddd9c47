#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-ra-device: device changes at run time under `ipv6: {provisioning: ra}`.
# A replug gets the new router's /64 by SLAAC (the kernel's address, the one
# nslab reports) and loses the old one, with the default route from the new
# router's RA; renew-ip gives a new IPv4 address and keeps the SLAAC one (the
# same MAC on the same /64); add-iface gets a SLAAC address on a second
# interface without taking the default route from it; a replug that fails
# leaves the device as it was (no half-made veth); remove-iface of the
# default interface hands the RA's default route to the one left.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ip ping

L=$(new_lab_name rad)
cat >lab.yaml <<'YAML'
ipv6: {provisioning: ra}
routers:
  isp: {}
  home: {upstream: isp, nat: home}
  cafe: {upstream: isp, nat: home}
devices:
  srv: {router: isp}
  d: {router: home}
YAML
lab_up lab.yaml "$L"
x() { "$NSLAB" exec "$L" "$@"; }
st() { status_json "$L" st.json; }
st
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
OLD6=$(addr st.json d 6) || fail "no IPv6 address for d"
slaac_on() { x d ip -6 addr show dev "$1" | grep "inet6 $2/64 " | grep -q dynamic; }
ra_default_on() { x d ip -6 route show default | grep -q "dev $1 proto ra"; }
wait_until 5 slaac_on eth0 "$OLD6" || fail "d has no SLAAC address $OLD6 before the changes"

# replug into cafe: the new /64's address, made by the kernel, the old one gone
"$NSLAB" device "$L" d replug eth0 cafe || fail "nslab device $L d replug eth0 cafe failed"
st
NEW6=$(addr st.json d 6) || fail "no IPv6 address for d after the replug"
C4=$(addr st.json d 4) || fail "no IPv4 address for d after the replug"
[ "$NEW6" != "$OLD6" ] && ok "status: d's IPv6 is now $NEW6 (was $OLD6)" ||
	bad "status: d's IPv6 stayed $OLD6"
wait_until 5 slaac_on eth0 "$NEW6" && ok "d made $NEW6 by SLAAC from cafe's RA" ||
	bad "no SLAAC address $NEW6 on d: $(x d ip -6 addr show dev eth0)"
x d ip -6 addr show dev eth0 | grep -q "inet6 $OLD6/" && bad "the old address $OLD6 stayed" ||
	ok "the old address $OLD6 is gone"
wait_until 5 ra_default_on eth0 && ok "d's default route comes from cafe's RA" ||
	bad "d's IPv6 default routes: $(x d ip -6 route show default)"
x d ping -6 -c 1 -W 5 "$SRV6" >/dev/null && ok "d reaches srv over IPv6 through cafe" ||
	bad "d cannot ping6 srv after the replug"
x srv ping -6 -c 1 -W 5 "$NEW6" >/dev/null && ok "srv reaches d at $NEW6" ||
	bad "srv cannot ping6 $NEW6"

# renew-ip: another IPv4 address, the same SLAAC one
"$NSLAB" device "$L" d renew-ip eth0 || fail "nslab device $L d renew-ip eth0 failed"
st
R4=$(addr st.json d 4)
R6=$(addr st.json d 6)
[ -n "$R4" ] && [ "$R4" != "$C4" ] && x d ip -4 addr show dev eth0 | grep -q "inet $R4/" &&
	! x d ip -4 addr show dev eth0 | grep -q "inet $C4/" &&
	ok "renew-ip: d's IPv4 is $R4 (was $C4)" ||
	bad "renew-ip: status says '$R4' (was $C4), d has $(x d ip -4 addr show dev eth0)"
[ "$R6" = "$NEW6" ] && slaac_on eth0 "$NEW6" && ok "renew-ip kept the SLAAC address $NEW6" ||
	bad "renew-ip: status IPv6 '$R6', d has $(x d ip -6 addr show dev eth0)"
x d ping -6 -c 1 -W 5 "$SRV6" >/dev/null && ok "d still reaches srv over IPv6" ||
	bad "d cannot ping6 srv after renew-ip"

# add-iface: a SLAAC address on wlan0 from home; the default route stays on eth0
"$NSLAB" device "$L" d add-iface wlan0 home || fail "nslab device $L d add-iface wlan0 home failed"
st
W6=$(addr st.json d 6 wlan0) || fail "no IPv6 address for d's wlan0"
wait_until 5 slaac_on wlan0 "$W6" && ok "wlan0 made $W6 by SLAAC from home's RA" ||
	bad "no SLAAC address $W6 on wlan0: $(x d ip -6 addr show dev wlan0)"
[ "$(x d ip -6 route show default | grep -c 'proto ra')" = 1 ] && ra_default_on eth0 &&
	ok "one IPv6 default route, still through eth0" ||
	bad "d's IPv6 default routes: $(x d ip -6 route show default)"

# a replug of the secondary wlan0 that fails (cafe has a link of the name its
# peer would take): no half-made veth, d's interfaces and addresses as before
d_links() { x d ip -o link show | awk '{ sub(/[@:].*/, "", $2); print $2 }' | sort; }
d_addrs() { x d ip -o addr show | awk '{ print $2, $3, $4 }' | sort; }
cafe_links() { x cafe ip -o link show | awk '{ sub(/[@:].*/, "", $2); print $2 }' | sort; }
x cafe ip link add d.wlan0 type bridge || fail "make a link d.wlan0 on cafe"
d_links >links.before
d_addrs >addrs.before
cafe_links >cafe.before
if "$NSLAB" device "$L" d replug wlan0 cafe >rep.out 2>&1; then
	bad "the replug of wlan0 into cafe succeeded despite cafe's d.wlan0"
else
	grep -q "replug wlan0 into 'cafe'.*File exists" rep.out && ok "the replug failed: $(cat rep.out)" ||
		bad "replug wlan0 cafe: $(cat rep.out)"
fi
d_links >links.after
cmp -s links.before links.after && ok "d's interfaces are as before the failed replug" ||
	bad "d's interfaces changed: $(tr '\n' ' ' <links.after), were $(tr '\n' ' ' <links.before)"
same_addrs() { d_addrs >addrs.after && cmp -s addrs.before addrs.after; }
# the old wlan0, made again, has its SLAAC address once home's RA comes
wait_until 5 same_addrs && ok "d's addresses are as before the failed replug" ||
	bad "d's addresses: $(tr '\n' ' ' <addrs.after), were $(tr '\n' ' ' <addrs.before)"
cafe_links >cafe.after
cmp -s cafe.before cafe.after && ok "cafe's links are as before: no half-made veth" ||
	bad "cafe's links changed: $(tr '\n' ' ' <cafe.after)"
[ "$(x d ip -6 route show default | grep -c 'proto ra')" = 1 ] && ra_default_on eth0 &&
	ok "one IPv6 default route, still through eth0" ||
	bad "d's IPv6 default routes: $(x d ip -6 route show default)"
st
[ "$(addr st.json d 6 wlan0)" = "$W6" ] && ok "status: wlan0 is still $W6 on home" ||
	bad "status: wlan0 is $(addr st.json d 6 wlan0), was $W6"
x cafe ip link del d.wlan0 || fail "delete cafe's d.wlan0"

# remove-iface of the default eth0: wlan0's RA becomes the default route
"$NSLAB" device "$L" d remove-iface eth0 || fail "nslab device $L d remove-iface eth0 failed"
wait_until 5 ra_default_on wlan0 && ok "the IPv6 default route now comes from home's RA on wlan0" ||
	bad "d's IPv6 default routes: $(x d ip -6 route show default)"
x d ping -6 -c 1 -W 5 "$SRV6" >/dev/null && ok "d reaches srv over IPv6 through home" ||
	bad "d cannot ping6 srv after remove-iface"
finish

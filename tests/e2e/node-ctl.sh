#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-node-ctl: routers and devices added to and removed from a running lab
# (`nslab add LAB router|device NAME [KEY VALUE]...`, `nslab remove LAB NODE`):
# a device added behind a home NAT added under the ISP reaches a public
# server, and a real STUN client there sees the NAT's public address and its
# behaviour; a router added on the IX with a device is reached both ways and
# by name; a removed device stops answering, its processes die, its namespace
# is no longer held, its name is gone, one event each and state.json follow;
# a router with a device behind it is refused unless --force; bad input is
# refused with the offending value and the lab unchanged; SIGKILL of the
# supervisor after adds leaves nothing behind.
. "$SRCDIR/tests/e2e/lib.sh"
require_env stun stund ip

L=$(new_lab_name nodectl)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
devices:
  srv: {router: isp}
YAML
lab_up lab.yaml "$L" --outdir "$TMP/out"
EV="$TMP/out/events.jsonl"
status_json "$L" st.json
SRV=$(addr st.json srv 4) || fail "no IPv4 address for srv"
ALT=${SRV%.*}.200 # the second address STUN's change-address tests need
x() { "$NSLAB" exec "$L" "$@"; }
add() { "$NSLAB" add "$L" "$@" || fail "nslab add $L $* failed"; }
x srv ip addr add "$ALT/24" dev eth0 || fail "add $ALT to srv"
x srv sh -c "stund -h $SRV -a $ALT >/dev/null 2>&1 &" || fail "start stund on srv"
stun_up() { x srv stun "$SRV" 2>&1 | grep -q "Open"; }
wait_until 10 stun_up || fail "stund does not answer on $SRV"
events() { grep -c "\"kind\":\"$1\",\"lab\":\"$L\",\"node\":\"$2\"" "$EV"; }
in_state() {
	$PY - "$TMP/out/state.json" "$1" <<'PY'
import json, sys
sys.exit(0 if any(n["name"] == sys.argv[2] for n in json.load(open(sys.argv[1]))["nodes"]) else 1)
PY
}

### A home NAT under the ISP, a device behind it: STUN sees the NAT's address.
add router home upstream isp nat home
add device m router home
status_json "$L" st2.json
HOME_EXT=$(addr st2.json home 4) || fail "status: no address for the added router home"
M=$(addr st2.json m 4) || fail "status: no address for the added device m"
case $M in 10.*) ok "m has a private address behind home: $M" ;; *) bad "m's address $M is not private" ;; esac
x m ping -c 1 -W 2 "$SRV" >/dev/null && ok "m reaches srv through the added NAT" || bad "m cannot ping $SRV"
mapped=$(x m stun "$SRV" -v 2>&1 | sed -n 's/^MappedAddress = \([0-9.]*\):.*/\1/p' | head -n 1)
[ "$mapped" = "$HOME_EXT" ] && ok "stun from m: mapped address $mapped is home's public address" ||
	bad "stun from m: mapped address '$mapped', want home's $HOME_EXT"
kind=$(x m stun "$SRV" -v 2>&1 | grep "Primary:" | sed 's/^Primary: //; s/[[:space:]]*$//')
[ "$kind" = "Independent Mapping, Port Dependent Filter, preserves ports, no hairpin" ] &&
	ok "stun from m: the home preset's behaviour ($kind)" || bad "stun from m: '$kind'"
x srv ping -c 1 -W 1 "$M" >/dev/null 2>&1 && bad "srv reached $M behind the NAT" ||
	ok "srv cannot reach $M behind the added NAT"
[ "$(events router_added home)" = 1 ] && [ "$(events device_added m)" = 1 ] &&
	ok "one router_added and one device_added event" || bad "events: $(grep -e home -e '"m"' "$EV")"
grep "\"kind\":\"device_added\",\"lab\":\"$L\",\"node\":\"m\"" "$EV" | grep -q "\"ip4\":\"$M/24\"" &&
	ok "device_added names m's address" || bad "device_added: $(grep device_added "$EV")"
in_state home && in_state m && ok "state.json lists home and m" || bad "state.json lacks home or m"

### A router on the IX (no upstream), a device on it: public, routed both ways, named.
add router pub
add device p router pub
status_json "$L" st3.json
P=$(addr st3.json p 4) || fail "status: no address for p"
P6=$(addr st3.json p 6) || fail "status: no IPv6 address for p"
x p ping -c 1 -W 2 "$SRV" >/dev/null && ok "p reaches srv" || bad "p cannot ping $SRV"
x srv ping -c 1 -W 2 "$P" >/dev/null && ok "srv reaches p's public $P" || bad "srv cannot ping $P"
x srv ping -c 1 -W 2 "$P6" >/dev/null && ok "srv reaches p's $P6" || bad "srv cannot ping $P6"
x srv ping -c 1 -W 2 "p.$L.test" >/dev/null && ok "srv reaches p.$L.test by name" ||
	bad "srv cannot ping p.$L.test"
x srv cat /etc/hosts >hosts.out
grep -q "^$P[[:space:]].*p\.$L\.test" hosts.out && ok "/etc/hosts: p.$L.test is $P" ||
	bad "/etc/hosts has no '$P p.$L.test': $(grep "p\.$L" hosts.out)"
x srv dig +short +time=1 +tries=1 "p.$L.test" A @"$(x srv sed -n 's/^nameserver //p' /etc/resolv.conf | head -n 1)" >dig.out 2>&1
[ "$(cat dig.out)" = "$P" ] && ok "the lab's DNS answers p.$L.test: $P" || bad "lab DNS: '$(cat dig.out)'"

### Bad input: the offending value named, the lab unchanged.
status_json "$L" before.json
refused() {
	if "$NSLAB" add "$L" "$@" >ref.out 2>&1; then
		bad "nslab add $L $* succeeded"
	elif grep -q "$REFUSE" ref.out; then
		ok "refused: add $*: $(cat ref.out)"
	else
		bad "nslab add $L $*: $(cat ref.out), want '$REFUSE'"
	fi
}
REFUSE="unknown key 'colour'" refused router r9 upstream isp colour blue
REFUSE="unknown router 'nowhere'" refused device d9 router nowhere
REFUSE="duplicate name 'm'" refused device m router home
REFUSE="duplicate name 'pub'" refused router pub
REFUSE="unknown NAT preset 'bogus'" refused router r9 upstream isp nat bogus
REFUSE="unknown router 'nowhere'" refused router r9 upstream nowhere
REFUSE="bad node name 'R9'" refused router R9
REFUSE="unknown node kind 'switch'" refused switch s1
REFUSE="has no value" refused router r9 upstream
REFUSE="key 'nat': '{mapping: eim': missing comma" refused router r9 upstream isp nat '{mapping: eim'
REFUSE="bad NAT mapping 'xx'" refused router r9 upstream isp nat '{mapping: xx}'
# a failure while building (the kernel refuses the router's own ruleset): undone
printf 'table inet t {\n chain c {\n  type filter hook input priority 0;\n  jump nowhere\n }\n}\n' >bad.nft
"$NSLAB" exec "$L" isp ip -o link show >isp-links.before || fail "list isp's links"
REFUSE="bad.nft:4:8: Could not process rule" refused router r9 upstream isp rules_file bad.nft
"$NSLAB" exec "$L" isp ip -o link show >isp-links.after || fail "list isp's links"
[ "$(cut -d: -f2 isp-links.before)" = "$(cut -d: -f2 isp-links.after)" ] &&
	ok "the failed build left no interface on isp" || bad "isp's links changed: $(cut -d: -f2 isp-links.after)"
status_json "$L" after.json
$PY - before.json after.json <<'PY' && ok "the lab is unchanged after the refusals" || bad "the refusals changed the lab"
import json, sys
a, b = (json.load(open(f))["nodes"] for f in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
# the names the refused adds wanted are free: the same adds done right work (a
# rules_file relative to the caller's directory, loaded after nslab's tables)
printf 'table inet mine {\n chain c {\n  type filter hook input priority 0;\n  icmp type echo-request drop\n }\n}\n' >own.nft
add router r9 upstream isp rules_file own.nft
R9=$(x r9 ip -4 -o addr show wan | awk '{ print $4 }' | cut -d/ -f1)
x r9 nft list tables | grep -q "inet mine" && ok "r9 added with its own rules_file" || bad "r9 has no table mine"
x srv ping -c 1 -W 1 "$R9" >/dev/null 2>&1 && bad "r9's own ruleset did not drop srv's ping" ||
	ok "r9's own ruleset drops srv's ping to $R9"
x r9 ping -c 1 -W 2 "$SRV" >/dev/null && ok "r9 reaches srv" || bad "r9 cannot ping srv"

### Link conditions of the lab file's keys: a router's downlink over a device added under it.
add router slow upstream isp downlink '{delay: 25ms}'
add device s router slow
rtt=$(x s ping -c 2 -W 2 "$SRV" | sed -n 's|^rtt [^=]*= \([0-9.]*\)/.*|\1|p')
[ -n "$rtt" ] && awk -v r="$rtt" 'BEGIN { exit !(r >= 50) }' &&
	ok "s under the added slow router: its 25 ms downlink both ways (min rtt $rtt ms)" ||
	bad "s to srv: min rtt '$rtt' ms, want >= 50"
"$NSLAB" remove --force "$L" slow && ok "slow and s removed, their conditions with them" ||
	bad "remove --force slow (a conditioned link behind it) failed"

### A removed device's condition goes with its link: what the link holds is dropped with
### it, never sent on ahead of its delay, and the link thread's sink on isp goes too.
add device q router isp
x q ping -c 1 -W 2 "$SRV" >/dev/null || fail "q cannot ping srv" # neighbours known both sides
"$NSLAB" link "$L" q eth0 delay 4s >q-link.out 2>&1 || fail "nslab link q eth0: $(cat q-link.out)"
sinks() { x isp ip -o link show | grep -c ' nslw'; }
[ "$(sinks)" -ge 1 ] || bad "no sink of q's down direction on isp: $(x isp ip -o link show)"
: >q-rx.out
x srv "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9999))
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(15)
try:
    while True:
        open(sys.argv[2], "a").write(s.recv(64).decode() + "\n")
except socket.timeout:
    pass
' "$SRV" "$TMP/q-rx.out" >/dev/null 2>&1 &
track_pid $!
wait_until 10 test -e q-rx.out.ready || fail "the UDP receiver on srv did not start"
x q "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"held%d" % i, (sys.argv[1], 9999))
' "$SRV" || fail "q could not send to srv"
[ -s q-rx.out ] && bad "the datagrams passed the 4 s delay at once: $(cat q-rx.out)"
"$NSLAB" remove "$L" q || fail "nslab remove $L q failed"
# before the fix the removal flushed the held datagrams at once, unconditioned
wait_until 3 test -s q-rx.out && bad "datagrams held by q's link arrived after its removal: $(tr '\n' ' ' <q-rx.out)" ||
	ok "the datagrams q's link held went with it, none sent ahead of the delay"
[ "$(sinks)" = 0 ] && ok "no sink of q's link is left on isp" ||
	bad "sinks left on isp: $(x isp ip -o link show | grep nslw)"

### Remove: a router with a device behind it refused, then the device removed.
if "$NSLAB" remove "$L" pub >ref.out 2>&1; then bad "removing pub with p behind it succeeded"; else
	grep -q "behind it: p " ref.out && ok "refused: remove pub: $(cat ref.out)" || bad "remove pub: $(cat ref.out)"
fi
P_NS=$(x p readlink /proc/self/ns/net)
inner=$(host_pid "$(x p sh -c 'setsid sleep 1000 >/dev/null 2>&1 </dev/null & echo $!')")
track_pid "$inner"
alive "$inner" || bad "the background sleep in p did not start"
x p sh -c "python3 -m http.server -b $P 8080 >/dev/null 2>&1 &"
served() { x srv "$PY" -c "import urllib.request as u; u.urlopen('http://$P:8080/', timeout=2)" 2>/dev/null; }
wait_until 10 served && ok "srv fetches from p's server before the removal" || bad "p's server never answered"
"$NSLAB" remove "$L" p || fail "nslab remove $L p failed"
wait_until 5 not alive "$inner" && ok "the process in p was killed" || bad "sleep $inner in p still runs"
echo "$P_NS" >p-ns
wait_until 10 no_ns_holders p-ns && ok "nothing holds p's namespace $P_NS any more" ||
	bad "p's namespace is still held: $(ns_holders p-ns)"
x srv ping -c 1 -W 1 "$P" >/dev/null 2>&1 && bad "p's $P still answers" || ok "p's $P answers no more"
served && bad "p's server still answers" || ok "p's server answers no more"
x p true 2>/dev/null && bad "exec in the removed p worked" || ok "exec in p is refused"
x srv getent hosts "p.$L.test" >/dev/null && bad "p.$L.test is still in /etc/hosts" || ok "p.$L.test is gone from /etc/hosts"
[ "$(events node_removed p)" = 1 ] && ok "one node_removed event" || bad "events: $(grep node_removed "$EV")"
in_state p && bad "state.json still lists p" || ok "state.json no longer lists p"
"$NSLAB" remove "$L" pub || fail "remove pub, empty now, failed"
x srv ping -c 1 -W 1 "$P" >/dev/null 2>&1 && bad "pub's subnet still answers" || ok "pub removed"

### --force: a router and what is behind it.
"$NSLAB" remove --force "$L" home || fail "nslab remove --force $L home failed"
status_json "$L" st4.json
[ "$(nodes st4.json | sort | tr '\n' ' ')" = "isp r9 srv " ] && ok "--force removed home and m" ||
	bad "nodes left: $(nodes st4.json | tr '\n' ' ')"
grep "\"kind\":\"node_removed\",\"lab\":\"$L\",\"node\":\"home\"" "$EV" | grep -q '"removed":\["home","m"\]' &&
	ok "node_removed names home and m" || bad "events: $(grep node_removed "$EV")"
# added again at once: the names and subnets are free
add router home upstream isp preset home
add device m router home
x m ping -c 1 -W 2 "$SRV" >/dev/null && ok "home and m added again reach srv" || bad "m (again) cannot ping srv"
"$NSLAB" down "$L" || bad "nslab down $L failed"

### A router added in a region: reached over the region link (its delay), routes gone with it.
L3=$(new_lab_name nodereg)
cat >reg.yaml <<'YAML'
regions: {eu: {}, us: {}}
region_links: [{a: eu, b: us, delay: 20ms}]
routers:
  dc-us: {region: us}
devices:
  srv: {router: dc-us}
YAML
lab_up reg.yaml "$L3"
"$NSLAB" add "$L3" router dc-eu region eu || fail "add dc-eu in region eu"
"$NSLAB" add "$L3" device e router dc-eu || fail "add e under dc-eu"
status_json "$L3" r.json
RSRV=$(addr r.json srv 4) || fail "no address for srv in $L3"
E=$(addr r.json e 4) || fail "no address for e in $L3"
rtt=$("$NSLAB" exec "$L3" e ping -c 2 -W 2 "$RSRV" | sed -n 's|^rtt [^=]*= \([0-9.]*\)/.*|\1|p')
[ -n "$rtt" ] && awk -v r="$rtt" 'BEGIN { exit !(r >= 40) }' &&
	ok "e in the added eu router reaches srv in us over the 20 ms region link (min rtt $rtt ms)" ||
	bad "e to srv: min rtt '$rtt' ms, want >= 40 (the region link both ways)"
"$NSLAB" exec "$L3" us ip route show "${E%.*}.0/24" | grep -q "metric 1024" &&
	ok "us routes e's subnet over its region link" || bad "us has no region route to ${E%.*}.0/24"
"$NSLAB" remove --force "$L3" dc-eu || fail "remove --force dc-eu"
[ -z "$("$NSLAB" exec "$L3" us ip route show "${E%.*}.0/24")" ] && ok "us has no route to the removed subnet" ||
	bad "us still routes ${E%.*}.0/24: $("$NSLAB" exec "$L3" us ip route show "${E%.*}.0/24")"
"$NSLAB" down "$L3" || bad "nslab down $L3 failed"

### SIGKILL of the supervisor after adds: nothing left behind.
L2=$(new_lab_name nodekill)
leftovers_snapshot kill
track_lab "$L2"
"$NSLAB" up -q --name "$L2" lab.yaml >up2.out 2>&1 &
sup=$!
track_pid $sup
wait_until 30 lab_listed "$L2" || fail "$L2 never showed up: $(cat up2.out)"
status_json "$L2" k.json
"$NSLAB" add "$L2" router home upstream isp nat home || fail "add home to $L2"
"$NSLAB" add "$L2" device m router home || fail "add m to $L2"
"$NSLAB" add "$L2" router pub || fail "add pub to $L2"
for n in isp srv home m pub; do
	"$NSLAB" exec "$L2" "$n" readlink /proc/self/ns/net || fail "exec in $n of $L2 failed"
done | sort -u >lab2-ns
[ "$(wc -l <lab2-ns)" = 5 ] && ok "$L2: 5 node namespaces, 3 of them added" || bad "$L2: $(cat lab2-ns)"
"$NSLAB" exec "$L2" m sleep 1000 >/dev/null 2>&1 &
client=$!
track_pid $client
wait_until 10 has_sleep_grandchild $client || fail "the exec client never started sleep in m"
kill -9 $sup
wait $sup 2>/dev/null
wait_until 10 not alive $client && ok "the exec client in the added m ended" || bad "exec client $client still runs"
wait_until 10 not lab_listed "$L2" && ok "$L2: gone from 'nslab ls'" || bad "$L2 still listed after SIGKILL"
wait_until 10 no_ns_holders lab2-ns && ok "$L2: nothing holds any node's namespace, the added ones too" ||
	bad "$L2: namespaces still held: $(ns_holders lab2-ns)"
leftovers_check kill "$L2"
finish

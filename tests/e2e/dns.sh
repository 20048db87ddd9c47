#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-dns: the lab's DNS (lab/labdns.c, answered by the supervisor on the IX
# addresses): a device behind a home NAT and one behind a corporate firewall
# resolve <node>.<lab>.test (A and AAAA) and the dns: map with dig, straight
# from the server their resolv.conf names; any other name gets NXDOMAIN at once.
# `nslab dns LAB set|remove` changes the answer and /etc/hosts (one event
# each); a replug and a default-via change move <device>.<lab>.test in both;
# with dns_upstream: a node's DNS server answers the names the lab has not.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ip dig getent

L=$(new_lab_name dns)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  home: {upstream: isp, nat: home}
  cafe: {upstream: isp, nat: full-cone}
  corp: {upstream: isp, preset: corporate}
devices:
  srv: {router: isp}
  w: {router: corp}
  m:
    ifaces: {wlan0: {router: home}, eth1: {router: isp}}
    default_via: wlan0
dns:
  api.example.com: srv
  lit.example: 192.0.2.7
YAML
lab_up lab.yaml "$L" --outdir "$TMP/out"
status_json "$L" st.json
SRV=$(addr st.json srv 4) || fail "no IPv4 address for srv"
SRV6=$(addr st.json srv 6) || fail "no IPv6 address for srv"
x() { "$NSLAB" exec "$L" "$@"; }
NS=$(x m sed -n 's/^nameserver //p' /etc/resolv.conf | head -1)
[ "$NS" = 198.18.0.1 ] && ok "m's resolv.conf names the IX address $NS" ||
	bad "m's resolv.conf: $(x m cat /etc/resolv.conf)"
# dig reads no /etc/hosts: every answer below is the lab's DNS server's
q() { _d=$1; shift; x "$_d" dig +tries=1 +time=2 @198.18.0.1 "$@"; }
short() { q "$@" +short; }
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

[ "$(short m srv.$L.test A)" = "$SRV" ] && ok "srv.$L.test is $SRV behind the home NAT" ||
	bad "srv.$L.test A: '$(short m srv.$L.test A)', want $SRV"
[ "$(short m SRV.$L.TEST AAAA)" = "$SRV6" ] && ok "SRV.$L.TEST AAAA is $SRV6 (any case)" ||
	bad "AAAA: '$(short m SRV.$L.TEST AAAA)', want $SRV6"
[ "$(short w api.example.com)" = "$SRV" ] && ok "api.example.com (dns: map) from behind the corporate firewall" ||
	bad "api.example.com: '$(short w api.example.com)'"
[ "$(short w lit.example)" = 192.0.2.7 ] && ok "lit.example is its literal 192.0.2.7" ||
	bad "lit.example: '$(short w lit.example)'"
[ "$(status m nosuch.example)" = NXDOMAIN ] && ok "an outside name: NXDOMAIN, answered" ||
	bad "nosuch.example: '$(status m nosuch.example)', want NXDOMAIN"
[ "$(status m nosuch.$L.test)" = NXDOMAIN ] && ok "no such node: NXDOMAIN" ||
	bad "nosuch.$L.test: '$(status m nosuch.$L.test)'"
[ "$(status m srv.$L.test MX)" = NOERROR ] && [ -z "$(short m srv.$L.test MX)" ] &&
	ok "srv.$L.test MX: NOERROR without answers (the name exists)" || bad "MX: $(q m srv.$L.test MX)"
[ "$(q m lit.example | grep -c 'flags:.* aa')" = 1 ] && ok "answers are authoritative" ||
	bad "no aa flag: $(q m lit.example)"
# through the system resolver: search list and no 5 s stall (the lookup's own
# exit status says whether the server answered: 2 is "not found")
x m getent hosts example.org >/dev/null
[ $? = 2 ] && ok "getent hosts example.org: not found" || bad "getent hosts example.org found something"
[ "$(x m getent ahostsv4 srv | awk 'NR == 1 { print $1 }')" = "$SRV" ] &&
	ok "getent ahostsv4 srv (search $L.test)" || bad "getent srv: $(x m getent ahostsv4 srv)"

"$NSLAB" dns "$L" set api.example.com w || fail "nslab dns $L set api.example.com w failed"
W=$(addr st.json w 4)
[ "$(short m api.example.com)" = "$W" ] && ok "after dns set, api.example.com is w's $W" ||
	bad "after dns set: '$(short m api.example.com)', want $W"
[ "$(x m getent ahostsv4 api.example.com | awk "NR == 1 { print \$1 }")" = "$W" ] &&
	ok "/etc/hosts follows" || bad "/etc/hosts: $(x m getent hosts api.example.com)"
"$NSLAB" dns "$L" remove api.example.com || fail "nslab dns $L remove failed"
[ "$(status m api.example.com)" = NXDOMAIN ] && ok "removed: NXDOMAIN" ||
	bad "after remove: $(status m api.example.com)"
[ "$(grep -c "\"kind\":\"dns_changed\",\"lab\":\"$L\",\"name\":\"api.example.com\"" "$TMP/out/events.jsonl")" = 2 ] &&
	ok "two dns_changed events" || bad "events: $(grep dns_changed "$TMP/out/events.jsonl")"

# a replug and a default-via move m.<lab>.test, in the DNS and in /etc/hosts
hosts_m() { x srv getent ahostsv4 "m.$L.test" | awk 'NR == 1 { print $1 }'; }
"$NSLAB" device "$L" m replug wlan0 cafe || fail "replug wlan0 into cafe failed"
status_json "$L" st2.json
W4=$(addr st2.json m 4 wlan0)
[ "$(short srv m.$L.test)" = "$W4" ] && ok "after the replug, m.$L.test is $W4" ||
	bad "after the replug: '$(short srv m.$L.test)', want $W4"
# getent reads /etc/hosts first: the same answer from the file
[ "$(x srv grep -w "m.$L.test" /etc/hosts | awk '{ print $1 }' | head -1)" = "$W4" ] &&
	ok "/etc/hosts has m's new $W4" || bad "/etc/hosts: $(x srv grep -w "m.$L.test" /etc/hosts)"
"$NSLAB" device "$L" m default-via eth1 || fail "default-via eth1 failed"
E4=$(addr st2.json m 4 eth1)
[ "$(short srv m.$L.test)" = "$E4" ] && [ "$(hosts_m)" = "$E4" ] &&
	ok "after default-via eth1, m.$L.test is $E4 (DNS and /etc/hosts)" ||
	bad "after default-via: DNS '$(short srv m.$L.test)', hosts '$(hosts_m)', want $E4"

refused() {
	if "$NSLAB" dns "$L" "$@" >ref.out 2>&1; then
		bad "nslab dns $L $* succeeded"
	elif grep -q "$REFUSE" ref.out; then
		ok "refused: $*: $(cat ref.out)"
	else
		bad "nslab dns $L $*: $(cat ref.out), want '$REFUSE'"
	fi
}
REFUSE="not a node of lab '$L' nor an IP address" refused set x.example nosuch
REFUSE="bad host name 'a..b'" refused set a..b srv
REFUSE="no dns name 'gone.example'" refused remove gone.example
REFUSE="unknown dns change 'add'" refused add x srv

# dns_upstream: the names the lab does not have go to a DNS server of a node
# (tests/tools/dnsup.py on ns1, which knows one name and refuses the rest);
# the lab's own names are still answered by the lab
L2=$(new_lab_name dnsup)
cat >up.yaml <<'YAML'
routers:
  isp: {}
  home: {upstream: isp, nat: home}
devices:
  ns1: {router: isp}
  pc: {router: home}
dns_upstream: ns1
YAML
lab_up up.yaml "$L2"
NS1=$("$NSLAB" exec "$L2" ns1 sh -c 'echo $NSLAB_IP_NS1')
"$NSLAB" exec "$L2" ns1 -- "$PY" "$SRCDIR/tests/tools/dnsup.py" "$NS1" outside.example 192.0.2.44 \
	>dnsup.log 2>&1 &
track_pid $!
wait_until 10 grep -q serving dnsup.log || fail "no DNS server in ns1: $(cat dnsup.log)"
u() { "$NSLAB" exec "$L2" pc dig +tries=1 +time=2 @198.18.0.1 "$@"; }
[ "$(u +short outside.example)" = 192.0.2.44 ] &&
	ok "dns_upstream: outside.example is ns1's answer, 192.0.2.44" ||
	bad "dns_upstream: outside.example: $(u outside.example)"
[ "$(u other.example | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')" = REFUSED ] &&
	ok "dns_upstream: ns1's refusal comes back as it is" || bad "other.example: $(u other.example)"
[ "$(u +short "ns1.$L2.test")" = "$NS1" ] && ok "dns_upstream: the lab's names stay the lab's" ||
	bad "ns1.$L2.test: $(u "ns1.$L2.test")"
finish

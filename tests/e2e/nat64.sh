#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-nat64: nslab's own NAT64 (`nat6: nat64`, the `isp-v6` preset) with real
# clients. A v6-only phone behind an isp-v6 router reaches an IPv4-only server
# by 64:ff9b::a.b.c.d (ping, curl over TCP, UDP) and by name through the lab
# DNS's DNS64 (dig, getaddrinfo AF_INET6); the server sees the router's
# public IPv4; ICMP errors from the IPv4 side reach the phone translated (a
# closed UDP port: connection refused; hop limit 3: time exceeded from the
# isp's IPv4 address as 64:ff9b::a.b.c.d); a tiny table (nat64_size: 2) evicts the oldest
# binding when a third flow comes (counter in `nslab status --json`), and an
# established TCP connection dies with its binding; SIGKILL of the supervisor
# leaves nothing behind. A NAT64 router added at run time translates, and its
# removal leaves the others running.
. "$SRCDIR/tests/e2e/lib.sh"
require_env curl dig
PROBE="$SRCDIR/tests/tools/probe.py"

leftovers_snapshot run
L=$(new_lab_name nat64)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  v4net: {upstream: isp, preset: public-v4}
  mobile: {upstream: isp, preset: isp-v6}
  tiny: {upstream: isp, ip: v6, nat6: nat64, nat64_size: 2}
devices:
  srv: {router: v4net}
  phone: {router: mobile}
  small: {router: tiny}
YAML
track_lab "$L"
"$NSLAB" up -q --name "$L" lab.yaml >up.out 2>&1 &
sup=$!
track_pid $sup
wait_until 30 lab_listed "$L" || fail "$L never showed up: $(cat up.out)"
status_json "$L" st.json
SRV4=$(addr st.json srv 4) || fail "no IPv4 address for srv"
MOB4=$(addr st.json mobile 4) || fail "mobile has no IPv4 uplink for its NAT64"
addr st.json srv 6 >/dev/null && fail "srv has IPv6: the test needs an IPv4-only server"
addr st.json phone 4 >/dev/null && fail "phone has IPv4: the test needs a v6-only device"
S64="64:ff9b::$SRV4"
x() { "$NSLAB" exec "$L" "$@"; }

x srv "$PY" "$PROBE" serve 8080 >serve.out 2>&1 &
track_pid $!
x srv "$PY" -m http.server -b 0.0.0.0 8000 >http.out 2>&1 &
track_pid $!
wait_until 10 grep -q serving serve.out || fail "no probe server on srv: $(cat serve.out)"
wait_until 10 grep -q "Serving HTTP" http.out || fail "no HTTP server on srv: $(cat http.out)"

x phone ping -c 2 -W 2 "$S64" >ping.out 2>&1 && grep -q "2 received" ping.out &&
	ok "ping $S64 from the v6-only phone" || bad "ping $S64: $(cat ping.out)"
got=$(x phone curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://[$S64]:8000/") &&
	[ "$got" = 200 ] && ok "curl http://[$S64]:8000/ from the phone: 200" || bad "curl over NAT64: $got"
got=$(x phone "$PY" "$PROBE" try tcp "$S64" 8080 5) && [ "$got" = "$MOB4" ] &&
	ok "TCP through NAT64: the server sees the router's public IPv4 $MOB4" ||
	bad "TCP through NAT64: seen from '$got', want $MOB4"
got=$(x phone "$PY" "$PROBE" try udp "$S64" 8080 5) && [ "$got" = "$MOB4" ] &&
	ok "UDP through NAT64, seen from $MOB4" || bad "UDP through NAT64: seen from '$got', want $MOB4"

# DNS64: the lab DNS synthesises AAAA for the IPv4-only server, for the phone only
# (the phone's resolv.conf also names the IPv4 address of the lab DNS, which dig tries first in vain)
got=$(x phone dig +short +time=2 AAAA "srv.$L.test" | grep -v '^;')
$PY -c 'import ipaddress as i, sys; sys.exit(i.ip_address(sys.argv[1]) != i.ip_address(sys.argv[2]))' \
	"${got:-::}" "$S64" && ok "DNS64: AAAA srv.$L.test is $got for the phone" ||
	bad "DNS64 AAAA for the phone: '$got', want $S64"
got=$(x isp dig +short +time=2 @2001:db8::1 AAAA "srv.$L.test")
[ -z "$got" ] && ok "no DNS64 for a client not behind a NAT64 (isp)" || bad "isp got AAAA '$got'"
got=$(x phone "$PY" -c '
import socket, sys
a = socket.getaddrinfo(sys.argv[1], 8000, socket.AF_INET6, socket.SOCK_STREAM)[0][4]
s = socket.create_connection(a[:2], timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(s.recv(12).decode().split()[1], a[0])' "srv.$L.test") &&
	case "$got" in "200 64:ff9b::"*) true ;; *) false ;; esac &&
	ok "HTTP to srv.$L.test by name (system resolver, AF_INET6): $got" || bad "by name: '$got'"
# curl by the node's short name, any family: /etc/hosts leaves IPv4-only nodes to
# the lab DNS in a lab with DNS64, so the phone gets the synthesised address
x phone sh -c 'grep -w srv /etc/hosts' >hosts.out 2>&1 &&
	bad "the lab's /etc/hosts lists the IPv4-only srv: $(cat hosts.out)" ||
	ok "the lab's /etc/hosts leaves the IPv4-only srv to the DNS"
got=$(x phone curl -sS -m 5 -o /dev/null -w '%{http_code} %{remote_ip}' "http://srv:8000/")
case "$got" in "200 64:ff9b::"*) ok "curl http://srv:8000/ by name from the phone: $got" ;;
*) bad "curl by name from the phone: '$got'" ;; esac

# an ICMP error from the IPv4 side: port unreachable, translated to ICMPv6
got=$(x phone "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 9))
s.send(b"x")
try:
    s.recv(10)
    print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")' "$S64")
[ "$got" = refused ] && ok "UDP to a closed port: ICMP port unreachable translated (refused)" ||
	bad "closed port over NAT64: $got"

# time exceeded from an IPv4 router on the way (the isp's bridge address), as traceroute sees it
ISPBR4=$($PY -c 'import json,sys; print({n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}["isp"]["bridge"]["ip4"].split("/")[0])' st.json)
# (three probes a second apart, as traceroute sends: the IPv4 routers rate-limit their ICMP errors)
x phone ping -c 3 -i 1 -W 2 -t 3 "$S64" >ttl.out 2>&1
from=$(sed -n 's/^From \([0-9a-f:.]*\) .*Time exceeded.*/\1/p' ttl.out | head -n 1)
$PY -c 'import ipaddress as i, sys; sys.exit(i.ip_address(sys.argv[1]) != i.ip_address(sys.argv[2]))' \
	"${from:-::}" "64:ff9b::$ISPBR4" && ok "hop limit 3: time exceeded from 64:ff9b::$ISPBR4 (the isp)" ||
	bad "time exceeded: $(cat ttl.out), want from 64:ff9b::$ISPBR4"

status_json "$L" st2.json
$PY - st2.json <<'PY' && ok "status --json: mobile's nat64 counters move" || bad "nat64 counters: $(cat st2.json)"
import json, sys
n = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}["mobile"]
t = n["nat64"]
ok = n["nat6"] == "nat64" and n["preset"] == "isp-v6" and t["size"] == 65536
ok = ok and t["translated_6to4"] > 5 and t["translated_4to6"] > 5 and t["icmp_errors"] >= 1
ok = ok and t["bibs"] >= 3 and t["evicted"] == 0 and t["dropped"] == 0
sys.exit(0 if ok else 1)
PY

# the bound: a table of two bindings. An established TCP connection (its
# binding the oldest) is evicted by two UDP flows; its next segment opens
# nothing (only a SYN does, RFC 6146), so the echo never comes back.
small_counter() {
	status_json "$L" st3.json
	$PY -c 'import json,sys; print({n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}["tiny"]["nat64"][sys.argv[2]])' st3.json "$1"
}
x srv "$PY" -c '
import socket, threading
def echo(c):
    while True:
        d = c.recv(100)
        if not d:
            return
        c.sendall(d)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7007))
s.listen()
print("echoing", flush=True)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()' >echo.out 2>&1 &
track_pid $!
wait_until 10 grep -q echoing echo.out || fail "no echo server on srv: $(cat echo.out)"
x small "$PY" - "$S64" >flows.out 2>&1 <<'PY'
import socket, sys
def asks(s, msg=b"hi"):
    try:
        s.send(msg)
        return len(s.recv(100)) > 0
    except OSError:
        return False
tcp = socket.create_connection((sys.argv[1], 7007), timeout=3)
print("tcp", asks(tcp))
udp = []
for _ in range(2):
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.connect((sys.argv[1], 8080))
    udp.append(u)
print("udp", all(asks(u) for u in udp))
print("tcp-after", asks(tcp))
PY
grep -qx "tcp True" flows.out && grep -qx "udp True" flows.out &&
	ok "a TCP connection, then two UDP flows, through a table of two" || bad "flows: $(cat flows.out)"
grep -qx "tcp-after False" flows.out && ok "the oldest binding (TCP) was evicted: its echo no longer comes back" ||
	bad "the TCP connection survived eviction: $(cat flows.out)"
ev=$(small_counter evicted)
[ "$ev" -ge 1 ] && ok "tiny's evicted counter is $ev" || bad "tiny's evicted counter: $ev"
"$NSLAB" status "$L" >st3.txt
grep -q "^nat64 tiny: [0-2]/2 bindings, .* evicted [1-9]" st3.txt && ok "nslab status: $(grep '^nat64 tiny' st3.txt)" ||
	bad "nslab status has no nat64 line for tiny: $(cat st3.txt)"
[ "$(small_counter bibs)" -le 2 ] && ok "tiny holds at most 2 bindings" || bad "tiny bibs: $(small_counter bibs)"

# a running router switches away from nat64 and back: the phone loses the IPv4
# internet and gets it again (a fresh translator)
"$NSLAB" router "$L" mobile nat6 none >ref.out 2>&1 || bad "nat6 none on mobile: $(cat ref.out)"
x phone ping -c 1 -W 1 "$S64" >off.out 2>&1 && bad "ping $S64 after nat6 none: $(cat off.out)" ||
	ok "after nat6 none at run time the phone no longer reaches $S64"
"$NSLAB" router "$L" mobile nat6 nat64 >ref.out 2>&1 || bad "nat6 nat64 on mobile: $(cat ref.out)"
got=$(x phone "$PY" "$PROBE" try tcp "$S64" 8080 5) && [ "$got" = "$MOB4" ] &&
	ok "nat6 nat64 again at run time: TCP through it, seen from $MOB4" ||
	bad "after nat6 nat64 at run time: seen from '$got', want $MOB4"

# a NAT64 router added at run time translates too; removed, its translator goes
"$NSLAB" add "$L" router late upstream isp preset isp-v6 >add.out 2>&1 &&
	"$NSLAB" add "$L" device late-phone router late >>add.out 2>&1 || fail "nslab add: $(cat add.out)"
x late-phone ping -c 1 -W 2 "$S64" >ping2.out 2>&1 && grep -q "1 received" ping2.out &&
	ok "a router added at run time with isp-v6 translates (ping $S64)" || bad "late NAT64: $(cat ping2.out)"
"$NSLAB" remove "$L" late --force >rm.out 2>&1 || "$NSLAB" remove "$L" late >>rm.out 2>&1 ||
	bad "nslab remove $L late: $(cat rm.out)"
status_json "$L" st4.json
$PY - st4.json <<'PY' && ok "after removing late: mobile's and tiny's NAT64 still listed, late gone" || bad "state after remove: $(cat st4.json)"
import json, sys
n = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if "late" not in n and "nat64" in n["mobile"] and "nat64" in n["tiny"] else 1)
PY
x phone ping -c 1 -W 2 "$S64" >ping3.out 2>&1 && grep -q "1 received" ping3.out &&
	ok "the phone still reaches $S64 after the removal" || bad "after removal: $(cat ping3.out)"

# SIGKILL: the TUNs go with their namespaces, nothing stays
kill -KILL $sup
wait_until 10 not lab_listed "$L" && ok "$L: gone after SIGKILL" || bad "$L still listed after SIGKILL"
leftovers_check run "$L"
finish

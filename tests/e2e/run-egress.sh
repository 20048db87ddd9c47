# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# nslab run --allow (docs/egress.md) against a fake internet: a lab with
# dnsmasq serving zone data and HTTP/TCP servers, and `nslab exec LAB client
# -- nslab run --allow ... -- curl/dig/nc`, so the jail's upstream is the lab.
# Real clients: allowed names reachable (wildcard siblings too), others
# refused at DNS and at IP; ports restricted; each escape its own check; a
# SIGKILL of nslab run leaves nothing. Root and rootless; EGRESS_UPLINK
# (pasta or proxy, default: nslab's choice) is given to every filtered run
# (e2e-run-egress-proxy: the socket relay, which needs no TUN device).
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env pasta dnsmasq dig curl nc
UPLINK_ARG=${EGRESS_UPLINK:+--egress $EGRESS_UPLINK}
# The uplink a run gets: the one asked for, else nslab's choice: pasta where
# this user can open /dev/net/tun, the relay where not (a rootless user on a
# host whose /dev/net/tun is 0600 root, as udev leaves it on some machines)
if [ -n "${EGRESS_UPLINK:-}" ]; then UPLINK=$EGRESS_UPLINK
elif [ -r /dev/net/tun ] && [ -w /dev/net/tun ]; then UPLINK=pasta
else UPLINK=proxy; fi

# --- bad input: exit 125, the offending value (FILE:LINE:COL for a file), nothing started ---
# badarg NAME WANT ARGS...: nslab run ARGS -- true fails with 125 and stderr containing WANT
badarg() {
	_n=$1
	_w=$2
	shift 2
	"$NSLAB" run "$@" -- true >"$TMP/$_n.out" 2>"$TMP/$_n.err" </dev/null
	_rc=$?
	if [ "$_rc" -eq 125 ] && grep -qF -- "$_w" "$TMP/$_n.err"; then ok "bad input $*: says '$_w'"
	else bad "bad input $*: exit $_rc, stderr: $(cat "$TMP/$_n.err")"; fi
}
badarg b1 "--allow: 'x.test,a..b', column 8: 'a..b': not a host name" --allow x.test,a..b
badarg b2 "'10.0.0.1/8': host bits set (the network is 10.0.0.0/8)" --allow 10.0.0.1/8
badarg b3 "'x.test:99999': port 99999 out of range 1..65535" --allow x.test:99999
printf '# list\nx.test\n  y.test:80/sctp\n' >"$TMP/allow.txt"
badarg b4 "$TMP/allow.txt:3:13: 'y.test:80/sctp': protocol must be tcp or udp" --allow-file "$TMP/allow.txt"
badarg b5 "$TMP/nonexistent: No such file" --allow-file "$TMP/nonexistent"
badarg b6 "--deny: 'maybe': must be drop or reject" --deny maybe
badarg b7 "--dns-deny: 'servfail': must be refused or nxdomain" --dns-deny servfail
badarg b8 "--dns-upstream: 'resolver': not an IP address" --dns-upstream resolver
badarg b9 "--ttl-grace: '1m' is not a whole number of seconds" --ttl-grace 1m
badarg b10 "--egress: 'slirp': must be pasta, veth or proxy" --egress slirp
badarg b13 "only through pasta or the relay (not --egress veth)" --egress veth --host-port 9000
badarg b11 "not with --net or --in" --allow x.test --net host
badarg b12 "--log '$TMP/l.json': only for a filtered run" --log "$TMP/l.json"
[ -e "$TMP/l.json" ] && bad "--log without a filtered run created its file"
L=$(new_lab_name egress)
lab_up "$SRCDIR/tests/e2e/egress.yaml" "$L"
status_json "$L" "$TMP/st.json"
DNS=$(addr "$TMP/st.json" dns 4)
WEB=$(addr "$TMP/st.json" web 4)
OTHER=$(addr "$TMP/st.json" other 4)
CLIENT=$(addr "$TMP/st.json" client 4)
WEB6=$(addr "$TMP/st.json" web 6)
OTHER6=$(addr "$TMP/st.json" other 6)
[ -n "$WEB6" ] && [ -n "$OTHER6" ] || fail "no IPv6 addresses in status --json"
[ -n "$DNS" ] && [ -n "$WEB" ] && [ -n "$OTHER" ] || fail "no addresses in status --json"

bg() {
	_node=$1
	shift
	"$NSLAB" exec "$L" "$_node" -- "$@" >"$TMP/bg-$_node-$$.log" 2>&1 &
	track_pid $!
}

# The zone: names to web and other, a CNAME to a name the tests never allow.
QLOG="$TMP/dnsmasq.log"
# -g '': no group change (setgroups is denied in a rootless lab's user namespace)
bg dns dnsmasq -k -u root -g '' --no-resolv --no-hosts --log-queries --log-facility="$QLOG" \
	--listen-address="$DNS" --bind-interfaces --pid-file= \
	--address=/www.x.test/"$WEB" --address=/y.test/"$WEB" --address=/bad.test/"$OTHER" \
	--address=/evil.test/"$OTHER" --address=/dns.google/"$OTHER" --cname=alias.x.test,bad.test \
	--address=/v6.x.test/"$WEB6"
bg web python3 -m http.server 8000 --bind "$WEB" --directory "$TMP"
bg web python3 -m http.server 8001 --bind "$WEB" --directory "$TMP"
bg web nc -lk -s "$WEB" -p 853
bg other python3 -m http.server 8000 --bind "$OTHER" --directory "$TMP"
bg web python3 -m http.server 8000 --bind "$WEB6" --directory "$TMP"
bg other python3 -m http.server 8000 --bind "$OTHER6" --directory "$TMP"
bg client python3 -m http.server 9000 --bind 127.0.0.1 --directory "$TMP"
bg client python3 -m http.server 9001 --bind 127.0.0.1 --directory "$TMP"
bg client python3 -m http.server 9000 --bind ::1 --directory "$TMP"
bg client python3 -m http.server 9001 --bind ::1 --directory "$TMP"
# a UDP echo on the client's ::1 (--host-port with --ipv6)
bg client python3 -c 'import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::1", 9002))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"echo:" + d, a)'
echo hello >"$TMP/index.html"

up() { "$NSLAB" exec "$L" client -- curl -s -m 1 -o /dev/null "http://$1/"; }
dns_up() { "$NSLAB" exec "$L" client -- dig +short +time=1 +tries=1 "@$DNS" www.x.test | grep -qxF "$WEB"; }
wait_until 10 up "$WEB:8000" || fail "the web server on $WEB:8000 never answered"
wait_until 10 up "$WEB:8001" || fail "the web server on $WEB:8001 never answered"
wait_until 10 up "$OTHER:8000" || fail "the web server on $OTHER:8000 never answered"
wait_until 10 up "[$WEB6]:8000" || fail "the web server on [$WEB6]:8000 never answered"
wait_until 10 up "[$OTHER6]:8000" || fail "the web server on [$OTHER6]:8000 never answered"
wait_until 10 dns_up || fail "dnsmasq on $DNS never answered"
loop_up() { case $1 in \[*) _h=$1 ;; *) _h=127.0.0.1:$1 ;; esac; "$NSLAB" exec "$L" client -- curl -s -m 1 -o /dev/null "http://$_h/"; }
wait_until 10 loop_up 9000 && wait_until 10 loop_up 9001 && wait_until 10 loop_up "[::1]:9000" && wait_until 10 loop_up "[::1]:9001" ||
	fail "the client's loopback servers never answered"

# jail NAME ALLOW CMD...: nslab run --allow ALLOW on the client; out in $TMP/NAME.out; sets rc.
jail() {
	_n=$1
	_a=$2
	shift 2
	# shellcheck disable=SC2086 # JAIL_ARGS, UPLINK_ARG: more options, split on blanks
	"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG --allow "$_a" --dns-upstream "$DNS" --deny reject \
		${JAIL_ARGS:-} -- "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err" </dev/null
	rc=$?
}
check() { # WHAT EXPECTED_RC
	if [ "$rc" -eq "$2" ]; then ok "$1"; else bad "$1: exit $rc, expected $2 ($(head -3 "$TMP/$_n.err"))"; fi
}
CURL="curl -s -m 2 -o /dev/null -w %{http_code}"

jail allowed www.x.test $CURL http://www.x.test:8000/
check "allowed name reachable" 0
[ "$(cat "$TMP/allowed.out")" = 200 ] || bad "allowed name: HTTP $(cat "$TMP/allowed.out")"

jail wild '*.y.test' sh -c "$CURL http://a.y.test:8000/ && $CURL http://b.y.test:8001/"
check "wildcard siblings reachable" 0

jail refused www.x.test dig +time=1 +tries=1 bad.test
grep -q "status: REFUSED" "$TMP/refused.out" && ok "a name not allowed: REFUSED" ||
	bad "a name not allowed: $(grep status "$TMP/refused.out")"

jail direct www.x.test $CURL "http://$OTHER:8000/"
[ "$rc" -ne 0 ] && ok "an address not allowed (resolvable outside) refused" ||
	bad "reached $OTHER:8000 directly"

jail static "$OTHER" $CURL "http://$OTHER:8000/"
check "an allowed address reachable" 0
jail cidr "${OTHER%.*}.0/24" $CURL "http://$OTHER:8000/"
check "an allowed prefix (${OTHER%.*}.0/24): an address in it reachable" 0

jail port www.x.test:8000/tcp sh -c "$CURL http://www.x.test:8000/ && ! $CURL http://www.x.test:8001/"
check "a port-restricted name: its port reachable, another port refused" 0

jail otherdns www.x.test dig +time=1 +tries=1 "@$DNS" www.x.test
[ "$rc" -ne 0 ] && ok "a query to another DNS server fails" || bad "another DNS server answered"

# UDP through the uplink (the relay's TPROXY path under --egress proxy): an entry naming port 53
jail udp "www.x.test,$DNS:53/udp" sh -c "dig +short +time=1 +tries=1 @$DNS www.x.test; dig +short +time=1 +tries=1 @$DNS y.test"
[ "$rc" -eq 0 ] && [ "$(cat "$TMP/udp.out")" = "$WEB
$WEB" ] && ok "an entry naming $DNS:53/udp: DNS over UDP to it, two flows, answers back" ||
	bad "UDP to $DNS:53: exit $rc, '$(cat "$TMP/udp.out")' $(head -3 "$TMP/udp.err")"

jail tunnel www.x.test sh -c 'for i in 1 2 3 4 5; do dig +time=1 +tries=1 "data$i-$$.evil.test"; done'
if grep -q "evil.test" "$QLOG" 2>/dev/null; then bad "random subdomains reached the upstream: $(grep -c evil.test "$QLOG")"
else ok "random subdomains of a name not allowed never reach the upstream"; fi
grep -q "www.x.test" "$QLOG" || bad "the upstream's log shows no allowed query (is it logging?)"

jail dot www.x.test sh -c "getent hosts www.x.test >/dev/null; nc -z -w 2 $WEB 853"
[ "$rc" -ne 0 ] && ok "DoT (853) to an allowed address refused" || bad "reached $WEB:853"

# the upstream sees the gate's query, not the client's: the case of the letters (0x20) does not pass
jail case www.x.test dig +short +time=1 +tries=1 WwW.x.TeSt
[ "$(cat "$TMP/case.out")" = "$WEB" ] && ok "a mixed-case allowed name answered" || bad "WwW.x.TeSt: '$(cat "$TMP/case.out")'"
if grep -q "WwW.x.TeSt" "$QLOG"; then bad "the client's letter case reached the upstream"
else ok "the upstream saw the name in lower case only"; fi

jail cname alias.x.test dig +time=1 +tries=1 alias.x.test
grep -q "status: REFUSED" "$TMP/cname.out" && ok "a CNAME to a name not allowed: REFUSED" ||
	bad "CNAME to bad.test: $(grep -E 'status|IN' "$TMP/cname.out")"

jail doh '*.google' dig +time=1 +tries=1 dns.google
grep -q "status: REFUSED" "$TMP/doh.out" && ok "a DoH endpoint under an allowed wildcard: REFUSED" ||
	bad "dns.google under *.google: $(grep status "$TMP/doh.out")"
jail doh2 dns.google dig +short +time=1 +tries=1 dns.google
[ "$(cat "$TMP/doh2.out")" = "$OTHER" ] && ok "a DoH endpoint named exactly: allowed" ||
	bad "dns.google named: '$(cat "$TMP/doh2.out")'"

jail v6 www.x.test sh -c 'ip -6 route | grep -q . || ip -6 addr | grep -q inet6'
[ "$rc" -ne 0 ] && ok "no IPv6 address or route without --ipv6" || bad "IPv6 present in the jail"

jail loop www.x.test $CURL "http://$CLIENT:9000/"
[ "$rc" -ne 0 ] && ok "the host's own address refused" || bad "reached the host's address"
jail loop2 www.x.test $CURL "http://127.0.0.1:9000/"
[ "$rc" -ne 0 ] && ok "the host's loopback service unreachable" || bad "reached the host's loopback"

# --host-port (a bypass by design): the listed port of the host's loopback at the
# gateway's address, through pasta or the relay; another port, and the relay's
# own address asked for directly, not
JAIL_ARGS="--host-port 9000" jail hp www.x.test sh -c "$CURL http://169.254.53.1:9000/; echo; \
	$CURL http://169.254.53.1:9001/; echo; $CURL http://169.254.54.1:9000/; echo; \
	$CURL http://127.0.0.1:9000/; echo; $CURL http://127.0.0.1:9001/"
[ "$(sed -n 1p "$TMP/hp.out")" = 200 ] && ok "--host-port 9000 ($UPLINK): the host's loopback port reachable inside" ||
	bad "--host-port 9000 ($UPLINK): $(cat "$TMP/hp.out" "$TMP/hp.err")"
[ "$(sed -n 2p "$TMP/hp.out")" != 200 ] && [ "$(sed -n 3p "$TMP/hp.out")" != 200 ] &&
	ok "--host-port 9000 ($UPLINK): port 9001 and the relay's address not" ||
	bad "--host-port 9000: 9001 or 169.254.54.1 reachable: $(cat "$TMP/hp.out")"
# as nettrap's users write it (a tool's --proxy http://127.0.0.1:8080): the
# jail's own 127.0.0.1:9000 leads to the host's, 127.0.0.1:9001 stays the jail's
[ "$(sed -n 4p "$TMP/hp.out")" = 200 ] && [ "$(sed -n 5p "$TMP/hp.out")" = 000 ] &&
	ok "--host-port 9000 ($UPLINK): the jail's 127.0.0.1:9000 is the host's, its 127.0.0.1:9001 not" ||
	bad "--host-port 9000 ($UPLINK), the jail's 127.0.0.1: $(cat "$TMP/hp.out" "$TMP/hp.err")"
# --host-port with --ipv6: the host's ::1 at the gateway's IPv6 address, TCP and
# UDP (through pasta: nslab's own listeners in the gateway, IPv6 having no
# route_localnet; through the relay: its IPv6 address); another port (9001,
# listening on ::1 too), nslab's listener address and the relay's, not
GW6=fd53:6e73:6c61:62::1
UDP6='import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"ping6", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(100)[0].decode())
except OSError as e:
    print("none")'
JAIL_ARGS="--ipv6 --host-port 9000,9002" jail hp6 www.x.test sh -c "$CURL http://[$GW6]:9000/; echo; \
	$CURL http://[$GW6]:9001/; echo; $CURL http://[fd53:6e73:6c61:55::1]:1/; echo; \
	$CURL http://[fd53:6e73:6c61:54::1]:9000/; echo; python3 -c '$UDP6' $GW6 9002"
printf '200\n000\n000\n000\necho:ping6\n' >"$TMP/hp6.want"
cmp -s "$TMP/hp6.out" "$TMP/hp6.want" &&
	ok "--host-port 9000,9002 --ipv6 ($UPLINK): the host's [::1]:9000 (TCP) and :9002 (UDP) reachable at [$GW6], 9001 and nslab's own addresses not" ||
	bad "--host-port --ipv6 ($UPLINK): $(cat "$TMP/hp6.out" "$TMP/hp6.err")"

# --- --ipv6 (through pasta, or the relay's IPv6 listeners): an allowed IPv6
# address reachable, another not; a name with only an AAAA answer, through the gate
# (an allowed fetch may be retried once: Debian 12's pasta loses about 1 first
# connection in 700 on its own: docs/egress.md, IPv6 through pasta)
CURL6="curl -s -m 2 --retry 1 --retry-delay 1 --retry-all-errors -o /dev/null -w %{http_code}"
JAIL_ARGS="--ipv6" jail v6on "[$WEB6]" sh -c "$CURL6 http://[$WEB6]:8000/; echo; $CURL http://[$OTHER6]:8000/"
[ "$(sed -n 1p "$TMP/v6on.out")" = 200 ] && ok "--ipv6 ($UPLINK): an allowed IPv6 address reachable" ||
	bad "--ipv6 ($UPLINK): [$WEB6]:8000: $(cat "$TMP/v6on.out" "$TMP/v6on.err")"
[ "$(sed -n 2p "$TMP/v6on.out")" = 000 ] && ok "--ipv6 ($UPLINK): an IPv6 address not allowed refused" ||
	bad "--ipv6 ($UPLINK): [$OTHER6]:8000: $(cat "$TMP/v6on.out")"
JAIL_ARGS="--ipv6" jail v6name v6.x.test $CURL6 http://v6.x.test:8000/
[ "$(cat "$TMP/v6name.out")" = 200 ] && ok "--ipv6 ($UPLINK): an allowed name's AAAA reachable" ||
	bad "--ipv6 ($UPLINK): v6.x.test: $(cat "$TMP/v6name.out" "$TMP/v6name.err")"

# The first connection right after the start, 30 runs without a retry. pasta
# took the source of every IPv6 frame from the gateway for the jail's address,
# the gateway's MLD reports and DAD probes of its first second came from ::,
# and the next segments went to :: (7% of runs failed before the gateway stopped
# them); pasta's own residue is about 1 in 700, so one failure is let pass.
if [ "$UPLINK" = pasta ]; then
	first_fails=0
	for i in $(seq 1 30); do
		JAIL_ARGS="--ipv6" jail v6first "[$WEB6]" curl -s -m 2 -o /dev/null -w %{http_code} "http://[$WEB6]:8000/"
		[ "$(cat "$TMP/v6first.out")" = 200 ] || first_fails=$((first_fails + 1))
	done
	[ "$first_fails" -le 1 ] && ok "--ipv6 (pasta): the first connection after the start, $((30 - first_fails)) of 30" ||
		bad "--ipv6 (pasta): the first connection after the start failed in $first_fails runs of 30"
fi

# --- ICMP and ICMPv6 echo: a ping socket in the jail (its ping_group_range is
# nslab's to set; AF_INET6 for an IPv6 address, with --ipv6), one echo each: an
# allowed address answers (through the relay: an ICMP socket of the caller's
# namespace), another does not; both logged as ICMP lines and --log records
T='[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
PING='import socket, struct, sys
a = sys.argv[1]
v6 = ":" in a
fam, proto = (socket.AF_INET6, socket.IPPROTO_ICMPV6) if v6 else (socket.AF_INET, socket.IPPROTO_ICMP)
req, rep, tag = (128, 129, b"nslab-ping6") if v6 else (8, 0, b"nslab-ping")
s = socket.socket(fam, socket.SOCK_DGRAM, proto)
s.settimeout(float(sys.argv[2]))
s.sendto(struct.pack("!BBHHH", req, 0, 0, 0, 1) + tag, (a, 0))
try:
    d, src = s.recvfrom(1500)
except OSError as e:
    print("no reply:", e); sys.exit(1)
print("type", d[0], "from", src[0]); sys.exit(0 if d[0] == rep and src[0] == a and d[8:] == tag else 1)'
# icmp_echo WHAT NAME ALLOW ALLOWED OTHER REPLY_TYPE [RUN_FLAG [RECORD]]: the echo pair
# above in jail NAME (--allow ALLOW); RECORD: one more line its --log must have
icmp_echo() {
	_what=$1 _name=$2 _allow=$3 _yes=$4 _no=$5 _type=$6 _flag=${7:-} _record=${8:-}
	JAIL_ARGS="$_flag -v --log $TMP/$_name.jsonl" jail "$_name" "$_allow" sh -c 'python3 -c "$0" "$1" 2; echo "rc=$?"; python3 -c "$0" "$2" 1; echo "rc=$?"' "$PING" "$_yes" "$_no"
	if [ "$UPLINK" = proxy ]; then
		[ "$(grep -c "^rc=" "$TMP/$_name.out")" = 2 ] && grep -qx "rc=0" "$TMP/$_name.out" && grep -qx "type $_type from $_yes" "$TMP/$_name.out" &&
			grep -q "^nslab run: $T ICMP ALLOWED  $_yes\$" "$TMP/$_name.err" &&
			grep -q "^nslab run: $T ICMP CONN     $_yes, out 1 packets [0-9]* bytes, in 1 packets" "$TMP/$_name.err" &&
			grep -q "\"kind\":\"connection\",\"verdict\":\"ALLOWED\",\"proto\":\"ICMP\",.*\"dst\":\"$_yes\".*\"packets_out\":1,.*\"packets_in\":1" "$TMP/$_name.jsonl" &&
			{ [ -z "$_record" ] || grep -q "$_record" "$TMP/$_name.jsonl"; } &&
			ok "$_what through the relay${_flag:+ ($_flag)}: an allowed address answers a ping, logged (ICMP ALLOWED, CONN with counts, --log records)" ||
			bad "$_what through the relay: $(cat "$TMP/$_name.out" "$TMP/$_name.err")"
	else
		# pasta carries ICMP through ping sockets of its own, where the caller's ping_group_range lets it
		log "$_what of an allowed address through pasta: not checked (pasta's own ping sockets)"
	fi
	[ "$(sed -n '$p' "$TMP/$_name.out")" = "rc=1" ] && grep -q "^nslab run: $T ICMP BLOCKED  $_no\$" "$TMP/$_name.err" &&
		ok "$_what ($UPLINK${_flag:+, $_flag}): an address not allowed gets no echo reply, logged (ICMP BLOCKED)" ||
		bad "$_what to $_no ($UPLINK): $(cat "$TMP/$_name.out" "$TMP/$_name.err")"
}
icmp_echo ICMP ping "$WEB" "$WEB" "$OTHER" 0 "" '"kind":"summary",.*"connections":1,"blocked_connections":1'
icmp_echo ICMPv6 ping6 "[$WEB6]" "$WEB6" "$OTHER6" 129 --ipv6
# iputils ping itself (file capability cap_net_raw: it needs --cap-add net_raw to
# start in a sandbox), IPv4 and IPv6: the allowed address answers (through the
# relay), the other not, whatever the uplink
JAIL_ARGS="--ipv6 --cap-add net_raw -v" jail iping "$WEB,[$WEB6]" sh -c \
	'for a in "$@"; do ping -n -c 1 -W 2 "$a" >/dev/null 2>&1; echo "$a rc=$?"; done' ping "$WEB" "$OTHER" "$WEB6" "$OTHER6"
grep -qx "$OTHER rc=1" "$TMP/iping.out" && grep -qx "$OTHER6 rc=1" "$TMP/iping.out" &&
	grep -q "^nslab run: $T ICMP BLOCKED  $OTHER\$" "$TMP/iping.err" && grep -q "^nslab run: $T ICMP BLOCKED  $OTHER6\$" "$TMP/iping.err" &&
	ok "iputils ping (--cap-add net_raw, $UPLINK): $OTHER and [$OTHER6] not allowed, no answer (ICMP BLOCKED)" ||
	bad "iputils ping ($UPLINK), addresses not allowed: $(cat "$TMP/iping.out" "$TMP/iping.err")"
if [ "$UPLINK" = proxy ]; then
	grep -qx "$WEB rc=0" "$TMP/iping.out" && grep -qx "$WEB6 rc=0" "$TMP/iping.out" &&
		grep -q "^nslab run: $T ICMP ALLOWED  $WEB\$" "$TMP/iping.err" && grep -q "^nslab run: $T ICMP ALLOWED  $WEB6\$" "$TMP/iping.err" &&
		ok "iputils ping (--cap-add net_raw) through the relay: $WEB and [$WEB6] answer (ICMP ALLOWED)" ||
		bad "iputils ping through the relay, allowed addresses: $(cat "$TMP/iping.out" "$TMP/iping.err")"
else
	# pasta sends echo through ping sockets of the caller's namespace only, and
	# the lab node's net.ipv4.ping_group_range is Debian's '1 0' (docs/egress.md)
	log "iputils ping of an allowed address through pasta: not checked (pasta's own ping sockets)"
fi
# raw sockets stay out of reach in the jail (ICMP tunnelling needs them, or a ping
# socket, which carries only echo, and only where the policy allows)
jail raw "$WEB" python3 -c 'import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
except PermissionError:
    print("refused")'
[ "$(cat "$TMP/raw.out")" = refused ] && ok "a raw socket refused in the jail" || bad "raw socket in the jail: $(cat "$TMP/raw.out" "$TMP/raw.err")"
# Whether the relay can carry ICMP from this user's own namespace (not a lab
# node's): a ping socket where ping_group_range has our gid, a raw one as root,
# else none, and --dry-run says so
if [ "$UPLINK" = proxy ]; then
	PLO=$(awk '{print $1}' /proc/sys/net/ipv4/ping_group_range)
	PHI=$(awk '{print $2}' /proc/sys/net/ipv4/ping_group_range)
	G=$(id -g)
	if [ "$PLO" -le "$G" ] && [ "$G" -le "$PHI" ]; then WANT="carried by the relay (ping sockets"
	elif is_root; then WANT="carried by the relay (raw ICMP sockets"
	else WANT="not carried (answered admin-prohibited): the caller's namespace gives this user no ping socket (net.ipv4.ping_group_range '$PLO $PHI' leaves out gid $G)"; fi
	"$NSLAB" run --dry-run --egress proxy --ipv6 --allow x.test --dns-upstream "$DNS" -- true >"$TMP/icmpdry.out" 2>&1
	grep -qF "ICMP echo: $WANT" "$TMP/icmpdry.out" && grep -qF "ICMPv6 echo: $(echo "$WANT" | sed 's/raw ICMP sockets/raw ICMPv6 sockets/')" "$TMP/icmpdry.out" && ok "--dry-run --egress proxy --ipv6 here: ICMP and ICMPv6 echo $(echo "$WANT" | cut -c1-40)..." ||
		bad "--dry-run ICMP: want '$WANT': $(cat "$TMP/icmpdry.out")"
else
	# pasta: ping sockets only, of the caller's namespace (here the lab node's):
	# whether the range lets the run's group in is what --dry-run reports
	if "$NSLAB" exec "$L" client -- python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)' 2>/dev/null
	then WANT="carried by pasta (ping sockets"
	else WANT="not answered: pasta sends echo through ping sockets only"; fi
	"$NSLAB" exec "$L" client -- "$NSLAB" run --dry-run --egress pasta --allow x.test --dns-upstream "$DNS" -- true >"$TMP/icmpdry.out" 2>&1
	grep -qF "ICMP echo: $WANT" "$TMP/icmpdry.out" && ok "--dry-run --egress pasta on the lab node: ICMP echo $WANT..." ||
		bad "--dry-run ICMP (pasta): want '$WANT': $(cat "$TMP/icmpdry.out")"
fi

# --dry-run: the policy as it would be enforced (entries as parsed, deny action,
# uplink, DNS gate, the gateway's ruleset, which nft accepts), and nothing started
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG --dry-run --allow "www.x.test,*.y.test:443/tcp,$OTHER" \
	--dns-upstream "$DNS" --deny reject -- touch "$TMP/dry-ran" >"$TMP/dry.out" 2>"$TMP/dry.err" </dev/null
rc=$?
T1="$(printf '%-32s' www.x.test)"
T2="$(printf '%-32s' '*.y.test')"
if [ "$rc" -eq 0 ] && [ ! -e "$TMP/dry-ran" ] && grep -qxF "  name     $T1 any port" "$TMP/dry.out" &&
	grep -qxF "  wildcard $T2 port 443/tcp" "$TMP/dry.out" &&
	grep -q "^  address  $OTHER *any protocol, any port\$" "$TMP/dry.out" &&
	grep -qxF "denied: rejected (TCP reset, ICMP admin-prohibited)" "$TMP/dry.out" &&
	grep -q "^uplink: $UPLINK" "$TMP/dry.out" && grep -q "^DNS gate: .* upstream $DNS; names no entry allows: REFUSED" "$TMP/dry.out" &&
	grep -qxF "		ip daddr { $OTHER } accept" "$TMP/dry.out"
then ok "--dry-run: the allow list as parsed, the deny action, the uplink ($UPLINK), the DNS gate, the ruleset; the command not run"
else bad "--dry-run: exit $rc, ran: $(ls "$TMP/dry-ran" 2>&1), $(cat "$TMP/dry.out" "$TMP/dry.err")"; fi
# the printed ruleset is one nft loads (in a namespace of this test's own)
if command -v nft >/dev/null && command -v unshare >/dev/null; then
	sed -n '/^table inet nslab_egress {$/,/^}$/p' "$TMP/dry.out" >"$TMP/dry.nft"
	unshare -rn nft -f "$TMP/dry.nft" 2>"$TMP/dry-nft.err" && ok "--dry-run: nft loads the printed ruleset" ||
		bad "--dry-run: nft refuses the printed ruleset: $(cat "$TMP/dry-nft.err")"
fi

# An address stays allowed for the answer's TTL (dnsmasq's local TTL: 0 s) plus
# the grace, then no more: reachable first, refused within a few seconds.
JAIL_ARGS="--ttl-grace 1" jail ttl www.x.test sh -c "getent hosts www.x.test >/dev/null &&
	$CURL http://$WEB:8000/ >/dev/null && i=0 && while $CURL http://$WEB:8000/ >/dev/null; do
	i=\$((i + 1)); [ \$i -lt 50 ] || exit 1; sleep 0.2; done"
check "an address past its TTL + grace refused again" 0

# --dns-deny nxdomain
JAIL_ARGS="--dns-deny nxdomain" jail nx www.x.test dig +time=1 +tries=1 bad.test
grep -q "status: NXDOMAIN" "$TMP/nx.out" && ok "--dns-deny nxdomain" ||
	bad "--dns-deny nxdomain: $(grep status "$TMP/nx.out")"

# --deny drop (the default): a refused connection times out instead of a reset
JAIL_ARGS="--deny drop" jail drop www.x.test curl -s -m 1 -o /dev/null "http://$OTHER:8000/"
[ "$rc" -eq 28 ] && ok "--deny drop: a connection not allowed times out" ||
	bad "--deny drop: curl exit $rc, expected 28 (timeout)"
jail rej www.x.test curl -s -m 1 -o /dev/null "http://$OTHER:8000/"
[ "$rc" -eq 7 ] && ok "--deny reject: a connection not allowed is refused at once" ||
	bad "--deny reject: curl exit $rc, expected 7 (connection refused)"

# DNS over TCP through the gate
jail tcp www.x.test dig +tcp +short +time=1 +tries=1 www.x.test
[ "$(cat "$TMP/tcp.out")" = "$WEB" ] && ok "DNS over TCP through the gate" ||
	bad "DNS over TCP: '$(cat "$TMP/tcp.out")'"

# --analyse: everything allowed, every query reported
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG --analyse --dns-upstream "$DNS" -- \
	$CURL "http://bad.test:8000/" >"$TMP/an.out" 2>"$TMP/an.err" </dev/null
rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$TMP/an.out")" = 200 ] && ok "--analyse: a name in no list reachable" ||
	bad "--analyse: exit $rc, HTTP $(cat "$TMP/an.out"): $(cat "$TMP/an.err")"
grep -q "DNS  ALLOWED  bad.test \(→\|->\) $OTHER\$" "$TMP/an.err" && ok "--analyse: the query reported" ||
	bad "--analyse: no report of bad.test: $(cat "$TMP/an.err")"

# -q: no live lines, even for --analyse; the log still written
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG -q --analyse --dns-upstream "$DNS" --log "$TMP/q.jsonl" -- \
	dig +short +time=1 +tries=1 www.x.test >"$TMP/q.out" 2>"$TMP/q.err" </dev/null
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$TMP/q.err" ] && grep -q '"kind":"dns","ts":.*"name":"www.x.test"' "$TMP/q.jsonl" &&
	ok "-q --analyse: no live lines on stderr, the log written" || bad "-q: exit $rc, stderr: $(cat "$TMP/q.err")"

# --log FILE: the JSON log (schema 1, docs/egress.md) of a run with one allowed and one refused query
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG --allow www.x.test --dns-upstream "$DNS" --log "$TMP/log.jsonl" -- \
	sh -c 'dig +short +time=1 +tries=1 www.x.test; dig +short +time=1 +tries=1 bad.test' \
	>"$TMP/log.out" 2>"$TMP/log.err" </dev/null
rc=$?
if $PY - "$TMP/log.jsonl" "$WEB" "$DNS" <<'PY'; then ok "--log: session (the policy as parsed), both queries with their verdicts, summary"; else bad "--log: $(cat "$TMP/log.jsonl")"; fi
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
s, d, end = recs[0], recs[1:-1], recs[-1]
assert s["schema"] == 1 and s["kind"] == "session" and s["mode"] == "allow", s
assert s["command"] == ["sh", "-c", s["command"][2]] and ["allow", "www.x.test"] in s["options"], s
# the policy as parsed, beside the options as given
assert s["policy"]["allow"] == [{"kind": "name", "host": "www.x.test", "port": None, "proto": "any", "in_effect": True}], s
assert s["policy"]["dns_upstream"] == sys.argv[3] and s["policy"]["deny"] == "drop" and s["policy"]["ttl_grace"] == 60, s
assert [(r["kind"], r["name"], r["allowed"]) for r in d] == [("dns", "www.x.test", True), ("dns", "bad.test", False)], d
assert d[0]["addresses"] == 1 and d[0]["type"] == "A" and d[1]["verdict"] == "BLOCKED", d
# the answer with its TTL (dnsmasq's local records: 0 s); none for a refused name
assert d[0]["answers"] == [{"addr": sys.argv[2], "ttl": 0}] and "answers" not in d[1], d
assert end["kind"] == "summary" and end["queries"] == 2 and end["allowed"] == 1 and end["blocked"] == 1, end
assert end["exit_code"] == 0 and end["duration_ms"] >= 0, end
PY

# -v --log: live lines aligned (time, kind, verdict, destination, name) between a
# header and a summary; the connection's record names what it was resolved from
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG -v --allow www.x.test --dns-upstream "$DNS" --deny reject \
	--log "$TMP/nm.jsonl" -- sh -c "$CURL http://www.x.test:8000/; dig +short +time=1 +tries=1 bad.test; $CURL http://$OTHER:8000/; true" \
	>"$TMP/nm.out" 2>"$TMP/nm.err" </dev/null
rc=$?
T='[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
if [ "$rc" -eq 0 ] && grep -q "^nslab run: session [0-9]*-[0-9]* started" "$TMP/nm.err" &&
	grep -q "^nslab run: $T DNS  ALLOWED  www.x.test → $WEB\$" "$TMP/nm.err" &&
	grep -q "^nslab run: $T TCP  ALLOWED  $WEB:8000 (www.x.test)\$" "$TMP/nm.err" &&
	grep -q "^nslab run: $T DNS  BLOCKED  bad.test\$" "$TMP/nm.err" &&
	[ "$(grep -c "^nslab run: $T TCP  BLOCKED  $OTHER:8000\$" "$TMP/nm.err")" = 1 ] &&
	grep -q "^nslab run: session .* finished (exit code 0, duration [0-9.]* s): [23] DNS queries ([12] allowed, 1 blocked), 2 connections (1 allowed, 1 blocked)" "$TMP/nm.err"
then ok "-v: live lines between a session header and a summary"; else bad "-v lines: exit $rc, $(cat "$TMP/nm.err")"; fi
grep -q "\"kind\":\"connection\",\"verdict\":\"ALLOWED\",\"proto\":\"TCP\",\"src\":\"169.254.53.2\",\"sport\":[0-9]*,\"dst\":\"$WEB\",\"dport\":8000,\"name\":\"www.x.test\",.*\"start\":\"20" "$TMP/nm.jsonl" &&
	grep -q "\"kind\":\"flow\",\"event\":\"new\",.*\"dport\":8000,\"name\":\"www.x.test\"" "$TMP/nm.jsonl" &&
	grep -q "\"kind\":\"blocked\",\"verdict\":\"BLOCKED\",.*\"proto\":\"TCP\",\"src\":\"169.254.53.2\",\"sport\":[0-9]*,\"dst\":\"$OTHER\",\"dport\":8000}" "$TMP/nm.jsonl" &&
	ok "--log: the connection (5-tuple, verdict, start) and flow records name what the address was resolved from; the blocked one with its 5-tuple" ||
	bad "--log names: $(cat "$TMP/nm.jsonl")"

# --analyse --log: the connection with its byte counts (conntrack in the gateway)
head -c 20000 /dev/urandom >"$TMP/blob"
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG --analyse --dns-upstream "$DNS" --log "$TMP/an.jsonl" -- \
	curl -s -m 2 -o /dev/null "http://$WEB:8000/blob" >"$TMP/an2.out" 2>"$TMP/an2.err" </dev/null
if $PY - "$TMP/an.jsonl" "$WEB" "$UPLINK" <<'PY'; then ok "--analyse --log: the connection with bytes each way"; else bad "--analyse --log: $(cat "$TMP/an.jsonl" "$TMP/an2.err")"; fi
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
c = [r for r in recs if r["kind"] == "connection" and r["dst"] == sys.argv[2] and r["dport"] == 8000]
assert len(c) == 1, recs
c = c[0]
# the server sent 20000 bytes of body (plus headers); IP and TCP headers are counted too
# the relay writes into the jail's link from a local socket: segments of up to 64 KiB (TSO)
assert c["proto"] == "TCP" and 20000 < c["bytes_in"] < 20000 + 4000, c
assert c["packets_in"] >= (2 if sys.argv[3] == "proxy" else 14), c
assert 0 < c["bytes_out"] < 2000 and c["packets_out"] >= 3, c
assert recs[-1]["connections"] == 1 and recs[0]["mode"] == "analyse", recs[-1]
PY

# --- every record of the logs written above validates against the documented
# schema (docs/egress-log.schema.json; python3-jsonschema, scripts/deps.sh) ---
if out=$($PY "$SRCDIR/tests/tools/egress-log-check.py" "$SRCDIR/docs/egress-log.schema.json" "$TMP/log.jsonl" "$TMP/nm.jsonl" "$TMP/an.jsonl" \
	"$TMP/ping.jsonl" "$TMP/ping6.jsonl" 2>&1); then ok "--log: every record validates against docs/egress-log.schema.json ($out)"
else bad "--log schema: $out"; fi

# --- a SIGKILL of nslab run: nothing left behind (pasta, namespaces) ---
"$NSLAB" exec "$L" client -- "$NSLAB" run $UPLINK_ARG --allow www.x.test --dns-upstream "$DNS" -- sleep 60 \
	>"$TMP/kill.out" 2>&1 &
track_pid $!
runs() { for p in $(pgrep -f "run ${UPLINK_ARG:+$UPLINK_ARG }--allow www.x.test --dns-upstream"); do ours "$p" && [ "$(cat /proc/$p/comm)" = nslab ] && echo "$p"; done; }
has_run() { [ -n "$(runs)" ]; }
pasta_of() { for c in $(children_of "$1"); do case "$(cat /proc/$c/comm 2>/dev/null)" in pasta* | passt*) echo "$c" ;; esac; done; }
R=""
P=""
has_pasta() { R=$(runs | tail -n 1) && [ -n "$R" ] && P=$(pasta_of "$R") && [ -n "$P" ]; }
has_run_pid() { R=$(runs | tail -n 1) && [ -n "$R" ]; }
if [ "$UPLINK" = proxy ]; then
	wait_until 10 has_run_pid || fail "no nslab run seen during the run"
	[ -z "$(pasta_of "$R")" ] || bad "--egress proxy started pasta"
else
	wait_until 10 has_pasta || fail "no pasta under nslab run during the run"
fi
sleepers() { for p in $(pgrep -x sleep); do ours "$p" && echo "$p"; done; }
has_sleep() { [ -n "$(sleepers)" ]; }
wait_until 10 has_sleep || bad "the jailed command never started"
kill -9 "$R"
gone() { ! alive "$1"; }
if [ -n "$P" ]; then
	if wait_until 5 gone "$P"; then ok "SIGKILL of nslab run: pasta gone"; else bad "pasta $P left"; fi
fi
no_sleep() { [ -z "$(sleepers)" ]; }
if wait_until 5 no_sleep; then ok "SIGKILL of nslab run: the command gone"; else bad "left: $(sleepers)"; fi

# --- --egress veth: from the router (it forwards; the client does not); root only ---
if ! is_root || [ -n "${EGRESS_UPLINK:-}" ]; then
	"$NSLAB" down "$L" || bad "nslab down $L failed"
	finish
fi
"$NSLAB" exec "$L" client -- "$NSLAB" run --egress veth --allow "$WEB" -- true >"$TMP/vc.out" 2>"$TMP/vc.err"
rc=$?
[ "$rc" -eq 125 ] && grep -q "ip_forward" "$TMP/vc.err" && ok "--egress veth on a host that does not forward: refused" ||
	bad "--egress veth on the client: exit $rc, $(cat "$TMP/vc.err")"
vjail() {
	_n=$1
	shift
	"$NSLAB" exec "$L" isp -- "$NSLAB" run --egress veth --allow "$WEB" --dns-upstream "$DNS" \
		--deny reject -- "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err" </dev/null
	rc=$?
}
vjail v1 $CURL "http://$WEB:8000/"
check "--egress veth: an allowed address reachable" 0
vjail v2 $CURL "http://$OTHER:8000/"
[ "$rc" -ne 0 ] && ok "--egress veth: an address not allowed refused" || bad "--egress veth: reached $OTHER"
"$NSLAB" exec "$L" isp -- "$NSLAB" run --egress veth --ipv6 --allow "[$WEB6]" --dns-upstream "$DNS" --deny reject -- \
	sh -c "$CURL http://[$WEB6]:8000/; echo; $CURL http://[$OTHER6]:8000/" >"$TMP/v6v.out" 2>"$TMP/v6v.err" </dev/null
[ "$(cat "$TMP/v6v.out")" = "200
000" ] && ok "--egress veth --ipv6: an allowed IPv6 address reachable, another refused" ||
	bad "--egress veth --ipv6: $(cat "$TMP/v6v.out" "$TMP/v6v.err")"
host_state() { "$NSLAB" exec "$L" isp -- sh -c 'nft list tables | grep nslab_egress; ip -o link | grep -o "nsgw[0-9]*"'; }
no_host_state() { [ -z "$(host_state)" ]; }
wait_until 5 no_host_state || bad "--egress veth: left after a run: $(host_state)"
"$NSLAB" exec "$L" isp -- "$NSLAB" run --egress veth --allow "$WEB" --dns-upstream "$DNS" -- sleep 60 \
	>"$TMP/vk.out" 2>&1 &
track_pid $!
# the nslab run itself (argv[1] "run"), not the nslab exec around it
vruns() { for p in $(pgrep -f "run --egress veth --allow $WEB --dns-upstream $DNS -- sleep"); do ours "$p" && [ "$(tr '\0' '\n' <"/proc/$p/cmdline" | sed -n 2p)" = run ] && echo "$p"; done; }
has_host_state() { [ -n "$(host_state)" ] && [ -n "$(vruns)" ]; }
wait_until 10 has_host_state || bad "--egress veth: no table or veth seen during the run"
V=$(vruns | head -n 1)
[ -n "$V" ] && kill -9 "$V"
if wait_until 5 no_host_state; then ok "SIGKILL of nslab run --egress veth: its host table and veth gone"
else bad "SIGKILL of nslab run --egress veth: left $(host_state)"; fi

"$NSLAB" down "$L" || bad "nslab down $L failed"
finish

# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# nslab run --interactive, --pcap, --no-log, --host-port, sudo ownership and
# `nslab cleanup` (docs/egress.md), against the fake internet of
# run-egress.sh (a lab with dnsmasq and web servers). Questions are answered
# through a real pseudo-terminal (tests/e2e/ptydrive.py): approve, deny,
# always, details, timeout. The capture is read by tshark. Root and rootless
# (the sudo ownership check is root's: a rootless lab maps one uid only).
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env pasta dnsmasq dig curl tshark setsid
# tshark reads its profile under $HOME: the caller's may be closed to a rootless run
tshark() { HOME=$TMP command tshark "$@"; }

# badarg NAME WANT ARGS...: nslab run ARGS -- true fails with 125 and stderr containing WANT
badarg() {
	_n=$1
	_w=$2
	shift 2
	setsid -w "$NSLAB" run "$@" -- true >"$TMP/$_n.out" 2>"$TMP/$_n.err" </dev/null
	_rc=$?
	if [ "$_rc" -eq 125 ] && grep -qF -- "$_w" "$TMP/$_n.err"; then ok "bad input $*: says '$_w'"
	else bad "bad input $*: exit $_rc, stderr: $(cat "$TMP/$_n.err")"; fi
}
badarg b1 "--ask-timeout: '0' is not a whole number of seconds 1..86400" --interactive --ask-timeout 0
badarg b2 "--ask-timeout: 'soon' is not a whole number" --interactive --ask-timeout soon
badarg b3 "--ask-timeout: only with --interactive" --allow x.test --ask-timeout 5
badarg b4 "--pcap '$TMP/p.pcapng': only for a filtered run" --pcap "$TMP/p.pcapng"
[ -e "$TMP/p.pcapng" ] && bad "--pcap without a filtered run created its file"
badarg b5 "--pcap '$TMP/nodir/p.pcapng': No such file or directory" --allow x.test --pcap "$TMP/nodir/p.pcapng"
# setsid: no controlling terminal at all
badarg b6 "--interactive asks on the terminal, and there is none: /dev/tty" --interactive --log "$TMP/b6.jsonl"
[ -e "$TMP/b6.jsonl" ] && bad "--interactive without a terminal created its log"
badarg b9 "--analyse allows everything, --interactive asks: not both" --analyse --interactive
badarg b7 "--host-port: 'http' is not a port" --allow x.test --host-port http
badarg b8 "--host-port: '70000' is not a port" --allow x.test --host-port 70000
L=$(new_lab_name egask)
lab_up "$SRCDIR/tests/e2e/egress.yaml" "$L"
status_json "$L" "$TMP/st.json"
DNS=$(addr "$TMP/st.json" dns 4)
WEB=$(addr "$TMP/st.json" web 4)
OTHER=$(addr "$TMP/st.json" other 4)
[ -n "$DNS" ] && [ -n "$WEB" ] && [ -n "$OTHER" ] || fail "no addresses in status --json"

bg() {
	_node=$1
	shift
	"$NSLAB" exec "$L" "$_node" -- "$@" >"$TMP/bg-$_node-$$.log" 2>&1 &
	track_pid $!
}
QLOG="$TMP/dnsmasq.log"
# -g '': no group change (setgroups is denied in a rootless lab's user namespace)
bg dns dnsmasq -k -u root -g '' --no-resolv --no-hosts --log-queries --log-facility="$QLOG" \
	--listen-address="$DNS" --bind-interfaces --pid-file= \
	--address=/www.x.test/"$WEB" --address=/y.test/"$WEB" --address=/bad.test/"$OTHER"
bg web python3 -m http.server 8000 --bind "$WEB" --directory "$TMP"
bg other python3 -m http.server 8000 --bind "$OTHER" --directory "$TMP"
# a UDP echo server: the capture's packets are counted exactly
bg web python3 -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$WEB', 7))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)"
echo hello >"$TMP/index.html"
up() { "$NSLAB" exec "$L" client -- curl -s -m 1 -o /dev/null "http://$1/"; }
dns_up() { "$NSLAB" exec "$L" client -- dig +short +time=1 +tries=1 "@$DNS" www.x.test | grep -qxF "$WEB"; }
wait_until 10 up "$WEB:8000" || fail "the web server on $WEB:8000 never answered"
wait_until 10 up "$OTHER:8000" || fail "the web server on $OTHER:8000 never answered"
wait_until 10 dns_up || fail "dnsmasq on $DNS never answered"

# --- --interactive, through a pseudo-terminal -------------------------------
# ask NAME ANSWERS CMD...: nslab run --interactive on the client, questions
# answered in order; the terminal's text in $TMP/NAME.tty, the log in $TMP/NAME.jsonl
ask() {
	_n=$1
	_a=$2
	shift 2
	# shellcheck disable=SC2086 # ASK_ARGS: more options, split on blanks
	$PY "$E2E/ptydrive.py" "$_a" "$NSLAB" exec "$L" client -- "$NSLAB" run --interactive \
		--dns-upstream "$DNS" --log "$TMP/$_n.jsonl" ${ASK_ARGS:-} -- "$@" >"$TMP/$_n.tty" 2>&1 </dev/null
	rc=$?
}
questions() { grep -c "allow? \[y\]es" "$TMP/$1.tty"; }
CURL="curl -s -m 5 -o /dev/null -w %{http_code}"

ask yes y sh -c "$CURL http://www.x.test:8000/; echo; $CURL http://www.x.test:8000/"
[ "$rc" -eq 0 ] && [ "$(grep -c '^200' "$TMP/yes.tty")" -eq 2 ] && ok "--interactive: a name approved (y) is reachable" ||
	bad "--interactive y: exit $rc: $(cat "$TMP/yes.tty")"
T='[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
grep -q "^nslab run: $T DNS  ASKED    www.x.test (A)" "$TMP/yes.tty" && grep -q "^nslab run: $T DNS  ALLOWED  www.x.test .* (asked)" "$TMP/yes.tty" &&
	ok "--interactive: live lines say what was ASKED, then the verdict" || bad "--interactive ASKED line: $(cat "$TMP/yes.tty")"
[ "$(questions yes)" -eq 1 ] && ok "--interactive: an approved name is asked about once" ||
	bad "--interactive y: $(questions yes) questions: $(cat "$TMP/yes.tty")"
grep -q '"name":"www.x.test","type":"A","verdict":"ALLOWED (asked)"' "$TMP/yes.jsonl" &&
	grep -q '"mode":"interactive"' "$TMP/yes.jsonl" && ok "--interactive: the log says it was asked" ||
	bad "--interactive y: log $(cat "$TMP/yes.jsonl")"

ask no n dig +time=5 +tries=1 bad.test
grep -q "status: REFUSED" "$TMP/no.tty" && ok "--interactive: a name denied (n) is REFUSED" ||
	bad "--interactive n: $(cat "$TMP/no.tty")"
grep -q "bad.test" "$QLOG" && bad "--interactive n: the denied name reached the upstream"

ask always a sh -c "dig +short +time=5 +tries=1 y.test && $CURL http://a.y.test:8000/ && $CURL http://b.c.y.test:8000/"
[ "$rc" -eq 0 ] && [ "$(questions always)" -eq 1 ] && ok "--interactive: always (a) covers the names below, asked once" ||
	bad "--interactive a: exit $rc, $(questions always) questions: $(cat "$TMP/always.tty")"

ask details d,y $CURL "http://www.x.test:8000/"
grep -q "every name below it" "$TMP/details.tty" && [ "$rc" -eq 0 ] &&
	ok "--interactive: details (d), then the question again" || bad "--interactive d: $(cat "$TMP/details.tty")"

ASK_ARGS="--ask-timeout 1" ask timeout - dig +time=5 +tries=1 bad.test
grep -q "no answer within 1 s" "$TMP/timeout.tty" && grep -q "status: REFUSED" "$TMP/timeout.tty" &&
	grep -q '"verdict":"BLOCKED (timeout)"' "$TMP/timeout.jsonl" && ok "--interactive: no answer in time is a deny" ||
	bad "--interactive timeout: $(cat "$TMP/timeout.tty")"

# a connection to an address no name led to: held, asked, the client's retransmission passes
ask flow y $CURL "http://$OTHER:8000/"
[ "$rc" -eq 0 ] && grep -q "^200" "$TMP/flow.tty" && grep -q "ASK  TCP  $OTHER:8000" "$TMP/flow.tty" &&
	grep -q "^nslab run: [0-9:]* TCP  ASKED    $OTHER:8000" "$TMP/flow.tty" &&
	ok "--interactive: a held connection approved (y) goes through" || bad "--interactive flow y: $(cat "$TMP/flow.tty")"
grep -q "\"kind\":\"decision\",.*\"dst\":\"$OTHER\",\"dport\":8000,\"verdict\":\"ALLOWED (asked)\"" "$TMP/flow.jsonl" ||
	bad "--interactive flow y: no decision record: $(cat "$TMP/flow.jsonl")"
cp "$TMP/flow.jsonl" "$TMP/decide.jsonl" # for the schema check at the end (flow.jsonl is written again)
ASK_ARGS="--deny reject" ask flown n curl -s -m 5 -o /dev/null "http://$OTHER:8000/"
[ "$rc" -eq 7 ] && ok "--interactive: a held connection denied (n) is refused (--deny reject)" ||
	bad "--interactive flow n: curl exit $rc: $(cat "$TMP/flown.tty")"

# --- the C API: a program that embeds the jail and decides itself (examples/api/egress-ask.c) ---
if [ -x "${EGRESS_ASK:-}" ]; then
	"$NSLAB" exec "$L" client -- "$EGRESS_ASK" "$DNS" x.test -- sh -c \
		"$CURL http://www.x.test:8000/ && ! curl -s -m 3 http://bad.test:8000/ && ! curl -s -m 3 http://$OTHER:8000/" \
		>"$TMP/api.out" 2>"$TMP/api.err" </dev/null
	rc=$?
	[ "$rc" -eq 0 ] && grep -q "DNS A www.x.test: allow" "$TMP/api.err" && grep -q "DNS A bad.test: deny" "$TMP/api.err" &&
		grep -q "TCP $OTHER port 8000: deny" "$TMP/api.err" &&
		ok "C API: nslab_egress_set_ask_func() decides, nslab_sandbox_config_set_egress() runs it" ||
		bad "C API egress-ask: exit $rc, $(cat "$TMP/api.out" "$TMP/api.err")"
else
	bad "EGRESS_ASK='${EGRESS_ASK:-}': the example program is not built"
fi

# --- --pcap: every packet of the jail, the blocked ones with a comment ---------
"$NSLAB" exec "$L" client -- "$NSLAB" run --allow "$WEB" --dns-upstream "$DNS" --pcap "$TMP/cap.pcapng" -- \
	python3 -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(3):
    s.sendto(b'ping%d' % i, ('$WEB', 7))
    assert s.recv(64) == b'ping%d' % i
for i in range(2):
    s.sendto(b'nope', ('$OTHER', 7))" >"$TMP/cap.out" 2>&1 </dev/null
rc=$?
[ "$rc" -eq 0 ] || bad "--pcap: the UDP exchange failed: $(cat "$TMP/cap.out")"
n=$(tshark -r "$TMP/cap.pcapng" 2>"$TMP/tshark.err" | wc -l)
nb=$(tshark -r "$TMP/cap.pcapng" -Y 'frame.comment contains "blocked"' 2>/dev/null | wc -l)
nw=$(tshark -r "$TMP/cap.pcapng" -Y "udp.port == 7 && ip.addr == $WEB" 2>/dev/null | wc -l)
if [ "$n" -eq 8 ] && [ "$nb" -eq 2 ] && [ "$nw" -eq 6 ]; then
	ok "--pcap: tshark reads 8 packets, the 2 blocked ones with a comment"
else
	bad "--pcap: $n packets ($nw to/from $WEB, $nb blocked), expected 8 (6, 2): $(tshark -r "$TMP/cap.pcapng" 2>&1)"
fi
capinfos "$TMP/cap.pcapng" 2>/dev/null | grep -q "Number of interfaces in file: 1" ||
	bad "--pcap: not one interface: $(capinfos "$TMP/cap.pcapng" 2>&1)"

# pasta where this user can open /dev/net/tun; else every run here goes through
# the relay (nslab's choice), which has no live flow records of pasta's kind
pasta_usable() { [ -r /dev/net/tun ] && [ -w /dev/net/tun ]; }

if pasta_usable; then
	# --- live connection records: a "flow" record when a connection starts, and one
	# when the gateway forgets it (a reset connection: conntrack's 10 s CLOSE timeout)
	"$NSLAB" exec "$L" client -- "$NSLAB" run --allow "$WEB" --dns-upstream "$DNS" --log "$TMP/flow.jsonl" -- \
		sh -c "curl -s -m 2 http://$WEB:8009/; sleep 61" >"$TMP/flowlive.out" 2>&1 </dev/null &
	track_pid $!
	has_flow() { grep -q "\"kind\":\"flow\",\"event\":\"$1\",.*\"dst\":\"$WEB\",\"dport\":8009" "$TMP/flow.jsonl" 2>/dev/null; }
	wait_until 10 has_flow new && ok "live: the connection's start logged while the command runs" ||
		bad "live: no flow start: $(cat "$TMP/flow.jsonl")"
	wait_until 30 has_flow end && ok "live: its end logged once the gateway forgot it" ||
		bad "live: no flow end: $(cat "$TMP/flow.jsonl")"
	grep "\"event\":\"end\"" "$TMP/flow.jsonl" | grep -q '"packets_out":' || bad "live: the end record has no counters"
else
	log "live flow records through pasta: not checked: this user cannot open /dev/net/tun (the relay's records: e2e-run-egress-proxy)"
fi
# the run itself (argv[1] "run"), not the nslab exec around it: its command ends with it
for p in $(pgrep -f "run --allow $WEB --dns-upstream $DNS --log $TMP/flow.jsonl"); do
	ours "$p" && [ "$(tr '\0' '\n' <"/proc/$p/cmdline" | sed -n 2p)" = run ] && kill "$p"
done

# --- --no-log: no file, no live lines ----------------------------------------
"$NSLAB" exec "$L" client -- "$NSLAB" run --analyse --dns-upstream "$DNS" --log "$TMP/nolog.jsonl" --no-log -- \
	dig +short +time=2 +tries=1 www.x.test >"$TMP/nolog.out" 2>"$TMP/nolog.err" </dev/null
rc=$?
[ "$rc" -eq 0 ] && [ ! -e "$TMP/nolog.jsonl" ] && ! grep -q "DNS" "$TMP/nolog.err" &&
	ok "--no-log: neither the log file nor live lines" || bad "--no-log: exit $rc, $(cat "$TMP/nolog.err")"

# --- --host-port: a service on the host's loopback, reachable at the gateway's address
# (through pasta, or the relay where this user cannot open /dev/net/tun) ---
bg client python3 -m http.server 9000 --bind 127.0.0.1 --directory "$TMP"
loop_up() { "$NSLAB" exec "$L" client -- curl -s -m 1 -o /dev/null http://127.0.0.1:9000/; }
wait_until 10 loop_up || fail "the client's loopback server never answered"
# (twenty starts, each connecting at once: a run is ready only once pasta's
# listeners are bound; before, 1 run in 7 to 20 was refused)
hp_fails=0
for i in $(seq 1 20); do
	"$NSLAB" exec "$L" client -- "$NSLAB" run --allow www.x.test --dns-upstream "$DNS" --host-port 9000 -- \
		$CURL http://169.254.53.1:9000/ >"$TMP/hp.out" 2>"$TMP/hp.err" </dev/null
	[ "$(cat "$TMP/hp.out")" = 200 ] || { hp_fails=$((hp_fails + 1)); cp "$TMP/hp.err" "$TMP/hp-failed.err"; }
done
[ "$hp_fails" -eq 0 ] && ok "--host-port 9000: reachable at once after the start, 20 runs of 20" ||
	bad "--host-port 9000: refused right after the start in $hp_fails runs of 20 ($(tail -3 "$TMP/hp-failed.err"))"
"$NSLAB" exec "$L" client -- "$NSLAB" run --allow www.x.test --dns-upstream "$DNS" --host-port 9000 -- \
	sh -c "$CURL http://169.254.53.1:9000/; echo; $CURL http://169.254.53.1:9001/" >"$TMP/hp.out" 2>"$TMP/hp.err" </dev/null
[ "$(head -n 1 "$TMP/hp.out")" = 200 ] && ok "--host-port 9000: the host's loopback port reachable inside" ||
	bad "--host-port: $(cat "$TMP/hp.out" "$TMP/hp.err")"
[ "$(sed -n 2p "$TMP/hp.out")" = 200 ] && bad "--host-port 9000: port 9001 reachable too"

# --- under sudo: the log and the capture belong to the invoking user (root) ---
if is_root; then
"$NSLAB" exec "$L" client -- env SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody "$NSLAB" run \
	--allow www.x.test --dns-upstream "$DNS" --log "$TMP/sudo.jsonl" --pcap "$TMP/sudo.pcapng" -- id -u \
	>"$TMP/sudo.out" 2>&1 </dev/null
grep -qx 65534 "$TMP/sudo.out" && ok "under sudo: the command runs as SUDO_UID" || bad "under sudo: id -u: $(cat "$TMP/sudo.out")"
"$NSLAB" exec "$L" client -- env SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody "$NSLAB" run \
	--as-root --allow www.x.test --dns-upstream "$DNS" -- id -u >"$TMP/sudo0.out" 2>&1 </dev/null
grep -qx 0 "$TMP/sudo0.out" && ok "under sudo with --as-root: the command runs as uid 0" ||
	bad "under sudo --as-root: id -u: $(cat "$TMP/sudo0.out")"
[ "$(stat -c %u:%g "$TMP/sudo.jsonl" "$TMP/sudo.pcapng" 2>&1 | sort -u)" = 65534:65534 ] &&
	ok "under sudo: the log and the capture belong to SUDO_UID:SUDO_GID" ||
	bad "under sudo: $(stat -c '%n %u:%g' "$TMP/sudo.jsonl" "$TMP/sudo.pcapng" 2>&1) $(cat "$TMP/sudo.out")"
fi

# --- SIGKILL mid-session, then nslab cleanup: nothing was left to clean ---------
"$NSLAB" exec "$L" client -- "$NSLAB" run --allow www.x.test --dns-upstream "$DNS" --pcap "$TMP/k.pcapng" \
	--log "$TMP/k.jsonl" -- sleep 60 >"$TMP/kill.out" 2>&1 &
track_pid $!
runs() { for p in $(pgrep -f "run --allow www.x.test --dns-upstream $DNS --pcap"); do ours "$p" && [ "$(tr '\0' '\n' <"/proc/$p/cmdline" | sed -n 2p)" = run ] && echo "$p"; done; }
sleepers() { for p in $(pgrep -x sleep); do ours "$p" && [ "$(tr '\0' ' ' <"/proc/$p/cmdline")" = "sleep 60 " ] && echo "$p"; done; }
started() { [ -n "$(runs)" ] && [ -n "$(sleepers)" ]; }
wait_until 10 started || fail "the run to kill never started"
R=$(runs | head -n 1)
pastas() { for c in $(children_of "$R"); do case "$(cat /proc/$c/comm 2>/dev/null)" in pasta* | passt*) echo "$c" ;; esac; done; }
P=$(pastas)
kill -9 "$R"
gone() { ! alive "$1"; }
nothing_left() { [ -z "$(sleepers)" ] && { [ -z "$P" ] || gone "$P"; }; }
wait_until 5 nothing_left && ok "SIGKILL: the command and pasta gone" || bad "SIGKILL: left $(sleepers) $P"
resolv_left() { "$NSLAB" exec "$L" client -- sh -c 'ls "${XDG_RUNTIME_DIR:-/tmp}"/nslab-resolv-* /tmp/nslab-resolv-* 2>/dev/null' | grep -c .; }
"$NSLAB" exec "$L" client -- "$NSLAB" cleanup >"$TMP/cleanup.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ! grep -q "removed" "$TMP/cleanup.out" && [ "$(resolv_left)" -eq 0 ] &&
	ok "nslab cleanup after SIGKILL: nothing of the egress run to remove" ||
	bad "nslab cleanup: exit $rc, $(cat "$TMP/cleanup.out"), resolv files $(resolv_left)"
# what was captured and logged before the kill is readable
tshark -r "$TMP/k.pcapng" >/dev/null 2>&1 && ok "SIGKILL: the capture so far opens in tshark" ||
	bad "SIGKILL: tshark cannot read the capture"
head -n 1 "$TMP/k.jsonl" | grep -q '"kind":"session"' || bad "SIGKILL: no session record in the log"

# every record of the logs above (decisions, flows, a killed run's) validates
# against docs/egress-log.schema.json
if out=$($PY "$SRCDIR/tests/tools/egress-log-check.py" "$SRCDIR/docs/egress-log.schema.json" "$TMP/yes.jsonl" "$TMP/timeout.jsonl" "$TMP/decide.jsonl" \
	"$TMP/flow.jsonl" "$TMP/k.jsonl" 2>&1); then ok "--log: every record validates against docs/egress-log.schema.json ($out)"
else bad "--log schema: $out"; fi

"$NSLAB" down "$L" || bad "nslab down $L failed"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# link: link conditions of the wire backend with real programs. ping's RTT is
# the sum of the directions' delays on its path (lab file, then changed at run
# time with `nslab link`); loss over pings is inside its binomial interval and
# the same seed loses the same sequence numbers; iperf3 TCP gets the set rate
# in each direction; a change during an iperf3 transfer is in effect when the
# command returns and the flow goes on; `nslab link ... show` counts; `set
# down|up` unplugs and plugs back; SIGKILL of the supervisor leaves no link
# thread, namespace (with the sinks, qdiscs and filters in it), interface or
# process.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ping iperf3 ip

L=$(new_lab_name link)
lab_up "$E2E/link.yaml" "$L" --outdir "$TMP/out"
status_json "$L" "$TMP/st.json"
srv=$(addr "$TMP/st.json" server 4) || fail "no address for server"
phone=$(addr "$TMP/st.json" phone 4) || fail "no address for phone"
$PY - "$TMP/st.json" <<'PYEOF' && ok "status --json shows the conditions" || bad "status --json: conditions missing or wrong"
import json, sys
links = {(n["name"], f["name"]): f.get("link") for n in json.load(open(sys.argv[1]))["nodes"] for f in n["ifaces"]}
assert links[("laptop", "eth0")] == {"up": "delay 5ms", "down": "delay 10ms"}, links[("laptop", "eth0")]
assert links[("home", "wan")] == {"up": "delay 2ms", "down": "delay 2ms"}, links[("home", "wan")]
assert links[("phone", "lte0")] == {"up": "rate 10mbit", "down": "rate 20mbit"}
assert links[("server", "eth0")] is None
PYEOF

# `nslab link --presets`: every preset of issue 10 with its numbers
"$NSLAB" link --presets >"$TMP/presets.out" 2>&1 || bad "link --presets: $(cat "$TMP/presets.out")"
for p in lan wifi wifi-bad mobile-4g mobile mobile-3g satellite satellite-geo dsl cable fiber mobile-5g edge; do
	grep -q "^$p " "$TMP/presets.out" || bad "link --presets: no '$p' in $(cat "$TMP/presets.out")"
done
grep -q "^fiber  *delay 2ms rate 500mbit$" "$TMP/presets.out" &&
	grep -A1 "^wifi " "$TMP/presets.out" | grep -q "down: delay 5ms .*rate 100mbit" &&
	ok "link --presets lists the presets with their numbers" || bad "link --presets: $(cat "$TMP/presets.out")"

# nlink WORDS...: nslab link LAB WORDS..., fatal (with its message) if it fails
nlink() {
	"$NSLAB" link "$L" "$@" >"$TMP/nlink.out" 2>&1 || fail "nslab link $*: $(cat "$TMP/nlink.out")"
}

# rtt_median NODE DEST COUNT: the median RTT in ms of COUNT pings (all must answer).
rtt_median() {
	"$NSLAB" exec "$L" "$1" -- ping -n -c "$3" -i 0.05 -W 2 "$2" >"$TMP/ping.out" 2>&1 ||
		{ cat "$TMP/ping.out" >&2; return 1; }
	$PY - "$TMP/ping.out" <<'PYEOF'
import re, sys
t = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", open(sys.argv[1]).read()))
print("%.3f" % t[len(t) // 2])
PYEOF
}

# rtt_best NODE DEST COUNT: the lowest of three medians (a spike of load on this
# shared machine can shift one series; a wrong delay shifts all three).
rtt_best() {
	_best=
	for _i in 1 2 3; do
		_m=$(rtt_median "$@") || return 1
		_best=$($PY -c 'import sys; print(min(float(x) for x in sys.argv[1:] if x))' "$_m" $_best)
	done
	echo "$_best"
}

# within VALUE LOW HIGH
within() { $PY -c 'import sys; v, lo, hi = map(float, sys.argv[1:]); sys.exit(not lo <= v <= hi)' "$@"; }

# laptop: up 5 + down 10 (slow), home's uplink 2 + 2: 19 ms
rtt=$(rtt_best laptop "$srv" 20) || fail "ping laptop -> server failed"
# (never under what is set; at most 1 ms over: the wire thread's wakeups come
# late on a loaded 2-core host, 0.4-0.6 ms seen while other suites ran)
if within "$rtt" 19 20; then ok "laptop -> server: RTT median $rtt ms (19 ms set)"; else
	bad "laptop -> server: RTT median $rtt ms, expected 19 ms + at most 1"; fi

# a change at run time, per direction: laptop up 30 ms, down stays 10 ms
"$NSLAB" link "$L" laptop eth0 delay 30ms up >"$TMP/set.out" 2>&1 || {
	cat "$TMP/set.out" >&2
	fail "nslab link set failed"
}
grep -q "^up *delay 30ms" "$TMP/set.out" || bad "nslab link answer: $(cat "$TMP/set.out")"
grep -q "^down *delay 10ms" "$TMP/set.out" || bad "down changed: $(cat "$TMP/set.out")"
rtt=$(rtt_best laptop "$srv" 10) || fail "ping after the change failed"
if within "$rtt" 44 45; then ok "after 'delay 30ms up': RTT median $rtt ms (44 ms set)"; else
	bad "after 'delay 30ms up': RTT median $rtt ms, expected 44 ms + at most 1"; fi

# loss 20% with seed 5 on laptop's up direction, twice; then seed 6
lost() {
	nlink laptop eth0 loss 20% seed "$1" up
	"$NSLAB" exec "$L" laptop -- ping -n -c 300 -i 0.01 -W 1 "$srv" >"$TMP/loss.out" 2>&1
	$PY - "$TMP/loss.out" <<'PYEOF'
import re, sys
seen = set(int(m) for m in re.findall(r"icmp_seq=(\d+)", open(sys.argv[1]).read()))
print(" ".join(str(i) for i in range(1, 301) if i not in seen))
PYEOF
}
nlink laptop eth0 delay 0 down
a=$(lost 5)
b=$(lost 5)
c=$(lost 6)
n=$(echo $a | wc -w)
# 300 at 20%: 60, sd 6.93; 99%: +-17.9
if within "$n" 42 78; then ok "loss 20%: $n of 300 lost"; else bad "loss 20%: $n of 300 lost"; fi
if [ "$a" = "$b" ]; then ok "seed 5 twice: the same $n sequence numbers lost"; else
	bad "seed 5 twice, different losses: '$a' vs '$b'"; fi
if [ "$a" != "$c" ]; then ok "seed 6 loses others"; else bad "seed 6 lost the same as seed 5"; fi
"$NSLAB" link "$L" laptop eth0 show --json >"$TMP/show.json" || fail "show"
$PY - "$TMP/show.json" <<'PYEOF' || bad "show --json: $(cat "$TMP/show.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["up"]["lost"] >= 42 * 3 and s["up"]["passed"] > 0, s
PYEOF
nlink laptop eth0 clear
rtt=$(rtt_best laptop "$srv" 10) || fail "ping after clear failed"
if within "$rtt" 4 5; then ok "after clear: RTT median $rtt ms (home uplink 4 ms)"; else
	bad "after clear: RTT median $rtt ms, expected 4 ms"; fi

# unplug and plug back: ping fails while down, works again once up
ping_once() { "$NSLAB" exec "$L" laptop -- ping -n -q -c 1 -W 1 "$srv" >/dev/null 2>&1; }
"$NSLAB" link "$L" laptop eth0 set down >"$TMP/down.out" 2>&1 || fail "set down: $(cat "$TMP/down.out")"
if ping_once; then bad "ping through an unplugged link"; else ok "set down: ping fails"; fi
"$NSLAB" link "$L" laptop eth0 set up >"$TMP/up.out" 2>&1 || fail "set up: $(cat "$TMP/up.out")"
if wait_until 10 ping_once; then ok "set up: ping works again"; else bad "set up: still no ping"; fi

# iperf3 TCP: phone lte0 20 mbit down, 10 mbit up (goodput: 1448 of 1514 bytes a frame).
"$NSLAB" exec -d "$L" phone -- iperf3 -s -1 -D >/dev/null 2>&1 || fail "iperf3 server"
iperf_once() {
	"$NSLAB" exec "$L" server -- iperf3 -c "$phone" -t 3 -O 1 -J $1 >"$TMP/iperf.json" 2>&1 &&
		$PY -c 'import json,sys; json.load(open(sys.argv[1]))["end"]["sum_received"]' "$TMP/iperf.json" 2>/dev/null
}
iperf() {
	# the server may still be starting: a refused connection is tried again
	wait_until 5 iperf_once "$1" || { cat "$TMP/iperf.json" >&2; return 1; }
	$PY -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$TMP/iperf.json"
}
# TCP goodput where the data arrives: the iperf3 client with -R receives, and
# its intervals are the receiver's; summed from 1 s after the omitted second
# (slow start and the queue's first fill left out) over 4 s. Within 1% of the
# payload share of the rate (19.128 / 9.564). A whole 3 s run counted by the
# server was off by -2.1% / +0.4% (its start and end edges); this window was
# within -0.86% / +0.38% in 12 runs (root and rootless, load 2-5).
tcp_once() {
	"$NSLAB" exec "$L" "$1" -- iperf3 -c "$2" -R -t 5 -O 1 -i 0.5 -J >"$TMP/tcp.json" 2>&1 &&
		$PY -c 'import json,sys; json.load(open(sys.argv[1]))["intervals"][0]' "$TMP/tcp.json" 2>/dev/null
}
# tcp_steady CLIENT SERVER_ADDR: mbit/s received by CLIENT in the steady window
tcp_steady() {
	wait_until 5 tcp_once "$1" "$2" || { cat "$TMP/tcp.json" >&2; return 1; }
	$PY - "$TMP/tcp.json" <<'PYEOF'
import json, sys
iv = [i["sum"] for i in json.load(open(sys.argv[1]))["intervals"] if not i["sum"].get("omitted")]
# iperf3's interval edges drift by microseconds (CI saw one start at 0.999998 s)
steady = [i for i in iv if i["start"] >= 1.0 - 0.01]
assert sum(i["seconds"] for i in steady) > 3.5, iv
print("%.3f" % (sum(i["bytes"] for i in steady) * 8 / sum(i["seconds"] for i in steady) / 1e6))
PYEOF
}
# tcp_rate SERVER_NODE CLIENT_NODE SERVER_ADDR LOW HIGH: the steady goodput,
# measured a second time only when the first run fell short. Over the rate is
# a shaper's bug, always; under it, once, was the wire thread waiting for a
# CPU (CI saw -2.1% on a 2-core host running other suites): a shaper that
# undercounts falls short every time.
tcp_rate() {
	for _try in 1 2; do
		"$NSLAB" exec -d "$L" "$1" -- iperf3 -s -1 -D >/dev/null 2>&1 || fail "iperf3 server"
		_r=$(tcp_steady "$2" "$3") || fail "iperf3 $1 -> $2"
		$PY -c 'import sys; sys.exit(float(sys.argv[1]) >= float(sys.argv[2]))' "$_r" "$4" || break
		[ "$_try" -eq 2 ] || echo "link: note: $1 -> $2: $_r mbit/s, under $4: measured again" >&2
	done
	echo "$_r"
}
down=$(tcp_rate server phone "$srv" 18.937 19.319) || exit 1
if within "$down" 18.937 19.319; then ok "TCP to phone: $down mbit/s (rate 20mbit, goodput 19.128)"; else
	bad "TCP to phone: $down mbit/s, expected 19.128 +-1% (rate 20mbit)"; fi
up=$(tcp_rate phone server "$phone" 9.468 9.660) || exit 1
if within "$up" 9.468 9.660; then ok "TCP from phone: $up mbit/s (rate 10mbit, goodput 9.564)"; else
	bad "TCP from phone: $up mbit/s, expected 9.564 +-1% (rate 10mbit)"; fi

# iperf3 UDP at twice the rate, each way: what arrives is the rate within 1%
# (1400-byte datagrams take 1442 bytes of wire: 19.417 / 9.709 mbit/s of
# payload). A 20 ms queue limit: the queue drains as iperf3 stops, not later.
nlink phone lte0 rate 20mbit limit 20ms down
nlink phone lte0 rate 10mbit limit 20ms up
"$NSLAB" exec -d "$L" phone -- iperf3 -s -1 -D >/dev/null 2>&1 || fail "iperf3 server"
down=$(iperf "-u -b 40M -l 1400") || fail "iperf3 UDP server -> phone"
if within "$down" 19.22 19.61; then ok "UDP to phone: $down mbit/s (rate 20mbit, payload 19.417)"; else
	bad "UDP to phone: $down mbit/s, expected 19.417 +-1%"; fi
"$NSLAB" exec -d "$L" phone -- iperf3 -s -1 -D >/dev/null 2>&1 || fail "iperf3 server"
up=$(iperf "-R -u -b 20M -l 1400") || fail "iperf3 UDP phone -> server"
if within "$up" 9.61 9.81; then ok "UDP from phone: $up mbit/s (rate 10mbit, payload 9.709)"; else
	bad "UDP from phone: $up mbit/s, expected 9.709 +-1%"; fi

# a change during a TCP transfer: laptop -> server runs iperf3 (100 mbit/s for
# 3 s) and a ping every 2 ms while `delay 20ms up` is set on laptop's link (no
# condition there now: RTT 4 ms, then 24). Every ping sent after the command
# returned has the new RTT (the switch, between the last old and the first
# new ping, is noted); none is lost around the change (the link never goes down); iperf3 ends
# well, bytes in every interval.
"$NSLAB" exec -d "$L" server -- iperf3 -s -1 -D >/dev/null 2>&1 || fail "iperf3 server"
iperf_started() {
	"$NSLAB" exec -d "$L" laptop -- sh -c "iperf3 -c $srv -t 3 -b 100M -i 0.25 --forceflush \
		>$TMP/chg-iperf.out 2>&1; echo \$? >$TMP/chg-iperf.rc" >/dev/null 2>&1 &&
		wait_until 3 grep -q "sec.*bits/sec" "$TMP/chg-iperf.out"
}
wait_until 10 iperf_started || fail "iperf3 laptop -> server: $(cat "$TMP/chg-iperf.out")"
"$NSLAB" exec "$L" laptop -- ping -D -n -i 0.002 -c 600 -W 2 "$srv" >"$TMP/chg-ping.out" 2>&1 &
pingpid=$!
wait_until 5 grep -q "icmp_seq=100 " "$TMP/chg-ping.out" || fail "ping: $(tail -3 "$TMP/chg-ping.out")"
t0=$(date +%s.%N)
nlink laptop eth0 delay 20ms up
t1=$(date +%s.%N)
wait $pingpid || bad "ping during the change: $(tail -3 "$TMP/chg-ping.out")"
wait_until 10 test -s "$TMP/chg-iperf.rc" || fail "iperf3 never ended: $(cat "$TMP/chg-iperf.out")"
if $PY - "$TMP/chg-ping.out" "$t0" "$t1" <<'PYEOF'; then ok "change during iperf3: in effect when 'nslab link' returned"; else bad "change during iperf3: $(cat "$TMP/chg-ping.out" | tail -5)"; fi
import re, sys
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
sent = []
for ts, seq, rtt in re.findall(r"^\[([0-9.]+)\] .*icmp_seq=(\d+) .*time=([0-9.]+) ms", open(sys.argv[1]).read(), re.M):
    sent.append((float(ts) - float(rtt) / 1000, int(seq), float(rtt)))
errors = []
# A ping lost around the change means the link went down; one lost far from it
# (the TAP's queue overflowing while a loaded host keeps the wire thread off a
# CPU for 100 ms, with iperf3 filling it) is load, and only noted.
got = {s[1] for s in sent}
lost = [q for q in range(1, 601) if q not in got]
if sent and lost:
    first = min(sent, key=lambda s: s[1])
    per = (max(sent, key=lambda s: s[1])[0] - first[0]) / max(1, max(got) - first[1])
    near = [q for q in lost if t0 - 0.05 <= first[0] + (q - first[1]) * per <= t1 + 0.05]
    print("link: note: lost pings %s; around the change: %s" % (lost[:10], near))
    if near or len(lost) > 2:
        errors.append("%d of 600 pings answered; lost %s, around the change %s" %
                      (len(sent), lost[:10], near))
# RTT 4 ms before, 24 ms after: a ping sent after the command returned with
# less than 24 ms took the old delay (a late wakeup only ever adds, so a
# loaded host cannot fail this; it can make an old ping look new, so that
# side is only noted)
old_after = [s for s in sent if s[0] > t1 and s[2] < 23.9]
if old_after:
    errors.append("sent after the command returned, old RTT: %s" % old_after[:3])
last_old = max((s[0] for s in sent if s[2] < 10), default=0)
first_new = min((s[0] for s in sent if s[2] >= 23.9), default=0)
print("link: note: 'nslab link' took %.1f ms; last old ping sent %.1f ms after it started, first new one %.1f ms" %
      ((t1 - t0) * 1000, (last_old - t0) * 1000, (first_new - t0) * 1000))
for e in errors:
    print("link: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF
if [ "$(cat "$TMP/chg-iperf.rc")" = 0 ] && $PY - "$TMP/chg-iperf.out" <<'PYEOF'; then ok "iperf3 through the change: bytes in every interval"; else bad "iperf3 through the change: $(cat "$TMP/chg-iperf.out")"; fi
import re, sys
iv = re.findall(r"\]\s+([0-9.]+)-([0-9.]+)\s+sec\s+\S+ \S?Bytes\s+([0-9.]+) (\S?)bits/sec", open(sys.argv[1]).read())
rates = [float(r) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[u] for a, b, r, u in iv if float(b) - float(a) < 0.5]
print("link: note: iperf3 intervals (mbit/s): %s" % " ".join("%.0f" % (r / 1e6) for r in rates))
assert len(rates) >= 10 and min(rates) > 0, rates
PYEOF
# the change is an event and in state.json
$PY - "$TMP/out/events.jsonl" "$TMP/out/state.json" <<'PYEOF' && ok "events.jsonl and state.json carry the change" || bad "events/state: $(grep link_condition "$TMP/out/events.jsonl" | tail -2)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if '"link_condition"' in l]
last = [e for e in ev if e.get("node") == "laptop" and e.get("iface") == "eth0"][-1]
assert last["up"] == "delay 20ms" and last["down"] == "none" and last["backend"] == "wire", last
st = json.load(open(sys.argv[2]))
def find(o):
    if isinstance(o, dict):
        if o.get("name") == "laptop" and "ifaces" in o:
            return o
        for v in o.values():
            r = find(v)
            if r:
                return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r:
                return r
lap = find(st)
link = [f for f in lap["ifaces"] if f["name"] == "eth0"][0]["link"]
assert link["up"] == "delay 20ms", link
PYEOF
nlink laptop eth0 clear

# bad input: the offending word, nothing changed
if "$NSLAB" link "$L" laptop eth0 delay fast 2>"$TMP/bad.err"; then bad "'delay fast' accepted"; fi
grep -q "bad delay 'fast'" "$TMP/bad.err" || bad "'delay fast': $(cat "$TMP/bad.err")"
if "$NSLAB" link "$L" laptop wlan9 delay 1ms 2>"$TMP/bad.err"; then bad "wlan9 accepted"; fi
grep -q "no interface 'wlan9'" "$TMP/bad.err" || bad "wlan9: $(cat "$TMP/bad.err")"
"$NSLAB" down "$L" || fail "down"

# nslab test over conditioned links (a lab topology keeps its link conditions):
# 200 ms each way connects within the 1 s nslab test gives a handshake, 600 ms
# does not; with the far link at 100 ms the timeout test must fail instead
if "$NSLAB" test "$SRCDIR/examples/fwtest/slow-link.yaml" >"$TMP/fw.out" 2>&1 &&
	grep -q "^3 passed, 0 failed" "$TMP/fw.out"; then
	ok "nslab test over 200/600 ms links: $(tail -1 "$TMP/fw.out")"
else
	bad "nslab test slow-link.yaml: $(cat "$TMP/fw.out")"
fi
sed 's/delay: 600ms/delay: 100ms/' "$SRCDIR/examples/slow-links.yaml" >"$TMP/fast-links.yaml"
sed "s|lab: ../slow-links.yaml|lab: $TMP/fast-links.yaml|" "$SRCDIR/examples/fwtest/slow-link.yaml" \
	>"$TMP/fast-link.yaml"
if "$NSLAB" test "$TMP/fast-link.yaml" >"$TMP/fw2.out" 2>&1; then
	bad "the 600 ms test passed over a 100 ms link: $(cat "$TMP/fw2.out")"
elif grep -q "^FAIL.*600 ms link times out" "$TMP/fw2.out"; then
	ok "over a 100 ms link the timeout test fails, as it must"
else
	bad "fast-link: $(cat "$TMP/fw2.out")"
fi

# the built-in topologies take a condition too (`link:`, the client's link):
# gateway over 200 ms each way connects; over 600 ms the same suite fails;
# direct over 600 ms times out, as its test expects; errors name FILE:LINE:COL
if "$NSLAB" test "$SRCDIR/examples/fwtest/gateway-link.yaml" >"$TMP/gwl.out" 2>&1 &&
	grep -q "^2 passed, 0 failed" "$TMP/gwl.out"; then
	ok "nslab test, gateway topology over a 200 ms link: $(tail -1 "$TMP/gwl.out")"
else
	bad "gateway-link.yaml: $(cat "$TMP/gwl.out")"
fi
sed 's/delay: 200ms/delay: 600ms/' "$SRCDIR/examples/fwtest/gateway-link.yaml" >"$TMP/gw600.yaml"
if "$NSLAB" test "$TMP/gw600.yaml" >"$TMP/gw600.out" 2>&1; then
	bad "gateway over a 600 ms link passed: $(cat "$TMP/gw600.out")"
elif grep -q "expected connect ok, got timeout" "$TMP/gw600.out"; then
	ok "gateway over a 600 ms link: the connection times out (the condition holds)"
else
	bad "gateway over 600 ms: $(cat "$TMP/gw600.out")"
fi
# server_link: the gateway's other link (router eth1 to server eth0), the
# client's left alone: 200 ms each way connects, 600 ms times out
sed 's/^link: {delay: 200ms}/server_link: {delay: 200ms}/' \
	"$SRCDIR/examples/fwtest/gateway-link.yaml" >"$TMP/gws200.yaml"
grep -q "^server_link:" "$TMP/gws200.yaml" || fail "gateway-link.yaml changed: fix this test's sed"
if "$NSLAB" test "$TMP/gws200.yaml" >"$TMP/gws200.out" 2>&1 &&
	grep -q "^2 passed, 0 failed" "$TMP/gws200.out"; then
	ok "nslab test, gateway topology over a 200 ms server link: $(tail -1 "$TMP/gws200.out")"
else
	bad "server_link 200 ms: $(cat "$TMP/gws200.out")"
fi
sed 's/delay: 200ms/delay: 600ms/' "$TMP/gws200.yaml" >"$TMP/gws600.yaml"
if "$NSLAB" test "$TMP/gws600.yaml" >"$TMP/gws600.out" 2>&1; then
	bad "gateway over a 600 ms server link passed: $(cat "$TMP/gws600.out")"
elif grep -q "expected connect ok, got timeout" "$TMP/gws600.out"; then
	ok "gateway over a 600 ms server link: the connection times out (the condition holds)"
else
	bad "server_link 600 ms: $(cat "$TMP/gws600.out")"
fi
cat >"$TMP/direct600.yaml" <<'YEOF'
topology: direct
link: {delay: 600ms, loss: 0%}
rules: "table inet t { chain input { type filter hook input priority 0; policy accept; } }"
tests:
  - name: a connection over the 600 ms link times out
    flows: [{from: client, dst: target, dport: 80}]
    expect: {connect: timeout}
YEOF
if "$NSLAB" test "$TMP/direct600.yaml" >"$TMP/d600.out" 2>&1 && grep -q "^1 passed" "$TMP/d600.out"; then
	ok "nslab test, direct topology over a 600 ms link: the handshake times out"
else
	bad "direct over 600 ms: $(cat "$TMP/d600.out")"
fi
sed 's/delay: 600ms/delay: fast/' "$TMP/direct600.yaml" >"$TMP/dbad.yaml"
if "$NSLAB" test "$TMP/dbad.yaml" >"$TMP/dbad.out" 2>&1; then bad "link: {delay: fast} accepted"; fi
grep -q "dbad.yaml:2:15: bad delay 'fast'" "$TMP/dbad.out" || bad "link: {delay: fast}: $(cat "$TMP/dbad.out")"
sed 's/^link:/server_link:/' "$TMP/direct600.yaml" >"$TMP/dsrv.yaml"
if "$NSLAB" test "$TMP/dsrv.yaml" >"$TMP/dsrv.out" 2>&1; then bad "server_link: on direct accepted"; fi
grep -q "dsrv.yaml:2:1: server_link: the direct topology has one link" "$TMP/dsrv.out" ||
	bad "server_link: on direct: $(cat "$TMP/dsrv.out")"

# the netem backend: the RTT of its delays where the kernel has netem; refused,
# with the kernel's words and nothing left, where it has not (this kernel)
L3=$(new_lab_name netem)
track_lab "$L3"
if "$NSLAB" up -d -q --name "$L3" "$E2E/netem.yaml" >"$TMP/netem.out" 2>&1; then
	status_json "$L3" "$TMP/st3.json"
	srv3=$(addr "$TMP/st3.json" server 4) || fail "no address for server in $L3"
	"$NSLAB" link "$L3" laptop eth0 >"$TMP/netem-show.out" 2>&1 || bad "show: $(cat "$TMP/netem-show.out")"
	grep -q "(backend netem)" "$TMP/netem-show.out" || bad "netem lab: $(cat "$TMP/netem-show.out")"
	L_SAVE=$L
	L=$L3
	rtt=$(rtt_best laptop "$srv3" 10) || fail "ping over netem failed"
	L=$L_SAVE
	if within "$rtt" 10 11; then ok "netem: RTT median $rtt ms (10 ms set)"; else
		bad "netem: RTT median $rtt ms, expected 10 ms + at most 1"; fi
	"$NSLAB" down "$L3" || bad "down $L3"
elif grep -q "this kernel has no netem qdisc (.*qdisc kind is unknown.*use wire or auto" "$TMP/netem.out"; then
	ok "link_backend netem refused on a kernel without it: $(cat "$TMP/netem.out")"
	lab_listed "$L3" && bad "$L3 listed after a refused up"
	log "note: no sch_netem in this kernel; the netem backend's traffic checks did not run"
else
	bad "link_backend netem: $(cat "$TMP/netem.out")"
fi

# --link-backend overrides the file's link_backend: netem.yaml's links go
# through the wire, its delays kept; a bad value is a usage error naming it,
# with nothing left; netem asked for on this kernel is refused as above
L4=$(new_lab_name lbe)
track_lab "$L4"
if "$NSLAB" up -d -q --name "$L4" --link-backend wire "$E2E/netem.yaml" >"$TMP/lbw.out" 2>&1 &&
	"$NSLAB" link "$L4" laptop eth0 >"$TMP/lbw-show.out" 2>&1 &&
	grep -q "(backend wire)" "$TMP/lbw-show.out" && grep -q "^up  *delay 6ms" "$TMP/lbw-show.out"; then
	ok "up --link-backend wire over link_backend: netem: the wire conditions the links"
else
	bad "--link-backend wire: $(cat "$TMP/lbw.out" "$TMP/lbw-show.out" 2>/dev/null)"
fi
"$NSLAB" down "$L4" >/dev/null 2>&1 || bad "down $L4"
st=0
"$NSLAB" up -d -q --name "$L4" --link-backend bogus "$E2E/link.yaml" >"$TMP/lbb.out" 2>&1 || st=$?
if [ "$st" = 2 ] && grep -q "link backend 'bogus': expected auto, wire or netem" "$TMP/lbb.out" &&
	! lab_listed "$L4"; then
	ok "up --link-backend bogus: usage error naming the value, nothing left"
else
	bad "--link-backend bogus (exit $st): $(cat "$TMP/lbb.out")"
fi
if ! "$NSLAB" up -d -q --name "$L4" --link-backend netem "$E2E/link.yaml" >"$TMP/lbn.out" 2>&1; then
	grep -q "this kernel has no netem qdisc" "$TMP/lbn.out" && ! lab_listed "$L4" &&
		ok "up --link-backend netem refused here, nothing left" ||
		bad "--link-backend netem: $(cat "$TMP/lbn.out")"
else
	"$NSLAB" link "$L4" laptop eth0 | grep -q "(backend netem)" || bad "--link-backend netem: not netem"
	"$NSLAB" down "$L4" >/dev/null 2>&1 || bad "down $L4"
fi

# SIGKILL of a supervisor with conditioned links: its link thread (nslab-wire)
# dies with it; the sinks, clsact qdiscs and u32 filters live in the lab's
# namespaces, which must all be gone (none held, counts back, no interface)
L2=$(new_lab_name linkkill)
track_lab "$L2"
leftovers_snapshot kill
"$NSLAB" up -q --name "$L2" "$E2E/link.yaml" >"$TMP/up2.out" 2>&1 &
sup=$!
track_pid $sup
wait_until 30 lab_listed "$L2" || fail "$L2 never came up: $(cat "$TMP/up2.out")"
status_json "$L2" "$TMP/st2.json"
wire_tid=$(grep -lx nslab-wire /proc/$sup/task/*/comm 2>/dev/null | head -1 | cut -d/ -f5)
[ -n "$wire_tid" ] || bad "supervisor $sup has no nslab-wire thread: $(cat /proc/$sup/task/*/comm | tr '\n' ' ')"
"$NSLAB" link "$L2" laptop eth0 show >"$TMP/kill-show.out" 2>&1 || bad "show: $(cat "$TMP/kill-show.out")"
grep -q "delay 5ms" "$TMP/kill-show.out" || bad "$L2 laptop not conditioned: $(cat "$TMP/kill-show.out")"
kill -9 $sup
wait $sup 2>/dev/null
if wait_until 10 not lab_listed "$L2"; then ok "$L2: gone after SIGKILL"; else bad "$L2 still listed"; fi
if host_links | grep -q '^nslw'; then bad "sink interfaces on the host: $(host_links | grep nslw)"; else
	ok "no sink interface outside the lab"; fi
alive $sup && bad "supervisor (and its link thread) still alive"
[ -z "$wire_tid" ] || ! [ -e "/proc/$wire_tid" ] || bad "link thread $wire_tid still alive"
leftovers_check kill "$L2"
finish

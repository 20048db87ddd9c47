#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/egress.sh NSLAB BENCH: filtered egress (docs/egress.md), N runs each
# (default 30), interleaved, medians with ratios:
#   nslab run --allow x.test -- /bin/true      (jail + gateway + pasta + DNS gate, ready)
#   pasta --config-net -- /bin/true              (pasta alone: its namespace, tap, exit)
#   nslab run --net none -- /bin/true            (the sandbox without a network of its own)
#   nslab run --allow x.test --pcap F -- /bin/true (the same with the capture's nflog reader)
# each: to the jailed command's start (ready) and to nslab's exit (total); then the DNS gate's cost per query (Q queries, default 300, median and p99):
# from inside the jail through the gate to dnsmasq, against the same queries
# sent to dnsmasq directly. Everything runs in a private network namespace
# (a veth as pasta's template, dnsmasq on its address): no traffic
# leaves it. Root only (rootless pasta cannot open /dev/net/tun here).
# Goal: root <= 30 ms to a ready jail. Printed, never a test.
set -euo pipefail

NSLAB=${1:?usage: egress.sh NSLAB BENCH}
BENCH=${2:?usage: egress.sh NSLAB BENCH}
N=${N:-30}
Q=${Q:-300}

if [ "$(id -u)" != 0 ]; then
	echo "egress: root only here (rootless pasta cannot open /dev/net/tun), skipped" >&2
	exit 0
fi
for t in pasta dnsmasq python3; do
	command -v "$t" >/dev/null || { echo "egress: $t missing, skipped" >&2; exit 0; }
done
if [ -z "${NSLAB_BENCH_INNER:-}" ]; then
	NSLAB_BENCH_INNER=1 exec unshare -n "$0" "$@"
fi

tmp=$(mktemp -d /tmp/nslab-bench-egress.XXXXXX)
dpid=""
trap '[ -n "$dpid" ] && kill "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up
ip link add d0 type veth peer name d1
ip link set d1 up
ip addr add 192.0.2.10/24 dev d0
ip link set d0 up
ip route add default via 192.0.2.1
dnsmasq -k -u root --no-resolv --no-hosts --listen-address=192.0.2.10 --bind-interfaces \
	--pid-file= --address=/x.test/192.0.2.80 --local-ttl=60 -q --log-facility=/dev/null &
dpid=$!

# Each variant N times, interleaved: "ready" is from the start of nslab (or
# pasta) to the first instruction of the jailed command (it prints the clock),
# "total" to the exit of nslab, teardown included.
cat >"$tmp/start.py" <<'PY'
import subprocess, sys, time
n, variants = int(sys.argv[1]), sys.argv[2:]
names, cmds = variants[0::2], [c.split() for c in variants[1::2]]
ready = {k: [] for k in names}
total = {k: [] for k in names}
for i in range(n):
    for name, cmd in zip(names, cmds):
        t0 = time.time_ns()
        out = subprocess.run(cmd + ["date", "+%s%N"], capture_output=True, text=True)
        t1 = time.time_ns()
        if out.returncode != 0:
            sys.exit("%s: exit %d: %s" % (name, out.returncode, out.stderr.strip()))
        ready[name].append((int(out.stdout.strip()) - t0) / 1e6)
        total[name].append((t1 - t0) / 1e6)
med = lambda v: sorted(v)[len(v) // 2]
base_r, base_t = med(ready["pasta"]), med(total["pasta"])
print("filtered egress, median of %d (ms): ready = the jailed command runs, total = nslab exited" % n)
for k in names:
    print("  %-9s ready %7.2f (%5.2fx pasta)  total %7.2f (%5.2fx pasta)" %
          (k, med(ready[k]), med(ready[k]) / base_r, med(total[k]), med(total[k]) / base_t))
f, z = med(ready["filtered"]), med(ready["net-none"])
print("  the gateway + pasta + DNS gate add %.2f ms to the plain sandbox's start; goal: ready <= 30 ms: %s" %
      (f - z, "met" if f <= 30 else "missed"))
print("  (root) filtered ready vs pasta alone + 10 ms: %s" % ("within" if f <= base_r + 10 else "over"))
PY
python3 "$tmp/start.py" "$N" \
	filtered "$NSLAB run --allow x.test --dns-upstream 192.0.2.10 --" \
	pasta "pasta -f -q --runas 0 --config-net --" \
	net-none "$NSLAB run --net none --" \
	pcap "$NSLAB run --allow x.test --dns-upstream 192.0.2.10 --pcap $tmp/b.pcapng --"

# The DNS client: Q queries for x.test, one at a time, each timed (ms, one a line).
cat >"$tmp/q.py" <<'PY'
import socket, struct, sys, time
server, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
q = b"".join(bytes([len(l)]) + l for l in (b"x", b"test")) + b"\0"
for i in range(n):
    msg = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1)
    t = time.perf_counter()
    s.sendto(msg, (server, 53))
    s.recv(512)
    print("%.4f" % ((time.perf_counter() - t) * 1000))
PY
python3 "$tmp/q.py" 192.0.2.10 "$Q" >"$tmp/direct"
"$NSLAB" run --allow x.test --dns-upstream 192.0.2.10 --ro-bind "$tmp" -- \
	python3 "$tmp/q.py" 169.254.53.1 "$Q" >"$tmp/gate"
pct() { sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print a[i] }'; }
d50=$(pct "$tmp/direct" 50) d99=$(pct "$tmp/direct" 99)
g50=$(pct "$tmp/gate" 50) g99=$(pct "$tmp/gate" 99)
echo "DNS per query, $Q queries (ms):"
awk -v a="$d50" -v b="$d99" 'BEGIN { printf "  direct     median %6.3f  p99 %6.3f\n", a, b }'
awk -v a="$g50" -v b="$g99" -v c="$d50" -v d="$d99" 'BEGIN {
	printf "  via gate   median %6.3f  p99 %6.3f  (%.2fx, %.2fx direct)\n", a, b, a / c, b / d }'

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/egress.sh NSLAB BENCH: filtered egress (docs/egress.md), N runs each
# (default 30), interleaved, medians with ratios:
#   nslab run --allow x.test -- /bin/true      (jail + gateway + pasta + DNS gate, ready)
#   pasta --config-net -- /bin/true              (pasta alone: its namespace, tap, exit)
#   nslab run --net none -- /bin/true            (the sandbox without a network of its own)
#   nslab run --allow x.test --pcap F -- /bin/true (the same with the capture's nflog reader)
#   nslab run --egress proxy --allow x.test -- /bin/true (the socket relay instead of pasta)
# each: to the jailed command's start (ready) and to nslab's exit (total);
# slirp4netns's start (unshare -n, then slirp4netns --configure until its
# ready fd); the same rootless (as nobody: the relay, which needs no TUN
# device, against pasta and slirp4netns rootless; goal: the relay's ready
# <= pasta's own + 10 ms); TCP throughput (iperf3, T seconds, default 3)
# from a namespace on a veth directly, through the gateway with pasta, and
# with the relay; then the DNS gate's cost per query (Q queries, default 300, median and p99):
# from inside the jail through the gate to dnsmasq, against the same queries
# sent to dnsmasq directly. Everything runs in a private network namespace
# (a veth as pasta's template, dnsmasq on its address): no traffic
# leaves it. Run as root (the rootless part runs as nobody from there).
# Goal: root <= 30 ms to a ready jail. Printed, never a test.
set -euo pipefail

NSLAB=${1:?usage: egress.sh NSLAB BENCH}
BENCH=${2:?usage: egress.sh NSLAB BENCH}
N=${N:-30}
Q=${Q:-300}
T=${T:-3}

if [ "$(id -u)" != 0 ]; then
	echo "egress: run as root (it measures the rootless runs as nobody itself), skipped" >&2
	exit 0
fi
# slirp4netns: a bench dependency only (bench/run.sh's caller installs it: apt-get install slirp4netns)
for t in pasta dnsmasq python3 slirp4netns iperf3 setpriv; do
	command -v "$t" >/dev/null || { echo "egress: $t missing, skipped" >&2; exit 0; }
done
if [ -z "${NSLAB_BENCH_INNER:-}" ]; then
	NSLAB_BENCH_INNER=1 exec unshare -n "$0" "$@"
fi

tmp=$(mktemp -d /tmp/nslab-bench-egress.XXXXXX)
dpid=""
ipid=""
trap '[ -n "$dpid" ] && kill "$dpid" 2>/dev/null; [ -n "$ipid" ] && kill "$ipid" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
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
import os, subprocess, sys, time
who, n, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
names, cmds = variants[0::2], [c.split() for c in variants[1::2]]
ready = {k: [] for k in names}
total = {k: [] for k in names}

def slirp(userns):
    # a namespace (unshare), then slirp4netns until it says ready on its fd
    t0 = time.time_ns()
    ns = subprocess.Popen(["unshare", "-rn" if userns else "-n", "sleep", "30"])
    r, w = os.pipe()
    for _ in range(1000):  # the namespace exists once unshare exec'd sleep
        if os.readlink("/proc/%d/ns/net" % ns.pid) != os.readlink("/proc/self/ns/net"):
            break
        time.sleep(0.0002)
    sl = subprocess.Popen(["slirp4netns", "-c", "-r", str(w), str(ns.pid), "tap0"] +
                          (["--userns-path=/proc/%d/ns/user" % ns.pid] if userns else []),
                          pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    ok = os.read(r, 1) == b"1"
    t1 = time.time_ns()
    os.close(r)
    for p in (sl, ns):
        p.kill(); p.wait()
    t2 = time.time_ns()
    if not ok:
        sys.exit("slirp4netns never became ready")
    return (t1 - t0) / 1e6, (t2 - t0) / 1e6

for i in range(n):
    for name, cmd in zip(names, cmds):
        if cmd[0] == "slirp4netns":
            a, b = slirp(who == "rootless")
            ready[name].append(a); total[name].append(b)
            continue
        t0 = time.time_ns()
        out = subprocess.run(cmd + ["date", "+%s%N"], capture_output=True, text=True)
        t1 = time.time_ns()
        if out.returncode != 0:
            sys.exit("%s: exit %d: %s" % (name, out.returncode, out.stderr.strip()))
        ready[name].append((int(out.stdout.strip()) - t0) / 1e6)
        total[name].append((t1 - t0) / 1e6)
med = lambda v: sorted(v)[len(v) // 2]
base_r, base_t = med(ready["pasta"]), med(total["pasta"])
print("filtered egress, %s, median of %d (ms): ready = the jailed command runs, total = nslab exited" % (who, n))
for k in names:
    print("  %-9s ready %7.2f (%5.2fx pasta)  total %7.2f (%5.2fx pasta)" %
          (k, med(ready[k]), med(ready[k]) / base_r, med(total[k]), med(total[k]) / base_t))
if who == "root":
    f, z = med(ready["filtered"]), med(ready["net-none"])
    print("  the gateway + pasta + DNS gate add %.2f ms to the plain sandbox's start; goal: ready <= 30 ms: %s" %
          (f - z, "met" if f <= 30 else "missed"))
    print("  (root) filtered ready vs pasta alone + 10 ms: %s" % ("within" if f <= base_r + 10 else "over"))
else:
    for k in ("proxy", "filtered"):
        f = med(ready[k])
        print("  goal (rootless) %s ready <= pasta's own start + 10 ms (%.2f): %s" %
              (k, base_r + 10, "met" if f <= base_r + 10 else "missed"))
PY
[ -n "${SKIP_START:-}" ] || python3 "$tmp/start.py" root "$N" \
	filtered "$NSLAB run --allow x.test --dns-upstream 192.0.2.10 --" \
	pasta "pasta -f -q --runas 0 --config-net --" \
	proxy "$NSLAB run --egress proxy --allow x.test --dns-upstream 192.0.2.10 --" \
	slirp "slirp4netns" \
	net-none "$NSLAB run --net none --" \
	pcap "$NSLAB run --allow x.test --dns-upstream 192.0.2.10 --pcap $tmp/b.pcapng --"
# rootless: nobody, in this (root's) private namespace: nslab enters a user namespace of its own
[ -n "${SKIP_START:-}" ] || setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME="$tmp" python3 "$tmp/start.py" rootless "$N" \
	proxy "$NSLAB run --egress proxy --allow x.test --dns-upstream 192.0.2.10 --" \
	pasta "pasta -f -q --config-net --" \
	filtered "$NSLAB run --allow x.test --dns-upstream 192.0.2.10 --" \
	slirp "slirp4netns" \
	net-none "$NSLAB run --net none --"

# TCP throughput (iperf3) to a server in a namespace on a veth to this one:
# from here (direct), and from the jail through its gateway with pasta and
# with the relay (not to 192.0.2.10: pasta copies that address into the gateway).
unshare -n sleep 600 &
npid=$!
# its namespace exists once unshare exec'd sleep
while [ "$(readlink /proc/$npid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
ip link add d2 type veth peer name d3
ip link set d3 netns "$npid"
ip addr add 192.0.2.33/30 dev d2
ip link set d2 up
nsenter -t "$npid" -n sh -c 'ip link set lo up; ip addr add 192.0.2.34/30 dev d3; ip link set d3 up; ip route add default via 192.0.2.33'
gbps() { python3 -c 'import json,sys; j = json.load(sys.stdin); print("%.2f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9) if "sum_received" in j.get("end", {}) else sys.exit("iperf3: " + j.get("error", "no result")))'; }
tput() { # NAME CMD...: one iperf3 client run, Gbit/s
	_n=$1
	shift
	nsenter -t "$npid" -n iperf3 -s -B 192.0.2.34 -1 >/dev/null 2>&1 &
	ipid=$!
	sleep 0.3 # the server's listen: iperf3 -s has no ready signal; a bench, not a test
	"$@" iperf3 -c 192.0.2.34 -t "$T" -J 2>/dev/null | gbps || echo "$_n: no result" >&2
	wait "$ipid" 2>/dev/null || true
	ipid=""
}
direct=$(tput direct env)
viapasta=$(tput pasta "$NSLAB" run --egress pasta --allow 192.0.2.34 --dns-upstream 192.0.2.10 --)
viaproxy=$(tput proxy "$NSLAB" run --egress proxy --allow 192.0.2.34 --dns-upstream 192.0.2.10 --)
kill "$npid" 2>/dev/null || true
echo "TCP throughput, iperf3 ${T} s (Gbit/s):"
awk -v d="$direct" -v p="$viapasta" -v x="$viaproxy" 'BEGIN {
	printf "  direct veth       %7.2f\n", d
	printf "  gateway + pasta   %7.2f  (%.2fx direct)\n", p, p / d
	printf "  gateway + relay   %7.2f  (%.2fx direct)\n", x, x / d }'

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

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/link-wire.sh NSLAB: the wire backend beside a plain veth and tbf, in one
# run, on a lab of two devices (a, b) on one router. a's link is the one
# conditioned (both directions: a -> b data takes one wire hop, b's answers
# another). Measured: TCP throughput (iperf3, 1 and 8 streams, a -> b), added
# latency (ping median and p99 at 0 ms set: `mtu 65535`, a condition that
# changes nothing but puts the wire in the path), delay error p99 at 10 ms each
# way (20 ms RTT), the same p99 with four CPU hogs running (the link thread's
# tail under load), rate error at 100mbit (wire and tbf), and the supervisor's
# CPU time per Gbit/s moved. ping prints a 20 ms RTT to 0.1 ms only, so the
# delay error is also measured one way, per direction, to the microsecond
# (bench/owd.py: kernel receive stamps against the sender's clock, 2000
# datagrams 2 ms apart), beside the same path unconditioned. netem is measured too where the kernel has it.
# The latency rows are measured twice, in turn, on two labs: one as nslab runs
# by default (as root its link thread holds a PM QoS CPU latency request while
# frames pass, docs/links.md), one with NSLAB_LINK_CPU_LATENCY=off; veth's
# rows with and without such a request held by this script.
# Printed with the ratios to veth and tbf; never a test.
set -euo pipefail

NSLAB=${1:?usage: link-wire.sh NSLAB}
T=${T:-3}
here=$(cd "$(dirname "$0")" && pwd)
lab=bench-link-$$
tmp=$(mktemp -d /tmp/nslab-bench-link.XXXXXX)
laboff=$lab-off
cleanup() {
	"$NSLAB" down "$lab" >/dev/null 2>&1 || true
	"$NSLAB" down "$laboff" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap 'cleanup; [ -z "${hogs:-}" ] || kill $hogs 2>/dev/null || true; [ -z "${qos:-}" ] || kill $qos 2>/dev/null || true' EXIT

"$NSLAB" up -d -q --name "$lab" "$here/link-wire.yaml"
NSLAB_LINK_CPU_LATENCY=off "$NSLAB" up -d -q --name "$laboff" "$here/link-wire.yaml"
"$NSLAB" status "$lab" --json >"$tmp/st.json"
b=$(python3 -c 'import json,sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    if n["name"] == "b": print(n["ifaces"][0]["ip4"].split("/")[0])' "$tmp/st.json")
# the request can be taken only as root (the device is root's, outside any user namespace)
qos_ok=0
[ -w /dev/cpu_dma_latency ] && qos_ok=1
# the supervisor that holds the lab (and its link thread), from `nslab ls`
spid=$("$NSLAB" ls | awk -v l="$lab" '$1 == l { print $5 }')

ex() { "$NSLAB" exec "$lab" "$@"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$spid/stat"; }

# tcp STREAMS: Gbit/s a -> b
tcp() {
	ex b -- iperf3 -s -1 -D >/dev/null 2>&1
	sleep 0.3
	ex a -- iperf3 -c "$b" -t "$T" -O 1 -P "$1" -J >"$tmp/ip.json"
	python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$tmp/ip.json"
}

# steady STREAMS: Gbit/s a -> b where it arrives (b runs the client with -R: the
# intervals are the receiver's), from 1 s after the omitted second, over 4 s:
# a whole run's edges moved the rate by a percent or more
steady() {
	ex a -- iperf3 -s -1 -D >/dev/null 2>&1
	sleep 0.3
	ex b -- iperf3 -c "$a" -R -t 5 -O 1 -i 0.5 -P "$1" -J >"$tmp/ip.json"
	python3 - "$tmp/ip.json" <<'PY'
import json, sys
iv = [i["sum"] for i in json.load(open(sys.argv[1]))["intervals"] if not i["sum"].get("omitted")]
st = [i for i in iv if i["start"] >= 1.0 - 1e-6]
print("%.6f" % (sum(i["bytes"] for i in st) * 8 / sum(i["seconds"] for i in st) / 1e9))
PY
}

# rtt: "median p99 mean" in ms over 400 pings
rtt() {
	ex a -- ping -n -q -c 1 "$b" >/dev/null
	ex a -- ping -n -c 400 -i 0.005 "$b" >"$tmp/ping.out"
	python3 - "$tmp/ping.out" <<'PY'
import re, sys
t = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", open(sys.argv[1]).read()))
print("%.4f %.4f %.4f" % (t[len(t) // 2], t[int(len(t) * 0.99) - 1], sum(t) / len(t)))
PY
}

cond() { "$NSLAB" link "$lab" a eth0 "$@" >/dev/null; }
# off CMD...: CMD on the lab without the CPU latency request (both labs have
# the same addresses, each in its own namespaces)
off() { (lab=$laboff; "$@"); }
# held CMD...: CMD while this script holds a 0 us CPU latency request
qos=
held() {
	python3 -c 'import os, struct, time
f = os.open("/dev/cpu_dma_latency", os.O_WRONLY); os.write(f, struct.pack("i", 0)); print("held", flush=True); time.sleep(3600)' >"$tmp/held" &
	qos=$!
	until [ -s "$tmp/held" ]; do sleep 0.05; done
	"$@"
	kill $qos; wait $qos 2>/dev/null || true
	qos=
	rm -f "$tmp/held"
}

a=$(python3 -c 'import json,sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    if n["name"] == "a": print(n["ifaces"][0]["ip4"].split("/")[0])' "$tmp/st.json")
# owd FROM TO TO_ADDR: "median p99 max count" of one-way delays in us
owd() {
	ex "$2" -- python3 "$here/owd.py" recv 9000 2000 >"$tmp/owd.out" &
	local p=$!
	sleep 0.5
	ex "$1" -- python3 "$here/owd.py" send "$3" 9000 2000 0.002
	wait $p
	tail -1 "$tmp/owd.out"
}
owd2() { echo "$(owd a b "$b") $(owd b a "$a")"; }

# loaded CMD...: CMD with four busy loops beside it (as many as there are
# ordinary tasks wanting the CPU on a shared host), stopped after
hogs=
loaded() {
	for _ in 1 2 3 4; do (while :; do :; done) & hogs="$hogs $!"; done
	"$@"
	# shellcheck disable=SC2086 # a list of pids
	kill $hogs; wait $hogs 2>/dev/null || true
	hogs=
}

declare -A R
R[veth_rtt]=$(rtt)
R[veth_owd]=$(owd2)
if [ $qos_ok = 1 ]; then
	R[vethq_rtt]=$(held rtt)
	R[vethq_owd]=$(held owd2)
else
	R[vethq_rtt]=${R[veth_rtt]}
	R[vethq_owd]=${R[veth_owd]}
fi
load0=$(cut -d' ' -f1 /proc/loadavg)
R[veth_load]=$(loaded rtt)
R[veth_1]=$(tcp 1)
R[veth_8]=$(tcp 8)
# tbf at 100mbit on a's egress (inside a: the same interface the wire conditions)
ex a -- tc qdisc replace dev eth0 root tbf rate 100mbit burst 32kb latency 50ms
R[tbf_rate]=$(steady 1)
R[tbf_rate4]=$(steady 4)
ex a -- tc qdisc del dev eth0 root
cond mtu 65535
off cond mtu 65535
R[wire0_rtt]=$(rtt)
R[off0_rtt]=$(off rtt)
c0=$(cpu_ticks)
R[wire0_1]=$(tcp 1)
c1=$(cpu_ticks)
R[wire0_8]=$(tcp 8)
cond delay 10ms
off cond delay 10ms
R[wire20_rtt]=$(rtt)
R[off20_rtt]=$(off rtt)
R[wire20_owd]=$(owd2)
R[off20_owd]=$(off owd2)
R[wire20_load]=$(loaded rtt)
R[off20_load]=$(off loaded rtt)
load1=$(cut -d' ' -f1 /proc/loadavg)
R[wire20_1]=$(tcp 1)
R[wire20_8]=$(tcp 8)
cond rate 100mbit
R[wire_rate]=$(steady 1)
R[wire_rate4]=$(steady 4)
off cond rate 100mbit
R[off_rate]=$(off steady 1)
off cond clear
cond clear
hz=$(getconf CLK_TCK)
python3 - "$T" "$hz" "$c0" "$c1" <<PY
import sys
T, hz, c0, c1 = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
veth_m, veth_p, veth_a = map(float, "${R[veth_rtt]}".split())
vl_m, vl_p, _ = map(float, "${R[veth_load]}".split())
veth1, veth8 = float("${R[veth_1]}"), float("${R[veth_8]}")
w01, w08 = float("${R[wire0_1]}"), float("${R[wire0_8]}")
w201, w208 = float("${R[wire20_1]}"), float("${R[wire20_8]}")
tbf, wr = float("${R[tbf_rate]}"), float("${R[wire_rate]}")
tbf4, wr4 = float("${R[tbf_rate4]}"), float("${R[wire_rate4]}")
cpu = (c1 - c0) / hz            # seconds of supervisor CPU during the 1-stream 0 ms run
gbit = w01 * (T + 1)            # Gbit moved in it (iperf3 -O 1 adds a second)
goodput = 100e6 * 1448 / 1514 / 1e9  # TCP payload of a 100mbit link, Gbit/s
print("link-wire: TCP a->b, Gbit/s:  veth %.2f (8 streams %.2f) | wire 0ms %.2f (%.2f) = %.2fx veth"
      " | wire 20ms RTT %.2f (%.2f)" % (veth1, veth8, w01, w08, w01 / veth1 if veth1 else 0, w201, w208))
# ping prints 3 decimals below 1 ms: medians move in 1 us steps, the mean is finer
def f3(k):
    return list(map(float, k.split()))
vrtt = {"": f3("${R[veth_rtt]}"), "q": f3("${R[vethq_rtt]}")}
vowd = {"": f3("${R[veth_owd]}"), "q": f3("${R[vethq_owd]}")}
print("link-wire: load %s before the latency rows, %s after; CPU latency request %s" % ("$load0", "$load1",
      "taken as root" if $qos_ok else "not allowed (rootless): both columns are without"))
print("link-wire: veth RTT median %.3f ms mean %.4f p99 %.3f | with a 0 us CPU latency request held: median"
      " %.3f mean %.4f p99 %.3f" % tuple(vrtt[""] + vrtt["q"]))
for name, w0, w20, wl, wo in (
        ("request", "${R[wire0_rtt]}", "${R[wire20_rtt]}", "${R[wire20_load]}", "${R[wire20_owd]}"),
        ("no request", "${R[off0_rtt]}", "${R[off20_rtt]}", "${R[off20_load]}", "${R[off20_owd]}")):
    (w0_m, w0_p, w0_a), (w20_m, w20_p, _), (wl_m, wl_p, _), wo = f3(w0), f3(w20), f3(wl), f3(wo)
    for vn, vk in (("veth", ""), ("veth+req", "q")):
        veth_m, veth_p, veth_a = vrtt[vk]
        print("link-wire: [%s] RTT at 0 ms set: wire median %.3f mean %.4f p99 %.3f -> added per wire hop"
              " over %s: median %.1f us, mean %.1f us, p99 %.1f us" % (name, w0_m, w0_a, w0_p, vn,
              (w0_m - veth_m) / 2 * 1000, (w0_a - veth_a) / 2 * 1000, (w0_p - veth_p) / 2 * 1000))
    veth_m, veth_p, _ = vrtt[""]
    print("link-wire: [%s] 10 ms each way: RTT median %.3f ms, p99 %.3f ms -> delay error median %.0f us,"
          " p99 %.0f us (over veth's)" % (name, w20_m, w20_p, (w20_m - 20 - veth_m) * 1000,
          (w20_p - 20 - veth_p) * 1000))
    for d, i in (("a->b", 0), ("b->a", 4)):
        vo, vq = vowd[""], vowd["q"]
        print("link-wire: [%s] one way %s (%d datagrams): veth median %.1f us p99 %.1f us (held: %.1f / %.1f)"
              " | 10 ms set: median %+.1f us p99 %+.1f us max %+.0f us from 10 ms -> p99 %.1f us over veth's p99"
              % (name, d, wo[i + 3], vo[i], vo[i + 1], vq[i], vq[i + 1], wo[i] - 10000, wo[i + 1] - 10000,
                 wo[i + 2] - 10000, wo[i + 1] - 10000 - vo[i + 1]))
    print("link-wire: [%s] with 4 CPU hogs: veth RTT p99 %.3f ms | 10 ms each way: median %.3f ms, p99 %.3f ms"
          " -> delay error p99 %.0f us (over veth's)" % (name, vl_p, wl_m, wl_p, (wl_p - 20 - vl_p) * 1000))
print("link-wire: rate 100mbit, TCP goodput (receiver, steady 4 s): wire %.3f mbit/s (error %+.2f%%), tbf %.3f mbit/s"
      " (error %+.2f%%), wire/tbf %.3fx" % (wr * 1000, (wr / goodput - 1) * 100, tbf * 1000,
      (tbf / goodput - 1) * 100, wr / tbf if tbf else 0))
print("link-wire: rate 100mbit, one TCP stream without the CPU latency request: wire %.3f mbit/s (error %+.2f%%)"
      % (float("${R[off_rate]}") * 1000, (float("${R[off_rate]}") / goodput - 1) * 100))
# one stream at ~0 RTT leaves the link idle between 64 KiB super-frames while the
# ACK turns round; four keep it busy: the link's own rate error
print("link-wire: rate 100mbit, 4 TCP streams (receiver, steady 4 s): wire %.3f mbit/s (error %+.2f%%),"
      " tbf %.3f mbit/s (error %+.2f%%)" % (wr4 * 1000, (wr4 / goodput - 1) * 100, tbf4 * 1000,
      (tbf4 / goodput - 1) * 100))
print("link-wire: supervisor CPU %.2f s for %.1f Gbit through the wire: %.2f CPU s per Gbit"
      % (cpu, gbit, cpu / gbit if gbit else 0))
PY

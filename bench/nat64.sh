#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/nat64.sh NSLAB: nslab's NAT64 (a TUN served by the lab's link thread)
# beside the kernel's own path over the same hops. One lab: an IPv4-only
# server behind a public-v4 router; a v6-only phone behind an isp-v6 router
# (NAT64); a dual-stack laptop behind a plain dual router, which reaches the
# server over IPv4 through the kernel only (the floor). Measured: TCP
# throughput (iperf3, 1 and 4 streams, client -> server and back), ping RTT
# average, and the supervisor's CPU time per Gbit/s translated. Never a test.
set -euo pipefail

NSLAB=${1:?usage: nat64.sh NSLAB}
T=${T:-3}
lab=bench-nat64-$$
tmp=$(mktemp -d /tmp/nslab-bench-nat64.XXXXXX)
cleanup() { "$NSLAB" down "$lab" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

cat >"$tmp/lab.yaml" <<'YAML'
routers:
  isp: {}
  v4net: {upstream: isp, preset: public-v4}
  mobile: {upstream: isp, preset: isp-v6}
  plain: {upstream: isp, preset: public}
devices:
  srv: {router: v4net}
  phone: {router: mobile}
  laptop: {router: plain}
YAML
"$NSLAB" up -d -q --name "$lab" "$tmp/lab.yaml"
"$NSLAB" status "$lab" --json >"$tmp/st.json"
srv=$(python3 -c 'import json,sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    if n["name"] == "srv": print(n["ifaces"][0]["ip4"].split("/")[0])' "$tmp/st.json")
sup=$(pgrep -f -- "--name $lab" | head -n 1)

gbits() { python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
cpu_s() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
run() { # NODE DST ARGS...
	local node=$1 dst=$2
	shift 2
	"$NSLAB" exec "$lab" srv -- iperf3 -s -1 >/dev/null 2>&1 &
	sleep 0.3
	"$NSLAB" exec "$lab" "$node" -- iperf3 -J -t "$T" -c "$dst" "$@" | gbits
	wait
}
rtt() { "$NSLAB" exec "$lab" "$1" -- ping -q -c 20 -i 0.05 "$2" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }

printf '%-28s %10s %10s %7s\n' "TCP, Gbit/s" "nat64" "kernel" "ratio"
for args in "-P 1" "-P 4" "-P 1 -R"; do
	c0=$(cpu_s "$sup")
	n=$(run phone "64:ff9b::$srv" $args)
	c1=$(cpu_s "$sup")
	k=$(run laptop "$srv" $args)
	printf '%-28s %10s %10s %7s   (supervisor CPU %.2f s per Gbit/s)\n' "iperf3 $args" "$n" "$k" \
		"$(python3 -c "print('%.2f' % ($n / $k if $k else 0))")" \
		"$(python3 -c "print((($c1 - $c0) / $T) / $n if $n else 0)")"
done
printf '%-28s %10s %10s\n' "ping RTT average, ms" "$(rtt phone "64:ff9b::$srv")" "$(rtt laptop "$srv")"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/serve.sh NSLAB: `nslab serve` over a live lab of NODES nodes (default
# 1000: 100 private routers with 9 devices each, as lab-scale.sh) with an
# output directory. Prints: the server's RSS at start, time to first byte
# (median of REPS, default 10) of /api/runs, of the live state (from the
# supervisor) and of the same state from state.json; then SSE fan-out: CLIENTS
# (default 50) streams on the lab's events, one `nslab link` change, and the
# time until every client has the event (median and max), with the server's
# RSS and threads meanwhile. Printed, not a test.
set -euo pipefail

NSLAB=${1:?usage: serve.sh NSLAB}
NODES=${NODES:-1000}
REPS=${REPS:-10}
CLIENTS=${CLIENTS:-50}
DEVS_PER_ROUTER=9
command -v curl >/dev/null || { echo "serve bench: needs curl" >&2; exit 1; }

tmp=$(mktemp -d /tmp/nslab-bench-serve.XXXXXX)
lab=bench-serve-$$
up= server= clients=()
cleanup() {
	for p in "${clients[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -z "$server" ] || kill "$server" 2>/dev/null || true
	[ -z "$up" ] || "$NSLAB" down "$lab" >/dev/null 2>&1 || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
status_field() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"; }
ttfb() { # path: median ms to the first byte
	local t=() i
	for ((i = 0; i < REPS; i++)); do
		t+=("$(curl -s -o /dev/null -w '%{time_starttransfer}' "$base$1" |
			awk '{ printf "%.2f", $1 * 1000 }')")
	done
	median "${t[@]}"
}

routers=$((NODES / (DEVS_PER_ROUTER + 1)))
{
	echo "lab: $lab"
	echo "routers:"
	for ((r = 1; r <= routers; r++)); do echo "  r$r: {pool: private}"; done
	echo "devices:"
	for ((r = 1; r <= routers; r++)); do echo "  d$r: {router: r$r, count: $DEVS_PER_ROUTER}"; done
} >"$tmp/lab.yaml"
mkdir -p "$tmp/runs"
echo "serve bench: bringing up $lab ($((routers * (DEVS_PER_ROUTER + 1))) nodes)" >&2
up=1
"$NSLAB" up -d -q --outdir "$tmp/runs/lab" "$tmp/lab.yaml"

"$NSLAB" serve "$tmp/runs" --bind 127.0.0.1:0 --rate 100000 >"$tmp/url" 2>/dev/null &
server=$!
for ((i = 0; i < 100; i++)); do [ -s "$tmp/url" ] && break; sleep 0.05; done
base=$(head -n 1 "$tmp/url")
base=${base%/}
rss0=$(status_field "$server" VmRSS)
size=$(curl -s "$base/api/state?run=live:$lab" | wc -c)

printf 'nslab serve, %d-node live lab (state %d bytes), median of %d\n' \
	"$((routers * (DEVS_PER_ROUTER + 1)))" "$size" "$REPS"
printf '  RSS at start             %8d KiB\n' "$rss0"
printf '  TTFB /api/runs           %8s ms\n' "$(ttfb /api/runs)"
printf '  TTFB live state          %8s ms\n' "$(ttfb "/api/state?run=live:$lab")"
printf '  TTFB state.json          %8s ms\n' "$(ttfb /api/state?run=0:lab)"

# CLIENTS streams from one Python process (a socket each, one select loop), so
# that the arrival times are the streams', not a polling loop's.
python3 - "$base" "$lab" "$CLIENTS" "$NSLAB" "$server" <<'PY'
import select, socket, statistics, subprocess, sys, time
base, lab, n, nslab, server = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
host, port = base[len("http://"):].split(":")
req = (f"GET /api/events?run=live:{lab} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").encode()
socks, bufs = [], {}
for _ in range(n):
    s = socket.create_connection((host, int(port)))
    s.sendall(req)
    socks.append(s)
    bufs[s] = b""
def pump(want, until):
    got = {}
    while len(got) < n:
        r, _, _ = select.select([s for s in socks if s not in got], [], [], 10)
        if not r:
            sys.exit(f"serve bench: {n - len(got)} streams never got {want}")
        for s in r:
            bufs[s] += s.recv(1 << 16)
            if want in bufs[s]:
                got[s] = time.monotonic()
    return got
pump(b"lab_built", None)
t0 = time.monotonic()
subprocess.run([nslab, "link", lab, "d1-1", "eth0", "set", "delay", "5ms"], check=True,
               stdout=subprocess.DEVNULL)
lat = sorted((t - t0) * 1000 for t in pump(b"link_condition", None).values())
status = dict(l.split(":", 1) for l in open(f"/proc/{server}/status"))
print(f"  SSE fan-out to {n}: the event of nslab link reached every stream after median "
      f"{statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms (nslab link itself included)")
print(f"  with {n} streams: RSS {status['VmRSS'].split()[0]} KiB, peak "
      f"{status['VmHWM'].split()[0]} KiB, {status['Threads'].strip()} threads")
PY

# The runs list pushed to CLIENTS pages (/api/runs?watch=1): a new run
# directory, and the time until every stream has the list naming it; then one
# node's conntrack table (asked of the supervisor).
python3 - "$base" "$CLIENTS" "$tmp/runs" "$server" <<'PY'
import os, select, socket, statistics, sys, time
base, n, runs, server = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host, port = base[len("http://"):].split(":")
req = f"GET /api/runs?watch=1 HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
socks, bufs = [], {}
for _ in range(n):
    s = socket.create_connection((host, int(port)))
    s.sendall(req)
    socks.append(s)
    bufs[s] = b""
def pump(want):
    got = {}
    while len(got) < n:
        r, _, _ = select.select([s for s in socks if s not in got], [], [], 10)
        if not r:
            sys.exit(f"serve bench: {n - len(got)} runs streams never got {want}")
        for s in r:
            bufs[s] += s.recv(1 << 16)
            if want in bufs[s]:
                got[s] = time.monotonic()
    return got
pump(b'"0:lab"')
t0 = time.monotonic()
os.makedirs(f"{runs}/new/run")
open(f"{runs}/new/run/events.jsonl", "w").close()
lat = sorted((t - t0) * 1000 for t in pump(b'"0:new/run"').values())
status = dict(l.split(":", 1) for l in open(f"/proc/{server}/status"))
print(f"  runs pushed to {n}: a new run reached every page after median "
      f"{statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms; RSS {status['VmRSS'].split()[0]} KiB")
PY
printf '  TTFB conntrack of r1      %8s ms\n' "$(ttfb "/api/conntrack?run=live:$lab&node=r1")"

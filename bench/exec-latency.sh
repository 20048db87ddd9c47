#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/exec-latency.sh NSLAB: N (default 200) runs of `nslab exec LAB laptop
# -- true` against a small lab, beside the peer in the same run: util-linux's
# nsenter entering the same node's network, mount and PID namespaces (and the
# lab's user namespace when rootless) and running true. Both fork, enter and
# exec; nslab also asks the supervisor over its control socket, starts its
# helper and reports the exit. REPS runs (default 3), medians printed, with the
# ratio. Printed, never a test.
set -euo pipefail

NSLAB=${1:?usage: exec-latency.sh NSLAB}
N=${N:-200}
REPS=${REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
lab=bench-exec-$$

tmp=$(mktemp -d /tmp/nslab-bench-exec.XXXXXX)
cleanup() { "$NSLAB" down "$lab" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$NSLAB" up -d -q --name "$lab" "$here/../tests/e2e/small.yaml"
# a process in laptop's namespaces for nsenter to follow
inner=$("$NSLAB" exec -d "$lab" laptop -- sleep 600)
target=$(grep -l "^NSpid:.*[[:space:]]$inner\$" /proc/[0-9]*/status | head -n 1 | cut -d/ -f3)
[ -n "$target" ] || { echo "exec-latency: no host pid for $inner" >&2; exit 1; }
userns=()
[ "$(id -u)" -eq 0 ] || userns=(-U --preserve-credentials)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: >"$tmp/nslab.ms"
: >"$tmp/peer.ms"
for ((r = 0; r < REPS; r++)); do
	t0=$(now_ms)
	for ((i = 0; i < N; i++)); do "$NSLAB" exec "$lab" laptop -- true; done
	echo $(($(now_ms) - t0)) >>"$tmp/nslab.ms"
	t0=$(now_ms)
	for ((i = 0; i < N; i++)); do nsenter -t "$target" "${userns[@]}" -n -m -p -- true; done
	echo $(($(now_ms) - t0)) >>"$tmp/peer.ms"
done
a=$(median <"$tmp/nslab.ms")
b=$(median <"$tmp/peer.ms")
awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN {
	printf "exec latency: nslab exec %.2f ms, nsenter (peer) %.2f ms per command, ratio %.2fx (%d runs)\n",
		a / n, b / n, b ? a / b : 0, n }'

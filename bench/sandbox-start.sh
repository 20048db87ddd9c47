#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/sandbox-start.sh NSLAB BENCH: the start of a sandboxed /bin/true,
# beside its peers in the same run, N runs each (default 50), one after the
# other, medians printed with the ratio to unshare:
#   nslab run --net none -- /bin/true          (every namespace, the default policy)
#   unshare -Urnmipuf --mount-proc true
#   bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp true
#   firejail --quiet --noprofile --net=none true        (root only: it is setuid)
# then the C API (nslab_sandbox_run), a start from a pool, the peak RSS of
# nslab run and the system calls of one start (strace -f -c). Goal: nslab run
# within 1.2x unshare. Printed, never a test; a peer that is missing is skipped.
set -euo pipefail

NSLAB=${1:?usage: sandbox-start.sh NSLAB BENCH}
BENCH=${2:?usage: sandbox-start.sh NSLAB BENCH}
N=${N:-50}

median_of() { "$BENCH" time "$N" "$@" | awk '{ print $3 }'; }
declare -A ms
names=()
measure() {
	local name=$1
	shift
	if ! command -v "$1" >/dev/null 2>&1 || ! "$@" >/dev/null 2>&1; then
		echo "sandbox-start: $name: not available here, skipped" >&2
		return 0
	fi
	ms[$name]=$(median_of "$@")
	names+=("$name")
}

measure "nslab run" "$NSLAB" run --net none -- /bin/true
measure "unshare" unshare -Urnmipuf --mount-proc true
measure "bwrap" bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev \
	--tmpfs /tmp true
if [ "$(id -u)" = 0 ]; then
	measure "firejail" firejail --quiet --noprofile --net=none true
fi

base=${ms[unshare]:-}
echo "sandbox start, median of $N (ms):"
for name in "${names[@]}"; do
	awk -v n="$name" -v m="${ms[$name]}" -v b="$base" 'BEGIN {
		if (b > 0) printf "  %-10s %7.2f ms  %5.2fx unshare\n", n, m, m / b
		else printf "  %-10s %7.2f ms\n", n, m }'
done

api=$("$BENCH" api "$N" | awk '{ print $3 }')
echo "  C API: nslab_sandbox_run(/bin/true) median $api ms"
"$BENCH" pool "$N" | awk '{ printf "  %s: median %.3f ms (p90 %.3f)\n", $1, $3, $7 }'

if [ -x /usr/bin/time ]; then
	rss=$(/usr/bin/time -f %M "$NSLAB" run --net none -- /bin/true 2>&1 >/dev/null | tail -n 1)
	echo "  peak RSS of nslab run: ${rss} KiB"
fi
if command -v strace >/dev/null 2>&1; then
	tmp=$(mktemp /tmp/nslab-bench-strace.XXXXXX)
	strace -f -c -o "$tmp" "$NSLAB" run --net none -- /bin/true >/dev/null 2>&1 || true
	calls=$(awk '$NF == "total" { print $(NF - 2) }' "$tmp")
	echo "  system calls of one start (strace -f -c, every process): ${calls:-?}"
	rm -f "$tmp"
fi

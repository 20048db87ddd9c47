#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/sandbox-start.sh NSLAB BENCH: the start of a sandboxed /bin/true,
# beside its peers in the same run, N runs each (default 50), one after the
# other, medians printed with the ratio to unshare:
#   nslab run --net none -- /bin/true          (every namespace, the default policy)
#   nslab-full run --net none -- /bin/true     (the same from the glibc binary, when
#                                               nslab is the lean one)
#   unshare -Urnmipuf --mount-proc true
#   bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp true
#   firejail --quiet --noprofile --net=none true        (root only: it is setuid)
# then the C API (nslab_sandbox_run), a start from a pool, the floors (an
# exec of /bin/true, and of a program without a C library), the peak RSS of
# nslab run and the system calls of one start (strace -f -c). Goal: nslab run
# within 1.2x unshare. Printed, never a test; a peer that is missing is skipped.
set -euo pipefail

NSLAB=${1:?usage: sandbox-start.sh NSLAB BENCH}
BENCH=${2:?usage: sandbox-start.sh NSLAB BENCH}
N=${N:-50}

tmp=$(mktemp -d /tmp/nslab-bench-sandbox.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
declare -A cmd ms
names=()
add() {
	local name=$1
	shift
	if ! command -v "$1" >/dev/null 2>&1 || ! "$@" >/dev/null 2>&1; then
		echo "sandbox-start: $name: not available here, skipped" >&2
		return 0
	fi
	cmd[$name]="$*"
	names+=("$name")
}

add "nslab run" "$NSLAB" run --net none -- /bin/true
# where nslab is the lean binary (static, musl: src/cli/run-lean.c), the full
# one beside it runs the same start after glibc's: what the lean one saves
full=$(dirname "$NSLAB")/nslab-full
if [ -x "$full" ]; then
	add "nslab-full" "$full" run --net none -- /bin/true
fi
# the same start from the C API in a small binary: what the command line adds
# (nslab links libmnl and libc only; its other libraries are dlopen()ed when used)
add "api run" "$BENCH" run /bin/true
add "unshare" unshare -Urnmipuf --mount-proc true
add "bwrap" bwrap --unshare-all --die-with-parent --ro-bind / / --proc /proc --dev /dev \
	--tmpfs /tmp true
if [ "$(id -u)" = 0 ]; then
	add "firejail" firejail --quiet --noprofile --net=none true
fi
# interleaved, one run of each in turn: a busy machine slows them all alike.
# The order is shuffled each round (a fixed seed: the same orders each time):
# the run after firejail's pays for its teardown (namespaces freed in the
# background). A rotation did not spread that: the peer after firejail in the
# list followed it in four rounds of five.
RANDOM=8
k=${#names[@]}
for ((i = 0; i < N; i++)); do
	order=("${names[@]}")
	for ((j = k - 1; j > 0; j--)); do
		r=$((RANDOM % (j + 1)))
		t=${order[$j]}
		order[j]=${order[r]}
		order[r]=$t
	done
	for name in "${order[@]}"; do
		# shellcheck disable=SC2086 # the words of the command
		"$BENCH" time 1 ${cmd[$name]} | awk '{ print $3 }' >>"$tmp/$name"
	done
done
for name in "${names[@]}"; do
	ms[$name]=$(sort -n "$tmp/$name" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
done

base=${ms[unshare]:-}
echo "sandbox start, median of $N (ms):"
for name in "${names[@]}"; do
	awk -v n="$name" -v m="${ms[$name]}" -v b="$base" 'BEGIN {
		if (b > 0) printf "  %-10s %7.2f ms  %5.2fx unshare\n", n, m, m / b
		else printf "  %-10s %7.2f ms\n", n, m }'
done

if [ -n "$base" ]; then
	awk -v m="${ms[nslab run]}" -v b="$base" 'BEGIN {
		printf "  goal nslab run <= 1.2x unshare: %.2fx, %s\n", m / b,
			m / b <= 1.2 ? "met" : "not met" }'
fi
# CPU time of a start, every process (perf stat task-clock): steadier than the
# wall clock on a machine others load
cpu_ms() {
	perf stat -r "$N" -x, -e task-clock "$@" 2>&1 >/dev/null |
		awk -F, '/task-clock/ { print $1 }'
}
if command -v perf >/dev/null 2>&1 && [ -n "$base" ]; then
	cn=$(cpu_ms "$NSLAB" run --net none -- /bin/true)
	cu=$(cpu_ms unshare -Urnmipuf --mount-proc true)
	awk -v n="$cn" -v u="$cu" 'BEGIN { if (n > 0 && u > 0)
		printf "  CPU time of a start (perf stat): nslab run %.2f ms, unshare %.2f ms, %.2fx\n",
			n, u, n / u }'
fi
api=$("$BENCH" api "$N" | awk '{ print $3 }')
echo "  C API: nslab_sandbox_run(/bin/true) median $api ms"
"$BENCH" pool "$N" | awk '{ printf "  %s: median %.3f ms (p10 %.3f, p90 %.3f)\n", $1, $3, $5, $7 }'
floor=$("$BENCH" time "$N" /bin/true | awk '{ print $3 }')
echo "  floor: fork, exec and wait of /bin/true, no sandbox: median $floor ms"
# the same without a C library: glibc's own start (its CPUID probing of the
# caches, trapped by a virtual machine) is paid by every exec, twice by
# nslab run and twice by unshare (their own, then /bin/true's)
nolibc=$(dirname "$BENCH")/bench-nolibc-true
if [ -x "$nolibc" ]; then
	bare=$("$BENCH" time "$N" "$nolibc" | awk '{ print $3 }')
	awk -v f="$floor" -v b="$bare" 'BEGIN {
		printf "  floor without a C library: median %.3f ms (glibc'"'"'s start: %.3f ms an exec)\n",
			b, f - b }'
fi

if [ -x /usr/bin/time ]; then
	rss=$(/usr/bin/time -f %M "$NSLAB" run --net none -- /bin/true 2>&1 >/dev/null | tail -n 1)
	echo "  peak RSS of nslab run: ${rss} KiB"
fi
if command -v strace >/dev/null 2>&1; then
	for run in "$NSLAB run --net none --" "$BENCH run" "unshare -Urnmipuf --mount-proc"; do
		# shellcheck disable=SC2086 # the words of $run are the command
		strace -f -c -o "$tmp/strace" $run /bin/true >/dev/null 2>&1 || true
		calls=$(awk '$NF == "total" { print $(NF - 2) }' "$tmp/strace")
		echo "  system calls of one start of ${run%% *} (strace -f -c, every process): ${calls:-?}"
	done
fi

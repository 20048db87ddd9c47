#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/fwtest-throughput.sh NSLAB FWFLOOR: a generated suite of N (default
# 1000) single-packet tests against one ruleset (accept, reject and drop in
# turn), run by `nslab test`; REPS runs (default 3), the median printed as
# tests/s and ms per test, beside the kernel floor in the same run
# (bench-fwfloor: the same packets, injected and traced, nothing else, one
# at a time). nslab runs twice: one test at a time (-j 1, the floor's terms)
# and with its default jobs (tests at once, each job in namespaces of its
# own: what a user gets). With FWTOPO (bench-fwtopo), also what building one
# direct and one gateway topology costs (the lab builder's point-to-point
# path; a run builds one per job). Printed, never a test.
set -euo pipefail

NSLAB=${1:?usage: fwtest-throughput.sh NSLAB FWFLOOR [FWTOPO]}
FLOOR=${2:?usage: fwtest-throughput.sh NSLAB FWFLOOR [FWTOPO]}
FWTOPO=${3:-}
N=${N:-1000}
REPS=${REPS:-3}

tmp=$(mktemp -d /tmp/nslab-bench-fw.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

{
	printf 'topology: direct\nrules: |\n  table inet filter {\n    chain input {\n'
	printf '      type filter hook input priority 0; policy drop;\n'
	printf '      ct state established,related accept\n'
	printf '      tcp dport 22 accept comment "ssh"\n      udp dport 161 reject\n'
	printf '    }\n  }\ntests:\n'
	for ((i = 0; i < N; i++)); do
		case $((i % 3)) in
		0) printf '  - {name: t%d, packets: [{proto: tcp, dport: 22}], expect: {verdict: accept}}\n' $i ;;
		1) printf '  - {name: t%d, packets: [{proto: udp, dport: 161}], expect: {verdict: reject}}\n' $i ;;
		2) printf '  - {name: t%d, packets: [{proto: tcp, dport: %d}], expect: {verdict: drop}}\n' $i $((1000 + i)) ;;
		esac
	done
} >"$tmp/suite.yaml"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# run_nslab FILE ARGS...: one timed nslab test run, its ms appended to FILE
run_nslab() {
	local file=$1 t0
	shift
	t0=$(now_ms)
	"$NSLAB" test -q "$@" "$tmp/suite.yaml" >"$tmp/out" || { cat "$tmp/out"; exit 1; }
	echo $(($(now_ms) - t0)) >>"$file"
	grep -q "^$N passed, 0 failed" "$tmp/out" || { echo "fwtest-throughput: not every test passed" >&2; exit 1; }
}

: >"$tmp/nslab.ms"
: >"$tmp/nslab1.ms"
: >"$tmp/floor.ms"
for ((r = 0; r < REPS; r++)); do
	run_nslab "$tmp/nslab1.ms" -j 1
	run_nslab "$tmp/nslab.ms"
	"$FLOOR" "$N" | awk '{ print int($5) }' >>"$tmp/floor.ms"
done
"$NSLAB" test -q -f json -o "$tmp/report.json" "$tmp/suite.yaml" >/dev/null
jobs=$(sed -n 's/.*"jobs": *\([0-9]*\).*/\1/p' "$tmp/report.json" | head -1)
ms=$(median <"$tmp/nslab.ms")
ms1=$(median <"$tmp/nslab1.ms")
floor=$(median <"$tmp/floor.ms")
echo "fwtest-throughput: $N single-packet tests, median of $REPS"
awk -v n="$N" -v ms="$ms" -v ms1="$ms1" -v f="$floor" -v j="${jobs:-?}" 'BEGIN {
	printf "  nslab test -j 1 %6d ms  %7.0f tests/s  %.3f ms/test (whole run: namespaces, suite, report)\n", ms1, n * 1000 / ms1, ms1 / n
	printf "  nslab test      %6d ms  %7.0f tests/s  %.3f ms/test (default: %s jobs)\n", ms, n * 1000 / ms, ms / n, j
	printf "  kernel floor    %6d ms  %7.0f packets/s  %.3f ms/packet (inject + trace only, one at a time)\n", f, n * 1000 / f, f / n
	printf "  ratio           %.1fx the floor one at a time, %.1fx with the default jobs\n", ms1 / f, ms / f
}'
if [ -n "$FWTOPO" ]; then
	for kind in direct gateway; do
		printf '  '
		"$FWTOPO" 200 "$kind"
	done
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/sim.sh NSLAB SIMFLOOR: the sim runner's cost per step.
# - per step: the median of sim.json's step times in a sim of N (default 100)
#   `run: [true]` steps in one node of tests/e2e/small.yaml (spawn, wait,
#   output files, captures, events), and what one more step costs whole: that
#   sim against a sim of one such step, both timed from start to exit (lab,
#   progress.json, teardown), their difference over N-1 (the mean, so a loaded
#   host's outliers are in it);
# - the floor: bench-simfloor spawning true in the same node through the
#   public API (stdout and stderr to files) and waiting, N times: what any
#   runner must pay. The runner's own overhead is the difference (goal: 1 ms);
# - the script: `nslab up -d`, N x `nslab exec LAB laptop -- true`, `nslab
#   down`, against the N-step sim.
# REPS runs (default 3), medians printed. Printed, never a test.
set -euo pipefail

NSLAB=${1:?usage: sim.sh NSLAB SIMFLOOR}
SIMFLOOR=${2:?usage: sim.sh NSLAB SIMFLOOR}
N=${N:-100}
REPS=${REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
small=$here/../tests/e2e/small.yaml
lab=bench-sim-$$
tmp=$(mktemp -d /tmp/nslab-bench-sim.XXXXXX)
cleanup() { "$NSLAB" down "$lab" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

steps() {
	printf 'lab: %s\nsteps:\n' "$small"
	for ((i = 0; i < $1; i++)); do printf '  - {run: ["true"], node: laptop}\n'; done
}
steps "$N" >"$tmp/many.yaml"
steps 1 >"$tmp/one.yaml"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
timed() { # FILE CMD...: the command's wall ms appended to FILE
	local f=$1 t0
	shift
	t0=$(now_ms)
	"$@" >/dev/null
	echo $(($(now_ms) - t0)) >>"$f"
}
script() {
	"$NSLAB" up -d -q --name "$lab" "$small"
	for ((i = 0; i < N; i++)); do "$NSLAB" exec "$lab" laptop -- true; done
	"$NSLAB" down "$lab"
}
for f in many one script floor step; do : >"$tmp/$f.ms"; done
for ((r = 0; r < REPS; r++)); do
	timed "$tmp/many.ms" "$NSLAB" sim -q "$tmp/many.yaml" --outdir "$tmp/many-$r"
	python3 - "$tmp/many-$r/many/sim.json" >>"$tmp/step.ms" <<'PY'
import json, statistics, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "passed", s["error"]
print("%.3f" % statistics.median(x["ms"] for x in s["steps"]))
PY
	timed "$tmp/one.ms" "$NSLAB" sim -q "$tmp/one.yaml" --outdir "$tmp/one-$r"
	timed "$tmp/script.ms" script
	"$SIMFLOOR" "$small" laptop "$N" >>"$tmp/floor.ms"
done
awk -v many="$(median <"$tmp/many.ms")" -v one="$(median <"$tmp/one.ms")" -v med="$(median <"$tmp/step.ms")" \
	-v script="$(median <"$tmp/script.ms")" -v floor="$(median <"$tmp/floor.ms")" -v n="$N" 'BEGIN {
	step = (many - one) / (n - 1)
	printf "sim: a step %.2f ms (median), spawn+wait through the API %.2f ms: the runner adds %.2f ms (goal 1 ms)\n",
		med, floor, med - floor
	printf "sim: one more step, whole run, %.2f ms (mean of %d)\n", step, n - 1
	printf "sim: %d-step sim %d ms vs nslab up + %d x nslab exec + down %d ms (%.1fx)\n",
		n, many, n, script, many ? script / many : 0 }'

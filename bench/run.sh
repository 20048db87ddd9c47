#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR: build what the benchmarks need, then run them (`make bench`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ -d "$build" ] || { echo "bench/run.sh: no build dir $build (run meson setup first)" >&2; exit 1; }
build=$(cd "$build" && pwd)

nslab=$build/src/cli/nslab
floor=$build/bench/bench-floor
fwfloor=$build/bench/bench-fwfloor
fwtopo=$build/bench/bench-fwtopo
sandbox=$build/bench/bench-sandbox
simfloor=$build/bench/bench-simfloor
natfloor=$build/bench/bench-natfloor
# nslab-full too where nslab is the lean one (src/cli/run-lean.c)
extra=()
if ninja -C "$build" -t targets all | grep -q '^src/cli/nslab-full:'; then
	extra=(src/cli/nslab-full)
fi
ninja -C "$build" src/cli/nslab "${extra[@]}" bench/bench-floor bench/bench-fwfloor bench/bench-fwtopo bench/bench-sandbox bench/bench-simfloor bench/bench-natfloor >/dev/null
"$here/lab-scale.sh" "$nslab" "$floor"
"$here/fwtest-throughput.sh" "$nslab" "$fwfloor" "$fwtopo"
"$here/exec-latency.sh" "$nslab"
"$here/sandbox-start.sh" "$nslab" "$sandbox"
"$here/egress.sh" "$nslab" "$sandbox"
"$here/link-wire.sh" "$nslab"
"$here/nat.sh" "$nslab" "$floor" "$natfloor"
"$here/ra.sh" "$nslab"
"$here/nat64.sh" "$nslab"
"$here/serve.sh" "$nslab"
"$here/python.sh" "$nslab" "$build"
"$here/sim.sh" "$nslab" "$simfloor"

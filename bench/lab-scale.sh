#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/lab-scale.sh NSLAB FLOOR: labs of 10, 100 and 1000 nodes (1, 10, 100
# private routers on the IX, 9 devices behind each). For each size, REPS runs
# (default 3) of: `nslab up -d -q` (wall ms), the supervisor's peak RSS
# (VmHWM) and thread count, `nslab down` (wall ms), and the kernel floor
# (bench-floor with nodes + routers namespaces and veth pairs). Prints the
# median of each figure and the ratio up/floor. Needs root. Printed, not a test.
set -euo pipefail

NSLAB=${1:?usage: lab-scale.sh NSLAB FLOOR}
FLOOR=${2:?usage: lab-scale.sh NSLAB FLOOR}
REPS=${REPS:-3}
SIZES=${SIZES:-"10 100 1000"}
DEVS_PER_ROUTER=9

[ "$(id -u)" = 0 ] || { echo "lab-scale: needs root" >&2; exit 1; }
[ -x "$NSLAB" ] || { echo "lab-scale: no nslab at $NSLAB" >&2; exit 1; }
[ -x "$FLOOR" ] || { echo "lab-scale: no floor program at $FLOOR" >&2; exit 1; }

tmp=$(mktemp -d /tmp/nslab-bench.XXXXXX)
current_lab=
cleanup() {
	if [ -n "$current_lab" ]; then
		"$NSLAB" down "$current_lab" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

# The pid of the supervisor of our lab: the process whose cmdline holds
# "nslab" and "up" and our (unique, mktemp) lab file path.
supervisor_pid() {
	local file=$1 p args
	for p in /proc/[0-9]*; do
		args=$({ tr '\0' '\n' <"$p/cmdline"; } 2>/dev/null) || continue
		grep -q 'nslab' <<<"$args" || continue
		grep -qx 'up' <<<"$args" || continue
		grep -qxF "$file" <<<"$args" || continue
		echo "${p#/proc/}"
		return 0
	done
	return 1
}

status_field() { # pid field -> value (first number)
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null
}

median() { # numbers as args
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Namespaces are freed by the kernel after the last reference goes (its
# cleanup_net worker, which takes the rtnl lock), so `nslab down` and the
# floor's close return before the kernel is done. Let that finish before the
# next timed phase: wait a little, then until a 1-namespace floor probe is
# fast twice in a row (or 10 s pass).
settle() { # nodes
	local ok=0 i ms
	sleep "$(awk -v n="$1" 'BEGIN { print 0.2 + n / 1000 }')"
	for ((i = 0; i < 50 && ok < 2; i++)); do
		read -r _ _ ms _ < <("$FLOOR" 1)
		if awk -v m="$ms" 'BEGIN { exit !(m < 5) }'; then ok=$((ok + 1)); else ok=0; sleep 0.2; fi
	done
}

gen_lab() { # file name routers
	local file=$1 name=$2 routers=$3 r
	{
		echo "lab: $name"
		echo "seed: 1"
		echo "routers:"
		for ((r = 1; r <= routers; r++)); do echo "  r$r: {pool: private}"; done
		echo "devices:"
		for ((r = 1; r <= routers; r++)); do echo "  d$r: {router: r$r, count: $DEVS_PER_ROUTER}"; done
	} >"$file"
}

declare -A RES
for size in $SIZES; do
	routers=$((size / (DEVS_PER_ROUTER + 1)))
	nodes=$((routers * (DEVS_PER_ROUTER + 1)))
	links=$((nodes + routers))
	ups=() downs=() rss=() thr=() fup=() fdown=()
	for ((rep = 1; rep <= REPS; rep++)); do
		name="bench$$-$nodes-$rep"
		file="$tmp/$name.yaml"
		gen_lab "$file" "$name" "$routers"

		settle "$nodes"
		read -r _ _ fc _ fd < <("$FLOOR" "$links")
		fup+=("$fc") fdown+=("$fd")
		settle "$nodes"

		t0=$(now_ns)
		current_lab=$name
		"$NSLAB" up -d -q "$file"
		t1=$(now_ns)
		pid=$(supervisor_pid "$file") || { echo "lab-scale: no supervisor for $file" >&2; exit 1; }
		hwm=$(status_field "$pid" VmHWM)
		threads=$(status_field "$pid" Threads)
		t2=$(now_ns)
		"$NSLAB" down "$name"
		t3=$(now_ns)
		current_lab=

		ups+=("$(( (t1 - t0) / 1000000 ))")
		downs+=("$(( (t3 - t2) / 1000000 ))")
		rss+=("$hwm")
		thr+=("$threads")
		printf '  [%4d nodes, run %d] up %5d ms  down %5d ms  rss %6d KiB  threads %d  floor %8.1f / %6.1f ms\n' \
			"$nodes" "$rep" "${ups[-1]}" "${downs[-1]}" "$hwm" "$threads" "$fc" "$fd" >&2
	done
	RES[$size]="$nodes $routers $links $(median "${ups[@]}") $(median "${fup[@]}") $(median "${downs[@]}") $(median "${fdown[@]}") $(median "${rss[@]}") $(median "${thr[@]}")"
done

echo "lab-scale: median of $REPS runs; floor = $FLOOR creating nodes+routers namespaces and veth pairs"
printf '%6s %7s %8s %9s %9s %9s %8s %10s %9s %10s %8s\n' \
	nodes routers ns+veth up_ms floor_ms up/floor down_ms floor_cl_ms rss_MiB rss_KiB threads
for size in $SIZES; do
	read -r nodes routers links up fup down fdown rss thr <<<"${RES[$size]}"
	awk -v n="$nodes" -v r="$routers" -v l="$links" -v u="$up" -v f="$fup" -v d="$down" \
		-v fd="$fdown" -v m="$rss" -v t="$thr" 'BEGIN {
		printf "%6d %7d %8d %9.0f %9.1f %9.2f %8.0f %10.1f %9.1f %10d %8d\n",
			n, r, l, u, f, (f > 0 ? u / f : 0), d, fd, m / 1024, m, t }'
done

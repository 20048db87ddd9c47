#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/nat.sh NSLAB FLOOR: the cost of NAT. (1) `nslab up` of ROUTERS (100)
# home routers with one device each, with `nat: home` and with `nat: none`,
# beside the kernel floor of the same namespaces and veth pairs: up ms, ratio
# to the floor, ratio NAT/no NAT. (2) a run-time change: CHANGES (20) calls of
# `nslab router LAB R nat MODE` (alternating home / full-cone) and of
# `nslab status LAB` (the same CLI and control-socket round trip doing
# nothing): median ms of each and their difference, the change itself.
# Needs root. Printed, not a test.
set -euo pipefail

NSLAB=${1:?usage: nat.sh NSLAB FLOOR}
FLOOR=${2:?usage: nat.sh NSLAB FLOOR}
ROUTERS=${ROUTERS:-100}
CHANGES=${CHANGES:-20}

[ "$(id -u)" = 0 ] || { echo "nat: needs root" >&2; exit 1; }
tmp=$(mktemp -d /tmp/nslab-bench-nat.XXXXXX)
current_lab=
cleanup() {
	[ -z "$current_lab" ] || "$NSLAB" down "$current_lab" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# A lab's namespaces are freed by the kernel after `down` returns (see
# lab-scale.sh): wait until a 1-namespace floor probe is fast twice in a row.
settle() {
	local ok=0 i ms
	sleep 0.3
	for ((i = 0; i < 50 && ok < 2; i++)); do
		read -r _ _ ms _ < <("$FLOOR" 1)
		if awk -v m="$ms" 'BEGIN { exit !(m < 5) }'; then ok=$((ok + 1)); else ok=0; sleep 0.2; fi
	done
}
gen_lab() { # file name mode
	local r
	{
		echo "lab: $2"
		echo "routers:"
		echo "  isp: {}"
		for ((r = 1; r <= ROUTERS; r++)); do echo "  r$r: {upstream: isp, nat: $3}"; done
		echo "devices:"
		for ((r = 1; r <= ROUTERS; r++)); do echo "  d$r: {router: r$r}"; done
	} >"$1"
}

declare -A UP
for mode in none home; do
	name="bnat$$-$mode"
	gen_lab "$tmp/$name.yaml" "$name" "$mode"
	settle
	t0=$(now_ns)
	current_lab=$name
	"$NSLAB" up -d -q "$tmp/$name.yaml"
	t1=$(now_ns)
	UP[$mode]=$(((t1 - t0) / 1000000))
	if [ "$mode" = home ]; then
		ch=() st=()
		for ((i = 0; i < CHANGES; i++)); do
			m=home
			[ $((i % 2)) = 0 ] && m=full-cone
			t0=$(now_ns)
			"$NSLAB" router "$name" r1 nat "$m"
			t1=$(now_ns)
			"$NSLAB" status "$name" >/dev/null
			t2=$(now_ns)
			ch+=("$(((t1 - t0) / 1000))") st+=("$(((t2 - t1) / 1000))")
		done
	fi
	"$NSLAB" down "$name"
	current_lab=
done
links=$((2 * ROUTERS + 1))
settle
read -r _ _ floor _ < <("$FLOOR" "$links")
awk -v r="$ROUTERS" -v n="${UP[none]}" -v h="${UP[home]}" -v f="$floor" 'BEGIN {
	printf "nat: %d routers + %d devices: up without NAT %d ms, with home NAT %d ms (%.2fx); floor %.1f ms: %.2fx / %.2fx\n",
		r, r, n, h, h / n, f, n / f, h / f }'
c=$(median "${ch[@]}")
s=$(median "${st[@]}")
awk -v c="$c" -v s="$s" 'BEGIN {
	printf "nat: run-time change: nslab router ... nat MODE %.1f ms, nslab status %.1f ms: the change %.1f ms\n",
		c / 1000, s / 1000, (c - s) / 1000 }'

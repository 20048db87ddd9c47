#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/ra.sh NSLAB: run-time changes under `ipv6: {provisioning: ra}`, CHANGES
# (20) calls each, medians less the CLI and control-socket round trip of
# `nslab status` (doing nothing): `device ... default-via` (alternating
# between two interfaces: the new one's RA-learnt default route waited for,
# the old one's deleted), `add LAB device` behind a router built with the
# lab (its SLAAC address is the kernel's, after the router's RA), `remove` of
# it, `add LAB router` (it opens its RA socket and advertises), `remove` of
# it. Needs root (rootless labs work too; the numbers are root's). Printed,
# not a test.
set -euo pipefail

NSLAB=${1:?usage: ra.sh NSLAB}
CHANGES=${CHANGES:-20}

[ "$(id -u)" = 0 ] || { echo "ra: needs root" >&2; exit 1; }
name=bench-ra-$$
cleanup() { "$NSLAB" down "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
"$NSLAB" up -d -q --name "$name" "$(dirname "$0")/../examples/ra-two-routers.yaml"
st=() dv=() ad=() rd=() ar=() rr=()
for ((i = 0; i < CHANGES; i++)); do
	via=wlan0
	[ $((i % 2)) = 0 ] || via=eth0
	t0=$(now_ns)
	"$NSLAB" status "$name" >/dev/null
	t1=$(now_ns)
	"$NSLAB" device "$name" d default-via "$via"
	t2=$(now_ns)
	"$NSLAB" add "$name" device x router home
	t3=$(now_ns)
	"$NSLAB" remove "$name" x
	t4=$(now_ns)
	"$NSLAB" add "$name" router r upstream isp
	t5=$(now_ns)
	"$NSLAB" remove "$name" r
	t6=$(now_ns)
	st+=("$(((t1 - t0) / 1000))") dv+=("$(((t2 - t1) / 1000))") ad+=("$(((t3 - t2) / 1000))")
	rd+=("$(((t4 - t3) / 1000))") ar+=("$(((t5 - t4) / 1000))") rr+=("$(((t6 - t5) / 1000))")
done
s=$(median "${st[@]}")
awk -v s="$s" -v a="$(median "${dv[@]}")" -v b="$(median "${ad[@]}")" -v c="$(median "${rd[@]}")" \
	-v d="$(median "${ar[@]}")" -v e="$(median "${rr[@]}")" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "ra: run-time changes under RA provisioning, less the %.1f ms round trip: default-via %.1f ms, add device %.1f ms, remove it %.1f ms, add router %.1f ms, remove it %.1f ms; load %s\n",
		s / 1000, (a - s) / 1000, (b - s) / 1000, (c - s) / 1000, (d - s) / 1000, (e - s) / 1000, l }'

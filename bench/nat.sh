#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/nat.sh NSLAB FLOOR NATFLOOR: the cost of NAT and firewalls. (1) `nslab
# up` of ROUTERS (100) home routers with one device each, with `nat: none`,
# with `nat: home`, and with `preset: home` (home NAT and the block-inbound
# firewall), the best of REPEAT (3) each, beside two floors: bench-floor's
# bare namespaces and veth pairs, and bench-natfloor's kernel work of the same
# lab (namespaces, bridges, veths, addresses, routes, and the very nftables
# rules nslab loaded, read back from the first router with `nft list ruleset`
# and replayed as one raw netlink batch a router; see natfloor.c): up ms and
# the ratios to each floor, measured in the same run. (2)
# run-time changes: CHANGES (20) calls of `nslab router LAB R nat MODE`
# (alternating home / full-cone), of `nslab router LAB R firewall MODE`
# (alternating corporate / block-inbound) and of `nslab status LAB` (the same
# CLI and control-socket round trip doing nothing), and of the other
# run-time changes: `router ... nat6` (masquerade / none), `device ...
# renew-ip`, `device ... add-iface` then `remove-iface` (alternating), `dns
# ... set` (another target each time), `add LAB router` (preset home) then
# `add LAB device` behind it, `remove --force` of that router (its device
# too): medians, and each change itself (its median less status's).
# Needs root. Printed, not a test.
set -euo pipefail

NSLAB=${1:?usage: nat.sh NSLAB FLOOR NATFLOOR}
FLOOR=${2:?usage: nat.sh NSLAB FLOOR NATFLOOR}
NATFLOOR=${3:?usage: nat.sh NSLAB FLOOR NATFLOOR}
ROUTERS=${ROUTERS:-100}
CHANGES=${CHANGES:-20}
REPEAT=${REPEAT:-3}

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
gen_lab() { # file name mode (a NAT preset, or "preset-home")
	local r key="nat: $3"
	[ "$3" = preset-home ] && key="preset: home"
	{
		echo "lab: $2"
		echo "routers:"
		echo "  isp: {}"
		for ((r = 1; r <= ROUTERS; r++)); do echo "  r$r: {upstream: isp, $key}"; done
		echo "devices:"
		for ((r = 1; r <= ROUTERS; r++)); do echo "  d$r: {router: r$r}"; done
	} >"$1"
}

declare -A UP
ch=() fw=() st=() n6=() rn=() ad=() rm=() dn=() an=() dv=() rv=()
for ((rep = 0; rep < REPEAT; rep++)); do
	for mode in none home preset-home; do
		name="bnat$$-$mode"
		gen_lab "$tmp/$name.yaml" "$name" "$mode"
		settle
		t0=$(now_ns)
		current_lab=$name
		"$NSLAB" up -d -q "$tmp/$name.yaml"
		t1=$(now_ns)
		ms=$(((t1 - t0) / 1000000))
		[ -n "${UP[$mode]:-}" ] && [ "${UP[$mode]}" -le "$ms" ] || UP[$mode]=$ms
		# the rules nslab loaded, for the floor of the same lab
		[ "$mode" = none ] || [ -s "$tmp/$mode.nft" ] ||
			"$NSLAB" exec "$name" r1 -- nft list ruleset >"$tmp/$mode.nft"
		if [ "$mode" = preset-home ] && [ "$rep" = 0 ]; then
			for ((i = 0; i < CHANGES; i++)); do
				m=home f=block-inbound
				[ $((i % 2)) = 0 ] && m=full-cone f=corporate
				t0=$(now_ns)
				"$NSLAB" router "$name" r1 nat "$m"
				t1=$(now_ns)
				"$NSLAB" router "$name" r1 firewall "$f"
				t2=$(now_ns)
				"$NSLAB" status "$name" >/dev/null
				t3=$(now_ns)
				ch+=("$(((t1 - t0) / 1000))") fw+=("$(((t2 - t1) / 1000))")
				st+=("$(((t3 - t2) / 1000))")
				m6=masquerade
				[ $((i % 2)) = 0 ] || m6=none
				"$NSLAB" router "$name" r1 nat6 "$m6"
				t4=$(now_ns)
				"$NSLAB" device "$name" d1 renew-ip eth0
				t5=$(now_ns)
				"$NSLAB" device "$name" d2 add-iface eth1 r3
				t6=$(now_ns)
				"$NSLAB" device "$name" d2 remove-iface eth1
				t7=$(now_ns)
				"$NSLAB" dns "$name" set www.example "d$((i % ROUTERS + 1))"
				t8=$(now_ns)
				n6+=("$(((t4 - t3) / 1000))") rn+=("$(((t5 - t4) / 1000))")
				ad+=("$(((t6 - t5) / 1000))") rm+=("$(((t7 - t6) / 1000))")
				dn+=("$(((t8 - t7) / 1000))")
				"$NSLAB" add "$name" router nr upstream isp preset home
				t9=$(now_ns)
				"$NSLAB" add "$name" device nd router nr
				t10=$(now_ns)
				"$NSLAB" remove --force "$name" nr
				t11=$(now_ns)
				an+=("$(((t9 - t8) / 1000))") dv+=("$(((t10 - t9) / 1000))")
				rv+=("$(((t11 - t10) / 1000))")
			done
		fi
		"$NSLAB" down "$name"
		current_lab=
	done
done
links=$((2 * ROUTERS + 1))
best() { # current new: the smaller
	[ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo "$1" || echo "$2"
}
floor=
declare -A NF
for ((rep = 0; rep < REPEAT; rep++)); do
	settle
	read -r _ _ f _ < <("$FLOOR" "$links")
	floor=$(best "$floor" "$f")
	for mode in none home preset-home; do
		settle
		rules=()
		[ "$mode" = none ] || rules=("$tmp/$mode.nft")
		read -r _ _ _ _ f _ _ < <("$NATFLOOR" "$ROUTERS" "${rules[@]}")
		NF[$mode]=$(best "${NF[$mode]:-}" "$f")
	done
done
awk -v r="$ROUTERS" -v n="${UP[none]}" -v h="${UP[home]}" -v p="${UP[preset-home]}" -v f="$floor" 'BEGIN {
	printf "nat: %d routers + %d devices (best of %d): up without NAT %d ms, with home NAT %d ms (%.2fx), with preset home (NAT + block-inbound) %d ms (%.2fx); bare floor (namespaces, veths) %.1f ms: %.2fx / %.2fx / %.2fx\n",
		r, r, '"$REPEAT"', n, h, h / n, p, p / n, f, n / f, h / f, p / f }'
awk -v n="${UP[none]}" -v h="${UP[home]}" -v p="${UP[preset-home]}" -v fn="${NF[none]}" \
	-v fh="${NF[home]}" -v fp="${NF[preset-home]}" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
	printf "nat: the same lab'"'"'s floor (links, addresses, routes, the same nftables rules as raw batches): without NAT %.1f ms (%.2fx), home NAT %.1f ms (%.2fx), preset home %.1f ms (%.2fx); load %s\n",
		fn, n / fn, fh, h / fh, fp, p / fp, l }'
c=$(median "${ch[@]}")
w=$(median "${fw[@]}")
s=$(median "${st[@]}")
awk -v c="$c" -v w="$w" -v s="$s" 'BEGIN {
	printf "nat: run-time change: nslab router ... nat MODE %.1f ms, ... firewall MODE %.1f ms, nslab status %.1f ms: a NAT change %.1f ms, a firewall change %.1f ms\n",
		c / 1000, w / 1000, s / 1000, (c - s) / 1000, (w - s) / 1000 }'
awk -v s="$s" -v a="$(median "${n6[@]}")" -v b="$(median "${rn[@]}")" -v c="$(median "${ad[@]}")" \
	-v d="$(median "${rm[@]}")" -v e="$(median "${dn[@]}")" 'BEGIN {
	printf "nat: other run-time changes, less the %.1f ms round trip: nat6 %.1f ms, renew-ip %.1f ms, add-iface %.1f ms, remove-iface %.1f ms, dns set %.1f ms\n",
		s / 1000, (a - s) / 1000, (b - s) / 1000, (c - s) / 1000, (d - s) / 1000, (e - s) / 1000 }'
awk -v s="$s" -v a="$(median "${an[@]}")" -v b="$(median "${dv[@]}")" -v c="$(median "${rv[@]}")" 'BEGIN {
	printf "nat: nodes at run time, less the %.1f ms round trip: add router (preset home) %.1f ms, add device behind it %.1f ms, remove --force of both %.1f ms\n",
		s / 1000, (a - s) / 1000, (b - s) / 1000, (c - s) / 1000 }'

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# persist (root only): `up -d --persist` names every node's namespace
# /run/netns/<lab>-<node> for `ip netns exec`; they outlive `nslab down`, and
# `nslab cleanup LAB` removes them, leaving nothing behind.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"

# Rootless --persist is documented as unsupported: a skip, even in CI.
if ! is_root; then
	log "SKIP: --persist needs root"
	exit 77
fi
require_env ip

L=$(new_lab_name persist)
leftovers_snapshot start
E2E_CLEANUP="$L"
lab_up "$E2E/small.yaml" "$L" --persist
status_json "$L" "$TMP/st.json"
all=$(nodes "$TMP/st.json")

# check_entries WHEN: every node's entry shows its own addresses.
check_entries() {
	for n in $all; do
		ns="$L-$n"
		if [ ! -e "/run/netns/$ns" ]; then
			bad "$1: no /run/netns/$ns"
			continue
		fi
		out=$(ip netns exec "$ns" ip -br addr 2>&1) || {
			bad "$1: ip netns exec $ns failed: $out"
			continue
		}
		for fam in 4 6; do
			a=$(addr "$TMP/st.json" "$n" $fam) || continue
			echo "$out" | grep -qF " $a/" || bad "$1: ip netns exec $ns ip -br addr does not show $a: $out"
		done
	done
	ok "$1: /run/netns/$L-<node> for all of $(echo $all), each with its addresses"
}
check_entries "while up"
# The entry is the node's namespace, the one `nslab exec` enters.
a=$(readlink /proc/self/ns/net)
b=$("$NSLAB" exec "$L" laptop -- readlink /proc/self/ns/net)
c=$(ip netns exec "$L-laptop" readlink /proc/self/ns/net)
[ "$b" = "$c" ] && [ "$b" != "$a" ] && ok "/run/netns/$L-laptop is laptop's namespace ($b)" ||
	bad "nslab exec laptop is in $b, ip netns exec $L-laptop in $c (host $a)"
# Traffic between persisted namespaces still flows.
srv=$(addr "$TMP/st.json" server 4)
ip netns exec "$L-laptop" ping -n -q -c 1 -W 3 "$srv" >/dev/null &&
	ok "ip netns exec $L-laptop ping server works" || bad "ip netns exec $L-laptop ping $srv failed"

"$NSLAB" down "$L" || bad "nslab down $L failed"
lab_listed "$L" && bad "after down, 'nslab ls' still lists $L"
check_entries "after down"
ip netns exec "$L-laptop" ping -n -q -c 1 -W 3 "$srv" >/dev/null &&
	ok "after down, the persisted lab still routes" || bad "after down, ping $srv from $L-laptop failed"

"$NSLAB" cleanup "$L"
rc=$?
[ $rc -eq 0 ] && ok "nslab cleanup $L: exit 0" || bad "nslab cleanup $L gave $rc"
left=$(run_netns | grep "^$L-")
[ -z "$left" ] && ok "cleanup removed every /run/netns/$L-* entry" ||
	bad "after cleanup, still in /run/netns: $(echo $left)"
"$NSLAB" cleanup "$L" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && ok "second cleanup: exit 1: $(cat "$TMP/err")" || bad "second cleanup of $L gave $rc, expected 1"
E2E_CLEANUP=""
leftovers_check start "$L"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# persist (root only): `up -d --persist` names every node's namespace
# /run/netns/<lab>-<node> for `ip netns exec` while the lab is up; `nslab down`
# removes them. A node added at run time gets its entry (and its line in the
# list cleanup reads); a removed one loses both, and no mount holds its
# namespace after. After a SIGKILL of the supervisor they stay: `up` of the same
# name then says to run `nslab cleanup LAB`, which removes only the entries that
# are still the namespaces nslab bound there, and only the caller's labs
# (SUDO_UID) unless --all.
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

# Nodes added at run time are named too; removed ones lose their entries
# (a bind mount left there would hold the namespace after the removal).
"$NSLAB" add "$L" router cafe upstream isp || fail "nslab add $L router cafe failed"
"$NSLAB" add "$L" device guest router cafe || fail "nslab add $L device guest failed"
status_json "$L" "$TMP/st.json"
all=$(nodes "$TMP/st.json")
check_entries "after adding cafe and guest"
list=/run/nslab/persist/$L.list
grep -q "^$L-cafe " "$list" && grep -q "^$L-guest " "$list" &&
	ok "$list records $L-cafe and $L-guest for cleanup" || bad "$list: $(cat "$list")"
srv=$(addr "$TMP/st.json" server 4)
ip netns exec "$L-guest" ping -n -q -c 1 -W 3 "$srv" >/dev/null &&
	ok "ip netns exec $L-guest ping server works" || bad "ip netns exec $L-guest ping $srv failed"
guest_ns=$(ip netns exec "$L-guest" readlink /proc/self/ns/net)
grep -qF "$guest_ns" /proc/self/mountinfo || bad "no mount shows guest's $guest_ns while it is up"
"$NSLAB" remove --force "$L" cafe || fail "nslab remove --force $L cafe failed"
[ ! -e "/run/netns/$L-cafe" ] && [ ! -e "/run/netns/$L-guest" ] &&
	ok "remove: /run/netns/$L-cafe and $L-guest are gone" ||
	bad "after remove, still in /run/netns: $(run_netns | grep -e "^$L-cafe" -e "^$L-guest")"
grep -q -e "^$L-cafe " -e "^$L-guest " "$list" && bad "$list still records them: $(cat "$list")" ||
	ok "$list no longer records them"
grep -qF "$guest_ns" /proc/self/mountinfo && bad "a mount still holds guest's $guest_ns" ||
	ok "no mount holds guest's namespace $guest_ns any more"
status_json "$L" "$TMP/st.json"
all=$(nodes "$TMP/st.json")
check_entries "after removing cafe"

"$NSLAB" cleanup "$L" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "is up" "$TMP/err" && ok "cleanup of a lab that is up: exit 1: $(cat "$TMP/err")" ||
	bad "cleanup of $L while up gave $rc: $(cat "$TMP/err")"
[ -e "/run/netns/$L-laptop" ] || bad "cleanup of a lab that is up removed /run/netns/$L-laptop"

"$NSLAB" down "$L" || bad "nslab down $L failed"
lab_listed "$L" && bad "after down, 'nslab ls' still lists $L"
left=$(run_netns | grep "^$L-")
[ -z "$left" ] && ok "down removed every /run/netns/$L-* entry" ||
	bad "after down, still in /run/netns: $(echo $left)"
"$NSLAB" cleanup "$L" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && ok "cleanup after down: exit 1: $(cat "$TMP/err")" || bad "cleanup of $L after down gave $rc, expected 1"
E2E_CLEANUP=""
leftovers_check start "$L"

# A supervisor killed with SIGKILL leaves its entries (the bind mounts hold the
# namespaces). Persisted on behalf of uid 4242, as `sudo` run by that user would.
L2=$(new_lab_name persist2)
track_lab "$L2"
# on exit, whatever happened: uid 4242's entries, and the namespace swapped in below
trap '_r=$?; SUDO_UID=4242 "$NSLAB" cleanup "$L2" >/dev/null 2>&1
	[ -n "${swapped:-}" ] && ip netns delete "$L2-laptop" 2>/dev/null; (exit $_r); e2e_cleanup' EXIT
SUDO_UID=4242 "$NSLAB" up -q --persist --name "$L2" "$E2E/small.yaml" >"$TMP/up2.out" 2>&1 &
sup=$!
track_pid $sup
# every node recorded (the owner line, then one per node): persisting is done
recorded() { [ "$(wc -l <"/run/nslab/persist/$L2.list" 2>/dev/null)" = "$(($(echo $all | wc -w) + 1))" ]; }
wait_until 30 recorded || fail "nslab up --persist --name $L2 did not persist: $(cat "$TMP/up2.out")"
# a node added at run time is recorded too: cleanup finds it after the SIGKILL
"$NSLAB" add "$L2" device late router home || fail "nslab add $L2 device late failed"
grep -q "^$L2-late " "/run/nslab/persist/$L2.list" && ok "the added device late is recorded for cleanup" ||
	bad "/run/nslab/persist/$L2.list has no $L2-late: $(cat "/run/nslab/persist/$L2.list")"
kill -9 $sup
wait $sup 2>/dev/null
wait_until 10 not lab_listed "$L2" || bad "$L2 still listed after SIGKILL of its supervisor"
for n in $all late; do
	[ -e "/run/netns/$L2-$n" ] || bad "after SIGKILL: no /run/netns/$L2-$n"
done

# up of the same name finds them, and says what to do.
"$NSLAB" up -d -q --persist --name "$L2" "$E2E/small.yaml" 2>"$TMP/err" && {
	bad "up --persist over stale entries of $L2 succeeded"
	"$NSLAB" down "$L2"
}
grep -qF "nslab cleanup $L2" "$TMP/err" && ok "stale entries: up says: $(cat "$TMP/err")" ||
	bad "up --persist over stale entries does not say 'nslab cleanup $L2': $(cat "$TMP/err")"

# One recorded entry swapped for a namespace nslab did not make.
swapped=1
ip netns delete "$L2-laptop" && ip netns add "$L2-laptop" || bad "ip netns delete/add $L2-laptop failed"
# Another user's lab: neither bare cleanup nor `cleanup LAB` touches it.
"$NSLAB" cleanup || bad "bare nslab cleanup failed"
[ -e "/run/netns/$L2-server" ] && ok "bare cleanup leaves another user's lab alone" ||
	bad "bare cleanup removed /run/netns/$L2-server, persisted by uid 4242"
"$NSLAB" cleanup "$L2" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -qF "cleanup --all $L2" "$TMP/err" && ok "cleanup of another user's lab: $(cat "$TMP/err")" ||
	bad "cleanup $L2 (uid 4242's) gave $rc: $(cat "$TMP/err")"
"$NSLAB" cleanup --all "$L2" || bad "nslab cleanup --all $L2 failed"
left=$(run_netns | grep "^$L2-")
[ "$left" = "$L2-laptop" ] && ok "cleanup --all removed all but the swapped entry" ||
	bad "after cleanup --all, /run/netns has: $(echo $left) (expected only $L2-laptop)"
out=$(ip netns exec "$L2-laptop" ip -br link 2>&1) && ok "the swapped entry still works" ||
	bad "ip netns exec $L2-laptop after cleanup: $out"
ip netns delete "$L2-laptop" && swapped=
finish

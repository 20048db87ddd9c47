#!/bin/sh
# SPDX-License-Identifier: MIT
# sigkill: SIGKILL of the supervisor (`nslab up` in the foreground) while the
# lab is running, with a command inside a node, and while it is still
# building, leaves nothing behind: the lab leaves `nslab ls`, `exec` clients
# and their commands end, no process or fd references any of the lab's network
# namespaces, and the namespace count, /run/netns and the host's interfaces
# are as before.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ip

# sup_netns PID: the network namespaces the supervisor holds (fds, threads), but the host's.
sup_netns() {
	find "/proc/$1/fd" /proc/"$1"/task/[0-9]*/ns -maxdepth 1 -lname 'net:\[*' -printf '%l\n' \
		2>/dev/null | grep -vxF "$(my_netns)" | sort -u
}


# after_kill LAB SNAPSHOT NSFILE: the checks shared by both phases.
after_kill() {
	if wait_until 10 not lab_listed "$1"; then ok "$1: gone from 'nslab ls'"; else
		bad "$1: 'nslab ls' still lists it 10 s after SIGKILL of its supervisor"
	fi
	if wait_until 10 no_ns_holders "$3"; then
		ok "$1: no process or fd references any of its $(wc -l <"$3") network namespaces"
	else
		bad "$1: its network namespaces are still referenced 10 s after SIGKILL (pid comm where ns):"
		ns_holders "$3" | head -20 >&2
	fi
	leftovers_check "$2" "$1"
}

### While running, with a command inside a node.
L=$(new_lab_name kill)
leftovers_snapshot run
track_lab "$L"
"$NSLAB" up -q --name "$L" "$E2E/small.yaml" >"$TMP/up.out" 2>&1 &
sup=$!
track_pid $sup
wait_until 30 lab_listed "$L" || fail "$L never showed up in 'nslab ls': $(cat "$TMP/up.out")"
status_json "$L" "$TMP/st.json" # answers once the lab is built

# Every namespace of the lab: each node's (as exec sees it) and what the supervisor holds.
for n in $(nodes "$TMP/st.json"); do
	"$NSLAB" exec "$L" "$n" -- readlink /proc/self/ns/net || fail "exec in $n failed"
done | sort >"$TMP/nodes-ns"
sup_netns $sup >"$TMP/sup-ns"
sort -u "$TMP/nodes-ns" "$TMP/sup-ns" >"$TMP/lab-ns"
n_nodes=$(nodes "$TMP/st.json" | wc -l)
[ "$(sort -u "$TMP/nodes-ns" | wc -l)" -eq "$n_nodes" ] ||
	bad "$n_nodes nodes, but exec saw $(sort -u "$TMP/nodes-ns" | wc -l) distinct network namespaces"
grep -qvxF -f "$TMP/nodes-ns" "$TMP/sup-ns" ||
	bad "the supervisor holds no namespace besides the nodes' (no lab root?): $(echo $(cat "$TMP/sup-ns"))"
comm -23 "$TMP/nodes-ns" "$TMP/sup-ns" | grep -q . &&
	bad "the supervisor holds no fd for some nodes: $(comm -23 "$TMP/nodes-ns" "$TMP/sup-ns" | tr '\n' ' ')"
grep -qxF "$(my_netns)" "$TMP/lab-ns" && fail "internal: the host's namespace is among the lab's"
ok "$L: $(wc -l <"$TMP/lab-ns") network namespaces recorded ($n_nodes nodes)"

"$NSLAB" exec "$L" laptop -- sleep 1000 >"$TMP/exec.out" 2>&1 &
client=$!
track_pid $client
wait_until 10 has_sleep_grandchild $client || fail "the exec client $client never started sleep"
inner=$(sleep_grandchild $client)
inner_ns=$(readlink "/proc/$inner/ns/net")
grep -qxF "$inner_ns" "$TMP/lab-ns" && ok "sleep $inner runs in laptop's namespace $inner_ns" ||
	bad "sleep $inner runs in $inner_ns, not in one of the lab's namespaces"

# ... and one a command left running in the background, in its own session.
daemon=$(host_pid "$("$NSLAB" exec "$L" server -- sh -c 'setsid sleep 1000 >/dev/null 2>&1 </dev/null & echo $!')")
track_pid "$daemon"
alive "$daemon" || bad "the background sleep ($daemon) in server did not start"

kill -9 $sup
wait $sup 2>/dev/null # (no "Killed" from the shell)
rc=$?
[ $rc -eq 137 ] || bad "the supervisor $sup exited with $rc after SIGKILL, expected 137"
if wait_until 10 not alive $client; then ok "the exec client $client exited"; else
	bad "the exec client $client is still running 10 s after SIGKILL of the supervisor"
fi
wait $client 2>/dev/null
rc=$?
[ $rc -ne 0 ] && ok "the exec client exited with $rc" || bad "the exec client exited with 0 though its command was killed"
if wait_until 10 not alive "$inner"; then ok "the command inside the lab ($inner) is gone"; else
	bad "the command inside the lab (sleep, pid $inner) still runs after SIGKILL of the supervisor"
	! ours "$inner" || kill -9 "$inner" 2>/dev/null # started by our exec client
fi
if wait_until 10 not alive "$daemon"; then ok "the background command in server ($daemon) is gone"; else
	bad "the background command in server (setsid sleep, pid $daemon) still runs after SIGKILL of the supervisor"
fi
after_kill "$L" run "$TMP/lab-ns"
! { alive "$daemon" && ours "$daemon"; } || kill -9 "$daemon" # started above through nslab exec

### While building: a big lab, killed once events.jsonl shows devices being added.
L=$(new_lab_name killb)
leftovers_snapshot build
track_lab "$L"
"$NSLAB" up -q --name "$L" --outdir "$TMP/out" "$E2E/big.yaml" >"$TMP/upb.out" 2>&1 &
sup=$!
track_pid $sup
building() { grep -q device_added "$TMP/out/events.jsonl" 2>/dev/null; }
wait_until 60 building || fail "no device_added in $TMP/out/events.jsonl within 60 s: $(cat "$TMP/upb.out")"
n_added=$(grep -c device_added "$TMP/out/events.jsonl")
sup_netns $sup >"$TMP/lab-ns" # every added device's, and more by now
grep -q lab_built "$TMP/out/events.jsonl" &&
	fail "the big lab was built before the kill: make tests/e2e/big.yaml bigger"
kill -9 $sup
wait $sup 2>/dev/null # (no "Killed" from the shell)
rc=$?
[ $rc -eq 137 ] || bad "the building supervisor $sup exited with $rc after SIGKILL, expected 137"
grep -q lab_built "$TMP/out/events.jsonl" &&
	bad "events.jsonl says lab_built: the kill came after the build, this phase proves nothing"
[ "$(wc -l <"$TMP/lab-ns")" -gt "$n_added" ] ||
	bad "the supervisor held $(wc -l <"$TMP/lab-ns") namespaces at the kill, but $n_added devices were added"
ok "$L: killed while building ($n_added devices in events.jsonl, $(wc -l <"$TMP/lab-ns") namespaces held)"
after_kill "$L" build "$TMP/lab-ns"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# lifetime: whatever clients do, a lab ends in bounded time and nothing outlives
# its owner. The lab's pid 1 lives in the lab root's network namespace, not the
# host's; a command gets a /sys of its node; a missing directory is said; a
# SIGKILLed `exec` takes its command along (and the event log says so); a
# stopped `exec` client (even with its helper stopped) does not hold `down`; a
# stopped supervisor makes clients fail with its pid and state instead of
# hanging; `exec --detach` outlives its client but not the lab; a supervisor
# out of fds refuses clients instead of spinning; and
# `nslab test` runs on a 256-node lab topology under the default fd limit.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ip

# peer_pid LAB: the pid of LAB's supervisor (SO_PEERCRED of its control socket).
peer_pid() {
	$PY - "$1" <<'EOF'
import socket, struct, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(b"\0nslab/%d/%s" % (os.getuid(), sys.argv[1].encode()))
pid, _, _ = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
print(pid)
EOF
}


# start_exec LAB NODE: `nslab exec LAB NODE -- sleep 1000` in the background;
# sets $client and $cmd (its sleep).
start_exec() {
	"$NSLAB" exec "$1" "$2" -- sleep 1000 >/dev/null 2>&1 &
	client=$!
	track_pid $client
	wait_until 10 has_sleep_grandchild $client || fail "exec client $client never started sleep"
	cmd=$(sleep_grandchild $client)
	track_pid "$cmd"
}

L=$(new_lab_name life)
lab_up "$E2E/small.yaml" "$L" --outdir "$TMP/out"
sup=$(peer_pid "$L") || fail "no supervisor pid for $L"

### pid 1 of the lab lives in a namespace of the lab, never the host's.
init=""
for _c in $(children_of "$sup"); do
	[ "$(cat "/proc/$_c/comm" 2>/dev/null)" = nslab-init ] && init=$_c
done
[ -n "$init" ] || fail "the supervisor $sup has no nslab-init child"
if is_root; then
	init_ns=$(readlink "/proc/$init/ns/net") || fail "cannot read pid 1's network namespace"
	[ "$init_ns" != "$(my_netns)" ] && ok "pid 1 ($init) is not in the host's network namespace" ||
		bad "pid 1 ($init) of the lab lives in the host's network namespace"
	"$NSLAB" exec "$L" laptop -- readlink /proc/self/ns/net >"$TMP/laptop-ns"
	[ "$init_ns" != "$(cat "$TMP/laptop-ns")" ] || bad "pid 1 lives in laptop's namespace"
	for _f in /proc/"$sup"/fd/*; do readlink "$_f"; done 2>/dev/null | grep -qxF "$init_ns" &&
		ok "pid 1 lives in a namespace the supervisor holds (the lab root)" ||
		bad "pid 1's namespace $init_ns is none the supervisor holds"
else
	# rootless: lab commands hold every capability of the lab's user namespace,
	# yet pid 1 (non-dumpable, its memory the host's user namespace's) is out of reach
	if "$NSLAB" exec "$L" laptop -- readlink /proc/1/ns/net >"$TMP/p1" 2>&1; then
		bad "a lab command can inspect pid 1: its netns is $(cat "$TMP/p1")"
	else
		ok "a lab command cannot inspect (or ptrace) the lab's pid 1"
	fi
fi

### /sys of the node, as `ip netns exec` gives.
"$NSLAB" exec "$L" phone -- ls /sys/class/net | sort >"$TMP/sys" || bad "exec ls /sys/class/net failed"
"$NSLAB" exec "$L" phone -- ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
	sort >"$TMP/links"
if [ -s "$TMP/links" ] && cmp -s "$TMP/sys" "$TMP/links"; then
	ok "/sys/class/net in phone lists phone's links ($(echo $(cat "$TMP/sys")))"
else
	bad "/sys/class/net in phone: '$(echo $(cat "$TMP/sys"))', its links: '$(echo $(cat "$TMP/links"))'"
fi

### A directory the lab cannot see: the command runs in / and is told so.
# (/proc/$$ is ours; the lab's /proc is its PID namespace's, where no such pid is.)
out=$(cd "/proc/$$" && "$NSLAB" exec "$L" laptop -- pwd 2>"$TMP/cwd.err")
[ "$out" = / ] && grep -q "does not exist in the lab; running in /" "$TMP/cwd.err" &&
	ok "a directory missing in the lab: / and a warning" ||
	bad "exec from /proc/$$: pwd '$out', stderr '$(cat "$TMP/cwd.err")'"

### Host mounts made after `up` show in the lab (slave propagation), root only:
# in a mount namespace of the test's own whose / is shared, so the host is untouched.
if is_root && command -v unshare >/dev/null; then
	LM=$(new_lab_name mnt)
	mkdir "$TMP/m"
	unshare -m --propagation shared sh -c '
		"$1" up -d -q --name "$2" "$3" >/dev/null 2>&1 || exit 3
		mount -t tmpfs nslab-e2e "$4" || { "$1" down "$2"; exit 4; }
		echo later >"$4/f"
		out=$("$1" exec "$2" laptop -- cat "$4/f")
		"$1" down "$2"
		[ "$out" = later ]' sh "$NSLAB" "$LM" "$E2E/small.yaml" "$TMP/m"
	rc=$?
	[ $rc -eq 0 ] && ok "a mount made after up shows inside the lab" ||
		bad "a mount made after up is not seen in the lab (rc $rc)"
fi

### A SIGKILLed exec client takes its command along; the log says so.
start_exec "$L" laptop
kill -9 "$client"
wait "$client" 2>/dev/null
if wait_until 10 not alive "$cmd"; then ok "SIGKILL of exec: its command ($cmd) is gone"; else
	bad "SIGKILL of exec: its command (sleep $cmd) still runs"
fi
gone_logged() { grep '"cmd_exited"' "$TMP/out/events.jsonl" | grep -q '"reason":"client gone"'; }
wait_until 10 gone_logged && ok "events.jsonl: cmd_exited, reason client gone" ||
	bad "no cmd_exited with reason 'client gone' in events.jsonl: $(tail -n 3 "$TMP/out/events.jsonl")"

### exec --detach: the command outlives its client, until the lab goes.
# (its pid comes on stdout, which the command must not hold: $(...) would wait for it)
inner=$(timeout 20 "$NSLAB" exec --detach "$L" server -- sh -c 'echo started; exec sleep 1000' \
	2>"$TMP/detach.err")
rc=$?
[ $rc -eq 0 ] && [ -n "$inner" ] || fail "exec --detach: rc $rc, stdout '$inner', stderr '$(cat "$TMP/detach.err")'"
daemon=$(host_pid "$inner")
track_pid "$daemon"
alive "$daemon" && [ "$(cat "/proc/$daemon/comm")" = sleep ] &&
	ok "exec --detach: sleep runs as pid $inner in the lab after its client returned" ||
	bad "exec --detach: no sleep with pid $inner in the lab"
"$NSLAB" exec "$L" server -- cat /proc/$inner/stat >"$TMP/dstat" 2>&1
awk '{ exit !($4 == 1 && $6 == $1) }' "$TMP/dstat" &&
	ok "its parent is the lab's pid 1, in a session of its own" ||
	bad "a detached command's stat: $(cat "$TMP/dstat")"
grep '"cmd_spawned"' "$TMP/out/events.jsonl" | grep '"cmd":"sh -c' | grep -q '"detached":true' &&
	ok "events.jsonl: cmd_spawned says detached" || bad "no detached cmd_spawned in events.jsonl"
logged() { grep -qx started "$TMP"/out/nodes/server/exec-*-sh.stdout 2>/dev/null; }
wait_until 10 logged && ok "its output goes to nodes/server/exec-N-sh.stdout" ||
	bad "no 'started' in $(ls "$TMP/out/nodes/server/" 2>&1)"

### A stopped supervisor: clients fail with its pid and state, in bounded time.
kill -STOP "$sup"
timeout 30 "$NSLAB" status "$L" >/dev/null 2>"$TMP/stopped.err"
rc=$?
kill -CONT "$sup"
[ $rc -eq 1 ] && grep -q "supervisor (pid $sup, stopped) did not answer" "$TMP/stopped.err" &&
	ok "status against a stopped supervisor: exit 1, '$(cat "$TMP/stopped.err")'" ||
	bad "status against a stopped supervisor: rc $rc (124: hung), '$(cat "$TMP/stopped.err")'"
"$NSLAB" status "$L" >/dev/null || bad "the supervisor does not answer after SIGCONT"

### A stopped exec client does not hold `down`.
start_exec "$L" server
kill -STOP "$client"
timeout 30 "$NSLAB" down "$L" 2>"$TMP/down.err"
rc=$?
[ $rc -eq 0 ] && ok "down with a stopped exec client: done" ||
	bad "down with a stopped exec client: rc $rc (124: hung), '$(cat "$TMP/down.err")'"
lab_listed "$L" && bad "$L is still listed after down"
"$NSLAB" status "$L" 2>/dev/null && bad "status answers after down"
wait_until 10 not alive "$daemon" && ok "the detached command went with the lab" ||
	bad "the detached command ($daemon) survived down"
wait_until 10 not alive "$cmd" && ok "the stopped client's command is gone" ||
	bad "the stopped client's command ($cmd) survived down"
kill -CONT "$client"
wait "$client" 2>/dev/null
rc=$?
[ $rc -ne 0 ] && ok "the resumed client exits $rc" || bad "the resumed client exits 0"

### ... even with its helper stopped too (pid 1 cannot finish: down is bounded).
L2=$(new_lab_name life2)
lab_up "$E2E/small.yaml" "$L2"
start_exec "$L2" laptop
helper=$(children_of "$client")
kill -STOP "$client" $helper
timeout 30 "$NSLAB" down "$L2" 2>"$TMP/down2.err"
rc=$?
[ $rc -eq 0 ] && ok "down with a stopped client and helper: done" ||
	bad "down with a stopped client and helper: rc $rc, '$(cat "$TMP/down2.err")'"
lab_listed "$L2" && bad "$L2 is still listed after down"
kill -CONT "$client" $helper
wait "$client" 2>/dev/null
wait_until 10 not alive "$cmd" || bad "the command ($cmd) survived its resumed client"

### Out of fds: the supervisor refuses clients (no busy loop) and recovers.
L3=$(new_lab_name life3)
track_lab "$L3"
(ulimit -n 64 && exec "$NSLAB" up -d -q --name "$L3" "$E2E/small.yaml") >"$TMP/up3.out" 2>&1 ||
	fail "up with 64 fds: $(cat "$TMP/up3.out")"
$PY - "$L3" >"$TMP/emfile.out" <<'EOF'
import os, select, socket, sys
addr = b"\0nslab/%d/%s" % (os.getuid(), sys.argv[1].encode())
conns = []
for _ in range(120):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    try:
        s.connect(addr)
    except OSError as e:
        print("connect:", e)
        break
    conns.append(s)
readable, _, _ = select.select(conns, [], [], 5)
for s in readable:
    print(s.recv(256).decode(errors="replace"))
EOF
grep -q "out of file descriptors" "$TMP/emfile.out" &&
	ok "a supervisor out of fds tells clients so" ||
	bad "120 connections to a supervisor with 64 fds: '$(head -n 3 "$TMP/emfile.out")'"
"$NSLAB" status "$L3" >/dev/null && ok "and answers again once they are gone" ||
	bad "the supervisor out of fds does not answer once the clients are gone"
"$NSLAB" down "$L3" || bad "down $L3 failed"

### nslab test on a 256-node lab (254 devices, 2 routers) under the default soft limit of 1024 fds.
cat >"$TMP/wide.yaml" <<'EOF'
routers:
  r1: {}
  r2: {}
devices:
  a: {router: r1, count: 127}
  b: {router: r2, count: 127}
EOF
cat >"$TMP/wide-suite.yaml" <<EOF
topology: lab
lab: $TMP/wide.yaml
rules_in: r1
rules: |
  table inet t {
    chain forward {
      type filter hook forward priority 0; policy accept;
      tcp dport 22 drop comment "no ssh"
    }
  }
tests:
  - name: ssh from a device to the other router's is dropped in its own
    packets: [{proto: tcp, from: a-1, dst: b-1, dport: 22}]
    expect: {verdict: drop, rule: no ssh}
EOF
(ulimit -Sn 1024 && "$NSLAB" test "$TMP/wide-suite.yaml") >"$TMP/wide.out" 2>&1 &&
	ok "nslab test on 256 nodes with a soft limit of 1024 fds" ||
	bad "nslab test on 256 nodes with 1024 fds: $(tail -n 3 "$TMP/wide.out")"

finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# exec: `nslab exec` passes exit statuses, stdio and the NSLAB_IP_* environment
# through and fails clearly on unknown labs and nodes; `shell`, `ls`, `status`
# (table and --json), a second `up` of the same name, and `down`.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ip

L=$(new_lab_name exec)
lab_up "$E2E/small.yaml" "$L"
ok "nslab up -d: 'nslab ls' lists $L"
status_json "$L" "$TMP/st.json"

ex() { "$NSLAB" exec "$L" "$@"; }

# `nslab ls`: a table and JSON, each lab asked over its control socket.
mode=root
is_root || mode=rootless
"$NSLAB" ls >"$TMP/ls" || bad "nslab ls failed"
head -n 1 "$TMP/ls" | grep -q '^NAME  *MODE  *NODES  *AGE  *PID  *OUTDIR$' || bad "ls header: $(head -n 1 "$TMP/ls")"
awk -v l="$L" -v m="$mode" '$1 == l && $2 == m && $3 == 7 && $6 == "-" { found = 1 } END { exit !found }' \
	"$TMP/ls" && ok "ls: $L, $mode, 7 nodes, no outdir" || bad "ls: no row '$L $mode 7 ...': $(cat "$TMP/ls")"
"$NSLAB" ls --json >"$TMP/ls.json" || bad "nslab ls --json failed"
$PY - "$L" "$mode" "$TMP/ls.json" <<'EOF' && ok "ls --json: name, mode, nodes, pid, built_at" || bad "ls --json: $(cat "$TMP/ls.json")"
import json, os, sys, time
lab, mode, path = sys.argv[1:]
rows = [r for r in json.load(open(path)) if r["name"] == lab]
assert len(rows) == 1, rows
r = rows[0]
assert r["mode"] == mode and r["nodes"] == 7 and "outdir" not in r, r
assert os.path.exists("/proc/%d" % r["pid"]), r
assert 0 <= time.time() - r["built_at"] < 600, r
EOF
# the lab root, as status --json names it, can be entered too
ex ix -- ip -o addr show dev ix >"$TMP/ix" 2>&1 && grep -q "198.18.0.1/" "$TMP/ix" &&
	ok "exec in the lab root 'ix' sees the IX bridge's address" || bad "exec ix: $(cat "$TMP/ix")"

# A lab name bound by another user: not listed, and `up` says who holds it (root only).
if is_root && command -v setpriv >/dev/null; then
	SQ=$(new_lab_name squat)
	setpriv --reuid=65534 --regid=65534 --clear-groups $PY -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(b"\0nslab/0/" + sys.argv[1].encode()); s.listen(64)
print("bound", flush=True); time.sleep(60)' "$SQ" >"$TMP/squat.out" &
	squatter=$!
	track_pid $squatter
	squatting() { grep -q bound "$TMP/squat.out"; }
	wait_until 10 squatting || bad "the squatter never bound its socket"
	"$NSLAB" ls -q | grep -qxF "$SQ" && bad "ls lists $SQ, which another user bound"
	"$NSLAB" ls | grep -q "^$SQ " && bad "the ls table lists $SQ, which another user bound"
	"$NSLAB" up -d -q --name "$SQ" "$E2E/small.yaml" 2>"$TMP/squat.err"
	rc=$?
	grep -q "taken by another user (uid 65534" "$TMP/squat.err" && [ $rc -ne 0 ] &&
		ok "up of a squatted name: '$(cat "$TMP/squat.err")'" ||
		bad "up of a squatted name: rc $rc, '$(cat "$TMP/squat.err")'"
	kill "$squatter"
	wait "$squatter" 2>/dev/null
fi

# Exit status, also of a command killed by a signal (128 + signal).
ex server -- sh -c 'exit 7'
rc=$?
[ $rc -eq 7 ] && ok "exit status 7 passed through" || bad "exec 'exit 7' gave $rc, expected 7"
ex server -- true && ok "exit status 0 passed through" || bad "exec true gave $?"
ex laptop -- sh -c 'kill -TERM $$'
rc=$?
[ $rc -eq 143 ] && ok "SIGTERM: status 143" || bad "exec of a command killed by SIGTERM gave $rc, expected 143"

# stdin, stdout and stderr.
out=$(echo hi | ex laptop -- cat)
[ "$out" = hi ] && ok "stdin and stdout piped through" || bad "echo hi | exec cat gave '$out'"
head -c 300000 /dev/urandom >"$TMP/blob"
ex box-1 -- cat <"$TMP/blob" >"$TMP/blob.out"
cmp -s "$TMP/blob" "$TMP/blob.out" && ok "300 kB through exec cat unchanged" ||
	bad "300 kB through exec cat: $(wc -c <"$TMP/blob.out") bytes came back, or different ones"
ex server -- sh -c 'echo to-err >&2; echo to-out' >"$TMP/o" 2>"$TMP/e"
[ "$(cat "$TMP/o")" = to-out ] && [ "$(cat "$TMP/e")" = to-err ] &&
	ok "stdout and stderr kept apart" || bad "stdout '$(cat "$TMP/o")', stderr '$(cat "$TMP/e")'"
out=$(ex server -- pwd)
[ "$out" = "$TMP" ] && ok "the command runs in the caller's directory" ||
	bad "exec pwd gave '$out', expected $TMP"

# The environment: NSLAB_IP_<NODE>, NSLAB_IP6_<NODE>, NSLAB_IP_<NODE>_<IFACE>, as status --json.
# want VAR NODE FAM [IFACE]: the value VAR must have (empty: VAR must be unset).
env_checks() {
	cat <<EOF
NSLAB_IP_SERVER server 4
NSLAB_IP6_SERVER server 6
NSLAB_IP_SERVER_ETH0 server 4 eth0
NSLAB_IP6_SERVER_ETH0 server 6 eth0
NSLAB_IP_LAPTOP laptop 4
NSLAB_IP6_LAPTOP laptop 6
NSLAB_IP_BOX_1 box-1 4
NSLAB_IP_BOX_2 box-2 4
NSLAB_IP6_BOX_2_ETH0 box-2 6 eth0
NSLAB_IP_PHONE phone 4
NSLAB_IP6_PHONE phone 6
NSLAB_IP_PHONE_WLAN0 phone 4 wlan0
NSLAB_IP_PHONE_LTE0 phone 4 lte0
NSLAB_IP6_PHONE_LTE0 phone 6 lte0
NSLAB_IP_ISP isp 4
NSLAB_IP_HOME home 4
EOF
}
ex phone -- env >"$TMP/env" || bad "exec env failed"
ex isp -- env >"$TMP/env-isp" || bad "exec env in a router failed"
env_checks >"$TMP/env-checks"
while read -r var node fam iface; do
	want=$(addr "$TMP/st.json" "$node" "$fam" $iface) || {
		bad "status --json has no IPv$fam address for $node ${iface:-}"
		continue
	}
	got=$(sed -n "s/^$var=//p" "$TMP/env")
	[ "$got" = "$want" ] || bad "in phone: $var='$got', status --json says $want"
	got=$(sed -n "s/^$var=//p" "$TMP/env-isp")
	[ "$got" = "$want" ] || bad "in isp: $var='$got', status --json says $want"
done <"$TMP/env-checks"
[ "$(grep -c '^NSLAB_IP' "$TMP/env")" -ge 16 ] && ok "NSLAB_IP* variables as status --json says" ||
	bad "only $(grep -c '^NSLAB_IP' "$TMP/env") NSLAB_IP* variables in the environment"
# The primary address of phone is its default_via interface's; the variable is the one it has.
[ "$(sed -n 's/^NSLAB_IP_PHONE=//p' "$TMP/env")" = "$(sed -n 's/^NSLAB_IP_PHONE_WLAN0=//p' "$TMP/env")" ] ||
	bad "NSLAB_IP_PHONE is not the default_via (wlan0) address"
# ... and the address is really there, on the interface the variable names.
a=$(addr "$TMP/st.json" phone 4 lte0)
ex phone -- ip -br addr show dev lte0 | grep -qF " $a/" &&
	ok "phone's lte0 carries $a" || bad "ip addr in phone does not show $a on lte0"
# The host name is the node's (a UTS namespace per command); the host's stays.
[ "$(ex phone -- hostname)" = phone ] && ok "hostname in phone is 'phone'" ||
	bad "hostname in phone is '$(ex phone -- hostname)'"
[ "$(hostname)" != phone ] || bad "the host's name changed to 'phone'"
# The caller's own environment passes through too.
out=$(E2E_MARK=xyz "$NSLAB" exec "$L" server -- sh -c 'echo "$E2E_MARK"')
# ... but a stale NSLAB_IP_* of the caller never hides the lab's.
out2=$(NSLAB_IP_SERVER=0.0.0.0 "$NSLAB" exec "$L" laptop -- sh -c 'echo "$NSLAB_IP_SERVER"')
[ "$out2" = "$(addr "$TMP/st.json" server 4)" ] && ok "the lab's NSLAB_IP_SERVER wins over the caller's" ||
	bad "NSLAB_IP_SERVER in the command is '$out2', expected the lab's $(addr "$TMP/st.json" server 4)"
[ "$out" = xyz ] && ok "the caller's environment reaches the command" ||
	bad "the caller's environment is not passed to exec'd commands (got '$out')"

# Unknown node, unknown lab, missing program.
ex nosuch -- true 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && ok "unknown node: exit 1" || bad "exec in an unknown node gave $rc, expected 1"
grep -q "no node 'nosuch'" "$TMP/err" && ok "unknown node: '$(cat "$TMP/err")'" ||
	bad "unknown node: stderr '$(cat "$TMP/err")' does not name node 'nosuch'"
"$NSLAB" exec "nosuch-$L" server -- true 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && ok "unknown lab: exit 1" || bad "exec in an unknown lab gave $rc, expected 1"
grep -q "nosuch-$L" "$TMP/err" && ok "unknown lab: '$(cat "$TMP/err")'" ||
	bad "unknown lab: stderr '$(cat "$TMP/err")' does not name the lab"
ex server -- /nonexistent/program 2>"$TMP/err"
rc=$?
[ $rc -ne 0 ] && ok "missing program: exit $rc, '$(cat "$TMP/err")'" ||
	bad "exec of a missing program gave 0"
grep -q /nonexistent/program "$TMP/err" || bad "missing program: stderr '$(cat "$TMP/err")' does not name it"
"$NSLAB" exec "$L" server 2>/dev/null
rc=$?
[ $rc -eq 2 ] && ok "exec without a command: usage error 2" || bad "exec without a command gave $rc, expected 2"

# A terminal reaches the command when there is one.
if command -v script >/dev/null 2>&1; then
	out=$(script -qec "$NSLAB exec $L server -- sh -c 'test -t 0 && test -t 1 && echo TTY'" /dev/null </dev/null | tr -d '\r')
	[ "$out" = TTY ] && ok "a terminal's tty reaches the command" || bad "under a tty, exec's command saw no tty ('$out')"
fi

# shell: $SHELL in the node, script on stdin.
out=$(echo 'echo "$NSLAB_IP_SERVER"; exit 3' | SHELL=/bin/sh "$NSLAB" shell "$L" server)
rc=$?
want=$(addr "$TMP/st.json" server 4)
[ $rc -eq 3 ] && [ "$out" = "$want" ] && ok "shell: runs \$SHELL in the node, status 3" ||
	bad "shell: status $rc (want 3), output '$out' (want $want)"

# status: the table and --json list every node.
"$NSLAB" status "$L" >"$TMP/table" || bad "nslab status $L failed"
head -1 "$TMP/table" | grep -q '^NODE  *KIND  *IFACE' || bad "status table header: '$(head -1 "$TMP/table")'"
for n in isp home server laptop box-1 box-2 phone; do
	grep -q "^$n " "$TMP/table" || bad "status table has no row for $n"
	a=$(addr "$TMP/st.json" "$n" 4)
	grep -q "^$n .* $a/" "$TMP/table" || bad "status table: no $a on $n's row"
done
ok "status table lists every node"
[ "$(nodes "$TMP/st.json" | tr '\n' ' ')" = "isp home server laptop box-1 box-2 phone " ] &&
	ok "status --json lists every node" || bad "status --json nodes: $(nodes "$TMP/st.json" | tr '\n' ' ')"
$PY - "$TMP/st.json" "$L" <<'EOF' || bad "status --json: wrong fields (see above)"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["lab"] == sys.argv[2], st["lab"]
assert st["built"] is True
assert st["routers"] == 2 and st["devices"] == 5, (st["routers"], st["devices"])
assert st["rootless"] == (__import__("os").getuid() != 0)
phone = [n for n in st["nodes"] if n["name"] == "phone"][0]
assert phone["primary"] == "wlan0", phone
assert [(f["name"], f["peer"]) for f in phone["ifaces"]] == [("wlan0", "home"), ("lte0", "isp")], phone
for n in st["nodes"]:
    for f in n["ifaces"]:
        assert "ll6" in f and f["ll6"].startswith("fe80:"), f
EOF
"$NSLAB" status "nosuch-$L" >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] && ok "status of an unknown lab: exit 1" || bad "status of an unknown lab gave $rc"

# A second lab of the same name is refused; the first goes on.
"$NSLAB" up -d -q --name "$L" "$E2E/small.yaml" 2>"$TMP/err"
rc=$?
[ $rc -ne 0 ] && grep -q "already up" "$TMP/err" && ok "second up of $L refused: '$(cat "$TMP/err")'" ||
	bad "second up of $L: exit $rc, stderr '$(cat "$TMP/err")'"
ex server -- true || bad "after the refused second up, exec in $L fails"

# The usage line says `up FILE [-d] [--name N] ...`: options after FILE.
L2=$(new_lab_name exec2)
track_lab "$L2"
if "$NSLAB" up "$E2E/small.yaml" -d -q --name "$L2" 2>"$TMP/err" && lab_listed "$L2"; then
	ok "nslab up FILE -d -q --name N (options after FILE) works"
	"$NSLAB" down "$L2" || bad "nslab down $L2 failed"
else
	bad "nslab up FILE -d -q --name N, as the usage line writes it, failed: $(cat "$TMP/err")"
fi

# down: gone from ls, exec refused, and no process left in the lab's namespaces,
# not even one an exec'd command left running in the background.
for n in $(nodes "$TMP/st.json"); do ex "$n" -- readlink /proc/self/ns/net; done | sort -u >"$TMP/lab-ns"
[ "$(wc -l <"$TMP/lab-ns")" -eq 7 ] || bad "7 nodes, $(wc -l <"$TMP/lab-ns") distinct namespaces"
bg=$(host_pid "$(ex laptop -- sh -c 'sleep 1000 >/dev/null 2>&1 </dev/null & echo $!')")
track_pid "$bg"
alive "$bg" || bad "the background sleep ($bg) of an exec'd command did not start"
"$NSLAB" down "$L"
rc=$?
[ $rc -eq 0 ] && ok "nslab down: exit 0" || bad "nslab down $L gave $rc"
if wait_until 10 no_ns_holders "$TMP/lab-ns"; then
	ok "after down, no process or fd is left in the lab's namespaces"
else
	bad "after down, processes are left in the lab's namespaces (pid comm where ns):"
	ns_holders "$TMP/lab-ns" >&2
fi
alive "$bg" && bad "after down, the background sleep $bg started by 'exec laptop -- sh -c \"sleep &\"' still runs"
lab_listed "$L" && bad "after down, 'nslab ls' still lists $L" || ok "after down, $L is not in 'nslab ls'"
ex server -- true 2>/dev/null
rc=$?
[ $rc -eq 1 ] && ok "exec after down: exit 1" || bad "exec after down gave $rc, expected 1"
"$NSLAB" down "$L" 2>/dev/null
rc=$?
[ $rc -eq 1 ] && ok "down of a lab that is not up: exit 1" || bad "second down gave $rc, expected 1"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# up: the `nslab up` front end.
# - a router or device named "ix" (the lab root's name) is exit 2 at its FILE:LINE:COL;
# - progress "building: N/TOTAL nodes", rewritten with '\r', on a terminal only
#   (under script(1)'s pty), never into a pipe or a file, never with colour;
# - the supervisor's quiet state once the lab is up (cmd-up.c's DOC block): cwd /,
#   umask 077, NoNewPrivs, stdin /dev/null when detached, and --outdir given as a
#   relative path still receives the lab's files.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env

# --- "ix" is the lab root's name -------------------------------------------
printf 'routers:\n  r: {}\ndevices:\n  ix: {router: r}\n' >ix.yaml
"$NSLAB" up -q --name "$(new_lab_name ix)" ix.yaml >ix.out 2>ix.err
rc=$?
[ $rc -eq 2 ] && ok "a device named ix: exit 2" || bad "a device named ix: exit $rc, not 2"
want="nslab: ix.yaml:4:3: 'ix' is the lab root's name: choose another"
[ "$(cat ix.err)" = "$want" ] && ok "a device named ix: the message names ix.yaml:4:3" ||
	bad "a device named ix: stderr '$(cat ix.err)', not '$want'"
[ -s ix.out ] && bad "a device named ix: stdout not empty: $(cat ix.out)"

# --- progress on a terminal, none in a pipe ----------------------------------
# one router and 199 devices: 200 nodes, so more than one progress step shows
printf 'routers:\n  r: {}\ndevices:\n  d: {router: r, count: 199}\n' >prog.yaml
ESC=$(printf '\033')
CR=$(printf '\r')
if command -v script >/dev/null 2>&1; then
	L=$(new_lab_name up-tty)
	track_lab "$L"
	# script -e: its status is the command's; -f: no buffering; the pty is
	# both stdout and stderr of nslab, and its output lands in tty.out
	script -qfec "\"$NSLAB\" up -d --name $L prog.yaml" /dev/null >tty.out 2>&1 </dev/null
	rc=$?
	[ $rc -eq 0 ] || fail "nslab up -d under script: exit $rc: $(cat tty.out)"
	grep -q "${CR}building: 200/200 nodes" tty.out && ok "terminal: the progress reaches 200/200" ||
		bad "terminal: no '\\rbuilding: 200/200 nodes' in: $(cat -A tty.out | head -c 400)"
	steps=$(tr '\r' '\n' <tty.out | grep -c '^building: [0-9]*/200 nodes$')
	[ "$steps" -gt 1 ] && ok "terminal: the line is rewritten ($steps steps)" ||
		bad "terminal: $steps progress step(s), expected several"
	grep -q "building: 20[1-9]/\|building: [0-9]*/0 " tty.out &&
		bad "terminal: a count past the total or a total of 0: $(cat -A tty.out | head -c 400)"
	grep -q "$ESC" tty.out && bad "terminal: escape sequences in the output: $(cat -A tty.out)" ||
		ok "terminal: no escape sequence (no colour)"
	grep -q "^lab '$L' is up" tty.out && ok "terminal: the summary starts a line of its own" ||
		bad "terminal: the summary does not start a line: $(cat -A tty.out | tail -c 300)"
	"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L failed"

	# -q: no progress even on a terminal
	L=$(new_lab_name up-ttyq)
	track_lab "$L"
	script -qfec "\"$NSLAB\" up -d -q --name $L prog.yaml" /dev/null >ttyq.out 2>&1 </dev/null ||
		fail "nslab up -d -q under script failed: $(cat ttyq.out)"
	grep -q building ttyq.out && bad "terminal with -q: progress printed: $(cat -A ttyq.out)" ||
		ok "terminal with -q: no progress"
	"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L failed"
else
	log "script(1) is not installed: the terminal half is not tested"
fi
L=$(new_lab_name up-pipe)
track_lab "$L"
"$NSLAB" up -d --name "$L" prog.yaml 2>&1 | cat >pipe.out
grep -q "^lab '$L' is up" pipe.out || fail "nslab up -d into a pipe: $(cat pipe.out)"
grep -q building pipe.out && bad "pipe: progress printed: $(cat -A pipe.out | head -c 400)" ||
	ok "pipe: no progress"
grep -q "$CR\|$ESC" pipe.out && bad "pipe: control characters: $(cat -A pipe.out | head -c 400)" ||
	ok "pipe: plain lines"
"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L failed"

# --- the supervisor's quiet state ---------------------------------------------
# sup_pid LAB: the supervisor's PID, from `nslab ls --json`.
sup_pid() {
	"$NSLAB" ls --json | $PY -c '
import json, sys
print(next(l["pid"] for l in json.load(sys.stdin) if l["name"] == sys.argv[1]))' "$1"
}

# quiet_state WHAT PID: cwd /, umask 077, no_new_privs.
quiet_state() {
	cwd=$(readlink "/proc/$2/cwd")
	[ "$cwd" = / ] && ok "$1: the supervisor's cwd is /" || bad "$1: the supervisor's cwd is '$cwd'"
	v=$(awk '$1 == "Umask:" { print $2 }' "/proc/$2/status")
	[ "$v" = 0077 ] && ok "$1: Umask 0077" || bad "$1: Umask '$v', not 0077"
	v=$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$2/status")
	[ "$v" = 1 ] && ok "$1: NoNewPrivs 1" || bad "$1: NoNewPrivs '$v', not 1"
}

# relative_outdir WHAT DIR: the lab's files landed in DIR (relative to $TMP),
# state.json and lab_destroyed included, written after the chdir("/").
relative_outdir() {
	[ -s "$TMP/$2/state.json" ] && ok "$1: state.json written into the relative outdir" ||
		bad "$1: no state.json in $TMP/$2"
	tail -n 1 "$TMP/$2/events.jsonl" 2>/dev/null | grep -q '"kind":"lab_destroyed"' &&
		ok "$1: lab_destroyed is the last event of the relative outdir" ||
		bad "$1: lab_destroyed is not the last event in $TMP/$2/events.jsonl"
	[ -e "/$2" ] && bad "$1: /$2 exists: the outdir was resolved after the chdir"
}

# detached: also stdin (and stdout, stderr) on /dev/null
L=$(new_lab_name up-iso-d)
lab_up "$E2E/small.yaml" "$L" --outdir out-d
pid=$(sup_pid "$L")
[ -n "$pid" ] || fail "no pid for $L in nslab ls --json"
quiet_state "-d" "$pid"
for fd in 0 1 2; do
	t=$(readlink "/proc/$pid/fd/$fd")
	[ "$t" = /dev/null ] && ok "-d: fd $fd is /dev/null" || bad "-d: fd $fd is '$t', not /dev/null"
done
"$NSLAB" ls --json | grep -qF "\"$TMP/out-d\"" && ok "-d: nslab ls shows the outdir's absolute path" ||
	bad "-d: nslab ls --json does not show $TMP/out-d: $("$NSLAB" ls --json)"
# the lab's commands inherit none of it (exec runs in the client's helper)
v=$("$NSLAB" exec "$L" laptop -- sh -c 'awk "\$1 == \"NoNewPrivs:\" { print \$2 }" /proc/self/status')
[ "$v" = 0 ] && ok "-d: a command in the lab has NoNewPrivs 0" ||
	bad "-d: a command in the lab has NoNewPrivs '$v'"
"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L failed"
relative_outdir "-d" out-d

# foreground
L=$(new_lab_name up-iso-fg)
track_lab "$L"
"$NSLAB" up -q --name "$L" --outdir out-fg "$E2E/small.yaml" >fg.out 2>&1 &
sup=$!
track_pid $sup
wait_until 20 lab_listed "$L" || fail "foreground: lab $L never came up: $(cat fg.out)"
[ "$(sup_pid "$L")" = "$sup" ] || bad "foreground: nslab ls --json names pid $(sup_pid "$L"), not $sup"
quiet_state "foreground" "$sup"
"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L failed"
wait $sup
rc=$?
[ $rc -eq 0 ] && ok "foreground: nslab up exited 0" || bad "foreground: nslab up exited $rc: $(cat fg.out)"
relative_outdir "foreground" out-fg

finish

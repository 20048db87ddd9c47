#!/bin/sh
# SPDX-License-Identifier: MIT
# run-limits: nslab run's limits against real programs, through the command
# line: a memory hog ends as "memory", a fork bomb as "pids", CPU and wall
# clock limits end the whole tree (grandchildren that ignore SIGTERM included),
# fd and file size limits hold, the accounting is plausible, a SIGKILL of
# nslab run leaves no process and no namespace, nesting works, and under sudo
# the command runs as the invoking user. As root and rootless.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env python3 timeout

# sb NAME [OPTIONS...] -- CMD...: nslab run --json NAME.json, bounded by 60 s; sets rc.
sb() {
	_n=$1
	shift
	timeout -s KILL 60 "$NSLAB" run --json "$TMP/$_n.json" "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
	rc=$?
}

# field NAME KEY: a top-level field of NAME's result record ("" if absent).
field() {
	$PY -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' \
		"$TMP/$1.json" "$2" 2>/dev/null
}

# ended NAME LIMIT WHAT: the record says LIMIT ended the run.
ended() {
	_e=$(field "$1" ended_by)
	if [ "$_e" = "$2" ]; then ok "$3 (exit $rc, ended by $_e)"; else
		bad "$3: ended by '$_e', exit $rc, expected $2; stderr: $(head -c 300 "$TMP/$1.err")"
	fi
}

# tokens T: the host's processes whose command line holds T.
tokens() { ps -eo pid=,args= | grep -F -- "$1" | grep -v grep; }
# sleep_of T: the pid of a sleep whose command line holds T.
sleep_of() { tokens "$1" | awk '$2 == "sleep" { print $1; exit }'; }
# sleeping T / none_left T: for wait_until, which must run the listing anew
# each time (a "$(tokens T)" argument would be expanded once, before it starts)
sleeping() { [ -n "$(sleep_of "$1")" ]; }
none_left() { [ -z "$(tokens "$1")" ]; }

sb hog --mem 64M -- python3 -c '
a = []
while True:
    a.append(b"x" * (1 << 20))'
[ "$rc" -ne 0 ] || bad "the memory hog exited 0"
ended hog memory "a memory hog is stopped and reported as memory"

# a fork bomb that holds on to its processes (each retries its fork): the pids
# limit stays reached and ends the sandbox
sb bomb --pids 32 -- python3 -c '
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)'
ended bomb pids "a fork bomb is contained and reported as pids"
[ "$rc" -ne 124 ] || bad "the fork bomb ran into the 60 s guard"
# the shell's classic bomb collapses by itself under RLIMIT_NPROC (a process
# whose fork fails exits, and so do the ones waiting for it): contained, and
# nothing of it outlives the command. Root's command runs as nobody under
# --pids: the host's root is exempt from RLIMIT_NPROC, and between two of
# init's samples this bomb forks thousands of processes, enough to fill the
# machine's pid space (pid_max 32768 here) and fail every other fork on it.
T0="1000.$$"
if is_root; then
	sb pidsid --pids 32 -- id -u
	[ "$(cat "$TMP/pidsid.out")" = 65534 ] && ok "under --pids, root's command runs as nobody" ||
		bad "under --pids as root: uid $(cat "$TMP/pidsid.out") $(cat "$TMP/pidsid.err")"
	sb pidsroot --pids 32 --as-root -- id -u
	[ "$(cat "$TMP/pidsroot.out")" = 0 ] && ok "--as-root keeps root under --pids" ||
		bad "--pids --as-root: uid $(cat "$TMP/pidsroot.out")"
fi
sb shbomb --pids 32 -- sh -c "b() { b | b & }; b; sleep $T0 & sleep 0.5; kill \$!"
[ "$rc" -ne 124 ] && [ -z "$(tokens "$T0")" ] && ok "a shell fork bomb is contained (exit $rc)" ||
	bad "shell fork bomb: exit $rc, left: $(tokens "$T0")"

T1="1001.$$"
sb cpu --cpu 1 -- sh -c "sh -c 'trap \"\" TERM; while :; do :; done; sleep $T1' & while :; do :; done"
ended cpu cpu "a CPU limit ends the tree"
[ -z "$(tokens "$T1")" ] && ok "no process of the CPU-limited tree is left" || bad "left: $(tokens "$T1")"

T2="1002.$$"
start=$(date +%s)
sb wall --timeout 1 -- sh -c "(trap '' TERM; sleep $T2) & (sh -c 'trap \"\" TERM; sleep $T2' &); wait"
[ "$rc" -eq 124 ] && ok "--timeout: exit 124" || bad "--timeout: exit $rc"
ended wall timeout "the wall-clock limit is reported as timeout"
[ $(($(date +%s) - start)) -lt 10 ] || bad "--timeout 1 took $(($(date +%s) - start)) s"
[ -z "$(tokens "$T2")" ] && ok "the timeout killed the grandchildren (TERM ignored)" || bad "left: $(tokens "$T2")"

sb fds --fds 16 -- python3 -c '
import os
n = 0
try:
    while True:
        os.open("/dev/null", os.O_RDONLY); n += 1
except OSError as e:
    print(n, e.errno)'
set -- $(cat "$TMP/fds.out")
[ "${1:-99}" -le 13 ] && [ "${2:-}" = 24 ] && ok "--fds 16: EMFILE after $1 more files" ||
	bad "--fds: $(cat "$TMP/fds.out" "$TMP/fds.err")"

sb fsize --fsize 1M -- sh -c 'head -c 3M /dev/zero >/tmp/f; echo $?; wc -c </tmp/f'
set -- $(cat "$TMP/fsize.out")
[ "${1:-0}" -ne 0 ] && [ "${2:-0}" -eq 1048576 ] && ok "--fsize 1M: the write stopped at 1 MiB (status $1)" ||
	bad "--fsize: $(cat "$TMP/fsize.out" "$TMP/fsize.err")"

sb acct -- python3 -c '
import time
b = bytearray(48 << 20)
for i in range(0, len(b), 4096): b[i] = 1
t = time.process_time()
while time.process_time() - t < 0.3: pass'
$PY - "$TMP/acct.json" <<'EOF' && ok "accounting: CPU and peak RSS as the command used them" || bad "accounting: $(cat "$TMP/acct.json")"
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["user_usec"] + r["sys_usec"] >= 250000 and r["maxrss_kib"] >= 48 * 1024 else 1)
EOF

# --- a SIGKILL of nslab run: no process, no namespace left ---
T3="1003.$$"
"$NSLAB" run -- sh -c "sleep $T3 & sleep $T3" >/dev/null 2>&1 &
RUN=$!
track_pid "$RUN"
wait_until 5 sleeping "$T3" || fail "the sandboxed sleep never started: $(tokens "$T3")"
victim=$(sleep_of "$T3")
[ -n "$victim" ] || fail "no sandboxed sleep among: $(tokens "$T3")"
nsset=""
for _ns in mnt net pid user uts ipc; do
	nsset="$nsset $(readlink "/proc/$victim/ns/$_ns")"
done
kill -KILL "$RUN"
wait "$RUN" 2>/dev/null
wait_until 5 none_left "$T3" && ok "SIGKILL of nslab run: its processes are gone" ||
	bad "SIGKILL of nslab run: left $(tokens "$T3")"
# every namespace of the sandbox is gone: no process is in it, no fd or mount holds it
# (one pass over every process's namespace and fd links: ls -l shows each
# target under its directory's name; a process still exiting may hold them a
# moment, so the check is repeated for a few seconds)
ns_held() {
	ls -l /proc/[0-9]*/ns/ /proc/[0-9]*/fd/ 2>/dev/null |
		awk -v set="$nsset" 'BEGIN { n = split(set, s, " ") }
			/^\/proc\// { dir = $1 }
			{ for (i = 1; i <= n; i++) if (index($0, "-> " s[i])) print s[i] "@" dir }'
	for _ns in $nsset; do
		grep -qF "${_ns#*:}" /proc/self/mountinfo && echo "$_ns@mountinfo"
	done
}
no_ns_held() { [ -z "$(ns_held)" ]; }
wait_until 5 no_ns_held && ok "SIGKILL of nslab run: none of its namespaces is left" ||
	bad "namespaces left: $(ns_held | head -5 | tr '\n' ' ')"

# --- nesting: a sandboxed command runs nslab run again, with fewer rights ---
nest_uid=""
is_root && nest_uid="--uid 65534 --gid 65534"
# shellcheck disable=SC2086
sb nest $nest_uid --ro-bind "$SRCDIR" -- "$NSLAB" run --hostname inner -- sh -c 'hostname; grep CapBnd /proc/self/status'
[ "$rc" -eq 0 ] && [ "$(head -1 "$TMP/nest.out")" = inner ] &&
	grep -q 'CapBnd:	0000000000000000' "$TMP/nest.out" && ok "a nested nslab run works, with no capability" ||
	bad "nested run: exit $rc: $(cat "$TMP/nest.out" "$TMP/nest.err")"

# --- under sudo: the invoking user, unless --as-root ---
if is_root; then
	SUDO_UID=65534 SUDO_GID=65534 sb sudo -- id -u
	[ "$(cat "$TMP/sudo.out")" = 65534 ] && ok "under sudo the command runs as SUDO_UID" ||
		bad "under sudo: uid $(cat "$TMP/sudo.out") $(cat "$TMP/sudo.err")"
	SUDO_UID=65534 SUDO_GID=65534 sb sudoroot --as-root -- id -u
	[ "$(cat "$TMP/sudoroot.out")" = 0 ] && ok "under sudo, --as-root runs as 0" ||
		bad "under sudo --as-root: uid $(cat "$TMP/sudoroot.out") $(cat "$TMP/sudoroot.err")"
fi

finish

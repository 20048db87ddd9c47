# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# nslab run, running: exit statuses (the command's, 128+N, 124, 126, 127),
# --stats, --json's record, the defaults as seen from inside (no network but
# loopback, host name, ids, read-only root, private /tmp, PID namespace), the
# options that change them, a profile with the command line over it, --in a
# lab node's network and exec --sandbox, signals passed on, and a SIGKILL of
# nslab run leaving no process behind. As root and rootless.
# Bad input (nothing runs) is run-badinput.sh; the escape suite and the limits
# are the sandbox core's tests.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env

# sb NAME ARGS...: nslab run ARGS, stdout in $TMP/NAME.out, stderr in .err; sets rc.
sb() {
	_n=$1
	shift
	"$NSLAB" run "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err" </dev/null
	rc=$?
}

# expect NAME RC OUT WHAT: exit RC and stdout exactly OUT (OUT "-": not checked).
expect() {
	if [ "$rc" -ne "$2" ]; then
		bad "$4: exit $rc, expected $2 (stderr: $(head -3 "$TMP/$1.err"))"
	elif [ "$3" != "-" ] && [ "$(cat "$TMP/$1.out")" != "$3" ]; then
		bad "$4: printed '$(cat "$TMP/$1.out")', expected '$3'"
	else
		ok "$4"
	fi
}

# --- it starts at all (everything below needs it) ---
sb true -- true
[ "$rc" -eq 0 ] ||
	fail "nslab run -- true: exit $rc ($(cat "$TMP/true.err")): the sandbox does not start; every check of this test needs it"

# --- the lean nslab (src/cli/run-lean.c), where it is built: a plain run is its
# own, and the only exec after its own is the command's; what it does not serve
# (a capability by name: libcap) goes to nslab-full with the same words ---
full=$(dirname "$NSLAB")/nslab-full
if [ "${NSLAB_LEAN:-0}" = 1 ] && command -v strace >/dev/null; then
	# -s: paths whole (strace cuts strings at 32 characters)
	strace -f -qq -s 4096 -e trace=execve -o "$TMP/lean.trace" "$NSLAB" run --stats -- sh -c 'exit 3' \
		>"$TMP/lean.out" 2>&1 </dev/null
	rc=$?
	# each exec that succeeded, by its path: nslab's own, then the command's sh
	execs=$(sed -n 's/^[0-9]* *execve("\([^"]*\)".* = 0$/\1/p' "$TMP/lean.trace" | tr '\n' ' ')
	if [ "$rc" -ne 3 ]; then
		bad "lean: nslab run --stats -- sh -c 'exit 3' under strace: exit $rc ($(head -3 "$TMP/lean.out"))"
	elif [ "$execs" != "$NSLAB $(command -v sh) " ]; then
		bad "lean: a plain run execs '$execs', expected only nslab and the command"
	else
		ok "lean: a plain run is the lean nslab's own (execs: $execs)"
	fi
	strace -f -qq -s 4096 -e trace=execve -o "$TMP/lean2.trace" "$NSLAB" run --cap-add net_raw -- \
		sh -c 'grep CapEff /proc/self/status' >"$TMP/lean2.out" 2>&1 </dev/null
	rc=$?
	grep -q "^[0-9]* *execve(\"$full\", \[\"$NSLAB\", \"run\", \"--cap-add\", \"net_raw\", \"--\"" \
		"$TMP/lean2.trace" && [ "$rc" -eq 0 ] && grep -q '^CapEff:.*2000$' "$TMP/lean2.out" &&
		ok "lean: --cap-add goes to nslab-full, argv unchanged, and keeps CAP_NET_RAW" ||
		bad "lean: --cap-add: exit $rc, $(head -2 "$TMP/lean2.out"), execs: $(grep -c execve "$TMP/lean2.trace")"
else
	log "no lean nslab in this build (or no strace): its checks left out"
fi

# --- where setgroups is denied: uid 0 with every capability, yet setgroups() is
# refused (unshare -r's user namespace, and a rootless lab's) ---
unshare -Ur "$NSLAB" run -- id -u >"$TMP/sgd.out" 2>"$TMP/sgd.err" </dev/null
rc=$?
expect sgd 0 0 "uid 0 in a user namespace whose setgroups is denied (unshare -r)"
# The command forked early shares errno with init: a refused setgroups() once
# read init's errno instead of its own, and a start failed now and then
# ("setgroups: Invalid argument"). Now it is never tried there; 30 in a row.
fails=0
for _ in $(seq 30); do
	unshare -Ur "$NSLAB" run -- true >/dev/null 2>"$TMP/sgd30.err" </dev/null || fails=$((fails + 1))
done
if [ "$fails" -eq 0 ]; then ok "30 starts where setgroups is denied"; else
	bad "$fails of 30 starts failed where setgroups is denied ($(head -1 "$TMP/sgd30.err"))"
fi
# The command forked early shares errno with init until its exec, so it makes
# no system call that fails in the normal course before it (init-early.c's
# DOC): strace -f shows the command's calls up to its first execve(), none
# of them may fail. Here, where setgroups is denied (unshare -r), and without
# a PID namespace's /proc of our own.
no_failed_call() { # NAME WHAT CMD...
	_n=$1 _w=$2
	shift 2
	"$@" >/dev/null 2>"$TMP/$_n.err" </dev/null
	$PY - "$TMP/$_n.st" >"$TMP/$_n.out" <<'PYEOF'
import re, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
calls = [l.split(" ", 1) for l in lines if " " in l]
execs = [pid for pid, call in calls if call.startswith("execve(")]
if not execs:
    print("untraced")  # strace itself did not run nslab: nothing to judge
    sys.exit(0)
# the command: the last process that called execve() (nslab's own is the first)
cmd = execs[-1]
if cmd == execs[0]:
    print("no command traced")
    sys.exit(1)
failed = []
for pid, call in calls:
    if pid != cmd:
        continue
    if call.startswith("execve("):
        break
    if re.search(r"\) += -1 E", call):
        failed.append(call)
print("\n".join(failed))
sys.exit(1 if failed else 0)
PYEOF
	_r=$?
	if [ "$(cat "$TMP/$_n.out")" = untraced ]; then
		log "note: $_w: strace traced nothing here ($(head -2 "$TMP/$_n.err"))"
	elif [ "$_r" -ne 0 ]; then
		bad "$_w: the command failed a call before its exec: $(head -3 "$TMP/$_n.out") ($(head -2 "$TMP/$_n.err"))"
	else
		ok "$_w: no call of the command failed before its exec"
	fi
}
if command -v strace >/dev/null; then
	no_failed_call st1 "default run" strace -f -qq -o "$TMP/st1.st" "$NSLAB" run -- true
	no_failed_call st2 "setgroups denied (unshare -r)" \
		unshare -Ur strace -f -qq -o "$TMP/st2.st" "$NSLAB" run -- true
fi
# where it is allowed, the caller's supplementary groups are gone inside
if is_root && command -v setpriv >/dev/null; then
	setpriv --groups 24,25 "$NSLAB" run -- id -G >"$TMP/grp.out" 2>"$TMP/grp.err" </dev/null
	rc=$?
	expect grp 0 0 "the caller's supplementary groups (24, 25) cleared: id -G shows the gid alone"
fi

# the command runs on the caller's CPUs, neither more nor fewer (nproc reads
# them with sched_getaffinity): a start never leaves its own CPU placement on
# what it runs
sb nproc -- nproc
expect nproc 0 "$(nproc)" "the command's CPUs are the caller's ($(nproc))"
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
	# the last of our own CPUs (a cpuset may start them anywhere: "2-3", "0,4")
	last=$(taskset -cp $$ | sed 's/.*: //; s/.*[,-]//')
	taskset -c "$last" "$NSLAB" run -- sh -c 'nproc; taskset -cp $$ | sed "s/.*: //"' \
		>"$TMP/nproc1.out" 2>"$TMP/nproc1.err" </dev/null
	rc=$?
	expect nproc1 0 "1
$last" "taskset -c $last: the command runs on CPU $last alone"
fi

# --- a /proc of another PID namespace (a lab node's mount namespace copied
# before the lab's pid 1 mounted its own used to be one): the map write is
# refused and the message says why instead of naming a host pid's uid_map ---
unshare -Urpf "$NSLAB" run -- true >"$TMP/oproc.out" 2>"$TMP/oproc.err" </dev/null
rc=$?
if [ "$rc" -ne 0 ] && grep -q "/proc is not this process's PID namespace's" "$TMP/oproc.err"; then
	ok "a /proc of another PID namespace: refused, and said ($rc)"
else
	bad "a /proc of another PID namespace: exit $rc, '$(cat "$TMP/oproc.err")'"
fi

# --- exit statuses ---
sb three -- sh -c 'exit 3'
expect three 3 "" "the command's own exit status"
sb term -- sh -c 'kill -TERM $$'
expect term 143 "" "killed by SIGTERM: 128+15"
sb nf -- /nonexistent-nslab-cmd
expect nf 127 "" "not found: 127"
grep -qF nonexistent-nslab-cmd "$TMP/nf.err" || bad "not found: the message does not name the command"
sb nx -- /etc/passwd
expect nx 126 "" "not executable: 126"
start=$(date +%s)
sb to --timeout 0.5 --json "$TMP/to.json" -- sleep 30
expect to 124 "" "--timeout 0.5: 124"
[ $(($(date +%s) - start)) -lt 10 ] || bad "--timeout 0.5 took $(($(date +%s) - start)) s"
$PY - "$TMP/to.json" <<'EOF' || bad "--timeout: the record does not say timeout"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "timeout" and r["ended_by"] == "timeout" and r["exit_code"] == 124, r
assert "timeout" in r["limits_reached"] and r["mechanism"]["timeout"] == "timer", r
EOF

# --- --stats and --json ---
sb stats --stats --json "$TMP/r.json" -- sh -c 'echo out; exit 5'
expect stats 5 "out" "--stats --json: the command's output and status"
grep -q "^nslab run: exited, exit status 5" "$TMP/stats.err" || bad "--stats: $(cat "$TMP/stats.err")"
grep -q "time: wall " "$TMP/stats.err" || bad "--stats: no times: $(cat "$TMP/stats.err")"
$PY - "$TMP/r.json" <<'EOF' || bad "--json: the record is not schema 1 as documented"
import json, sys
r = json.load(open(sys.argv[1]))
want = {"schema", "command", "status", "exit_code", "signal", "ended_by", "limits_reached",
        "mechanism", "wall_usec", "user_usec", "sys_usec", "maxrss_kib", "minflt", "majflt",
        "nvcsw", "nivcsw", "error"}
assert set(r) == want, set(r) ^ want
assert r["schema"] == 1 and r["command"] == ["sh", "-c", "echo out; exit 5"], r
assert r["status"] == "exited" and r["exit_code"] == 5 and r["signal"] is None, r
assert r["ended_by"] == "none" and r["error"] is None, r
assert set(r["mechanism"]) == {"memory", "cpu", "pids", "files", "fsize", "timeout"}, r
assert r["wall_usec"] > 0 and r["maxrss_kib"] > 0, r
EOF
sb jnf --json "$TMP/nf.json" -- /nonexistent-nslab-cmd
$PY - "$TMP/nf.json" <<'EOF' || bad "--json of a command not found"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "error" and r["exit_code"] == 127 and r["error"], r
EOF

# --- the defaults, from inside ---
sb net -- cat /proc/net/dev
[ "$(sed -n '3,$p' "$TMP/net.out" | cut -d: -f1 | tr -d ' ')" = lo ] ||
	bad "--net none: interfaces other than lo: $(cat "$TMP/net.out")"
host_ifs=$(sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort)
sb nethost --net host -- cat /proc/net/dev
[ "$(sed -n '3,$p' "$TMP/nethost.out" | cut -d: -f1 | tr -d ' ' | sort)" = "$host_ifs" ] ||
	bad "--net host: not the caller's interfaces"
sb hn -- hostname
expect hn 0 nslab "the host name: nslab"
sb hn2 --hostname box -- hostname
expect hn2 0 box "--hostname box"
want_uid=$(id -u)
if is_root && [ -n "${SUDO_UID:-}" ] && [ "$SUDO_UID" != 0 ]; then want_uid=$SUDO_UID; fi
sb id -- id -u
expect id 0 "$want_uid" "the caller mapped to itself"
sb root --as-root -- id -u
expect root 0 0 "--as-root: uid 0"
sb ids --uid 1234 --gid 4321 -- sh -c 'echo $(id -u) $(id -g)'
expect ids 0 "1234 4321" "--uid 1234 --gid 4321"
sb caps -- sh -c 'grep ^CapEff /proc/self/status'
expect caps 0 "CapEff:	0000000000000000" "no capabilities"
sb pid1 -- sh -c 'ls /proc | grep -c "^[0-9]"'
[ "$rc" -eq 0 ] && [ "$(cat "$TMP/pid1.out")" -lt 5 ] ||
	bad "PID namespace: $(cat "$TMP/pid1.out") processes visible"
sb ro -- sh -c "touch /etc/nslab-run-$$"
[ "$rc" -ne 0 ] && [ ! -e "/etc/nslab-run-$$" ] || bad "the root is writable"
sb tmp -- sh -c "echo x >/tmp/nslab-run-private-$$ && cat /tmp/nslab-run-private-$$"
expect tmp 0 x "a writable /tmp"
[ -e "/tmp/nslab-run-private-$$" ] && bad "/tmp is not private" && rm -f "/tmp/nslab-run-private-$$"
sb env --env NSLAB_T=1 -- sh -c 'echo $NSLAB_T'
expect env 0 1 "--env K=V"
sb clear --clearenv --env B=2 -- /usr/bin/env
expect clear 0 "B=2" "--clearenv --env B=2"
sb unset --env HOME -- sh -c 'echo "${HOME-unset}"'
expect unset 0 unset "--env K removes K"

# --- mounts ---
mkdir "$TMP/dir"
sb bind --bind "$TMP/dir:/mnt" -- sh -c 'echo hi >/mnt/f'
[ "$rc" -eq 0 ] && [ "$(cat "$TMP/dir/f" 2>/dev/null)" = hi ] || bad "--bind: not written through"
sb robind --ro-bind "$TMP/dir:/mnt" -- sh -c 'echo no >/mnt/g'
[ "$rc" -ne 0 ] && [ ! -e "$TMP/dir/g" ] || bad "--ro-bind: writable"
sb tmpfs --tmpfs /mnt -- sh -c 'ls -A /mnt | wc -l'
expect tmpfs 0 0 "--tmpfs /mnt: empty"
sb cd --chdir /tmp -- pwd
expect cd 0 /tmp "--chdir /tmp"

# --- a profile, and the command line over it ---
printf 'hostname: fromprofile\nenv: [P=1]\n' >"$TMP/p.yaml"
sb prof --profile "$TMP/p.yaml" --hostname fromcli -- sh -c 'echo $(hostname) $P'
expect prof 0 "fromcli 1" "--profile then the command line"

# --- signals are passed on ---
mkdir "$TMP/mark"
"$NSLAB" run --bind "$TMP/mark:/mark" -- sh -c 'trap "exit 7" TERM; touch /mark/ready; sleep 100 & wait' \
	>/dev/null 2>&1 &
p=$!
track_pid "$p"
wait_until 5 test -e "$TMP/mark/ready" || bad "the command never said it was ready"
kill -TERM "$p"
wait "$p"
rc=$?
[ "$rc" -eq 7 ] && ok "SIGTERM passed on to the command" || bad "SIGTERM: nslab run exited $rc, expected 7"

# --- a SIGKILL of nslab run leaves no process ---
"$NSLAB" run -- sleep 1000 >/dev/null 2>&1 &
p=$!
track_pid "$p"
sleepers() { pgrep -u "$(id -u)" -f '^sleep 1000$'; }
wait_until 5 sleepers >/dev/null || bad "the sandboxed sleep never showed up"
kill -KILL "$p"
wait "$p" 2>/dev/null
if wait_until 5 not sleepers; then ok "SIGKILL of nslab run: no process left"; else
	bad "SIGKILL of nslab run: left $(sleepers | tr '\n' ' ')"
fi

# --- a lab node's network ---
L=$(new_lab_name run)
lab_up "$SRCDIR/examples/two-hosts.yaml" "$L"
# a node's /proc is the lab's PID namespace's (pid 1 mounts it before up
# returns; a node's mount namespace copied earlier kept the host's): the
# process sees itself there under one pid, its own
nspid=$("$NSLAB" exec "$L" alice -- sh -c 'grep "^NSpid:" /proc/self/status' </dev/null)
if [ "$(printf '%s\n' "$nspid" | awk '{ print NF }')" = 2 ]; then
	ok "a node's /proc is the lab's PID namespace's ($nspid)"
else
	bad "a node's /proc is not the lab's PID namespace's: '$nspid'"
fi
sb in --in "$L" alice -- sh -c 'hostname; ip -4 -o addr show | grep -c "$NSLAB_IP_ALICE/"'
expect in 0 "alice
1" "--in LAB alice: the node's name and address"
# nslab run from a node's shell: as the node's uid 0 (rootless: in the lab's
# user namespace, whose setgroups is denied)
"$NSLAB" exec "$L" alice -- "$NSLAB" run -- id -u >"$TMP/node.out" 2>"$TMP/node.err" </dev/null
rc=$?
expect node 0 0 "nslab exec LAB alice -- nslab run -- id -u"
printf 'hostname: sandboxed\n' >"$TMP/s.yaml"
"$NSLAB" exec --sandbox "$TMP/s.yaml" "$L" bob -- sh -c 'hostname; ip -4 -o addr show | grep -c "$NSLAB_IP_BOB/"' \
	>"$TMP/ex.out" 2>"$TMP/ex.err"
rc=$?
expect ex 0 "sandboxed
1" "exec --sandbox PROFILE LAB bob"
"$NSLAB" down "$L" || bad "nslab down $L failed"
finish

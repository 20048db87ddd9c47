#!/bin/sh
# SPDX-License-Identifier: MIT
# run-escape: what a command in `nslab run` must not be able to do, each case
# asserting the refusal, and where a control exists (--net host, --seccomp
# none) that the same attempt succeeds without the restriction, so that a
# check cannot pass because the attempt itself was broken. Runs as root and
# rootless (meson test --setup rootless).
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env python3

# sb NAME [OPTIONS...] -- CMD...: nslab run, stdout in $TMP/NAME.out, stderr in .err; sets rc.
sb() {
	_n=$1
	shift
	"$NSLAB" run "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
	rc=$?
}

# out_is NAME TEXT WHAT: the command's stdout is exactly TEXT.
out_is() {
	_got=$(cat "$TMP/$1.out")
	if [ "$_got" = "$2" ]; then ok "$3"; else
		bad "$3: got '$_got' (exit $rc), expected '$2'; stderr: $(head -c 400 "$TMP/$1.err")"
	fi
}

sb smoke -- sh -c 'echo hi'
out_is smoke hi "a command runs in the sandbox"
[ "$rc" -eq 0 ] || fail "nslab run does not work at all (exit $rc): $(cat "$TMP/smoke.err")"

# --- processes ---------------------------------------------------------------
sleep 1000 &
OUTSIDE=$!
track_pid "$OUTSIDE"
sb pids -- sh -c "ls /proc | grep -c '^[0-9]'; test -e /proc/$OUTSIDE && echo visible; kill -0 $OUTSIDE 2>/dev/null && echo signalled; echo \$\$"
lines=$(wc -l <"$TMP/pids.out")
if grep -qx visible "$TMP/pids.out" || grep -qx signalled "$TMP/pids.out"; then
	bad "a host process is visible or can be signalled: $(cat "$TMP/pids.out")"
else ok "host PIDs are invisible and cannot be signalled"; fi
n=$(head -1 "$TMP/pids.out")
[ "$lines" -eq 2 ] && [ "$n" -le 4 ] && ok "the sandbox's /proc shows its own processes only ($n)" ||
	bad "the sandbox's /proc: $(cat "$TMP/pids.out")"
sb kill -- kill -TERM "$OUTSIDE"
alive "$OUTSIDE" && [ "$rc" -ne 0 ] && ok "kill of a host pid refused (exit $rc)" ||
	bad "kill of a host pid: exit $rc, alive: $(alive "$OUTSIDE" && echo yes || echo no)"

cat >"$TMP/ptrace.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
# PTRACE_ATTACH to our own parent (pid 1, nslab's init), then to the host pid given
for pid in (1, int(sys.argv[1])):
    r = libc.ptrace(16, pid, None, None)
    print(pid, r, ctypes.get_errno() if r else 0)
EOF
sb ptrace --ro-bind "$TMP/ptrace.py:/ptrace.py" -- python3 /ptrace.py "$OUTSIDE"
if [ "$(awk '$2 == 0' "$TMP/ptrace.out" | wc -l)" -eq 0 ] && [ "$(wc -l <"$TMP/ptrace.out")" -eq 2 ]; then
	ok "ptrace refused ($(tr '\n' ' ' <"$TMP/ptrace.out"))"
else bad "ptrace: $(cat "$TMP/ptrace.out" "$TMP/ptrace.err")"; fi

# --- no way back: no inherited fds, no capabilities, no privilege on exec ------
exec 7<"$TMP/ptrace.py"
sb fds -- python3 -c 'import os; print(" ".join(sorted(os.listdir("/proc/self/fd"))))'
exec 7<&-
out_is fds "0 1 2 3" "no fd leaks into the sandbox (only stdio and listdir's own)"
sb setns -- python3 -c '
import os
try:
    fd = os.open("/proc/1/ns/net", os.O_RDONLY); os.setns(fd, 0); print("entered")
except OSError as e: print(e.errno)'
grep -qx entered "$TMP/setns.out" && bad "setns succeeded" || ok "setns refused ($(cat "$TMP/setns.out"))"

sb caps -- grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status
expect_caps="CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
NoNewPrivs:	1"
out_is caps "$expect_caps" "capabilities empty in every set, no_new_privs set"
sb capadd --cap-add CAP_NET_RAW -- grep -E '^CapEff' /proc/self/status
out_is capadd "CapEff:	0000000000002000" "--cap-add CAP_NET_RAW keeps exactly that capability"

# A program with file capabilities (iputils ping: cap_net_raw+ep) is refused by
# the kernel while the bounding set lacks them: exit 126 and a message saying
# why; kept with --cap-add, it runs, and may set KEEP_CAPS itself (not locked).
PING=$(command -v ping || true)
if [ -n "$PING" ] && python3 -c 'import os, sys; os.getxattr(sys.argv[1], "security.capability")' "$PING" 2>/dev/null; then
	sb fcaps -- ping -c1 -W2 127.0.0.1
	[ "$rc" -eq 126 ] && grep -q "file has capabilities" "$TMP/fcaps.err" &&
		ok "a program with file capabilities: exit 126, the message says why" ||
		bad "ping with file capabilities: exit $rc: $(cat "$TMP/fcaps.err")"
	sb fcapsok --cap-add net_raw -- ping -c1 -W2 127.0.0.1
	[ "$rc" -eq 0 ] && grep -q "1 received" "$TMP/fcapsok.out" &&
		ok "--cap-add net_raw: ping runs and gets its echo reply" ||
		bad "ping with --cap-add net_raw: exit $rc: $(cat "$TMP/fcapsok.out" "$TMP/fcapsok.err")"
else
	log "ping has no file capabilities here: the file-capability checks are not made"
fi

if is_root; then
	# a setuid-root copy of cat, readable by nobody: it must gain nothing
	cp /bin/cat "$TMP/suidcat" && chmod 4755 "$TMP/suidcat"
	sb suid --ro-bind "$TMP/suidcat:/suidcat" -- /suidcat /proc/self/status
	grep -q '^CapEff:	0000000000000000' "$TMP/suid.out" && ok "a setuid-root binary gains no capability" ||
		bad "setuid-root binary: $(grep -E '^(Uid|CapEff)' "$TMP/suid.out") $(cat "$TMP/suid.err")"
fi

# --- mounts and files ----------------------------------------------------------
sb mount -- python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)
print(r, ctypes.get_errno())'
grep -q '^0 ' "$TMP/mount.out" && bad "mount succeeded" || ok "mount refused ($(cat "$TMP/mount.out"))"

touch "$TMP/host-marker"
sb rootro -- sh -c 'touch /etc/nslab-escape 2>/dev/null && echo wrote-etc; touch /tmp/x && echo tmp-ok; test -e '"$TMP/host-marker"' && echo host-tmp-visible; true'
out_is rootro "tmp-ok" "the root is read-only, /tmp writable and private"
[ -e /etc/nslab-escape ] && bad "/etc/nslab-escape was created on the host"

mkdir -p "$TMP/rw" "$TMP/ro"
echo data >"$TMP/ro/file"
sb binds --bind "$TMP/rw:/mnt/rw" --ro-bind "$TMP/ro:/mnt/ro" --tmpfs /mnt/scratch -- sh -c '
echo written >/mnt/rw/new && echo rw-ok
cat /mnt/ro/file
echo x >/mnt/ro/other 2>/dev/null && echo ro-written
touch /mnt/scratch/f && echo tmpfs-ok
grep -c " /mnt/scratch tmpfs " /proc/self/mounts'
out_is binds "rw-ok
data
tmpfs-ok
1" "binds and tmpfs are where asked, a read-only bind refuses writes"
[ "$(cat "$TMP/rw/new" 2>/dev/null)" = written ] && ok "a write through a bind reaches the host" ||
	bad "the file written through --bind is not on the host"
[ -e "$TMP/ro/other" ] && bad "a file appeared through --ro-bind"

sb hostname --hostname box -- hostname
out_is hostname box "--hostname names the sandbox's UTS namespace"
[ "$(hostname)" != box ] || bad "the host's name changed"

# --- seccomp -------------------------------------------------------------------
cat >"$TMP/sys.py" <<'EOF'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
# x86_64 numbers; arguments chosen to be harmless or invalid
calls = {"kexec_load": 246, "init_module": 175, "finit_module": 313, "delete_module": 176,
         "bpf": 321, "userfaultfd": 323, "perf_event_open": 298, "keyctl": 250,
         "add_key": 248, "request_key": 249, "swapon": 167, "reboot": 169, "acct": 163,
         "settimeofday": 164, "open_by_handle_at": 304, "iopl": 172}
for name, nr in calls.items():
    ctypes.set_errno(0)
    r = libc.syscall(nr, 0, 0, 0, 0, 0)
    print(name, ctypes.get_errno() if r < 0 else "ok")
EOF
if [ "$(uname -m)" = x86_64 ]; then
	sb sysdef --ro-bind "$TMP/sys.py:/sys.py" -- python3 /sys.py
	notperm=$(awk '$2 != 1' "$TMP/sysdef.out")
	[ -z "$notperm" ] && [ "$(wc -l <"$TMP/sysdef.out")" -eq 16 ] &&
		ok "the default seccomp profile refuses each listed call with EPERM" ||
		bad "calls not refused with EPERM: $notperm $(cat "$TMP/sysdef.err")"
	# the control: without the filter, keyctl and add_key are no EPERM (the kernel
	# answers EINVAL/EFAULT), so the refusal above came from the filter
	sb sysnone --seccomp none --ro-bind "$TMP/sys.py:/sys.py" -- python3 /sys.py
	ctl=$(awk '($1 == "keyctl" || $1 == "add_key") && $2 != 1' "$TMP/sysnone.out" | wc -l)
	[ "$ctl" -eq 2 ] && ok "with --seccomp none the same keyctl/add_key calls are not EPERM" ||
		bad "--seccomp none control: $(cat "$TMP/sysnone.out")"
fi

cat >"$TMP/tiocsti.py" <<'EOF'
import fcntl, os, pty, termios
m, s = pty.openpty()
try:
    fcntl.ioctl(s, termios.TIOCSTI, b"x"); print("injected")
except OSError as e:
    print(e.errno)
EOF
sb tiocsti --ro-bind "$TMP/tiocsti.py:/t.py" -- python3 /t.py
out_is tiocsti 1 "ioctl(TIOCSTI) refused with EPERM"

cat >"$TMP/killmode.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
EOF
sb profile --seccomp "$TMP/killmode.json" -- sh -c 'mkdir /tmp/d 2>/dev/null && echo made; echo done'
out_is profile done "an OCI JSON profile is applied (mkdir refused)"

# --- network -------------------------------------------------------------------
$PY - >"$TMP/port" <<'EOF' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.close()
EOF
LISTENER=$!
track_pid "$LISTENER"
wait_until 5 test -s "$TMP/port" || fail "the host listener did not start"
PORT=$(cat "$TMP/port")
cat >"$TMP/conn.py" <<'EOF'
import os, socket, sys
print(" ".join(sorted(os.listdir("/sys/class/net"))))
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2); print("connected")
except OSError as e:
    print("refused", e.errno)
EOF
sb netnone --ro-bind "$TMP/conn.py:/c.py" -- python3 /c.py "$PORT"
if [ "$(head -1 "$TMP/netnone.out")" = lo ] && grep -q '^refused' "$TMP/netnone.out"; then
	ok "--net none: loopback only, the host's listener unreachable"
else bad "--net none: $(cat "$TMP/netnone.out" "$TMP/netnone.err")"; fi
sb nethost --net host --ro-bind "$TMP/conn.py:/c.py" -- python3 /c.py "$PORT"
grep -qx connected "$TMP/nethost.out" && ok "--net host reaches the same listener (control)" ||
	bad "--net host: $(cat "$TMP/nethost.out" "$TMP/nethost.err")"

finish

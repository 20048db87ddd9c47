# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# nslab run, bad input: every option and profile error is a clear message
# naming the value, exit status 125 (2 for a usage error), and nothing
# started: the command would have created a file, which must not exist, and
# --json's file is not written. Also --dry-run: the policy as JSON, exit 0,
# nothing run. As root and rootless (meson test --setup rootless).
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
[ -x "$NSLAB" ] || fail "NSLAB='$NSLAB' is not an executable"

MARK="$TMP/started"
OUT="$TMP/result.json"

# refused RC TEXT ARGS...: nslab run ARGS -- touch MARK exits RC, stderr has TEXT, nothing ran.
refused() {
	_rc=$1
	_text=$2
	shift 2
	rm -f "$MARK" "$OUT"
	"$NSLAB" run --json "$OUT" "$@" -- touch "$MARK" >"$TMP/out" 2>"$TMP/err"
	_got=$?
	_what="nslab run $*"
	if [ "$_got" -ne "$_rc" ]; then
		bad "$_what: exit $_got, expected $_rc (stderr: $(head -3 "$TMP/err"))"
	elif ! grep -qF -- "$_text" "$TMP/err"; then
		bad "$_what: stderr lacks '$_text': $(cat "$TMP/err")"
	elif [ -e "$MARK" ]; then
		bad "$_what: the command ran"
	elif [ -e "$OUT" ]; then
		bad "$_what: --json's file was written"
	elif [ -s "$TMP/out" ]; then
		bad "$_what: output on stdout: $(cat "$TMP/out")"
	else
		ok "$_what: exit $_rc, '$_text'"
	fi
}

printf 'mem: 100M\nmemory: 5\n' >"$TMP/unknown.yaml"
printf 'hostname: box\nmem: 100X\n' >"$TMP/size.yaml"
printf 'bind:\n  - /etc:/ok\n  - /etc:relative\n' >"$TMP/bind.yaml"
printf 'timeout: [1]\n' >"$TMP/kind.yaml"
printf 'mem: [1M\n' >"$TMP/syntax.yaml"
printf 'mem: 64M\n' >"$TMP/good.yaml"
mkdir "$TMP/dir"

# option values: 125, the option and the value named
while IFS='|' read -r text args; do
	# shellcheck disable=SC2086 # word splitting wanted
	eval "set -- $args"
	refused 125 "$text" "$@"
done <<EOF_BAD
--net: 'lab': must be none or host|--net lab
--mem: '12X' is not a size|--mem 12X
--mem: '1.5G' is not a size|--mem 1.5G
--mem: memory limit 100: must be 1048576..|--mem 100
--mem: '99999999999999999999' is not a size|--mem 99999999999999999999
--cpu: '1.5': CPU time is limited in whole seconds|--cpu 1.5
--cpu: 'soon' is not a duration|--cpu soon
--pids: '0x10' is not a whole number|--pids 0x10
--pids: pids limit 5000000: must be 1..4194304|--pids 5000000
--fds: '-1' is not a whole number|--fds -1
--fds: files limit 4294967295|--fds 4294967295
--fsize: '1Q' is not a size|--fsize 1Q
--timeout: '-5' is not a duration|--timeout -5
--timeout: '0.0001' is not a duration|--timeout 0.0001
--rootfs: rootfs '/nonexistent-nslab': No such file or directory|--rootfs /nonexistent-nslab
--rootfs: rootfs '/etc/passwd': not a directory|--rootfs /etc/passwd
--bind: bind source '/nonexistent-nslab': No such file or directory|--bind /nonexistent-nslab
--bind: bind destination 'relative': must be an absolute path|--bind /etc:relative
--bind: '/etc:': empty destination after ':'|--bind /etc:
--ro-bind: bind destination '/a/../b': must not contain '..'|--ro-bind /etc:/a/../b
--ro-bind: bind destination '/': the root|--ro-bind $TMP/dir:/
--tmpfs: tmpfs destination 'scratch': must be an absolute path|--tmpfs scratch
--chdir: working directory 'src': must be an absolute path|--chdir src
--seccomp: seccomp profile '/nonexistent-nslab.json': No such file or directory|--seccomp /nonexistent-nslab.json
--cap-add: capability 'CAP_BOGUS': unknown|--cap-add CAP_BOGUS
--uid: '-1' is not a whole number 0..4294967294|--uid -1
--uid: '4294967295' is not a whole number|--uid 4294967295
--gid: 'staff' is not a whole number|--gid staff
--hostname: hostname 'a b': only letters, digits|--hostname 'a b'
--hostname: hostname '': must be 1..64 characters|--hostname ''
--env: environment variable '': a name must be non-empty|--env =x
--in: no lab 'nosuch-$(id -u)-$$' is up|--in nosuch-$(id -u)-$$ node
profile: open '$TMP/none.yaml': No such file or directory|--profile $TMP/none.yaml
$TMP/unknown.yaml:2:1: unknown key 'memory'; did you mean 'mem'?|--profile $TMP/unknown.yaml
$TMP/size.yaml:2:6: mem: '100X' is not a size|--profile $TMP/size.yaml
$TMP/bind.yaml:3:5: bind destination 'relative': must be an absolute path|--profile $TMP/bind.yaml
$TMP/kind.yaml:1:10: timeout: expected a string, not a sequence|--profile $TMP/kind.yaml
$TMP/syntax.yaml:2:1: flow sequence without a closing bracket|--profile $TMP/syntax.yaml
--mem: '12X'|--profile $TMP/good.yaml --mem 12X
EOF_BAD

# usage errors: 2, the usage on stderr, nothing started
refused 2 "unknown option '--memm'; did you mean '--mem'?" --memm 1G
refused 2 "option '--in' needs a lab and a node: --in LAB NODE" --in lab --
refused 2 "option '--ro' takes no value" --ro=yes

# --json's file cannot be written: 125 before anything starts
rm -f "$MARK"
"$NSLAB" run --json "$TMP/nodir/r.json" -- touch "$MARK" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 125 ] && grep -qF -- "--json '$TMP/nodir/r.json': No such file or directory" "$TMP/err" &&
	[ ! -e "$MARK" ]; then
	ok "--json in a missing directory: 125, nothing ran"
else
	bad "--json in a missing directory: exit $rc, ran: $([ -e "$MARK" ] && echo yes || echo no), $(cat "$TMP/err")"
fi

# exec --sandbox: the same checks, as exec's
rm -f "$MARK"
"$NSLAB" exec --sandbox "$TMP/size.yaml" nolab node -- touch "$MARK" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 125 ] && grep -qF "nslab exec: $TMP/size.yaml:2:6: mem: '100X'" "$TMP/err" &&
	[ ! -e "$MARK" ]; then
	ok "exec --sandbox with a bad profile: 125"
else
	bad "exec --sandbox with a bad profile: exit $rc: $(cat "$TMP/err")"
fi

# --dry-run: the policy as JSON on stdout, exit 0, nothing run, no --json file
rm -f "$MARK" "$OUT"
"$NSLAB" run --profile "$TMP/good.yaml" --net host --ro-bind "$TMP/dir:/data" --tmpfs /scratch \
	--env A=1 --json "$OUT" --dry-run -- touch "$MARK" >"$TMP/policy.json" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || bad "--dry-run: exit $rc: $(cat "$TMP/err")"
[ -e "$MARK" ] && bad "--dry-run: the command ran"
[ -e "$OUT" ] && bad "--dry-run: --json's file was written"
# the ids inside: the caller's, or under sudo the invoking user's
want_uid=$(id -u)
if is_root && [ -n "${SUDO_UID:-}" ] && [ "$SUDO_UID" != 0 ]; then want_uid=$SUDO_UID; fi
$PY - "$TMP/policy.json" "$TMP/dir" "$want_uid" <<'EOF' || bad "--dry-run: the policy is not as asked"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["schema"] == 1, p
assert p["network"]["mode"] == "host" and "net" not in p["namespaces"], p
assert p["limits"]["memory"] == {"value": 64 << 20, "unit": "bytes"}, p["limits"]
assert p["limits"]["timeout"] is None, p["limits"]
m = p["filesystem"]["mounts"]
assert [x["dst"] for x in m] == ["/proc", "/dev", "/tmp", "/data", "/scratch"], m
assert m[3] == {"type": "bind", "src": sys.argv[2], "dst": "/data", "ro": True, "try": False}, m
assert p["filesystem"]["readonly_root"] and p["filesystem"]["host_root"], p
assert p["environment"]["changes"] == [{"set": "A", "value": "1"}], p
assert p["seccomp"]["mode"] == "default" and p["capabilities"]["keep"] == [], p
assert p["ids"]["uid"] == int(sys.argv[3]), p["ids"]
EOF
ok "--dry-run: the policy as asked, exit 0, nothing ran"

# --in a lab that is up: a node that does not exist is 125; one that does shows in --dry-run
if { is_root && unshare -n true; } 2>/dev/null || unshare -Urn true 2>/dev/null; then
	L=$(new_lab_name run)
	lab_up "$SRCDIR/examples/two-hosts.yaml" "$L"
	refused 125 "--in: lab '$L' has no node 'nonode'" --in "$L" nonode
	"$NSLAB" run --in "$L" alice --dry-run >"$TMP/in.json" 2>"$TMP/err" ||
		bad "--in $L alice --dry-run: $(cat "$TMP/err")"
	$PY - "$TMP/in.json" "$(is_root && echo 0 || echo 1)" <<'EOF' || bad "--in: not the node's network"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["network"] == {"mode": "join", "lab_user_namespace": sys.argv[2] == "1"}, p["network"]
assert p["hostname"] == "alice", p
assert any(c.get("set", "").startswith("NSLAB_IP_") for c in p["environment"]["changes"]), p
EOF
	ok "--in LAB NODE --dry-run: the node's network, name and NSLAB_IP_* variables"
	"$NSLAB" down "$L" || bad "nslab down $L failed"
else
	log "note: no network namespaces here; --in not checked"
fi
finish

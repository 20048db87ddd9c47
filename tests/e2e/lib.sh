# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# tests/e2e/lib.sh: what every end-to-end test shares. Source it first:
#   . "$SRCDIR/tests/e2e/lib.sh"
#
# Conventions (Meson's exitcode protocol): 0 pass, 77 skip (a missing
# environment only; 99 instead when NSLAB_TEST_REQUIRE_PRIV is set), 1 fail.
# Tests run as root and as `nobody` (meson test --setup rootless): everything
# written goes to a private mktemp -d directory under /tmp, lab names carry the
# uid and the PID, and every lab a test brings up is brought down in the EXIT trap.
# Only PIDs the test started are ever signalled.

set -u

: "${NSLAB:?NSLAB must name the nslab binary}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
E2E="$SRCDIR/tests/e2e"
# the system's python3 starts faster than a version manager's shim
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TEST=$(basename "$0" .sh)

FAILURES=0 # checks that failed so far (see bad)
E2E_LABS=""    # labs to bring down on exit
E2E_PIDS=""    # background processes to kill on exit
E2E_CLEANUP="" # labs whose --persist entries to remove on exit

TMP=$(mktemp -d /tmp/nslab-e2e-"$TEST".XXXXXX) || {
	echo "FAIL: mktemp -d under /tmp" >&2
	exit 1
}
# cwd may be unwritable (rootless: the build directory belongs to root)
cd "$TMP" || exit 1
export NSLAB_NO_HINT=1
export SHELL=/bin/sh
export LC_ALL=C

log() { printf '%s: %s\n' "$TEST" "$*"; }

# fail MSG: a fatal failure; the EXIT trap cleans up.
fail() {
	printf '%s: FAIL: %s\n' "$TEST" "$*" >&2
	exit 1
}

# bad MSG: a failed check; the test goes on and fails at `finish`.
bad() {
	printf '%s: FAIL: %s\n' "$TEST" "$*" >&2
	FAILURES=$((FAILURES + 1))
}

ok() { printf '%s: ok: %s\n' "$TEST" "$*"; }

finish() {
	if [ "$FAILURES" -gt 0 ]; then
		printf '%s: %d check(s) failed\n' "$TEST" "$FAILURES" >&2
		exit 1
	fi
	log "all checks passed"
	exit 0
}

skip() {
	printf '%s: SKIP: %s\n' "$TEST" "$*" >&2
	if [ -n "${NSLAB_TEST_REQUIRE_PRIV:-}" ]; then
		printf '%s: NSLAB_TEST_REQUIRE_PRIV is set: a skip is an error\n' "$TEST" >&2
		exit 99
	fi
	exit 77
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# require_env [TOOL...]: root, or user namespaces for rootless mode; the tools the test runs.
require_env() {
	for _t in python3 "$@"; do
		command -v "$_t" >/dev/null 2>&1 || skip "'$_t' is not installed"
	done
	[ -x "$NSLAB" ] || fail "NSLAB='$NSLAB' is not an executable"
	if is_root; then
		unshare -n true 2>/dev/null || skip "root, but cannot create a network namespace (unshare -n)"
	else
		unshare -Urn true 2>/dev/null ||
			skip "not root and no unprivileged user namespaces (unshare -Urn)"
	fi
}

# On exit: labs down, --persist entries removed, then whatever tracked process
# still runs killed, if it still is ours (a PID may have been reused meanwhile).
e2e_cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	for _l in $E2E_LABS; do
		if lab_listed "$_l"; then
			"$NSLAB" down "$_l" >/dev/null 2>&1 || log "cleanup: nslab down $_l failed"
		fi
	done
	for _l in $E2E_CLEANUP; do
		"$NSLAB" cleanup "$_l" >/dev/null 2>&1
	done
	for _p in $E2E_PIDS; do
		if alive "$_p" && ours "$_p"; then
			kill -9 "$_p" 2>/dev/null
		fi
	done
	for _p in $E2E_PIDS; do
		wait "$_p" 2>/dev/null
	done
	cd /
	rm -rf "$TMP"
	exit "$_rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# new_lab_name STEM: unique per user and test run (the lab file's stem is never used).
new_lab_name() {
	printf '%s-%s-%s' "$1" "$(id -u)" "$$"
}

# track_lab LAB / track_pid PID: bring down / kill on exit.
track_lab() { E2E_LABS="$E2E_LABS $1"; }
track_pid() { E2E_PIDS="$E2E_PIDS $1"; }

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
	_ticks=$(($1 * 10))
	shift
	until "$@"; do
		_ticks=$((_ticks - 1))
		[ "$_ticks" -gt 0 ] || return 1
		sleep 0.1
	done
	return 0
}

not() { ! "$@"; }

lab_listed() { "$NSLAB" ls -q 2>/dev/null | grep -qxF "$1"; }

# alive PID: the process exists and is not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

# host_pid INNER: the host PID of our process whose PID is INNER in the lab's
# PID namespace (commands in a lab run in a PID namespace of their own, so the
# `$!` they print is not a host PID). Empty if there is none.
host_pid() {
	for _s in /proc/[0-9]*/status; do
		_p=${_s#/proc/}
		_p=${_p%/status}
		ours "$_p" || continue
		awk -v inner="$1" -v p="$_p" '/^NSpid:/ { if (NF >= 3 && $NF == inner) print p }' \
			"$_s" 2>/dev/null
	done | head -n 1
}

# children_of PID: the PIDs whose parent is PID.
children_of() {
	for _s in /proc/[0-9]*/stat; do
		sed -n 's/^\([0-9]*\) (.*) . \([0-9]*\) .*/\1 \2/p' "$_s" 2>/dev/null
	done | awk -v p="$1" '$2 == p { print $1 }'
}

# lab_up FILE LAB [ARGS...]: `nslab up -d -q --name LAB ARGS FILE`; fatal if it fails.
lab_up() {
	_f=$1
	_l=$2
	shift 2
	track_lab "$_l"
	"$NSLAB" up -d -q --name "$_l" "$@" "$_f" >"$TMP/up-$_l.out" 2>&1 || {
		cat "$TMP/up-$_l.out" >&2
		fail "nslab up -d --name $_l $* $_f failed"
	}
	lab_listed "$_l" || fail "nslab up -d returned but 'nslab ls' does not list $_l"
}

# status_json LAB FILE: `nslab status LAB --json` into FILE; fatal if it fails.
status_json() {
	rm -f "$2.tsv"
	"$NSLAB" status "$1" --json >"$2" 2>"$2.err" || {
		cat "$2.err" >&2
		fail "nslab status $1 --json failed"
	}
	$PY -c 'import json, sys; json.load(open(sys.argv[1]))' "$2" ||
		fail "nslab status $1 --json is not JSON"
}

# status_tsv STATUS_JSON: STATUS_JSON.tsv, one line per node interface address:
# "node kind iface primary(1|0) fam addr" (fam 4 or 6, addr without the length).
status_tsv() {
	$PY - "$1" >"$1.tsv" <<'EOF'
import json, sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    for f in n["ifaces"]:
        for fam in ("4", "6"):
            if "ip" + fam in f:
                print(n["name"], n["kind"], f["name"], int(f["name"] == n.get("primary")), fam,
                      f["ip" + fam].split("/")[0])
EOF
}

# addr STATUS_JSON NODE FAMILY [IFACE]: a node's address (no prefix length) from
# status --json; FAMILY is 4 or 6; IFACE defaults to the node's primary interface.
addr() {
	[ -s "$1.tsv" ] || status_tsv "$1"
	awk -v n="$2" -v fam="$3" -v i="${4:-}" '
		$1 == n && $5 == fam && ((i == "" && $4 == 1) || $3 == i) { print $6; found = 1; exit }
		END { exit !found }' "$1.tsv"
}

# nodes STATUS_JSON [router|device]: node names, one a line.
nodes() {
	$PY - "$@" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
kind = sys.argv[2] if len(sys.argv) > 2 else None
for n in st["nodes"]:
    if n["kind"] in ("router", "device") and (kind is None or n["kind"] == kind):
        print(n["name"])
EOF
}

# Leftovers. Namespaces are counted by what references them: a process
# (any thread's ns/*) or an open fd. /run/netns entries are listed apart.
#
# Other people's labs may come and go on the machine while a test runs, so a
# count that grew is a failure only if a new namespace is held by one of *our*
# processes: every process this test starts, and everything nslab starts for
# it (the supervisor, exec'd commands), carries NSLAB_E2E_RUN in its
# environment. A count that grew because of foreign programs is only noted.
NSLAB_E2E_RUN="$TEST-$(id -u)-$$"
export NSLAB_E2E_RUN

# ns_refs KIND...: distinct namespaces of those kinds (net, mnt, user) referenced.
ns_refs() {
	find /proc/[0-9]*/task/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 \
		\( -lname 'net:\[*' -o -lname 'mnt:\[*' -o -lname 'user:\[*' \) \
		-printf '%l\n' 2>/dev/null | grep -E "^($(echo "$@" | tr ' ' '|')):" | sort -u
}
netns_refs() { ns_refs net; }
netns_count() { netns_refs | wc -l; }
otherns_refs() { ns_refs mnt user; }
run_netns() { ls -1 /run/netns 2>/dev/null | sort; }
host_links() { ip -o link show 2>/dev/null | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | sort; }
my_netns() { readlink /proc/self/ns/net; }

# ours PID: the process was started by this test run (directly or through nslab).
ours() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF "NSLAB_E2E_RUN=$NSLAB_E2E_RUN"; }

# ns_holders INODES_FILE: "pid comm where ns" of every process referencing one of
# the namespaces listed in INODES_FILE (lines "net:[N]"); nothing when none is left.
ns_holders() {
	[ -s "$1" ] || return 0
	find /proc/[0-9]*/task/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 \
		\( -lname 'net:\[*' -o -lname 'mnt:\[*' -o -lname 'user:\[*' \) \
		-printf '%h %l\n' 2>/dev/null | grep -F -f "$1" |
		while read -r _dir _ns; do
			_pid=$(echo "$_dir" | cut -d/ -f3)
			echo "$_pid $(cat "/proc/$_pid/comm" 2>/dev/null) $_dir $_ns"
		done
}
no_ns_holders() { [ -z "$(ns_holders "$1")" ]; }

# new_ns SNAPSHOT KIND...: namespaces referenced now that were not at SNAPSHOT.
new_ns() {
	_snap=$1
	shift
	ns_refs "$@" | comm -13 "$TMP/$_snap.ns" -
}
# leaked_ns SNAPSHOT: "pid comm where ns" of our processes holding a namespace new since SNAPSHOT.
leaked_ns() {
	new_ns "$1" net mnt user >"$TMP/$1.new"
	ns_holders "$TMP/$1.new" | while read -r _pid _rest; do
		! ours "$_pid" || echo "$_pid $_rest"
	done
}
no_leaked_ns() { [ -z "$(leaked_ns "$1")" ]; }

# abstract_socket LAB: the lab's control socket is still bound somewhere.
abstract_socket() { grep -q "@nslab/[0-9]*/$1\$" /proc/net/unix; }

# Snapshot / compare what a lab may leave behind on the host.
leftovers_snapshot() {
	ns_refs net mnt user >"$TMP/$1.ns"
	netns_count >"$TMP/$1.count"
	otherns_refs | wc -l >"$TMP/$1.other-count"
	run_netns >"$TMP/$1.runns"
	host_links >"$TMP/$1.links"
}

# count_back SNAPSHOT WHAT BEFORE REFS_FUNC: the count of namespaces is back
# (bounded wait), else a note naming the foreign holders.
count_back() {
	_n=$($4 | wc -l)
	_t=30
	while [ "$_n" -gt "$3" ] && [ $_t -gt 0 ]; do
		sleep 0.1
		_t=$((_t - 1))
		_n=$($4 | wc -l)
	done
	if [ "$_n" -le "$3" ]; then
		ok "$1: $2 namespaces back to $3 (now $_n)"
	else
		log "note: $_n $2 namespaces referenced, $3 before; the new ones are held by:"
		new_ns "$1" net mnt user >"$TMP/$1.new"
		ns_holders "$TMP/$1.new" | awk '{ print "  " $1, $2 }' | sort -u | head -10
	fi
}

# leftovers_check SNAPSHOT LAB: no namespace held by our processes, namespace
# counts, /run/netns entries, host interfaces, control socket all as before.
leftovers_check() {
	if wait_until 10 no_leaked_ns "$1"; then
		ok "$2: none of our processes holds a namespace made since the start"
	else
		bad "$2: our processes still hold new namespaces 10 s later (pid comm where ns):"
		leaked_ns "$1" | head -20 >&2
	fi
	count_back "$1" network "$(cat "$TMP/$1.count")" netns_refs
	count_back "$1" "mount and user" "$(cat "$TMP/$1.other-count")" otherns_refs
	run_netns >"$TMP/$1.runns-after"
	_new=$(comm -13 "$TMP/$1.runns" "$TMP/$1.runns-after" | grep "^$2-")
	if [ -z "$_new" ]; then ok "$2: no /run/netns/$2-* entries"; else
		bad "$2: new /run/netns entries: $(echo $_new)"
	fi
	_new=$(comm -13 "$TMP/$1.runns" "$TMP/$1.runns-after" | grep -v "^$2-")
	[ -z "$_new" ] || log "note: /run/netns entries of other labs appeared meanwhile: $(echo $_new)"
	host_links >"$TMP/$1.links-after"
	_new=$(comm -13 "$TMP/$1.links" "$TMP/$1.links-after")
	if [ -z "$_new" ]; then ok "$2: no new interfaces on the host"; else
		bad "$2: new interfaces on the host: $(echo $_new)"
	fi
	if abstract_socket "$2"; then bad "$2: its control socket @nslab/*/$2 is still bound"; else
		ok "$2: no control socket left"
	fi
	if lab_listed "$2"; then bad "$2: 'nslab ls' still lists it"; else ok "$2: not in 'nslab ls'"; fi
}

# errno NAME: the number of errno NAME on this system (EPROTO -> 71).
errno() { $PY -c "import errno, sys; print(getattr(errno, sys.argv[1]))" "$1"; }

# sleep_grandchild PID: the grandchild of PID running sleep (the command of an
# `nslab exec` client, under the client's helper); 1 if there is none.
sleep_grandchild() {
	for _h in $(children_of "$1"); do
		for _c in $(children_of "$_h"); do
			[ "$(cat "/proc/$_c/comm" 2>/dev/null)" = sleep ] && echo "$_c" && return 0
		done
	done
	return 1
}
has_sleep_grandchild() { sleep_grandchild "$1" >/dev/null; }

# run_suite NAME STATUS ARGS...: nslab test ARGS, expecting exit status STATUS.
run_suite() {
	_name=$1
	_want=$2
	shift 2
	"$NSLAB" test "$@" >"$TMP/$_name.out" 2>"$TMP/$_name.err"
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then ok "$_name: exit status $_rc"; else
		bad "$_name: exit status $_rc, expected $_want"
		sed 's/^/  | /' "$TMP/$_name.out" "$TMP/$_name.err" >&2
	fi
}

# SPDX-License-Identifier: LGPL-2.1-or-later
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

# check MSG CMD...: run CMD; ok or bad with MSG.
check() {
	_msg=$1
	shift
	if "$@"; then ok "$_msg"; else bad "$_msg"; fi
}

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

e2e_cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	for _p in $E2E_PIDS; do
		kill -9 "$_p" 2>/dev/null
	done
	for _l in $E2E_LABS; do
		if lab_listed "$_l"; then
			"$NSLAB" down "$_l" >/dev/null 2>&1 || log "cleanup: nslab down $_l failed"
		fi
	done
	for _l in $E2E_CLEANUP; do
		"$NSLAB" cleanup "$_l" >/dev/null 2>&1
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

lab_listed() { "$NSLAB" ls 2>/dev/null | grep -qxF "$1"; }

# alive PID: the process exists and is not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
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
	"$NSLAB" status "$1" --json >"$2" 2>"$2.err" || {
		cat "$2.err" >&2
		fail "nslab status $1 --json failed"
	}
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$2" ||
		fail "nslab status $1 --json is not JSON"
}

# addr STATUS_JSON NODE FAMILY [IFACE]: a node's address (no prefix length) from
# status --json; FAMILY is 4 or 6; IFACE defaults to the node's primary interface.
addr() {
	python3 - "$@" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
node, fam = sys.argv[2], sys.argv[3]
want = sys.argv[4] if len(sys.argv) > 4 else None
for n in st["nodes"]:
    if n["name"] != node:
        continue
    iface = want or n.get("primary")
    for f in n["ifaces"]:
        if f["name"] == iface and ("ip" + fam) in f:
            print(f["ip" + fam].split("/")[0])
            sys.exit(0)
sys.exit(1)
EOF
}

# nodes STATUS_JSON [router|device]: node names, one a line.
nodes() {
	python3 - "$@" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
kind = sys.argv[2] if len(sys.argv) > 2 else None
for n in st["nodes"]:
    if n["kind"] in ("router", "device") and (kind is None or n["kind"] == kind):
        print(n["name"])
EOF
}

# Leftovers. Namespaces are counted by what references them: a process
# (any thread's ns/net) or an open fd. /run/netns entries are listed apart.
netns_refs() {
	find /proc/[0-9]*/task/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 -lname 'net:\[*' \
		-printf '%l\n' 2>/dev/null | sort -u
}
netns_count() { netns_refs | wc -l; }
netns_count_at_most() { [ "$(netns_count)" -le "$1" ]; }
# The other namespaces a lab makes: its mount namespace (/etc/hosts), its user namespace (rootless).
otherns_refs() {
	find /proc/[0-9]*/task/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 \
		\( -lname 'mnt:\[*' -o -lname 'user:\[*' \) -printf '%l\n' 2>/dev/null | sort -u
}
otherns_count_at_most() { [ "$(otherns_refs | wc -l)" -le "$1" ]; }
run_netns() { ls -1 /run/netns 2>/dev/null | sort; }
host_links() { ip -o link show 2>/dev/null | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | sort; }
my_netns() { readlink /proc/self/ns/net; }

# ns_holders INODES_FILE: "pid comm how" of every process referencing one of the
# namespaces listed in INODES_FILE (lines "net:[N]"); nothing when none is left.
ns_holders() {
	find /proc/[0-9]*/task/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 -lname 'net:\[*' \
		-printf '%h %l\n' 2>/dev/null | grep -F -f "$1" |
		while read -r _dir _ns; do
			_pid=$(echo "$_dir" | cut -d/ -f3)
			echo "$_pid $(cat "/proc/$_pid/comm" 2>/dev/null) $_dir $_ns"
		done
}
no_ns_holders() { [ -z "$(ns_holders "$1")" ]; }

# abstract_socket LAB: the lab's control socket is still bound somewhere.
abstract_socket() { grep -q "@nslab/[0-9]*/$1\$" /proc/net/unix; }

# Snapshot / compare what a lab may leave behind on the host.
leftovers_snapshot() {
	netns_refs >"$TMP/$1.refs"
	wc -l <"$TMP/$1.refs" >"$TMP/$1.count"
	otherns_refs >"$TMP/$1.other"
	run_netns >"$TMP/$1.runns"
	host_links >"$TMP/$1.links"
}

# leftovers_check SNAPSHOT LAB: namespaces, /run/netns entries, host interfaces,
# control socket all as before (bounded wait for the kernel to drop namespaces).
leftovers_check() {
	_before=$(cat "$TMP/$1.count")
	if wait_until 10 netns_count_at_most "$_before"; then
		ok "$2: network namespaces back to $_before (now $(netns_count))"
	else
		netns_refs | comm -13 "$TMP/$1.refs" - >"$TMP/$1.new-refs"
		bad "$2: $(netns_count) network namespaces referenced, $_before before; new ones held by:"
		ns_holders "$TMP/$1.new-refs" | head -20 >&2
	fi
	_before=$(wc -l <"$TMP/$1.other")
	if wait_until 10 otherns_count_at_most "$_before"; then
		ok "$2: mount and user namespaces back to $_before"
	else
		otherns_refs | comm -13 "$TMP/$1.other" - >"$TMP/$1.new-other"
		bad "$2: $(otherns_refs | wc -l) mount and user namespaces referenced, $_before before; new: $(echo $(cat "$TMP/$1.new-other"))"
	fi
	run_netns >"$TMP/$1.runns-after"
	_new=$(comm -13 "$TMP/$1.runns" "$TMP/$1.runns-after")
	if [ -z "$_new" ]; then ok "$2: no new /run/netns entries"; else
		bad "$2: new /run/netns entries: $(echo $_new)"
	fi
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

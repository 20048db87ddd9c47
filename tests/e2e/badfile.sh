#!/bin/sh
# SPDX-License-Identifier: MIT
# badfile: every bad lab file is refused by `nslab up` with exit status 2 and
# "FILE:LINE:COL: message" at the right place, and nothing is left behind
# (not in `nslab ls`, no /run/netns entry, no network namespace, no interface).
# Last, a failure in the middle of building (out of file descriptors) leaves
# nothing behind either.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ip

L=$(new_lab_name bad)
leftovers_snapshot start

# bad_file NAME LINE COL STATUS MESSAGE-REGEX < yaml
# LINE and COL may be '[0-9]*' when only the form is checked.
bad_file() {
	_f="$TMP/$1.yaml"
	cat >"$_f"
	"$NSLAB" up -d -q --name "$L" "$_f" >"$TMP/$1.out" 2>"$TMP/$1.err"
	_rc=$?
	_err=$(cat "$TMP/$1.err")
	if [ $_rc -eq "$4" ]; then ok "$1: exit status $_rc"; else
		bad "$1: nslab up gave exit status $_rc, expected $4 (stderr: $_err)"
	fi
	if echo "$_err" | grep -q "^nslab: $_f:$2:$3: $5"; then
		ok "$1: $_err"
	else
		bad "$1: stderr '$_err' does not match 'nslab: FILE:$2:$3: $5'"
	fi
	[ "$(echo "$_err" | wc -l)" -eq 1 ] || bad "$1: more than one line on stderr"
	[ -s "$TMP/$1.out" ] && bad "$1: output on stdout: $(cat "$TMP/$1.out")"
	lab_listed "$L" && bad "$1: 'nslab ls' lists $L after a failed up"
	no_leaked_ns start || bad "$1: our processes hold new namespaces: $(leaked_ns start)"
	! run_netns | grep -q "^$L-" || bad "$1: /run/netns has entries of $L"
}

bad_file unknown-key 3 1 2 "unknown key 'colour'" <<'EOF'
routers:
  isp: {}
colour: blue
EOF
bad_file unknown-router-key 2 9 2 "unknown key 'upstrem'" <<'EOF'
routers:
  isp: {upstrem: isp}
EOF
bad_file unknown-iface-key 5 35 2 "unknown key 'route'" <<'EOF'
routers:
  isp: {}
devices:
  phone:
    ifaces: {wlan0: {router: isp, route: x}}
EOF
bad_file wrong-type-scalar 4 28 2 "bad count 'many'" <<'EOF'
routers:
  isp: {}
devices:
  pc: {router: isp, count: many}
EOF
bad_file wrong-type-seq 1 10 2 "routers: expected a mapping" <<'EOF'
routers: [isp]
EOF
bad_file wrong-type-enum 2 13 2 "bad ip 'v5'" <<'EOF'
routers:
  isp: {ip: v5}
EOF
bad_file unknown-router 4 16 2 "unknown router 'ips'" <<'EOF'
routers:
  isp: {}
devices:
  pc: {router: ips}
EOF
bad_file unknown-upstream 3 20 2 "unknown router 'nowhere'" <<'EOF'
routers:
  isp: {}
  home: {upstream: nowhere}
EOF
bad_file upstream-cycle 2 17 2 "upstream cycle: a -> c -> b -> a" <<'EOF'
routers:
  a: {upstream: c}
  b: {upstream: a}
  c: {upstream: b}
EOF
bad_file upstream-self 3 20 2 "upstream cycle: loop -> loop" <<'EOF'
routers:
  isp: {}
  loop: {upstream: loop}
EOF
bad_file duplicate-name 4 3 2 "duplicate name 'isp' (already used by the router at 2:3)" <<'EOF'
routers:
  isp: {}
devices:
  isp: {router: isp}
EOF
bad_file duplicate-count-name 5 3 2 "duplicate name 'pc-2'" <<'EOF'
routers:
  isp: {}
devices:
  pc: {router: isp, count: 3}
  pc-2: {router: isp}
EOF
bad_file bad-cidr 2 13 2 "bad private4 '10.0.0.0/33'" <<'EOF'
ranges:
  private4: 10.0.0.0/33
EOF
bad_file bad-cidr-family 3 12 2 "ranges: public6 '198.51.100.0/24' is not an IPv6 prefix" <<'EOF'
ranges:
  public4: 198.18.0.0/15
  public6: 198.51.100.0/24
EOF
# 198.18.0.0/23 holds two /24s, and subnet 0 is kept free: router b has none left.
bad_file exhausted-range 6 3 2 "router 'b': .*198.18.0.0/23.*exhausted" <<'EOF'
ranges:
  ix4: 100.64.0.0/24
  public4: 198.18.0.0/23
routers:
  a: {}
  b: {}
EOF
# Special-purpose blocks pass no kernel: refused with the place, before building.
bad_file unspecified-ix6 3 8 2 "ranges: ix6 '::/64' overlaps ::/128 (the unspecified address)" <<'EOF'
ranges:
  ix4: 100.64.0.0/24
  ix6: ::/64
routers:
  isp: {}
EOF
bad_file multicast-public4 2 12 2 "ranges: public4 '224.1.0.0/16' overlaps 224.0.0.0/4 (multicast)" <<'EOF'
ranges:
  public4: 224.1.0.0/16
routers:
  isp: {}
EOF
bad_file loopback-dns 5 11 2 "dns target '127.0.0.1' is in 127.0.0.0/8 (loopback)" <<'EOF'
routers:
  isp: {}
dns:
  a.test: isp
  b.test: 127.0.0.1
EOF
# A Linux bridge takes at most 1024 ports: 1100 devices fit the /21 but not the
# router's bridge. The planner must say so, before building anything.
bad_file too-many-ports '[0-9]*' '[0-9]*' 2 "." <<'EOF'
ranges: {sub4: 21}
routers:
  isp: {}
devices:
  host: {router: isp, count: 1100}
EOF
bad_file malformed-tab 3 1 2 "tab character" <<'EOF'
routers:
  isp: {}
	bad: {}
EOF
bad_file malformed-flow '[0-9]*' '[0-9]*' 2 "." <<'EOF'
routers:
  isp: {}
devices:
  pc: {router: isp
EOF
bad_file malformed-quote 2 '[0-9]*' 2 "." <<'EOF'
routers:
  "isp: {}
EOF

# refused NAME STATUS MESSAGE-REGEX -- NSLAB-ARGS...: nslab exits STATUS within
# 10 s (a hang fails, not blocks) with one line on stderr matching the regex.
refused() {
	_n=$1 _st=$2 _re=$3
	shift 4
	timeout 10 "$NSLAB" "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err" </dev/null
	_rc=$?
	_err=$(cat "$TMP/$_n.err")
	[ $_rc -eq 124 ] && bad "$_n: nslab $* still ran after 10 s (blocked?)"
	if [ $_rc -eq "$_st" ]; then ok "$_n: exit status $_rc"; else
		bad "$_n: nslab $* gave exit status $_rc, expected $_st (stderr: $_err)"
	fi
	if echo "$_err" | grep -Eq "$_re"; then ok "$_n: $_err"; else
		bad "$_n: stderr '$_err' does not match '$_re'"
	fi
	[ "$(echo "$_err" | wc -l)" -eq 1 ] || bad "$_n: more than one line on stderr"
}

# Files that are not regular files (a FIFO nobody writes to) are refused, not
# read: a lab file, a suite, a suite's lab: and rules_file:, a --check ruleset.
mkfifo "$TMP/fifo" || fail "mkfifo"
refused fifo-lab 2 "^nslab: '$TMP/fifo': not a regular file\$" -- up -d -q --name "$L" "$TMP/fifo"
refused fifo-suite 2 "^nslab: '$TMP/fifo': not a regular file\$" -- test "$TMP/fifo"
refused fifo-check 2 "^nslab: '$TMP/fifo': not a regular file\$" -- test --check "$TMP/fifo"
printf 'lab: fifo\nrules_in: r\nrules: ""\ntests: [{name: t, packets: [{}]}]\n' >"$TMP/fifo-lab.yaml"
refused fifo-suite-lab 2 "^nslab: $TMP/fifo-lab.yaml:1:6: '$TMP/fifo': not a regular file\$" -- \
	test "$TMP/fifo-lab.yaml"
printf 'rules_file: fifo\ntests: [{name: t, packets: [{}]}]\n' >"$TMP/fifo-rules.yaml"
refused fifo-rules-file 2 "^nslab: $TMP/fifo-rules.yaml:1:13: '$TMP/fifo': not a regular file\$" -- \
	test "$TMP/fifo-rules.yaml"
refused dir-lab 2 "^nslab: '$TMP': not a regular file\$" -- up -d -q --name "$L" "$TMP"

# A file that is no lab file (a password file) is refused without repeating
# its lines: not by `nslab up`, not as a suite, not as a suite's lab:.
printf 'root:$6$s3cr3tSALT$S3CR3THASH:19000:0:99999:7:::\npassword = hunter2\n' >"$TMP/shadow"
printf 'lab: shadow\nrules_in: r\nrules: ""\ntests: [{name: t, packets: [{}]}]\n' >"$TMP/shadow-lab.yaml"
refused secret-lab 2 "^nslab: $TMP/shadow:1:1: unknown key \(" -- up -d -q --name "$L" "$TMP/shadow"
refused secret-suite 2 "^nslab: $TMP/shadow:1:1: unknown key \(" -- test "$TMP/shadow"
refused secret-suite-lab 2 "^nslab: $TMP/shadow-lab.yaml:1:6: $TMP/shadow:1:1: unknown key \(" -- test "$TMP/shadow-lab.yaml"
for _n in secret-lab secret-suite secret-suite-lab; do
	grep -Eqi 's3cr3t|hunter2' "$TMP/$_n.err" && bad "$_n: stderr quotes the file: $(cat "$TMP/$_n.err")"
done

# A suite's mistakes that only running would meet are found when it is read:
# exit 2, the suite's place, at once and before anything is built (the
# leftovers check below), with a message that names what there is or shows what to write.
printf 'rules: ""\ntests:\n- name: t\n  packets: [{dst: server}]\n' >"$TMP/node.yaml"
refused suite-unknown-node 2 "^nslab: $TMP/node.yaml:4:19: dst: unknown node 'server' \(the direct topology has client, target\)\$" -- \
	test "$TMP/node.yaml"
printf 'routers: {isp: {}}\ndevices: {pc: {router: isp, count: 2}}\n' >"$TMP/small-lab.yaml"
printf 'lab: small-lab.yaml\nrules_in: isp\nrules: ""\ntests:\n- name: t\n  packets: [{from: pc-2}]\n  expect: {capture: {at: "isp:eth0"}}\n' >"$TMP/iface.yaml"
refused suite-unknown-iface 2 "^nslab: $TMP/iface.yaml:7:26: capture at: node 'isp' has no interface 'eth0' \(it has ix\)\$" -- \
	test "$TMP/iface.yaml"
printf 'rules: ""\ntests:\n- name: t\n  packets: [{}]\n  expect: {counter: [ssh]}\n' >"$TMP/counter.yaml"
refused suite-counter-shape 2 "^nslab: $TMP/counter.yaml:5:21: counter: expected a mapping of counter names to packet counts, like \{ssh: 1\} or \{ssh: \{packets: 1, bytes: 60\}\}, not a sequence\$" -- \
	test "$TMP/counter.yaml"

# A ruleset is untrusted input: a set inside a set of one element aborts
# libnftables 1.0.6 (BUG, SIGABRT). nslab checks rulesets in a child, so it
# says where, exits 2 and leaves nothing (no core: ulimit -c 0 anyway).
ulimit -c 0
printf 'table inet t {\n\tchain c {\n\t\ttcp dport {{22}} accept\n\t}\n}\n' >"$TMP/crash.nft"
_crash='nftables crashed on this ruleset \(SIGABRT: BUG: [^)]*\); a set inside a set, as here, crashes nft 1.0.6$'
refused crash-check 2 "^nslab: $TMP/crash.nft:3:14: $_crash" -- test --check "$TMP/crash.nft"
printf 'rules: |\n  table inet t {\n    chain c {\n      tcp dport {{22}} accept\n    }\n  }\ntests: [{name: t, packets: [{}]}]\n' >"$TMP/crash.yaml"
refused crash-suite 2 "^nslab: $TMP/crash.yaml:4:18: ruleset: $_crash" -- test "$TMP/crash.yaml"
refused crash-trace 2 "^nslab: .*crash.nft:3:14: .*$_crash" -- \
	trace --rules "$TMP/crash.nft" 'tcp 10.0.0.1:40000 > 10.0.0.2:22 S'
leftovers_check start "$L"

# A failure in the middle of building: out of file descriptors after some
# namespaces exist. The error names the device; nothing stays.
cat >"$TMP/many.yaml" <<'EOF'
routers:
  isp: {}
devices:
  d: {router: isp, count: 200}
EOF
leftovers_snapshot midbuild
(
	ulimit -n 64 && exec "$NSLAB" up -d -q --name "$L" --outdir "$TMP/out" "$TMP/many.yaml"
) >"$TMP/many.out" 2>"$TMP/many.err"
rc=$?
[ $rc -eq 1 ] && ok "mid-build failure: exit 1: $(cat "$TMP/many.err")" ||
	bad "mid-build failure: exit $rc (expected 1): $(cat "$TMP/many.err")"
grep -q "device 'd-[0-9]*'" "$TMP/many.err" || bad "mid-build failure: the error names no device"
grep -q device_added "$TMP/out/events.jsonl" ||
	bad "mid-build failure: no device was added before it (events.jsonl), the test proves nothing"
grep -q lab_built "$TMP/out/events.jsonl" && bad "mid-build failure: events.jsonl says lab_built"
leftovers_check midbuild "$L"
finish

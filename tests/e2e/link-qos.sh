#!/bin/sh
# SPDX-License-Identifier: MIT
# link-qos: the wire's CPU latency request (docs/links.md). As root the link
# thread holds a PM QoS request on /dev/cpu_dma_latency while frames pass and
# lets it go 100 ms after the last one; the kernel's aggregate (what reading
# the device returns) shows it: the value asked for while pings cross a
# conditioned link, not after. NSLAB_LINK_CPU_LATENCY=N asks for N us (the
# test asks for 7, a value nothing else here asks for, so the aggregate is
# ours), =off for none; SIGKILL of the supervisor ends the request with it.
# Rootless the device cannot be opened: the lab works without it and holds no
# fd of it.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ping

DEV=/dev/cpu_dma_latency
[ -c $DEV ] || skip "$DEV is missing (a kernel without PM QoS)"

# qos: the kernel's CPU latency target in us (the smallest request held)
qos() { $PY -c 'import struct, sys; print(struct.unpack("i", open(sys.argv[1], "rb").read(4))[0])' $DEV; }
qos_is() { [ "$(qos)" = "$1" ]; }
qos_is_not() { [ "$(qos)" != "$1" ]; }
sup_pid() { "$NSLAB" ls | awk -v l="$1" '$1 == l { print $5 }'; }
holds_dev() {
	[ -d "/proc/$1/fd" ] || fail "cannot see the fds of the supervisor $1"
	for _f in "/proc/$1/fd"/*; do
		[ "$(readlink "$_f")" = $DEV ] && return 0
	done
	return 1
}

# lab LAB [ENV=VALUE]: a lab of two devices, a's link delayed 2 ms each way
lab() {
	_l=$1
	shift
	track_lab "$_l"
	env "$@" "$NSLAB" up -d -q --name "$_l" "$SRCDIR/bench/link-wire.yaml" >"$TMP/up.out" 2>&1 ||
		fail "nslab up $_l: $(cat "$TMP/up.out")"
	"$NSLAB" link "$_l" a eth0 delay 2ms >"$TMP/link.out" 2>&1 || fail "nslab link: $(cat "$TMP/link.out")"
	status_json "$_l" "$TMP/st.json"
	B=$(addr "$TMP/st.json" b 4) || fail "no address for b"
}

# pings LAB SECONDS: pings from a to b every 10 ms in the background ($PING)
pings() {
	"$NSLAB" exec "$1" a -- ping -n -q -i 0.01 -w "$2" "$B" >"$TMP/ping.out" 2>&1 &
	PING=$!
	track_pid $PING
}

if ! is_root; then
	L=$(new_lab_name qos)
	lab "$L"
	pings "$L" 2
	wait $PING || bad "pings over the conditioned link failed rootless: $(cat "$TMP/ping.out")"
	sup=$(sup_pid "$L")
	[ -n "$sup" ] || fail "no supervisor for $L in 'nslab ls'"
	holds_dev "$sup" && bad "rootless, the supervisor holds $DEV" ||
		ok "rootless: no CPU latency request ($DEV is root's), the link works without it"
	"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L"
	finish
fi

qos_is_not 7 || fail "something else holds a 7 us CPU latency request: this test cannot tell its own"
base=$(qos)

L=$(new_lab_name qos)
lab "$L" NSLAB_LINK_CPU_LATENCY=7
# the stacks' own frames (neighbour discovery) after the build cross the wire too
wait_until 5 qos_is_not 7 || bad "an idle lab still holds its request after 5 s (target $(qos) us)"
pings "$L" 3
wait_until 2 qos_is 7 && ok "frames crossing the wire: the target is the 7 us asked for" ||
	bad "pings over the wire: target $(qos) us, not 7"
wait $PING || bad "pings over the conditioned link failed: $(cat "$TMP/ping.out")"
wait_until 2 qos_is_not 7 && ok "the request goes after the last frame (target $(qos) us)" ||
	bad "2 s after the last ping the target is still 7 us"
# again, then SIGKILL of the supervisor while it is held
pings "$L" 5
wait_until 2 qos_is 7 || bad "the second series of pings: target $(qos) us, not 7"
sup=$(sup_pid "$L")
[ -n "$sup" ] || fail "no supervisor for $L in 'nslab ls'"
kill -9 "$sup"
wait_until 5 qos_is_not 7 && ok "SIGKILL of the supervisor ends its request" ||
	bad "SIGKILL of the supervisor $sup: the target is still 7 us"
wait $PING
wait_until 10 not lab_listed "$L" || bad "$L still listed 10 s after SIGKILL"

L=$(new_lab_name qosoff)
lab "$L" NSLAB_LINK_CPU_LATENCY=off
sup=$(sup_pid "$L")
pings "$L" 1
wait $PING || bad "pings with the request off failed: $(cat "$TMP/ping.out")"
holds_dev "$sup" && bad "NSLAB_LINK_CPU_LATENCY=off: the supervisor still opened $DEV" ||
	ok "NSLAB_LINK_CPU_LATENCY=off: no request"
"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L"

# the default: 0 us, the same way (the aggregate may already be 0 if something else holds one)
if [ "$base" != 0 ]; then
	L=$(new_lab_name qosdef)
	lab "$L"
	pings "$L" 3
	wait_until 2 qos_is 0 && ok "by default the request is 0 us" ||
		bad "pings over the wire, default: target $(qos) us, not 0"
	wait $PING
	wait_until 2 qos_is "$base" || bad "after the pings the target is $(qos) us, not $base again"
	"$NSLAB" down "$L" >/dev/null 2>&1 || bad "nslab down $L"
else
	log "note: the target was 0 before the test (another request): the default's 0 is not told apart"
fi
finish

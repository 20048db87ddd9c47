#!/bin/sh
# SPDX-License-Identifier: MIT
# caps: as root, each command works with exactly the capabilities the README
# names (the bounding set limits what the exec'd nslab gets), and fails with a
# clear message with one fewer: up/status/down with CAP_SYS_ADMIN and
# CAP_NET_ADMIN; exec adds CAP_SYS_CHROOT; test adds CAP_NET_RAW and
# CAP_NET_BIND_SERVICE.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ip setpriv
is_root || skip "capabilities of a root nslab: root only"

BASE=-all,+sys_admin,+net_admin
with() { _caps=$1; shift; setpriv --bounding-set="$_caps" "$NSLAB" "$@"; }

L=$(new_lab_name caps)
track_lab "$L"
with $BASE up -d -q --name "$L" "$E2E/small.yaml" >"$TMP/up.out" 2>&1 &&
	ok "up with CAP_SYS_ADMIN and CAP_NET_ADMIN" || fail "up with $BASE: $(cat "$TMP/up.out")"
with $BASE status "$L" >/dev/null && ok "status with the same" || bad "status with $BASE failed"
with $BASE,+sys_chroot exec "$L" laptop -- true 2>"$TMP/exec0.err" && bad "exec worked in a lab whose supervisor lacks CAP_SYS_CHROOT"
grep -q "node 'laptop': enter the lab's mounts: Operation not permitted" "$TMP/exec0.err" &&
	ok "exec in a lab whose supervisor lacks CAP_SYS_CHROOT: '$(cat "$TMP/exec0.err")'" ||
	bad "exec in a lab whose supervisor lacks CAP_SYS_CHROOT said '$(cat "$TMP/exec0.err")'"
with $BASE down "$L" && ok "down with CAP_SYS_ADMIN and CAP_NET_ADMIN" || bad "down with $BASE failed"

with $BASE,+sys_chroot up -d -q --name "$L" "$E2E/small.yaml" >"$TMP/up.out" 2>&1 ||
	fail "up with $BASE,+sys_chroot: $(cat "$TMP/up.out")"
with $BASE,+sys_chroot exec "$L" laptop -- true && ok "exec with CAP_SYS_CHROOT added on both sides" ||
	bad "exec with $BASE,+sys_chroot failed"
with $BASE exec "$L" laptop -- true 2>"$TMP/exec.err" && bad "exec without CAP_SYS_CHROOT worked"
grep -q "setns(mount namespace): Operation not permitted" "$TMP/exec.err" &&
	ok "exec without CAP_SYS_CHROOT: '$(cat "$TMP/exec.err")'" || bad "exec without CAP_SYS_CHROOT said '$(cat "$TMP/exec.err")'"
with $BASE down "$L" || bad "down with $BASE failed"

with $BASE,+net_raw,+net_bind_service test "$SRCDIR/examples/fwtest/basic.yaml" >"$TMP/t.out" 2>&1 &&
	ok "test with CAP_NET_RAW and CAP_NET_BIND_SERVICE added" || bad "test: $(tail -n 3 "$TMP/t.out")"
with $BASE test "$SRCDIR/examples/fwtest/basic.yaml" >"$TMP/t2.out" 2>&1 && bad "test without CAP_NET_RAW passed"
grep -q "raw IPv4 socket: Operation not permitted" "$TMP/t2.out" &&
	ok "test without CAP_NET_RAW says which socket it could not open" ||
	bad "test without CAP_NET_RAW: $(tail -n 3 "$TMP/t2.out")"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# foreground: `nslab up FILE` without -d prints the table, holds the lab, and
# on SIGTERM or SIGHUP tears it down in order: exit 0, lab_destroyed logged,
# gone from `nslab ls`, no process left in its namespaces.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env

for sig in TERM HUP; do
	L=$(new_lab_name "fg-$(echo $sig | tr A-Z a-z)")
	OUT="$TMP/out-$sig"
	"$NSLAB" up --name "$L" --outdir "$OUT" "$E2E/small.yaml" >"$TMP/table-$sig" 2>"$TMP/err-$sig" &
	sup=$!
	track_pid $sup
	track_lab "$L"
	wait_until 20 lab_listed "$L" || fail "SIG$sig: lab $L never came up: $(cat "$TMP/err-$sig")"
	# the socket is claimed before the build, the table printed after it
	wait_until 20 grep -q "^laptop " "$TMP/table-$sig" && ok "SIG$sig: the table lists laptop" ||
		bad "SIG$sig: no laptop row in the table: $(head -3 "$TMP/table-$sig")"
	for n in laptop server; do "$NSLAB" exec "$L" $n -- readlink /proc/self/ns/net; done \
		>"$TMP/ns-$sig"
	"$NSLAB" exec "$L" laptop -- sleep 1000 &
	client=$!
	track_pid $client
	kill -$sig $sup
	wait $sup
	rc=$?
	[ $rc -eq 0 ] && ok "SIG$sig: nslab up exited 0" || bad "SIG$sig: nslab up exited $rc"
	wait_until 10 not alive $client || bad "SIG$sig: the exec client still runs after the lab went down"
	lab_listed "$L" && bad "SIG$sig: $L still in 'nslab ls'" || ok "SIG$sig: $L is gone from 'nslab ls'"
	wait_until 10 no_ns_holders "$TMP/ns-$sig" && ok "SIG$sig: nothing holds the lab's namespaces" ||
		bad "SIG$sig: something still holds the lab's namespaces: $(ns_holders "$TMP/ns-$sig")"
	tail -n 1 "$OUT/events.jsonl" | grep -q '"kind":"lab_destroyed"' &&
		ok "SIG$sig: lab_destroyed is the last event" || bad "SIG$sig: lab_destroyed is not the last event"
done
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# control: the control socket speaks only its protocol, and only to the lab's
# owner: a request before HELLO, fds a request does not take, a message
# without nslab's magic, a notification out
# of turn, a second HELLO, and (root) another user's HELLO are each refused
# with their reason, while more requests on one connection are served;
# the lab answers normally afterwards. Commands started by exec inherit no fd
# but stdio.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ip

L=$(new_lab_name ctl)
lab_up "$E2E/small.yaml" "$L"
ctl() { $PY "$E2E/ctlclient.py" "$L" "$@" 2>&1; }

# expect SCENARIO PATTERN WHAT
expect() {
	_out=$(ctl "$1")
	if printf '%s\n' "$_out" | grep -Eq "$2"; then ok "$3"; else bad "$3: got '$_out'"; fi
}
expect hello '^reply op=16 seq=1 error=0' "HELLO is answered"
expect exec-first "^reply op=19 seq=1 error=$(errno EPROTO) exec: not now \(say hello first\)" \
	"a request before HELLO: refused"
expect hello-with-fds "^reply op=16 seq=1 error=$(errno EPROTO) hello: 2 fds where 0 belong" \
	"fds a request does not take: refused"
expect bad-magic '^hangup' "a message without nslab's magic: hung up on"
expect two-requests "^reply op=17 seq=2 error=0" "a second request on a connection: answered"
expect two-requests "^reply op=16 seq=3 error=$(errno EPROTO) hello: not now \(hello was said already\)" \
	"a second HELLO: refused"
expect exited-before-exec "^hangup$" \
	"a notification out of turn: dropped, the connection closed"
"$NSLAB" status "$L" >/dev/null && lab_listed "$L" && ok "the lab answers normally afterwards" ||
	bad "the lab no longer answers after the bad requests"

if is_root && command -v setpriv >/dev/null; then
	out=$(NSLAB_UID=0 setpriv --reuid=65534 --regid=65534 --clear-groups \
		$PY "$E2E/ctlclient.py" "$L" hello 2>&1)
	printf '%s\n' "$out" | grep -q "error=$(errno EACCES) hello: permission denied (lab '$L' belongs to uid 0)" &&
		ok "another user's HELLO: permission denied" || bad "another user's HELLO: '$out'"
fi

# fd hygiene: what exec runs holds stdin, stdout, stderr, and ls's own directory fd.
"$NSLAB" exec "$L" laptop -- sh -c 'ls /proc/$$/fd' >"$TMP/fds" || bad "exec ls /proc/self/fd failed"
[ "$(echo $(sort -n "$TMP/fds"))" = "0 1 2" ] && ok "an exec'd command holds fds 0 1 2 only" ||
	bad "an exec'd command holds fds: $(echo $(cat "$TMP/fds"))"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# scale: the issue's bound, one lab of 1000 routers and 4096 devices, builds
# (a functional test, not a timed one): traffic crosses it end to end, its
# state lists every node, and down leaves nothing of it.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ping

# 1000 private routers on the IX (the IX /22 holds 1021), 4 devices behind
# each plus one more behind the first 96: 4096 devices, 5096 namespaces.
L=$(new_lab_name scale)
$PY - "$TMP/scale.yaml" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("routers:\n")
    for i in range(1000):
        f.write(f"  r{i}: {{pool: private}}\n")
    f.write("devices:\n")
    for i in range(1000):
        f.write(f"  d{i}: {{router: r{i}, count: 4}}\n")
    for i in range(96):
        f.write(f"  e{i}: {{router: r{i}}}\n")
PYEOF
# two fds per namespace (the namespace and its netlink socket)
[ "$(ulimit -n)" -ge 12000 ] || ulimit -n 12000 2>/dev/null ||
	skip "RLIMIT_NOFILE $(ulimit -n) is below the 12000 fds a 5096-node lab holds"
# The host's IPv6 neighbour table is one for all namespaces (1024 entries by
# default): a lab this size must not fill it (/proc/net/stat/ndisc_cache).
nd_fulls() { set -- $(sed -n 2p /proc/net/stat/ndisc_cache); echo $((0x${13})); }
fulls_before=$(nd_fulls)
leftovers_snapshot start
lab_up "$TMP/scale.yaml" "$L"
status_json "$L" "$TMP/st.json"
$PY - "$TMP/st.json" <<'PYEOF' || bad "status --json does not list 1000 routers and 4096 devices"
import json, sys
st = json.load(open(sys.argv[1]))
kinds = [n["kind"] for n in st["nodes"]]
sys.exit(0 if (kinds.count("router"), kinds.count("device")) == (1000, 4096) else 1)
PYEOF
# the last device to the first router's extra device, v4 and v6, by address from status
a4=$(addr "$TMP/st.json" e0 4) && a6=$(addr "$TMP/st.json" e0 6) || bad "no addresses for e0"
ex() { "$NSLAB" exec "$L" "$@"; }
# one probe at a time until one answers (at most 30, a second each): neighbour discovery across
# an IX of a thousand routers can take a moment on a loaded machine
reaches() { ex d999-4 -- ping "$1" -c1 -W1 "$2" >/dev/null 2>&1; }
wait_until 3 reaches -4 "$a4" && ok "d999-4 reaches e0 at $a4" ||
	bad "d999-4 cannot reach e0 at $a4"
wait_until 3 reaches -6 "$a6" && ok "d999-4 reaches e0 at $a6" ||
	bad "d999-4 cannot reach e0 at $a6"
fulls=$(($(nd_fulls) - fulls_before))
[ "$fulls" -eq 0 ] && ok "the host's IPv6 neighbour table never overflowed" ||
	bad "the host's IPv6 neighbour table overflowed $fulls times while the lab was up"
ex e95 -- getent ahostsv4 "d0-1.$L.test" | grep -q "^$(addr "$TMP/st.json" d0-1 4) " &&
	ok "names resolve in a 5096-node lab" || bad "d0-1.$L.test does not resolve to its address"
"$NSLAB" down "$L" || bad "nslab down $L failed"
leftovers_check start "$L"
# The kernel frees 5096 namespaces in the background for a while, and until it
# has, the host's IPv6 neighbour table (global, 1024 entries by default) is
# crowded with their entries: let it drain before the next test runs.
nd_entries() { set -- $(sed -n 2p /proc/net/stat/ndisc_cache); echo $((0x$1)); }
nd_drained() { [ "$(nd_entries)" -lt 256 ]; }
wait_until 30 nd_drained && ok "the kernel's IPv6 neighbour table drained after down" ||
	log "note: $(nd_entries) IPv6 neighbour entries still in the kernel's table"
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# outdir: `up -d --outdir DIR`, exec, down; DIR/events.jsonl is one JSON object
# a line, seq 1, 2, 3..., every router, device and interface added, lab_built,
# lab_destroyed last; DIR/state.json lists every node with its addresses, the
# same as `status --json` and as the events say. NSLAB_OUTDIR works too.
# nslab may run as root with a directory a user named: the directory it creates
# is 0700, its files 0600; a directory of another user's, or writable by group
# or others, is refused; a symbolic link in it is never followed.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env

L=$(new_lab_name outdir)
OUT="$TMP/out"
lab_up "$E2E/small.yaml" "$L" --outdir "$OUT"
status_json "$L" "$TMP/st.json"
[ -s "$OUT/events.jsonl" ] && ok "events.jsonl written while the lab is up" ||
	bad "no $OUT/events.jsonl while the lab is up"
[ -s "$OUT/state.json" ] && ok "state.json written while the lab is up" ||
	bad "no $OUT/state.json while the lab is up"
cp "$OUT/state.json" "$TMP/state-up.json" 2>/dev/null
out=$("$NSLAB" exec "$L" laptop -- sh -c 'echo "$NSLAB_IP_SERVER"')
[ -n "$out" ] || bad "exec in laptop printed nothing"
"$NSLAB" down "$L" || bad "nslab down $L failed"

$PY - "$OUT" "$L" "$TMP/st.json" "$TMP/state-up.json" <<'EOF'
import json, os, sys
out, lab, status_path, state_up_path = sys.argv[1:5]
failures = []
def bad(msg):
    failures.append(msg)
    print("outdir: FAIL:", msg, file=sys.stderr)

status = json.load(open(status_path))
lines = open(os.path.join(out, "events.jsonl")).read().split("\n")
if lines[-1] != "":
    bad("events.jsonl does not end with a newline")
events = []
for i, line in enumerate(lines[:-1], 1):
    try:
        ev = json.loads(line)
    except ValueError as e:
        bad(f"events.jsonl line {i} is not JSON: {e}: {line[:80]}")
        continue
    if not isinstance(ev, dict):
        bad(f"events.jsonl line {i} is not an object")
        continue
    events.append(ev)
seqs = [e.get("seq") for e in events]
if seqs != list(range(1, len(events) + 1)):
    bad(f"seq is not 1, 2, 3...: {seqs[:20]}")
ts = [e.get("ts") for e in events]
if not all(isinstance(t, (int, float)) for t in ts) or ts != sorted(ts):
    bad("ts is not a non-decreasing number on every line")
for e in events:
    if e.get("lab") != lab:
        bad(f"event {e.get('seq')} ({e.get('kind')}) has lab {e.get('lab')!r}")
kinds = [e.get("kind") for e in events]

nodes = {n["name"]: n for n in status["nodes"] if n["kind"] in ("router", "device")}
routers = sorted(n for n, v in nodes.items() if v["kind"] == "router")
devices = sorted(n for n, v in nodes.items() if v["kind"] == "device")
added = lambda k: sorted(e.get("node") for e in events if e.get("kind") == k)
if added("router_added") != routers:
    bad(f"router_added for {added('router_added')}, the lab has routers {routers}")
if added("device_added") != devices:
    bad(f"device_added for {added('device_added')}, the lab has devices {devices}")
want_ifaces = sorted((n, f["name"], f["peer"], f.get("ip4"), f.get("ip6"))
                     for n, v in nodes.items() for f in v["ifaces"])
got_ifaces = sorted((e.get("node"), e.get("iface"), e.get("peer"), e.get("ip4"), e.get("ip6"))
                    for e in events if e.get("kind") == "iface_added")
if got_ifaces != want_ifaces:
    bad(f"iface_added events {got_ifaces} differ from status --json {want_ifaces}")
if kinds.count("lab_built") != 1:
    bad(f"{kinds.count('lab_built')} lab_built events")
elif any(k in ("router_added", "device_added", "iface_added")
         for k in kinds[kinds.index("lab_built"):]):
    bad("nodes added after lab_built")
# the exec above: one cmd_spawned (node, command line) and its cmd_exited (exit 0), same id
spawned = [e for e in events if e.get("kind") == "cmd_spawned"]
exited = [e for e in events if e.get("kind") == "cmd_exited"]
if len(spawned) != 1 or spawned[0].get("node") != "laptop" or "NSLAB_IP_SERVER" not in spawned[0].get("cmd", ""):
    bad(f"cmd_spawned events: {spawned}")
elif len(exited) != 1 or exited[0].get("id") != spawned[0].get("id") or exited[0].get("exit") != 0:
    bad(f"cmd_exited events: {exited} (spawned {spawned})")
if kinds.count("lab_destroyed") != 1 or kinds[-1] != "lab_destroyed":
    bad(f"lab_destroyed is not the one last event: {kinds[-3:]}")
for e in events:
    if e.get("kind") == "lab_built" and (e.get("routers"), e.get("devices")) != (len(routers), len(devices)):
        bad(f"lab_built says {e.get('routers')} routers, {e.get('devices')} devices")

# state.json: every node with its addresses, as status --json and the events say.
def shape(st):
    return {n["name"]: (n["kind"], n.get("primary"),
                        [(f["name"], f["peer"], f.get("ip4"), f.get("ip6"), f.get("mac"))
                         for f in n["ifaces"]])
            for n in st["nodes"] if n["kind"] in ("router", "device")}
for label, path in (("while up", state_up_path), ("after down", os.path.join(out, "state.json"))):
    try:
        state = json.load(open(path))
    except (OSError, ValueError) as e:
        bad(f"state.json {label}: {e}")
        continue
    if state.get("lab") != lab:
        bad(f"state.json {label}: lab {state.get('lab')!r}")
    if shape(state) != shape(status):
        bad(f"state.json {label} differs from status --json: {shape(state)} vs {shape(status)}")
    for name, (kind, primary, ifaces) in shape(state).items():
        if not ifaces or not all(f[2] for f in ifaces):
            bad(f"state.json {label}: {name} has an interface without an IPv4 address: {ifaces}")
print(f"outdir: {len(events)} events: " +
      ", ".join(f"{k} {kinds.count(k)}" for k in dict.fromkeys(kinds)))
sys.exit(1 if failures else 0)
EOF
[ $? -eq 0 ] && ok "events.jsonl and state.json hold the lab" || FAILURES=$((FAILURES + 1))

# NSLAB_OUTDIR instead of --outdir (a directory that does not exist yet).
L2=$(new_lab_name outenv)
track_lab "$L2"
NSLAB_OUTDIR="$TMP/env-out" "$NSLAB" up -d -q --name "$L2" "$E2E/small.yaml" ||
	bad "NSLAB_OUTDIR=$TMP/env-out nslab up failed"
grep -q lab_built "$TMP/env-out/events.jsonl" 2>/dev/null &&
	ok "NSLAB_OUTDIR: events.jsonl has lab_built" || bad "NSLAB_OUTDIR: no lab_built in $TMP/env-out/events.jsonl"
"$NSLAB" down "$L2" || bad "nslab down $L2 failed"
# mode MODE PATH: the permission bits of PATH are MODE (octal, as stat %a prints).
check_mode() {
	m=$(stat -c %a "$2" 2>/dev/null)
	[ "$m" = "$1" ] && ok "$(basename "$2") has mode $1" || bad "$2 has mode '$m', expected $1"
}
check_mode 700 "$OUT"
check_mode 600 "$OUT/events.jsonl"
check_mode 600 "$OUT/state.json"

# up_refused DIR TEXT WHAT: `up --outdir DIR` fails, saying TEXT, before building anything.
up_refused() {
	L3=$(new_lab_name outbad)
	track_lab "$L3"
	if "$NSLAB" up -d -q --name "$L3" --outdir "$1" "$E2E/small.yaml" 2>"$TMP/err"; then
		bad "$3: nslab up --outdir $1 succeeded"
		"$NSLAB" down "$L3"
	elif grep -qF "$2" "$TMP/err"; then
		ok "$3: refused: $(cat "$TMP/err")"
	else
		bad "$3: nslab up failed without saying '$2': $(cat "$TMP/err")"
	fi
}

# A symbolic link where events.jsonl goes (a stale one, or planted): refused, the target untouched.
printf 'precious\n' >"$TMP/victim"
mkdir -m 700 "$TMP/planted"
ln -s "$TMP/victim" "$TMP/planted/events.jsonl"
up_refused "$TMP/planted" "refusing to replace it" "symlink as events.jsonl"
[ "$(cat "$TMP/victim")" = precious ] && ok "the link's target is unchanged" ||
	bad "the file events.jsonl linked to was changed: $(head -c 80 "$TMP/victim")"
[ -L "$TMP/planted/events.jsonl" ] || bad "the planted link was removed"
# The output directory itself given as a symbolic link.
ln -s "$TMP/planted" "$TMP/dirlink"
up_refused "$TMP/dirlink" "symbolic link" "output directory that is a symlink"
# A directory group or others may write to.
mkdir "$TMP/open"
chmod 777 "$TMP/open"
up_refused "$TMP/open" "writable by group or others" "mode 0777 directory"
[ -e "$TMP/open/events.jsonl" ] && bad "events.jsonl created in a mode 0777 directory"
# Another user's directory (root only: chown).
if is_root; then
	mkdir -m 755 "$TMP/theirs"
	chown nobody "$TMP/theirs"
	up_refused "$TMP/theirs" "is owned by uid $(id -u nobody)" "a directory of nobody's"
	[ -e "$TMP/theirs/events.jsonl" ] && bad "events.jsonl created in a directory of nobody's"
fi

# Reused: files of ours from a previous run are replaced; a link as the state file's
# temporary name is refused (state.json is best effort: the lab still comes up).
ln -s "$TMP/victim" "$OUT/.state.json.tmp"
L4=$(new_lab_name outreuse)
lab_up "$E2E/small.yaml" "$L4" --outdir "$OUT"
head -n 1 "$OUT/events.jsonl" | grep -q "\"seq\":1,.*\"lab\":\"$L4\"" &&
	ok "reused output directory: events.jsonl starts anew" ||
	bad "reused output directory: events.jsonl starts with $(head -c 120 "$OUT/events.jsonl")"
[ "$(cat "$TMP/victim")" = precious ] && ok "a link as .state.json.tmp is not followed" ||
	bad "the file .state.json.tmp linked to was changed: $(head -c 80 "$TMP/victim")"
"$NSLAB" down "$L4" || bad "nslab down $L4 failed"
finish

#!/bin/sh
# `make demo`: bring the bundled lab up, run real traffic across it, run the
# bundled firewall tests and trace one packet, tear the lab down; then UDP
# hole punching between devices behind NATs (examples/nat.yaml, a lab of its
# own: punch-PID), succeeding and failing as the NAT matrix predicts.
# The lab gets a name of its own (demo-PID), so that a lab called 'demo' already
# up is left alone; the output directory under /tmp is removed on any exit.
# With NSLAB_DEMO_RUNS=DIR (`make demo` sets ./nslab-runs), the output
# directory is DIR/demo-PID instead, kept, and the demo ends with the
# `nslab serve` command and URL that show it.
set -eu
NSLAB=${1:-build/src/cli/nslab}
LAB=demo-$$
OUT=
UP=
SERVER=
PLAB=punch-$$
PUP=
RUNS=${NSLAB_DEMO_RUNS:-}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$SERVER" ]; then
		kill "$SERVER" 2>/dev/null || :
		wait "$SERVER" 2>/dev/null || :
	fi
	if [ -n "$UP" ]; then
		"$NSLAB" down "$LAB" || rc=1
	fi
	if [ -n "$PUP" ]; then
		"$NSLAB" down "$PLAB" || rc=1
	fi
	[ -z "$OUT" ] || [ -n "$RUNS" ] || rm -rf "$OUT"
	if [ "$rc" -eq 0 ] && [ -n "$RUNS" ]; then
		printf '\n== look at it in a browser:\n  %s serve %s\n  http://127.0.0.1:7421/ (run 0:%s)\n' \
			"$NSLAB" "$RUNS" "$LAB"
	fi
	[ "$rc" -eq 0 ] || printf '\nthe demo failed (exit %d); lab %s is down and %s removed\n' \
		"$rc" "$LAB" "${OUT:-its output directory}" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
if [ -n "$RUNS" ]; then
	mkdir -p "$RUNS"
	OUT="$RUNS/$LAB"
else
	OUT=$(mktemp -d /tmp/nslab-demo.XXXXXX)
fi

step() { printf '\n== %s\n' "$*"; }

step "building examples/demo.yaml as lab '$LAB' (a name of its own), output directory $OUT"
"$NSLAB" up -d --name "$LAB" --outdir "$OUT" examples/demo.yaml
UP=1 # from here on, any exit brings it down

step "laptop (private pool, behind home) pings the ISP's server by name, IPv4 and IPv6"
"$NSLAB" exec "$LAB" laptop -- ping -c 3 -i 0.2 -4 www.example.test
"$NSLAB" exec "$LAB" laptop -- ping -c 3 -i 0.2 -6 "server.$LAB.test"

step "desk-1 (IPv4-only office) pings the phone's LTE interface"
"$NSLAB" exec "$LAB" desk-1 -- sh -c 'ping -c 2 -i 0.2 "$NSLAB_IP_PHONE_LTE0"'

step "a TCP transfer with iperf3: server in 'server', client in 'desk-2'"
"$NSLAB" exec "$LAB" server -- iperf3 -s -1 >/dev/null &
SERVER=$!
i=0
# wait until it listens (probing with a connection would use up its one test)
until "$NSLAB" exec "$LAB" server -- ss -Hltn 'sport = :5201' | grep -q 5201; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "iperf3 server did not start" >&2; exit 1; }
	sleep 0.1
done
"$NSLAB" exec "$LAB" desk-2 -- sh -c 'iperf3 -c "$NSLAB_IP_SERVER" -t 2 -f m' | tail -4
wait "$SERVER"
SERVER=

step "what happened (events.jsonl)"
"$NSLAB" status "$LAB" --json >/dev/null
awk -F'"kind":"' '{ split($2, k, "\""); n[k[1]]++ } END { for (x in n) printf "  %-14s %d\n", x, n[x] }' "$OUT/events.jsonl"
step "firewall tests: examples/fwtest/basic.yaml, every verdict read from the kernel's trace"
"$NSLAB" test examples/fwtest/basic.yaml

step "one packet through a ruleset: nslab trace"
"$NSLAB" trace --rules examples/fwtest/new.nft 'tcp 10.0.0.1:40000 > 10.0.0.2:80 S'
step "tearing down lab '$LAB'"
"$NSLAB" down "$LAB"
UP=

PUNCH=$(dirname "$0")/../tests/tools/punch.py
step "hole punching: examples/nat.yaml as lab '$PLAB', a rendezvous on 'server' (public)"
"$NSLAB" up -d -q --name "$PLAB" examples/nat.yaml
PUP=1
SRV=$("$NSLAB" exec "$PLAB" server -- sh -c 'echo $NSLAB_IP_SERVER')
"$NSLAB" exec -d "$PLAB" server -- python3 "$PUNCH" server 7000 >/dev/null
# punch A B PORT WANT: both peers at once through the rendezvous; the outcome must be WANT
punch() {
	"$NSLAB" exec "$PLAB" "$1" -- python3 "$PUNCH" peer "$SRV" 7000 "$3:a" "$3" >"$OUT/punch-a" 2>&1 &
	pa=$!
	got=punched
	"$NSLAB" exec "$PLAB" "$2" -- python3 "$PUNCH" peer "$SRV" 7000 "$3:b" "$3" >"$OUT/punch-b" 2>&1 || got=failed
	wait "$pa" || got=failed
	printf '  %-7s x %-7s %-7s (the matrix says %s): %s\n' "$1" "$2" "$got" "$4" \
		"$(tr '\n' ' ' <"$OUT/punch-a")"
	[ "$got" = "$4" ] || { echo "hole punching $1 x $2: $got, want $4" >&2; exit 1; }
}
punch laptop phone 6000 punched  # home (EIM/APDF) x home behind the carrier's cgnat (EIM)
punch laptop desktop 6002 failed # home (EIM/APDF) x corporate (EDM): the new port is filtered
rm -f "$OUT/punch-a" "$OUT/punch-b"
step "tearing down lab '$PLAB'"

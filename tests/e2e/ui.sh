#!/bin/sh
# SPDX-License-Identifier: MIT
# ui: the web UI in Debian's chromium and firefox-esr, headless
# (ui/tests/browser.mjs with puppeteer-core: CDP, and WebDriver BiDi for
# Firefox): `nslab serve --playground` over a live lab with regions
# (ui-lab.yaml) and a sim's run (ui-sim.yaml); in each browser the topology
# shows every node, bridge and region, clicking a node shows its addresses,
# the events and timeline views list the lab's events, a change by `nslab
# link` appears without reload, a command's event opens its log at its line, a
# new run is pushed to the list, a router's live conntrack table shows a ping,
# the perf view charts the sim's values over time, the views work with the
# keyboard alone and fit 1366x768, the playground runs a two-rule ruleset,
# shows the deciding rule and marks a bad suite's line and column.
# Screenshots go to build/meson-logs/ui-screenshots-USER/.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env curl node ping iperf3
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
FIREFOX=${FIREFOX:-$(command -v firefox-esr || true)}
[ -n "$CHROMIUM" ] || skip "chromium is not installed (scripts/deps.sh installs it)"
UI=${UI_DIR:-$SRCDIR/build/ui}
[ -f "$UI/index.html" ] || skip "the web UI is not built in $UI (make ui: needs node and npm)"
[ -d "$SRCDIR/ui/node_modules/puppeteer-core" ] ||
	skip "ui/node_modules has no puppeteer-core (make ui runs npm ci)"
SHOTS=${SHOTS_DIR:-$TMP/shots}/ui-screenshots-$(id -un)
rm -rf "$SHOTS"
mkdir -p "$SHOTS" 2>/dev/null || SHOTS="$TMP/shots"
export HOME="$TMP" # the browsers write caches there (rootless: nobody has no home)

RUNS="$TMP/runs"
mkdir -p "$RUNS"
"$NSLAB" sim --outdir "$RUNS/sim" -q "$E2E/ui-sim.yaml" >"$TMP/sim.out" 2>&1 ||
	fail "nslab sim ui-sim.yaml failed: $(tail -5 "$TMP/sim.out")"
L=$(new_lab_name ui)
lab_up "$E2E/ui-lab.yaml" "$L" --outdir "$RUNS/live"
status_json "$L" "$TMP/status.json"
"$NSLAB" exec --detach "$L" alice -- sh -c 'echo first line; echo last line' >/dev/null ||
	fail "nslab exec --detach in $L failed"
logs_done() { grep -qs 'last line' "$RUNS"/live/nodes/alice/exec-*.stdout; }
wait_until 10 logs_done || fail "the detached command wrote no log"

"$NSLAB" serve "$RUNS" --bind 127.0.0.1:0 --playground --ui "$UI" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SP=$!
track_pid "$SP"
wait_until 10 grep -q '^http://' "$TMP/serve.out" || fail "nslab serve printed no URL: $(cat "$TMP/serve.err")"
URL=$(head -n 1 "$TMP/serve.out")

# in_browser NAME PATH: browser.mjs's checks in that browser
in_browser() {
	BROWSER=$1 BROWSER_PATH=$2 NSLAB="$NSLAB" RUNS_DIR="$RUNS" SIM_RUN=0:sim/ui-perf \
		timeout 150 node "$SRCDIR/ui/tests/browser.mjs" \
		"$URL" "$L" "$TMP/status.json" "$SHOTS" "$RUNS/live/events.jsonl" >"$TMP/browser-$1.out" 2>&1
	rc=$?
	sed "s/^/$TEST: /" "$TMP/browser-$1.out"
	[ $rc -eq 0 ] || bad "$1: browser checks failed (exit $rc); screenshots in $SHOTS"
}
in_browser chrome "$CHROMIUM"
if [ -n "$FIREFOX" ]; then
	in_browser firefox "$FIREFOX"
else
	# not a skip of the whole test: chromium's checks ran
	echo "$TEST: SKIP firefox: firefox-esr is not installed (scripts/deps.sh installs it)"
fi
ls "$SHOTS"/*.png >/dev/null 2>&1 && ok "screenshots: $(cd "$SHOTS" && echo *.png)" ||
	bad "no screenshot in $SHOTS"
rm -rf "$SHOTS"/profile-*
finish

#!/bin/sh
# SPDX-License-Identifier: MIT
# ui: the web UI in Debian's chromium, headless (ui/tests/browser.mjs with
# puppeteer-core): `nslab serve --playground` over a live lab of the example
# file; the topology shows every node, clicking a node shows its addresses,
# the events and timeline views list the lab's events, a change by `nslab link`
# appears without reload, the playground runs a two-rule ruleset and shows the
# deciding rule. Screenshots go to build/meson-logs/ui-screenshots-USER/.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env curl node
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || skip "chromium is not installed (scripts/deps.sh installs it)"
UI=${UI_DIR:-$SRCDIR/build/ui}
[ -f "$UI/index.html" ] || skip "the web UI is not built in $UI (make ui: needs node and npm)"
[ -d "$SRCDIR/ui/node_modules/puppeteer-core" ] ||
	skip "ui/node_modules has no puppeteer-core (make ui runs npm ci)"
SHOTS=${SHOTS_DIR:-$TMP/shots}/ui-screenshots-$(id -un)
rm -rf "$SHOTS"
mkdir -p "$SHOTS" 2>/dev/null || SHOTS="$TMP/shots"
export HOME="$TMP" # chromium writes its caches there (rootless: nobody has no home)

RUNS="$TMP/runs"
mkdir -p "$RUNS"
L=$(new_lab_name ui)
lab_up "$SRCDIR/examples/two-hosts.yaml" "$L" --outdir "$RUNS/live"
status_json "$L" "$TMP/status.json"

"$NSLAB" serve "$RUNS" --bind 127.0.0.1:0 --playground --ui "$UI" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SP=$!
track_pid "$SP"
wait_until 10 grep -q '^http://' "$TMP/serve.out" || fail "nslab serve printed no URL: $(cat "$TMP/serve.err")"
URL=$(head -n 1 "$TMP/serve.out")

CHROMIUM="$CHROMIUM" NSLAB="$NSLAB" timeout 120 node "$SRCDIR/ui/tests/browser.mjs" \
	"$URL" "$L" "$TMP/status.json" "$SHOTS" "$RUNS/live/events.jsonl" >"$TMP/browser.out" 2>&1
rc=$?
sed "s/^/$TEST: /" "$TMP/browser.out"
[ $rc -eq 0 ] || bad "browser checks failed (exit $rc); screenshots in $SHOTS"
ls "$SHOTS"/*.png >/dev/null 2>&1 && ok "screenshots: $(cd "$SHOTS" && echo *.png)" ||
	bad "no screenshot in $SHOTS"
rm -rf "$SHOTS/profile"
finish

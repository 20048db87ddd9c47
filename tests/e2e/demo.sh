#!/bin/sh
# SPDX-License-Identifier: MIT
# demo: `make demo` (examples/demo.sh) succeeds while a lab called 'demo' is up,
# leaves that lab up, brings its own lab (demo-PID) down and leaves no
# /tmp/nslab-demo.* behind; a demo failing half-way cleans up the same way.
# Its hole punching (a second lab, punch-PID) succeeds and fails as the NAT
# matrix predicts.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env iperf3 ping ss

demo_dirs() { ls -d /tmp/nslab-demo.* 2>/dev/null | sort; }

# run_demo NSLAB OUT: examples/demo.sh from the source tree, its output in OUT; its status.
run_demo() {
	(cd "$SRCDIR" && sh examples/demo.sh "$1") >"$2" 2>&1
}

# demo_lab OUT: the lab name the demo announced.
demo_lab() { sed -n "s/^== building .* as lab '\([^']*\)'.*/\1/p" "$1" | head -n 1; }

if lab_listed demo; then
	log "a lab called 'demo' is already up: using it, leaving it up"
else
	lab_up "$SRCDIR/examples/demo.yaml" demo
fi
demo_dirs >"$TMP/tmp-before"

if run_demo "$NSLAB" "$TMP/demo.out"; then
	ok "examples/demo.sh succeeded with a lab called 'demo' up"
else
	cat "$TMP/demo.out" >&2
	bad "examples/demo.sh failed with a lab called 'demo' up"
fi
own=$(demo_lab "$TMP/demo.out")
case $own in
demo-[0-9]*) ok "the demo named its lab '$own' and said so" ;;
*) bad "the demo did not announce a lab demo-PID (got '$own')" ;;
esac
grep -q '^6 passed, 0 failed' "$TMP/demo.out" && ok "the demo's firewall tests passed" ||
	bad "the demo's firewall tests did not print '6 passed, 0 failed'"
grep -q '^  laptop  x phone   punched (the matrix says punched)' "$TMP/demo.out" &&
	grep -q '^  laptop  x desktop failed  (the matrix says failed)' "$TMP/demo.out" &&
	ok "the demo's hole punching went as the NAT matrix predicts" ||
	bad "the demo's hole punching: $(grep 'matrix says' "$TMP/demo.out")"
plab=punch-${own#demo-}
not lab_listed "$plab" && ok "the demo's hole-punching lab '$plab' is down" || bad "'$plab' is still up"
lab_listed demo && ok "the lab called 'demo' is still up" || bad "the lab called 'demo' is gone"
[ -z "$own" ] || not lab_listed "$own" && ok "the demo's own lab is down" ||
	bad "the demo's lab '$own' is still up"
demo_dirs >"$TMP/tmp-after"
new=$(comm -13 "$TMP/tmp-before" "$TMP/tmp-after")
[ -z "$new" ] && ok "no new /tmp/nslab-demo.* entries" || bad "left in /tmp: $new"

# A demo failing half-way (its `nslab test` fails): still no lab, no directory left.
cat >"$TMP/failing-nslab" <<EOS
#!/bin/sh
[ "\$1" = test ] && { echo "nslab test: failing on purpose" >&2; exit 3; }
exec "$NSLAB" "\$@"
EOS
chmod +x "$TMP/failing-nslab"
if run_demo "$TMP/failing-nslab" "$TMP/fail.out"; then
	bad "the demo succeeded although 'nslab test' failed"
else
	ok "the demo fails when a step fails"
fi
grep -q "^the demo failed (exit 3); lab demo-[0-9]* is down and /tmp/nslab-demo\..* removed$" \
	"$TMP/fail.out" && ok "the failed demo says what it cleaned up" ||
	{ cat "$TMP/fail.out" >&2; bad "the failed demo did not say what it cleaned up"; }
own=$(demo_lab "$TMP/fail.out")
[ -n "$own" ] && not lab_listed "$own" && ok "the failed demo's lab '$own' is down" ||
	bad "the failed demo's lab '$own' is still up (or was not announced)"
demo_dirs >"$TMP/tmp-after"
new=$(comm -13 "$TMP/tmp-before" "$TMP/tmp-after")
[ -z "$new" ] && ok "the failed demo left no /tmp/nslab-demo.* either" || bad "left in /tmp: $new"
lab_listed demo && ok "the lab called 'demo' is still up after the failed demo" ||
	bad "the lab called 'demo' is gone after the failed demo"
finish

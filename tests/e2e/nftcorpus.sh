#!/bin/sh
# SPDX-License-Identifier: MIT
# nftcorpus: every ruleset of tests/ and examples/ (.nft files, and the rules:
# of every suite) is loaded by `nft -c -f` in a private netns and by
# `nslab test --check`, and both must agree:
# - what nft accepts, nslab loads as written (`nftload text` prints the very
#   file) and with the same meaning: the ruleset nslab's loader leaves in a
#   fresh netns (`nftload list`) lists as the one `nft -f` leaves;
# - what nft refuses, nslab refuses, or loads rewritten (nft 1.0.6 refuses
#   NSE's one-liners for a missing ';'): then the rewrite may only have turned
#   blanks into ';', and what nslab loaded must list as the same text with a
#   line break for each of those ';' (nft's other statement terminator) loaded
#   by `nft -f`, and as its hand-written multi-line twin (tests/fixtures/nft-twins);
# - what crashes nft is an error of nslab with exit 2 (crash-*.nft), never a crash;
# - a check that hangs (the nft-hang shim) is stopped at its timeout: exit 2.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env nft unshare timeout
[ -x "${NFTLOAD:-}" ] || fail "NFTLOAD must name the nftload test tool"
[ -f "${NFT_HANG:-}" ] || fail "NFT_HANG must name the nft-hang shim"

ulimit -c 0
if is_root; then NFT_NS="unshare -n"; else NFT_NS="unshare -rn"; fi
$NFT_NS true 2>/dev/null || skip "cannot make a network namespace for nft -c"

mkdir -p "$TMP/corpus"
# every rules: of every suite that parses as YAML (include is refused by design: skipped)
$PY - "$TMP/corpus" "$SRCDIR" <<'PYEOF' || fail "extract the suites' rulesets"
import os, sys, yaml
out, src = sys.argv[1], sys.argv[2]
for top in ("tests", "examples"):
    for d, _, files in os.walk(os.path.join(src, top)):
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            p = os.path.join(d, f)
            try:
                doc = yaml.safe_load(open(p, encoding="utf-8"))
            except Exception:
                continue
            texts = []
            if isinstance(doc, dict):
                texts.append(doc.get("rules"))
                for t in doc.get("tests") or []:
                    if isinstance(t, dict):
                        texts.append(t.get("rules"))
            elif isinstance(doc, list):  # NSE's own format: a list of tests
                texts += [t.get("rules") for t in doc if isinstance(t, dict)]
            for i, t in enumerate(x for x in texts if isinstance(x, str) and x.strip()):
                if "include" in t:
                    continue
                name = os.path.relpath(p, src).replace("/", "_") + "-%d.nft" % i
                open(os.path.join(out, name), "w", encoding="utf-8").write(t)
PYEOF
for f in $(find "$SRCDIR/tests" "$SRCDIR/examples" -name '*.nft' | sort); do
	cp "$f" "$TMP/corpus/$(echo "${f#"$SRCDIR"/}" | tr / _)"
done

# listing: a listing read on stdin (`nft -j list ruleset`, then `nft -a -s list
# ruleset`) without the tables' handles: those come from a counter of the
# namespace, which nslab's check (a dry run, as `nft -c`) advances; the
# handles of chains, rules and sets count inside their table and are kept.
listing() {
	$PY -c '
import json, re, sys
first, rest = sys.stdin.read().split("\n", 1)
doc = json.loads(first)
for o in doc["nftables"]:
    o.get("table", {}).pop("handle", None)
print(json.dumps(doc, sort_keys=True))
sys.stdout.write(re.sub(r"(?m)^(table .*\{) # handle \d+$", r"\1", rest))
'
}
# nft_lists FILE: what `nft -f FILE` leaves in a fresh netns
nft_lists() {
	$NFT_NS sh -c 'nft -f "$1" && nft -j list ruleset && nft -a -s list ruleset' sh "$1" \
		2>/dev/null | listing
}
# nslab_lists FILE: what nslab's loader leaves in a fresh netns
nslab_lists() { "$NFTLOAD" list "$1" 2>/dev/null | listing; }

# same_meaning NAME NSLAB_INPUT NFT_INPUT: both load to the same ruleset
same_meaning() {
	nslab_lists "$2" >"$TMP/nslab.list" || { bad "$1: nftload list failed"; return; }
	nft_lists "$3" >"$TMP/nft.list" || { bad "$1: nft -f $(basename "$3") failed"; return; }
	if ! cmp -s "$TMP/nslab.list" "$TMP/nft.list"; then
		bad "$1: what nslab loaded lists differently from nft -f $(basename "$3")"
		diff "$TMP/nft.list" "$TMP/nslab.list" | head -20 | sed 's/^/  | /' >&2
	fi
}

# as_newlines FILE REWRITTEN OUT: OUT is FILE with a line break for each ';'
# the rewrite put in. Fails unless the rewrite only turned blanks just before
# a '}' into ';': a '}' ends the statement before it anyway, so such a ';' is
# an empty statement, whatever the '}' closes.
as_newlines() {
	$PY - "$1" "$2" "$3" <<'PYEOF'
import sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
diff = [i for i in range(min(len(a), len(b))) if a[i] != b[i]]
if len(a) != len(b) or not diff or any(a[i] not in b" \t" or b[i] != ord(";") for i in diff):
    sys.exit("the rewrite did more than turn blanks into ';'")
if any(not a[i:].lstrip(b" \t").startswith(b"}") for i in diff):
    sys.exit("the rewrite put a ';' elsewhere than just before a '}'")
out = bytearray(a)
for i in diff:
    out[i] = ord("\n")
open(sys.argv[3], "wb").write(out)
PYEOF
}

# twin_of NAME: the hand-written multi-line twin of a rewritten corpus file
# (tests/fixtures/nft-twins/*.twin, naming the files they stand for)
twin_of() {
	grep -l -E "^# twin of:.* $1( |\$)" "$SRCDIR"/tests/fixtures/nft-twins/*.twin 2>/dev/null | head -1
}

n=0 same=0 rewritten=0 twins=0 crashed=0
for f in "$TMP/corpus"/*.nft; do
	b=$(basename "$f")
	n=$((n + 1))
	$NFT_NS nft -c -f "$f" >/dev/null 2>&1
	nft_rc=$?
	"$NSLAB" test --check "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	err=$(cat "$TMP/err")
	case "$nft_rc:$rc:$b" in
	0:0:*)
		same=$((same + 1))
		"$NFTLOAD" text "$f" >"$TMP/loaded" || bad "$b: nftload text failed"
		cmp -s "$f" "$TMP/loaded" || bad "$b: nft accepts it, nslab loads another text"
		same_meaning "$b" "$f" "$f" ;;
	1:2:*) same=$((same + 1)) ;;
	1:0:*)
		rewritten=$((rewritten + 1))
		"$NFTLOAD" text "$f" >"$TMP/loaded" || bad "$b: nftload text failed"
		if as_newlines "$f" "$TMP/loaded" "$TMP/newlines.nft"; then
			$NFT_NS nft -c -f "$TMP/newlines.nft" >/dev/null 2>&1 ||
				bad "$b: nft refuses it with line breaks for the rewrite's ';'"
			same_meaning "$b" "$f" "$TMP/newlines.nft"
		else
			bad "$b: rewritten beyond blanks into ';' before a '}'"
		fi
		twin=$(twin_of "$b")
		if [ -n "$twin" ]; then
			same_meaning "$b" "$f" "$twin"
			twins=$((twins + 1))
		else
			bad "$b: rewritten, and no hand-written twin in tests/fixtures/nft-twins/"
		fi ;;
	134:2:*crash-*.nft)
		echo "$err" | grep -q "nftables crashed on this ruleset (SIGABRT" ||
			bad "$b: nft aborts, nslab says '$err'"
		crashed=$((crashed + 1)) ;;
	*) bad "$b: nft -c exit $nft_rc, nslab --check exit $rc: $err" ;;
	esac
	[ "$rc" -le 2 ] || bad "$b: nslab --check exit status $rc (a crash?)"
done
# the corpus must hold each kind, or the test proves nothing
[ "$rewritten" -ge 2 ] || bad "only $rewritten rewritten rulesets in the corpus"
[ "$crashed" -ge 1 ] || bad "no crashing ruleset in the corpus"
[ "$same" -ge 10 ] || bad "only $same rulesets nft and nslab agree on"
ok "$n rulesets: $same alike, $rewritten rewritten and proven equivalent ($twins to hand-written twins), $crashed crashes reported"

# A check that never ends (nft-hang makes nft -c hang) is stopped at 10 s,
# its process killed, and the ruleset refused with exit 2 naming the timeout;
# as --check and as a suite's ruleset. timeout(1) only bounds a broken nslab.
printf 'table inet t { chain c { type filter hook input priority 0; drop; } }\n' >"$TMP/hang.nft"
printf 'rules_file: hang.nft\ntests:\n  - name: a\n    packets:\n      - {dport: 22}\n' \
	>"$TMP/hang.yaml"
for how in "--check $TMP/hang.nft" "$TMP/hang.yaml"; do
	rm -f "$TMP/hang.pid"
	t0=$(date +%s)
	# shellcheck disable=SC2086 # $how is two words or one
	NFT_HANG_PIDFILE="$TMP/hang.pid" LD_PRELOAD="$NFT_HANG" timeout 60 "$NSLAB" test $how \
		>"$TMP/out" 2>"$TMP/err"
	rc=$? took=$(($(date +%s) - t0))
	pid=$(cat "$TMP/hang.pid" 2>/dev/null)
	if [ "$rc" -ne 2 ] || ! grep -q 'within its timeout of 10 s' "$TMP/err"; then
		bad "test $how, check hanging: exit $rc: $(cat "$TMP/err")"
	elif [ -z "$pid" ]; then
		bad "test $how: the shim did not hang the check (no pid written)"
	elif [ -e "/proc/$pid" ]; then
		bad "test $how: the hanging check (pid $pid) outlived nslab"
	elif [ "$took" -lt 9 ] || [ "$took" -gt 20 ]; then
		bad "test $how: stopped after $took s, not 10"
	else
		ok "test $how: a hanging check stopped after $took s, exit 2: $(cat "$TMP/err")"
	fi
done
finish

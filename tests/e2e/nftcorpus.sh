#!/bin/sh
# SPDX-License-Identifier: MIT
# nftcorpus: every ruleset of tests/ and examples/ (.nft files, and the rules:
# of every suite) is loaded by `nft -c -f` in a private netns and by
# `nslab test --check`, and both must agree: what nft accepts nslab loads
# (unchanged: nslab tries the text as it is first), what nft refuses nslab
# refuses, except NSE's one-liners nft 1.0.6 refuses for a missing ';'
# (compat-*.nft, nse-* suites: nslab loads them rewritten), and what crashes
# nft is an error of nslab with exit 2 (crash-*.nft), never a crash.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env nft unshare

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

n=0 same=0 rewritten=0 crashed=0
for f in "$TMP/corpus"/*.nft; do
	b=$(basename "$f")
	n=$((n + 1))
	$NFT_NS nft -c -f "$f" >/dev/null 2>&1
	nft_rc=$?
	"$NSLAB" test --check "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	err=$(cat "$TMP/err")
	case "$nft_rc:$rc:$b" in
	0:0:*) same=$((same + 1)) ;;
	1:2:*) same=$((same + 1)) ;;
	1:0:*compat-*.nft | 1:0:*nse-*.nft) rewritten=$((rewritten + 1)) ;;
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
ok "$n rulesets: $same alike, $rewritten rewritten (NSE one-liners), $crashed crashes reported"
finish

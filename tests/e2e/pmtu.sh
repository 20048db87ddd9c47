#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-pmtu: per-router `mtu` and `block_icmp_frag_needed` (a PMTU black hole).
# A server sends don't-fragment pings larger than a router's 1280-byte
# downstream: through a plain router it is told "fragmentation needed" /
# "packet too big" with the MTU; through the black hole it hears nothing (the
# packets are still lost), while small pings cross both; status says so.
. "$SRCDIR/tests/e2e/lib.sh"
require_env ping

L=$(new_lab_name pmtu)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  bh: {upstream: isp, mtu: 1280, block_icmp_frag_needed: true}
  plain: {upstream: isp, mtu: 1280}
devices:
  srv: {router: isp}
  d: {router: bh}
  e: {router: plain}
YAML
lab_up lab.yaml "$L"
status_json "$L" st.json
x() { "$NSLAB" exec "$L" "$@"; }
big() { x srv ping "$1" -c1 -W1 -M do -s 1400 "$2" 2>&1; }
for fam in 4 6; do
	D=$(addr st.json d $fam) && E=$(addr st.json e $fam) || fail "no IPv$fam addresses"
	want="Frag needed and DF set (mtu = 1280)"
	[ $fam = 6 ] && want="Packet too big: mtu=1280"
	out=$(big -$fam "$E")
	echo "$out" | grep -qF "$want" && ok "IPv$fam: through plain, srv is told '$want'" ||
		bad "IPv$fam: through plain: $out"
	out=$(big -$fam "$D")
	if echo "$out" | grep -qiE "frag|too big|mtu"; then
		bad "IPv$fam: the black hole let an error through: $out"
	elif echo "$out" | grep -q "100% packet loss"; then
		ok "IPv$fam: through bh, the big ping is lost and srv is told nothing"
	else
		bad "IPv$fam: through bh: $out"
	fi
	x srv ping -$fam -c1 -W2 "$D" >/dev/null && ok "IPv$fam: a small ping crosses bh" ||
		bad "IPv$fam: a small ping to d failed"
done
$PY - st.json <<'PY' && ok "status --json: bh has block_icmp_frag_needed" || bad "status --json: not shown"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(0 if nodes["bh"].get("block_icmp_frag_needed") is True and
         "block_icmp_frag_needed" not in nodes["plain"] else 1)
PY
cat >bad.yaml <<'YAML'
routers:
  r: {block_icmp_frag_needed: maybe}
YAML
if "$NSLAB" up -d --name "$(new_lab_name pmtubad)" bad.yaml >bad.out 2>&1; then
	bad "a bad block_icmp_frag_needed was taken"
else
	grep -q "bad.yaml:2:31:" bad.out && ok "refused with FILE:LINE:COL: $(cat bad.out)" ||
		bad "bad block_icmp_frag_needed: $(cat bad.out)"
fi
finish

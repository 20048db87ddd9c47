#!/bin/sh
# SPDX-License-Identifier: MIT
# reach: every device reaches every other device's public addresses (v4, and v6
# where both ends carry it) and the addresses of devices on a router it shares;
# TCP transfers arrive intact; <node>.<lab>.test and dns: names resolve inside
# nodes while the host's /etc/hosts stays untouched.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env ping nc ss getent timeout sha256sum

PRIVATE_ROUTERS=" home " # routers with pool: private in reach.yaml
L=$(new_lab_name reach)
hosts_before=$(sha256sum </etc/hosts)

lab_up "$E2E/reach.yaml" "$L"
status_json "$L" "$TMP/st.json"

# Every device interface: "node iface router fam addr".
$PY - "$TMP/st.json" >"$TMP/ifaces" <<'EOF'
import json, sys
for n in json.load(open(sys.argv[1]))["nodes"]:
    if n["kind"] != "device":
        continue
    for f in n["ifaces"]:
        for fam in ("4", "6"):
            if "ip" + fam in f:
                print(n["name"], f["name"], f["peer"], fam, f["ip" + fam].split("/")[0])
EOF
devices=$(nodes "$TMP/st.json" device)
[ "$(echo $devices)" = "srv1 srv1b srv2 pc old farm-1 farm-2 multi" ] ||
	fail "status --json lists devices '$(echo $devices)', expected those of reach.yaml"

# targets SRC: the addresses SRC must reach: other devices' public ones, and
# any address on a router SRC is attached to; only families SRC has.
targets() {
	_routers=" $(awk -v s="$1" '$1 == s { print $3 }' "$TMP/ifaces" | sort -u | tr '\n' ' ') "
	_fams=" $(awk -v s="$1" '$1 == s { print $4 }' "$TMP/ifaces" | sort -u | tr '\n' ' ') "
	while read -r node iface router fam a; do
		[ "$node" != "$1" ] || continue
		case "$_fams" in *" $fam "*) ;; *) continue ;; esac
		case "$PRIVATE_ROUTERS" in
		*" $router "*) case "$_routers" in *" $router "*) ;; *) continue ;; esac ;;
		esac
		echo "$node/$iface/v$fam=$a"
	done <"$TMP/ifaces"
}

# One exec per source: ping every target (a second probe only if the first is lost).
pings=0
for src in $devices; do
	list=$(targets "$src")
	[ -n "$list" ] || fail "no targets for $src"
	out=$("$NSLAB" exec "$L" "$src" -- sh -c '
		for t; do
			a=${t#*=}
			if ping -n -q -c 1 -W 3 "$a" >/dev/null 2>&1 ||
				ping -n -q -c 1 -W 3 "$a" >/dev/null 2>&1; then
				echo "OK $t"
			else
				echo "FAIL $t"
			fi
		done' sh $list 2>&1)
	n_ok=$(echo "$out" | grep -c '^OK ')
	pings=$((pings + $(echo "$list" | wc -w)))
	if echo "$out" | grep -q '^FAIL '; then
		for t in $(echo "$out" | sed -n 's/^FAIL //p'); do
			bad "ping from $src to ${t%%=*} (${t#*=}) failed"
		done
	elif [ "$n_ok" -ne "$(echo "$list" | wc -w)" ]; then
		bad "ping from $src: $n_ok replies for $(echo "$list" | wc -w) targets; output: $out"
	else
		ok "$src reaches all $n_ok targets: $(echo "$list" | sed 's/=[^ ]*//g' | tr '\n' ' ')"
	fi
done
log "$pings pings"

# The pairs the issue names, so that a broken target list cannot hide them.
must_pair() { grep -q "^$2/" "$TMP/targets-$1" || bad "internal: $1 -> $2 not among the targets"; }
for src in srv1 farm-1 pc old multi; do targets "$src" >"$TMP/targets-$src"; done
must_pair srv1 srv1b  # same router
must_pair farm-1 farm-2 # count: copies, same router
must_pair srv1 srv2   # another top-level router
must_pair pc srv2     # chained private router -> top-level router
must_pair pc multi    # same private router
must_pair old srv1    # IPv4-only router
must_pair multi farm-1 # multi-homed device
grep -q '^srv2/eth0/v6=' "$TMP/targets-pc" || bad "internal: no IPv6 target pc -> srv2"

# TCP transfers with a checksum: listener's stdout through `nslab exec`.
head -c 4194304 /dev/urandom >"$TMP/payload"
sum=$(sha256sum <"$TMP/payload")

listening() { "$NSLAB" exec "$L" "$1" -- ss -ltnH "sport = :$2" 2>/dev/null | grep -q LISTEN; }

# transfer FAM SERVER CLIENT PORT
transfer() {
	dst=$(addr "$TMP/st.json" "$2" "$1") || fail "no IPv$1 address for $2"
	"$NSLAB" exec "$L" "$2" -- timeout 30 nc "-$1" -d -l "$4" >"$TMP/recv-$4" 2>"$TMP/recv-$4.err" &
	server=$!
	track_pid $server
	if ! wait_until 10 listening "$2" "$4"; then
		bad "TCP v$1: nc -l $4 in $2 never listened"
		return
	fi
	if ! "$NSLAB" exec "$L" "$3" -- timeout 30 nc -N "$dst" "$4" <"$TMP/payload" 2>"$TMP/send-$4.err"; then
		bad "TCP v$1: nc from $3 to $2 [$dst]:$4 failed: $(cat "$TMP/send-$4.err")"
	fi
	wait $server || bad "TCP v$1: the listener in $2 exited with $?: $(cat "$TMP/recv-$4.err")"
	got=$(sha256sum <"$TMP/recv-$4")
	if [ "$got" = "$sum" ]; then
		ok "TCP v$1: 4 MiB from $3 to $2 [$dst] arrived intact"
	else
		bad "TCP v$1: $3 -> $2: $(wc -c <"$TMP/recv-$4") bytes arrived, checksum differs"
	fi
}
transfer 4 srv2 pc 5000   # chained private router -> another top-level router
transfer 6 farm-2 pc 5001 # the same path over IPv6
transfer 4 srv1 old 5002  # IPv4-only router -> top-level router

# Names: <node>.<lab>.test gives the node's address as status --json reports it.
resolve() { # NODE FAM NAME: the first address getent gives inside NODE
	"$NSLAB" exec "$L" "$1" -- getent "ahostsv$2" "$3" 2>/dev/null | awk 'NR == 1 { print $1 }'
}
for n in srv2 pc old farm-1 multi isp1 home; do
	for fam in 4 6; do
		want=$(addr "$TMP/st.json" "$n" $fam) || continue
		got=$(resolve srv1 $fam "$n.$L.test")
		if [ "$got" = "$want" ]; then ok "$n.$L.test resolves to $want (v$fam)"; else
			bad "$n.$L.test resolves to '$got' (v$fam) in srv1, status --json says $want"
		fi
	done
done
want=$(addr "$TMP/st.json" old 6) && bad "old (ip: v4) has an IPv6 address $want"
# (getent ahostsv6 would map IPv4 to ::ffff:*; look at the hosts file itself)
got=$("$NSLAB" exec "$L" pc -- awk -v n="old.$L.test" '$2 == n && $1 ~ /:/' /etc/hosts)
[ -z "$got" ] || bad "old (ip: v4) has an IPv6 entry in the lab's /etc/hosts: $got"

for fam in 4 6; do
	want=$(addr "$TMP/st.json" srv2 $fam)
	# from the IPv4-only node for v4, from a private dual-stack node for v6
	if [ $fam = 4 ]; then got=$(resolve old 4 www.example.test); else
		got=$(resolve pc 6 www.example.test)
	fi
	if [ "$got" = "$want" ]; then ok "dns: www.example.test -> srv2 $want (v$fam)"; else
		bad "dns: www.example.test resolves to '$got' (v$fam), expected srv2's $want"
	fi
done
got=$(resolve farm-1 4 fixed.example.test)
[ "$got" = 192.0.2.55 ] && ok "dns: fixed.example.test -> 192.0.2.55" ||
	bad "dns: fixed.example.test resolves to '$got', expected 192.0.2.55"
"$NSLAB" exec "$L" old -- ping -4 -n -q -c 1 -W 3 www.example.test >/dev/null 2>&1 &&
	ok "ping by name: old -> www.example.test" || bad "ping -4 www.example.test from old failed"
"$NSLAB" exec "$L" pc -- ping -6 -n -q -c 1 -W 3 "srv1.$L.test" >/dev/null 2>&1 &&
	ok "ping by name: pc -> srv1.$L.test (v6)" || bad "ping -6 srv1.$L.test from pc failed"

# Routers on the IX reach each other's IX addresses (through the lab root: IX
# ports are isolated), and a device reaches a router's IX address.
for fam in 4 6; do
	a=$(addr "$TMP/st.json" isp2 $fam) || { bad "no IPv$fam address for isp2"; continue; }
	"$NSLAB" exec "$L" isp1 -- ping -$fam -n -q -c 1 -W 3 "$a" >/dev/null 2>&1 &&
		ok "isp1 reaches isp2's IX address $a" || bad "isp1 cannot reach isp2's IX address $a"
	"$NSLAB" exec "$L" pc -- ping -$fam -n -q -c 1 -W 3 "$a" >/dev/null 2>&1 &&
		ok "pc reaches isp2's IX address $a" || bad "pc cannot reach isp2's IX address $a"
done

# The host never sees the lab's names.
[ "$(sha256sum </etc/hosts)" = "$hosts_before" ] && ! grep -q "$L" /etc/hosts &&
	ok "the host's /etc/hosts is untouched" || bad "the host's /etc/hosts changed"
getent hosts "srv1.$L.test" >/dev/null && bad "srv1.$L.test resolves on the host"

"$NSLAB" down "$L" || bad "nslab down $L failed"
finish

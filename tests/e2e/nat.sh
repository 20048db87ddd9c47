#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e-nat: every NAT preset classified by real STUN clients (Debian's
# stun-client against stund, coturn's turnutils_natdiscovery against
# turnserver, RFC 5780), EIM kept when two devices bind the same port,
# hairpinning between two devices, and UDP hole punching across pairs of
# NATs succeeding or failing as RFC 4787's matrix predicts.
. "$SRCDIR/tests/e2e/lib.sh"
require_env stun stund turnutils_natdiscovery turnserver ip
PUNCH="$SRCDIR/tests/tools/punch.py"

L=$(new_lab_name nat)
cat >lab.yaml <<'YAML'
routers:
  isp: {}
  home: {upstream: isp, nat: home}
  fc: {upstream: isp, nat: full-cone}
  rc: {upstream: isp, nat: restricted-cone}
  corp: {upstream: isp, nat: corporate}
  cloud: {upstream: isp, nat: cloud-nat}
  cg: {upstream: isp, nat: cgnat}
  cghome: {upstream: cg, nat: home}
devices:
  srv: {router: isp}
  home-d: {router: home}
  home-e: {router: home}
  fc-d: {router: fc}
  rc-d: {router: rc}
  corp-d: {router: corp}
  cloud-d: {router: cloud}
  cg-d: {router: cg}
  cghome-d: {router: cghome}
YAML
lab_up lab.yaml "$L"
status_json "$L" st.json
SRV=$(addr st.json srv 4) || fail "no IPv4 address for srv"
# the second address STUN's change-address tests need, in the same /24
ALT=${SRV%.*}.200
ext() { addr st.json "$1" 4; }

x() { "$NSLAB" exec "$L" "$@"; }
x srv ip addr add "$ALT/24" dev eth0 || fail "add $ALT to srv"
x srv sh -c "stund -h $SRV -a $ALT >/dev/null 2>&1 &
	turnserver -n -L $SRV -L $ALT --listening-port 3480 --no-tls --no-dtls --no-cli \
		-r lab --log-file stdout >/dev/null 2>&1 &
	python3 $PUNCH server 7000 >/dev/null 2>&1 &
	python3 $PUNCH echo $SRV 7001 >/dev/null 2>&1 &
	python3 $PUNCH echo $ALT 7001 >/dev/null 2>&1 &" || fail "start the servers on srv"

# the public device reaches both servers (no NAT on the way): wait for them
stun_up() { x srv stun "$SRV" 2>&1 | grep -q "Open"; }
wait_until 10 stun_up || fail "stund does not answer on $SRV"
turn_up() { x home-d turnutils_natdiscovery -m -p 3480 "$SRV" 2>&1 | grep -q "Mapping"; }
wait_until 10 turn_up || fail "turnserver does not answer on $SRV:3480"

# ICMP goes through the NAT too (translated to the router's address)
x home-d ping -c 1 -W 2 "$SRV" >/dev/null 2>&1 && ok "ping from behind home and cghome" ||
	bad "home-d cannot ping $SRV"
x cghome-d ping -c 1 -W 2 "$SRV" >/dev/null 2>&1 || bad "cghome-d cannot ping $SRV"
# nothing from outside reaches a private address (no route into a NAT)
HOME_D=$(addr st.json home-d 4)
x srv ping -c 1 -W 1 "$HOME_D" >/dev/null 2>&1 && bad "srv reached $HOME_D behind the NAT" ||
	ok "srv cannot reach $HOME_D behind the NAT"

# stun-client's verdict line for each preset
classify() {
	_got=$(x "$1" stun "$SRV" -v 2>&1 | grep "Primary:" | sed 's/^Primary: //; s/[[:space:]]*$//')
	if [ "$_got" = "$2" ]; then
		ok "stun: $1: $_got"
	else
		bad "stun: $1: got '$_got', want '$2'"
	fi
}
classify home-d "Independent Mapping, Port Dependent Filter, preserves ports, no hairpin"
classify fc-d "Independent Mapping, Independent Filter, preserves ports, no hairpin"
classify rc-d "Independent Mapping, Address Dependent Filter, preserves ports, no hairpin"
classify corp-d "Dependent Mapping, preserves ports, no hairpin"
classify cloud-d "Dependent Mapping, preserves ports, no hairpin"
classify cg-d "Independent Mapping, Address Dependent Filter, preserves ports, no hairpin"
classify cghome-d "Independent Mapping, Port Dependent Filter, preserves ports, no hairpin"

# RFC 5780: turnutils_natdiscovery's mapping (-m) and filtering (-f) verdicts
discover() {
	_got=$(x "$1" turnutils_natdiscovery "$2" -p 3480 "$SRV" 2>&1 | grep "^NAT with")
	if [ "$_got" = "$3" ]; then
		ok "natdiscovery $2: $1: $_got"
	else
		bad "natdiscovery $2: $1: got '$_got', want '$3'"
	fi
}
EIM="NAT with Endpoint Independent Mapping!"
EDM="NAT with Address and Port Dependent Mapping!"
discover home-d -m "$EIM"
discover home-d -f "NAT with Address and Port Dependent Filtering!"
discover fc-d -m "$EIM"
discover fc-d -f "NAT with Endpoint Independent Filtering!"
discover rc-d -m "$EIM"
discover rc-d -f "NAT with Address Dependent Filtering!"
discover corp-d -m "$EDM"
discover cloud-d -m "$EDM"
discover cg-d -m "$EIM"
discover cg-d -f "NAT with Address Dependent Filtering!"

# EIM with two devices on one port: the first keeps it, the second gets
# another, and each keeps its own towards both server addresses
whoami() { x "$1" python3 "$PUNCH" whoami "$2" 7001 6200; }
D1=$(whoami home-d "$SRV")
E1=$(whoami home-e "$SRV")
D2=$(whoami home-d "$ALT")
E2=$(whoami home-e "$ALT")
HOME_EXT=$(ext home)
if [ "$D1" = "$HOME_EXT:6200" ] && [ "$D2" = "$D1" ]; then
	ok "EIM: home-d keeps port 6200 towards both addresses ($D1, $D2)"
else
	bad "EIM: home-d is seen as $D1 and $D2, want $HOME_EXT:6200 both times"
fi
if [ "${E1%:*}" = "$HOME_EXT" ] && [ "$E1" != "$D1" ] && [ "$E2" = "$E1" ]; then
	ok "EIM: home-e, same port, gets one other mapping for both ($E1, $E2)"
else
	bad "EIM: home-e is seen as $E1 and $E2: want one mapping other than $D1"
fi

# hairpinning between two devices: cg-d's mapping reached from behind cghome
# (both behind the cgnat, which hairpins); the source seen is cghome's mapping
hairpin() {
	x cg-d python3 - "$SRV" <<'PY'
import socket, sys
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(("0.0.0.0", 6300))
a.settimeout(0.2)
mapped = False
for _ in range(50):
    if not mapped:
        a.sendto(b"?", (sys.argv[1], 7001))
    try:
        data, src = a.recvfrom(512)
    except socket.timeout:
        continue
    if data.startswith(b"SEEN") and not mapped:
        mapped = True
        print("mapped", flush=True)
    if data.startswith(b"HAIRPIN"):
        print("%s:%d" % src)
        sys.exit(0)
sys.exit(1)
PY
}
hairpin >hairpin.out 2>&1 &
HP=$!
CG_EXT=$(ext cg)
hp_mapped() { grep -q mapped hairpin.out; }
wait_until 10 hp_mapped || bad "hairpin: cg-d made no mapping: $(cat hairpin.out)"
x cghome-d python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 6301))
for _ in range(40):
    s.sendto(b'HAIRPIN', ('$CG_EXT', 6300)); time.sleep(0.1)" &
HS=$!
wait "$HP"
HPRC=$?
wait "$HS"
HPSRC=$(sed -n 2p hairpin.out)
if [ "$HPRC" = 0 ] && [ "$HPSRC" = "$CG_EXT:6301" ]; then
	ok "hairpin: cghome-d reached cg-d through $CG_EXT:6300, seen as $HPSRC"
else
	bad "hairpin: cg-d got '$(cat hairpin.out)', want a packet from $CG_EXT:6301"
fi

# hole punching: both peers at once through the rendezvous on srv
NEXT=6400
punch() {
	_a=$NEXT
	_b=$((NEXT + 1))
	NEXT=$((NEXT + 2))
	x "$1" python3 "$PUNCH" peer "$SRV" 7000 "$_a:a" "$_a" >"p-$1-$2.a" 2>&1 &
	_pa=$!
	x "$2" python3 "$PUNCH" peer "$SRV" 7000 "$_a:b" "$_b" >"p-$1-$2.b" 2>&1
	_rb=$?
	wait "$_pa"
	_ra=$?
	if [ "$3" = succeed ] && [ "$_ra" = 0 ] && [ "$_rb" = 0 ]; then
		ok "punch $1 x $2 succeeds: $(tr '\n' ' ' <"p-$1-$2.a")"
	elif [ "$3" = fail ] && [ "$_ra" = 1 ] && [ "$_rb" = 1 ]; then
		ok "punch $1 x $2 fails, as it should: $(tr '\n' ' ' <"p-$1-$2.a")"
	else
		bad "punch $1 x $2: want $3, got $_ra/$_rb: $(cat "p-$1-$2.a" "p-$1-$2.b" | tr '\n' ' ')"
	fi
}
punch home-d fc-d succeed        # EIM x EIM
punch home-d cghome-d succeed    # EIM x EIM behind a carrier NAT
punch rc-d cg-d succeed          # EIM x EIM
punch corp-d cloud-d fail        # EDM x EDM
punch home-d corp-d fail         # EIM/APDF x EDM: the new port is filtered
punch rc-d corp-d succeed        # EIM/ADF x EDM: the new port comes from a known address
punch home-d home-e fail         # one NAT without hairpinning
finish

#!/bin/sh
# Install what nslab needs to build, test and demo, from Debian 12's archive.
# Quiet when everything is present; only root can install.
set -eu
PKGS="meson ninja-build pkg-config gcc clang clang-format libclang-rt-14-dev libmnl-dev libfyaml-dev
libcmocka-dev libseccomp-dev libcap-dev libnftables-dev libnftnl-dev libpcap-dev libnetfilter-conntrack-dev scdoc iproute2 iputils-ping iperf3 netcat-openbsd util-linux procps
python3 nftables libxml2-utils perl passt libldns-dev dnsmasq dnsutils curl stun-client stun-server coturn openssl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "nslab: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "nslab: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# Install what nslab needs to build, test and demo, from Debian 12's archive.
# Quiet when everything is present; only root can install.
set -eu
PKGS="meson ninja-build pkg-config gcc clang clang-format libclang-rt-14-dev libmnl-dev libfyaml-dev
libcmocka-dev libseccomp-dev libcap-dev musl-tools libnftables-dev libnftnl-dev libpcap-dev libnetfilter-conntrack-dev libmicrohttpd-dev libssl-dev scdoc iproute2 iputils-ping iperf3 netcat-openbsd util-linux procps strace
python3 python3-pytest python3-jsonschema python3-setuptools python3-pip python3-wheel python3-mypy nftables libxml2-utils perl passt libldns-dev dnsmasq dnsutils curl stun-client stun-server coturn tshark openssl
chromium firefox-esr"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The web UI is built with node and npm (any source: Debian's nodejs and npm
# unless a node is already there, which may bundle its own npm).
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "nslab: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "nslab: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Print the Router Advertisements that arrive, as the wire carries them.

  ndwatch.py SECONDS    for up to SECONDS, print one line per RA:
                        "ra from SRC to DST hoplimit H lifetime L prefix P/LEN flags F"
                        (DST: ff02::1 or a unicast answer to a solicitation;
                        the IPv6 hop limit it came with, its router lifetime,
                        each prefix option); "ready" first, once listening
"""
import ipaddress
import socket
import struct
import sys
import time


def main(secs):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    end = time.monotonic() + secs
    print("ready", flush=True)
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, anc, _, src = s.recvmsg(2048, socket.CMSG_SPACE(4) + socket.CMSG_SPACE(20))
        except socket.timeout:
            break
        if not data or data[0] != 134:
            continue
        hops = next((struct.unpack("i", d)[0] for lvl, typ, d in anc
                     if typ == socket.IPV6_HOPLIMIT), -1)
        dst = next((str(ipaddress.IPv6Address(d[:16])) for lvl, typ, d in anc
                    if typ == socket.IPV6_PKTINFO), "?")
        lifetime = struct.unpack("!H", data[6:8])[0]
        opts, prefixes = data[16:], []
        while len(opts) >= 8 and opts[1]:
            kind, size = opts[0], opts[1] * 8
            if kind == 3 and size == 32:
                net = ipaddress.IPv6Address(opts[16:32])
                prefixes.append("%s/%d flags %02x" % (net, opts[2], opts[3]))
            opts = opts[size:]
        for p in prefixes or ["none"]:
            print("ra from %s to %s hoplimit %d lifetime %d prefix %s" %
                  (src[0].split("%")[0], dst, hops, lifetime, p), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1])) if len(sys.argv) == 2 else 2)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""TCP and UDP reachability, for firewall tests.

  probe.py serve PORT...            on every PORT, TCP and UDP, IPv4 and IPv6:
                                    answer "OK ADDR" to each connection/datagram
                                    (ADDR: the source address seen), forever
  probe.py try tcp|udp HOST PORT [SECONDS]
                                    exit 0 once HOST:PORT answered, printing the
                                    ADDR it saw; 1 if it did not within SECONDS
                                    (1.5): UDP resends every 0.1 s, TCP retries
"""
import select
import socket
import sys
import time


def seen(src):
    addr = src[0]
    return (addr[7:] if addr.startswith("::ffff:") else addr).encode()


def answered(data):
    if not data.startswith(b"OK "):
        return False
    print(data[3:].decode(), flush=True)
    return True


def serve(ports):
    socks = []
    for port in ports:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET6, kind)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port))
            if kind == socket.SOCK_STREAM:
                s.listen(64)
            socks.append(s)
    print("serving", flush=True)
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            if s.type == socket.SOCK_STREAM:
                c, src = s.accept()
                c.sendall(b"OK " + seen(src))
                c.close()
            else:
                _, src = s.recvfrom(512)
                s.sendto(b"OK " + seen(src), src)


def try_udp(host, port, deadline):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.1)
    while time.monotonic() < deadline:
        s.sendto(b"?", (host, port))
        try:
            if answered(s.recv(128)):
                return 0
        except (socket.timeout, ConnectionRefusedError):
            pass
    return 1


def try_tcp(host, port, deadline):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            s.connect((host, port))
            if answered(s.recv(128)):
                return 0
        except (socket.timeout, OSError):
            time.sleep(0.05)
        finally:
            s.close()
    return 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "serve":
        serve([int(p) for p in argv[2:]])
    if len(argv) in (5, 6) and argv[1] == "try" and argv[2] in ("tcp", "udp"):
        secs = float(argv[5]) if len(argv) == 6 else 1.5
        fn = try_tcp if argv[2] == "tcp" else try_udp
        return fn(argv[3], int(argv[4]), time.monotonic() + secs)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

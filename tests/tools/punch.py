#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""UDP hole punching between two peers behind NATs, through a rendezvous.

  punch.py server PORT              answer pairs of registrations, forever
  punch.py echo ADDR PORT           answer each datagram with "SEEN A:P", the
                                    address:port it came from, forever
  punch.py whoami HOST PORT LPORT   from local port LPORT, print the address:port
                                    an echo server at HOST:PORT sees
  punch.py listen HOST PORT LPORT TRIGGER
                                    from LPORT, make a mapping through the echo
                                    server at HOST:PORT ("mapped A:P"), print
                                    "got X" for every other datagram X, make
                                    the mapping again ("again N") once the file
                                    TRIGGER.N appears (N = 1, 2...), end on "end"
                                    or after 60 s
  punch.py send HOST PORT LPORT X   send datagram X from LPORT to HOST:PORT
  punch.py peer HOST PORT NAME LPORT [SECONDS]
                                    register from local port LPORT, learn the
                                    other peer's address as the server saw it,
                                    then punch: send to it every 50 ms and
                                    succeed (exit 0) once the other peer's
                                    packet arrives (from that address or a
                                    new one), fail (exit 1) after SECONDS (4)

The rendezvous pairs peers named PAIR:ROLE by PAIR, each told the other's
observed address:port (a registration repeated after its pair formed gets its
answer again, never a new pair); names without ':' pair by arrival. Each peer prints what
it saw ("mapped A:P peer B:Q", then "punched from B:Q" or "no packet").
"""
import os
import socket
import sys
import time


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    waiting = {}  # pair -> the address of its first registration
    paired = {}  # pair -> both addresses, to answer a registration repeated in flight
    while True:
        data, addr = s.recvfrom(512)
        if not data.startswith(b"REG "):
            continue
        name = data[4:].decode(errors="replace")
        pair = name.split(":", 1)[0] if ":" in name else ""
        if pair in paired and addr in paired[pair]:
            a, b = paired[pair]
            if addr == a:
                tell(s, a, b)
            else:
                tell(s, b, a)
            continue
        if pair not in waiting or waiting[pair] == addr:
            waiting[pair] = addr
            continue
        a, b = waiting.pop(pair), addr
        if pair:
            paired[pair] = (a, b)
        tell(s, a, b)
        tell(s, b, a)


def tell(s, me, other):
    msg = "PEER %s %d %s %d" % (me[0], me[1], other[0], other[1])
    s.sendto(msg.encode(), me)


def echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, src = s.recvfrom(512)
        s.sendto(("SEEN %s:%d" % src).encode(), src)


def whoami(host, port, lport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", lport))
    s.settimeout(0.2)
    for _ in range(25):
        s.sendto(b"?", (host, port))
        try:
            data, addr = s.recvfrom(512)
        except socket.timeout:
            continue
        if addr == (host, port) and data.startswith(b"SEEN "):
            print(data[5:].decode())
            return 0
    print("no answer")
    return 1


def listen(host, port, lport, trigger):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", lport))
    s.settimeout(0.05)
    n = 0
    seen = -1  # the last stage the echo answered
    last = 0.0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists("%s.%d" % (trigger, n + 1)):
            n += 1
            last = 0.0
        # ask until the echo answers (it may not be up yet)
        if seen < n and time.monotonic() - last > 0.5:
            s.sendto(b"?", (host, port))
            last = time.monotonic()
        try:
            data, addr = s.recvfrom(512)
        except socket.timeout:
            continue
        if data.startswith(b"SEEN "):
            if seen < n:
                seen = n
                print("%s %s" % ("mapped" if n == 0 else "again %d" % n, data[5:].decode()),
                      flush=True)
        elif data == b"end":
            return 0
        else:
            print("got %s" % data.decode(errors="replace"), flush=True)
    return 1


def send(host, port, lport, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", lport))
    s.sendto(payload.encode(), (host, port))
    return 0


def peer(host, port, name, lport, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", lport))
    s.settimeout(0.2)
    deadline = time.monotonic() + 10
    other = None
    while other is None:
        if time.monotonic() > deadline:
            print("no answer from the rendezvous")
            return 2
        s.sendto(b"REG " + name.encode(), (host, port))
        try:
            data, addr = s.recvfrom(512)
        except socket.timeout:
            continue
        f = data.decode().split()
        if addr == (host, port) and len(f) == 5 and f[0] == "PEER":
            print("mapped %s:%s peer %s:%s" % (f[1], f[2], f[3], f[4]), flush=True)
            other = (f[3], int(f[4]))
    s.settimeout(0.05)
    deadline = time.monotonic() + seconds
    got = None
    while time.monotonic() < deadline:
        s.sendto(b"PUNCH " + name.encode(), other)
        try:
            data, addr = s.recvfrom(512)
        except socket.timeout:
            continue
        # from any address: a NAT in front of the other peer may have given
        # it a new port towards us (a peer-reflexive candidate, as ICE says)
        if data.startswith(b"PUNCH ") and data[6:] != name.encode():
            got = addr
            # keep answering a little, there too, so that the other side sees us
            for _ in range(10):
                s.sendto(b"PUNCH " + name.encode(), addr)
                time.sleep(0.02)
            break
    if got:
        print("punched from %s:%d" % got)
        return 0
    print("no packet")
    return 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "server":
        server(int(sys.argv[2]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "whoami":
        return whoami(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if len(sys.argv) == 6 and sys.argv[1] == "listen":
        return listen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    if len(sys.argv) == 6 and sys.argv[1] == "send":
        return send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    if len(sys.argv) in (6, 7) and sys.argv[1] == "peer":
        secs = float(sys.argv[6]) if len(sys.argv) == 7 else 4.0
        return peer(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), secs)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

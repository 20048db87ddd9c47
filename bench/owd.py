#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench/owd.py: one-way delay of UDP datagrams between two namespaces of one
# host (one clock), to the microsecond: ping prints a 20 ms RTT to 0.1 ms only.
#   owd.py recv PORT N      waits for N datagrams (or 3 s of silence), prints
#                           "median p99 max count" of the one-way delays in us
#   owd.py send HOST PORT N INTERVAL_S
# The sender stamps each datagram with CLOCK_REALTIME just before sendto(); the
# receiver takes the kernel's receive stamp (SO_TIMESTAMPNS, the same clock), so
# neither side's wakeup after the frame arrived is counted.
import socket, struct, sys, time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def recv(port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(("0.0.0.0", port))
    s.settimeout(3)
    print("ready", flush=True)
    d = []
    try:
        while len(d) < n:
            data, anc, _, _ = s.recvmsg(64, 64)
            for lvl, typ, val in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", val[:16])
                    d.append((sec * 10**9 + nsec - struct.unpack("q", data[:8])[0]) / 1000)
    except socket.timeout:
        pass
    d.sort()
    if not d:
        print("0 0 0 0")
        return
    print("%.1f %.1f %.1f %d" % (d[len(d) // 2], d[max(0, int(len(d) * 0.99) - 1)], d[-1], len(d)))


def send(host, port, n, gap):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    nxt = time.monotonic()
    for _ in range(n):
        nxt += gap
        time.sleep(max(0, nxt - time.monotonic()))
        s.send(struct.pack("q", time.time_ns()) + b"x" * 56)


if sys.argv[1] == "recv":
    recv(int(sys.argv[2]), int(sys.argv[3]))
else:
    send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))

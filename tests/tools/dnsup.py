#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A DNS server for tests that knows one name (e2e-dns's dns_upstream).

  dnsup.py ADDR NAME A     on UDP ADDR:53: an A record A (TTL 0) for NAME,
                           REFUSED for anything else; prints "serving" once bound

Only as much DNS as the test needs: one question, copied back; the answer
section is a pointer to it.
"""
import socket
import struct
import sys


def question_end(msg):
    i = 12
    while msg[i]:
        i += msg[i] + 1
    return i + 5  # the root's 0, QTYPE, QCLASS


def qname(msg):
    labels, i = [], 12
    while msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace").lower())
        i += msg[i] + 1
    return ".".join(labels)


def main():
    addr, name, a = sys.argv[1], sys.argv[2].lower(), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    print("serving", flush=True)
    while True:
        msg, peer = s.recvfrom(1500)
        if len(msg) < 17 or struct.unpack(">H", msg[4:6])[0] != 1:
            continue
        end = question_end(msg)
        qtype = struct.unpack(">H", msg[end - 4:end - 2])[0]
        hit = qname(msg) == name
        flags = 0x8180 if hit else 0x8185  # QR RD RA, rcode 0 or 5 (REFUSED)
        n_an = 1 if hit and qtype == 1 else 0
        out = msg[:2] + struct.pack(">HHHHH", flags, 1, n_an, 0, 0) + msg[12:end]
        if n_an:
            out += struct.pack(">HHHIH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton(a)
        s.sendto(out, peer)


main()

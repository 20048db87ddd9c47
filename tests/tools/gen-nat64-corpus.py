#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpus of tests/fuzz/fuzz-nat64.c (record layout in that file):
#   python3 tests/tools/gen-nat64-corpus.py tests/fuzz/corpus/nat64
import struct, sys, os
out = sys.argv[1]
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
H6 = bytes.fromhex('20010db8000000000000000000000010')
def w6(a4): return bytes.fromhex('0064ff9b0000000000000000') + bytes(a4)
SRV = bytes([198,51,100,7]); POOL = bytes([203,0,113,1]); RTR = bytes([192,0,2,9])
def ip6(src, dst, nh, l4, hop=64):
    if nh in (6, 17, 58):
        ph = src + dst + struct.pack('!I3xB', len(l4), nh)
        off = {6:16, 17:6, 58:2}[nh]
        l4 = l4[:off] + b'\0\0' + l4[off+2:]
        c = csum(ph + l4)
        l4 = l4[:off] + struct.pack('!H', c) + l4[off+2:]
    return struct.pack('!IHBB', 6 << 28, len(l4), nh, hop) + src + dst + l4
def ip4(src, dst, proto, l4, df=False, ttl=64, fixl4=True):
    if fixl4:
        off = {6:16, 17:6, 1:2}[proto]
        l4 = l4[:off] + b'\0\0' + l4[off+2:]
        ph = b'' if proto == 1 else src + dst + struct.pack('!BBH', 0, proto, len(l4))
        l4 = l4[:off] + struct.pack('!H', csum(ph + l4)) + l4[off+2:]
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 1, 0x4000 if df else 0, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + l4
def udp(sp, dp, pl): return struct.pack('!HHHH', sp, dp, 8 + len(pl), 0) + pl
def tcp(sp, dp, flags, seq=1, ack=0): return struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 0x50, flags, 64240, 0, 0)
def icmp(t, c, rest, pl): return struct.pack('!BBH', t, c, 0) + rest + pl
def rec(pkt, dt=0): return struct.pack('!HB', len(pkt), dt) + pkt
def seed(name, cfg, recs):
    open(os.path.join(out, name), 'wb').write(bytes([cfg]) + b''.join(recs))
u6 = ip6(H6, w6(SRV), 17, udp(5000, 53, b'query'))
u4 = ip4(SRV, POOL, 17, udp(53, 1024, b'answer'))
sent4 = ip4(POOL, SRV, 17, udp(1024, 53, b'query'))
seed('udp-roundtrip-expiry', 0x3f, [rec(u6), rec(u4), rec(ip4(SRV, POOL, 1, icmp(3, 3, b'\0'*4, sent4))),
     rec(ip4(RTR, POOL, 1, icmp(11, 0, b'\0'*4, sent4))), rec(ip4(RTR, POOL, 1, icmp(3, 4, struct.pack('!HH', 0, 1400), sent4))),
     rec(u4, 255), rec(b'', 255), rec(u4, 255)])
e6 = ip6(H6, w6(SRV), 58, icmp(128, 0, struct.pack('!HH', 77, 1), b'ping'))
e4 = ip4(SRV, POOL, 1, icmp(0, 0, struct.pack('!HH', 1024, 1), b'ping'))
es4 = ip4(POOL, SRV, 1, icmp(8, 0, struct.pack('!HH', 1024, 1), b'ping'))
seed('echo-and-time-exceeded', 0x3f, [rec(e6), rec(e4), rec(ip4(RTR, POOL, 1, icmp(11, 0, b'\0'*4, es4)))])
seed('tcp', 0x3f, [rec(ip6(H6, w6(SRV), 6, tcp(40000, 80, 0x02))), rec(ip4(SRV, POOL, 6, tcp(80, 1024, 0x12, 9, 2))),
     rec(ip4(SRV, POOL, 6, tcp(80, 1024, 0x10, 10, 2))), rec(ip6(H6, w6(SRV), 6, tcp(40000, 80, 0x11, 2, 10)))])
seed('frag-df-clear', 0x3f, [rec(u6), rec(ip4(SRV, POOL, 17, udp(53, 1024, b'x' * 1472)))])
seed('frag-df-set', 0x3f, [rec(u6), rec(ip4(SRV, POOL, 17, udp(53, 1024, b'x' * 1472), df=True))])
seed('evict', 0x00, [rec(ip6(H6, w6(SRV), 17, udp(5000 + i, 53, b'q'))) for i in range(10)] + [rec(u4)])
r6 = ip6(w6(SRV), H6, 17, udp(53, 5000, b'answer'))
seed('error6-to4', 0x3f, [rec(u6), rec(ip6(H6, w6(SRV), 58, icmp(1, 4, b'\0'*4, r6))),
     rec(ip6(H6, w6(SRV), 58, icmp(2, 0, struct.pack('!I', 1400), r6))), rec(ip6(H6, w6(SRV), 58, icmp(4, 0, struct.pack('!I', 7), r6)))])
seed('empty', 0x00, [rec(b''), rec(b'\x60'), rec(b'\x45')])
# regressions found by libFuzzer: a UDP length field past the datagram, a TCP data offset past the segment
bad_udp = ip6(H6, w6(SRV), 17, struct.pack('!HHHH', 5000, 53, 255, 0) + b'hello')
bad_tcp = ip6(H6, w6(SRV), 6, struct.pack('!HHIIBBHHH', 40000, 80, 1, 0, 0xf0, 0x02, 64240, 0, 0))
seed('bad-l4-lengths', 0x3f, [rec(bad_udp), rec(bad_tcp), rec(ip4(SRV, POOL, 17, struct.pack('!HHHH', 53, 1024, 255, 0) + b'x', fixl4=False))])

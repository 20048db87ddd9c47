# SPDX-License-Identifier: MIT
# A raw client of nslab's control protocol (docs/control-socket.md), written
# from the document, for tests that must send what nslab's own client never
# would. Usage: ctlclient.py LAB SCENARIO; prints one line per reply.
import os
import socket
import struct
import sys

MAGIC, REPLY = 0x4E534C42, 0x100
HELLO, STATUS, TABLE, EXEC, SPAWNED, EXITED, DOWN = range(16, 23)
A_VERSION, A_MESSAGE, A_LAB, A_PID, A_ROOTLESS, A_NODES, A_BUILT_AT, A_OUTDIR, A_NODE = range(1, 10)


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * (-n % 4)


def msg(op, attrs=b"", seq=1, version=1, magic=MAGIC):
    body = struct.pack("=IHHi", magic, version, 0, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), op, 0, seq, 0) + body


def parse(data):
    if not data:
        return "hangup"
    n, op, flags, seq, _ = struct.unpack_from("=IHHII", data)
    _, _, _, error = struct.unpack_from("=IHHi", data, 16)
    attrs, off = {}, 28
    while off + 4 <= n:
        alen, t = struct.unpack_from("=HH", data, off)
        attrs[t] = data[off + 4:off + alen]
        off += (alen + 3) & ~3
    text = attrs.get(A_MESSAGE, b"").rstrip(b"\0").decode()
    return "reply op=%d seq=%d error=%d %s" % (op, seq, error, text)


def connect(lab):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(b"\0nslab/%d/%s" % (int(os.environ.get("NSLAB_UID", os.getuid())), lab.encode()))
    return s


def ask(s, data, fds=()):
    """Send a request and print its reply; "hangup" if the supervisor closed the connection."""
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds), *fds))]
    try:
        s.sendmsg([data], rights if fds else [])
        print(parse(s.recv(8192)))
    except (BrokenPipeError, ConnectionResetError):
        print("hangup")


def main():
    lab, scenario = sys.argv[1], sys.argv[2]
    s = connect(lab)
    hello = msg(HELLO, attr(A_VERSION, struct.pack("=I", 1)))
    if scenario == "exec-first":
        ask(s, msg(EXEC, attr(A_NODE, b"laptop\0")))
    elif scenario == "hello":
        ask(s, hello)
    elif scenario == "hello-with-fds":
        r, w = os.pipe()
        ask(s, hello, (r, w))
    elif scenario == "bad-magic":
        ask(s, msg(HELLO, magic=0x12345678))
    elif scenario == "two-requests":
        ask(s, hello)
        ask(s, msg(STATUS, seq=2))
        ask(s, msg(HELLO, attr(A_VERSION, struct.pack("=I", 1)), seq=3))
    elif scenario == "exited-before-exec":
        ask(s, hello)
        s.send(msg(EXITED, attr(11, struct.pack("=I", 0)), seq=2))
        ask(s, msg(STATUS, seq=3))


main()

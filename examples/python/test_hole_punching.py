# SPDX-License-Identifier: MIT
"""UDP hole punching across real NATs: endpoint-independent mapping lets two
peers behind home routers reach each other through a rendezvous; behind
endpoint-dependent ("symmetric") corporate NATs it cannot work.

    pytest examples/python/test_hole_punching.py   (root, or rootless)
"""
import subprocess
import sys
import textwrap

import pytest

# The rendezvous tells each of two registrations the other's address as seen
# from outside; each peer then sends to that address until the other's
# datagram arrives ("punched") or time runs out.
PUNCH = textwrap.dedent("""\
    import socket, sys, time
    if sys.argv[1] == "server":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 7000))
        print("ready", flush=True)
        while True:
            _, a = s.recvfrom(64)
            _, b = s.recvfrom(64)
            s.sendto(f"{b[0]}:{b[1]}".encode(), a)
            s.sendto(f"{a[0]}:{a[1]}".encode(), b)
    server, lport = sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", lport))
    s.settimeout(5)
    s.sendto(b"register", (server, 7000))
    host, port = s.recvfrom(64)[0].decode().split(":")
    s.settimeout(0.05)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        s.sendto(b"hello", (host, int(port)))
        try:
            data, src = s.recvfrom(64)
        except socket.timeout:
            continue
        if data == b"hello":
            s.sendto(b"hello", (host, int(port)))  # let the other side see one too
            print("punched", src[0], flush=True)
            sys.exit(0)
    print("no packet", flush=True)
    sys.exit(1)
    """)


def nat_lab(lab):
    lab.add_router("isp").add_device("rendezvous", router="isp")
    for name, nat in (("home1", "home"), ("home2", "home"), ("corp1", "corporate"),
                      ("corp2", "corporate")):
        lab.add_router(name, upstream="isp", nat=nat).add_device(name + "-pc", router=name)


def punch(lab, script, a, b):
    server = lab.node("rendezvous").ip
    peers = [lab.popen(n, [sys.executable, script, "peer", server, "40000"],
                       stdout=subprocess.PIPE, text=True) for n in (a, b)]
    outs = [p.communicate(timeout=15)[0].strip() for p in peers]
    return [p.returncode for p in peers], outs


@pytest.mark.nslab_lab(build=nat_lab, name="punch")
def test_hole_punching(nslab_lab, tmp_path):
    script = tmp_path / "punch.py"
    script.write_text(PUNCH)
    srv = nslab_lab.popen("rendezvous", [sys.executable, str(script), "server"],
                          stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline() == "ready\n"

    codes, outs = punch(nslab_lab, str(script), "home1-pc", "home2-pc")
    assert codes == [0, 0], f"EIM x EIM must punch: {outs}"
    # each peer saw the other's router, not its private address
    assert outs[0].split()[1] == nslab_lab.node("home2").ip

    codes, outs = punch(nslab_lab, str(script), "corp1-pc", "corp2-pc")
    assert codes == [1, 1], f"EDM x EDM must not punch: {outs}"
    srv.kill()

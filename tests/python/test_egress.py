# SPDX-License-Identifier: MIT
"""Sandbox.set_egress(): the policy checked at the door, the jail's network and
resolver as `nslab run --allow` makes them (root), refused plainly rootless."""
import errno
import os
import subprocess
import sys
import textwrap

import pytest

from nslab import NslabError, Sandbox

CHILD = textwrap.dedent("""\
    from nslab import Sandbox
    sb = Sandbox().set_egress(["192.0.2.99", "x.test:443/tcp"])
    for _ in range(2):  # a second run binds the same resolv.conf again
        res = sb.exec("cat /etc/resolv.conf /proc/net/route", capture_output=True, text=True)
        print(res.exit_code)
        print(res.stdout, end="")
    sb.close()
    """)


def _host_root() -> bool:
    with open("/proc/self/uid_map") as f:
        return os.geteuid() == 0 and f.read().split() == ["0", "0", "4294967295"]


def test_bad_entry_is_named():
    with pytest.raises(NslabError) as ei:
        Sandbox().set_egress("x.test,a..b")
    assert ei.value.errno == errno.EINVAL
    assert "'a..b': not a host name" in str(ei.value)


def test_jail_network_and_resolver(tmp_path):
    if not _host_root():
        # rootless: pasta's tap is not there for a user namespace (docs/egress.md)
        before = os.fstat(0)
        with pytest.raises(NslabError) as ei:
            Sandbox().set_egress("192.0.2.99").exec(["true"])
        msg = str(ei.value)
        assert "/dev/net/tun" in msg or "user namespace" in msg or "not implemented" in msg
        after = os.fstat(0)  # a refused start once closed the caller's fd 0
        assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
        return
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    # the egress gateway's uplink copies an interface of its namespace: a private
    # one with a template veth (as tests/integration/test-egress.c), never the host's
    setup = ("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d1 up && "
             "ip addr add 192.0.2.10/24 dev d0 && ip link set d0 up && "
             "ip route add default via 192.0.2.1 && exec \"$0\" \"$1\"")
    r = subprocess.run(["unshare", "-n", "sh", "-c", setup, sys.executable, str(script)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out.count("0") == 2, r.stdout
    assert out.count("nameserver 169.254.53.1") == 2, r.stdout
    routes = [ln.split() for ln in out if ln and ln.split()[0] not in ("0", "nameserver",
                                                                    "options", "Iface")]
    assert any(r[1] == "00000000" for r in routes), r.stdout  # a default route in the jail


ASK_CHILD = textwrap.dedent("""\
    import socket, sys, threading
    from nslab import Sandbox
    srv = socket.create_server(("127.0.0.1", 18080))
    def serve():
        c, _ = srv.accept()
        c.sendall(b"from-the-host")
        c.close()
    threading.Thread(target=serve, daemon=True).start()
    asked = []
    def ask(q):
        asked.append((q.name, q.type))
        return "allow" if q.name == "yes.test" else "deny"
    cap = open(sys.argv[1], "wb")
    sb = Sandbox().set_egress("192.0.2.99", ask=ask, capture=cap, host_ports="18080")
    cmd = ("getent hosts no.test; echo no=$?; "
           "python3 -c \\"import socket; s = socket.create_connection(('169.254.53.1', 18080), 5); "
           "print(s.recv(64).decode())\\"")
    res = sb.exec(cmd, capture_output=True, text=True)
    print(res.exit_code)
    print(res.stdout, end="")
    print("asked", *sorted(set(asked)))
    sb.close()
    cap.close()
    """)


def test_ask_capture_and_host_ports(tmp_path):
    """set_egress(ask=, capture=, host_ports=): `nslab run --interactive --capture --host-port`."""
    if not _host_root():
        pytest.skip("filtered egress needs root on this release (docs/egress.md); "
                    "the refusal is tested by test_jail_network_and_resolver")
    script = tmp_path / "child.py"
    script.write_text(ASK_CHILD)
    pcap = tmp_path / "jail.pcapng"
    setup = ("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d1 up && "
             "ip addr add 192.0.2.10/24 dev d0 && ip link set d0 up && "
             "ip route add default via 192.0.2.1 && exec \"$0\" \"$1\" \"$2\"")
    r = subprocess.run(["unshare", "-n", "sh", "-c", setup, sys.executable, str(script),
                        str(pcap)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "0", r.stdout
    assert "no=2" in out, r.stdout  # the asker said no: the gate refused the name
    assert "from-the-host" in out, r.stdout  # the host's loopback port through the gateway
    assert out[-1].startswith("asked ") and "('no.test'," in out[-1], r.stdout
    data = pcap.read_bytes()
    assert data[:4] == b"\x0a\x0d\x0d\x0a" and len(data) > 200, "no pcapng of the jail"

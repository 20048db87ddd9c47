# SPDX-License-Identifier: MIT
"""Lab.attach(): a lab `nslab up -d` holds, read and changed through its control socket,
commands run in it, its events followed, and brought down."""
import errno
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from nslab import Lab, NslabError, RunningLab

HERE = Path(__file__).parent


@pytest.fixture
def up(tmp_path):
    name = f"pyrun-{os.getpid()}"
    out = tmp_path / "out"
    r = subprocess.run([os.environ["NSLAB"], "up", "-d", "-q", "--name", name, "--outdir",
                        str(out), str(HERE / "running.yaml")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    yield name, out
    subprocess.run([os.environ["NSLAB"], "down", name], capture_output=True, timeout=60)


def test_attach_read_exec_and_events(up):
    name, out = up
    assert name in Lab.running()
    with Lab.attach(name) as lab:
        assert isinstance(lab, RunningLab) and lab.outdir == str(out)
        alice, bob = lab.node("alice"), lab.node("bob")
        assert alice.kind == "device" and alice.ifaces == ["eth0"]
        assert bob.ip.startswith("198.18.") and bob.ip6.startswith("2001:db8:")
        assert "alice" in lab.table() and {"alice", "bob", "m"} <= {n.name for n in lab.nodes}
        cp = lab.exec("alice", ["ping", "-c1", "-W5", bob.ip], capture_output=True, text=True)
        assert cp.returncode == 0 and f"from {bob.ip}" in cp.stdout
        cp = lab.exec("alice", "echo $NSLAB_IP_BOB $X; exit 3", capture_output=True, text=True,
                      env={"X": "y"})
        assert (cp.returncode, cp.stdout.split()) == (3, [bob.ip, "y"])
        with pytest.raises(subprocess.CalledProcessError):
            lab.exec("alice", ["false"], check=True)
        with pytest.raises(subprocess.TimeoutExpired):
            lab.exec("alice", ["sleep", "30"], timeout=1)
        p = lab.popen("bob", "echo ready; exec sleep 30", stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) != 0
        p.stdout.close()
        pid = lab.exec_detached("bob", ["sh", "-c", "echo detached; exec sleep 30"])
        spawned = next(e.data for e in lab.events("cmd_spawned", follow=True, timeout=10)
                       if e.data.get("detached"))  # StopIteration after 10 s without it
        assert pid > 1 and spawned["node"] == "bob", spawned
        kinds = [e.kind for e in lab.events()]
        assert kinds[0] == "region_added" and "lab_built" in kinds and "cmd_exited" in kinds
        with pytest.raises(KeyError):
            lab.node("carol")


def test_attach_runtime_changes(up):
    name, _ = up
    lab = Lab.attach(name)
    text = lab.link("alice", "eth0", "delay", "20ms")
    assert "20ms" in text
    lab.link("alice", "eth0", clear=True)
    text = lab.region("eu", "us", up=False)  # `nslab region LAB eu us break`
    assert "eu asia us" in text, text
    lab.region("eu", "us", up=True)
    lab.router("home", nat="full-cone")
    lab.router("home", flush_nat=True)
    lab.router("home", firewall="block-inbound")
    m = lab.node("m")
    lab.device("m", default_via="eth1")
    assert lab.node("m").ip != m.ip and lab.node("m").ip.startswith("198.18.")
    lab.device("m", replug=("wlan0", "dc-us"))
    # each change is an event of the lab's stream; a follower sees them as they come
    want = ["link_condition", "region_link", "nat_changed", "nat_flushed", "firewall_changed",
            "default_via_changed", "device_replugged"]
    seen = []
    for ev in lab.events(follow=True, timeout=10):
        if ev.kind in want and ev.kind not in seen:
            seen.append(ev.kind)
        if len(seen) == len(want):
            break
    assert sorted(seen) == sorted(want)
    with pytest.raises(NslabError) as ei:
        lab.router("home", nat="nonsense")
    assert "nonsense" in str(ei.value)


def test_follow_wakes_on_a_new_event(up):
    name, _ = up
    lab = Lab.attach(name)
    it = lab.events("nat_changed", follow=True, timeout=30)
    gate = threading.Event()

    def change():
        gate.wait(10)
        lab.router("home", nat="cgnat")
    th = threading.Thread(target=change)
    th.start()
    gate.set()
    ev = next(it)
    assert ev.data["node"] == "home"
    th.join(10)


def test_down_and_not_up(up):
    name, _ = up
    Lab.attach(name).down()
    assert name not in Lab.running()
    with pytest.raises(NslabError) as ei:
        Lab.attach(name)
    assert ei.value.errno == errno.ESRCH

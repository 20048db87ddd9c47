# SPDX-License-Identifier: MIT
"""Labs from Python: builder, file, exec, popen, addresses, run-time changes, events."""
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nslab
from nslab import Lab


HERE = Path(__file__).parent


def _two(name: str = "py") -> Lab:
    return (Lab(name).add_router("gw").add_device("alice", router="gw")
            .add_device("bob", router="gw"))


@pytest.fixture
def lab(request):
    from nslab.pytest_plugin import require_namespaces
    require_namespaces()
    with _two() as lab:
        yield lab


def test_builder_addresses_and_ifaces(lab):
    alice = lab.node("alice")
    assert alice.kind == "device" and lab.node("gw").kind == "router"
    assert alice.ifaces == ["eth0"]
    assert alice.ip.startswith("198.18.") and alice.ip6.startswith("2001:db8:")
    assert alice.addr("eth0", "ll").startswith("fe80::")
    assert [n.name for n in lab.nodes] == ["gw", "alice", "bob"]
    assert "alice" in lab.table()
    with pytest.raises(KeyError):
        lab.node("carol")


def test_exec_returns_completed_process(lab):
    bob = lab.node("bob").ip
    cp = lab.exec("alice", ["ping", "-c1", "-W5", bob], capture_output=True, text=True)
    assert isinstance(cp, subprocess.CompletedProcess)
    assert cp.returncode == 0 and f"from {bob}" in cp.stdout and cp.stderr == ""
    # the lab's environment and /etc/hosts
    cp = lab.exec("alice", "echo $NSLAB_IP_BOB; getent ahostsv4 bob.py.test", capture_output=True,
                  text=True)
    assert cp.stdout.split()[0] == bob and bob in cp.stdout.splitlines()[1]
    cp = lab.exec("bob", ["sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True)
    assert (cp.returncode, cp.stdout, cp.stderr) == (3, b"out\n", b"err\n")
    with pytest.raises(subprocess.CalledProcessError) as ei:
        lab.exec("bob", ["false"], check=True)
    assert ei.value.returncode == 1


def test_exec_runs_in_the_node_netns(lab):
    cp = lab.exec("alice", ["cat", "/proc/net/dev"], capture_output=True, text=True)
    assert "eth0:" in cp.stdout


def test_exec_timeout_kills(lab):
    t = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as ei:
        lab.exec("alice", "echo started; exec sleep 30", capture_output=True, timeout=2)
    assert time.monotonic() - t < 10
    assert ei.value.output == b"started\n"


def test_popen_pipe_signal_wait(lab):
    p = lab.popen("bob", ["sh", "-c", "echo ready; exec sleep 30"], stdout=subprocess.PIPE,
                  text=True)
    assert p.stdout.readline() == "ready\n"
    assert p.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        p.wait(0.1)
    p.terminate()
    assert p.wait(10) == -signal.SIGTERM
    p.close()
    p = lab.popen("bob", "echo a; echo b >&2", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.communicate(10) == (b"a\n", b"b\n") and p.returncode == 0
    p.close()


def test_link_condition_and_unplug(lab):
    bob = lab.node("bob").ip
    lab.link("alice", "eth0", "delay", "50ms")
    cp = lab.exec("alice", ["ping", "-c1", "-W5", bob], capture_output=True, text=True)
    rtt = float(cp.stdout.split("time=")[1].split()[0])
    assert rtt >= 50.0, cp.stdout  # at least one direction's 50 ms
    assert lab.link_stats("alice", "eth0")["up"]["passed"] >= 1
    lab.link("alice", "eth0", clear=True)
    lab.link("alice", "eth0", up=False)
    assert lab.exec("alice", ["ping", "-c1", "-W1", bob], capture_output=True).returncode != 0
    lab.link("alice", "eth0", up=True)
    kinds = [e.kind for e in lab.events()]
    assert "link_condition" in kinds and "link_state" in kinds


def test_events_stream_and_listener(lab):
    seen = []
    lab.on_event(seen.append)
    lab.exec("alice", ["true"])
    assert [e.kind for e in seen] == ["cmd_spawned", "cmd_exited"]
    built = list(lab.events("lab_built"))
    assert len(built) == 1 and built[0].seq is not None


def test_router_nat_change(lab):
    lab.router("gw", nat="home")
    lab.router("gw", flush_nat=True)
    kinds = [e.kind for e in lab.events()]
    assert "nat_changed" in kinds and "nat_flushed" in kinds
    with pytest.raises(nslab.NslabError) as ei:
        lab.router("gw", nat="nonsense")
    assert "nonsense" in str(ei.value)


def test_from_file_with_outdir(tmp_path):
    from nslab.pytest_plugin import require_namespaces
    require_namespaces()
    out = tmp_path / "out"
    with Lab.from_file(HERE / "two.yaml", outdir=str(out)) as lab:
        assert lab.name == "pytwo"
        assert lab.exec("alice", ["ping", "-c1", "-W5", "bob.pytwo.test"]).returncode == 0
    assert (out / "events.jsonl").read_text().count("lab_destroyed") == 1


def test_closed_on_exception_and_processes_die():
    from nslab.pytest_plugin import require_namespaces
    require_namespaces()
    procs, nodes = [], []
    with pytest.raises(KeyboardInterrupt):
        with _two("exc") as lab:
            procs.append(lab.popen("alice", ["sleep", "30"]))
            nodes.append(lab.node("alice"))
            raise KeyboardInterrupt
    assert lab._ptr is None
    assert procs[0].wait(5) == -signal.SIGKILL
    with pytest.raises(ValueError):  # a node of a closed lab is refused, not a dangling pointer
        _ = nodes[0].ip


def test_sigkill_of_python_leaves_nothing(tmp_path):
    """A SIGKILLed Python process takes its lab and the lab's processes with it."""
    code = ("import sys, nslab\n"
            "lab = nslab.Lab('k').add_router('gw').add_device('a', router='gw').build()\n"
            "p = lab.popen('a', ['sleep', '60'])\n"
            "print(p.pid, flush=True)\n"
            "sys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    assert line.strip(), "the child did not start its lab"
    pid = int(line)
    # the pid is in the lab's PID namespace; look its sleep up from here instead
    sleeps = [p for p in os.listdir("/proc") if p.isdigit() and _is_child_sleep(int(p), child.pid)]
    assert sleeps, "the lab's sleep is not visible"
    pidfds = [os.pidfd_open(int(p)) for p in sleeps]
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    try:
        for fd in pidfds:  # readable once the process has ended: await that, bounded
            assert select.select([fd], [], [], 10)[0] == [fd], "a lab process outlived Python"
    finally:
        for fd in pidfds:
            os.close(fd)
    assert pid > 0


def _is_child_sleep(pid: int, ancestor: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if f.read().split(b"\0")[:2] != [b"sleep", b"60"]:
                return False
        while pid > 1:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
            if pid == ancestor:
                return True
    except (OSError, ValueError, IndexError):
        return False
    return False

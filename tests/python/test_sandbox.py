# SPDX-License-Identifier: MIT
"""Sandbox with process-sandbox's method names."""
import errno
import os
import select

import pytest

from nslab import NamespaceFlags, NslabError, Sandbox


def test_exec_exit_code_and_accounting(nslab_sandbox):
    res = nslab_sandbox.exec(["sh", "-c", "exit 7"])
    assert res.exit_code == 7 and res.returncode == 7
    assert res.ended_by is None and res.wall_usec > 0


def test_capture_and_network_isolation(nslab_sandbox):
    res = nslab_sandbox.exec(["cat", "/proc/net/dev"], capture_output=True, text=True)
    assert res.exit_code == 0
    ifaces = [ln.split(":")[0].strip() for ln in res.stdout.splitlines()[2:]]
    assert ifaces == ["lo"]  # set_network_enabled(False) is the default
    assert res.stderr == ""


def test_process_sandbox_names():
    sb = Sandbox()
    sb.set_namespaces(NamespaceFlags.ALL)
    sb.set_memory_limit(256 * 1024 * 1024)
    sb.set_cpu_shares(512)
    sb.set_max_fds(64)
    sb.set_max_processes(64)
    sb.set_readonly_root(True)
    sb.set_network_enabled(False)
    d = sb.describe()
    assert d, "describe() gave nothing"
    res = sb.exec("ulimit -n; touch /usr/nslab-py-test 2>/dev/null || echo ro", capture_output=True,
                  text=True)
    assert res.stdout.split() == ["64", "ro"]
    assert res.mechanisms.get("files") == "rlimit"
    sb.close()


def test_timeout_ends_it(nslab_sandbox):
    nslab_sandbox.set_timeout(0.3)
    res = nslab_sandbox.exec(["sleep", "30"])
    assert res.exit_code == 124 and res.ended_by == "timeout"


def test_bad_value_names_it(nslab_sandbox):
    with pytest.raises(NslabError) as ei:
        nslab_sandbox.set_cpu_shares(5)
    assert ei.value.errno == errno.EINVAL and "5" in str(ei.value)
    with pytest.raises(ValueError):
        nslab_sandbox.set_limit("bogus", 1)


def test_missing_command(nslab_sandbox):
    with pytest.raises(NslabError) as ei:
        nslab_sandbox.exec(["/nonexistent/cmd"])
    assert ei.value.errno == errno.ENOENT


def test_check_raises(nslab_sandbox):
    import subprocess
    with pytest.raises(subprocess.CalledProcessError):
        nslab_sandbox.exec(["false"], check=True)


def test_lab_node_of_a_lab_up(srcdir):
    """set_lab_node(): the command in a node of a lab that `nslab up -d` holds."""
    import os
    import subprocess
    nslab_cmd = os.environ["NSLAB"]
    name = f"pysb-{os.getpid()}"
    up = subprocess.run([nslab_cmd, "up", "-d", "-q", "--name", name,
                         str(srcdir / "tests/e2e/small.yaml")], capture_output=True, text=True,
                        timeout=60)
    assert up.returncode == 0, up.stderr
    try:
        with Sandbox() as sb:
            sb.set_lab_node(name, "laptop")
            res = sb.exec("grep -o eth0 /proc/net/dev; hostname; echo $NSLAB_IP_LAPTOP",
                          capture_output=True, text=True)
        assert res.exit_code == 0, res.stderr
        out = res.stdout.split()
        assert out[:2] == ["eth0", "laptop"] and out[2].startswith("10.")
        with Sandbox() as sb, pytest.raises(NslabError) as ei:
            sb.set_lab_node(name, "nobody-here")
        assert ei.value.errno == errno.ENODEV
    finally:
        subprocess.run([nslab_cmd, "down", name], timeout=60)
    with Sandbox() as sb, pytest.raises(NslabError) as ei:
        sb.set_lab_node(name, "laptop")
    assert ei.value.errno == errno.ESRCH


def test_spawn_handle_wait_kill_capture(nslab_sandbox):
    import subprocess
    p = nslab_sandbox.spawn(["sleep", "30"])
    assert p.pid > 0 and p.poll() is None and p.returncode is None
    with pytest.raises(subprocess.TimeoutExpired):
        p.wait(0.1)
    p.kill()
    res = p.wait(10)
    assert res.exit_code == 128 + 9 and p.returncode == 137
    p.close()
    with nslab_sandbox.spawn("echo out; echo err >&2; exit 4", capture_output=True,
                             text=True) as p:
        res = p.wait(10)
    assert (res.exit_code, res.stdout, res.stderr) == (4, "out\n", "err\n")


def test_spawn_tightened_at_run_time(nslab_sandbox):
    nslab_sandbox.set_timeout(60)
    with nslab_sandbox.spawn(["sleep", "30"]) as p:
        with pytest.raises(NslabError) as ei:
            p.set_limit("timeout", 120_000)  # only ever tighter
        assert ei.value.errno == errno.EPERM
        p.drop_cap(13)  # CAP_NET_RAW
        p.set_limit("timeout", 200)
        res = p.wait(10)
    assert res.ended_by == "timeout" and res.exit_code == 124
    # a system call refused from now on: the loop's mkdir starts failing
    loop = ("for i in $(seq 100000); do mkdir /tmp/d 2>/dev/null || { echo denied; exit 5; }; "
            "rmdir /tmp/d; done")
    with nslab_sandbox.spawn(loop, capture_output=True, text=True) as p:
        p.deny_syscalls("mkdir", "mkdirat")
        res = p.wait(60)
    assert (res.exit_code, res.stdout) == (5, "denied\n")
    with nslab_sandbox.spawn(["sleep", "30"]) as p, pytest.raises(NslabError) as ei:
        p.deny_syscalls("no_such_call")
    assert "no_such_call" in str(ei.value)


def test_pool(nslab_sandbox):
    nslab_sandbox.set_max_fds(32)
    with nslab_sandbox.pool(2) as pool:
        for code in (0, 3, 0):
            assert pool.exec(["sh", "-c", f"exit {code}"]).exit_code == code
        p = pool.spawn("ulimit -n; exit $(ulimit -n)")
        assert p.pid > 0 and p.wait(10).exit_code == 32
        slow = pool.spawn(["sleep", "30"])
        pidfd = os.pidfd_open(slow.pid)  # the command, in our PID namespace
    try:  # the pool's end ended it: its pidfd becomes readable (bounded wait)
        assert select.select([pidfd], [], [], 10)[0] == [pidfd]
    finally:
        os.close(pidfd)


def test_closing_the_sandbox_ends_its_pools_and_handles():
    sb = Sandbox()
    pool = sb.pool(1)
    procs = [pool.spawn(["sleep", "30"]), sb.spawn(["sleep", "30"])]  # held: not collected
    fds = [os.pidfd_open(p.pid) for p in procs]
    for fd in fds:
        assert select.select([fd], [], [], 0)[0] == []  # running
    sb.close()
    try:
        for fd in fds:  # readable once the process has ended (bounded wait)
            assert select.select([fd], [], [], 10)[0] == [fd]
    finally:
        for fd in fds:
            os.close(fd)
    with pytest.raises(ValueError):
        pool.spawn(["true"])


def test_events_in_order(nslab_sandbox):
    seen = []
    nslab_sandbox.on_event(seen.append)
    nslab_sandbox.exec(["sh", "-c", "exit 2"])
    assert [e.kind for e in seen] == ["started", "exited"] and seen[1].result.exit_code == 2
    seen.clear()
    nslab_sandbox.set_timeout(0.2)
    with nslab_sandbox.spawn(["sleep", "30"]) as p:
        res = p.wait(10)
    assert [e.kind for e in seen] == ["started", "timeout"], seen
    assert seen[0].pid == p.pid and seen[1].result.exit_code == res.exit_code == 124
    nslab_sandbox.on_event(None)
    seen.clear()
    nslab_sandbox.exec(["true"])
    assert seen == []

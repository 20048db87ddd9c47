# SPDX-License-Identifier: MIT
"""An untrusted program in nslab's sandbox: no network, a read-only root,
limits enforced and reported (process-sandbox's method names).

    pytest examples/python/test_sandboxed_run.py
"""
import sys

from nslab import NamespaceFlags, Sandbox

# grows 8 MiB at a time until an allocation fails: its peak nears the limit
HOG = "b = []\nwhile True: b.append(bytearray(8 << 20))"


def test_untrusted_program(nslab_sandbox: Sandbox):
    nslab_sandbox.set_namespaces(NamespaceFlags.ALL)
    nslab_sandbox.set_network_enabled(False)
    nslab_sandbox.set_readonly_root(True)
    res = nslab_sandbox.exec("ls /sys/class/net; touch /etc/owned || echo refused",
                             capture_output=True, text=True)
    assert res.stdout.split() == ["lo", "refused"]
    assert res.exit_code == 0 and res.wall_usec > 0


def test_memory_limit_ends_a_hog(nslab_sandbox: Sandbox):
    nslab_sandbox.set_memory_limit(128 << 20)
    res = nslab_sandbox.exec([sys.executable, "-c", HOG], capture_output=True)
    assert res.exit_code != 0 and b"MemoryError" in res.stderr
    assert res.ended_by == "memory" and "memory" in res.limits_reached


def test_fork_bomb_is_held(nslab_sandbox: Sandbox):
    nslab_sandbox.set_max_processes(16)
    nslab_sandbox.set_timeout(20)
    res = nslab_sandbox.exec("for i in $(seq 64); do sleep 5 & done; wait")
    assert "pids" in res.limits_reached

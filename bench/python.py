#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/python.py NSLAB: the Python binding's costs (bench/python.sh runs it).

1. lab.exec(node, ["true"]) in a lab built in this process, N times, beside
   `nslab exec LAB NODE -- true` (a lab up -d, the command started from here)
   and subprocess.run(["true"]) (no lab: the floor of starting a process from
   Python). Median of REPS runs, ms per command.
   Also RunningLab.exec() of Lab.attach() on the same lab (through `nslab
   exec`), and Sandbox.exec(["true"]) beside SandboxPool.exec(["true"]).
2. A generated suite of N_SUITE single-packet tests through
   nslab.fwtest.run_suite() and through `nslab test -q`, median of REPS.
Printed, never a test.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import nslab

NSLAB = sys.argv[1]
N = int(os.environ.get("N", "200"))
N_SUITE = int(os.environ.get("N_SUITE", "1000"))
REPS = int(os.environ.get("REPS", "3"))
HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = os.path.join(HERE, "..", "tests", "e2e", "small.yaml")


def per_call_ms(fn, n):
    runs = []
    for _ in range(REPS):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) * 1000 / n)
    return statistics.median(runs)


def suite_file(d):
    path = os.path.join(d, "suite.yaml")
    with open(path, "w") as f:
        f.write("topology: direct\nrules: |\n  table inet filter {\n    chain input {\n"
                "      type filter hook input priority 0; policy drop;\n"
                "      tcp dport 22 accept comment \"ssh\"\n      udp dport 161 reject\n"
                "    }\n  }\ntests:\n")
        for i in range(N_SUITE):
            pkt, verdict = [("{proto: tcp, dport: 22}", "accept"),
                            ("{proto: udp, dport: 161}", "reject"),
                            (f"{{proto: tcp, dport: {1000 + i}}}", "drop")][i % 3]
            f.write(f"  - {{name: t{i}, packets: [{pkt}], expect: {{verdict: {verdict}}}}}\n")
    return path


def main():
    name = f"bench-py-{os.getpid()}"
    # the command's lab first: `nslab up -d` before this process bootstraps
    subprocess.run([NSLAB, "up", "-d", "-q", "--name", name, SMALL], check=True)
    try:
        cmd = per_call_ms(lambda: subprocess.run([NSLAB, "exec", name, "laptop", "--", "true"],
                                                 check=True), N)
        running = nslab.Lab.attach(name)
        att = per_call_ms(lambda: running.exec("laptop", ["true"], check=True), N)
    finally:
        subprocess.run([NSLAB, "down", name], check=False)
    floor = per_call_ms(lambda: subprocess.run(["true"], check=True), N)
    with nslab.Lab.from_file(SMALL) as lab:
        lab.exec("laptop", ["true"], check=True)
        py = per_call_ms(lambda: lab.exec("laptop", ["true"], check=True), N)
        pyc = per_call_ms(lambda: lab.exec("laptop", ["true"], capture_output=True), N)
    print(f"python exec: lab.exec() {py:.2f} ms (capture_output {pyc:.2f} ms), "
          f"nslab exec {cmd:.2f} ms, subprocess.run (no lab) {floor:.2f} ms per command; "
          f"lab.exec() - nslab exec = {py - cmd:+.2f} ms ({N} runs, median of {REPS}); "
          f"attached RunningLab.exec() {att:.2f} ms")
    with nslab.Sandbox() as sb, sb.pool(4) as pool:
        one = per_call_ms(lambda: sb.exec(["true"], check=True), N)
        pooled = per_call_ms(lambda: pool.exec(["true"], check=True), N)
    print(f"python sandbox: Sandbox.exec() {one:.2f} ms, SandboxPool.exec() {pooled:.2f} ms "
          f"per command ({N} runs, median of {REPS})")

    with tempfile.TemporaryDirectory(prefix="nslab-bench-py.") as d:
        path = suite_file(d)
        runs_py, runs_cmd = [], []
        for _ in range(REPS):
            t = time.perf_counter()
            res = nslab.fwtest.run_suite(path)
            runs_py.append(time.perf_counter() - t)
            assert res.counts["passed"] == N_SUITE, res.failures()[:500]
            t = time.perf_counter()
            subprocess.run([NSLAB, "test", "-q", path], check=True, stdout=subprocess.DEVNULL)
            runs_cmd.append(time.perf_counter() - t)
        a, b = statistics.median(runs_py), statistics.median(runs_cmd)
        print(f"python run_suite: {N_SUITE} tests in {a * 1000:.0f} ms "
              f"(results as typed objects included), nslab test {b * 1000:.0f} ms, "
              f"ratio {a / b:.2f}x (median of {REPS})")


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""A firewall regression test: the ruleset under review, run by the kernel
against the packets that matter, one pytest case each; and a whole suite.

    pytest examples/python/test_firewall_regression.py
"""
from pathlib import Path

import pytest

RULES = """
table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept comment "established"
    tcp dport 22 ip saddr 10.0.0.0/8 accept comment "ssh from inside"
    tcp dport { 80, 443 } accept comment "web"
    udp dport 161 reject comment "no snmp"
  }
}
"""


@pytest.mark.parametrize("packet, verdict, rule", [
    ({"proto": "tcp", "dport": 22, "flags": "S"}, "accept", "ssh from inside"),
    ({"proto": "tcp", "src": "192.0.2.7", "dport": 22, "flags": "S"}, "drop", "policy"),
    ({"proto": "tcp", "dport": 443, "flags": "S"}, "accept", "web"),
    ({"proto": "udp", "dport": 161}, "reject", "no snmp"),
    ({"proto": "tcp", "dport": 3306, "flags": "S"}, "drop", "policy"),
])
def test_verdict(fwtest, packet, verdict, rule):
    t = fwtest.run(RULES, [packet])
    p = t.packets[0]
    assert p.verdict == verdict, "\n".join(p.trace)
    assert rule in p.rule


def test_established_flow(fwtest):
    t = fwtest.run(RULES, flows=[{"proto": "tcp", "dport": 443, "send": "GET /"}],
                   expect={"connect": "ok", "ct_state": "established"})
    assert t.passed, t.log


def test_suite_file(fwtest):
    suite = Path(__file__).resolve().parents[1] / "fwtest" / "basic.yaml"
    res = fwtest.run_suite(suite)
    assert res.ok, res.failures()

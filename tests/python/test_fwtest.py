# SPDX-License-Identifier: MIT
"""Firewall tests from Python: run(), run_suite(), the NSE shim, bad rulesets."""
import asyncio

import pytest

from nslab import LabFileError
from nslab.compat.nse import PacketSpec, TestRequest, run_test_pipeline

RULES = """table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    tcp dport 22 accept comment "ssh"
    udp dport 161 reject
  }
}
"""


def test_run_typed_results(fwtest):
    t = fwtest.run(RULES, [{"proto": "tcp", "dport": 22, "flags": "S"},
                           {"proto": "tcp", "dport": 80, "flags": "S"},
                           {"proto": "udp", "dport": 161}])
    ssh, web, snmp = t.packets
    assert (ssh.verdict, ssh.table, ssh.chain, ssh.rule) == ("accept", "filter", "input",
                                                             'tcp dport 22 accept comment "ssh"')
    assert ssh.reply == "syn-ack" and ssh.trace_events > 0 and ssh.trace
    assert (web.verdict, web.rule, web.delivered) == ("drop", "policy", False)
    assert snmp.verdict == "reject"
    assert t.passed  # nothing expected


def test_run_expectation_fails_with_text(fwtest):
    t = fwtest.run(RULES, [{"proto": "tcp", "dport": 80, "flags": "S"}],
                   expect={"verdict": "accept"})
    assert t.status == "fail" and not t.passed
    assert "drop" in t.log


def test_run_suite(fwtest, srcdir):
    res = fwtest.run_suite(srcdir / "examples/fwtest/basic.yaml")
    assert res.ok, res.failures()
    assert res.counts["total"] == len(res.tests) == res.counts["passed"]
    assert res["ssh is open"].packets[0].ct_state == "new"
    sel = fwtest.run_suite(srcdir / "examples/fwtest/basic.yaml", select="ssh")
    assert [t.status for t in sel.tests].count("pass") == 1


def test_bad_ruleset_has_place(fwtest, tmp_path):
    p = tmp_path / "bad.nft"
    p.write_text("table inet f {\n  chain c {\n    tcp dport ssh acept\n  }\n}\n")
    with pytest.raises(LabFileError) as ei:
        fwtest.check_rules(p)
    assert ei.value.file.endswith("bad.nft") and ei.value.line == 3


def test_nse_shim(fwtest):
    req = TestRequest(rules="table ip filter { chain input { type filter hook input priority 0;"
                            " tcp dport 22 accept; drop; } }",
                      packets=[PacketSpec(protocol="tcp", src_ip="10.0.0.1", dst_ip="10.0.0.2",
                                          dst_port=22, tcp_flags=["S"]),
                               PacketSpec(dst_port=80, expected_verdict="DROP")])
    events = asyncio.run(run_test_pipeline(req))
    assert [e.verdict for e in events] == ["ACCEPT", "DROP"]
    assert events[1].packet == "tcp 10.0.0.1:12345 > 10.0.0.2:80 []"  # NSE's defaults
    assert all(e.passed for e in events)


def test_run_errors_in_the_callers_terms(fwtest):
    from nslab import NslabError
    with pytest.raises(LabFileError) as ei:
        fwtest.run("table inet f {\n  chain c {\n    tcp dport 22 acept\n  }\n}\n",
                   [{"proto": "tcp", "dport": 22}])
    assert (ei.value.file, ei.value.line) == ("<rules>", 3)
    assert str(ei.value).startswith("<rules>:3:") and "syntax error" in str(ei.value)
    with pytest.raises(NslabError) as ei:
        fwtest.run(RULES, [{"proto": "tcpx", "dport": 22}])
    assert str(ei.value).startswith("bad proto 'tcpx'")

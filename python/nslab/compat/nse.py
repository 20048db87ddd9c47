# SPDX-License-Identifier: MIT
"""NSE's (Network Sandbox Engine's) library calls, run by nslab.

Switch by changing the import::

    # from nse.core.pipeline import run_test_pipeline
    # from nse.models.test_request import PacketSpec, TestRequest
    from nslab.compat.nse import PacketSpec, TestRequest, run_test_pipeline

    events = await run_test_pipeline(TestRequest(rules=RULES, packets=[PacketSpec(
        protocol="tcp", src_ip="10.0.0.1", dst_ip="10.0.0.2", dst_port=22)]))

The request becomes a one-test suite in NSE's format, so NSE's semantics
hold (docs/nse.md: no TCP flags unless tcp_flags says, ports 12345 -> 80,
DROP passes for a reject); where nslab differs on purpose (a REJECT is
reported, an undecided packet is inconclusive rather than DROP) it says so in
the events. Each event is one packet's: verdict in NSE's upper case.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Union

from .. import fwtest

__all__ = ["PacketSpec", "TestRequest", "TopologyType", "TraceEvent", "run_test_pipeline",
           "run_test_pipeline_sync"]


class TopologyType(str, enum.Enum):
    SIMPLE = "simple"  # host - sandbox over one veth pair (nslab's direct)
    GATEWAY = "gateway"  # host - router - server: rules in the router (forward)


@dataclass
class PacketSpec:
    protocol: str = "tcp"
    src_ip: str = "10.0.0.1"
    dst_ip: str = "10.0.0.2"
    src_port: Optional[int] = None
    dst_port: Optional[int] = None
    tcp_flags: Optional[List[str]] = None
    expected_verdict: Optional[str] = None

    def to_suite(self) -> Dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class TestRequest:
    __test__ = False  # not a pytest class

    rules: str
    packets: List[PacketSpec] = field(default_factory=list)
    topology: Union[TopologyType, str] = TopologyType.SIMPLE
    name: str = "request"


@dataclass
class TraceEvent:
    """One packet of the request as the kernel decided it."""

    packet_index: int
    packet: str
    verdict: str  # ACCEPT, DROP, REJECT, ... or INCONCLUSIVE (NSE would have said DROP)
    table: Optional[str]
    chain: Optional[str]
    rule: Optional[str]
    ct_state: Optional[str]
    reply: Optional[str]
    trace: List[str]
    passed: bool  # the test's expectation (expected_verdict) held

    def __str__(self) -> str:
        return f"[{self.packet_index}] {self.packet}: {self.verdict} ({self.chain}: {self.rule})"


def run_test_pipeline_sync(req: TestRequest) -> List[TraceEvent]:
    topo = req.topology.value if isinstance(req.topology, TopologyType) else str(req.topology)
    doc = [{"name": req.name, "topology": topo, "rules": req.rules,
            "packets": [p.to_suite() for p in req.packets]}]
    res = fwtest._run_doc(doc).tests[0]
    return [TraceEvent(i, p.packet, (p.verdict or "inconclusive").upper(), p.table, p.chain,
                       p.rule, p.ct_state, p.reply, p.trace, res.passed)
            for i, p in enumerate(res.packets)]


async def run_test_pipeline(req: TestRequest) -> List[TraceEvent]:
    """NSE's coroutine: the request's packets through its rules, one event a packet."""
    return run_test_pipeline_sync(req)

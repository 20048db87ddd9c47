# SPDX-License-Identifier: MIT
"""Firewall tests: an nftables ruleset run by the kernel against crafted packets.

    from nslab import fwtest
    res = fwtest.run(RULES, [{"proto": "tcp", "dport": 22, "flags": "S"}])
    assert res.packets[0].verdict == "accept"

    suite = fwtest.run_suite("examples/fwtest/basic.yaml")
    assert suite.ok, suite.failures()

Results come from the library's JSON report (docs/fwtest-json.md): verdict,
table, chain, rule, conntrack state and trace path of every packet.
"""

from __future__ import annotations

import ctypes
import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _lib
from ._lib import call, dec, enc
from .errors import LabFileError, NslabError

__all__ = ["PacketResult", "TestResult", "SuiteResult", "Suite", "run", "run_suite",
           "check_rules"]

_FORMAT_JSON = 3
_ORDERS = {"suite": 0, "reverse": 1, "shuffle": 2}


@dataclass
class PacketResult:
    """What the kernel did with one crafted packet or flow."""

    kind: str  # "packet" or "flow"
    packet: str  # "tcp 10.0.0.1:40000 > 10.0.0.2:22 [S]"
    verdict: Optional[str]  # accept, drop, reject, ... None: undecided (inconclusive)
    table: Optional[str]
    chain: Optional[str]
    rule: Optional[str]  # the rule's text or comment; "policy" for the chain's policy
    delivered: Optional[bool]
    reply: Optional[str]
    ct_state: Optional[str]
    trace_events: int
    trace: List[str]  # the hops, "family table chain: rule -> verdict"
    connect: Optional[str] = None  # flows: ok, refused, timeout
    conntrack: Optional[Dict[str, Any]] = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "PacketResult":
        trace = d.get("trace") or ""
        return cls(d.get("kind", "packet"), d.get("packet", ""), d.get("verdict"),
                   d.get("table"), d.get("chain"), d.get("rule"), d.get("delivered"),
                   d.get("reply"), d.get("ct_state"), int(d.get("trace_events") or 0),
                   [h for h in trace.split("; ") if h], d.get("connect"), d.get("conntrack"))


@dataclass
class TestResult:
    """One test of a suite: status pass, fail, inconclusive, error or skipped."""

    __test__ = False  # not a pytest class

    name: str
    status: str
    ms: float
    log: str  # what failed, with trace paths; "" when it passed
    packets: List[PacketResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def verdict(self) -> Optional[str]:
        """The last packet's verdict (what NSE's expect: checks)."""
        return self.packets[-1].verdict if self.packets else None


@dataclass
class SuiteResult:
    suite: str
    tests: List[TestResult]
    counts: Dict[str, int]
    coverage: List[Dict[str, Any]] = field(default_factory=list)
    warnings: str = ""

    @property
    def ok(self) -> bool:
        return all(t.status in ("pass", "skipped") for t in self.tests)

    def __getitem__(self, name: str) -> TestResult:
        for t in self.tests:
            if t.name == name:
                return t
        raise KeyError(name)

    def failures(self) -> str:
        """nslab's failure text of every test that did not pass."""
        return "\n".join(f"{t.name}: {t.status}\n{t.log}" for t in self.tests
                         if t.status not in ("pass", "skipped"))


class Suite(_lib.Owner):
    """A suite read and checked (FILE:LINE:COL errors), run once with :meth:`run`."""

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, allow_include: bool = False
                 ) -> None:
        self.path = os.fspath(path)
        p = ctypes.c_void_p()
        call("nslab_fwtest_from_file", enc(self.path), 1 if allow_include else 0,
             ctypes.byref(p))
        self._ptr: Optional[int] = p.value
        self._ran = False

    @property
    def _p(self) -> int:
        if self._ptr is None:
            raise ValueError("nslab: the suite is closed")
        return self._ptr

    @property
    def names(self) -> List[str]:
        L = _lib.lib()
        return [dec(L.nslab_fwtest_name(self._p, i)) for i in range(L.nslab_fwtest_count(self._p))]

    @property
    def warnings(self) -> str:
        return dec(_lib.lib().nslab_fwtest_warnings(self._p))

    def select(self, pattern: str) -> int:
        return call("nslab_fwtest_select", self._p, enc(pattern))

    def run(self, *, jobs: int = 0, order: str = "suite", seed: int = 0,
            coverage: bool = False) -> SuiteResult:
        if order not in _ORDERS:
            raise ValueError(f"nslab: order {order!r}: suite, reverse or shuffle")
        _lib.bootstrap()
        call("nslab_fwtest_set_jobs", self._p, jobs)
        call("nslab_fwtest_set_order", self._p, _ORDERS[order], seed)
        call("nslab_fwtest_run", self._p, None, None)
        self._ran = True
        return self.result(coverage=coverage)

    def result(self, *, coverage: bool = False) -> SuiteResult:
        err = _lib.Error()
        rc: List[int] = []

        def write(f: int) -> None:
            rc.append(_lib.lib().nslab_fwtest_report(self._p, _FORMAT_JSON, coverage, f,
                                                     ctypes.byref(err)))
        text = _lib.to_memory(write)
        _lib.check(rc[0], err)
        return _suite_result(json.loads(text), self.warnings)

    def close(self) -> None:
        if self._ptr is not None:
            _lib.lib().nslab_fwtest_free(self._ptr)
            self._ptr = None


def _suite_result(d: Mapping[str, Any], warnings: str) -> SuiteResult:
    tests = [TestResult(t["name"], t["status"], float(t.get("ms") or 0), t.get("log") or "",
                        [PacketResult.from_json(p) for p in t.get("packets") or []])
             for t in d.get("tests") or []]
    counts = {k: int(d.get(k) or 0)
              for k in ("total", "passed", "failed", "inconclusive", "errors", "skipped")}
    return SuiteResult(d.get("suite", ""), tests, counts, list(d.get("coverage") or []),
                       warnings)


def run_suite(path: Union[str, "os.PathLike[str]"], *, select: Optional[str] = None,
              jobs: int = 0, order: str = "suite", seed: int = 0,
              coverage: bool = False) -> SuiteResult:
    """Run a suite file (nslab's format or NSE's) as `nslab test` does."""
    with Suite(path) as s:
        if select is not None:
            s.select(select)
        return s.run(jobs=jobs, order=order, seed=seed, coverage=coverage)


def run(rules: str, packets: Sequence[Mapping[str, Any]] = (), *, topology: str = "direct",
        flows: Sequence[Mapping[str, Any]] = (), expect: Optional[Mapping[str, Any]] = None,
        name: str = "test") -> TestResult:
    """One test: rules (nftables text), packets and flows as a suite writes them
    (``{"proto": "tcp", "dport": 22, "flags": "S"}``), an optional expect.

    An error in the rules is a LabFileError at ``<rules>:LINE:COL`` of the rules
    text; one in a packet, flow or expect names the offending value.
    """
    test: Dict[str, Any] = {"name": name}
    if packets:
        test["packets"] = [dict(p) for p in packets]
    if flows:
        test["flows"] = [dict(f) for f in flows]
    if expect is not None:
        test["expect"] = dict(expect)
    # YAML around a literal block: the rules' line k is the file's line k + 2,
    # column + 2, so that nftables' places can be given back in the rules' terms
    text = (f"topology: {json.dumps(topology)}\nrules: |2\n" +
            "".join(f"  {ln}\n" for ln in rules.splitlines()) +
            f"tests: [{json.dumps(test)}]\n")
    nrules = len(rules.splitlines())
    try:
        return _run_text(text).tests[0]
    except LabFileError as e:
        raise _in_rules(e, nrules) from None


def _in_rules(e: LabFileError, nrules: int) -> NslabError:
    msg = e.message[e.message.index(f"{e.file}:{e.line}:{e.column}: "):]
    cause = msg.split(": ", 1)[1]
    if 3 <= e.line < 3 + nrules:
        line, col = e.line - 2, max(1, e.column - 2)
        return LabFileError(e.errno or 22, f"<rules>:{line}:{col}: {cause}", "<rules>", line, col)
    return NslabError(e.errno or 22, cause)


def _run_doc(doc: Any) -> SuiteResult:
    """Run a suite given as data: written as JSON (YAML's flow form) to a private file."""
    return _run_text(json.dumps(doc, indent=1))


def _run_text(text: str) -> SuiteResult:
    with tempfile.TemporaryDirectory(prefix="nslab-py-") as d:
        path = os.path.join(d, "suite.yaml")
        with open(path, "w") as f:
            f.write(text)
        return run_suite(path, jobs=1)


def check_rules(path: Union[str, "os.PathLike[str]"]) -> None:
    """Load a ruleset file in a throwaway namespace; LabFileError with the place if refused."""
    _lib.bootstrap()
    call("nslab_fwtest_check_rules", enc(os.fspath(path)), 0)

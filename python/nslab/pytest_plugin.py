# SPDX-License-Identifier: MIT
"""pytest plugin (entry point pytest11 "nslab"): fixtures and suite collection.

Fixtures:
- ``nslab_lab``: the lab of ``@pytest.mark.nslab_lab("lab.yaml")`` (a path
  relative to the test file) or ``@pytest.mark.nslab_lab(build=fn)`` (a
  callable given an empty :class:`nslab.Lab` to describe; pass it by keyword:
  pytest takes a marker's lone callable argument for the decorated function), built before the test and
  torn down after it. Its output directory (events.jsonl, state.json, the
  nodes' logs) is in the test's tmp_path and named in the report of a
  failed test, with the last events.
- ``nslab_sandbox``: a fresh :class:`nslab.Sandbox`.
- ``fwtest``: :func:`nslab.fwtest.run` and :func:`nslab.fwtest.run_suite`.

Where the kernel refuses namespaces (no root, no user namespaces) these skip
with the reason; under NSLAB_TEST_REQUIRE_PRIV=1 they fail instead.

Suite files whose names match the ini option ``nslab_suite_patterns``
(default ``test_*.yaml test_*.yml *_test.yaml *_test.yml``) are collected,
and so is a YAML file named on the command line: one item per test of the
suite, failing with nslab's failure text.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import pytest

from . import _lib, fwtest as _fwtest
from .errors import NslabError
from .lab import Lab
from .sandbox import Sandbox

_OUTDIR = pytest.StashKey[Path]()
_DEFAULT_PATTERNS = ["test_*.yaml", "test_*.yml", "*_test.yaml", "*_test.yml"]
_EVENTS_TAIL = 20


def pytest_addoption(parser: Any) -> None:
    parser.addini("nslab_suite_patterns", type="args", default=_DEFAULT_PATTERNS,
                  help="glob patterns of nslab firewall suite files to collect as tests")


_config: Any = None


def pytest_configure(config: Any) -> None:
    global _config
    _config = config
    config.addinivalue_line(
        "markers", "nslab_lab(lab_file, name=None, seed=None) or nslab_lab(build=callable): "
        "the lab of the nslab_lab fixture (a file relative to the test file)")


def _unavailable(why: str) -> None:
    if os.environ.get("NSLAB_TEST_REQUIRE_PRIV") == "1":
        pytest.fail(f"nslab: namespaces unavailable under NSLAB_TEST_REQUIRE_PRIV=1: {why}")
    pytest.skip(f"nslab: namespaces unavailable here: {why}")


def require_namespaces() -> None:
    """Skip (or fail under NSLAB_TEST_REQUIRE_PRIV=1) where labs cannot be built."""
    factory = getattr(_config, "_tmp_path_factory", None)
    if factory is not None:
        # Rootless, bootstrap makes this process root of a user namespace of its
        # own: pytest's temporary root (pytest-of-USER, checked to be the
        # caller's) is fixed now, under the real user's name.
        factory.getbasetemp()
    try:
        _lib.bootstrap()
    except (NslabError, ImportError) as e:
        _unavailable(str(e))


# --- fixtures ---------------------------------------------------------------

@pytest.fixture
def nslab_lab(request: Any, tmp_path: Path) -> Iterator[Lab]:
    marker = request.node.get_closest_marker("nslab_lab")
    spec = None if marker is None else marker.kwargs.get("build", marker.args[0] if marker.args
                                                         else None)
    if spec is None:
        raise pytest.UsageError("nslab_lab: mark the test @pytest.mark.nslab_lab('lab.yaml') "
                                "or @pytest.mark.nslab_lab(build=callable)")
    require_namespaces()
    outdir = tmp_path / "nslab-out"
    request.node.stash[_OUTDIR] = outdir
    name: Optional[str] = marker.kwargs.get("name")
    if callable(spec):
        lab = Lab(name or "pytest", outdir=str(outdir), seed=marker.kwargs.get("seed"))
        try:
            spec(lab)
        except BaseException:
            lab.close()
            raise
    else:
        path = Path(os.fspath(spec))
        if not path.is_absolute():
            path = Path(str(request.node.fspath)).parent / path
        lab = Lab.from_file(path, name=name, outdir=str(outdir))
    with lab:
        yield lab


@pytest.fixture
def nslab_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


class FwtestHelper:
    """The fwtest fixture: nslab.fwtest's calls, after the namespaces check."""

    run = staticmethod(_fwtest.run)
    run_suite = staticmethod(_fwtest.run_suite)
    check_rules = staticmethod(_fwtest.check_rules)
    Suite = _fwtest.Suite


@pytest.fixture
def fwtest() -> FwtestHelper:
    require_namespaces()
    return FwtestHelper()


@pytest.hookimpl(hookwrapper=True)  # type: ignore[misc]
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[Any]:
    outcome: Any = yield
    report = outcome.get_result()
    outdir = item.stash.get(_OUTDIR, None)
    if outdir is None or not report.failed:
        return
    text = f"output directory: {outdir}\n"
    try:
        lines = (outdir / "events.jsonl").read_text().splitlines()
        text += f"last events ({min(len(lines), _EVENTS_TAIL)} of {len(lines)}):\n"
        text += "\n".join(lines[-_EVENTS_TAIL:]) + "\n"
    except OSError as e:
        text += f"(no events.jsonl: {e.strerror})\n"
    report.sections.append(("nslab lab", text))


# --- suite files as tests -------------------------------------------------------

def pytest_collect_file(file_path: Path, parent: Any) -> Optional["SuiteFile"]:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    patterns: List[str] = parent.config.getini("nslab_suite_patterns")
    named = parent.session.isinitpath(file_path)  # `pytest suite.yaml`: whatever its name
    if not named and not any(fnmatch.fnmatch(file_path.name, p) for p in patterns):
        return None
    suite: SuiteFile = SuiteFile.from_parent(parent, path=file_path)
    return suite


class SuiteFile(pytest.File):
    """An nslab (or NSE) suite: read once, run once on its first item."""

    _result: Optional[_fwtest.SuiteResult] = None
    _error: Optional[str] = None

    def collect(self) -> Iterator["SuiteItem"]:
        try:
            with _fwtest.Suite(self.path) as s:
                names = s.names
        except (NslabError, ImportError) as e:
            raise self.CollectError(str(e)) from None
        for i, name in enumerate(names):
            yield SuiteItem.from_parent(self, name=name, index=i)

    def result(self) -> _fwtest.SuiteResult:
        if self._result is None and self._error is None:
            try:
                self._result = _fwtest.run_suite(self.path)
            except NslabError as e:
                self._error = str(e)
        if self._error is not None:
            raise SuiteTestFailure(self._error)
        assert self._result is not None
        return self._result


class SuiteTestFailure(Exception):
    """A suite's test did not pass: nslab's text."""


class SuiteItem(pytest.Item):
    def __init__(self, *, index: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.index = index

    def runtest(self) -> None:
        require_namespaces()
        parent: SuiteFile = self.parent  # type: ignore[assignment]
        t = parent.result().tests[self.index]
        if t.status == "skipped":
            pytest.skip("not selected")
        if t.status != "pass":
            raise SuiteTestFailure(f"{t.status}\n{t.log}".rstrip())

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, SuiteTestFailure):
            return f"{self.path}: {self.name}: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> Any:
        return self.path, None, self.name


_Builder = Callable[[Lab], Any]

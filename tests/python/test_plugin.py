# SPDX-License-Identifier: MIT
"""The pytest plugin: nslab_lab from a marker, suites collected, failure reports."""
import os
import textwrap

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.nslab_lab("two.yaml")
def test_marker_lab_from_file(nslab_lab):
    assert nslab_lab.name == "pytwo"
    assert nslab_lab.exec("alice", ["ping", "-c1", "-W5", "bob.pytwo.test"]).returncode == 0
    assert nslab_lab.outdir and os.path.isdir(nslab_lab.outdir)


def _build(lab):
    lab.add_router("r", pool="private").add_device("d", router="r")


@pytest.mark.nslab_lab(build=_build, name="built")
def test_marker_lab_from_builder(nslab_lab):
    assert nslab_lab.name == "built"
    assert nslab_lab.node("d").ip.startswith("10.")


def _run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "nslab.pytest_plugin", "-p", "no:cacheprovider",
                                         *args)


def test_suite_items_and_failure_text(pytester, fwtest):
    pytester.makefile(".yaml", test_fw=textwrap.dedent("""\
        rules: |
          table inet f { chain input { type filter hook input priority 0; policy drop; } }
        tests:
          - name: ssh open
            packets: [{proto: tcp, dport: 22, flags: S}]
            expect: {verdict: accept}
          - name: web dropped
            packets: [{proto: tcp, dport: 80, flags: S}]
            expect: {verdict: drop}
        """))
    r = _run(pytester, "-v")
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(["*test_fw.yaml::ssh open FAILED*", "*test_fw.yaml::web dropped PASSED*",
                            "*test_fw.yaml: ssh open: fail*", "*drop*"])


def test_suite_named_on_the_command_line(pytester, fwtest, srcdir):
    r = _run(pytester, str(srcdir / "examples/fwtest/basic.yaml"), "-v")
    r.assert_outcomes(passed=6)
    r.stdout.fnmatch_lines(["*basic.yaml::ssh is open PASSED*"])


def test_bad_suite_is_a_collection_error_with_place(pytester):
    pytester.makefile(".yaml", test_bad="tests:\n  - name: x\n    packets: [{proto: tcpp}]\n")
    r = _run(pytester)
    assert r.ret != 0
    r.stdout.fnmatch_lines(["*test_bad.yaml:3:*"])


def test_failed_test_report_names_outdir(pytester, fwtest):
    pytester.makepyfile(test_x=textwrap.dedent("""\
        import pytest
        def b(lab):
            lab.add_router("r").add_device("d", router="r")
        @pytest.mark.nslab_lab(build=b)
        def test_fails(nslab_lab):
            assert nslab_lab.exec("d", ["false"]).returncode == 0
        """))
    r = _run(pytester)
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*nslab lab*", "output directory: */nslab-out",
                            "last events*", '*"kind":"cmd_exited"*'])


def test_missing_marker_is_a_usage_error(pytester):
    pytester.makepyfile(test_y="def test_y(nslab_lab):\n    pass\n")
    r = _run(pytester)
    assert r.ret != 0
    r.stdout.fnmatch_lines(["*mark the test @pytest.mark.nslab_lab*"])


def test_unavailable_namespaces_skip_or_fail(pytester, monkeypatch):
    """No library (as no namespaces): a clear skip, or a failure under NSLAB_TEST_REQUIRE_PRIV=1."""
    pytester.makepyfile(test_z="def test_z(fwtest):\n    pass\n")
    monkeypatch.setenv("NSLAB_LIB", str(pytester.path / "missing.so"))
    monkeypatch.delenv("NSLAB_TEST_REQUIRE_PRIV", raising=False)
    r = _run(pytester, "-rs")
    r.assert_outcomes(skipped=1)
    r.stdout.fnmatch_lines(["*nslab: namespaces unavailable here: nslab: cannot load libnslab*"])
    monkeypatch.setenv("NSLAB_TEST_REQUIRE_PRIV", "1")
    r = _run(pytester)
    r.assert_outcomes(errors=1)
    r.stdout.fnmatch_lines(["*namespaces unavailable under NSLAB_TEST_REQUIRE_PRIV=1*"])

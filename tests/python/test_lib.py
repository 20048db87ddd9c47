# SPDX-License-Identifier: MIT
"""Library discovery, the ABI check, errors as exceptions."""
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nslab
from nslab import LabFileError, NslabError

HERE = Path(__file__).parent


def _py(code: str, **env: str) -> subprocess.CompletedProcess:
    e = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                          timeout=60)


def test_library_from_nslab_lib_dir_and_file():
    lib = os.environ["NSLAB_LIB"]
    d = lib if os.path.isdir(lib) else os.path.dirname(lib)
    for value in (d, os.path.join(d, "libnslab.so.0")):
        r = _py("import nslab; print(nslab.library_path())", NSLAB_LIB=value)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == value or r.stdout.strip().startswith(d)


def test_library_missing_is_a_clear_import_error(tmp_path):
    r = _py("import nslab\ntry:\n nslab.library_path()\nexcept nslab.LibraryNotFoundError as e:"
            "\n print('E', e)", NSLAB_LIB=str(tmp_path / "nope.so"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("E nslab: cannot load libnslab (") and "NSLAB_LIB" in r.stdout


def test_abi_checked():
    from nslab import _lib
    assert _lib.lib().nslab_abi_version() == nslab.ABI_VERSION


def test_abi_mismatch_refused():
    # the binding asks for an ABI this library does not have
    r = _py("import nslab\nimport nslab._lib as L\nL.ABI_VERSION = 999\ntry:\n L.lib()\n"
            "except nslab.AbiMismatchError as e:\n print('E', e)")
    assert "has ABI 1, this binding needs 999" in r.stdout, r.stdout + r.stderr


def test_lab_file_error_has_place():
    with pytest.raises(LabFileError) as ei:
        nslab.Lab.from_file(HERE / "bad.yaml").check()
    e = ei.value
    assert e.file.endswith("bad.yaml")
    assert (e.line, e.column) == (5, 19)
    assert e.errno in (errno.EINVAL, errno.ENOENT)
    assert "nowhere" in str(e)


def test_missing_file_is_oserror_with_errno(tmp_path):
    with pytest.raises(NslabError) as ei:
        nslab.Lab.from_file(tmp_path / "missing.yaml")
    assert ei.value.errno == errno.ENOENT
    assert isinstance(ei.value, OSError)
    assert "missing.yaml" in str(ei.value)


def test_link_backend_names_a_bad_value():
    with pytest.raises(NslabError) as ei:
        nslab.Lab.from_file(HERE / "two.yaml", link_backend="bogus")
    assert ei.value.errno == errno.EINVAL
    assert "link backend 'bogus': expected auto, wire or netem" in str(ei.value)
    nslab.Lab.from_file(HERE / "two.yaml", link_backend="wire").close()


def test_builder_error_names_value():
    lab = nslab.Lab("b")
    with pytest.raises(NslabError) as ei:
        lab.add_device("d", router="ghost")
        lab.check()
    assert "ghost" in str(ei.value)
    lab.close()


def test_python_m_nslab_runs_the_command():
    r = subprocess.run([sys.executable, "-m", "nslab", "--version"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("nslab ")
    r = subprocess.run([sys.executable, "-m", "nslab", "no-such-command"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "no-such-command" in r.stderr


def test_command_with_stdin_closed():
    """`nslab up -d` from a caller without a stdin (fd 0 closed) still brings the lab up."""
    cmd = os.environ["NSLAB"]
    name = f"pystdin-{os.getpid()}"
    small = str(HERE.parents[1] / "tests/e2e/small.yaml")
    r = subprocess.run(["sh", "-c", '"$0" up -d -q --name "$1" "$2" <&-', cmd, name, small],
                       capture_output=True, text=True, timeout=60)
    down = subprocess.run([cmd, "down", name], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert down.returncode == 0, down.stderr

# SPDX-License-Identifier: MIT
# The Python binding's tests: pytest (Debian's python3-pytest) against the real
# kernel, as root and as nobody (rootless). Run by tests/meson.build with
# PYTHONPATH=python, NSLAB_LIB=the build directory and -p nslab.pytest_plugin.
from pathlib import Path

import pytest

SRCDIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def srcdir() -> Path:
    return SRCDIR


# SPDX-License-Identifier: MIT
"""nslab from Python: labs, firewall tests and sandboxes over libnslab (ctypes).

    from nslab import Lab
    with Lab.from_file("examples/office.yaml") as lab:
        print(lab.exec("laptop", ["ping", "-c1", "server-1.office.test"]).returncode)

The shared library is found through NSLAB_LIB (a path, or a build directory)
or the dynamic linker (an installed libnslab.so.0); see docs/python.md.
"""

from __future__ import annotations

from . import fwtest
from ._lib import ABI_VERSION, bootstrap
from .errors import AbiMismatchError, LabFileError, LibraryNotFoundError, NslabError
from .lab import Event, Lab, LabProcess, Node
from .running import RunningLab, RunningNode
from .sandbox import (EgressQuestion, NamespaceFlags, Sandbox, SandboxEvent, SandboxPool,
                      SandboxProcess, SandboxResult)

__version__ = "0.1.0"
__all__ = ["ABI_VERSION", "AbiMismatchError", "EgressQuestion", "Event", "Lab", "LabFileError",
           "LabProcess", "LibraryNotFoundError", "NamespaceFlags", "Node", "NslabError",
           "RunningLab", "RunningNode", "Sandbox", "SandboxEvent", "SandboxPool", "SandboxProcess",
           "SandboxResult", "bootstrap", "fwtest", "library_path"]


def library_path() -> str:
    """The libnslab loaded (after the ABI check)."""
    from . import _lib
    return _lib.path()

# SPDX-License-Identifier: MIT
"""Exceptions raised for a failed libnslab call.

Every failure of the C library comes as an ``nslab_error`` (a positive errno
and a message); it is raised as :class:`NslabError`, an :class:`OSError` whose
``errno`` is the C library's code and whose ``strerror`` is its message. A
message that names a place in a file (``FILE:LINE:COL: ...``) is raised as
:class:`LabFileError` with that place parsed.
"""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["NslabError", "LabFileError", "AbiMismatchError", "LibraryNotFoundError"]

# "FILE:LINE:COL: message", possibly after "context: " prefixes added by callers
_PLACE = re.compile(r"(?:^|: )([^:\s][^:]*):(\d+):(\d+): ")


class NslabError(OSError):
    """A libnslab call failed: ``errno`` is its code, ``strerror`` its message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)

    @property
    def message(self) -> str:
        return str(self.strerror)

    def __str__(self) -> str:
        return self.message


class LabFileError(NslabError):
    """A file (lab, suite, ruleset, profile) was refused at ``file:line:column``."""

    def __init__(self, code: int, message: str, file: str, line: int, column: int) -> None:
        super().__init__(code, message)
        self.file = file
        self.line = line
        self.column = column


class AbiMismatchError(ImportError):
    """The libnslab found was built for another ABI than this binding."""


class LibraryNotFoundError(ImportError):
    """No libnslab.so could be loaded (set NSLAB_LIB, or install nslab)."""


def error_from(code: int, message: str) -> NslabError:
    """The exception for a C error: a LabFileError when the message names a file place."""
    m = _PLACE.search(message)
    if m is not None:
        return LabFileError(code, message, m.group(1), int(m.group(2)), int(m.group(3)))
    return NslabError(code, message)


def place_of(message: str) -> Optional[tuple[str, int, int]]:
    m = _PLACE.search(message)
    return None if m is None else (m.group(1), int(m.group(2)), int(m.group(3)))

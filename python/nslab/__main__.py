# SPDX-License-Identifier: MIT
"""`python -m nslab ARGS...` runs the nslab command with ARGS.

The command is $NSLAB if set, else the one next to the library NSLAB_LIB
names (a build directory's src/cli/nslab), else `nslab` on PATH.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import List, Optional


def command() -> Optional[str]:
    env = os.environ.get("NSLAB")
    if env:
        return env
    lib = os.environ.get("NSLAB_LIB")
    if lib:
        d = lib if os.path.isdir(lib) else os.path.dirname(lib)
        cand = os.path.join(d, "src", "cli", "nslab")
        if os.access(cand, os.X_OK):
            return cand
    return shutil.which("nslab")


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cmd = command()
    if cmd is None:
        print("nslab: the nslab command is not installed (set NSLAB to its path)", file=sys.stderr)
        return 127
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd, ["nslab"] + args)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())

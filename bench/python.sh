#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/python.sh NSLAB BUILD_DIR: the Python binding (python/nslab) against the
# command: lab.exec() vs `nslab exec`, run_suite() vs `nslab test` (bench/python.py).
# Printed, never a test.
set -euo pipefail
NSLAB=${1:?usage: python.sh NSLAB BUILD_DIR}
BUILD=${2:?usage: python.sh NSLAB BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
NSLAB_LIB="$BUILD" PYTHONPATH="$here/../python" PYTHONDONTWRITEBYTECODE=1 \
	exec "$PY" "$here/python.py" "$NSLAB"

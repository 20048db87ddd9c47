#!/bin/sh
# SPDX-License-Identifier: MIT
# python-install: `pip install --no-build-isolation --no-index ./python` works
# offline with Debian's setuptools (into a private --target), the installed
# package carries py.typed and its pytest11 entry point, and pytest with plugin
# autoloading on finds the nslab fixtures through that entry point alone.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env
$PY -c 'import pytest, setuptools, wheel' 2>/dev/null ||
	skip "python3-pytest, python3-setuptools or python3-wheel is not installed"
$PY -m pip --version >/dev/null 2>&1 || skip "python3-pip is not installed"

# a copy: setuptools writes build/ and *.egg-info next to the sources
cp -r "$SRCDIR/python" "$TMP/src" || fail "copy python/"
rm -rf "$TMP/src/build" "$TMP/src"/*.egg-info
PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HOME="$TMP" \
	$PY -m pip install --no-build-isolation --no-index --no-deps --target "$TMP/site" \
	"$TMP/src" >"$TMP/pip.out" 2>&1 || {
	cat "$TMP/pip.out" >&2
	fail "pip install --no-build-isolation --no-index failed"
}
ok "pip install offline"
[ -f "$TMP/site/nslab/py.typed" ] && ok "py.typed installed" || bad "no py.typed in the package"
grep -q 'nslab = nslab.pytest_plugin' "$TMP"/site/nslab-*.dist-info/entry_points.txt &&
	ok "pytest11 entry point" || bad "no pytest11 entry point in the installed metadata"

mkdir "$TMP/t" && cat >"$TMP/t/test_installed.py" <<'PY'
def test_sandbox_fixture(nslab_sandbox):
    res = nslab_sandbox.exec(["sh", "-c", "exit 5"])
    assert res.exit_code == 5
PY
(cd "$TMP/t" && PYTHONPATH="$TMP/site" NSLAB_LIB="$NSLAB_LIB" PYTHONDONTWRITEBYTECODE=1 \
	$PY -m pytest -q -p no:cacheprovider test_installed.py >"$TMP/pytest.out" 2>&1) &&
	grep -q "1 passed" "$TMP/pytest.out" && ok "the installed plugin's fixture, autoloaded" || {
	cat "$TMP/pytest.out" >&2
	bad "pytest did not run the installed plugin's fixture"
}
finish

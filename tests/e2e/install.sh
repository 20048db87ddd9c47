#!/bin/sh
# SPDX-License-Identifier: MIT
# install: the README's plain `meson setup` (man pages on because scdoc is
# there), `make install PREFIX=...` into a private prefix, then what a user of
# the package relies on: the nslab command, libnslab.so.0 (SONAME, symlinks,
# only nslab_* exported), include/nslab, nslab.pc whose `pkg-config --cflags
# --libs nslab` compiles examples/api/hello-lab.c against the installed shared
# library, and that program building a lab and pinging across it (as the
# example-hello-lab test does). Last, `make install DESTDIR=...` stages the
# same files under DESTDIR, nslab.pc still saying the real prefix.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env meson ninja make cc pkg-config nm objdump scdoc ping

B="$TMP/build"
P="$TMP/prefix"
# the plain route of the README; tests off only to keep this test short
meson setup "$B" "$SRCDIR" -Dtests=false >"$TMP/setup.out" 2>&1 || {
	cat "$TMP/setup.out" >&2
	fail "meson setup $B failed"
}
grep -q "scdoc found: YES" "$TMP/setup.out" && ok "meson setup without -Dman looks for scdoc" ||
	bad "meson setup without -Dman did not look for scdoc"
make -C "$SRCDIR" install BUILD="$B" PREFIX="$P" >"$TMP/install.out" 2>&1 || {
	tail -30 "$TMP/install.out" >&2
	fail "make install PREFIX=$P failed"
}
ok "make install PREFIX=$P"

# libdir is lib/<multiarch> on Debian, lib elsewhere
LIB=$(dirname "$(find "$P" -name libnslab.so.0 | head -n 1)")
[ -n "$LIB" ] && [ "$LIB" != . ] || fail "no libnslab.so.0 under $P"
for f in "$P/bin/nslab" "$P/include/nslab/nslab.h" "$P/include/nslab/error.h" \
	"$P/include/nslab/lab.h" "$P/include/nslab/fwtest.h" "$P/include/nslab/control.h" \
	"$LIB/pkgconfig/nslab.pc" "$P/share/man/man1/nslab.1" "$P/share/man/man5/nslab-lab.5" \
	"$P/share/man/man5/nslab-test.5"; do
	[ -s "$f" ] && ok "installed ${f#"$P"/}" || bad "not installed: ${f#"$P"/}"
done
[ -x "$P/bin/nslab" ] && "$P/bin/nslab" ls >/dev/null 2>&1 && ok "the installed nslab runs" ||
	bad "the installed $P/bin/nslab does not run ('nslab ls')"
# where the lean nslab is built (musl-tools; NSLAB_LEAN: the test build's, which
# this one's default options repeat), bin/nslab is static and hands what it does
# not run itself to libexec's nslab-full
"$P/bin/nslab" run -- sh -c 'exit 7' >/dev/null 2>&1
rc=$?
[ "$rc" -eq 7 ] && ok "the installed nslab run runs a command (exit 7 passed on)" ||
	bad "the installed nslab run -- sh -c 'exit 7': exit $rc"
if [ "${NSLAB_LEAN:-0}" = 1 ]; then
	[ -x "$P/libexec/nslab/nslab-full" ] && ok "installed libexec/nslab/nslab-full" ||
		bad "not installed: libexec/nslab/nslab-full"
	objdump -p "$P/bin/nslab" | grep -q NEEDED && bad "the lean bin/nslab needs shared libraries" ||
		ok "the lean bin/nslab is static"
	"$P/bin/nslab" --version | grep -q '^nslab ' && ok "bin/nslab hands --version to nslab-full" ||
		bad "bin/nslab --version did not print the version"
fi

# the library: real file, SONAME, the two symlinks
[ -f "$LIB/libnslab.so.0.1.0" ] && [ ! -L "$LIB/libnslab.so.0.1.0" ] &&
	ok "libnslab.so.0.1.0 is a file" || bad "no file $LIB/libnslab.so.0.1.0"
[ "$(readlink "$LIB/libnslab.so.0")" = libnslab.so.0.1.0 ] &&
	ok "libnslab.so.0 -> libnslab.so.0.1.0" || bad "libnslab.so.0 is not a link to libnslab.so.0.1.0"
[ "$(readlink "$LIB/libnslab.so")" = libnslab.so.0 ] && ok "libnslab.so -> libnslab.so.0" ||
	bad "libnslab.so is not a link to libnslab.so.0"
soname=$(objdump -p "$LIB/libnslab.so.0.1.0" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libnslab.so.0 ] && ok "SONAME libnslab.so.0" || bad "SONAME is '$soname'"
# exported: nslab_* functions, plus the version script's node (NSLAB_0.1, type A)
nm -D --defined-only "$LIB/libnslab.so" >"$TMP/nm.out" || bad "nm -D $LIB/libnslab.so failed"
others=$(awk '!($3 ~ /^nslab_/) && !($2 == "A" && $3 ~ /^NSLAB_[0-9.]+$/) { print $3 }' "$TMP/nm.out")
[ -z "$others" ] && [ -s "$TMP/nm.out" ] &&
	ok "only nslab_* exported ($(grep -c ' nslab_' "$TMP/nm.out") symbols)" ||
	bad "exported besides nslab_*: $(echo $others | cut -c1-200)"

# pkg-config, then the example against the installed library only
export PKG_CONFIG_PATH="$LIB/pkgconfig"
flags=$(pkg-config --cflags --libs nslab) || fail "pkg-config --cflags --libs nslab failed"
case "$flags" in
*"-I$P/include"*"-L$LIB"*"-lnslab"*) ok "pkg-config: $flags" ;;
*) bad "pkg-config --cflags --libs nslab: '$flags'" ;;
esac
# libnslab links libmnl alone; libnftables, libpcap, libseccomp... are dlopen()ed
pkg-config --print-requires-private nslab | grep -q libmnl &&
	ok "nslab.pc: Requires.private lists the linked dependency (libmnl)" ||
	bad "nslab.pc: no libmnl in Requires.private"
pkg-config --print-requires-private nslab | grep -q libnetfilter_conntrack &&
	bad "nslab.pc: Requires.private lists libnetfilter_conntrack, which is dlopen()ed"
if readelf -d "$LIB/libnslab.so.0" | grep NEEDED | grep -qE 'libnftables|libpcap|libseccomp|libfyaml|libcap|libnetfilter'; then
	bad "libnslab.so.0 links a library it should dlopen(): $(readelf -d "$LIB/libnslab.so.0" | grep NEEDED | tr -s ' ' | tr '\n' ' ')"
else
	ok "libnslab.so.0 links libmnl and libc only"
fi
# shellcheck disable=SC2086 # the flags are words
cc -Wall -Werror -o "$TMP/hello-lab" "$SRCDIR/examples/api/hello-lab.c" $flags \
	2>"$TMP/cc.err" || {
	cat "$TMP/cc.err" >&2
	fail "cc hello-lab.c \$(pkg-config --cflags --libs nslab) failed"
}
ok "hello-lab.c compiles and links with pkg-config's flags"
LD_LIBRARY_PATH="$LIB" ldd "$TMP/hello-lab" | grep -q "libnslab.so.0 => $LIB/libnslab.so.0" &&
	ok "hello-lab uses the installed libnslab.so.0" ||
	bad "hello-lab does not load $LIB/libnslab.so.0: $(LD_LIBRARY_PATH="$LIB" ldd "$TMP/hello-lab" | grep nslab)"
LD_LIBRARY_PATH="$LIB" "$TMP/hello-lab" >"$TMP/hello.out" 2>&1
rc=$?
cat "$TMP/hello.out"
if [ $rc -eq 0 ] && [ "$(grep -c '^laptop -> server (.*): ok$' "$TMP/hello.out")" -eq 2 ]; then
	ok "hello-lab built its lab and pinged over IPv4 and IPv6"
else
	bad "hello-lab exited $rc"
fi

# DESTDIR: the same files staged under it, with the configured prefix
D="$TMP/dest"
make -C "$SRCDIR" install BUILD="$B" PREFIX=/usr/local DESTDIR="$D" >"$TMP/destdir.out" 2>&1 || {
	tail -30 "$TMP/destdir.out" >&2
	fail "make install PREFIX=/usr/local DESTDIR=$D failed"
}
for f in bin/nslab include/nslab/nslab.h share/man/man1/nslab.1 "${LIB#"$P"/}/libnslab.so.0" \
	"${LIB#"$P"/}/pkgconfig/nslab.pc"; do
	[ -e "$D/usr/local/$f" ] && ok "DESTDIR: usr/local/$f" || bad "DESTDIR: no usr/local/$f"
done
grep -qx "prefix=/usr/local" "$D/usr/local/${LIB#"$P"/}/pkgconfig/nslab.pc" &&
	ok "DESTDIR: nslab.pc says prefix=/usr/local" || bad "DESTDIR: nslab.pc has the wrong prefix"
finish

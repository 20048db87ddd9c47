#!/bin/sh
# SPDX-License-Identifier: MIT
# cli: the nslab command's front end. --help/-h of every command (stdout, exit
# 0, every option with an aligned description), help COMMAND, --version,
# global -v after the command, "did you mean", exit status 2 for every usage
# error, the messages that say what to type instead, options after exec's
# command left alone, and the shell completions.
# Not tested: the refusal to run with AT_SECURE (setuid or file capabilities),
# which needs a setuid copy of the binary.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
[ -x "$NSLAB" ] || fail "NSLAB='$NSLAB' is not an executable"

COMMANDS="up ls status exec shell down cleanup test trace run link help version"
EX="$SRCDIR/examples/fwtest"

# run NAME ARGS...: nslab ARGS with stdout in $TMP/NAME.out, stderr in .err; sets rc.
run() {
	_n=$1
	shift
	"$NSLAB" "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
	rc=$?
}

# expect_rc NAME STATUS WHAT
expect_rc() {
	if [ "$rc" -eq "$2" ]; then ok "$3: exit $rc"; else
		bad "$3: exit $rc, expected $2 (stderr: $(head -3 "$TMP/$1.err"))"
	fi
}

# in_err NAME TEXT WHAT: stderr contains TEXT (fixed string)
in_err() {
	if grep -qF -- "$2" "$TMP/$1.err"; then ok "$3: says '$2'"; else
		bad "$3: stderr lacks '$2': $(cat "$TMP/$1.err")"
	fi
}

# --- help of every command: stdout, exit 0, aligned options ---
for c in $COMMANDS; do
	for h in --help -h; do
		run "help-$c" "$c" $h
		expect_rc "help-$c" 0 "nslab $c $h"
		head -1 "$TMP/help-$c.out" | grep -q "^usage: nslab $c" ||
			bad "nslab $c $h: stdout does not start with 'usage: nslab $c'"
		[ -s "$TMP/help-$c.err" ] && bad "nslab $c $h: output on stderr"
	done
	for o in --help --verbose; do
		grep -q -- "^  .*$o" "$TMP/help-$c.out" || bad "nslab $c --help does not list $o"
	done
	# the descriptions start in one column
	cols=$(sed -n '/^options:/,$p' "$TMP/help-$c.out" | tail -n +2 |
		awk '{ match($0, /^ +(-[a-z], )?--[a-z0-9-]+( [A-Z][^ ]*)* +/); print RLENGTH }' | sort -u)
	[ "$(echo "$cols" | wc -l)" -eq 1 ] && [ "$cols" -gt 0 ] ||
		bad "nslab $c --help: option descriptions not aligned (columns: $(echo $cols))"
	run "helpcmd-$c" help "$c"
	expect_rc "helpcmd-$c" 0 "nslab help $c"
	cmp -s "$TMP/help-$c.out" "$TMP/helpcmd-$c.out" || bad "nslab help $c differs from nslab $c -h"
done

# every option each command takes is in its help
check_opts() {
	_c=$1
	shift
	for _o in "$@"; do
		grep -q -- "$_o\( \|,\|$\)" "$TMP/help-$_c.out" || bad "nslab $_c --help does not list $_o"
	done
	ok "nslab $_c --help lists $*"
}
check_opts up --detach -d --name -n --outdir -o --persist --link-backend --quiet -q
check_opts status --json
check_opts test --format -f --output -o --coverage --only -k --quiet -q --check --compare \
	--allow-include
check_opts trace --rules -r --topology -t --allow-include
check_opts exec --detach -d --sandbox
check_opts run --net --in --mem --cpu --pids --fds --fsize --timeout --rootfs --ro --bind \
	--ro-bind --tmpfs --chdir --seccomp --cap-add --uid --gid --as-root --hostname --env \
	--clearenv --profile --dry-run --stats --json

# --- nslab help / --help: every command, aligned ---
for h in help --help -h; do
	run top $h
	expect_rc top 0 "nslab $h"
	for c in $COMMANDS; do
		grep -q "^  $c\( \|$\)" "$TMP/top.out" || bad "nslab $h does not list '$c'"
	done
	cols=$(sed -n '/^commands:/,/^$/p' "$TMP/top.out" | grep '^  ' |
		awk '{ match($0, /^  .*[^ ]  +/); print RLENGTH }' | sort -u)
	[ "$(echo "$cols" | wc -l)" -eq 1 ] || bad "nslab $h: command descriptions not aligned"
done
run none
expect_rc none 2 "nslab without a command"
grep -q "^usage: nslab" "$TMP/none.err" || bad "nslab without a command: no usage on stderr"

# --- version ---
version=$(sed -n "s/^project('nslab', 'c', version : '\([^']*\)'.*/\1/p" "$SRCDIR/meson.build")
[ -n "$version" ] || fail "no project version in meson.build"
for v in --version version; do
	run version $v
	expect_rc version 0 "nslab $v"
	[ "$(cat "$TMP/version.out")" = "nslab $version" ] ||
		bad "nslab $v printed '$(cat "$TMP/version.out")', expected 'nslab $version'"
done

# --- did you mean ---
run typo stauts
expect_rc typo 2 "nslab stauts"
in_err typo "did you mean 'status'?" "nslab stauts"
run typo2 tset "$EX/basic.yaml"
expect_rc typo2 2 "nslab tset"
in_err typo2 "did you mean 'test'?" "nslab tset"
run typo3 test --fromat json "$EX/basic.yaml"
expect_rc typo3 2 "nslab test --fromat"
in_err typo3 "did you mean '--format'?" "nslab test --fromat"
run typo4 status -json lab
expect_rc typo4 2 "nslab status -json"
in_err typo4 "did you mean '--json'?" "nslab status -json"
run typo5 help stauts
expect_rc typo5 2 "nslab help stauts"
in_err typo5 "did you mean 'status'?" "nslab help stauts"
run typo6 --verbsoe ls
expect_rc typo6 2 "nslab --verbsoe"
in_err typo6 "did you mean '--verbose'?" "nslab --verbsoe"

# --- exit status 2 for every usage error, with a message on stderr and nothing on stdout ---
n=0
while IFS='|' read -r what args; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # word splitting wanted
	eval "set -- $args"
	run "usage$n" "$@"
	expect_rc "usage$n" 2 "$what (nslab $args)"
	[ -s "$TMP/usage$n.err" ] || bad "$what: nothing on stderr"
	[ -s "$TMP/usage$n.out" ] && bad "$what: output on stdout: $(cat "$TMP/usage$n.out")"
done <<'EOF_USAGE'
unknown global option|--bogus ls
up without a file|up
up with two files|up a.yaml b.yaml
up --name without a value|up x.yaml --name
up unknown option|up --bogus x.yaml
down without a lab|down
down with two labs|down a b
ls with an argument|ls x
status without a lab|status
status with two labs|status a b
exec without arguments|exec
exec without a node|exec lab
exec without a node before --|exec lab -- true
exec without a command|exec lab node
exec without a command after --|exec lab node --
shell without a node|shell lab
shell with three arguments|shell lab node x
cleanup with two labs|cleanup a b
test without a suite|test
test with two suites|test a.yaml b.yaml
test with an unknown format|test --format xml a.yaml
test --format without a value|test a.yaml --format
test --check and a suite|test --check a.nft b.yaml
test --check without a value|test --check
test --compare without SUITE|test --compare a.nft b.nft
trace without --rules|trace 'tcp 10.0.0.1:1 > 10.0.0.2:2 S'
trace without a packet|trace --rules a.nft
trace with two packets|trace --rules a.nft p1 p2
help with two commands|help up down
version with an argument|version x
--json takes no value|status --json=yes lab
ambiguous option|test --co a.yaml
exec --detach and --sandbox|exec -d --sandbox p.yaml lab node -- true
run without a command|run
run without a command after --|run --mem 1G --
run unknown option|run --bogus true
run --mem without a value|run --mem
run --in without a node|run --in lab
run --in without a node before --|run --in lab -- true
run a flag with a value|run --ro=yes true
EOF_USAGE
in_err usage13 "expected a node name" "exec LAB -- CMD"

# --- options after exec's command (or after --) belong to the command ---
# No such lab: the command reaches the library (exit 1), so no option was taken as nslab's.
L=$(new_lab_name nosuch)
for args in "-- true -v" "-- sh --help" "true -h" "-v $L node -- true -q"; do
	case $args in -v*) set -- $args ;; *) set -- "$L" node $args ;; esac
	run exec-rest exec "$@"
	expect_rc exec-rest 1 "nslab exec $*"
	in_err exec-rest "$L" "nslab exec $*"
	grep -q "^usage:" "$TMP/exec-rest.out" && bad "nslab exec $*: printed a usage"
done

# --- messages that say what to type instead ---
run v6 trace --rules "$EX/new.nft" 'tcp 2001:db8::1:80 > [2001:db8::2]:22 S'
expect_rc v6 2 "trace with an unbracketed IPv6 address"
in_err v6 "[2001:db8::1]:80" "trace with an unbracketed IPv6 address"
run v6b trace --rules "$EX/new.nft" 'udp [2001:db8::1]:53 > 2001:db8::2 '
expect_rc v6b 2 "trace with an unbracketed IPv6 address without a port"
in_err v6b "in brackets" "trace with an unbracketed IPv6 address without a port"
run rs test "$EX/old.nft"
expect_rc rs 2 "nslab test RULESET.nft"
in_err rs "nslab test --check $EX/old.nft" "nslab test RULESET.nft"
printf '# a ruleset without .nft\n\nflush ruleset\ntable inet t {\n}\n' >"$TMP/rules.txt"
run rs2 test "$TMP/rules.txt"
expect_rc rs2 2 "nslab test on nft text"
in_err rs2 "nslab test --check $TMP/rules.txt" "nslab test on nft text"
run suite test --check "$EX/basic.yaml"
expect_rc suite 2 "nslab test --check SUITE.yaml"
in_err suite "run it with \`nslab test $EX/basic.yaml\`" "nslab test --check SUITE.yaml"
printf -- '---\n# a suite without .yaml\ntopology: direct\n' >"$TMP/suite.txt"
run suite2 test --check "$TMP/suite.txt"
expect_rc suite2 2 "nslab test --check on YAML text"
in_err suite2 "nslab test $TMP/suite.txt" "nslab test --check on YAML text"

# --- global -v after the command ---
if { is_root && unshare -n true; } 2>/dev/null || unshare -Urn true 2>/dev/null; then
	run vafter test "$EX/basic.yaml" -v
	expect_rc vafter 0 "nslab test SUITE -v"
	run vbefore -v test "$EX/basic.yaml"
	expect_rc vbefore 0 "nslab -v test SUITE"
	grep -q "^    trace: " "$TMP/vafter.out" || bad "nslab test SUITE -v printed no trace path"
	# the same lines but for times and ephemeral ports
	sed 's/([0-9.]* ms)//; s/:[0-9]* >/ >/' "$TMP/vafter.out" >"$TMP/vafter.txt"
	sed 's/([0-9.]* ms)//; s/:[0-9]* >/ >/' "$TMP/vbefore.out" >"$TMP/vbefore.txt"
	cmp -s "$TMP/vafter.txt" "$TMP/vbefore.txt" || bad "nslab test SUITE -v and nslab -v test SUITE differ"
else
	log "note: no network namespaces here; nslab test SUITE -v not run"
fi

# --- shell completions ---
COMP="$SRCDIR/completions"
if bash -n "$COMP/nslab.bash"; then ok "bash completion parses"; else bad "bash -n nslab.bash failed"; fi
# shellcheck disable=SC2016 # expanded by bash
out=$(NSLAB_BIN="$NSLAB" bash -c '
	. "$1" || exit 1
	complete -p nslab || exit 1
	COMP_WORDS=(nslab st); COMP_CWORD=1; _nslab; echo "commands: ${COMPREPLY[*]}"
	COMP_WORDS=(nslab test --fo); COMP_CWORD=2; _nslab; echo "options: ${COMPREPLY[*]}"
	COMP_WORDS=(nslab test --format js); COMP_CWORD=3; _nslab; echo "formats: ${COMPREPLY[*]}"
	COMP_WORDS=(nslab exec lab node -- ech); COMP_CWORD=5; _nslab; echo "exec: ${COMPREPLY[*]}"
' sh "$COMP/nslab.bash" 2>&1)
echo "$out" | grep -q "^complete -F _nslab nslab" || bad "complete -p nslab after sourcing: $out"
echo "$out" | grep -qx "commands: status" || bad "bash: nslab st<TAB>: $out"
echo "$out" | grep -qx "options: --format" || bad "bash: nslab test --fo<TAB>: $out"
echo "$out" | grep -qx "formats: json" || bad "bash: nslab test --format j<TAB>: $out"
echo "$out" | grep -q "^exec: .*echo" || bad "bash: nslab exec lab node -- ech<TAB>: $out"
ok "bash completion: $(echo "$out" | tr '\n' ';')"
# lab and node names, from a lab that is up
if { is_root && unshare -n true; } 2>/dev/null || unshare -Urn true 2>/dev/null; then
	L=$(new_lab_name cli)
	lab_up "$SRCDIR/examples/two-hosts.yaml" "$L"
	# shellcheck disable=SC2016 # expanded by bash
	out=$(bash -c '
		. "$1" || exit 1
		COMP_WORDS=("$2" status "${3%???}"); COMP_CWORD=2; _nslab; echo "labs: ${COMPREPLY[*]}"
		COMP_WORDS=("$2" exec -v "$3" ""); COMP_CWORD=4; _nslab; echo "nodes: ${COMPREPLY[*]}"
		COMP_WORDS=("$2" shell "$3" al); COMP_CWORD=3; _nslab; echo "node: ${COMPREPLY[*]}"
	' sh "$COMP/nslab.bash" "$NSLAB" "$L" 2>&1)
	echo "$out" | grep -qx "labs: .*$L.*" || bad "bash: nslab status LAB-PREFIX<TAB>: $out"
	echo "$out" | grep -qx "nodes: gw alice bob" || bad "bash: nslab exec LAB <TAB>: $out"
	echo "$out" | grep -qx "node: alice" || bad "bash: nslab shell LAB al<TAB>: $out"
	ok "bash completion of labs and nodes: $(echo "$out" | tr '\n' ';')"
	"$NSLAB" down "$L" || bad "nslab down $L failed"
fi
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$COMP/_nslab" && ok "zsh completion parses" || bad "zsh -n _nslab failed"
else
	log "note: zsh is not installed; _nslab not checked"
fi
if command -v fish >/dev/null 2>&1; then
	fish -n "$COMP/nslab.fish" && ok "fish completion parses" || bad "fish -n nslab.fish failed"
else
	log "note: fish is not installed; nslab.fish not checked"
fi
log "not tested: AT_SECURE (setuid/file capabilities) refusal, which needs a setuid copy"
finish

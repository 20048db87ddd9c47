#!/bin/sh
# SPDX-License-Identifier: MIT
# serve: `nslab serve` on a real run directory (a lab brought up and down, a
# test report) and a live lab, driven with curl: the runs list (and its push
# stream), state (the
# live one from the supervisor), events as SSE (history, Last-Event-ID, and
# the live tail: an event of `nslab link` arrives within 1 s), logs by byte
# offset, files; every security rule (path and symlink escapes, Host, Origin,
# token, method, rate); the playground; bad flags; and a SIGKILLed server
# leaves nothing behind; a live router's conntrack table.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env curl iperf3 ping

RUNS="$TMP/runs"
mkdir -p "$RUNS" && chmod 700 "$RUNS"
L=$(new_lab_name serve)
DONE=$(new_lab_name served)

# A finished run: a lab brought up and down with an output directory.
lab_up "$E2E/small.yaml" "$DONE" --outdir "$RUNS/done"
"$NSLAB" down "$DONE" || fail "nslab down $DONE"
# A report of nslab test.
"$NSLAB" test --format json -o "$RUNS/report.json" "$SRCDIR/examples/fwtest/basic.yaml" \
	>/dev/null 2>&1
# The live lab, and a detached command writing a log into its output directory.
lab_up "$E2E/small.yaml" "$L" --outdir "$RUNS/live"
"$NSLAB" exec --detach "$L" laptop -- sh -c 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done' \
	>/dev/null || bad "exec --detach in $L failed"

# start_serve NAME ARGS...: nslab serve ARGS in the background; URL in $URL, base in $BASE.
start_serve() {
	_n=$1
	shift
	"$NSLAB" serve "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err" &
	SP=$!
	track_pid "$SP"
	wait_until 10 grep -q '^http://' "$TMP/$_n.out" || {
		cat "$TMP/$_n.err" >&2
		fail "nslab serve $* printed no URL"
	}
	URL=$(head -n 1 "$TMP/$_n.out")
	BASE=${URL%%\?*}
	BASE=${BASE%/}
}

# get PATH [CURL_ARGS...]: the status code; the body in $TMP/body, headers in $TMP/head.
get() {
	_p=$1
	shift
	curl -s -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "$@" "$BASE$_p"
}

# expect_code WHAT CODE PATH [CURL_ARGS...]
expect_code() {
	_what=$1
	_want=$2
	shift 2
	_got=$(get "$@")
	if [ "$_got" = "$_want" ]; then ok "$_what: $_got"; else
		bad "$_what: HTTP $_got, expected $_want: $(head -c 300 "$TMP/body")"
	fi
}

# json_check WHAT PYTHON_EXPR: evaluate over the last body as `j`.
json_check() {
	if $PY -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$TMP/body" "$2" 2>"$TMP/py.err"; then ok "$1"; else
		bad "$1: not true of $(head -c 400 "$TMP/body"): $2 $(cat "$TMP/py.err")"
	fi
}

start_serve main "$RUNS" --bind 127.0.0.1:0 --ui "$TMP/no-ui" # the page that says it is not built
case $URL in *token=*) bad "a token on loopback without the playground: $URL" ;; esac

nc=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$BASE/api/info" "$BASE/api/info")
[ "$nc" = "1 0 " ] && ok "keep-alive: two requests on one connection" ||
	bad "keep-alive: connections per request: $nc"

# ---- the runs list ----
expect_code "runs" 200 /api/runs
json_check "runs: the finished lab, the live lab's outdir and the report" \
	'{(r["id"], r["kind"]) for r in j["runs"]} >= {("0:done", "lab"), ("0:live", "lab"), ("0:.", "report")}'
json_check "runs: the live lab with its output directory" \
	"any(l['name'] == '$L' and l.get('outdir', '').endswith('/runs/live') for l in j['live'])"

# ---- the runs list, pushed: a run made after the stream opened arrives without a request ----
curl -sN "$BASE/api/runs?watch=1" >"$TMP/runs.sse" 2>/dev/null &
track_pid $!
wait_until 5 grep -q '"0:done"' "$TMP/runs.sse" || bad "runs stream: no first list"
t0=$(date +%s%N)
mkdir -p "$RUNS/later/deep" && cp "$RUNS/done/events.jsonl" "$RUNS/later/deep/events.jsonl"
if wait_until 2 grep -q '"0:later/deep"' "$TMP/runs.sse"; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le 1000 ] && ok "runs stream: a new run two directories down pushed in ${ms} ms" ||
		bad "runs stream: the new run after ${ms} ms (> 1 s)"
else
	bad "runs stream: no new run 2 s after it was made: $(tail -c 300 "$TMP/runs.sse")"
fi
rm -rf "$RUNS/later"
wait_until 2 sh -c "grep '^data: {\"roots\"' '$TMP/runs.sse' | tail -n 1 | grep -qv later" &&
	ok "runs stream: a removed run leaves the list" || bad "runs stream: the removed run is still listed"

# ---- state ----
status_json "$L" "$TMP/status.json"
expect_code "live state" 200 "/api/state?run=live:$L"
json_check "live state: the supervisor's, every node" \
	"sorted(n['name'] for n in j['nodes']) == sorted(n['name'] for n in json.load(open('$TMP/status.json'))['nodes'])"
expect_code "finished run's state" 200 "/api/state?run=0:done"
json_check "finished run's state.json" "j['lab'] == '$DONE' and len(j['nodes']) > 3"
expect_code "unknown live lab" 404 "/api/state?run=live:nosuchlab-$$"

# ---- events: history, Last-Event-ID ----
n_lines=$(wc -l <"$RUNS/done/events.jsonl")
expect_code "events history" 200 "/api/events?run=0:done&follow=0"
grep -q '^Content-Type: text/event-stream' "$TMP/head" && ok "events: text/event-stream" ||
	bad "events: content type $(grep -i content-type "$TMP/head")"
ids=$(sed -n 's/^id: //p' "$TMP/body" | tr '\n' ' ')
[ "$ids" = "$(seq 1 "$n_lines" | tr '\n' ' ')" ] && ok "events: ids 1..$n_lines, one per line" ||
	bad "events: ids '$ids' for $n_lines lines"
sed -n 's/^data: //p' "$TMP/body" | cmp -s - "$RUNS/done/events.jsonl" &&
	ok "events: data lines are events.jsonl's" || bad "events: data differs from events.jsonl"
expect_code "events after Last-Event-ID 3" 200 "/api/events?run=0:done&follow=0" -H 'Last-Event-ID: 3'
[ "$(sed -n 's/^id: //p' "$TMP/body" | head -n 1)" = 4 ] && ok "Last-Event-ID: resumes at 4" ||
	bad "Last-Event-ID 3: first id $(sed -n 's/^id: //p' "$TMP/body" | head -n 1)"
expect_code "bad Last-Event-ID" 400 "/api/events?run=0:done" -H 'Last-Event-ID: x'

# ---- events: the live tail ----
curl -sN "$BASE/api/events?run=live:$L" >"$TMP/sse" 2>/dev/null &
track_pid $!
wait_until 10 grep -q '"kind":"lab_built"' "$TMP/sse" || bad "live events: no history (lab_built)"
t0=$(date +%s%N)
"$NSLAB" link "$L" laptop eth0 set delay 15ms >/dev/null || bad "nslab link $L laptop eth0 failed"
if wait_until 2 grep -q '"kind":"link_condition"' "$TMP/sse"; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le 1000 ] && ok "live events: link_condition of nslab link within ${ms} ms" ||
		bad "live events: link_condition after ${ms} ms (> 1 s)"
else
	bad "live events: no link_condition 2 s after nslab link"
fi

# ---- logs ----
wait_until 10 sh -c "ls '$RUNS/live/nodes/laptop/' 2>/dev/null | grep -q stdout" ||
	bad "no log of the detached command"
expect_code "logs" 200 "/api/logs?run=live:$L"
log=$($PY -c 'import json, sys; print([l["path"] for l in json.load(open(sys.argv[1]))["logs"] if l["path"].endswith(".stdout")][0])' "$TMP/body")
[ -n "$log" ] && ok "logs: $log listed" || bad "logs: no .stdout listed: $(cat "$TMP/body")"
wait_until 10 grep -q 'line 199' "$RUNS/live/$log" || bad "the command did not finish its output"
expect_code "log tail" 200 "/api/log?run=live:$L&path=$log&offset=7&max=7"
[ "$(cat "$TMP/body")" = "$(tail -c +8 "$RUNS/live/$log" | head -c 7)" ] &&
	ok "log: bytes 7..13 as in the file" || bad "log slice: '$(cat "$TMP/body")'"
grep -q '^X-Nslab-Next: 14' "$TMP/head" && ok "log: X-Nslab-Next 14" ||
	bad "log: $(grep X-Nslab "$TMP/head" | tr -d '\r' | tr '\n' ' ')"
expect_code "file" 200 "/api/file?run=0:done&path=state.json"
cmp -s "$TMP/body" "$RUNS/done/state.json" && ok "file: state.json as it is" ||
	bad "file: differs from state.json"

expect_code "live link counters" 200 "/api/link?run=live:$L&node=laptop&iface=eth0"
json_check "link: condition and counters from the supervisor" \
	"j['node'] == 'laptop' and j['up']['condition'] == 'delay 15ms' and 'passed' in j['down']"
expect_code "link of a finished run" 400 "/api/link?run=0:done&node=laptop&iface=eth0"

# a live conntrack table: the home router NATs, the laptop pings the server through it
"$NSLAB" router "$L" home nat home >/dev/null || bad "nslab router $L home nat home failed"
"$NSLAB" exec "$L" laptop -- ping -c1 -W2 api.example.test >/dev/null || bad "laptop cannot ping the server"
lap4=$($PY -c 'import json, sys; print([f["ip4"] for n in json.load(open(sys.argv[1]))["nodes"] if n["name"] == "laptop" for f in n["ifaces"]][0].split("/")[0])' "$TMP/status.json")
expect_code "live conntrack" 200 "/api/conntrack?run=live:$L&node=home"
json_check "conntrack: the laptop's ping, NATed, in the router's table" \
	"any(e['proto'] == 'icmp' and e['orig']['src'] == '$lap4' and e['nat'] and e['replied'] for e in j['entries'])"
expect_code "conntrack of no node" 404 "/api/conntrack?run=live:$L&node=nosuchnode"
expect_code "conntrack of a finished run" 400 "/api/conntrack?run=0:done&node=home"

# ---- a sim run: discovery and results ----
if "$NSLAB" sim --outdir "$RUNS/sim" -q "$SRCDIR/examples/sims/two-hosts.yaml" >"$TMP/sim.out" 2>&1; then
	expect_code "runs with a sim" 200 /api/runs
	json_check "runs: the sim run and its sim" \
		'{("0:sim", "sim-run"), ("0:sim/two-hosts", "sim")} <= {(r["id"], r["kind"]) for r in j["runs"]}'
	expect_code "sim results" 200 "/api/results?run=0:sim/two-hosts"
	json_check "results: the sim's bps" "j['sim'] == 'two-hosts' and float(j['results']['bps']) > 0"
	expect_code "sim.json" 200 "/api/results?run=0:sim/two-hosts&of=sim"
	json_check "sim.json: its steps" "j['status'] == 'passed' and len(j['steps']) > 3"
	expect_code "step logs" 200 "/api/logs?run=0:sim/two-hosts"
	json_check "logs: the steps' output" "any(l['path'].startswith('steps/') for l in j['logs'])"
	expect_code "bad ?of=" 400 "/api/results?run=0:sim/two-hosts&of=x"
else
	bad "nslab sim examples/sims/two-hosts.yaml failed: $(tail -5 "$TMP/sim.out")"
fi

# ---- confinement ----
ln -s /etc/passwd "$RUNS/done/passwd"
ln -s /etc "$RUNS/done/etc"
ln -s /etc "$RUNS/etc"
expect_code "path escape (..)" 400 "/api/file?run=0:done&path=../live/state.json"
expect_code "path escape (%2e%2e)" 400 "/api/file?run=0:done&path=%2e%2e/%2e%2e/etc/passwd"
expect_code "absolute path" 400 "/api/file?run=0:done&path=/etc/passwd"
expect_code "run escape (..)" 400 "/api/file?run=0:..&path=etc/passwd"
expect_code "symlink escape (file)" 403 "/api/file?run=0:done&path=passwd"
expect_code "symlink escape (directory)" 403 "/api/file?run=0:done&path=etc/passwd"
expect_code "symlink escape (run)" 403 "/api/file?run=0:etc&path=passwd"
grep -q root: "$TMP/body" && bad "/etc/passwd was served"
expect_code "unknown served directory" 400 "/api/file?run=7:done&path=state.json"

# ---- Host, Origin, method ----
port=${BASE#http://127.0.0.1:}

expect_code "foreign Host (DNS rebinding)" 421 /api/runs -H "Host: attacker.example:$port"
expect_code "Host with another port" 421 /api/runs -H "Host: 127.0.0.1:1"
expect_code "Host localhost" 200 /api/runs -H "Host: localhost:$port"
expect_code "foreign Origin" 403 /api/runs -H "Origin: http://attacker.example"
expect_code "Origin null" 403 /api/runs -H "Origin: null"
expect_code "same Origin" 200 /api/runs -H "Origin: http://127.0.0.1:$port"
expect_code "POST without the playground" 405 /api/playground -X POST --data-binary x
expect_code "DELETE" 405 /api/runs -X DELETE
expect_code "unknown endpoint" 404 /api/nothing
expect_code "UI page (not built here)" 200 /
grep -q 'not built' "$TMP/body" && ok "UI: says it is not built" || bad "UI: $(head -c 200 "$TMP/body")"

# the server stops at SIGTERM with a live SSE stream open
t0=$(date +%s%N)
kill "$SP"
wait "$SP"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 0 ] && [ "$ms" -lt 3000 ] && ok "SIGTERM: exit 0 in ${ms} ms with a stream open" ||
	bad "SIGTERM: exit $rc after ${ms} ms"

# ---- token, playground ----
start_serve play "$RUNS" --bind 127.0.0.1:0 --playground
TOK=${URL#*token=}
[ ${#TOK} -eq 32 ] && ok "playground: token in the URL" || bad "playground: URL $URL"
expect_code "no token" 401 /api/runs
expect_code "bad token" 401 "/api/runs?token=0123456789abcdef0123456789abcdef"
expect_code "bad bearer" 401 /api/runs -H "Authorization: Bearer x$TOK"
expect_code "token in the URL" 200 "/?token=$TOK"
cookie=$(sed -n 's/^Set-Cookie: \(nslab_token=[0-9a-f]*\);.*/\1/p' "$TMP/head")
grep -q '^Set-Cookie: .*HttpOnly; SameSite=Strict' "$TMP/head" && ok "token: cookie set" ||
	bad "token: no HttpOnly SameSite cookie"
expect_code "token cookie" 200 /api/runs -H "Cookie: $cookie"
expect_code "bearer token" 200 /api/runs -H "Authorization: Bearer $TOK"
cat >"$TMP/two-rules.yaml" <<'EOT'
topology: direct
rules: |
  table inet filter {
    chain input {
      type filter hook input priority 0; policy drop;
      tcp dport 22 accept comment "ssh"
      tcp dport 80 drop comment "web"
    }
  }
tests:
  - name: ssh
    packets: [{proto: tcp, dport: 22, flags: S}]
  - name: web
    packets: [{proto: tcp, dport: 80, flags: S}]
EOT
expect_code "playground without token" 401 /api/playground -X POST --data-binary @"$TMP/two-rules.yaml"
expect_code "playground" 200 /api/playground -H "Authorization: Bearer $TOK" \
	--data-binary @"$TMP/two-rules.yaml"
json_check "playground: each packet's verdict and deciding rule" \
	"[(p['verdict'], p['rule']) for t in j['tests'] for p in t['packets']] == [('accept', 'tcp dport 22 accept comment \"ssh\"'), ('drop', 'tcp dport 80 drop comment \"web\"')]"
json_check "playground: trace events" "all(p['trace_events'] > 0 and p['trace'] for t in j['tests'] for p in t['packets'])"
printf 'rules: [\n' >"$TMP/bad.yaml"
expect_code "playground: bad suite" 400 /api/playground -H "Authorization: Bearer $TOK" \
	--data-binary @"$TMP/bad.yaml"
json_check "playground: the error names suite:LINE:COL" "j['error'].find('suite:2:1:') >= 0"
head -c 300000 /dev/zero | tr '\0' x >"$TMP/big"
expect_code "playground: body too large" 413 /api/playground -H "Authorization: Bearer $TOK" \
	--data-binary @"$TMP/big"

# SIGKILL: the port is free again and no child is left
kids=$(children_of "$SP")
kill -9 "$SP"
wait "$SP" 2>/dev/null
port=${BASE#http://127.0.0.1:}

no_kids() { for _k in $kids; do alive "$_k" && return 1; done; return 0; }
wait_until 5 no_kids && ok "SIGKILL: no child left" || bad "SIGKILL: children left: $kids"
curl -s -o /dev/null "$BASE/api/runs" && bad "SIGKILL: the port still answers" ||
	ok "SIGKILL: nothing listens on $port"

# ---- rate limit ----
start_serve rate "$RUNS" --bind 127.0.0.1:0 --rate 5
codes=$(for i in $(seq 25); do get /api/info; echo; done | sort | uniq -c | tr '\n' ' ')
case $codes in *429*) ok "rate 5/s: refused past the burst ($codes)" ;; *) bad "rate 5/s: $codes" ;; esac
kill "$SP"
wait "$SP"

# ---- bad input ----
"$NSLAB" serve --bind nonsense >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] && grep -q "'nonsense'" "$TMP/err" && ok "--bind nonsense: exit 2 naming it" ||
	bad "--bind nonsense: exit $rc: $(cat "$TMP/err")"
"$NSLAB" serve --bind 127.0.0.1:99999 >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] && grep -q "99999" "$TMP/err" && ok "--bind port 99999: exit 2" ||
	bad "--bind :99999: exit $rc: $(cat "$TMP/err")"
"$NSLAB" serve "$TMP/nonexistent" --bind 127.0.0.1:0 >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "nonexistent" "$TMP/err" && ok "missing DIR: exit 1 naming it" ||
	bad "missing DIR: exit $rc: $(cat "$TMP/err")"
"$NSLAB" serve --rate 0 >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "'0'" "$TMP/err" && ok "--rate 0: exit 2" || bad "--rate 0: $(cat "$TMP/err")"

finish

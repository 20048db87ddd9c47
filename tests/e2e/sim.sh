#!/bin/sh
# SPDX-License-Identifier: MIT
# sim: `nslab sim` against real programs. The example sim passes with the
# numbers its programs printed (ping, curl, iperf3 -J) and writes its
# directory as documented (sim.json, results, step logs, the lab's events,
# nslab-runs/latest); each failure path ends the sim with exit 1 and a message
# naming the step and why (an assertion with both values, a command's exit,
# a spawn that ends before it is ready, one never ready, a run past its
# timeout); router, device, dns and capture steps change the lab as ping and
# getent see it, and a capture's pcap holds exactly the frames it counted;
# gen-certs makes a certificate curl trusts for the node only; repeat runs
# its steps N times or for a while, every picks seeded changes; extends,
# templates and inline labs (counted devices) compose a sim; programs'
# NSLAB_EVENTS land in events.jsonl, during a long step too (a program sees
# its own event there before it exits); an NDJSON capture picks from the
# matching line; region steps break, restore and condition the link of two
# regions (ping's RTT and TTL follow), default-via moves the address a server
# sees; the examples replug a phone under an app that reconnects, switch a
# firewall under a polling client, measure iperf3 over three presets;
# progress.json follows the run and a
# terminal gets a redrawn block; a bad file is exit 2 at FILE:LINE:COL with nothing run; JUnit
# validates against the XSD, TAP passes through prove; SIGKILL of nslab sim
# leaves no process and no namespace. As root and rootless.
. "${SRCDIR:=$(dirname "$0")/../..}/tests/e2e/lib.sh"
require_env python3 iperf3 curl ping xmllint prove make openssl script

LAB="$SRCDIR/examples/two-hosts.yaml"

# sim NAME STATUS ARGS...: nslab sim ARGS, from $TMP/NAME (its cwd), expecting STATUS.
sim() {
	_n=$1
	_want=$2
	shift 2
	mkdir -p "$TMP/$_n"
	(cd "$TMP/$_n" && timeout -s KILL 120 "$NSLAB" sim "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err")
	_rc=$?
	if [ $_rc -eq "$_want" ]; then ok "$_n: exit $_rc"; else
		bad "$_n: exit $_rc, expected $_want"
		sed 's/^/  | /' "$TMP/$_n.out" "$TMP/$_n.err" >&2
	fi
}

# says NAME TEXT: NAME's output holds TEXT.
says() {
	if grep -qF -- "$2" "$TMP/$1.out" "$TMP/$1.err"; then ok "$1: says '$2'"; else
		bad "$1: does not say '$2':"
		sed 's/^/  | /' "$TMP/$1.out" "$TMP/$1.err" >&2
	fi
}

# write NAME: the sim on stdin, with the lab, into $TMP/NAME.yaml
write() {
	{
		printf 'lab: %s\ntimeout: 1m\nsteps:\n' "$LAB"
		cat
	} >"$TMP/$1.yaml"
}

# --- the example passes, with real numbers, and its directory is complete ---
sim example 0 "$SRCDIR/examples/sims/two-hosts.yaml"
D="$TMP/example/nslab-runs/latest/two-hosts"
$PY - "$D" <<'PY' && ok "example: sim.json, results, step logs and the lab's events as documented" || bad "example: the directory is not as documented: $(ls -R "$TMP/example/nslab-runs" | head -30)"
import json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "sim.json")))
assert s["schema"] == 1 and s["status"] == "passed" and s["error"] is None, s
assert [x["id"] for x in s["steps"]][:6] == ["page", "web", "ping", "get", "iperf-server", "up"]
assert all(x["status"] == "passed" for x in s["steps"]), s["steps"]
ping = s["steps"][2]
assert ping["exit"] == 0 and ping["captures"]["received"] == "3" and float(ping["captures"]["rtt"]) > 0
r = json.load(open(os.path.join(d, "results.json")))
assert float(r["results"]["bps"]) > 1e7, r
assert "| bps |" in open(os.path.join(d, "results.md")).read()
# what the programs printed, where the docs say
assert "3 received" in open(os.path.join(d, "steps", "03-ping.stdout")).read()
# the page the sim generated, served by bob, fetched by alice
page = open(os.path.join(d, "files", "index.html")).read()
assert page.startswith("<p>served by bob at ") and "${" not in page, page
assert open(os.path.join(d, "steps", "04-get.stdout")).read() == page
assert json.load(open(os.path.join(d, "steps", "06-up.stdout")))["end"]["sum_received"]["bytes"] > 0
ev = [json.loads(l)["kind"] for l in open(os.path.join(d, "events.jsonl"))]
assert "cmd_spawned" in ev and "cmd_exited" in ev, ev[:20]
m = json.load(open(os.path.join(d, "..", "manifest.json")))
assert m["sims"][0]["status"] == "passed" and m["passed"] == 1
PY

# --- the other examples: a link flapped under a web client, a NAT change seen by a server ---
sim examples 0 "$SRCDIR/examples/sims/link-flap.yaml" "$SRCDIR/examples/sims/nat-change.yaml" --outdir "$TMP/examples-run"
$PY - "$TMP/examples-run" <<'PY' && ok "examples: the server saw the router, then the laptop; the flaps were seen" || bad "examples: $(cat "$TMP/examples-run/manifest.json")"
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["passed"] == 2, m
ev = [json.loads(l) for l in open(os.path.join(d, "02-nat-change", "events.jsonl"))]
app = [e["event"]["from"] for e in ev if e["kind"] == "app"]
assert len(app) == 2 and app[0].startswith("198.18.") and app[1].startswith("10."), app
s = json.load(open(os.path.join(d, "01-link-flap", "sim.json")))
assert {x["id"]: x["runs"] for x in s["steps"]}["back"] == 3
PY

# --- a project's nslab.yaml names its sims: nslab sim with no file, from a subdirectory ---
mkdir -p "$TMP/proj/sims/more" "$TMP/proj/src/deep"
printf '# the project\nsims: sims\n' >"$TMP/proj/nslab.yaml"
printf 'lab: %s\nsteps:\n  - {run: ["true"], node: alice}\n' "$LAB" >"$TMP/proj/sims/one.yaml"
printf 'lab: %s\nsteps:\n  - {run: ["true"], node: bob}\n' "$LAB" >"$TMP/proj/sims/more/two.yaml"
(cd "$TMP/proj/src/deep" && "$NSLAB" sim --outdir "$TMP/proj-run" >"$TMP/proj.out" 2>&1)
$PY - "$TMP/proj-run/manifest.json" <<'PY' && ok "project: nslab.yaml's sims run, found from below" || bad "project: $(cat "$TMP/proj.out")"
import json, sys
m = json.load(open(sys.argv[1]))
assert [s["name"] for s in m["sims"]] == ["two", "one"] and m["passed"] == 2, m
PY
printf 'sims: sims\nlabs: x\n' >"$TMP/proj/nslab.yaml"
mkdir -p "$TMP/badproj"
(cd "$TMP/proj/src" && "$NSLAB" sim >"$TMP/badproj.out" 2>&1)
[ $? -eq 2 ] && grep -qF "$TMP/proj/nslab.yaml:2:1: unknown key 'labs'" "$TMP/badproj.out" &&
	ok "project: a bad nslab.yaml is exit 2 at its place" || bad "project: $(cat "$TMP/badproj.out")"

# --- failures: each names the step and why ---
write assert <<'EOF2'
  - {id: p, run: [ping, -c, "1", "${bob.ip}"], node: alice, captures: {n: "([0-9]+) received"}}
  - {id: check, assert: ["${p.n} == 1", "${p.n} > 5"]}
  - {id: never, run: [touch, /never], node: alice}
EOF2
sim assert 1 "$TMP/assert.yaml" --outdir "$TMP/assert-run"
says assert "step 'check' (assert): \${p.n} > 5 ('1' > '5') does not hold"
$PY - "$TMP/assert-run/assert/sim.json" <<'PY' && ok "assert: the step after a failure is skipped" || bad "assert: $(cat "$TMP/assert-run/assert/sim.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "failed" and s["error"]["step"] == "check"
assert [x["status"] for x in s["steps"]] == ["passed", "failed", "skipped"]
PY

write exit <<'EOF2'
  - {id: bad, run: [sh, -c, "echo oops >&2; exit 3"], node: alice}
EOF2
sim exit 1 "$TMP/exit.yaml" --outdir "$TMP/exit-run"
says exit "step 'bad' (run): exit status 3, expected 0; stderr: oops"

write early <<'EOF2'
  - {id: srv, spawn: [sh, -c, "echo starting; exit 4"], node: bob, ready: {stdout: "listening"}}
EOF2
sim early 1 "$TMP/early.yaml" --outdir "$TMP/early-run"
says early "step 'srv' (spawn): ended (exit 4) before it was ready"

write never <<'EOF2'
  - {id: srv, spawn: [sleep, "30"], node: bob, ready: {port: 4999}, timeout: 1s}
EOF2
sim never 1 "$TMP/never.yaml" --outdir "$TMP/never-run"
says never "step 'srv' (spawn): not ready within its timeout"

write slow <<'EOF2'
  - {id: slow, run: [sleep, "30"], node: alice, timeout: 500ms}
EOF2
start=$(date +%s)
sim slow 1 "$TMP/slow.yaml" --outdir "$TMP/slow-run"
says slow "step 'slow' (run): still running after its timeout (killed)"
[ $(($(date +%s) - start)) -lt 20 ] && ok "slow: killed at its timeout" || bad "slow: took $(($(date +%s) - start)) s"

# a spawn ready on its output, then waited for; a capture from stderr
write ready <<'EOF2'
  - {id: srv, spawn: [sh, -c, "echo 'up on 7' >&2; sleep 0.2; echo done"], node: bob, ready: {stderr: "up on ([0-9]+)"}}
  - {id: w, wait-for: srv, timeout: 10s}
  - {assert: ["'${srv.stdout}' contains done", "${w.exit} == 0"]}
EOF2
sim ready 0 "$TMP/ready.yaml" --outdir "$TMP/ready-run"

# --- -j 2: two sims at once, each with its own lab (a rendezvous on the host's
# filesystem that only sims running side by side can pass) ---
mkdir -p "$TMP/meet"
for side in a b; do
	other=$([ $side = a ] && echo b || echo a)
	write "meet-$side" <<EOF2
  - {id: meet, run: [sh, -c, "touch $TMP/meet/$side; while [ ! -e $TMP/meet/$other ]; do sleep 0.05; done; echo met"], node: alice, timeout: 30s}
  - {assert: "\${meet.stdout} contains met"}
EOF2
done
sim parallel 0 -j 2 "$TMP/meet-a.yaml" "$TMP/meet-b.yaml" --outdir "$TMP/parallel-run"
$PY - "$TMP/parallel-run/manifest.json" <<'PY' && ok "-j 2: both sims passed, each in its own directory" || bad "-j 2: $(cat "$TMP/parallel-run/manifest.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["passed"] == 2 and [s["dir"].rsplit("/", 1)[1] for s in m["sims"]] == ["01-meet-a", "02-meet-b"], m
PY

# --- link: a condition set and cleared, a carrier pulled, as ping sees them ---
write link <<'EOF2'
  - {id: before, run: [ping, -c, "3", -i, "0.2", "${bob.ip}"], node: alice, captures: {rtt: "time=([0-9.]+) ms"}}
  - {link: {node: alice, iface: eth0, set: "delay 20ms"}}
  - {id: slow, run: [ping, -c, "3", -i, "0.2", "${bob.ip}"], node: alice, captures: {rtt: "time=([0-9.]+) ms"}}
  - {link: {node: alice, iface: eth0, clear: true}}
  - {id: after, run: [ping, -c, "3", -i, "0.2", "${bob.ip}"], node: alice, captures: {rtt: "time=([0-9.]+) ms"}}
  - {link: {node: alice, iface: eth0, state: down}}
  - {id: unplugged, run: [ping, -c, "1", -W, "1", "${bob.ip}"], node: alice, expect_exit: null}
  - {link: {node: alice, iface: eth0, state: up}}
  - assert: ["${before.rtt} < 10", "${slow.rtt} >= 39", "${after.rtt} < 10", "${unplugged.exit} != 0"]
EOF2
sim link 0 "$TMP/link.yaml" --outdir "$TMP/link-run"
write badlink <<'EOF2'
  - {link: {node: alice, iface: eth9, set: wifi}}
EOF2
sim badlink 1 "$TMP/badlink.yaml" --outdir "$TMP/badlink-run"
says badlink "step 'step-1' (link): alice:eth9"

# --- router, device, dns and capture: the lab's run-time changes, as programs see them ---
cat >"$TMP/natlab.yaml" <<EOF2
lab: $(new_lab_name simnat)
routers:
  isp: {}
  home: {upstream: isp, nat: home}
devices:
  server: {router: isp}
  laptop: {router: home}
EOF2
{
	printf 'lab: %s\ntimeout: 1m\nsteps:\n' "$TMP/natlab.yaml"
	cat <<'EOF2'
  - {id: icmp, capture: {node: server, iface: eth0, filter: icmp}}
  - {id: all, capture: {node: laptop, iface: eth0}}
  - {id: p1, run: [ping, -c, "3", -i, "0.2", "${server.ip}"], node: laptop}
  - {capture: {stop: icmp}}
  - {id: late, run: [ping, -c, "2", -i, "0.2", "${server.ip}"], node: laptop}
  - {router: {name: home, nat: none}}
  - {id: nonat, run: [ping, -c, "1", -W, "1", "${server.ip}"], node: laptop, expect_exit: null}
  - {router: {name: home, nat: home, flush-nat: true}}
  - {id: nat, run: [ping, -c, "1", -W, "2", "${server.ip}"], node: laptop}
  - {device: {name: laptop, state: down}}
  - {id: unplugged, run: [ping, -c, "1", -W, "1", "${server.ip}"], node: laptop, expect_exit: null}
  - {device: {name: laptop, state: up}}
  - {device: {name: laptop, set: "delay 20ms"}}
  - {id: slow, run: [ping, -c, "2", -i, "0.2", "${server.ip}"], node: laptop, captures: {rtt: "time=([0-9.]+) ms"}}
  - {device: {name: laptop, clear: true}}
  - {dns: {name: web.example, target: server}}
  - {id: n1, run: [getent, -s, files, ahostsv4, web.example], node: laptop}
  - {dns: {name: web.example, target: 203.0.113.9}}
  - {id: n2, run: [getent, -s, files, ahostsv4, web.example], node: laptop}
  - {dns: {name: web.example, target: null}}
  - {id: n3, run: [getent, -s, files, ahostsv4, web.example], node: laptop, expect_exit: null}
  - assert: ["${icmp.packets} == 6", "${nonat.exit} != 0", "${unplugged.exit} != 0",
             "${slow.rtt} >= 39", "'${n1.stdout}' contains ${server.ip}",
             "'${n2.stdout}' contains 203.0.113.9", "${n3.exit} == 2", "${all.packets} >= 10"]
EOF2
} >"$TMP/changes.yaml"
sim changes 0 "$TMP/changes.yaml" --outdir "$TMP/changes-run"
$PY - "$TMP/changes-run/changes" <<'PY' && ok "changes: the pcaps hold what the counts say, the lab logged each change" || bad "changes: $(ls -R "$TMP/changes-run")"
import json, os, struct, sys
d = sys.argv[1]
def records(name):
    b = open(os.path.join(d, "captures", name), "rb").read()
    assert struct.unpack("<IHHiIII", b[:24]) == (0xa1b2c3d4, 2, 4, 0, 0, 262144, 1), b[:24]
    off, frames = 24, []
    while off < len(b):
        _, _, incl, orig = struct.unpack("<IIII", b[off:off + 16])
        frames.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    assert off == len(b)
    return frames
icmp = records("icmp.pcap")
# three echo requests and three replies, IPv4 protocol 1; the later pings stopped counting
assert len(icmp) == 6 and all(f[12:14] == b"\x08\x00" and f[23] == 1 for f in icmp), len(icmp)
assert [f[34] for f in icmp] == [8, 0] * 3, [f[34] for f in icmp]
s = json.load(open(os.path.join(d, "sim.json")))
assert [x["kind"] for x in s["steps"]][:6] == ["capture", "capture", "run", "capture", "run", "router"], s
assert len(records("all.pcap")) >= 10
ev = [json.loads(l) for l in open(os.path.join(d, "events.jsonl"))]
kinds = [e["kind"] for e in ev]
assert kinds.count("nat_changed") == 2 and "nat_flushed" in kinds, kinds
assert [e.get("target") for e in ev if e["kind"] == "dns_changed"] == ["server", "203.0.113.9", None]
assert any(e["kind"] == "link_state" for e in ev), kinds
PY
write badchange <<'EOF2'
  - {router: {name: gw, nat: nosuch}}
EOF2
sim badchange 1 "$TMP/badchange.yaml" --outdir "$TMP/badchange-run"
says badchange "step 'step-1' (router): unknown NAT mode 'nosuch'"
write baddns <<'EOF2'
  - {dns: {name: web.example, target: carol}}
EOF2
sim baddns 1 "$TMP/baddns.yaml" --outdir "$TMP/baddns-run"
says baddns "dns target 'carol': not a node of lab"
write badcap <<'EOF2'
  - {id: c, capture: {node: bob, iface: eth5}}
EOF2
sim badcap 1 "$TMP/badcap.yaml" --outdir "$TMP/badcap-run"
says badcap "step 'c' (capture): bob:eth5: no interface 'eth5'"
printf 'lab: %s\nsteps:\n  - {id: c, capture: {node: bob, iface: eth0, filter: "tcp prt 80"}}\n' "$LAB" >"$TMP/badfilter.yaml"
sim badfilter 2 "$TMP/badfilter.yaml"
says badfilter "badfilter.yaml:3:55: filter 'tcp prt 80'"

# --- gen-certs: a certificate curl trusts for bob's address and names, not for another's ---
write tls <<'EOF2'
  - {id: tls, gen-certs: {node: bob, names: [web.example]}}
  - {id: srv, spawn: [openssl, s_server, -cert, "${tls.path}", -key, "${tls.key}", -accept, "4433", -www], node: bob, ready: {port: 4433}}
  - {id: byip, run: [curl, -sS, --cacert, "${tls.path}", "https://${bob.ip}:4433/"], node: alice}
  - {id: byname, run: [curl, -sS, --cacert, "${tls.path}", --resolve, "web.example:4433:${bob.ip}", "https://web.example:4433/"], node: alice}
  - {id: other, run: [curl, -sS, --cacert, "${tls.path}", --resolve, "gw.example:4433:${bob.ip}", "https://gw.example:4433/"], node: alice, expect_exit: null}
  - assert: ["${byip.stdout} contains s_server", "${byname.exit} == 0", "${other.exit} == 60"]
EOF2
sim tls 0 "$TMP/tls.yaml" --outdir "$TMP/tls-run"
[ -s "$TMP/tls-run/tls/certs/tls.crt" ] && [ "$(stat -c %a "$TMP/tls-run/tls/certs/tls.key")" = 600 ] &&
	ok "tls: certs/tls.crt and certs/tls.key (0600) written" || bad "tls: $(ls -R "$TMP/tls-run")"

# --- repeat and every: a link flapped N times, a soak for a while, seeded random changes ---
write chaos <<'EOF2'
  - id: flap
    repeat: 3
    steps:
      - {link: {node: alice, iface: eth0, state: down}}
      - {id: down, run: [ping, -c, "1", -W, "1", "${bob.ip}"], node: alice, expect_exit: 1}
      - {link: {node: alice, iface: eth0, state: up}}
      - {id: up, run: [ping, -c, "1", -W, "2", "${bob.ip}"], node: alice}
  - id: soak
    repeat: 300ms
    steps:
      - {id: t, run: ["true"], node: alice}
  - id: chaos
    every: 50ms
    times: 8
    seed: 7
    choose:
      - {id: d1, link: {node: alice, iface: eth0, set: "delay 1ms"}}
      - {id: d2, link: {node: alice, iface: eth0, set: "delay 2ms"}}
      - {id: clr, link: {node: alice, iface: eth0, clear: true}}
  - assert: ["${flap.iterations} == 3", "${soak.iterations} >= 2", "${chaos.ticks} == 8"]
EOF2
sim chaos 0 "$TMP/chaos.yaml" --outdir "$TMP/chaos-run"
$PY - "$TMP/chaos-run/chaos" <<'PY' && ok "chaos: each run's output kept, the picks are splitmix64's from the seed" || bad "chaos: $(cat "$TMP/chaos-run/chaos/sim.json")"
import json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "sim.json")))
st = {x["id"]: x for x in s["steps"]}
assert st["flap"]["iterations"] == 3 and st["flap"]["body"] == 4
assert st["down"]["runs"] == 3 and st["up"]["runs"] == 3 and st["up"]["status"] == "passed"
for n in ("03-down.stdout", "03-down.2.stdout", "03-down.3.stdout"):
    assert "1 packets transmitted, 0 received" in open(os.path.join(d, "steps", n)).read(), n
assert st["soak"]["iterations"] == st["t"]["runs"] >= 2
def splitmix(x):
    while True:
        x = (x + 0x9e3779b97f4a7c15) % 2**64
        z = x
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) % 2**64
        yield z ^ (z >> 31)
g = splitmix(7)
want = [["d1", "d2", "clr"][next(g) % 3] for _ in range(8)]
assert st["chaos"]["picks"] == ",".join(want), (st["chaos"]["picks"], want)
assert sum(st[c]["runs"] for c in ("d1", "d2", "clr")) == 8
ev = [json.loads(l)["kind"] for l in open(os.path.join(d, "events.jsonl"))]
assert ev.count("link_state") == 6 and ev.count("link_condition") == 8, ev
PY
write repfail <<'EOF2'
  - id: flap
    repeat: 5
    steps:
      - {id: once, assert: "${flap.iterations} < 1"}
  - {id: after, wait: 1ms}
EOF2
sim repfail 1 "$TMP/repfail.yaml" --outdir "$TMP/repfail-run"
says repfail "step 'once' (assert): \${flap.iterations} < 1 ('1' < '1') does not hold (iteration 2 of 'flap')"

# --- extends, step templates with ${group.KEY}, an inline lab with counted devices ---
cat >"$TMP/base.yaml" <<EOF2
timeout: 1m
lab:
  lab: $(new_lab_name inline)
  routers: {gw: {}}
  devices:
    peer: {router: gw, count: 3}
step-templates:
  reach:
    - {id: "\${group.id}-ping", run: [ping, -c, "1", "\${group.to}"], node: "\${group.from}", captures: {ttl: "ttl=([0-9]+)"}}
    - {assert: "\${\${group.id}-ping.ttl} > 0"}
steps:
  - {id: first, run: [sh, -c, "echo \$NSLAB_IP_PEER_3"], node: peer-1}
EOF2
cat >"$TMP/derived.yaml" <<'EOF2'
extends: base.yaml
step-templates:
  shout:
    - {id: "${group.id}-say", run: [sh, -c, "echo ${group.word} from $(hostname)"], node: "${group.node}"}
    - {wait: "${group.pause}"}
    - {assert: "'${${group.id}-say.stdout}' contains '${group.word} from ${group.node}'"}
steps:
  - {id: r1, use: reach, with: {from: peer-1, to: "${peer-3.ip}"}}
  - {id: u, use: shout, with: {node: peer-2, word: hello, pause: 10ms}}
  - {id: r2, use: reach, with: {from: peer-2, to: "${peer-1.ip}"}}
  - assert: ["${first.stdout} contains ${peer-3.ip}", "${r1-ping.ttl} == 64", "${u-say.exit} == 0"]
EOF2
sim derived 0 "$TMP/derived.yaml" --outdir "$TMP/derived-run"
$PY - "$TMP/derived-run/derived/sim.json" <<'PY' && ok "derived: the base's steps first, each use a group with its template's steps" || bad "derived: $(cat "$TMP/derived-run/derived/sim.json")"
import json, sys
s = json.load(open(sys.argv[1]))
got = [(x["id"], x["kind"]) for x in s["steps"]]
assert got[:4] == [("first", "run"), ("r1", "use"), ("r1-ping", "run"), ("step-4", "assert")], got
assert ("u-say", "run") in got and ("r2-ping", "run") in got and s["status"] == "passed"
assert [x["body"] for x in s["steps"] if x["kind"] == "use"] == [2, 3, 2]
assert s["lab"].endswith("/base.yaml"), s["lab"]
PY
printf 'extends: base.yaml\nsteps:\n  - {use: reach, with: {from: peer-1}}\n' >"$TMP/novalue.yaml"
sim novalue 2 "$TMP/novalue.yaml"
says novalue "base.yaml:9:53: no value for \${group.to} in the use of it at $TMP/novalue.yaml:3:11 (with:)"
printf 'extends: loop.yaml\nlab: x.yaml\nsteps: []\n' >"$TMP/loop.yaml"
sim loop 2 "$TMP/loop.yaml"
says loop "extends: more than 16 deep (a cycle?)"
printf 'lab:\n  routers: {gw: {}}\n  devices: {a: {router: gw, count: 0}}\nsteps: []\n' >"$TMP/badinline.yaml"
sim badinline 2 "$TMP/badinline.yaml"
says badinline "badinline.yaml:3:36: bad count '0'"

# --- region, default-via: the link of two regions and a device's default routes, as programs see them ---
cat >"$TMP/regions.yaml" <<EOF2
lab:
  lab: $(new_lab_name simreg)
  default_regions: true
  routers:
    dc-eu: {region: eu}
    dc-us: {region: us}
  devices:
    alice: {router: dc-eu}
    bob: {router: dc-us}
timeout: 1m
EOF2
cat >>"$TMP/regions.yaml" <<'EOF2'
step-templates:
  rtt:
    - {id: "${group.id}-ping", run: [ping, -c, "3", -i, "0.2", "${bob.ip}"], node: alice, captures: {rtt: "icmp_seq=3 ttl=[0-9]+ time=([0-9.]+) ms", ttl: "ttl=([0-9]+)"}}
steps:
  - {id: direct, use: rtt}
  - {region: {a: eu, b: us, break: true}}
  - {id: around, use: rtt}
  - {region: {a: us, b: eu, restore: true, set: "delay 5ms"}}
  - {id: fast, use: rtt}
  - {region: {a: eu, b: us, clear: true}}
  - {id: bare, use: rtt}
  # eu-us 40 ms one way; around it through asia 120 + 95 ms and one hop more
  - assert: ["${direct-ping.rtt} >= 80", "${direct-ping.rtt} < 100", "${around-ping.rtt} >= 430",
             "${around-ping.ttl} < ${direct-ping.ttl}", "${fast-ping.rtt} >= 10",
             "${fast-ping.rtt} < 25", "${bare-ping.rtt} < 5"]
EOF2
sim regions 0 "$TMP/regions.yaml" --outdir "$TMP/regions-run"
$PY - "$TMP/regions-run/regions" <<'PY' && ok "regions: broken, restored, conditioned and cleared, each in events.jsonl" || bad "regions: $(grep region "$TMP/regions-run/regions/events.jsonl")"
import json, os, sys
d = sys.argv[1]
ev = [json.loads(l) for l in open(os.path.join(d, "events.jsonl"))]
assert len([e for e in ev if e["kind"] == "region_link"]) == 2, [e["kind"] for e in ev]
s = json.load(open(os.path.join(d, "sim.json")))
assert [x["kind"] for x in s["steps"]].count("region") == 3, s["steps"]
PY
write badregion <<'EOF2'
  - {region: {a: eu, b: mars, break: true}}
EOF2
sim badregion 1 "$TMP/badregion.yaml" --outdir "$TMP/badregion-run"
says badregion "step 'step-1' (region): regions eu-mars:"

cat >"$TMP/via.yaml" <<EOF2
lab:
  lab: $(new_lab_name simvia)
  routers:
    isp: {}
    home: {upstream: isp, nat: home}
    dc: {upstream: isp}
  devices:
    srv: {router: dc}
    m:
      ifaces: {wlan0: {router: home}, eth1: {router: isp}}
      default_via: wlan0
timeout: 1m
EOF2
cat >>"$TMP/via.yaml" <<'EOF2'
step-templates:
  send:
    - {id: "${group.id}-send", run: [python3, -c, "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'hi', ('${srv.ip}', 9999))"], node: m}
steps:
  - id: udp
    spawn: [python3, -u, -c, "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', 9999))\nprint('ready')\nwhile True: print('from', s.recvfrom(64)[1][0])"]
    node: srv
    ready: {stdout: ready}
  - {id: first, use: send}
  - {device: {name: m, default-via: eth1}}
  - {id: second, use: send}
  - {id: check, run: [sh, -c, 'printf %s "$NSLAB_IP_M"'], node: m}
  - assert: ["'${udp.stdout}' contains 'from ${home.ip}'", "'${udp.stdout}' contains 'from ${m.ip}'",
             "${check.stdout} == ${m.ip}"]
  - {device: {name: m, default-via: eth7}}
EOF2
sim via 1 "$TMP/via.yaml" --outdir "$TMP/via-run"
says via "step 'step-9' (device): m: default-via eth7: device 'm' has no interface 'eth7'"
$PY - "$TMP/via-run/via" <<'PY' && ok "via: the server saw the home NAT, then m's own eth1 address; one event; the last step failed" || bad "via: $(cat "$TMP/via-run/via/sim.json")"
import json, os, sys
d = sys.argv[1]
ev = [json.loads(l) for l in open(os.path.join(d, "events.jsonl"))]
assert len([e for e in ev if e["kind"] == "default_via_changed"]) == 1, [e["kind"] for e in ev]
s = json.load(open(os.path.join(d, "sim.json")))
assert [x["status"] for x in s["steps"]][-3:] == ["passed", "passed", "failed"], s["steps"]
PY

# --- NSLAB_EVENTS: what programs write there lands in events.jsonl with their node ---
write appev <<'EOF2'
  - {id: say, run: [python3, -c, "import os,socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); p=os.environ['NSLAB_EVENTS']; [s.sendto(b'{\"kind\": \"connected\", \"n\": %d}' % i, p) for i in range(3)]; s.sendto(b'not json', p); print(p)"], node: alice}
  - {id: srv, spawn: [python3, -c, "import os,socket,time; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'{\"kind\": \"listening\", \"port\": 80}', os.environ['NSLAB_EVENTS']); print('up', flush=True); time.sleep(30)"], node: bob, ready: {stdout: up}}
  - {assert: "${say.stdout} contains /events/alice.sock"}
EOF2
sim appev 0 "$TMP/appev.yaml" --outdir "$TMP/appev-run"
$PY - "$TMP/appev-run/appev" <<'PY' && ok "appev: the programs' events, in order, with their node and when they were sent" || bad "appev: $(grep '"app"' "$TMP/appev-run/appev/events.jsonl")"
import json, os, sys
d = sys.argv[1]
ev = [json.loads(l) for l in open(os.path.join(d, "events.jsonl"))]
app = [e for e in ev if e["kind"] == "app"]
assert [(e["node"], e["event"]) for e in app] == [
    ("alice", {"kind": "connected", "n": 0}), ("alice", {"kind": "connected", "n": 1}),
    ("alice", {"kind": "connected", "n": 2}), ("alice", {"kind": "invalid"}),
    ("bob", {"kind": "listening", "port": 80})], app
assert all(e["at"] <= e["ts"] + 0.001 for e in app)
assert not os.path.exists(os.path.join(d, "events")), "the sockets are left"
PY

# --- NSLAB_EVENTS during a long step: logged as they come, not when the step ends; an NDJSON capture ---
write live <<'EOF2'
  - id: self
    run:
      - python3
      - -c
      - |
        import json, os, socket, sys, time
        p = os.environ["NSLAB_EVENTS"]
        log = os.path.join(os.path.dirname(os.path.dirname(p)), "events.jsonl")
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'{"kind": "mine"}', p)
        end = time.time() + 10
        while time.time() < end:  # bounded: the event must show up while this step runs
            if any(json.loads(l).get("event") == {"kind": "mine"} for l in open(log)):
                print("seen live")
                sys.exit(0)
            time.sleep(0.01)
        sys.exit(1)
    node: alice
  - {assert: "${self.stdout} contains 'seen live'"}
  - id: nd                     # NDJSON: the line that matches, then a path in it
    run: [python3, -c, "import json; [print(json.dumps({'event': e, 'n': i})) for i, e in enumerate(['start', 'tick', 'end'])]"]
    node: alice
    results: {last-n: {match: '"end"', pick: .n}}
  - {assert: "${nd.last-n} == 2"}
EOF2
sim live 0 "$TMP/live.yaml" --outdir "$TMP/live-run"

# --- the examples of the round-2 changes: a replug mid-connection, a firewall change, iperf over presets, a NAT mapping broken ---
sim examples2 0 "$SRCDIR/examples/sims/handoff.yaml" "$SRCDIR/examples/sims/firewall-change.yaml" \
	"$SRCDIR/examples/sims/iperf-presets.yaml" "$SRCDIR/examples/sims/nat-mapping.yaml" \
	--outdir "$TMP/examples2-run"
$PY - "$TMP/examples2-run" <<'PY' && ok "examples2: the app reconnected after the replug (its events logged as they came), the poller saw the firewall, each preset's rate in results, the mapping's loss seen" || bad "examples2: $(cat "$TMP/examples2-run/manifest.json")"
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["passed"] == 4, m
ev = [json.loads(l) for l in open(os.path.join(d, "01-handoff", "events.jsonl"))]
kinds = [e["kind"] for e in ev]
assert kinds.count("device_replugged") == 1, kinds
app = [(i, e["node"], e["event"]) for i, e in enumerate(ev) if e["kind"] == "app"]
local = [a[2]["local"] for a in app if a[2]["kind"] == "connected"]
assert len(local) == 2 and local[0] != local[1], app
# the second connection was logged while wait-for waited, before the app's exit
exited = [i for i, e in enumerate(ev) if e["kind"] == "cmd_exited" and e.get("node") == "phone"]
second = [a[0] for a in app if a[2] == {"kind": "connected", "n": 2, "local": local[1]}]
assert second and exited and second[0] < exited[0], (second, exited)
ev = [json.loads(l) for l in open(os.path.join(d, "02-firewall-change", "events.jsonl"))]
assert [e.get("firewall") for e in ev if e["kind"] == "firewall_changed"] == ["corporate", "none"], [e for e in ev if e["kind"] == "firewall_changed"]
assert any(e["kind"] == "app" and e["event"]["kind"] == "blocked" for e in ev)
r = json.load(open(os.path.join(d, "03-iperf-presets", "results.json")))["results"]
assert set(r) == {"wifi-bps", "mobile-4g-bps", "dsl-bps"} and float(r["wifi-bps"]) > float(r["mobile-4g-bps"]) > float(r["dsl-bps"]), r
ev = [json.loads(l) for l in open(os.path.join(d, "04-nat-mapping", "events.jsonl"))]
kinds = [e["kind"] for e in ev]
assert "nat_changed" in kinds and "nat_flushed" in kinds, kinds
lost = [e["event"] for e in ev if e["kind"] == "app"]
assert len(lost) == 1 and lost[0]["kind"] == "mapping_lost" and lost[0]["after"] >= 3, lost
PY

# --- progress.json while a sim runs, and the terminal's block ---
write progress <<'EOF2'
  - {id: a, run: ["true"], node: alice}
  - {id: w, wait: 3s}
EOF2
mkdir -p "$TMP/progress"
(cd "$TMP/progress" && exec "$NSLAB" sim "$TMP/progress.yaml" --outdir "$TMP/progress-run" >"$TMP/progress.out" 2>&1) &
PID=$!
track_pid "$PID"
at_w() { grep -q '"id": "w", "kind": "wait", "status": "running"' "$TMP/progress-run/progress.json" 2>/dev/null; }
wait_until 20 at_w && ok "progress: progress.json shows the step running" || bad "progress: $(cat "$TMP/progress-run/progress.json")"
wait "$PID" && ok "progress: the sim passed" || bad "progress: $(cat "$TMP/progress.out")"
$PY - "$TMP/progress-run/progress.json" <<'PY' && ok "progress: done at the end" || bad "progress: $(cat "$TMP/progress-run/progress.json")"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["schema"] == 1 and p["total"] == 1 and p["done"] == 1, p
s = p["sims"][0]
assert s["status"] == "passed" and s["step"]["id"] == "w" and s["step"]["status"] == "passed" and s["ms"] >= 3000, s
PY
! grep -q "$(printf '\033')" "$TMP/progress.out" && ok "progress: plain lines on a pipe" || bad "progress: escapes on a pipe"
(cd "$TMP/progress" && script -qec "$NSLAB sim $TMP/ready.yaml --outdir $TMP/tty-run" /dev/null >"$TMP/tty.out" 2>&1)
grep -q "$(printf '\033')\[J" "$TMP/tty.out" && grep -q "\[1/1 done\]" "$TMP/tty.out" && grep -q "PASS ready" "$TMP/tty.out" &&
	ok "progress: a block redrawn on a terminal" || bad "progress: $(cat -v "$TMP/tty.out" | head -20)"

# --- a step's command starts with no signal ignored or blocked, whatever the
# caller had (GNU make runs its recipes with glibc's signals 32 and 33 ignored) ---
write signals <<'EOF2'
  - {id: sig, run: [grep, -E, "^Sig(Ign|Blk)", /proc/self/status], node: alice, captures: {ign: "SigIgn:[[:space:]]*([0-9a-f]+)", blk: "SigBlk:[[:space:]]*([0-9a-f]+)"}}
  - {assert: ["${sig.ign} == 0", "${sig.blk} == 0"]}
EOF2
# through make, whose recipes run with signals 32 and 33 ignored (glibc's own:
# its signal() refuses to reset them), and with SIGINT ignored, SIGUSR1 blocked
printf 'go:\n\tcd %s && %s sim --outdir %s %s\n' "$TMP" "$NSLAB" "$TMP/signals-run" "$TMP/signals.yaml" >"$TMP/signals.mk"
$PY -c 'import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
sys.exit(subprocess.call(sys.argv[1:]))' make -s -f "$TMP/signals.mk" go >"$TMP/signals.out" 2>&1 &&
	ok "signals: a step's command has none ignored or blocked (run through make, SIGINT ignored, SIGUSR1 blocked)" ||
	bad "signals: $(cat "$TMP/signals.out")"

# --- a bad file: exit 2 at its place, nothing run ---
printf 'lab: %s\nsteps:\n  - {run: [true], node: alice}\n  - {wait: soon}\n' "$LAB" >"$TMP/badfile.yaml"
sim badfile 2 "$TMP/badfile.yaml"
says badfile "badfile.yaml:4:12: wait: 'soon' is not a duration"
[ ! -e "$TMP/badfile/nslab-runs" ] && ok "badfile: no run directory" || bad "badfile: a run directory was made"
printf 'lab: %s/no-such-lab.yaml\nsteps:\n  - {wait: 1s}\n' "$TMP" >"$TMP/nolab.yaml"
sim nolab 2 "$TMP/nolab.yaml"
says nolab "no-such-lab.yaml"

# --- reports: JUnit against the XSD, TAP through prove ---
sim junit 1 "$TMP/ready.yaml" "$TMP/exit.yaml" --format junit -o "$TMP/junit.xml" --outdir "$TMP/junit-run"
if xmllint --noout --schema "$SRCDIR/tests/fixtures/junit.xsd" "$TMP/junit.xml" 2>"$TMP/xmllint.err"; then
	ok "junit: valid against the XSD"
else
	bad "junit: $(cat "$TMP/xmllint.err")"
fi
grep -q '<failure message=".*step .bad. (run): exit status 3' "$TMP/junit.xml" && ok "junit: the failure says which step" ||
	bad "junit: $(cat "$TMP/junit.xml")"
sim tap 1 "$TMP/ready.yaml" "$TMP/exit.yaml" --format tap -o "$TMP/tap.out" --outdir "$TMP/tap-run"
if prove -e cat "$TMP/tap.out" >"$TMP/prove.out" 2>&1; then bad "tap: prove passed a failing run"; else
	grep -q 'Failed test.*2' "$TMP/prove.out" && ok "tap: prove fails the second sim" || bad "tap: $(cat "$TMP/prove.out")"
fi

# --- SIGKILL of nslab sim: no process, no namespace left ---
T="2001.$$"
write killed <<EOF2
  - {id: s, spawn: [sh, -c, "sleep $T & sleep $T; echo"], node: bob}
  - {wait: 30s}
EOF2
leftovers_snapshot kill
mkdir -p "$TMP/killed"
(cd "$TMP/killed" && exec "$NSLAB" sim "$TMP/killed.yaml" >/dev/null 2>&1) &
PID=$!
track_pid "$PID"
tokens() { ps -eo pid=,args= | grep -F -- "$T" | grep -v grep; }
some() { [ -n "$(tokens)" ]; }
none() { [ -z "$(tokens)" ]; }
wait_until 20 some || fail "the spawned sleep never started"
kill -KILL "$PID"
wait "$PID" 2>/dev/null
wait_until 5 none && ok "SIGKILL of nslab sim: its processes are gone" || bad "left: $(tokens)"
leftovers_check kill no-such-lab
finish

// SPDX-License-Identifier: MIT
// Firewall: a suite editor that runs in the server's playground, and a test
// report (the playground's answer or a report file) as a cascade per packet:
// packet → hook's table and chain → the rule that decided → verdict, the
// deciding rule highlighted in the ruleset.
import { useState } from 'preact/hooks';
import { getJSON, usePoll, q } from './api.js';

const EXAMPLE = `topology: direct
rules: |
  table inet filter {
    chain input {
      type filter hook input priority 0; policy drop;
      tcp dport 22 accept comment "ssh"
      tcp dport 80 drop comment "web"
    }
  }
tests:
  - name: ssh is open
    packets: [{proto: tcp, dport: 22, flags: S}]
    expect: {verdict: accept, rule: ssh}
  - name: web is dropped
    packets: [{proto: tcp, dport: 80, flags: S}]
    expect: {verdict: drop}
`;

const KEYWORDS = /\b(table|chain|type|hook|priority|policy|accept|drop|reject|counter|comment|ct|state|tcp|udp|icmp|ip|ip6|inet|meta|dport|sport|saddr|daddr|iif|oif|jump|goto|return|masquerade|snat|dnat|log|established|related|new|invalid|filter|nat|input|output|forward|prerouting|postrouting)\b/g;

function Highlight({ text, mark, errLine, errCol }) {
	return (
		<pre class="code" aria-label="the suite, highlighted">
			{text.split('\n').map((line, i) => {
				const parts = [];
				let last = 0;
				for (const m of line.matchAll(KEYWORDS)) {
					parts.push(line.slice(last, m.index), <span class="kw">{m[0]}</span>);
					last = m.index + m[0].length;
				}
				parts.push(line.slice(last));
				const decided = mark.some((r) => r && line.trim() === r.trim());
				const row = <div class={`cl${decided ? ' decided' : ''}${errLine === i + 1 ? ' errline' : ''}`}>
					<span class="ln">{i + 1}</span>{parts}</div>;
				if (errLine !== i + 1) return row;
				// the error's column, under its line
				return <>{row}<div class="cl caret" aria-label={`error at line ${errLine}, column ${errCol}`}>
					<span class="ln" />{' '.repeat(Math.max(0, errCol - 1))}^</div></>;
			})}
		</pre>
	);
}

export function Report({ report }) {
	if (!report) return null;
	return (
		<div class="report">
			<p><b>{report.passed}</b> passed, <b>{report.failed}</b> failed, {report.inconclusive} inconclusive, {report.errors} errors
				{report.error && <span class="error"> — {report.error}</span>}</p>
			{report.tests.map((t) => (
				<div class={`test status-${t.status}`} key={t.name}>
					<h4><span class={`badge st-${t.status}`}>{t.status}</span> {t.name}</h4>
					{t.log && <pre class="testlog">{t.log}</pre>}
					{(t.packets || []).map((p, i) => (
						<ol class="cascade" key={i} aria-label={`packet ${p.packet}`}>
							<li class="pkt"><code>{p.packet}</code></li>
							<li class="hook">{p.table ? `${p.table} / ${p.chain}` : 'no trace'}</li>
							<li class="rule decided" data-rule={p.rule || ''}><code>{p.rule || '–'}</code></li>
							<li class={`verdict v-${p.verdict}`}>{p.verdict || 'inconclusive'}{p.reply ? ` (${p.reply})` : ''}</li>
							{p.conntrack && <li class="ct"><small>conntrack: {p.conntrack.state || ''} {p.conntrack.replied ? 'replied' : ''} {p.conntrack.assured ? 'assured' : ''}</small></li>}
							{p.trace && <li class="trace"><small>{p.trace}</small></li>}
						</ol>
					))}
				</div>
			))}
			{(report.coverage || []).length > 0 && (
				<table class="coverage" aria-label="rule coverage"><thead><tr><th>rule (coverage)</th><th>hits</th></tr></thead>
					<tbody>{report.coverage.flatMap((c) => c.rules.map((r) => (
						<tr key={`${c.ruleset}${r.handle}`} class={r.hits ? '' : 'unhit'}><td><code>{r.rule}</code></td><td>{r.hits}</td></tr>)))}</tbody></table>
			)}
		</div>
	);
}

function ReportFile({ run }) {
	const [id, file] = run.split('#');
	const [rep, err] = usePoll(async () => {
		const r = await fetch(`/api/file?${q(id)}&path=${encodeURIComponent(file)}`);
		if (!r.ok) throw new Error((await r.json()).error);
		return r.json();
	}, 0, [run]);
	return <>{err && <p class="error">{err}</p>}<Report report={rep} /></>;
}

// A packet or a flow as a test of its own, appended to the suite's tests.
function Crafter({ onAdd }) {
	const [f, setF] = useState({ kind: 'packets', proto: 'tcp', dport: '443', flags: 'S', send: '', verdict: '' });
	const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
	const add = () => {
		const fields = [`proto: ${f.proto}`];
		if (f.proto !== 'icmp' && f.dport) fields.push(`dport: ${Number(f.dport)}`);
		if (f.kind === 'packets' && f.proto === 'tcp' && f.flags) fields.push(`flags: ${f.flags}`);
		if (f.kind === 'flows' && f.send) fields.push(`send: ${JSON.stringify(f.send)}`);
		const name = `${f.proto} ${f.dport || ''} ${f.kind === 'flows' ? 'flow' : 'packet'}`.replace(/\s+/g, ' ');
		let block = `  - name: ${name}\n    ${f.kind}: [{${fields.join(', ')}}]\n`;
		if (f.verdict) block += `    expect: {verdict: ${f.verdict}}\n`;
		onAdd(block);
	};
	return (
		<fieldset class="crafter">
			<legend>Add a packet or a flow</legend>
			<label>Kind <select value={f.kind} onChange={set('kind')}><option value="packets">packet</option><option value="flows">flow</option></select></label>
			<label>Proto <select value={f.proto} onChange={set('proto')}><option>tcp</option><option>udp</option><option>icmp</option></select></label>
			<label>Port <input size={5} value={f.dport} onInput={set('dport')} inputMode="numeric" /></label>
			{f.kind === 'packets' && f.proto === 'tcp' && <label>Flags <input size={3} value={f.flags} onInput={set('flags')} /></label>}
			{f.kind === 'flows' && <label>Send <input size={8} value={f.send} onInput={set('send')} /></label>}
			<label>Expect <select value={f.verdict} onChange={set('verdict')}><option value="">(any)</option><option>accept</option><option>drop</option><option>reject</option></select></label>
			<button type="button" onClick={add}>Add</button>
		</fieldset>
	);
}

function Playground() {
	const [text, setText] = useState(EXAMPLE);
	const [report, setReport] = useState(null);
	const [err, setErr] = useState(null);
	const [busy, setBusy] = useState(false);
	const run = async () => {
		setBusy(true);
		setErr(null);
		try {
			const r = await fetch('/api/playground', { method: 'POST', body: text, credentials: 'same-origin' });
			const j = await r.json();
			if (!r.ok) throw new Error(j.error);
			setReport(j);
		} catch (e) {
			setReport(null);
			setErr(e.message);
		}
		setBusy(false);
	};
	const m = err && err.match(/suite:(\d+):(\d+):/);
	const exportHref = `data:application/yaml;charset=utf-8,${encodeURIComponent(text)}`;
	const decided = report ? report.tests.flatMap((t) => (t.packets || []).map((p) => p.rule)) : [];
	return (
		<div class="playground">
			<div class="editor">
				<label for="suite">Suite (a ruleset and packets, the nslab test format)</label>
				<textarea id="suite" spellcheck={false} value={text} rows={18} onInput={(e) => setText(e.target.value)} />
				<Crafter onAdd={(b) => setText(text.replace(/\n*$/, '\n') + b)} />
				<div class="actions">
					<button id="run-suite" onClick={run} disabled={busy}>{busy ? 'Running…' : 'Run in the kernel'}</button>
					<a href={exportHref} download="suite.yaml">Export as a suite file</a>
				</div>
				{err && <p class="error" role="alert">{err}</p>}
				<Highlight text={text} mark={decided} errLine={m ? Number(m[1]) : 0} errCol={m ? Number(m[2]) : 0} />
			</div>
			<Report report={report} />
		</div>
	);
}

const tuple = (t) => (t.sport != null ? `${t.src}:${t.sport} → ${t.dst}:${t.dport}` : `${t.src} → ${t.dst}`);

// A live lab's node's conntrack table, asked of its supervisor every 2 s (a
// dump walks a table the whole host shares: never faster).
function Conntrack({ run, state }) {
	const nodes = state ? state.nodes.filter((n) => n.kind !== 'root') : [];
	const first = nodes.find((n) => n.kind === 'router') || nodes[0];
	const [node, setNode] = useState(null);
	const [filter, setFilter] = useState('');
	const name = node || (first && first.name);
	const [ct, err] = usePoll(() => (name ? getJSON(`/api/conntrack?${q(run)}&node=${encodeURIComponent(name)}`)
		: Promise.resolve(null)), 2000, [run, name]);
	const rows = ct ? ct.entries.filter((e) => !filter || JSON.stringify(e).includes(filter)) : [];
	return (
		<section class="conntrack" aria-labelledby="ct-title">
			<h3 id="ct-title">Conntrack table</h3>
			<div class="filters">
				<label>Node <select id="ct-node" value={name || ''} onChange={(e) => setNode(e.target.value)}>
					{nodes.map((n) => <option key={n.name} value={n.name}>{n.name} ({n.kind})</option>)}</select></label>
				<label>Filter <input id="ct-filter" value={filter} onInput={(e) => setFilter(e.target.value)} placeholder="address, port, state" /></label>
				<span class="muted" aria-live="polite">{ct ? `${rows.length} of ${ct.entries.length} entries${ct.truncated ? ' (truncated)' : ''}` : ''}</span>
			</div>
			{err && <p class="error">{err}</p>}
			<table class="cttable">
				<thead><tr><th>proto</th><th>original</th><th>reply</th><th>state</th><th>flags</th><th>packets</th><th>bytes</th></tr></thead>
				<tbody>
					{rows.map((e, i) => (
						<tr key={i} data-proto={e.proto} data-src={e.orig.src} class={e.nat ? 'nat' : ''}>
							<td>{e.family === 'ipv6' ? `${e.proto}/6` : e.proto}</td><td><code>{tuple(e.orig)}</code></td>
							<td><code>{tuple(e.reply)}</code></td><td>{e.state || (e.icmp_id != null ? `id ${e.icmp_id}` : '')}</td>
							<td>{[e.replied && 'replied', e.assured && 'assured', e.nat && 'NAT'].filter(Boolean).join(' ')}</td>
							<td>{e.packets ?? ''}</td><td>{e.bytes ?? ''}</td>
						</tr>
					))}
				</tbody>
			</table>
			{ct && ct.entries.length === 0 && <p class="muted">No entries: conntrack is idle in {name} (it runs where a ruleset or NAT uses it).</p>}
		</section>
	);
}

export function Firewall({ run, info, live, state }) {
	if (run) return <ReportFile run={run} />;
	const play = info && info.playground;
	return (
		<>
			{live && <Conntrack run={live} state={state} />}
			{play ? <Playground />
				: <p class="muted">Start <code>nslab serve --playground</code> to run rulesets here, or choose a test report on the left.</p>}
		</>
	);
}

// SPDX-License-Identifier: MIT
// Events: the lab's event stream as a table, filtered by kind and node.
import { useState } from 'preact/hooks';
import { fmtTime } from './api.js';

const SKIP = new Set(['seq', 'ts', 'kind', 'lab', 'node']);

export function details(ev) {
	return Object.entries(ev).filter(([k]) => !SKIP.has(k))
		.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
}

export function Events({ events, go }) {
	const [kind, setKind] = useState('');
	const [node, setNode] = useState('');
	const [abs, setAbs] = useState(false);
	const kinds = [...new Set(events.map((e) => e.kind))].sort();
	const nodes = [...new Set(events.map((e) => e.node).filter(Boolean))].sort();
	const t0 = events.length ? events[0].ts : 0;
	const shown = events.filter((e) => (!kind || e.kind === kind) && (!node || e.node === node));
	return (
		<div class="events">
			<div class="filters">
				<label>Kind <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label="filter by kind">
					<option value="">all</option>{kinds.map((k) => <option key={k}>{k}</option>)}</select></label>
				<label>Node <select value={node} onChange={(e) => setNode(e.target.value)} aria-label="filter by node">
					<option value="">all</option>{nodes.map((k) => <option key={k}>{k}</option>)}</select></label>
				<label><input type="checkbox" checked={abs} onChange={(e) => setAbs(e.target.checked)} /> absolute time</label>
				<span class="muted">{shown.length} of {events.length} events</span>
			</div>
			<table class="evtable">
				<thead><tr><th>#</th><th>time</th><th>kind</th><th>node</th><th>details</th><th></th></tr></thead>
				<tbody>
					{shown.map((e) => (
						<tr key={e.seq} data-kind={e.kind}>
							<td>{e.seq}</td><td class="time">{fmtTime(e.ts, t0, abs)}</td>
							<td><span class={`kind kind-${e.kind}`}>{e.kind}</span></td>
							<td>{e.node || ''}</td><td class="det">{details(e)}</td>
							<td>{e.kind.startsWith('cmd_') && e.node && e.id != null &&
								<button class="link" aria-label={`the log of command ${e.id} in ${e.node}`}
									onClick={() => go({ view: 'logs', log: `${e.node}:${e.id}:${e.kind === 'cmd_exited' ? 'end' : 'start'}` })}>log</button>}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

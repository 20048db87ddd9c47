// SPDX-License-Identifier: MIT
// Perf: a sim's results (results.json) as a table and bars, its steps' times.
import { getJSON, usePoll, q } from './api.js';

function Bars({ rows, unit }) {
	const max = Math.max(...rows.map((r) => r[1]), 1e-9);
	return (
		<svg width={520} height={rows.length * 22 + 4} role="img" aria-label="bar chart">
			{rows.map(([k, v], i) => (
				<g key={k}>
					<text x={0} y={i * 22 + 15} class="barlabel">{k}</text>
					<rect x={160} y={i * 22 + 4} height={14} width={Math.max(1, (v / max) * 300)} class="bar" />
					<text x={166 + (v / max) * 300} y={i * 22 + 15} class="barvalue">{v}{unit}</text>
				</g>
			))}
		</svg>
	);
}

export function Perf({ run }) {
	const [res, err] = usePoll(() => getJSON(`/api/results?${q(run)}`), 0, [run]);
	const [sim] = usePoll(() => getJSON(`/api/results?${q(run)}&of=sim`), 0, [run]);
	const results = res ? Object.entries(res.results || {}) : [];
	const nums = results.filter(([, v]) => typeof v === 'number');
	const steps = sim ? (sim.steps || []).map((s) => [s.id, s.ms]) : [];
	return (
		<div class="perf">
			{err && <p class="muted">No results: {err}</p>}
			{results.length > 0 && (
				<table><thead><tr><th>result</th><th>value</th></tr></thead>
					<tbody>{results.map(([k, v]) => <tr key={k}><td>{k}</td><td><code>{JSON.stringify(v)}</code></td></tr>)}</tbody></table>
			)}
			{nums.length > 0 && <Bars rows={nums} unit="" />}
			{steps.length > 0 && <><h3>Steps (ms)</h3><Bars rows={steps} unit=" ms" /></>}
		</div>
	);
}

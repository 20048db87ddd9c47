// SPDX-License-Identifier: MIT
// Perf: a sim's results (results.json) as a table and bars, its steps' times,
// and charts of the values its steps printed over time (series.js): the
// throughput of an iperf3 -J, the latency of a ping, JSON lines with a time.
import { getJSON, usePoll, q } from './api.js';
import { seriesOf, si } from './series.js';

function Bars({ rows, unit, label }) {
	const max = Math.max(...rows.map((r) => r[1]), 1e-9);
	return (
		<svg width={520} height={rows.length * 22 + 4} role="img" aria-label={label}>
			{rows.map(([k, v], i) => (
				<g key={k}>
					<text x={0} y={i * 22 + 15} class="barlabel">{k}</text>
					<rect x={160} y={i * 22 + 4} height={14} width={Math.max(1, (v / max) * 300)} class="bar" />
					<text x={166 + (v / max) * 300} y={i * 22 + 15} class="barvalue">{si(v)}{unit}</text>
				</g>
			))}
		</svg>
	);
}

const W = 560;
const H = 180;
const PAD = { l: 56, r: 36, t: 10, b: 30 };

// One series as a line over time, its numbers in a table below for the keyboard and screen readers.
function LineChart({ step, s }) {
	const xs = s.points.map((p) => p[0]);
	const ys = s.points.map((p) => p[1]);
	const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
	const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys)];
	const px = (x) => PAD.l + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.l - PAD.r);
	const py = (y) => H - PAD.b - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.t - PAD.b);
	const title = `${step}: ${s.name}${s.unit ? ` (${s.unit})` : ''}`;
	return (
		<figure class="chart" data-step={step} data-series={s.name}>
			<figcaption>{title}</figcaption>
			<svg width={W} height={H} role="img" aria-label={`${title} over ${s.x}, ${s.points.length} points`}>
				<line x1={PAD.l} x2={W - PAD.r} y1={H - PAD.b} y2={H - PAD.b} class="axis" />
				<line x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={H - PAD.b} class="axis" />
				{[y0, (y0 + y1) / 2, y1].map((y) => (
					<g key={y}><line x1={PAD.l} x2={W - PAD.r} y1={py(y)} y2={py(y)} class="tick" />
						<text x={PAD.l - 4} y={py(y) + 4} class="ticklabel" text-anchor="end">{si(y)}</text></g>))}
				{[x0, x1].map((x) => <text key={x} x={px(x)} y={H - PAD.b + 16} class="ticklabel" text-anchor="middle">{si(x)}</text>)}
				<text x={W - PAD.r} y={H - 2} class="ticklabel" text-anchor="end">{s.x}</text>
				<polyline class="line" points={s.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')} />
				{s.points.map(([x, y], i) => <circle key={i} cx={px(x)} cy={py(y)} r={2.5} class="pt"><title>{`${si(x)} ${s.x}: ${si(y)} ${s.unit}`}</title></circle>)}
			</svg>
			<details><summary>the numbers</summary>
				<table class="points"><thead><tr><th>{s.x}</th><th>{s.name}{s.unit ? ` (${s.unit})` : ''}</th></tr></thead>
					<tbody>{s.points.map(([x, y], i) => <tr key={i}><td>{x}</td><td>{y}</td></tr>)}</tbody></table>
			</details>
		</figure>
	);
}

// Every steps/*.stdout of the run, read (at most 1 MiB each) and looked through for series.
async function stepSeries(run) {
	const { logs } = await getJSON(`/api/logs?${q(run)}`);
	const outs = logs.filter((l) => /^steps\/.*\.stdout$/.test(l.path)).slice(0, 40);
	const all = await Promise.all(outs.map(async (l) => {
		const r = await fetch(`/api/log?${q(run)}&path=${encodeURIComponent(l.path)}&max=1048576`);
		if (!r.ok) return [];
		const step = l.path.replace(/^steps\/(\d+-)?/, '').replace(/\.stdout$/, '');
		return seriesOf(await r.text()).map((s) => ({ step, s }));
	}));
	return all.flat();
}

// A result as read: a number (also one captured as text) with SI prefixes, else the text itself.
function showValue(v) {
	const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
	if (typeof n === 'number' && Number.isFinite(n)) return Math.abs(n) >= 1000 ? `${si(n)} (${n})` : String(n);
	return typeof v === 'string' ? v : JSON.stringify(v);
}

export function Perf({ run }) {
	const [res, err] = usePoll(() => getJSON(`/api/results?${q(run)}`), 0, [run]);
	const [sim] = usePoll(() => getJSON(`/api/results?${q(run)}&of=sim`), 0, [run]);
	const [charts] = usePoll(() => stepSeries(run), 0, [run]);
	const results = res ? Object.entries(res.results || {}) : [];
	// captures are text ("12.3e9"): a number written as text is charted as one
	const nums = results.map(([k, v]) => [k, Number(v)]).filter(([, v]) => Number.isFinite(v));
	const steps = sim ? (sim.steps || []).map((s) => [s.id, s.ms]) : [];
	return (
		<div class="perf">
			{err && <p class="muted">No results: {err}</p>}
			{results.length > 0 && (
				<table><thead><tr><th>result</th><th>value</th></tr></thead>
					<tbody>{results.map(([k, v]) => <tr key={k}><td>{k}</td><td><code title={String(v)}>{showValue(v)}</code></td></tr>)}</tbody></table>
			)}
			{nums.length > 0 && <Bars rows={nums} unit="" label="results" />}
			{charts && charts.length > 0 && <><h3>Over time</h3>
				<div class="charts">{charts.map(({ step, s }) => <LineChart key={`${step}/${s.name}`} step={step} s={s} />)}</div></>}
			{steps.length > 0 && <><h3>Steps (ms)</h3><Bars rows={steps} unit=" ms" label="steps' times" /></>}
		</div>
	);
}

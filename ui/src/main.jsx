// SPDX-License-Identifier: MIT
// nslab's web UI: runs on the left, a run's views on the right. The place is
// in the URL's hash (#run=ID&view=NAME), so a view can be linked and reloaded.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJSON, usePoll, useEvents, useRuns, q } from './api.js';
import { Topology } from './topology.jsx';
import { Events } from './events.jsx';
import { Timeline } from './timeline.jsx';
import { Logs } from './logs.jsx';
import { Perf } from './perf.jsx';
import { Firewall } from './firewall.jsx';

const VIEWS = {
	topology: 'Topology',
	events: 'Events',
	timeline: 'Timeline',
	logs: 'Logs',
	perf: 'Perf',
	firewall: 'Firewall',
};

function readHash() {
	const p = new URLSearchParams(location.hash.slice(1));
	return { run: p.get('run'), view: p.get('view') || 'topology', log: p.get('log') };
}

function useHash() {
	const [h, setH] = useState(readHash());
	useEffect(() => {
		const on = () => setH(readHash());
		addEventListener('hashchange', on);
		return () => removeEventListener('hashchange', on);
	}, []);
	const go = (changes) => {
		const p = new URLSearchParams(location.hash.slice(1));
		for (const [k, v] of Object.entries(changes)) {
			if (v == null) p.delete(k);
			else p.set(k, v);
		}
		location.hash = p.toString();
	};
	return [h, go];
}

// Every run the server found, and the live labs, as one list.
function runItems(data) {
	if (!data) return [];
	const live = (data.live || []).filter((l) => l.outdir || !l.error).map((l) => ({
		id: `live:${l.name}`, kind: 'live', name: l.name, detail: `${l.nodes} nodes, ${l.mode}`,
	}));
	const files = data.runs.map((r) => ({
		...r, id: r.kind === 'report' ? `${r.id}#${r.file}` : r.id,
		detail: `${r.kind} · ${data.roots[r.root]}/${r.path === '.' ? '' : r.path}`,
	}));
	return live.concat(files);
}

function RunList({ items, current, go, err }) {
	return (
		<nav class="runs" aria-label="runs">
			<h2>Runs</h2>
			{err && <p class="error">{err}</p>}
			{items.length === 0 && !err && <p class="muted">No runs found yet.</p>}
			<ul>
				{items.map((r) => (
					<li key={r.id}>
						<button class={r.id === current ? 'run current' : 'run'} data-run={r.id}
							aria-current={r.id === current ? 'page' : undefined}
							onClick={() => go({ run: r.id, view: r.kind === 'report' ? 'firewall' : null, log: null })}>
							<span class={`badge kind-${r.kind}`}>{r.kind}</span> {r.name}
							<small>{r.detail}</small>
						</button>
					</li>
				))}
			</ul>
		</nav>
	);
}

// The state of a run: a live lab's refetched when its events say something changed.
function useRunState(run, events) {
	const [state, setState] = useState(null);
	const [err, setErr] = useState(null);
	const last = events.length ? events[events.length - 1].seq : 0;
	useEffect(() => {
		setState(null);
	}, [run]);
	useEffect(() => {
		if (!run || run.includes('#')) return;
		getJSON(`/api/state?${q(run)}`).then((s) => (setState(s), setErr(null)),
			(e) => setErr(e.message));
	}, [run, last]);
	return [state, err];
}

// The tabs as WAI-ARIA's pattern has them: one tab stop, arrows, Home and End move and select.
function tabKey(e, views, v, go) {
	const i = views.indexOf(v);
	const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: views.length - 1 }[e.key];
	if (to === undefined) return;
	e.preventDefault();
	const k = views[(to + views.length) % views.length];
	go({ view: k });
	requestAnimationFrame(() => document.getElementById(`tab-${k}`)?.focus());
}

function RunView({ run, item, view, go, info, logParam }) {
	const isReport = run.includes('#');
	const events = useEvents(isReport ? null : run);
	const [state, stateErr] = useRunState(run, events);
	const views = isReport ? ['firewall']
		: Object.keys(VIEWS).filter((v) => v !== 'perf' || (item && item.kind.startsWith('sim')));
	const v = views.includes(view) ? view : views[0];
	return (
		<main class="view" id="main" tabIndex={-1}>
			<header class="runhead">
				<h1>{item ? item.name : run}</h1>
				<div role="tablist" aria-label="views" onKeyDown={(e) => tabKey(e, views, v, go)}>
					{views.map((k) => (
						<button role="tab" key={k} id={`tab-${k}`} aria-selected={k === v} aria-controls="view-panel"
							tabIndex={k === v ? 0 : -1}
							class={k === v ? 'tab current' : 'tab'} onClick={() => go({ view: k })}>
							{VIEWS[k]}
						</button>
					))}
				</div>
			</header>
			<section role="tabpanel" id="view-panel" tabIndex={-1} aria-labelledby={`tab-${v}`} class={`panel panel-${v}`}>
				{v === 'topology' && <Topology run={run} state={state} err={stateErr} events={events} />}
				{v === 'events' && <Events events={events} go={go} />}
				{v === 'timeline' && <Timeline events={events} />}
				{v === 'logs' && <Logs run={run} live={run.startsWith('live:')} initial={logParam} />}
				{v === 'perf' && <Perf run={run} />}
				{v === 'firewall' && <Firewall run={isReport ? run : null} info={info}
					live={run.startsWith('live:') ? run : null} state={state} />}
			</section>
		</main>
	);
}

function App() {
	const [h, go] = useHash();
	const [data, err] = useRuns();
	const [info] = usePoll(() => getJSON('/api/info'), 0, []);
	const items = runItems(data);
	const item = items.find((r) => r.id === h.run);
	return (
		<div class="app">
			<a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to the view</a>
			<header class="top"><a href="#" class="logo">nslab</a>
				{info && info.playground && <button class="tab" onClick={() => go({ run: null, view: 'firewall' })}>Playground</button>}
			</header>
			<RunList items={items} current={h.run} go={go} err={err} />
			{h.run ? <RunView run={h.run} item={item} view={h.view} go={go} info={info} logParam={h.log} />
				: h.view === 'firewall' ? <main class="view" id="main" tabIndex={-1}><Firewall run={null} info={info} /></main>
				: <main class="view" id="main" tabIndex={-1}><p class="muted">Choose a run on the left: a live lab, a lab's output directory, a sim or a test report.</p></main>}
		</div>
	);
}

render(<App />, document.getElementById('app'));

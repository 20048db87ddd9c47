// SPDX-License-Identifier: MIT
// Topology: the lab's nodes and links as a graph (cytoscape), a node's details
// on the side. A node an event names flashes as the event arrives.
import cytoscape from 'cytoscape';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJSON, usePoll, q } from './api.js';

const STYLE = [
	{ selector: 'node', style: { label: 'data(id)', 'font-size': 11, 'text-valign': 'bottom',
		'text-margin-y': 4, width: 26, height: 26, 'background-color': '#5b7bb5',
		'transition-property': 'background-color, width, height', 'transition-duration': '0.3s' } },
	{ selector: 'node[kind = "router"]', style: { shape: 'round-diamond', 'background-color': '#c47a2c', width: 32, height: 32 } },
	{ selector: 'node[kind = "region"]', style: { shape: 'round-hexagon', 'background-color': '#0f766e', width: 34, height: 30 } },
	{ selector: 'node[kind = "group"]', style: { label: 'data(label)', 'text-valign': 'top', 'text-halign': 'center',
		'font-size': 12, 'font-weight': 'bold', color: '#0f766e', 'background-color': '#ccfbf1', 'background-opacity': 0.35,
		'border-width': 1, 'border-style': 'dashed', 'border-color': '#0f766e', shape: 'round-rectangle', padding: 14 } },
	{ selector: 'node[kind = "bridge"]', style: { shape: 'rectangle', 'background-color': '#94a3b8', width: 22, height: 8,
		label: 'data(label)', 'font-size': 9, color: '#475569' } },
	{ selector: 'node[kind = "root"]', style: { shape: 'round-rectangle', 'background-color': '#555', width: 40 } },
	{ selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#1d4ed8' } },
	{ selector: 'node.flash', style: { 'background-color': '#e11d48', width: 38, height: 38 } },
	{ selector: 'edge', style: { width: 2, 'line-color': '#9aa5b1', 'curve-style': 'bezier',
		label: 'data(label)', 'font-size': 9, 'text-rotation': 'autorotate', color: '#445' } },
	{ selector: 'edge[?cond]', style: { 'line-style': 'dashed', 'line-color': '#d97706' } },
	{ selector: 'edge[?region]', style: { width: 3, 'line-color': '#0f766e' } },
	{ selector: 'edge[?down]', style: { 'line-color': '#dc2626', 'line-style': 'dotted' } },
];

// The region a node sits in: a region's own node, a router placed in one, a
// device whose primary router is in one. Drawn as a box (a compound node).
function regionOf(state) {
	const byName = new Map(state.nodes.map((n) => [n.name, n]));
	const of = (n) => {
		if (!n) return null;
		if (n.kind === 'region') return n.name;
		if (n.region) return n.region;
		if (n.kind === 'device') {
			const f = (n.ifaces || []).find((i) => i.name === n.primary) || (n.ifaces || [])[0];
			const r = f && byName.get(f.peer);
			return r && r.kind === 'router' ? r.region || null : null;
		}
		return null;
	};
	return of;
}

// A region link, by its two regions in either order.
function regionLinks(state) {
	const m = new Map();
	for (const l of state.region_links || []) {
		m.set(`${l.a}|${l.b}`, l);
		m.set(`${l.b}|${l.a}`, l);
	}
	return m;
}

function elements(state) {
	const names = new Set(state.nodes.map((n) => n.name));
	const region = regionOf(state);
	const rlinks = regionLinks(state);
	const groups = [...new Set(state.nodes.filter((n) => n.kind === 'region').map((n) => n.name))];
	const els = groups.map((g) => ({ data: { id: `region:${g}`, kind: 'group', label: `region ${g}` } }));
	// a router's (or region's) LAN bridge, between it and what plugs into it (the IX is the root node itself)
	const bridged = new Set();
	for (const n of state.nodes) {
		const g = region(n);
		const parent = g && groups.includes(g) ? { parent: `region:${g}` } : {};
		els.push({ data: { id: n.name, kind: n.kind, ...parent } });
		if (n.bridge && n.kind !== 'root') {
			bridged.add(n.name);
			els.push({ data: { id: `br:${n.name}`, kind: 'bridge', label: n.bridge.name, node: n.name, ...parent } });
			els.push({ data: { id: `${n.name}:${n.bridge.name}`, source: n.name, target: `br:${n.name}`, label: '' } });
		}
	}
	for (const n of state.nodes)
		for (const f of n.ifaces || [])
			if (f.peer && names.has(f.peer)) {
				const rl = rlinks.get(`${n.name}|${f.peer}`);
				const source = !rl && bridged.has(f.peer) ? `br:${f.peer}` : f.peer;
				const rcond = rl && rl.a_to_b && rl.a_to_b !== 'none' ? rl.a_to_b : '';
				const cond = f.link && (f.link.up || f.link.down);
				els.push({ data: { id: `${n.name}:${f.name}`, source, target: n.name,
					label: rl ? `${rl.a} ↔ ${rl.b}${rcond ? `: ${rcond}` : ''}${rl.up ? '' : ' (broken)'}`
						: cond ? `${f.name}: ${f.link.up || f.link.down}` : f.name,
					cond: !!cond, region: !!rl,
					down: f.up === false || f.carrier === false || (rl ? !rl.up : false) } });
			}
	return els;
}

function Addr({ v }) {
	return v ? <code>{v}</code> : <span class="muted">–</span>;
}

// A live lab's link counters, straight from its supervisor, every 2 s.
function useCounters(run, node) {
	const live = run && run.startsWith('live:') && node;
	const [c] = usePoll(async () => {
		if (!live) return null;
		const all = await Promise.all((node.ifaces || []).map((f) =>
			getJSON(`/api/link?${q(run)}&node=${encodeURIComponent(node.name)}&iface=${encodeURIComponent(f.name)}`)
				.catch(() => null)));
		return Object.fromEntries(all.filter(Boolean).map((l) => [l.iface, l]));
	}, live ? 2000 : 0, [run, node && node.name]);
	return c || {};
}

const dirText = (d) => d ? `${d.passed} pkts ${d.bytes} B, lost ${d.lost}` : '–';

function NodePanel({ node, run }) {
	const counters = useCounters(run, node);
	if (!node) return <p class="muted">Select a node to see its interfaces and addresses.</p>;
	return (
		<div class="nodepanel" data-node={node.name}>
			<h3>{node.name} <span class={`badge kind-${node.kind}`}>{node.kind}</span></h3>
			{node.region && <p>Region: <code>{node.region}</code></p>}
			{node.nat && <p>NAT: <code>{node.nat}</code></p>}
			{node.bridge && <p>Bridge {node.bridge.name}: <Addr v={node.bridge.ip4} /> <Addr v={node.bridge.ip6} /></p>}
			{node.firewall && <p>Firewall: <code>{String(node.firewall)}</code></p>}
			{(node.ifaces || []).map((f) => (
				<section class="iface" key={f.name}>
					<h4>{f.name}{node.primary === f.name ? ' (primary)' : ''} <span class="muted">to {f.peer}</span></h4>
					<dl>
						<dt>IPv4</dt><dd class="addr"><Addr v={f.ip4} /></dd>
						<dt>IPv6</dt><dd class="addr"><Addr v={f.ip6} /></dd>
						<dt>MAC</dt><dd><code>{f.mac}</code></dd>
						<dt>link</dt><dd>{f.link ? <code>up: {f.link.up || 'none'} · down: {f.link.down || 'none'}</code> : <span class="muted">no condition</span>}</dd>
						<dt>counters</dt><dd class="counters">{counters[f.name] ? <small>↑ {dirText(counters[f.name].up)}<br />↓ {dirText(counters[f.name].down)}</small> : ''}</dd>
					</dl>
				</section>
			))}
		</div>
	);
}

export function Topology({ run, state, err, events }) {
	const box = useRef(null);
	const cy = useRef(null);
	const [sel, setSel] = useState(null);
	const seen = useRef(0);

	useEffect(() => {
		cy.current = cytoscape({ container: box.current, style: STYLE, elements: [],
			wheelSensitivity: 0.3, boxSelectionEnabled: false });
		// a bridge selects the node it belongs to
		cy.current.on('tap', 'node[kind != "group"]', (e) => setSel(e.target.data('node') || e.target.id()));
		cy.current.on('tap', (e) => e.target === cy.current && setSel(null));
		window.nslab = { cy: cy.current }; // for the browser tests: where a node is drawn
		return () => cy.current.destroy();
	}, []);

	useEffect(() => {
		if (!state || !cy.current) return;
		const c = cy.current;
		const els = elements(state);
		const fresh = c.nodes().length === 0;
		c.batch(() => {
			const ids = new Set(els.map((e) => e.data.id));
			c.elements().filter((e) => !ids.has(e.id())).remove();
			for (const e of els) {
				const have = c.getElementById(e.data.id);
				if (have.nonempty()) have.data(e.data);
				else c.add(e);
			}
		});
		if (fresh || c.nodes('[!placed]').length) {
			c.layout({ name: 'breadthfirst', directed: true, roots: c.nodes('[kind = "root"]'),
				spacingFactor: 1.1, animate: !fresh && !matchMedia('(prefers-reduced-motion: reduce)').matches }).run();
			c.nodes().data('placed', true);
		}
	}, [state]);

	// flash the nodes that new events name
	useEffect(() => {
		const c = cy.current;
		const add = events.slice(seen.current);
		const history = seen.current === 0;
		seen.current = events.length;
		if (!c || history) return; // the history arrives as one batch: no fireworks
		for (const ev of add) {
			const n = ev.node && c.getElementById(ev.node);
			if (n && n.nonempty()) {
				n.addClass('flash');
				setTimeout(() => n.removeClass('flash'), 900);
			}
		}
	}, [events]);

	const node = state && state.nodes.find((n) => n.name === sel);
	return (
		<div class="topology">
			<div class="graph" ref={box} role="img" aria-label="the lab's topology" />
			<aside class="side">
				{err && <p class="error">{err}</p>}
				<NodePanel node={node} run={run} />
				{state && (state.region_links || []).length > 0 && <>
					<h4>Region links</h4>
					<table class="rlinks"><thead><tr><th>link</th><th>a → b</th><th>b → a</th><th>state</th></tr></thead>
						<tbody>{state.region_links.map((l) => (
							<tr key={`${l.a}|${l.b}`} data-rlink={`${l.a}|${l.b}`}><td>{l.a} ↔ {l.b}</td><td><code>{l.a_to_b}</code></td>
								<td><code>{l.b_to_a}</code></td><td>{l.up ? 'up' : <b class="error">broken</b>}</td></tr>))}</tbody></table>
				</>}
				<h4>Nodes</h4>
				<ul class="nodelist">
					{state && state.nodes.map((n) => (
						<li key={n.name}>
							<button class={n.name === sel ? 'current' : ''} data-node={n.name}
								onClick={() => { setSel(n.name); cy.current.$(':selected').unselect(); cy.current.getElementById(n.name).select(); }}>
								{n.name}
							</button>
						</li>
					))}
				</ul>
			</aside>
		</div>
	);
}

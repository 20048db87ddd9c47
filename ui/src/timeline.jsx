// SPDX-License-Identifier: MIT
// Timeline: a lane per node (and one for the lab), each event a mark at its time.
import { useState } from 'preact/hooks';
import { details } from './events.jsx';

const LANE = 26;
const LEFT = 120;
const COLORS = { cmd_spawned: '#2563eb', cmd_exited: '#16a34a', link_condition: '#d97706',
	link_state: '#dc2626', lab_built: '#7c3aed', lab_destroyed: '#475569' };

export function Timeline({ events }) {
	const [zoom, setZoom] = useState(1);
	const [pick, setPick] = useState(null);
	if (!events.length) return <p class="muted">No events yet.</p>;
	const t0 = events[0].ts;
	const span = Math.max(events[events.length - 1].ts - t0, 0.001);
	const lanes = ['(lab)', ...[...new Set(events.map((e) => e.node).filter(Boolean))].sort()];
	const width = Math.max(600, 900 * zoom);
	const x = (ts) => LEFT + ((ts - t0) / span) * (width - LEFT - 60);
	const ticks = Array.from({ length: 6 }, (_, i) => (span * i) / 5);
	return (
		<div class="timeline">
			<div class="filters">
				<button onClick={() => setZoom(zoom * 2)} aria-label="zoom in">+</button>
				<button onClick={() => setZoom(Math.max(1, zoom / 2))} aria-label="zoom out">−</button>
				<span class="muted">{span.toFixed(3)} s, {events.length} events, {lanes.length} lanes</span>
			</div>
			<div class="tlscroll">
				<svg width={width} height={lanes.length * LANE + 30} role="img" aria-label="events over time">
					{ticks.map((t) => (
						<g key={t}><line x1={x(t0 + t)} x2={x(t0 + t)} y1={0} y2={lanes.length * LANE} class="tick" />
							<text x={x(t0 + t)} y={lanes.length * LANE + 16} class="ticklabel">+{t.toFixed(2)} s</text></g>
					))}
					{lanes.map((l, i) => (
						<g key={l} class="lane" data-lane={l}>
							<text x={4} y={i * LANE + 17}>{l}</text>
							<line x1={LEFT} x2={width} y1={i * LANE + 13} y2={i * LANE + 13} class="laneline" />
						</g>
					))}
					{events.map((e) => (
						<circle key={e.seq} cx={x(e.ts)} cy={lanes.indexOf(e.node || '(lab)') * LANE + 13} r={5}
							fill={COLORS[e.kind] || '#64748b'} class="mark" data-kind={e.kind} tabindex="0" role="button"
							aria-label={`#${e.seq} ${e.kind} ${e.node || ''} at +${(e.ts - t0).toFixed(3)} s`}
							onClick={() => setPick(e)} onKeyDown={(k) => (k.key === 'Enter' || k.key === ' ') && (k.preventDefault(), setPick(e))}>
							<title>{e.kind} {e.node || ''}</title>
						</circle>
					))}
				</svg>
			</div>
			{pick && <p class="pick" aria-live="polite">#{pick.seq} <b>{pick.kind}</b> {pick.node || ''} at +{(pick.ts - t0).toFixed(3)} s: {details(pick)}</p>}
		</div>
	);
}

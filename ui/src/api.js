// SPDX-License-Identifier: MIT
// The server's JSON API (docs/serve.md). Same origin: the token cookie goes along.
import { useEffect, useRef, useState } from 'preact/hooks';

export async function getJSON(path) {
	const r = await fetch(path, { credentials: 'same-origin' });
	const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
	if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
	return body;
}

export const q = (run) => `run=${encodeURIComponent(run)}`;

// Poll fn every ms while mounted; returns [value, error].
export function usePoll(fn, ms, deps) {
	const [val, setVal] = useState(null);
	const [err, setErr] = useState(null);
	useEffect(() => {
		let alive = true;
		const tick = () =>
			fn().then((v) => alive && (setVal(v), setErr(null)),
				(e) => alive && setErr(e.message));
		tick();
		const t = ms ? setInterval(tick, ms) : null;
		return () => {
			alive = false;
			if (t) clearInterval(t);
		};
	}, deps);
	return [val, err];
}

// The runs list, pushed by the server whenever it changes (/api/runs?watch=1):
// no polling. EventSource reconnects by itself; the error shows until it has.
export function useRuns() {
	const [data, setData] = useState(null);
	const [err, setErr] = useState(null);
	useEffect(() => {
		const es = new EventSource('/api/runs?watch=1');
		es.onmessage = (m) => {
			try {
				setData(JSON.parse(m.data));
				setErr(null);
			} catch (e) {
				setErr(e.message);
			}
		};
		es.onerror = () => setErr('the server is not answering; reconnecting…');
		return () => es.close();
	}, []);
	return [data, err];
}

// A run's events: the history, then the live tail (EventSource resumes with Last-Event-ID itself).
export function useEvents(run) {
	const [events, setEvents] = useState([]);
	const seen = useRef(new Set());
	useEffect(() => {
		setEvents([]);
		seen.current = new Set();
		if (!run) return undefined;
		const es = new EventSource(`/api/events?${q(run)}`);
		let pending = [];
		let timer = null;
		es.onmessage = (m) => {
			let ev;
			try {
				ev = JSON.parse(m.data);
			} catch {
				return;
			}
			if (seen.current.has(ev.seq)) return;
			seen.current.add(ev.seq);
			pending.push(ev);
			// batch: a history of thousands of lines renders once, not once a line
			if (!timer)
				timer = setTimeout(() => {
					const add = pending;
					pending = [];
					timer = null;
					setEvents((old) => old.concat(add));
				}, 50);
		};
		return () => {
			es.close();
			if (timer) clearTimeout(timer);
		};
	}, [run]);
	return events;
}

export function fmtTime(ts, t0, abs) {
	if (abs) return new Date(ts * 1000).toISOString().replace('T', ' ').replace('Z', '');
	return `+${(ts - t0).toFixed(3)} s`;
}

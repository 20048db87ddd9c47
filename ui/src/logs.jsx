// SPDX-License-Identifier: MIT
// Logs: the run's per-node and per-step output, read by byte offset (a live
// lab's followed every second), JSON lines parsed with their level.
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJSON, usePoll, q } from './api.js';

function Line({ text, target }) {
	const cls = target ? 'logline target' : 'logline';
	if (text.startsWith('{')) {
		try {
			const j = JSON.parse(text);
			const level = j.level || j.lvl || j.severity;
			const msg = j.msg || j.message || text;
			return <div class={cls}>{level && <span class={`lvl lvl-${String(level).toLowerCase()}`}>{level}</span>} {msg}</div>;
		} catch { /* not JSON after all */ }
	}
	return <div class={cls}>{text}</div>;
}

function useLog(run, path, live) {
	const [text, setText] = useState('');
	useEffect(() => {
		setText('');
		if (!path) return undefined;
		let off = 0;
		let alive = true;
		const more = async () => {
			for (;;) {
				const r = await fetch(`/api/log?${q(run)}&path=${encodeURIComponent(path)}&offset=${off}`);
				if (!r.ok || !alive) return;
				const t = await r.text();
				off = Number(r.headers.get('X-Nslab-Next'));
				if (t) setText((old) => old + t);
				if (off >= Number(r.headers.get('X-Nslab-Size'))) return;
			}
		};
		more();
		const timer = live ? setInterval(more, 1000) : null;
		return () => {
			alive = false;
			if (timer) clearInterval(timer);
		};
	}, [run, path]);
	return text;
}

export function Logs({ run, live, initial }) {
	const [list, err] = usePoll(() => getJSON(`/api/logs?${q(run)}`), live ? 2000 : 0, [run]);
	const [path, setPath] = useState(null);
	const [search, setSearch] = useState('');
	const box = useRef(null);
	const logs = list ? list.logs : [];
	// from an event: the command's log, at the line where it started (or, for its exit, ended)
	const at = initial && path && initial.split(':')[2];
	useEffect(() => {
		if (!initial || !logs.length) return;
		const [node, id] = initial.split(':');
		const hit = logs.find((l) => l.path.startsWith(`nodes/${node}/`) && l.path.includes(`-${id}-`));
		if (hit) setPath(hit.path);
	}, [initial, logs.length]);
	const text = useLog(run, path, live);
	const lines = text.split('\n').filter((l) => l && (!search || l.includes(search)));
	const target = at === 'end' ? lines.length - 1 : at === 'start' ? 0 : -1;
	useEffect(() => {
		const t = box.current && box.current.querySelector('.target');
		if (t) {
			t.scrollIntoView({ block: 'nearest' });
			box.current.focus({ preventScroll: true });
		}
	}, [target, lines.length]);
	return (
		<div class="logs">
			<ul class="loglist">
				{err && <li class="error">{err}</li>}
				{list && !logs.length && <li class="muted">No logs in this run.</li>}
				{logs.map((l) => (
					<li key={l.path}><button class={l.path === path ? 'current' : ''} onClick={() => setPath(l.path)}>
						{l.path} <small>{l.size} B</small></button></li>
				))}
			</ul>
			<div class="logview">
				<input type="search" placeholder="search" value={search} aria-label="search the log"
					onInput={(e) => setSearch(e.target.value)} />
				{path ? <div class="logtext" data-log={path} ref={box} tabIndex={-1}>{lines.map((l, i) => <Line key={i} text={l} target={i === target} />)}</div>
					: <p class="muted">Choose a log.</p>}
			</div>
		</div>
	);
}

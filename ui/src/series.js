// SPDX-License-Identifier: MIT
// Values over time in what a sim step printed: iperf3 -J's intervals
// (throughput, and TCP's RTT), ping's replies (latency; by time with ping -D,
// else by icmp_seq), and JSON lines with a time field ("t", "time" or "ts", in
// seconds) whose other numbers are series of their own.
// seriesOf(text) -> [{ name, unit, x: 'label of x', points: [[x, y], ...] }]

function iperf(j) {
	const ivs = Array.isArray(j.intervals) ? j.intervals : [];
	const tput = [];
	const rtt = [];
	for (const iv of ivs) {
		const s = iv.sum || {};
		if (typeof s.end === 'number' && typeof s.bits_per_second === 'number')
			tput.push([s.end, s.bits_per_second]);
		const st = (iv.streams || []).find((x) => typeof x.rtt === 'number');
		if (st && typeof s.end === 'number') rtt.push([s.end, st.rtt / 1000]);
	}
	const out = [];
	if (tput.length) out.push({ name: 'throughput', unit: 'bit/s', x: 's', points: tput });
	if (rtt.length) out.push({ name: 'TCP RTT', unit: 'ms', x: 's', points: rtt });
	return out;
}

const PING = /^(?:\[(\d+(?:\.\d+)?)\] )?.*icmp_seq=(\d+).* time=([\d.]+) ms/;

function ping(lines) {
	const pts = [];
	let t0 = null;
	let timed = true;
	for (const l of lines) {
		const m = l.match(PING);
		if (!m) continue;
		if (!m[1]) timed = false;
		if (m[1] && t0 === null) t0 = Number(m[1]);
		pts.push([m[1] ? Number(m[1]) - t0 : Number(m[2]), Number(m[3])]);
	}
	if (!pts.length) return [];
	if (!timed) for (const [i, l] of lines.filter((x) => PING.test(x)).entries()) pts[i][0] = Number(l.match(PING)[2]);
	return [{ name: 'latency', unit: 'ms', x: timed ? 's' : 'icmp_seq', points: pts }];
}

const TIME_KEYS = ['t', 'time', 'ts'];

function jsonLines(lines) {
	const by = new Map();
	let t0 = null;
	for (const l of lines) {
		if (!l.startsWith('{')) continue;
		let o;
		try {
			o = JSON.parse(l);
		} catch {
			continue;
		}
		const tk = TIME_KEYS.find((k) => typeof o[k] === 'number');
		if (!tk) continue;
		if (t0 === null) t0 = o[tk];
		for (const [k, v] of Object.entries(o))
			if (k !== tk && typeof v === 'number' && k !== 'seq') {
				if (!by.has(k)) by.set(k, []);
				by.get(k).push([o[tk] - t0, v]);
			}
	}
	return [...by].filter(([, p]) => p.length > 1).map(([k, p]) => ({ name: k, unit: '', x: 's', points: p }));
}

export function seriesOf(text) {
	const t = text.trim();
	if (t.startsWith('{') && !t.includes('}\n{')) {
		try {
			const j = JSON.parse(t);
			if (j && j.intervals) return iperf(j);
		} catch {
			// not one JSON document: lines, below
		}
	}
	const lines = t.split('\n');
	return ping(lines).concat(jsonLines(lines));
}

// 1.2G, 850M, 3.4k: a number for an axis label.
export function si(v) {
	const a = Math.abs(v);
	for (const [d, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']])
		if (a >= d) return `${(v / d).toPrecision(3)}${s}`;
	return a >= 100 || a === 0 ? `${Math.round(v)}` : v.toPrecision(3);
}

// SPDX-License-Identifier: MIT
// The UI in a real browser (Debian's chromium or firefox-esr, headless, driven
// by puppeteer-core: CDP for chromium, WebDriver BiDi for Firefox; no browser
// is downloaded). Run by tests/e2e/ui.sh, once per browser:
//   node browser.mjs URL LAB STATUS_JSON SHOTS_DIR EVENTS_JSONL
// with in the environment NSLAB (the binary, for live changes), BROWSER
// (chrome or firefox), BROWSER_PATH, RUNS_DIR (the served directory, where a
// new run is made) and SIM_RUN (the id of a sim whose steps print series).
// Prints "ok: ..." / "FAIL: ..." lines; exit status 1 if a check failed.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, mkdirSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const [url, lab, statusPath, shots, eventsPath] = process.argv.slice(2);
const { NSLAB, RUNS_DIR, SIM_RUN } = process.env;
const browserName = process.env.BROWSER || 'chrome';
const status = JSON.parse(readFileSync(statusPath, 'utf8'));
const nodes = status.nodes.map((n) => n.name).sort();
const regions = status.nodes.filter((n) => n.kind === 'region').map((n) => n.name);
let failures = 0;
const ok = (m) => console.log(`ok: ${browserName}: ${m}`);
const bad = (m) => {
	failures++;
	console.log(`FAIL: ${browserName}: ${m}`);
};
mkdirSync(shots, { recursive: true });
const nslab = (...args) => execFileSync(NSLAB, args, { stdio: 'ignore' });

const browser = await puppeteer.launch({
	browser: browserName,
	executablePath: process.env.BROWSER_PATH,
	headless: true,
	userDataDir: `${shots}/profile-${browserName}`,
	// the page is our own UI on loopback; chromium's sandbox needs more than a test host gives
	args: browserName === 'chrome' ? ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] : [],
});
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 900 });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
const shot = (name) => page.screenshot({ path: `${shots}/${browserName}-${name}.png` });
const wait = (fn, arg, ms = 5000) => page.waitForFunction(fn, { timeout: ms, polling: 50 }, arg);

async function check(name, fn) {
	try {
		await fn();
	} catch (e) {
		bad(`${name}: ${e.message.split('\n')[0]}`);
		await shot(`failed-${name.replace(/\W+/g, '-')}`).catch(() => {});
	}
}

// Press Tab (Shift+Tab with back) until the focused element matches sel (at most n times).
async function tabTo(sel, n = 60, back = false) {
	const seen = [];
	for (let i = 0; i < n; i++) {
		if (back) await page.keyboard.down('Shift');
		await page.keyboard.press('Tab');
		if (back) await page.keyboard.up('Shift');
		if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), sel))
			return i + 1;
		seen.push(await focused());
	}
	throw new Error(`${n} Tabs never reached ${sel}: ${seen.join(' ')}`);
}
const focused = () => page.evaluate(() => {
	const e = document.activeElement;
	return e ? `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.getAttribute('class') || ''}` : '';
});

const run = `live:${lab}`;
const dev = status.nodes.find((n) => n.name === 'alice') || status.nodes.find((n) => n.kind === 'device');
const peer = status.nodes.find((n) => n.kind === 'device' && n.name !== dev.name);
const ip4 = dev.ifaces[0].ip4;
const delay = browserName === 'firefox' ? '44ms' : '33ms';

try {
	await page.goto(url, { waitUntil: 'domcontentloaded' });

	await check('the live lab is listed and opens', async () => {
		await page.waitForSelector(`button[data-run="${run}"]`, { timeout: 15000 }); // a busy supervisor of another lab answers `nslab ls` in up to 5 s
		await page.click(`button[data-run="${run}"]`);
		ok(`${run} listed and opened`);
	});

	await check('topology shows every node and region', async () => {
		const drawn = () => window.nslab && window.nslab.cy.nodes('[kind != "group"][kind != "bridge"]').map((n) => n.id()).sort();
		await wait((n) => window.nslab && window.nslab.cy.nodes('[kind != "group"][kind != "bridge"]').length === n, nodes.length);
		const got = await page.evaluate(drawn);
		if (JSON.stringify(got) !== JSON.stringify(nodes)) throw new Error(`graph has ${got}, lab has ${nodes}`);
		const edges = await page.evaluate(() => window.nslab.cy.edges().length);
		if (edges < nodes.length - 1) throw new Error(`only ${edges} links drawn`);
		ok(`topology: all ${nodes.length} nodes (${nodes.join(' ')}) and ${edges} links`);
		const bridges = status.nodes.filter((n) => n.bridge && n.kind !== 'root');
		const wired = await page.evaluate((d) => window.nslab.cy.edges().filter((e) => e.data('target') === d.name)
			.map((e) => e.data('source')), dev);
		if (!wired.includes(`br:${dev.ifaces[0].peer}`))
			throw new Error(`${dev.name} is wired to ${wired}, not to ${dev.ifaces[0].peer}'s bridge`);
		const drawnBr = await page.evaluate(() => window.nslab.cy.nodes('[kind = "bridge"]').length);
		if (drawnBr !== bridges.length) throw new Error(`${drawnBr} bridges drawn, the lab has ${bridges.length}`);
		ok(`topology: ${drawnBr} bridges, ${dev.name} plugged into ${dev.ifaces[0].peer}'s`);
		if (regions.length) {
			const boxes = await page.evaluate(() => window.nslab.cy.nodes('[kind = "group"]').map((g) =>
				[g.id(), g.children().map((c) => c.id()).sort()]));
			for (const r of regions) {
				const box = boxes.find(([id]) => id === `region:${r}`);
				const inside = status.nodes.filter((n) => n.region === r).map((n) => n.name);
				if (!box || !box[1].includes(r) || !inside.every((n) => box[1].includes(n)))
					throw new Error(`region ${r}: box ${JSON.stringify(box)}, routers ${inside}`);
			}
			const rl = await page.evaluate(() => window.nslab.cy.edges('[?region]').map((e) => e.data('label')));
			if (!rl.length) throw new Error('no region link drawn');
			await page.waitForSelector('.rlinks tbody tr', { timeout: 2000 });
			ok(`topology: regions ${regions.join(', ')} drawn as boxes around their routers, region links ${rl.join('; ')}`);
		}
		await shot('topology');
	});

	await check('clicking a node shows its addresses', async () => {
		const box = await (await page.$('.graph')).boundingBox();
		const pos = await page.evaluate((id) => window.nslab.cy.getElementById(id).renderedPosition(), dev.name);
		await page.mouse.click(box.x + pos.x, box.y + pos.y);
		await page.waitForSelector(`.nodepanel[data-node="${dev.name}"]`, { timeout: 3000 });
		const text = await page.$eval('.nodepanel', (e) => e.textContent);
		if (!text.includes(ip4)) throw new Error(`panel of ${dev.name} lacks ${ip4}: ${text}`);
		ok(`clicked ${dev.name} on the graph: its panel shows ${ip4}`);
		await wait(() => /pkts/.test(document.querySelector('.nodepanel .counters').textContent), null, 5000);
		ok(`${dev.name}'s panel shows its link's live counters`);
		await shot('node-panel');
	});

	const lines = readFileSync(eventsPath, 'utf8').trim().split('\n').length;
	await check('events view lists the lab events', async () => {
		await page.click('#tab-events');
		await wait((n) => document.querySelectorAll('.evtable tbody tr').length >= n, lines);
		const kinds = await page.$$eval('.evtable tbody tr', (rows) => rows.map((r) => r.dataset.kind));
		if (!kinds.includes('lab_built')) throw new Error(`no lab_built among ${kinds}`);
		ok(`events: ${kinds.length} rows for ${lines} lines of events.jsonl, lab_built among them`);
		await shot('events');
	});

	await check('a live change appears without reload', async () => {
		const t0 = Date.now();
		nslab('link', lab, dev.name, dev.ifaces[0].name, 'set', 'delay', delay);
		await wait((d) => [...document.querySelectorAll('.evtable tbody tr')]
			.some((r) => r.dataset.kind === 'link_condition' && r.textContent.includes(d)), delay, 3000);
		ok(`live: nslab link's link_condition shown after ${Date.now() - t0} ms, no reload`);
		await shot('events-live');
	});

	await check('an event jumps to its log line', async () => {
		await page.click('.evtable tbody tr[data-kind="cmd_spawned"] button.link');
		await page.waitForSelector('.logtext .logline.target', { timeout: 3000 });
		const [log, line] = await page.$eval('.logtext', (t) => [t.dataset.log, t.querySelector('.target').textContent]);
		if (line !== 'first line') throw new Error(`${log}: the marked line is '${line}'`);
		ok(`logs: cmd_spawned's log button opens ${log} at its first line`);
	});

	await check('timeline lists the events', async () => {
		await page.click('#tab-timeline');
		await wait((n) => document.querySelectorAll('.timeline circle.mark').length >= n, lines + 1);
		const lanes = await page.$$eval('.timeline .lane', (l) => l.map((e) => e.dataset.lane));
		if (!lanes.includes(dev.name)) throw new Error(`no lane for ${dev.name}: ${lanes}`);
		await page.click('.timeline circle.mark[data-kind="link_condition"]');
		await page.waitForSelector('.timeline .pick', { timeout: 2000 });
		ok(`timeline: ${lanes.length} lanes, a mark per event, details on click`);
		await shot('timeline');
	});

	await check('the topology follows the change', async () => {
		await page.click('#tab-topology');
		await wait((id) => window.nslab && window.nslab.cy.edges().some((e) => e.data('target') === id && e.data('cond')),
			dev.name, 3000);
		ok(`topology: ${dev.name}'s link drawn as conditioned`);
	});

	await check('a new run is pushed to the list', async () => {
		const name = `pushed-${browserName}`;
		const t0 = Date.now();
		cpSync(eventsPath, `${RUNS_DIR}/${name}/events.jsonl`);
		await page.waitForSelector(`button[data-run="0:${name}"]`, { timeout: 3000 });
		ok(`runs: ${name} listed ${Date.now() - t0} ms after it was made, no reload, no polling`);
	});

	await check('the live conntrack table', async () => {
		const router = status.nodes.find((n) => n.name === (dev.ifaces[0].peer));
		nslab('exec', lab, dev.name, '--', 'ping', '-c', '1', '-W', '2', peer.name);
		await page.click('#tab-firewall');
		await page.waitForSelector('#ct-node', { timeout: 3000 });
		await page.select('#ct-node', router.name);
		const src = ip4.split('/')[0];
		await wait((s) => [...document.querySelectorAll('.cttable tbody tr')]
			.some((r) => r.dataset.proto === 'icmp' && r.dataset.src === s), src, 5000);
		const row = await page.$eval(`.cttable tbody tr[data-src="${src}"]`, (r) => r.textContent);
		ok(`firewall: ${router.name}'s conntrack table shows ${dev.name}'s ping to ${peer.name}: ${row}`);
		await shot('conntrack');
	});

	await check('perf charts values over time', async () => {
		await page.goto(`${new URL(url).origin}/#run=${encodeURIComponent(SIM_RUN)}&view=perf`, { waitUntil: 'domcontentloaded' });
		await page.waitForSelector('figure.chart[data-series="throughput"]', { timeout: 5000 });
		await page.waitForSelector('figure.chart[data-series="latency"]', { timeout: 2000 });
		const pts = await page.$$eval('figure.chart', (fs) => fs.map((f) => `${f.dataset.series}: ${f.querySelectorAll('circle.pt').length}`));
		const n = (s) => Number((pts.find((p) => p.startsWith(`${s}:`)) || ':0').split(':')[1]);
		if (n('throughput') < 3 || n('latency') < 5) throw new Error(`too few points: ${pts}`);
		ok(`perf: charts over time (${pts.join(', ')} points)`);
		await shot('perf');
	});

	await check('keyboard only', async () => {
		await page.goto(url, { waitUntil: 'domcontentloaded' });
		await page.waitForSelector(`button[data-run="${run}"]`, { timeout: 15000 }); // a busy supervisor of another lab answers `nslab ls` in up to 5 s
		await page.keyboard.press('Tab');
		const skip = await page.evaluate(() => document.activeElement.classList.contains('skip'));
		if (!skip) throw new Error(`the first Tab stop is ${await focused()}, not the skip link`);
		const n = await tabTo(`button[data-run="${run}"]`);
		await page.keyboard.press('Enter');
		await page.waitForSelector('#tab-topology[aria-selected="true"]', { timeout: 3000 });
		await tabTo('[role="tab"][aria-selected="true"]', 30);
		await page.keyboard.press('ArrowRight');
		await wait(() => document.activeElement.id === 'tab-events' &&
			document.activeElement.getAttribute('aria-selected') === 'true', null, 2000);
		await page.keyboard.press('ArrowRight');
		await wait(() => document.activeElement.id === 'tab-timeline', null, 2000);
		// the marks come with the view's data: Tab before they exist wraps to the page's start
		await page.waitForSelector('.timeline circle.mark', { timeout: 5000 });
		await tabTo('.timeline circle.mark', 10);
		await page.keyboard.press('Enter');
		await page.waitForSelector('.timeline .pick', { timeout: 2000 });
		await tabTo('[role="tab"][aria-selected="true"]', 10, true);
		await page.keyboard.press('Home');
		await wait(() => document.activeElement.id === 'tab-topology', null, 2000);
		await page.waitForSelector(`.nodelist button[data-node="${dev.name}"]`, { timeout: 5000 });
		await tabTo(`.nodelist button[data-node="${dev.name}"]`, 20);
		await page.keyboard.press('Enter');
		await page.waitForSelector(`.nodepanel[data-node="${dev.name}"]`, { timeout: 2000 });
		ok(`keyboard: skip link first, the lab after ${n} Tabs, Enter opens it, arrows and Home move between views, Enter on a timeline mark and on a node shows its details`);
		const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, a[href], input, select, textarea, [tabindex="0"]')]
			.filter((e) => !(e.getAttribute('aria-label') || e.textContent.trim() || (e.labels && e.labels.length) || e.title))
			.map((e) => e.outerHTML.slice(0, 80)));
		if (unnamed.length) throw new Error(`focusable elements without a name: ${unnamed.join(' | ')}`);
		ok('keyboard: every focusable element has an accessible name');
		const noOutline = await page.evaluate(() => {
			const e = document.activeElement;
			const s = getComputedStyle(e);
			return s.outlineStyle === 'none' || s.outlineWidth === '0px' ? e.outerHTML.slice(0, 80) : '';
		});
		if (noOutline) throw new Error(`the focused element shows no focus ring: ${noOutline}`);
		ok('keyboard: the focused element shows a focus ring');
		await shot('keyboard');
	});

	await check('readable on a laptop screen', async () => {
		await page.setViewport({ width: 1366, height: 768 });
		for (const view of ['topology', 'events', 'firewall']) {
			await page.goto(`${new URL(url).origin}/#run=${encodeURIComponent(run)}&view=${view}`, { waitUntil: 'domcontentloaded' });
			await page.waitForSelector(`#tab-${view}[aria-selected="true"]`, { timeout: 5000 });
			const over = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
			if (over > 0) throw new Error(`${view}: the page is ${over} px wider than 1366`);
		}
		const g = await page.evaluate(() => {
			location.hash = location.hash.replace('view=firewall', 'view=topology');
			return true;
		});
		await page.waitForSelector('.graph', { timeout: 3000 });
		const box = await (await page.$('.graph')).boundingBox();
		if (!g || box.width < 500 || box.height < 400) throw new Error(`the graph is ${box.width}x${box.height}`);
		ok(`1366x768: no sideways scrolling in topology, events and firewall; the graph is ${Math.round(box.width)}x${Math.round(box.height)}`);
		await shot('laptop');
	});

	await check('playground runs a two-rule ruleset and shows the deciding rule', async () => {
		await page.goto(`${new URL(url).origin}/#view=firewall`, { waitUntil: 'domcontentloaded' });
		await page.waitForSelector('#run-suite', { timeout: 5000 });
		await page.click('#run-suite');
		await page.waitForSelector('.report .cascade', { timeout: 30000 });
		const cascades = await page.$$eval('.report .cascade', (cs) => cs.map((c) => ({
			rule: c.querySelector('.rule').dataset.rule, verdict: c.querySelector('.verdict').textContent })));
		const want = [['tcp dport 22 accept comment "ssh"', 'accept'], ['tcp dport 80 drop comment "web"', 'drop']];
		for (const [rule, verdict] of want)
			if (!cascades.some((c) => c.rule === rule && c.verdict.startsWith(verdict)))
				throw new Error(`no ${verdict} by '${rule}' in ${JSON.stringify(cascades)}`);
		const marked = await page.$$eval('.code .decided', (l) => l.map((e) => e.textContent));
		if (!marked.some((l) => l.includes('tcp dport 22 accept')))
			throw new Error(`deciding rule not highlighted: ${marked}`);
		ok('playground: ssh accepted by its rule, web dropped by its rule, both highlighted');
		const cov = await page.$$eval('.report .coverage tbody tr', (r) => r.length);
		if (cov < 2) throw new Error(`coverage lists ${cov} rules`);
		ok(`playground: coverage of ${cov} rules`);
		// the crafter adds a udp packet expected dropped (by the policy)
		const selects = await page.$$('.crafter select');
		await selects[0].select('packets');
		await selects[1].select('udp');
		await selects[selects.length - 1].select('drop');
		await page.click('.crafter button');
		await page.click('#run-suite');
		await wait(() => [...document.querySelectorAll('.report .cascade .rule')]
			.some((r) => r.dataset.rule === 'policy'), null, 30000);
		ok('playground: a crafted udp packet is dropped by the chain\'s policy');
		await shot('playground');
		// a suite with an error: its line and column marked in the editor (chromium logs the 400 it expects)
		const before = errors.length;
		await page.$eval('#suite', (t) => {
			t.value = 'rules: [\n';
			t.dispatchEvent(new Event('input', { bubbles: true }));
		});
		await page.click('#run-suite');
		await page.waitForSelector('.code .errline', { timeout: 30000 });
		const where = await page.$eval('.code .caret', (c) => c.getAttribute('aria-label'));
		const alert = await page.$eval('.playground [role="alert"]', (a) => a.textContent);
		if (!/suite:\d+:\d+:/.test(alert)) throw new Error(`error without LINE:COL: ${alert}`);
		ok(`playground: a bad suite says "${alert.slice(0, 60)}", ${where} marked`);
		errors.splice(before, errors.length - before, ...errors.slice(before).filter((e) => !/status of 400/.test(e)));
	});

	if (errors.length) bad(`errors in the page: ${errors.join(' | ')}`);
	else ok('no error in the page');
} finally {
	await browser.close();
}
process.exit(failures ? 1 : 0);

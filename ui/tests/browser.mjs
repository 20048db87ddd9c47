// SPDX-License-Identifier: MIT
// The UI in a real browser (Debian's chromium, headless, driven by
// puppeteer-core; no browser is downloaded). Run by tests/e2e/ui.sh:
//   node browser.mjs URL LAB STATUS_JSON SHOTS_DIR EVENTS_JSONL
// with NSLAB (the binary, for the live change) and CHROMIUM in the environment.
// Prints "ok: ..." / "FAIL: ..." lines; exit status 1 if a check failed.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const [url, lab, statusPath, shots, eventsPath] = process.argv.slice(2);
const status = JSON.parse(readFileSync(statusPath, 'utf8'));
const nodes = status.nodes.map((n) => n.name).sort();
let failures = 0;
const ok = (m) => console.log(`ok: ${m}`);
const bad = (m) => {
	failures++;
	console.log(`FAIL: ${m}`);
};
mkdirSync(shots, { recursive: true });

const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	userDataDir: `${shots}/profile`,
	// the page is our own UI on loopback; the sandbox needs more than a test host gives
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 900 });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
const shot = (name) => page.screenshot({ path: `${shots}/${name}.png` });
const wait = (fn, arg, ms = 5000) => page.waitForFunction(fn, { timeout: ms }, arg);

async function check(name, fn) {
	try {
		await fn();
	} catch (e) {
		bad(`${name}: ${e.message.split('\n')[0]}`);
		await shot(`failed-${name.replace(/\W+/g, '-')}`).catch(() => {});
	}
}

try {
	await page.goto(url, { waitUntil: 'domcontentloaded' });
	const run = `live:${lab}`;
	await check('the live lab is listed and opens', async () => {
		await page.waitForSelector(`button[data-run="${run}"]`, { timeout: 5000 });
		await page.click(`button[data-run="${run}"]`);
		ok(`${run} listed and opened`);
	});

	await check('topology shows every node', async () => {
		await wait((n) => window.nslab && window.nslab.cy.nodes().length === n, nodes.length);
		const drawn = await page.evaluate(() => window.nslab.cy.nodes().map((n) => n.id()).sort());
		if (JSON.stringify(drawn) !== JSON.stringify(nodes))
			throw new Error(`graph has ${drawn}, lab has ${nodes}`);
		const edges = await page.evaluate(() => window.nslab.cy.edges().length);
		if (edges < nodes.length - 1) throw new Error(`only ${edges} links drawn`);
		ok(`topology: all ${nodes.length} nodes (${nodes.join(' ')}) and ${edges} links`);
		await shot('topology');
	});

	const dev = status.nodes.find((n) => n.kind === 'device');
	const ip4 = dev.ifaces[0].ip4;
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

	const lines = readFileSync(eventsPath, "utf8").trim().split('\n').length;
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
		execFileSync(process.env.NSLAB, ['link', lab, dev.name, dev.ifaces[0].name, 'set', 'delay', '33ms'],
			{ stdio: 'ignore' });
		await wait(() => [...document.querySelectorAll('.evtable tbody tr')]
			.some((r) => r.dataset.kind === 'link_condition' && r.textContent.includes('33ms')), null, 3000);
		ok(`live: nslab link's link_condition shown after ${Date.now() - t0} ms, no reload`);
		await shot('events-live');
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
		await page.select('.crafter select:nth-of-type(1)', 'packets');
		const selects = await page.$$('.crafter select');
		await selects[1].select('udp');
		await selects[selects.length - 1].select('drop');
		await page.click('.crafter button');
		await page.click('#run-suite');
		await wait(() => [...document.querySelectorAll('.report .cascade .rule')]
			.some((r) => r.dataset.rule === 'policy'), null, 30000);
		ok('playground: a crafted udp packet is dropped by the chain\'s policy');
		await shot('playground');
	});

	if (errors.length) bad(`errors in the page: ${errors.join(' | ')}`);
	else ok('no error in the page');
} finally {
	await browser.close();
}
process.exit(failures ? 1 : 0);

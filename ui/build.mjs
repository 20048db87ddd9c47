// SPDX-License-Identifier: MIT
// Build the UI into OUTDIR (default dist/): one bundle, one stylesheet, index.html.
// node build.mjs [OUTDIR]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] || 'dist';
mkdirSync(out, { recursive: true });
await build({
	entryPoints: ['src/main.jsx'],
	bundle: true,
	minify: true,
	sourcemap: true,
	format: 'esm',
	target: ['chrome110', 'firefox110'],
	jsx: 'automatic',
	jsxImportSource: 'preact',
	outfile: join(out, 'app.js'),
	logLevel: 'warning',
});
copyFileSync('src/index.html', join(out, 'index.html'));
copyFileSync('src/style.css', join(out, 'style.css'));

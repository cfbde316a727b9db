#!/usr/bin/env node
// Prints the gzipped size of the JavaScript a first visit downloads (the entry
// script plus everything index.html preloads) and fails above the budget.
// Lazy chunks (pages, the highlighter) are listed for information only.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = Number(process.env.JS_BUDGET_KB ?? 350);
const dist = resolve(process.argv[2] ?? 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');

const initial = new Set();
for (const m of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"[^>]*>/g)) initial.add(m[1]);
for (const m of html.matchAll(/<link[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+\.js)"[^>]*>/g)) initial.add(m[1]);
for (const m of html.matchAll(/<link[^>]*\bhref="([^"]+\.js)"[^>]*\brel="modulepreload"[^>]*>/g)) initial.add(m[1]);

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const kb = (bytes) => (bytes / 1024).toFixed(1);

let initialBytes = 0;
console.log('Initial JavaScript (gzip):');
for (const src of initial) {
  const size = gz(join(dist, src.replace(/^\//, '')));
  initialBytes += size;
  console.log(`  ${kb(size).padStart(8)} KB  ${src}`);
}

const assets = join(dist, 'assets');
const lazy = readdirSync(assets)
  .filter((f) => f.endsWith('.js') && !initial.has(`/assets/${f}`))
  .map((f) => ({ f, size: gz(join(assets, f)), raw: statSync(join(assets, f)).size }))
  .sort((a, b) => b.size - a.size);
const lazyBytes = lazy.reduce((n, x) => n + x.size, 0);
console.log(`Lazy chunks: ${lazy.length}, ${kb(lazyBytes)} KB gzip in total; largest:`);
for (const x of lazy.slice(0, 8)) console.log(`  ${kb(x.size).padStart(8)} KB  /assets/${x.f}`);

const verdict = initialBytes <= BUDGET_KB * 1024 ? 'within' : 'OVER';
console.log(`Initial JS: ${kb(initialBytes)} KB gzip — ${verdict} the ${BUDGET_KB} KB budget`);
if (initial.size === 0) {
  console.error('No initial script found in index.html');
  process.exit(1);
}
if (verdict === 'OVER') process.exit(1);

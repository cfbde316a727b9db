// docs/openapi.yaml is the API contract: it passes Redocly's recommended rules, it lists exactly
// the routes the hub registers, and the hub serves it. (Every response the other suites receive
// is validated against it by tests/support/contract.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, runHub, startHub, tempDir, expectErrorEnvelope } from '../support/hub.mjs';
import { openapi } from '../support/contract.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
// "{id}", "{mid}" and the router's trailing "*" (any rest of the path) are all one parameter.
const normalize = (p) => p.replace(/\{[^}]+\}/g, '{}').replace(/\/\*$/, '/{}');

function run(cmd, args, opts) {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('docs/openapi.yaml passes the recommended lint rules with no error or warning', async () => {
  const bin = path.join(ROOT, 'tests', 'node_modules', '.bin', 'redocly');
  const r = await run(bin, ['lint', '--config', 'redocly.yaml', '--format=json'], {
    cwd: ROOT,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    assert.fail(`redocly lint gave no report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  const problems = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
  assert.deepEqual(problems, []);
  assert.equal(report.totals.errors, 0);
  assert.equal(report.totals.warnings, 0);
  assert.equal(r.code, 0);
  assert.equal(openapi.openapi, '3.1.0');
});

test('every route the hub registers is in the document, and every operation is a route', async () => {
  const dir = tempDir();
  try {
    const r = await runHub(['routes'], {
      BAILIAN_HUB_DATA_DIR: dir,
      BAILIAN_HUB_LISTEN: '127.0.0.1:0',
      BAILIAN_HUB_WEB_ROOT: path.join(dir, 'no-web'),
      DASHSCOPE_API_KEY: 'sk-test-routes-0001',
      DASHSCOPE_BASE_URL: 'http://127.0.0.1:9',
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const l of lines) assert.match(l, /^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'routes prints METHOD PATTERN lines only');
    const routes = new Set(lines.map((l) => { const [m, p] = l.split(' '); return `${m} ${normalize(p)}`; }));
    const documented = new Set();
    for (const [p, item] of Object.entries(openapi.paths)) {
      for (const m of METHODS) if (item[m]) documented.add(`${m.toUpperCase()} ${normalize(p)}`);
    }
    assert.ok(routes.size > 40, `a plausible route table (${routes.size} routes)`);
    assert.deepEqual([...routes].filter((x) => !documented.has(x)).sort(), [], 'routes missing from docs/openapi.yaml');
    assert.deepEqual([...documented].filter((x) => !routes.has(x)).sort(), [], 'documented operations the hub does not register');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the hub serves the document at /api/v1/openapi.json and the reference page at /api/docs', async (t) => {
  const web = tempDir('hub-web-');
  writeFileSync(path.join(web, 'openapi.json'), JSON.stringify(openapi));
  writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Bailian Hub</title><div id="root"></div>');
  mkdirSync(path.join(web, 'assets'));
  const hub = await startHub({ env: { BAILIAN_HUB_WEB_ROOT: web } });
  t.after(async () => { await hub.stop(); rmSync(web, { recursive: true, force: true }); });

  const res = await fetch(`${hub.url}/api/v1/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(await res.json(), openapi);

  const page = await fetch(`${hub.url}/api/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(await page.text(), /<div id="root">/);
});

test('without the built web UI both answer 404 in the error envelope', async (t) => {
  const hub = await startHub();
  t.after(() => hub.stop());
  for (const p of ['/api/v1/openapi.json', '/api/docs']) {
    const res = await fetch(`${hub.url}${p}`);
    assert.equal(res.status, 404, p);
    expectErrorEnvelope(assert, await res.json(), res, 'not_found');
  }
});

// Hub core over real HTTP: ops endpoints, envelopes, limits, malformed input, static files,
// CLI and configuration errors, graceful shutdown.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';

import {
  expectErrorEnvelope, json, parseRawResponse, rawRequest, runHub, startHub, tempDir,
} from '../support/hub.mjs';

describe('hub core over HTTP', () => {
  let hub;
  let webRoot;
  let outside;
  before(async () => {
    const base = tempDir();
    webRoot = path.join(base, 'web');
    outside = path.join(base, 'outside');
    mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Bailian Hub</title>');
    writeFileSync(path.join(webRoot, 'assets', 'index-3f9a1c2b.js'), 'console.log("app")');
    writeFileSync(path.join(webRoot, 'assets', 'index-3f9a1c2b.js.gz'), gzipSync('console.log("app")'));
    writeFileSync(path.join(webRoot, 'assets', 'style-a1b2c3d4.css'), 'body{}');
    writeFileSync(path.join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET');
    writeFileSync(path.join(base, 'secret.txt'), 'TOP-SECRET');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(webRoot, 'link.txt'));
    symlinkSync(outside, path.join(webRoot, 'linkdir'));
    hub = await startHub({ env: { BAILIAN_HUB_WEB_ROOT: webRoot, BAILIAN_HUB_BODY_LIMIT: '65536' } });
  });
  after(async () => { await hub?.stop(); });

  test('healthz answers with request id and security headers', async () => {
    const res = await fetch(`${hub.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { status: 'ok' });
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.ok(res.headers.get('referrer-policy'));
    assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
  });

  test('a valid inbound X-Request-Id is kept, an invalid one replaced', async () => {
    let res = await fetch(`${hub.url}/healthz`, { headers: { 'X-Request-Id': 'abc-123.x_y:z' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123.x_y:z');
    res = await fetch(`${hub.url}/healthz`, { headers: { 'X-Request-Id': 'bad id <script>' } });
    assert.notEqual(res.headers.get('x-request-id'), 'bad id <script>');
    assert.match(res.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  });

  test('readyz reports database, migrations and demo mode', async () => {
    const res = await fetch(`${hub.url}/readyz`);
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.database.ok, true);
    assert.equal(body.checks.migrations.ok, true);
    assert.ok(body.checks.migrations.latest >= 1);
    assert.equal(body.checks.migrations.current, body.checks.migrations.latest);
    assert.equal(body.demo_mode, true);
  });

  test('unknown API route is a 404 JSON envelope', async () => {
    const res = await fetch(`${hub.url}/api/v1/no-such-thing`);
    assert.equal(res.status, 404);
    expectErrorEnvelope(assert, await json(res), res, 'not_found');
  });

  test('wrong method is a 405 with Allow', async () => {
    const res = await fetch(`${hub.url}/healthz`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    expectErrorEnvelope(assert, await json(res), res, 'method_not_allowed');
  });

  test('HEAD answers headers without a body', async () => {
    const res = await fetch(`${hub.url}/healthz`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  test('a body over the limit is refused with 413 before it is read', async () => {
    const head = `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`;
    const { text, closed } = await rawRequest(hub.port, head);
    const r = parseRawResponse(text);
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).error.code, 'payload_too_large');
    assert.ok(closed);
  });

  test('a chunked body over the limit is refused with 413', async () => {
    const big = 'x'.repeat(70000);
    const req = `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
    const { text } = await rawRequest(hub.port, req);
    assert.equal(parseRawResponse(text).status, 413);
  });

  test('malformed HTTP gets 400 and the connection is closed', async () => {
    for (const garbage of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n']) {
      const { text, closed } = await rawRequest(hub.port, garbage);
      const r = parseRawResponse(text);
      assert.equal(r.status, 400, `for ${JSON.stringify(garbage)}: ${text}`);
      assert.equal(JSON.parse(r.body).error.code, 'bad_request');
      assert.ok(closed);
      assert.ok(!/exception|stack|boost/i.test(text));
    }
  });

  test('keep-alive serves several requests on one connection', async () => {
    const req = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const { text } = await rawRequest(hub.port, null, { chunks: [req, req, `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`], gapMs: 50 });
    assert.equal(text.match(/HTTP\/1\.1 200/g).length, 3);
  });

  test('a client that never finishes its headers is cut off', async () => {
    const { closed } = await rawRequest(hub.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 15000 });
    assert.ok(closed, 'server closed the slow connection');
  });

  test('static files: index, MIME types, caching, precompressed assets', async () => {
    let res = await fetch(`${hub.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(await res.text(), /Bailian Hub/);

    res = await fetch(`${hub.url}/assets/index-3f9a1c2b.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/javascript/);
    assert.match(res.headers.get('cache-control'), /immutable/);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.equal(await res.text(), 'console.log("app")');

    res = await fetch(`${hub.url}/assets/style-a1b2c3d4.css`);
    assert.match(res.headers.get('content-type'), /text\/css/);
    res = await fetch(`${hub.url}/favicon.svg`);
    assert.equal(res.headers.get('content-type'), 'image/svg+xml');
  });

  test('SPA fallback for client routes, not for API paths or missing assets', async () => {
    let res = await fetch(`${hub.url}/c/0192f3a0-aaaa-7bbb-8ccc-123456789abc`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Bailian Hub/);
    res = await fetch(`${hub.url}/assets/missing-12345678.js`);
    assert.equal(res.status, 404);
    res = await fetch(`${hub.url}/api/v1/unknown`);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error.code, 'not_found');
  });

  test('no escape from the web root', async () => {
    const attempts = [
      '/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/%2E%2E/secret.txt',
      '/assets/..%2f..%2fsecret.txt', '/..%2fsecret.txt', '/..%5csecret.txt', '/link.txt',
      '/linkdir/secret.txt', '/%252e%252e/secret.txt', '/assets%2f..%2f..%2fsecret.txt',
      '/.%2e/secret.txt', '/index.html%00.js',
    ];
    for (const p of attempts) {
      const { text } = await rawRequest(hub.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const r = parseRawResponse(text);
      assert.ok(r.status === 404 || r.status === 400, `${p} gave ${r.status}`);
      assert.ok(!text.includes('TOP-SECRET'), `${p} leaked the file`);
    }
  });
});

describe('command line and configuration', () => {
  test('version and help', async () => {
    const v = await runHub(['version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^bailian-hub \d+\.\d+\.\d+/);
    const h = await runHub(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /serve/);
    assert.match(h.stdout, /migrate/);
  });

  test('migrate applies the schema once', async () => {
    const dir = tempDir();
    const first = await runHub(['migrate'], { BAILIAN_HUB_DATA_DIR: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied [1-9]\d* migration/);
    const again = await runHub(['migrate'], { BAILIAN_HUB_DATA_DIR: dir });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /applied 0 migration/);
  });

  const bad = [
    [{ BAILIAN_HUB_LISTEN: 'nonsense' }, /BAILIAN_HUB_LISTEN/],
    [{ BAILIAN_HUB_LISTEN: '127.0.0.1:99999' }, /BAILIAN_HUB_LISTEN.*port/],
    [{ BAILIAN_HUB_LISTEN: '0.0.0.0:8080' }, /loopback/],
    [{ BAILIAN_HUB_LOG_LEVEL: 'loud' }, /BAILIAN_HUB_LOG_LEVEL/],
    [{ BAILIAN_HUB_LOG_FORMAT: 'xml' }, /BAILIAN_HUB_LOG_FORMAT/],
    [{ BAILIAN_HUB_DATABASE_URL: 'postgres://x' }, /BAILIAN_HUB_DATABASE_URL/],
    [{ DASHSCOPE_BASE_URL: 'ftp://x' }, /DASHSCOPE_BASE_URL/],
    [{ BAILIAN_HUB_BODY_LIMIT: 'lots' }, /BAILIAN_HUB_BODY_LIMIT/],
  ];
  for (const [env, pattern] of bad) {
    test(`bad value ${JSON.stringify(env)} stops start-up with exit 2`, async () => {
      const r = await runHub(['serve'], { BAILIAN_HUB_DATA_DIR: tempDir(), ...env });
      assert.equal(r.code, 2);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line');
    });
  }

  test('a config file with an unknown key or a bad value is refused', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'hub.toml');
    writeFileSync(f, '[server]\nlisten = "127.0.0.1:0"\nlisen = "typo"\n');
    let r = await runHub(['--config', f, 'serve'], { BAILIAN_HUB_DATA_DIR: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /server\.lisen/);
    writeFileSync(f, '[log]\nlevel = "chatty"\n');
    r = await runHub(['--config', f, 'serve'], { BAILIAN_HUB_DATA_DIR: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /log\.level/);
    writeFileSync(f, '[server\nlisten=');
    r = await runHub(['--config', f, 'serve'], { BAILIAN_HUB_DATA_DIR: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /hub\.toml:\d+:\d+/);
  });

  test('the environment overrides the config file', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'hub.toml');
    writeFileSync(f, 'data_dir = "/nonexistent/should-be-overridden"\n[server]\nlisten = "127.0.0.1:1"\n');
    const hub = await startHub({ args: ['--config', f], env: { BAILIAN_HUB_DATA_DIR: dir } });
    const res = await fetch(`${hub.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal((await hub.stop()).code, 0);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const hub = await startHub();
    const pending = rawRequest(hub.port, null, {
      chunks: [
        'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n',
        '{}',
      ],
      gapMs: 600,
      timeoutMs: 8000,
    });
    await new Promise((r) => setTimeout(r, 200));
    hub.proc.kill('SIGTERM');
    const { text } = await pending;
    const r = parseRawResponse(text);
    assert.equal(r.status, 405, `in-flight request got an answer: ${text}`);
    const exit = await hub.exited;
    assert.equal(exit.code, 0);
    assert.ok(hub.logs.some((l) => l.includes('"shutdown_started"')));
    assert.ok(hub.logs.some((l) => l.includes('"clean":true')));
  });

  test('after SIGTERM no new connection is accepted', async () => {
    const hub = await startHub();
    hub.proc.kill('SIGTERM');
    await hub.exited;
    await assert.rejects(fetch(`${hub.url}/healthz`));
  });
});

// HTTP-level attacks over raw sockets: request smuggling, oversized heads and bodies,
// slowloris (slow head, slow body), and path traversal into the web root and the data dir.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call } from '../support/api.mjs';
import { parseRawResponse, rawRequest, startHubWithSim, tempDir } from '../support/hub.mjs';
import { api, assertNoSecretInLogs, FAST_ENV, user, waitGeneration } from './common.mjs';

const SMUGGLED = 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n';

// Sends `data` on a fresh connection and resolves once the hub closes it, with what came back.
function untilClosed(port, data) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = Buffer.alloc(0);
    sock.on('data', (d) => { out = Buffer.concat([out, d]); });
    sock.on('error', (e) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e); });
    sock.on('close', () => resolve(out.toString('latin1')));
    sock.on('connect', () => sock.write(data));
  });
}

// Writes `head`, then one more byte of `drip` each time the previous write is flushed, for as
// long as the hub keeps the connection open; resolves {text, sent} when the hub closes it.
function slowClient(port, head, drip) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    let sent = 0;
    let open = true;
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('error', (e) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') reject(e); });
    sock.on('close', () => { open = false; resolve({ text: out, sent }); });
    const next = () => {
      if (!open) return;
      sent += 1;
      // A byte every few ms: each read succeeds, only the whole deadline can end it.
      setTimeout(() => { if (open) sock.write(drip[sent % drip.length], next); }, 20);
    };
    sock.on('connect', () => sock.write(head, next));
  });
}

function statuses(text) {
  return (text.match(/HTTP\/1\.[01] \d{3}/g) || []).map((s) => Number(s.slice(9)));
}

describe('HTTP attacks', () => {
  let env;
  let base;
  let webRoot;
  before(async () => {
    base = tempDir();
    webRoot = path.join(base, 'web');
    mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Bailian Hub</title>');
    writeFileSync(path.join(webRoot, 'assets', 'app-12345678.js'), 'console.log(1)');
    writeFileSync(path.join(base, 'secret.txt'), 'TOP-SECRET-OUTSIDE');
    symlinkSync(path.join(base, 'secret.txt'), path.join(webRoot, 'assets', 'link-12345678.js'));
    env = await startHubWithSim({
      simArgs: ['--task-seconds', '0.2'],
      env: {
        ...FAST_ENV,
        BAILIAN_HUB_WEB_ROOT: webRoot,
        BAILIAN_HUB_BODY_LIMIT: '65536',
        BAILIAN_HUB_HEADER_TIMEOUT_MS: '400',
        BAILIAN_HUB_BODY_TIMEOUT_MS: '400',
        BAILIAN_HUB_IDLE_TIMEOUT_MS: '400',
      },
    });
  });
  after(async () => { await env?.stop(); });

  const smuggling = {
    'CL.TE: Content-Length and Transfer-Encoding together': `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'TE.CL: Transfer-Encoding first': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'duplicate Content-Length, different values': `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 35\r\n\r\n${SMUGGLED}`,
    'duplicate Content-Length, same value': `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`,
    'Content-Length as a list': `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n${SMUGGLED}`,
    'Content-Length with a sign': `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n${SMUGGLED}`,
    'obs-fold header continuation': `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n${SMUGGLED}`,
    'obs-fold hiding Transfer-Encoding': `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'Transfer-Encoding: identity, chunked': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'Transfer-Encoding: chunked, identity': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'Transfer-Encoding twice': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'Transfer-Encoding with a space before the colon': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'Transfer-Encoding: xchunked': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    'bare LF line ends': `POST /healthz HTTP/1.1\nHost: x\nContent-Length: 0\n\n${SMUGGLED}`,
    'bad chunk size': `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${SMUGGLED}`,
  };
  for (const [name, req] of Object.entries(smuggling)) {
    test(`request smuggling: ${name} -> 400, connection closed, nothing behind it served`, async () => {
      const text = await untilClosed(env.hub.port, req);
      assert.deepEqual(statuses(text), [400], `answers: ${text.slice(0, 400)}`);
      assert.equal(JSON.parse(parseRawResponse(text).body).error.code, 'bad_request');
      assert.ok(!text.includes('"ready"'), 'the smuggled request was served');
    });
  }

  test('a well-framed pipelined request is still served (the checks are not over-eager)', async () => {
    const text = await untilClosed(env.hub.port, `POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: x\r\nX-Spaces:  a  b \r\nConnection: close\r\n\r\n`);
    assert.deepEqual(statuses(text), [405, 200]);
  });

  test('oversized request head -> 400 and closed (documented in docs/operations.md)', async () => {
    for (const req of [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
      `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]) {
      const text = await untilClosed(env.hub.port, req);
      assert.deepEqual(statuses(text), [400]);
      assert.match(JSON.parse(parseRawResponse(text).body).error.message, /too large|Malformed/);
    }
  });

  test('oversized bodies -> 413 and closed, declared or chunked', async () => {
    const declared = await untilClosed(env.hub.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
    assert.deepEqual(statuses(declared), [413]);
    const big = 'x'.repeat(70000);
    const chunked = await untilClosed(env.hub.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
    assert.deepEqual(statuses(chunked), [413]);
    const many = await untilClosed(env.hub.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${'1000\r\n'.concat('y'.repeat(4096), '\r\n').repeat(20)}0\r\n\r\n`);
    assert.deepEqual(statuses(many), [413]);
    const u = await user(env.url);
    const r = await call(env.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: 't'.repeat(70000) } });
    assert.equal(r.status, 413);
  });

  test('slowloris: a head sent one byte at a time is cut off at the header deadline', async () => {
    const { text, sent } = await slowClient(env.hub.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', ['X', '-', 'a', ':', ' ', 'b', '\r', '\n']);
    assert.equal(statuses(text).filter((s) => s === 200).length, 0, 'never answered');
    assert.ok(sent > 2, 'bytes kept arriving while the hub waited');
  });

  test('slowloris: a body sent one byte at a time is cut off at the body deadline', async () => {
    const { text, sent } = await slowClient(env.hub.port, 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n', ['{', ' ']);
    assert.equal(statuses(text).filter((s) => s < 400).length, 0, 'never answered');
    assert.ok(sent > 2);
  });

  test('slowloris: a connection that never sends a byte is closed at the idle deadline', async () => {
    const text = await untilClosed(env.hub.port, '');
    assert.equal(text, '');
  });

  test('path traversal on static files never leaves the web root', async () => {
    const attempts = [
      '/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/%2e%2E/secret.txt', '/.%2e/secret.txt',
      '/%2e./secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/..\\secret.txt',
      '/assets\\..\\..\\secret.txt', '/%252e%252e/secret.txt', '/%c0%ae%c0%ae/secret.txt', '/index.html%00.js',
      '/secret.txt%00', '/assets/link-12345678.js', `/${base}/secret.txt`, `//${base}/secret.txt`, '/./../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt', '/..;/secret.txt', `/..${'/..'.repeat(20)}/etc/passwd`, '/%2e%2e%2f%2e%2e%2fetc/passwd',
    ];
    for (const p of attempts) {
      const text = await untilClosed(env.hub.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const r = parseRawResponse(text);
      assert.ok(!text.includes('TOP-SECRET') && !text.includes('root:x:0:0'), `${p} escaped the web root`);
      assert.ok(r.status === 400 || r.status === 404 || (r.status === 200 && r.body.includes('Bailian Hub')), `${p} -> ${r.status}`);
    }
  });

  test('path traversal on /api/v1/files never reaches the data dir', async () => {
    const u = await user(env.url);
    const g = await api(env.url, u)('POST', '/api/v1/images/generations', { prompt: 'a file' });
    const done = await waitGeneration(env.url, u.token, g.body.id);
    assert.equal(done.status, 'succeeded');
    // The master key file sits in the data directory beside the database.
    const needle = readFileSync(path.join(env.hub.dataDir, 'master.key'), 'utf8').trim();
    const targets = [
      '../master.key', '..%2fmaster.key', '%2e%2e%2fmaster.key', '..%5cmaster.key', '..\\master.key',
      '%2e%2e%2f%2e%2e%2fbailian-hub.db', '..%2f..%2f..%2fetc%2fpasswd', 'master.key', 'bailian-hub.db', '%00', '.',
      `${done.images[0].url.match(/files\/([^?]+)/)[1]}%00.png`, `${done.images[0].url.match(/files\/([^?]+)/)[1]}%2f..%2f..%2fmaster.key`,
    ];
    for (const t of targets) {
      for (const suffix of ['', '?sig=x&exp=9999999999']) {
        const text = await untilClosed(env.hub.port, `GET /api/v1/files/${t}${suffix} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${u.token}\r\nConnection: close\r\n\r\n`);
        const r = parseRawResponse(text);
        assert.ok([400, 403, 404].includes(r.status), `${t}${suffix} -> ${r.status}`);
        assert.ok(!text.includes(needle) && !text.includes('SQLite format') && !text.includes('root:x:0:0'), `${t} leaked a file`);
      }
    }
  });

  test('an absolute-form or foreign Host target is not proxied anywhere', async () => {
    for (const req of [
      'GET http://127.0.0.1:1/healthz HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n',
      'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
      'GET *  HTTP/1.1\r\nHost: x\r\n\r\n',
    ]) {
      const text = await untilClosed(env.hub.port, req);
      const s = statuses(text);
      assert.equal(s.length, 1);
      assert.ok(s[0] === 400 || s[0] === 404 || s[0] === 405, `${req.split('\r\n')[0]} -> ${s[0]}`);
    }
  });

  test('the hub still answers normally after all of it', async () => {
    const { text } = await rawRequest(env.hub.port, 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(parseRawResponse(text).status, 200);
  });

  test('no secret used in this file appears in any log line', () => {
    assertNoSecretInLogs();
  });
});

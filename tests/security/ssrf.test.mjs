// Server-side request forgery: nothing a user sends makes the hub fetch an address of the
// user's choosing. Result images are downloaded only from allowed origins (never following a
// redirect, never with the upstream key); the pass-through goes only to the configured host;
// upstream addresses are configuration, loopback-or-HTTPS, never API input.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { call } from '../support/api.mjs';
import { rawRequest, runHub, SIM_UPSTREAM_KEY, startHub, tempDir } from '../support/hub.mjs';
import { api, assertNoSecretInLogs, FAST_ENV, keep, user, waitGeneration } from './common.mjs';

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

// A DashScope stand-in whose Wanx task answers the URL named in the prompt, so each test picks
// the result URL a malicious or compromised upstream would hand the hub.
function fakeDashScope(trapUrl) {
  const seen = [];
  const tasks = new Map();
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      const json = (status, obj) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
      if (req.method === 'POST' && req.url === '/api/v1/services/aigc/text2image/image-synthesis') {
        n += 1;
        const id = `task-${n}-${Math.random().toString(16).slice(2)}`;
        tasks.set(id, JSON.parse(body).input.prompt);
        return json(200, { request_id: `req-${n}`, output: { task_id: id, task_status: 'PENDING' } });
      }
      const m = req.url.match(/^\/api\/v1\/tasks\/([^/?]+)$/);
      if (req.method === 'GET' && m && tasks.has(m[1])) {
        return json(200, {
          request_id: `req-poll-${m[1]}`,
          output: {
            task_id: m[1], task_status: 'SUCCEEDED', submit_time: '2025-01-01 00:00:00.000', end_time: '2025-01-01 00:00:01.000',
            results: [{ url: tasks.get(m[1]), orig_prompt: 'x', actual_prompt: 'x' }], task_metrics: { TOTAL: 1, SUCCEEDED: 1, FAILED: 0 },
          },
          usage: { image_count: 1 },
        });
      }
      if (req.url.startsWith('/results/redirect')) {
        res.writeHead(302, { Location: `${trapUrl}/stolen.png` });
        return res.end();
      }
      if (req.url.startsWith('/results/')) {
        res.writeHead(200, { 'Content-Type': 'image/png' });
        return res.end(PNG);
      }
      return json(404, { code: 'NotFound', message: 'no such path', request_id: 'x' });
    });
  });
  return { server, seen };
}

describe('SSRF', () => {
  let trap;
  let trapUrl;
  const trapHits = [];
  let upstream;
  let upstreamUrl;
  let hub;
  let alice;

  before(async () => {
    trap = http.createServer((req, res) => { trapHits.push(`${req.method} ${req.url}`); res.writeHead(200, { 'Content-Type': 'image/png' }); res.end(PNG); });
    trapUrl = await listen(trap);
    upstream = fakeDashScope(trapUrl);
    upstreamUrl = await listen(upstream.server);
    hub = await startHub({ env: { ...FAST_ENV, DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY, DASHSCOPE_BASE_URL: upstreamUrl } });
    alice = await user(hub.url);
  });
  after(async () => {
    await hub?.stop();
    upstream?.server.close();
    trap?.close();
  });

  async function generate(resultUrl) {
    const g = await api(hub.url, alice)('POST', '/api/v1/images/generations', { prompt: resultUrl, n: 1 });
    assert.equal(g.status, 202, JSON.stringify(g.body));
    return waitGeneration(hub.url, alice.token, g.body.id);
  }

  test('the control case: a result on the upstream\'s own origin is downloaded, without the upstream key', async () => {
    const g = await generate(`${upstreamUrl}/results/ok.png?Expires=1&Signature=x`);
    assert.equal(g.status, 'succeeded', JSON.stringify(g));
    const fetched = upstream.seen.filter((r) => r.url.startsWith('/results/'));
    assert.equal(fetched.length, 1);
    assert.equal(fetched[0].headers.authorization, undefined, 'the DashScope key never goes with a download');
  });

  test('result URLs on other hosts, or dressed up as the allowed one, are never fetched', async () => {
    const trapPort = new URL(trapUrl).port;
    const upPort = new URL(upstreamUrl).port;
    const urls = [
      `${trapUrl}/x.png`,
      `http://127.0.0.1:${upPort}@127.0.0.1:${trapPort}/x.png`,
      `http://127.0.0.1:${trapPort}#@127.0.0.1:${upPort}/x.png`,
      `http://127.0.0.1:${trapPort}\\@127.0.0.1:${upPort}/x.png`,
      `http://127.0.0.1:${trapPort}?@127.0.0.1:${upPort}/x.png`,
      `http://localhost:${trapPort}/x.png`,
      `http://[::1]:${trapPort}/x.png`,
      `http://0x7f000001:${trapPort}/x.png`,
      `http://2130706433:${trapPort}/x.png`,
      `http://127.1:${trapPort}/x.png`,
      `http://127.0.0.1:${trapPort}:${upPort}/x.png`,
      `HTTP://127.0.0.1:${trapPort}/x.png`,
      `//127.0.0.1:${trapPort}/x.png`,
      `https://127.0.0.1:${trapPort}/x.png`,
      `http://169.254.169.254/latest/meta-data/`,
      `http://10.0.0.1/x.png`,
      `file:///etc/passwd`,
      `gopher://127.0.0.1:${trapPort}/_GET%20/`,
      `https://dashscope-result-bj.aliyuncs.com.evil.example/x.png`,
      `https://evil.example/dashscope-result-bj.aliyuncs.com/x.png`,
      `${upstreamUrl}/results/redirect.png`,
    ];
    for (const url of urls) {
      const g = await generate(url);
      assert.equal(g.status, 'failed', `${url} -> ${g.status}`);
      assert.ok(g.images.every((i) => i.url === null), url);
    }
    assert.deepEqual(trapHits, [], 'nothing reached the trap');
  });

  test('the pass-through only ever talks to the configured upstream', async () => {
    const k = await api(hub.url, alice)('POST', '/api/v1/api-keys', { name: 'ssrf' });
    keep(k.body.key);
    const trapHost = new URL(trapUrl).host;
    const before = upstream.seen.length;
    const body = JSON.stringify({ model: 'wanx-v1', input: { prompt: `${trapUrl}/x.png` } });
    const paths = [
      '/dashscope/api/v1/services/aigc/text2image/image-synthesis',
      '/dashscope/api/v1/services/aigc/../../../../x',
      '/dashscope/api/v1/services/aigc/text2image/..%2f..%2f..%2fx',
      `/dashscope/api/v1/services/aigc/@${trapHost}/x`,
      `/dashscope/api/v1/services/aigc/text2image/image-synthesis/../../../../..//${trapHost}/x`,
      `/dashscope/http://${trapHost}/x`,
      `/dashscope//${trapHost}/api/v1/tasks/x`,
    ];
    for (const p of paths) {
      const req = `POST ${p} HTTP/1.1\r\nHost: ${trapHost}\r\nX-Forwarded-Host: ${trapHost}\r\nX-Original-URL: ${trapUrl}/x\r\nAuthorization: Bearer ${k.body.key}\r\nContent-Type: application/json\r\nX-DashScope-Async: enable\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
      await rawRequest(hub.port, req);
    }
    for (const p of [`/dashscope/api/v1/tasks/..%2f..%2f${trapHost}`, `/dashscope/api/v1/tasks/x%40${trapHost}`]) {
      const r = await call(hub.url, 'GET', p, { token: k.body.key, headers: { Host: trapHost } });
      assert.equal(r.status, 404, p);
    }
    const forwarded = upstream.seen.slice(before).filter((r) => !r.url.startsWith('/api/v1/tasks/'));
    assert.deepEqual(forwarded.map((r) => r.url), ['/api/v1/services/aigc/text2image/image-synthesis'], 'only the documented path went upstream');
    assert.equal(forwarded[0].headers.host, new URL(upstreamUrl).host, 'the client\'s Host is not passed on');
    assert.equal(forwarded[0].headers['x-forwarded-host'], undefined);
    assert.equal(forwarded[0].headers.authorization, `Bearer ${SIM_UPSTREAM_KEY}`, 'the upstream key, not the client\'s');
    assert.deepEqual(trapHits, []);
  });

  test('upstream addresses are admin configuration, never API input', async () => {
    const u = api(hub.url, alice);
    assert.equal((await u('POST', '/api/v1/admin/upstream-keys', { name: 'x', secret: 'sk-x', base_url: trapUrl })).status, 403);
    const settings = await u('PATCH', '/api/v1/users/me', { settings: { base_url: trapUrl, webhook: trapUrl, avatar_url: `${trapUrl}/a.png` } });
    assert.ok(settings.status < 500);
    for (const body of [{ base_url: trapUrl }, { url: trapUrl }, { image_url: `${trapUrl}/x.png` }, { ref_img: `${trapUrl}/x.png` }]) {
      const r = await u('POST', '/api/v1/images/generations', { prompt: 'a cat', ...body });
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status}`);
    }
    assert.deepEqual(trapHits, []);
  });

  test('a plain-http upstream or result origin off loopback is refused at start-up', async () => {
    for (const env of [
      { DASHSCOPE_BASE_URL: 'http://169.254.169.254' },
      { DASHSCOPE_BASE_URL: 'http://10.0.0.1:8080' },
      { DASHSCOPE_BASE_URL: 'http://dashscope.aliyuncs.com' },
      { DASHSCOPE_BASE_URL: 'file:///etc/passwd' },
      { BAILIAN_HUB_IMAGE_RESULT_ORIGINS: 'http://10.0.0.1' },
      { BAILIAN_HUB_IMAGE_RESULT_ORIGINS: 'http://*.example.com' },
    ]) {
      const r = await runHub(['serve'], { BAILIAN_HUB_DATA_DIR: tempDir(), BAILIAN_HUB_LISTEN: '127.0.0.1:0', DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY, ...env });
      assert.notEqual(r.code, 0, `${JSON.stringify(env)} was accepted`);
    }
  });

  test('no secret used in this file appears in any log line', () => {
    assertNoSecretInLogs();
  });
});

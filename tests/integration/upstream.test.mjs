// Upstream DashScope integration over real HTTP: demo mode with a simulator child, encrypted
// upstream keys (admin API, CLI, env import, wrong master key), and the client's behaviour
// against bailian-sim faults: retries before the first byte only, key disabling and cooling,
// timeouts, cancellation reaching the simulator.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser } from '../support/api.mjs';
import { allLogs, queryDb, runHub, startHub, startSim, tempDir } from '../support/hub.mjs';

const FAST = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
};

async function runWithStdin(args, env, input) {
  const r = await runHub(args, env, { input });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

async function adminOf(dataDir) {
  const password = 'Admin-Password-Quite-Long-42';
  const r = await runWithStdin(['admin', 'create-user', '--username', 'keyadmin', '--email', 'keyadmin@example.com', '--role', 'admin', '--password-stdin'],
    { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' }, `${password}\n`);
  assert.equal(r.code, 0, r.err);
  return password;
}

describe('demo mode', () => {
  test('without any key the hub runs bailian-sim as a child and says so', async () => {
    const hub = await startHub({ env: FAST });
    let simPort;
    try {
      const warn = hub.logs.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((j) => j.msg === 'demo_mode');
      assert.ok(warn, 'demo mode is logged');
      simPort = warn.sim_port;
      const ready = await call(hub.url, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.demo_mode, true);
      assert.equal(ready.body.checks.upstream.ok, true);
      assert.equal(ready.body.checks.upstream.keys[0].name, 'demo');
      const sim = await fetch(`http://127.0.0.1:${simPort}/_sim/health`);
      assert.equal(sim.status, 200);
    } finally {
      assert.equal((await hub.stop()).code, 0);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${simPort}/_sim/health`), 'the simulator stops with the hub');
  });
});

describe('upstream keys: admin API, CLI, encryption at rest', () => {
  let hub;
  let token;
  let dataDir;
  const secretA = `sk-${crypto.randomBytes(16).toString('hex')}`;
  const secretB = `sk-${crypto.randomBytes(16).toString('hex')}`;
  const envSecret = `sk-${crypto.randomBytes(16).toString('hex')}`;

  before(async () => {
    dataDir = tempDir();
    const password = await adminOf(dataDir);
    hub = await startHub({ dataDir, env: { ...FAST, DASHSCOPE_API_KEY: envSecret, DASHSCOPE_BASE_URL: 'http://127.0.0.1:9' } });
    token = (await login(hub.url, 'keyadmin', password)).body.access_token;
  });
  after(async () => { await hub?.stop(); });

  test('DASHSCOPE_API_KEY is imported once, encrypted, shown by last4 only', async () => {
    const r = await call(hub.url, 'GET', '/api/v1/admin/upstream-keys', { token });
    assert.equal(r.status, 200);
    assert.equal(r.body.items.length, 1);
    const k = r.body.items[0];
    assert.equal(k.last4, envSecret.slice(-4));
    assert.equal(k.name, `env-${envSecret.slice(-4)}`);
    assert.ok(k.health);
    assert.ok(!JSON.stringify(r.body).includes(envSecret));
    const rows = await queryDb(dataDir, 'SELECT secret_enc FROM upstream_keys');
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(envSecret), 'stored encrypted');
    assert.match(rows[0].secret_enc, /^v1:/);
    const ready = await call(hub.url, 'GET', '/readyz');
    assert.equal(ready.body.demo_mode, false);
  });

  test('add, rotate, disable, enable, delete; all audited; secrets never come back', async () => {
    let r = await call(hub.url, 'POST', '/api/v1/admin/upstream-keys', { token, body: { name: 'primary', secret: secretA, weight: 3 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = r.body.id;
    assert.equal(r.body.last4, secretA.slice(-4));
    assert.equal(r.body.weight, 3);
    assert.equal(r.body.health.state, 'active');
    r = await call(hub.url, 'POST', `/api/v1/admin/upstream-keys/${id}/rotate`, { token, body: { secret: secretB } });
    assert.equal(r.status, 200);
    assert.equal(r.body.last4, secretB.slice(-4));
    assert.ok(r.body.rotated_at);
    r = await call(hub.url, 'PATCH', `/api/v1/admin/upstream-keys/${id}`, { token, body: { status: 'disabled' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'disabled');
    r = await call(hub.url, 'PATCH', `/api/v1/admin/upstream-keys/${id}`, { token, body: { status: 'active', weight: 5 } });
    assert.equal(r.body.status, 'active');
    assert.equal(r.body.weight, 5);
    const list = await call(hub.url, 'GET', '/api/v1/admin/upstream-keys', { token });
    const text = JSON.stringify(list.body);
    assert.ok(!text.includes(secretA) && !text.includes(secretB));
    r = await call(hub.url, 'DELETE', `/api/v1/admin/upstream-keys/${id}`, { token });
    assert.equal(r.status, 204);
    r = await call(hub.url, 'DELETE', `/api/v1/admin/upstream-keys/${id}`, { token });
    assert.equal(r.status, 404);
    const audit = await call(hub.url, 'GET', '/api/v1/admin/audit-logs?limit=200', { token });
    const actions = audit.body.items.map((e) => e.action);
    for (const a of ['admin.upstream_key_added', 'admin.upstream_key_rotated', 'admin.upstream_key_updated', 'admin.upstream_key_deleted']) {
      assert.ok(actions.includes(a), a);
    }
    assert.ok(!JSON.stringify(audit.body).includes(secretA));
  });

  test('bad input and permissions', async () => {
    for (const body of [{ name: 'x', secret: 'short' }, { name: '', secret: secretA }, { name: 'x', secret: 'has space inside-123' },
      { name: 'x', secret: secretA, weight: 0 }, { name: 'x', secret: secretA, extra: 1 }, { secret: secretA }]) {
      const r = await call(hub.url, 'POST', '/api/v1/admin/upstream-keys', { token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(!JSON.stringify(r.body).includes(secretA));
    }
    const u = await newUser(hub.url);
    assert.equal((await call(hub.url, 'GET', '/api/v1/admin/upstream-keys', { token: u.token })).status, 403);
    assert.equal((await call(hub.url, 'POST', '/api/v1/admin/upstream-keys', { token: u.token, body: { name: 'x', secret: secretA } })).status, 403);
  });

  test('CLI: keys add reads the secret from stdin, list shows last4 only', async () => {
    await hub.stop();
    const secret = `sk-${crypto.randomBytes(12).toString('hex')}`;
    const add = await runWithStdin(['keys', 'add', '--name', 'from-cli'], { BAILIAN_HUB_DATA_DIR: dataDir }, `${secret}\n`);
    assert.equal(add.code, 0, add.err);
    assert.ok(!add.out.includes(secret));
    const list = await runHub(['keys', 'list'], { BAILIAN_HUB_DATA_DIR: dataDir });
    assert.equal(list.code, 0);
    assert.match(list.stdout, /from-cli/);
    assert.match(list.stdout, new RegExp(secret.slice(-4)));
    assert.ok(!list.stdout.includes(secret));
    // A different master key cannot decrypt them: a clear start-up error, not garbage.
    const wrong = await runHub(['serve'], {
      BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_LISTEN: '127.0.0.1:0', BAILIAN_HUB_METRICS_LISTEN: 'off',
      BAILIAN_HUB_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout + wrong.stderr, /master key does not match/);
    hub = await startHub({ dataDir, env: { ...FAST, DASHSCOPE_BASE_URL: 'http://127.0.0.1:9' } });
  });
});

// The client against bailian-sim faults, through the OpenAI-compatible endpoint.
describe('DashScope client against simulator faults', () => {
  let sim;
  let hub;
  let token;
  const good = `sk-good-${crypto.randomBytes(6).toString('hex')}`;
  const bad = `sk-revoked-${crypto.randomBytes(6).toString('hex')}`;

  before(async () => {
    sim = await startSim({ args: ['--keys', good] });
    hub = await startHub({
      env: {
        ...FAST,
        DASHSCOPE_API_KEY: `${bad},${good}`,
        DASHSCOPE_BASE_URL: sim.url,
        BAILIAN_HUB_UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1500',
        BAILIAN_HUB_UPSTREAM_IDLE_TIMEOUT_MS: '1500',
      },
    });
    token = (await newUser(hub.url)).token;
  });
  after(async () => { await hub?.stop(); await sim?.stop(); });

  const chat = (content, extra = {}) => call(hub.url, 'POST', '/v1/chat/completions', {
    token, body: { model: 'qwen-plus', messages: [{ role: 'user', content }], ...extra },
  });
  const simRequests = async () => (await (await fetch(`${sim.url}/_sim/requests?limit=200`)).json()).requests;
  const simReset = () => fetch(`${sim.url}/_sim/reset`, { method: 'POST' });

  test('a revoked key is disabled and the request succeeds on another key', async () => {
    // Keys are picked at random by weight: call until the revoked one has been tried (each
    // call must still succeed), rather than hoping a fixed number of calls reaches it.
    const keyStates = async () => Object.fromEntries(
      (await call(hub.url, 'GET', '/readyz')).body.checks.upstream.keys.map((k) => [k.last4, k.state]));
    for (let i = 0; i < 40; i += 1) {
      const r = await chat(`hello ${i}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(r.body.choices[0].message.content.length > 0);
      if (i >= 3 && (await keyStates())[bad.slice(-4)] === 'disabled') break;
    }
    const states = await keyStates();
    assert.equal(states[bad.slice(-4)], 'disabled');
    assert.equal(states[good.slice(-4)], 'active');
  });

  test('5xx before the first byte is retried, then surfaces as 502', async () => {
    await simReset();
    const r = await chat('fail please [sim:500]');
    assert.equal(r.status, 502, JSON.stringify(r.body));
    const attempts = (await simRequests()).filter((x) => x.path === '/compatible-mode/v1/chat/completions');
    assert.ok(attempts.length >= 2, `retried: ${attempts.length} attempts`);
  });

  test('throttling (429) becomes a rate-limit answer after trying the keys', async () => {
    const r = await chat('slow down [sim:429]');
    assert.equal(r.status, 429, JSON.stringify(r.body));
  });

  test('content inspection becomes 422 content_filtered and is not retried', async () => {
    await simReset();
    const r = await chat('bad words [sim:inspection]');
    assert.equal(r.status, 422, JSON.stringify(r.body));
    const list = await simRequests();
    assert.equal(list.filter((x) => x.path === '/compatible-mode/v1/chat/completions').length, 1);
  });

  test('a stall before the first byte times out as 504', async () => {
    const r = await chat('wait [sim:stall-before-headers:10]');
    assert.equal(r.status, 504, JSON.stringify(r.body));
  });

  test('a stream cut after the first byte is not retried', async () => {
    await simReset();
    const res = await call(hub.url, 'POST', '/v1/chat/completions', {
      token, raw: true, body: { model: 'qwen-plus', stream: true, messages: [{ role: 'user', content: 'tell me a story [sim:cut:3]' }] },
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /data: /);
    const list = await simRequests();
    assert.equal(list.filter((x) => x.path === '/compatible-mode/v1/chat/completions').length, 1, 'no retry after the first byte');
  });

  test('a client that goes away cancels the upstream stream', async () => {
    await simReset();
    const ac = new AbortController();
    const res = await fetch(`${hub.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'qwen-plus', stream: true, messages: [{ role: 'user', content: 'long answer [sim:tokens=400] [sim:tps=20]' }] }),
    });
    const reader = res.body.getReader();
    await reader.read();
    ac.abort();
    let cancelled = 0;
    for (let i = 0; i < 50 && cancelled === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      const stats = await (await fetch(`${sim.url}/_sim/stats`)).json();
      cancelled = stats.cancelled;
    }
    assert.ok(cancelled >= 1, 'the simulator saw the stream cancelled');
  });

  test('simulator bursts (--burst-tokens) group frames without changing the stream', async () => {
    const stream = async (headers) => {
      const res = await fetch(`${sim.url}/compatible-mode/v1/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${good}`,
          'X-Sim-Tokens': '23', 'X-Sim-Tokens-Per-Second': '400', ...headers },
        body: JSON.stringify({ model: 'qwen-plus', stream: true, stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'burst me' }] }),
      });
      assert.equal(res.status, 200);
      const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
      const text = events.filter((e) => e !== 'data: [DONE]')
        .map((e) => JSON.parse(e.slice(6)).choices?.[0]?.delta?.content ?? '').join('');
      return { events, text };
    };
    const one = await stream({});
    const bursts = await stream({ 'X-Sim-Burst-Tokens': '5' });
    assert.equal(bursts.events.length, one.events.length);
    assert.equal(bursts.text, one.text);
    assert.ok(one.text.length > 0);
    assert.equal(bursts.events.at(-1), 'data: [DONE]');
  });

  test('no upstream key appears in any log', () => {
    const text = allLogs.join('\n');
    for (const s of [good, bad]) assert.ok(!text.includes(s), 'key leaked into logs');
  });
});

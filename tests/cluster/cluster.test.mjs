// Many hubs as one (make test-cluster): two hubs on one MariaDB database and one Redis, behind
// nginx (least_conn, SSE not buffered), all on loopback ports of their own. What one hub does,
// the other sees: tokens, logouts, platform keys, conversations and shared rate limits; a hub
// killed mid-stream loses no acknowledged call, and its pending image tasks are finished by the
// other hub, billed once. Redis stopped: calls go on under each hub's local limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser } from '../support/api.mjs';
import { startCluster } from '../support/cluster.mjs';
import { runHub, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const me = (url, token) => call(url, 'GET', '/api/v1/users/me', { token });

function parseSse(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data) {
      try { events.push({ event, data: JSON.parse(data) }); } catch { events.push({ event, data }); }
    }
  }
  return events;
}

// A streamed turn, read as it arrives: `started` resolves at the first delta; `result` with
// {ok (the done event arrived), requestId, messageId, error}.
function streamTurn(url, token, conversationId, content) {
  let markStarted;
  const started = new Promise((resolve) => { markStarted = resolve; });
  const result = (async () => {
    let text = '';
    let requestId = null;
    try {
      const res = await fetch(`${url}/api/v1/conversations/${conversationId}/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ content, stream: true }),
      });
      requestId = res.headers.get('x-request-id');
      if (res.status !== 200) return { ok: false, requestId, error: `status ${res.status}: ${await res.text()}` };
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        text += decoder.decode(chunk, { stream: true });
        if (text.includes('event: delta')) markStarted();
      }
    } catch (e) {
      markStarted();
      return { ok: false, requestId, error: String(e) };
    }
    markStarted();
    const events = parseSse(text);
    const last = events[events.length - 1];
    if (!last || last.event !== 'done') return { ok: false, requestId, error: `ended with ${last?.event}` };
    return { ok: true, requestId, messageId: last.data.message.id };
  })();
  return { started, result };
}

describe('two hubs behind nginx, on MariaDB and Redis', () => {
  let c;
  let admin;

  before(async () => {
    c = await startCluster({ hubs: 2, simArgs: ['--tokens-per-second', '40', '--task-seconds', '1'] });
    const dataDir = tempDir();
    const r = await runHub(['admin', 'create-user', '--username', 'cluster_admin', '--email', 'ca@example.com', '--role', 'admin'],
      { ...c.hubEnv, BAILIAN_HUB_DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    const password = /password \(shown only once\): (\S+)/.exec(r.stdout)[1];
    const l = await login(c.url, 'cluster_admin', password);
    assert.equal(l.status, 200, JSON.stringify(l.body));
    admin = l.body.access_token;
  });
  after(async () => { await c?.stop(); });

  test('signed up and in through nginx, the token works on each hub directly', async () => {
    const u = await newUser(c.url);
    for (const h of c.hubs) assert.equal((await me(h.url, u.token)).status, 200);
    // Both hubs publish the same signing key: one key ring, kept in the database.
    const [a, b] = await Promise.all(c.hubs.map((h) => call(h.url, 'GET', '/api/v1/auth/jwks')));
    assert.deepEqual(a.body, b.body);
  });

  test('a logout on hub A is refused on hub B within 1 s', async () => {
    const u = await newUser(c.hubs[0].url);
    assert.equal((await me(c.hubs[1].url, u.token)).status, 200);  // B has seen it: nothing to look up
    const out = await call(c.hubs[0].url, 'POST', '/api/v1/auth/logout', { token: u.token, body: { refresh_token: u.refresh } });
    assert.ok([200, 204].includes(out.status), JSON.stringify(out.body));
    await waitFor(async () => (await me(c.hubs[1].url, u.token)).status === 401, 'hub B refuses the token', 1000, 20);
  });

  test('a revoked platform key is refused on both hubs within 1 s', async () => {
    const u = await newUser(c.url);
    const k = await call(c.hubs[0].url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'cluster' } });
    assert.equal(k.status, 201, JSON.stringify(k.body));
    const models = (h) => call(h.url, 'GET', '/v1/models', { token: k.body.key });
    for (const h of c.hubs) assert.equal((await models(h)).status, 200);  // cached on both
    const del = await call(c.hubs[1].url, 'DELETE', `/api/v1/api-keys/${k.body.id}`, { token: u.token });
    assert.ok([200, 204].includes(del.status), JSON.stringify(del.body));
    await waitFor(async () => {
      const s = await Promise.all(c.hubs.map(models));
      return s.every((r) => r.status === 401);
    }, 'both hubs refuse the revoked key', 1000, 20);
  });

  test('a conversation written through A is read through B at once, and B continues it', async () => {
    const u = await newUser(c.url);
    const conv = await call(c.hubs[0].url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
    assert.equal(conv.status, 201);
    const send = (h, content) => call(h.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`,
      { token: u.token, body: { content, stream: false } });
    assert.equal((await send(c.hubs[1], 'echo first turn on B')).status, 201);  // B caches the history
    assert.equal((await send(c.hubs[0], 'echo second turn on A')).status, 201);
    const read = await call(c.hubs[1].url, 'GET', `/api/v1/conversations/${conv.body.id}/messages`, { token: u.token });
    assert.equal(read.status, 200);
    assert.ok(read.body.items.some((m) => m.content === 'echo second turn on A'), 'B reads what A wrote');
    // B's next turn sends the whole history upstream, A's turn included.
    assert.equal((await send(c.hubs[1], 'echo third turn on B')).status, 201);
    const reqs = (await (await fetch(`${c.sim.url}/_sim/requests?limit=200`)).json()).requests;
    const third = reqs.filter((r) => JSON.stringify(r.body ?? '').includes('echo third turn on B')).pop();
    assert.ok(third, 'the third turn reached the simulator');
    assert.ok(JSON.stringify(third.body).includes('echo second turn on A'), 'with A\'s turn in its context');
  });

  test('10 requests a minute for a user hold across both hubs together', async () => {
    const u = await newUser(c.url);
    const p = await call(c.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: admin, body: { quota: { rpm: 10 } } });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    const conv = await call(c.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
    const began = Date.now();
    let ok = 0;
    let limited = 0;
    for (let i = 0; i < 30; i++) {
      const h = c.hubs[i % 2];
      const r = await call(h.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`,
        { token: u.token, body: { content: `echo rpm ${i}`, stream: false } });
      if (r.status === 201) ok++;
      else if (r.status === 429) limited++;
      else assert.fail(`unexpected ${r.status} ${JSON.stringify(r.body)}`);
    }
    // One bucket of 10, refilled at 10 a minute: never the 20 two separate buckets would give.
    const refill = Math.floor((Date.now() - began) / 6000) + 1;
    assert.ok(ok >= 10 && ok <= 10 + refill, `${ok} admitted, ${limited} refused (refill ${refill})`);
    assert.ok(limited > 0);
  });

  test('Redis stopped: calls keep succeeding on local limits, and shared again once it is back', async () => {
    const u = await newUser(c.url);
    await c.redis.stop();
    try {
      for (const h of c.hubs) {
        const r = await call(h.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
        assert.equal(r.status, 201);
        const m = await call(h.url, 'POST', `/api/v1/conversations/${r.body.id}/messages`,
          { token: u.token, body: { content: 'echo without redis', stream: false } });
        assert.equal(m.status, 201, JSON.stringify(m.body));
      }
      for (const h of c.hubs) {
        await waitFor(async () => {
          const ready = await call(h.url, 'GET', '/readyz');
          return ready.status === 200 && ready.body.checks?.redis?.fallback === true;
        }, 'readyz says the limits are local', 10000);
      }
    } finally {
      await c.redis.start();
    }
    for (const h of c.hubs) {
      await waitFor(async () => {
        const ready = await call(h.url, 'GET', '/readyz');
        return ready.body.checks?.redis?.fallback === false;
      }, 'shared limits again', 15000);
    }
    const m = await call(c.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
    assert.equal(m.status, 201);
  });

  test('kill -9 of a hub during 20 streams: the other serves on, every finished call is stored', async () => {
    const users = [];
    for (let i = 0; i < 20; i++) users.push(await newUser(c.url));
    const convs = await Promise.all(users.map((u) => call(c.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} })));
    // Long answers through nginx: least_conn spreads them over both hubs.
    const turns = users.map((u, i) => streamTurn(c.url, u.token, convs[i].body.id,
      `Tell me a long story number ${i} [sim:tokens=400]`));
    await Promise.all(turns.map((t) => t.started));
    await c.killHub(0);
    const results = await Promise.all(turns.map((t) => t.result));
    const ok = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    assert.ok(ok.length > 0, 'the streams on the surviving hub finished');
    assert.ok(failed.length > 0, `the streams on the killed hub ended in errors (${JSON.stringify(results)})`);
    // B keeps serving new work through nginx.
    const after1 = await newUser(c.url);
    assert.equal((await me(c.url, after1.token)).status, 200);
    // Every stream a client saw finish has its api_calls row and its stored answer.
    for (let i = 0; i < results.length; i++) {
      if (!results[i].ok) continue;
      const u = users[i];
      const msgs = await call(c.hubs[1].url, 'GET', `/api/v1/conversations/${convs[i].body.id}/messages`, { token: u.token });
      assert.ok(msgs.body.items.some((m) => m.id === results[i].messageId && m.status === 'complete'), `answer ${i} stored`);
      const calls = await call(c.hubs[1].url, 'GET', '/api/v1/history/calls', { token: u.token });
      assert.ok(calls.body.items.some((x) => x.endpoint === 'chat' && x.conversation_id === convs[i].body.id && x.status_code === 200),
        `api_calls row for stream ${i}`);
    }
    await c.restartHub(0);
  });

  test('image generations submitted through a hub that dies are finished by the other, billed once', async () => {
    const u = await newUser(c.url);
    const ids = [];
    for (let i = 0; i < 4; i++) {
      const g = await call(c.hubs[0].url, 'POST', '/api/v1/images/generations',
        { token: u.token, body: { prompt: `a lighthouse ${i} [sim:task-seconds=3]` } });
      assert.equal(g.status, 202, JSON.stringify(g.body));
      ids.push(g.body.id);
    }
    await c.killHub(0);
    for (const id of ids) {
      await waitFor(async () => {
        const g = await call(c.hubs[1].url, 'GET', `/api/v1/images/generations/${id}`, { token: u.token });
        return g.body.status === 'succeeded';
      }, `generation ${id} finished by the surviving hub`, 60000, 200);
    }
    const calls = await call(c.hubs[1].url, 'GET', '/api/v1/history/calls', { token: u.token });
    const images = calls.body.items.filter((x) => x.endpoint === 'images');
    assert.equal(images.length, ids.length, JSON.stringify(images));
    await c.restartHub(0);
  });
});

// Insecure direct object references: every resource with an id, reached by a second user with
// every verb its route has, answers 404 (as if it did not exist) and changes nothing; ids are
// opaque and not guessable.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call } from '../support/api.mjs';
import { startHubWithSim } from '../support/hub.mjs';
import { api, assertNoSecretInLogs, FAST_ENV, keep, user, waitGeneration } from './common.mjs';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('IDOR', () => {
  let env;
  let alice;
  let mallory;
  let as;
  let ms;
  const ids = {};

  before(async () => {
    env = await startHubWithSim({ simArgs: ['--task-seconds', '0.2'], env: FAST_ENV });
    alice = await user(env.url);
    mallory = await user(env.url);
    as = api(env.url, alice);
    ms = api(env.url, mallory);

    // Alice owns one of everything.
    const c = await as('POST', '/api/v1/conversations', { title: 'alice private' });
    assert.equal(c.status, 201);
    ids.conversation = c.body.id;
    const m = await as('POST', `/api/v1/conversations/${ids.conversation}/messages`, { content: 'my secret plan' });
    assert.equal(m.status, 201, JSON.stringify(m.body));
    ids.message = m.body.user_message.id;
    ids.answer = m.body.message.id;
    const g = await as('POST', '/api/v1/images/generations', { prompt: 'a private picture' });
    assert.equal(g.status, 202, JSON.stringify(g.body));
    ids.generation = g.body.id;
    const done = await waitGeneration(env.url, alice.token, ids.generation);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    ids.fileUrl = done.images[0].url;
    ids.file = ids.fileUrl.match(/\/api\/v1\/files\/([^?]+)/)[1];
    const k = await as('POST', '/api/v1/api-keys', { name: 'alice laptop' });
    assert.equal(k.status, 201);
    ids.apiKey = k.body.id;
    ids.apiKeySecret = keep(k.body.key);
    const sessions = await as('GET', '/api/v1/auth/sessions');
    ids.session = sessions.body.items[0].id;
    const task = await fetch(`${env.url}/dashscope/api/v1/services/aigc/text2image/image-synthesis`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ids.apiKeySecret}`, 'Content-Type': 'application/json', 'X-DashScope-Async': 'enable' },
      body: JSON.stringify({ model: 'wanx-v1', input: { prompt: 'a task of mine' }, parameters: { n: 1 } }),
    });
    assert.equal(task.status, 200);
    ids.task = (await task.json()).output.task_id;
    assert.ok(ids.task);
  });
  after(async () => { await env?.stop(); });

  // [verb, path, body] for every route that takes one of Alice's ids.
  const routes = () => [
    ['GET', `/api/v1/conversations/${ids.conversation}`],
    ['PATCH', `/api/v1/conversations/${ids.conversation}`, { title: 'pwned' }],
    ['DELETE', `/api/v1/conversations/${ids.conversation}`],
    ['GET', `/api/v1/conversations/${ids.conversation}/export?format=json`],
    ['GET', `/api/v1/conversations/${ids.conversation}/export?format=markdown`],
    ['GET', `/api/v1/conversations/${ids.conversation}/messages`],
    ['POST', `/api/v1/conversations/${ids.conversation}/messages`, { content: 'injected' }],
    ['POST', `/api/v1/conversations/${ids.conversation}/messages/${ids.answer}/regenerate`, {}],
    ['POST', `/api/v1/conversations/${ids.conversation}/messages/${ids.message}/regenerate`, {}],
    ['GET', `/api/v1/images/generations/${ids.generation}`],
    ['GET', `/api/v1/images/generations/${ids.generation}/events`],
    ['DELETE', `/api/v1/images/generations/${ids.generation}`],
    ['GET', `/api/v1/files/${ids.file}`],
    ['PATCH', `/api/v1/api-keys/${ids.apiKey}`, { limits: { rpm: 5 } }],
    ['DELETE', `/api/v1/api-keys/${ids.apiKey}`],
    ['DELETE', `/api/v1/auth/sessions/${ids.session}`],
    ['GET', `/dashscope/api/v1/tasks/${ids.task}`],
    ['POST', `/dashscope/api/v1/tasks/${ids.task}/cancel`],
  ];

  test('another user gets 404 on every verb of every route that takes an id', async () => {
    for (const [method, path, body] of routes()) {
      const r = await ms(method, path, body);
      assert.equal(r.status, 404, `${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
      const text = JSON.stringify(r.body);
      for (const secret of ['my secret plan', 'alice private', 'a private picture', 'alice laptop']) {
        assert.ok(!text.includes(secret), `${method} ${path} leaked ${secret}`);
      }
    }
  });

  test('another user with a platform key gets 404 for the upstream task too', async () => {
    const k = await ms('POST', '/api/v1/api-keys', { name: 'mallory key' });
    keep(k.body.key);
    for (const [method, path] of [['GET', `/dashscope/api/v1/tasks/${ids.task}`], ['POST', `/dashscope/api/v1/tasks/${ids.task}/cancel`]]) {
      const r = await call(env.url, method, path, { token: k.body.key });
      assert.equal(r.status, 404, `${method} ${path} -> ${r.status}`);
    }
  });

  test('regenerating another user\'s message inside one\'s own conversation is 404', async () => {
    const own = await ms('POST', '/api/v1/conversations', { title: 'mine' });
    await ms('POST', `/api/v1/conversations/${own.body.id}/messages`, { content: 'hello' });
    for (const mid of [ids.message, ids.answer]) {
      const r = await ms('POST', `/api/v1/conversations/${own.body.id}/messages/${mid}/regenerate`, {});
      assert.equal(r.status, 404, `regenerate ${mid} -> ${r.status}`);
    }
  });

  test('a signed file link for one image does not open another, and a forged signature is refused', async () => {
    const url = new URL(ids.fileUrl, env.url);
    assert.equal((await fetch(url)).status, 200, 'the owner\'s signed link works');
    const otherGen = await ms('POST', '/api/v1/images/generations', { prompt: 'mallory picture' });
    const other = await waitGeneration(env.url, mallory.token, otherGen.body.id);
    const otherFile = other.images[0].url.match(/\/api\/v1\/files\/([^?]+)/)[1];
    // Mallory's own signature on Alice's id, a changed expiry, a truncated signature.
    const swapped = new URL(other.images[0].url, env.url);
    swapped.pathname = `/api/v1/files/${ids.file}`;
    const later = new URL(url);
    later.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    const short = new URL(url);
    short.searchParams.set('sig', url.searchParams.get('sig').slice(0, 10));
    for (const u of [swapped, later, short]) {
      const r = await fetch(u);
      assert.ok([403, 404].includes(r.status), `${u.pathname}${u.search} -> ${r.status}`);
      assert.ok(!(r.headers.get('content-type') || '').startsWith('image/'));
    }
    assert.notEqual(otherFile, ids.file);
  });

  test('nothing of Alice changed, and she still reaches all of it', async () => {
    const c = await as('GET', `/api/v1/conversations/${ids.conversation}`);
    assert.equal(c.status, 200);
    assert.equal(c.body.title, 'alice private');
    const msgs = await as('GET', `/api/v1/conversations/${ids.conversation}/messages`);
    assert.equal(msgs.body.items.length, 2);
    assert.ok(!JSON.stringify(msgs.body).includes('injected'));
    assert.equal((await as('GET', `/api/v1/images/generations/${ids.generation}`)).status, 200);
    assert.equal((await as('GET', `/api/v1/files/${ids.file}`)).status, 200);
    const keys = await as('GET', '/api/v1/api-keys');
    const k = keys.body.items.find((x) => x.id === ids.apiKey);
    assert.ok(k && !k.revoked_at, 'the key is alive');
    assert.ok(!k.limits || k.limits.rpm == null, 'its limits are untouched');
    assert.equal((await as('GET', '/api/v1/users/me')).status, 200, 'the session is alive');
    const t = await call(env.url, 'GET', `/dashscope/api/v1/tasks/${ids.task}`, { token: ids.apiKeySecret });
    assert.equal(t.status, 200);
    assert.notEqual(t.body.output.task_status, 'CANCELED');
  });

  test('ids are opaque UUIDv7 with random bits, never sequential', async () => {
    const made = [];
    for (let i = 0; i < 20; i += 1) {
      const c = await as('POST', '/api/v1/conversations', { title: `seq ${i}` });
      made.push(c.body.id);
    }
    for (const id of [...made, ids.conversation, ids.message, ids.answer, ids.generation, ids.file, ids.apiKey, ids.session]) {
      assert.match(id, UUID_V7, id);
    }
    // 74 random bits per id: consecutive ids share no random tail and do not count up.
    const tail = (id) => BigInt(`0x${id.replace(/-/g, '').slice(13)}`);
    for (let i = 1; i < made.length; i += 1) {
      const d = tail(made[i]) - tail(made[i - 1]);
      assert.ok(d > 1n << 20n || d < -(1n << 20n), `${made[i - 1]} -> ${made[i]} look sequential`);
    }
    assert.equal(new Set(made.map((id) => id.slice(19))).size, made.length);
    // Hex digits of the random part are spread out, not a counter's few low digits.
    const digits = made.map((id) => id.replace(/-/g, '').slice(16)).join('');
    const counts = new Map();
    for (const ch of digits) counts.set(ch, (counts.get(ch) || 0) + 1);
    assert.equal(counts.size, 16, 'all 16 hex digits appear in the random parts');
    assert.ok(Math.max(...counts.values()) < digits.length / 6);
    // A guess one off from a real id finds nothing.
    const real = made[0];
    const guess = real.slice(0, -1) + ((parseInt(real.slice(-1), 16) + 1) % 16).toString(16);
    assert.equal((await as('GET', `/api/v1/conversations/${guess}`)).status, 404);
  });

  test('the upstream task id the pass-through hands out is not guessable', () => {
    assert.ok(ids.task.length >= 16, ids.task);
    assert.ok(/[a-f0-9-]{16,}/i.test(ids.task), ids.task);
  });

  test('no secret used in this file appears in any log line', () => {
    assertNoSecretInLogs();
  });
});

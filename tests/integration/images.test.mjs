// Wanx image generation end to end against bailian-sim: create → the background poller submits
// and polls the task → the images are downloaded, kept and served to their owner; faults,
// bad input, the download allow-list, a hub restart mid-task, deletion, the usage row, and the
// OpenAI-compatible route through the official openai SDK.
import assert from 'node:assert/strict';
import { statSync, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { call, newUser } from '../support/api.mjs';
import { queryDb, startHub, startHubWithSim, startSim, SIM_UPSTREAM_KEY, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const FAST = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_IMAGE_FIRST_POLL_MS: '150',
  BAILIAN_HUB_IMAGE_MAX_POLL_MS: '400',
};
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

async function waitFinished(url, token, id, timeoutMs = 30000) {
  return waitFor(async () => {
    const r = await call(url, 'GET', `/api/v1/images/generations/${id}`, { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return FINISHED.has(r.body.status) ? r.body : null;
  }, `generation ${id} to finish`, timeoutMs);
}

async function simRequests(sim, pathPart) {
  const r = await fetch(`${sim.url}/_sim/requests?limit=1000&path=${encodeURIComponent(pathPart)}`);
  return (await r.json()).requests;
}

// Reads an SSE response to its end; returns [{event, data}].
async function readEvents(res) {
  const text = await res.text();
  const events = [];
  for (const block of text.split('\n\n')) {
    let event = null;
    let data = null;
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = JSON.parse(line.slice(6));
    }
    if (event) events.push({ event, data });
  }
  return events;
}

describe('image generations', () => {
  let env;
  let alice;
  let bob;

  before(async () => {
    env = await startHubWithSim({ simArgs: ['--task-seconds', '1'], env: FAST });
    alice = await newUser(env.url);
    bob = await newUser(env.url);
  });
  after(async () => { await env?.stop(); });

  test('the image models are in the catalog with their sizes, counts and prices', async () => {
    const r = await call(env.url, 'GET', '/api/v1/models', { token: alice.token });
    assert.equal(r.status, 200);
    const images = r.body.items.filter((m) => m.kind === 'image');
    const ids = images.map((m) => m.id);
    for (const id of ['wanx-v1', 'wanx2.1-t2i-turbo', 'wanx2.1-t2i-plus', 'wan2.2-t2i-flash', 'wan2.2-t2i-plus', 'wan2.5-t2i-preview']) {
      assert.ok(ids.includes(id), id);
    }
    const v1 = images.find((m) => m.id === 'wanx-v1');
    assert.deepEqual(v1.image.sizes, ['1024*1024', '720*1280', '1280*720']);
    assert.equal(v1.image.max_n, 4);
    assert.equal(v1.prices.per_image, 0.16);
  });

  test('generate: 202 pending, live events, images kept and served to their owner only', async () => {
    const created = await call(env.url, 'POST', '/api/v1/images/generations', {
      token: alice.token,
      body: { prompt: 'A flower shop with delicate windows [sim:task-seconds=2]', negative_prompt: 'blurry', model: 'wan2.2-t2i-flash', size: '1024*768', n: 2, seed: 42 },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.status, 'pending');
    assert.equal(created.body.size, '1024*768');
    assert.equal(created.body.n, 2);
    assert.deepEqual(created.body.images, []);
    const id = created.body.id;
    assert.equal(created.headers.get('location'), `/api/v1/images/generations/${id}`);

    // The page's event stream: the current state at once, then each move, ending when done.
    const res = await fetch(`${env.url}/api/v1/images/generations/${id}/events`, {
      headers: { Authorization: `Bearer ${alice.token}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const events = await readEvents(res);
    assert.ok(events.length >= 2, JSON.stringify(events));
    assert.ok(events.every((e) => e.event === 'generation' && e.data.id === id));
    const statuses = events.map((e) => e.data.status);
    assert.equal(statuses.at(-1), 'succeeded');
    assert.ok(statuses.includes('running') || statuses.includes('pending'), statuses.join());

    const g = await waitFinished(env.url, alice.token, id);
    assert.equal(g.status, 'succeeded');
    assert.equal(g.images.length, 2);
    assert.ok(g.task_id);
    assert.ok(g.submitted_at && g.finished_at);
    assert.equal(g.cost_cny, 0.28);
    for (const [i, img] of g.images.entries()) {
      assert.equal(img.status, 'succeeded');
      assert.equal(img.index, i);
      assert.equal(img.seed, 42 + i);
      assert.equal(img.content_type, 'image/png');
      assert.ok(img.width > 0 && img.height > 0);
      assert.ok(img.actual_prompt, 'DashScope\'s prompt rewrite is kept');
      assert.match(img.url, /^\/api\/v1\/files\/[^?]+\?exp=\d+&sig=/);
      // The signed URL works without a header (an <img src>), with caching headers.
      const f = await fetch(`${env.url}${img.url}`);
      assert.equal(f.status, 200);
      assert.equal(f.headers.get('content-type'), 'image/png');
      assert.match(f.headers.get('cache-control'), /private/);
      assert.match(f.headers.get('content-disposition'), /^inline/);
      const etag = f.headers.get('etag');
      assert.ok(etag);
      const bytes = Buffer.from(await f.arrayBuffer());
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE);
      assert.equal(bytes.length, img.bytes);
      const again = await fetch(`${env.url}${img.url}`, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
      const dl = await fetch(`${env.url}${img.download_url}`);
      assert.match(dl.headers.get('content-disposition'), /^attachment; filename="image-.+\.png"/);
      // With the owner's token, without a signature.
      const own = await fetch(`${env.url}/api/v1/files/${img.id}`, { headers: { Authorization: `Bearer ${alice.token}` } });
      assert.equal(own.status, 200);
      // Another user, no credential, or a forged signature: exactly like a missing file.
      const other = await call(env.url, 'GET', `/api/v1/files/${img.id}`, { token: bob.token });
      assert.equal(other.status, 404);
      assert.equal((await call(env.url, 'GET', `/api/v1/files/${img.id}`)).status, 401);
      const forged = img.url.replace(/sig=.*/, 'sig=AAAA');
      assert.equal((await call(env.url, 'GET', forged)).status, 404);
      const missing = await call(env.url, 'GET', `/api/v1/files/nope?exp=9999999999&sig=x`);
      assert.equal(missing.status, 404);
    }

    // Stored under the data dir, named by content hash, private.
    const rows = await queryDb(env.hub.dataDir, `SELECT file_path FROM images WHERE generation_id = '${id}'`);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.match(r.file_path, /^[0-9a-f]{2}\/[0-9a-f]{64}\.png$/);
      const st = statSync(path.join(env.hub.dataDir, 'files', r.file_path));
      assert.equal(st.mode & 0o777, 0o600);
    }

    // Another user's generation is a 404 exactly like a missing one.
    for (const p of [`/api/v1/images/generations/${id}`, `/api/v1/images/generations/${id}/events`]) {
      const r = await call(env.url, 'GET', p, { token: bob.token });
      assert.equal(r.status, 404);
      assert.equal(r.body.error.code, 'not_found');
    }
    assert.equal((await call(env.url, 'DELETE', `/api/v1/images/generations/${id}`, { token: bob.token })).status, 404);

    // One usage row: images, cost, DashScope's request and task ids.
    const calls = await waitFor(async () => {
      const h = await call(env.url, 'GET', '/api/v1/history/calls', { token: alice.token });
      return h.body.items.find((c) => c.upstream_task_id === g.task_id);
    }, 'the usage row');
    assert.equal(calls.endpoint, 'images');
    assert.equal(calls.model, 'wan2.2-t2i-flash');
    assert.equal(calls.image_count, 2);
    assert.equal(calls.cost_cny, 0.28);
    assert.equal(calls.status_code, 200);
    assert.ok(calls.upstream_request_id);
    const stats = await call(env.url, 'GET', '/api/v1/history/stats?group_by=model', { token: alice.token });
    assert.equal(stats.status, 200);
    assert.ok(JSON.stringify(stats.body).includes('"images":2'));
  });

  test('the list is the user\'s own, newest first, with a cursor', async () => {
    const carol = await newUser(env.url);
    const ids = [];
    for (let i = 0; i < 3; i += 1) {
      const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: carol.token, body: { prompt: `picture ${i}` } });
      assert.equal(r.status, 202);
      ids.push(r.body.id);
    }
    const p1 = await call(env.url, 'GET', '/api/v1/images/generations?limit=2', { token: carol.token });
    assert.equal(p1.status, 200);
    assert.deepEqual(p1.body.items.map((g) => g.id), [ids[2], ids[1]]);
    assert.ok(p1.body.next_cursor);
    const p2 = await call(env.url, 'GET', `/api/v1/images/generations?limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`, { token: carol.token });
    assert.deepEqual(p2.body.items.map((g) => g.id), [ids[0]]);
    assert.equal(p2.body.next_cursor, null);
    const theirs = await call(env.url, 'GET', '/api/v1/images/generations', { token: bob.token });
    assert.ok(!theirs.body.items.some((g) => ids.includes(g.id)));
    for (const id of ids) await waitFinished(env.url, carol.token, id);
  });

  test('bad input is a 400 naming the field, with nothing stored and nothing sent upstream', async () => {
    const dave = await newUser(env.url);
    const before = (await simRequests(env.sim, 'image-synthesis')).length;
    const cases = [
      [{ prompt: '' }, 'prompt'],
      [{ prompt: '   ' }, 'prompt'],
      [{}, 'prompt'],
      [{ prompt: 'x'.repeat(501) }, 'prompt'],
      [{ prompt: 'fox', negative_prompt: 'x'.repeat(501) }, 'negative_prompt'],
      [{ prompt: 'fox', size: '2048*2048' }, 'size'],
      [{ prompt: 'fox', size: 'big' }, 'size'],
      [{ prompt: 'fox', model: 'wanx-v1', size: '1024*768' }, 'size'],
      [{ prompt: 'fox', n: 5 }, 'n'],
      [{ prompt: 'fox', n: 0 }, 'n'],
      [{ prompt: 'fox', n: '2' }, 'n'],
      [{ prompt: 'fox', seed: -1 }, 'seed'],
      [{ prompt: 'fox', watermark: 'yes' }, 'watermark'],
      [{ prompt: 'fox', colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of cases) {
      const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: dave.token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'validation_failed');
      assert.ok(r.body.error.message.startsWith(`${field} `), `${JSON.stringify(body)}: ${r.body.error.message}`);
    }
    for (const model of ['qwen-plus', 'dall-e-3']) {
      const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: dave.token, body: { prompt: 'fox', model } });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'unknown_model');
    }
    const bad = await call(env.url, 'POST', '/api/v1/images/generations', { token: dave.token, body: '{"prompt":', headers: { 'Content-Type': 'application/json' } });
    assert.equal(bad.status, 400);
    const list = await call(env.url, 'GET', '/api/v1/images/generations', { token: dave.token });
    assert.deepEqual(list.body.items, []);
    assert.equal((await simRequests(env.sim, 'image-synthesis')).length, before);
    assert.equal((await call(env.url, 'POST', '/api/v1/images/generations', { body: { prompt: 'fox' } })).status, 401);
  });

  test('a refused prompt is content_filtered; a FAILED task keeps DashScope\'s code and message', async () => {
    const filtered = await call(env.url, 'POST', '/api/v1/images/generations', { token: alice.token, body: { prompt: 'something [sim:fault=inspection]' } });
    assert.equal(filtered.status, 202);
    const f = await waitFinished(env.url, alice.token, filtered.body.id);
    assert.equal(f.status, 'failed');
    assert.equal(f.error.code, 'content_filtered');
    assert.ok(f.error.message);

    const failed = await call(env.url, 'POST', '/api/v1/images/generations', { token: alice.token, body: { prompt: 'a fox [sim:fault=task-failed]' } });
    const t = await waitFinished(env.url, alice.token, failed.body.id);
    assert.equal(t.status, 'failed');
    assert.ok(t.error.code && t.error.code !== 'content_filtered', JSON.stringify(t.error));
    assert.ok(t.error.message);
    assert.deepEqual(t.images, []);
    const rows = await queryDb(env.hub.dataDir, `SELECT status_code, error_code, image_count, cost_micro_cny FROM api_calls WHERE upstream_task_id = '${t.task_id}'`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].image_count, 0);
    assert.equal(rows[0].cost_micro_cny, 0);
    assert.ok(rows[0].status_code >= 400);
  });

  test('a partial failure keeps the good images and shows the failed one', async () => {
    const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: alice.token, body: { prompt: 'two foxes [sim:fault=task-partial]', n: 2 } });
    const g = await waitFinished(env.url, alice.token, r.body.id);
    assert.equal(g.status, 'succeeded');
    assert.equal(g.images.length, 2);
    const ok = g.images.filter((i) => i.status === 'succeeded');
    const bad = g.images.filter((i) => i.status === 'failed');
    assert.equal(ok.length, 1);
    assert.equal(bad.length, 1);
    assert.equal(bad[0].url, null);
    assert.equal(bad[0].error.code, 'InternalError.Timeout');
    assert.equal((await fetch(`${env.url}${ok[0].url}`)).status, 200);
    const rows = await queryDb(env.hub.dataDir, `SELECT image_count FROM api_calls WHERE upstream_task_id = '${g.task_id}'`);
    assert.equal(rows[0].image_count, 1);
  });

  test('429 and 500 from DashScope on submit and on poll are retried until the task ends', async () => {
    const arm = (fault, count, p) => fetch(`${env.sim.url}/_sim/faults`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ fault, count, path: p }),
    });
    assert.equal((await arm('429', 1, '/image-synthesis')).status, 200);
    assert.equal((await arm('500', 1, '/image-synthesis')).status, 200);
    const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: alice.token, body: { prompt: 'a stubborn fox' } });
    assert.equal(r.status, 202);
    // Once submitted, the next polls fail too.
    await waitFor(async () => (await call(env.url, 'GET', `/api/v1/images/generations/${r.body.id}`, { token: alice.token })).body.task_id, 'the submit');
    assert.equal((await arm('500', 1, '/api/v1/tasks/')).status, 200);
    assert.equal((await arm('429', 1, '/api/v1/tasks/')).status, 200);
    const g = await waitFinished(env.url, alice.token, r.body.id, 60000);
    assert.equal(g.status, 'succeeded', JSON.stringify(g.error));
    const statuses = (await simRequests(env.sim, '/api/v1/tasks/')).map((q) => q.status);
    assert.ok(statuses.includes(500) && statuses.includes(429), statuses.join());
  });

  test('deleting removes the files and cancels a task DashScope still holds', async () => {
    const done = await call(env.url, 'POST', '/api/v1/images/generations', { token: alice.token, body: { prompt: 'a unique fox to delete 8812' } });
    const g = await waitFinished(env.url, alice.token, done.body.id);
    const [row] = await queryDb(env.hub.dataDir, `SELECT file_path FROM images WHERE generation_id = '${g.id}'`);
    const file = path.join(env.hub.dataDir, 'files', row.file_path);
    assert.ok(existsSync(file));
    const del = await call(env.url, 'DELETE', `/api/v1/images/generations/${g.id}`, { token: alice.token });
    assert.equal(del.status, 204);
    assert.ok(!existsSync(file));
    assert.equal((await call(env.url, 'GET', `/api/v1/images/generations/${g.id}`, { token: alice.token })).status, 404);
    assert.equal((await fetch(`${env.url}${g.images[0].url}`)).status, 404);
    assert.equal((await call(env.url, 'DELETE', `/api/v1/images/generations/${g.id}`, { token: alice.token })).status, 404);

    // A long task, deleted while PENDING: DashScope is told to cancel it.
    const slow = await call(env.url, 'POST', '/api/v1/images/generations', { token: alice.token, body: { prompt: 'a slow fox [sim:task-seconds=60]' } });
    const submitted = await waitFor(async () => {
      const x = await call(env.url, 'GET', `/api/v1/images/generations/${slow.body.id}`, { token: alice.token });
      return x.body.task_id ? x.body : null;
    }, 'the submit');
    assert.equal((await call(env.url, 'DELETE', `/api/v1/images/generations/${slow.body.id}`, { token: alice.token })).status, 204);
    const cancels = await simRequests(env.sim, `/api/v1/tasks/${submitted.task_id}/cancel`);
    assert.equal(cancels.length, 1);
    assert.equal(cancels[0].status, 200);
  });

  test('the OpenAI-compatible route works with the openai SDK (url and b64_json)', async () => {
    const key = await call(env.url, 'POST', '/api/v1/api-keys', { token: alice.token, body: { name: 'images-sdk' } });
    assert.equal(key.status, 201);
    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${env.url}/v1`, maxRetries: 0 });
    const byUrl = await client.images.generate({ model: 'wanx-v1', prompt: 'a lighthouse at dawn', size: '1024x1024', n: 2 });
    assert.equal(byUrl.data.length, 2);
    for (const d of byUrl.data) {
      assert.ok(d.url.startsWith(`${env.url}/api/v1/files/`), d.url);
      assert.ok(d.revised_prompt);
      const f = await fetch(d.url);
      assert.equal(f.status, 200);
      assert.deepEqual(Buffer.from(await f.arrayBuffer()).subarray(0, 8), PNG_SIGNATURE);
    }
    assert.ok(byUrl.created > 0);
    const b64 = await client.images.generate({ model: 'wanx-v1', prompt: 'a lighthouse at dusk', response_format: 'b64_json' });
    assert.equal(b64.data.length, 1);
    assert.deepEqual(Buffer.from(b64.data[0].b64_json, 'base64').subarray(0, 8), PNG_SIGNATURE);
    // Counted against the key that made the call.
    const rows = await queryDb(env.hub.dataDir, `SELECT api_key_id, endpoint, image_count FROM api_calls WHERE endpoint = '/v1/images/generations'`);
    assert.ok(rows.some((r) => r.api_key_id === key.body.id && r.image_count === 2));
    // OpenAI-shaped errors.
    await assert.rejects(client.images.generate({ model: 'qwen-plus', prompt: 'x' }), (e) => e.status === 400 && e.error?.code === 'model_not_found');
    await assert.rejects(client.images.generate({ model: 'wanx-v1', prompt: '' }), (e) => e.status === 400 && e.error?.type === 'invalid_request_error');
    const failed = client.images.generate({ model: 'wanx-v1', prompt: 'x [sim:fault=inspection]' });
    await assert.rejects(failed, (e) => e.status === 400 && e.error?.code === 'content_filtered');
    // A key limited to other models may not use this one: 403 model_not_allowed naming it, as
    // on every other entry point.
    const narrow = await call(env.url, 'POST', '/api/v1/api-keys', { token: alice.token, body: { name: 'chat-only', models: ['qwen-plus'] } });
    const narrowClient = new OpenAI({ apiKey: narrow.body.key, baseURL: `${env.url}/v1`, maxRetries: 0 });
    await assert.rejects(narrowClient.images.generate({ model: 'wanx-v1', prompt: 'x' }),
      (e) => e.status === 403 && e.error?.code === 'model_not_allowed' && /wanx-v1/.test(e.error?.message));
  });
});

describe('image generations: restart, timeout and the download allow-list', () => {
  test('a hub killed while tasks are pending finishes them after it restarts', async () => {
    const sim = await startSim({ args: ['--task-seconds', '3'] });
    const dataDir = tempDir();
    const env = { ...FAST, DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY, DASHSCOPE_BASE_URL: sim.url };
    let hub = await startHub({ dataDir, env });
    try {
      const u = await newUser(hub.url);
      const ids = [];
      for (let i = 0; i < 2; i += 1) {
        const r = await call(hub.url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt: `restart ${i}` } });
        ids.push(r.body.id);
      }
      await waitFor(async () => {
        const rows = await queryDb(dataDir, `SELECT count(*) AS n FROM image_generations WHERE task_id <> ''`);
        return rows[0].n === 2;
      }, 'both submitted');
      await hub.stop('SIGKILL');
      hub = await startHub({ dataDir, env });
      for (const id of ids) {
        const g = await waitFinished(hub.url, u.token, id);
        assert.equal(g.status, 'succeeded');
        assert.equal(g.images.length, 1);
        assert.equal((await fetch(`${hub.url}${g.images[0].url}`)).status, 200);
      }
      // Submitted once each, not again after the restart.
      assert.equal((await simRequests(sim, 'image-synthesis')).length, 2);
      const rows = await queryDb(dataDir, `SELECT count(*) AS n FROM api_calls WHERE endpoint = 'images'`);
      assert.equal(rows[0].n, 2);
    } finally {
      await hub.stop();
      await sim.stop();
    }
  });

  test('a task that never ends fails after the configured limit', async () => {
    const env = await startHubWithSim({ simArgs: ['--task-seconds', '600'], env: { ...FAST, BAILIAN_HUB_IMAGE_TASK_TIMEOUT_MS: '1500' } });
    try {
      const u = await newUser(env.url);
      const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt: 'forever' } });
      const g = await waitFinished(env.url, u.token, r.body.id);
      assert.equal(g.status, 'failed');
      assert.equal(g.error.code, 'timeout');
    } finally {
      await env.stop();
    }
  });

  test('a result URL on another local port is never fetched', async () => {
    // A server that records whether anything reached it.
    let hits = 0;
    const trap = http.createServer((req, res) => { hits += 1; res.end('nope'); });
    await new Promise((r) => trap.listen(0, '127.0.0.1', r));
    const trapUrl = `http://127.0.0.1:${trap.address().port}`;
    const env = await startHubWithSim({ simArgs: ['--task-seconds', '1', '--public-url', trapUrl], env: FAST });
    try {
      const u = await newUser(env.url);
      const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt: 'elsewhere' } });
      const g = await waitFinished(env.url, u.token, r.body.id);
      assert.equal(g.status, 'failed');
      assert.equal(g.images.length, 1);
      assert.equal(g.images[0].error.code, 'result_origin_refused');
      assert.equal(g.error.code, 'result_origin_refused');
      assert.equal(hits, 0);
    } finally {
      await env.stop();
      trap.close();
    }
  });
});

describe('image generations: result files that are not images', () => {
  test('a result that answers HTML, too many bytes or an error fails that image only', async () => {
    // An allowed result host (configured) that answers badly, by file name.
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 1)]);
    const seen = [];
    const host = http.createServer((req, res) => {
      seen.push(req.url);
      if (req.url.includes('/1.png')) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html><body>Access denied</body></html>');
      } else if (req.url.includes('/2.png')) {
        res.writeHead(200, { 'Content-Type': 'image/png' });
        res.end(png);
      } else {
        res.writeHead(503);
        res.end();
      }
    });
    await new Promise((r) => host.listen(0, '127.0.0.1', r));
    const hostUrl = `http://127.0.0.1:${host.address().port}`;
    const env = await startHubWithSim({
      simArgs: ['--task-seconds', '1', '--public-url', hostUrl],
      env: { ...FAST, BAILIAN_HUB_IMAGE_RESULT_ORIGINS: hostUrl, BAILIAN_HUB_IMAGE_MAX_BYTES: '2048' },
    });
    try {
      const u = await newUser(env.url);
      const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt: 'three bad files', n: 3 } });
      const g = await waitFinished(env.url, u.token, r.body.id);
      assert.equal(g.status, 'failed');
      assert.deepEqual(g.images.map((i) => i.error?.code), ['not_an_image', 'result_fetch_failed', 'result_fetch_failed']);
      assert.ok(g.images.every((i) => i.url === null));
      assert.equal(seen.length, 3);
      const rows = await queryDb(env.hub.dataDir, `SELECT count(*) AS n FROM images WHERE file_path <> ''`);
      assert.equal(rows[0].n, 0);
    } finally {
      await env.stop();
      host.close();
    }
  });
});

describe('image generations: limits', () => {
  test('image requests count against the per-user rate limit; refused ones reach nobody', async () => {
    const env = await startHubWithSim({
      simArgs: ['--task-seconds', '1'],
      env: { ...FAST, BAILIAN_HUB_LIMITS_USER_RPM: '2', BAILIAN_HUB_LIMITS_USER_RPM_BURST: '2' },
    });
    try {
      const u = await newUser(env.url);
      const ok = [];
      for (let i = 0; i < 2; i += 1) {
        const r = await call(env.url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt: `limited ${i}` } });
        assert.equal(r.status, 202);
        assert.ok(r.headers.get('x-ratelimit-limit-requests'));
        ok.push(r.body.id);
      }
      const refused = await call(env.url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt: 'one too many' } });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, 'rate_limited');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      const list = await call(env.url, 'GET', '/api/v1/images/generations', { token: u.token });
      assert.equal(list.body.items.length, 2);
      // The OpenAI surface is limited the same way, in OpenAI's error shape.
      const key = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'img' } });
      const client = new OpenAI({ apiKey: key.body.key, baseURL: `${env.url}/v1`, maxRetries: 0 });
      await assert.rejects(client.images.generate({ model: 'wanx-v1', prompt: 'x' }), (e) => e.status === 429 && e.error?.code === 'rate_limited');
      for (const id of ok) await waitFinished(env.url, u.token, id);
      const prompts = (await simRequests(env.sim, 'image-synthesis')).map((q) => q.body.input.prompt);
      assert.deepEqual(prompts.sort(), ['limited 0', 'limited 1']);
    } finally {
      await env.stop();
    }
  });
});

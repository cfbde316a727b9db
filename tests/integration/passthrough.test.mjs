// The DashScope-native pass-through: requests shaped exactly like the official DashScope SDK's
// (headers included) go through /dashscope/api/v1/... with a platform key; streams are relayed;
// a Wanx task is submitted and polled; task ids are private to their submitter; only
// documented paths are forwarded; every call lands in api_calls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { queryDb, SIM_UPSTREAM_KEY, startHubWithSim } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

// What dashscope-sdk-python sends (api_entities/http_request.py, base_request.py).
function sdkHeaders(key, { stream = false, async = false } = {}) {
  const h = {
    'user-agent': 'dashscope/1.24.6; python/3.11.9; platform/Linux-6.1.0-x86_64-with-glibc2.36; processor/x86_64',
    Authorization: `Bearer ${key}`,
    'Content-Type': 'application/json',
    Accept: stream ? 'text/event-stream' : 'application/json',
    'X-DashScope-DataInspection': 'enable',
  };
  if (stream) {
    h['X-DashScope-SSE'] = 'enable';
    h['X-Accel-Buffering'] = 'no';
  }
  if (async) h['X-DashScope-Async'] = 'enable';
  return h;
}

// Parses native SSE (no space after the colon, :HTTP_STATUS comments) into events.
function parseNativeSse(text) {
  const events = [];
  for (const block of text.split(/\n\n/)) {
    if (!block.trim()) continue;
    const ev = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':HTTP_STATUS/')) ev.status = Number(line.slice(13));
      else if (line.startsWith('id:')) ev.id = line.slice(3);
      else if (line.startsWith('event:')) ev.event = line.slice(6);
      else if (line.startsWith('data:')) ev.data = JSON.parse(line.slice(5));
    }
    events.push(ev);
  }
  return events;
}

describe('DashScope pass-through', () => {
  let env;
  let user;
  let key;
  let base;

  before(async () => {
    env = await startHubWithSim({
      simArgs: ['--task-seconds', '1'],
      env: { BAILIAN_HUB_BCRYPT_COST: '10', BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000' },
    });
    user = await newUser(env.url);
    const created = await call(env.url, 'POST', '/api/v1/api-keys', { token: user.token, body: { name: 'dashscope-sdk' } });
    assert.equal(created.status, 201);
    key = created.body.key;
    base = `${env.url}/dashscope/api/v1`;
  });
  after(async () => { await env?.stop(); });

  test('a non-streaming native generation, with Server-Timing', async () => {
    const res = await fetch(`${base}/services/aigc/text-generation/generation`, {
      method: 'POST',
      headers: sdkHeaders(key),
      body: JSON.stringify({
        model: 'qwen-plus',
        input: { messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'echo native hello' }] },
        parameters: { result_format: 'message' },
      }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.match(res.headers.get('server-timing'), /^hub;dur=\d+\.\d, upstream;dur=\d+\.\d$/);
    const body = await res.json();
    assert.equal(body.output.choices[0].message.content, 'echo native hello');
    assert.equal(body.output.choices[0].finish_reason, 'stop');
    assert.ok(body.usage.input_tokens > 0 && body.usage.output_tokens > 0);
    assert.ok(body.request_id);
  });

  test('a streaming native generation exactly as the SDK asks for it', async () => {
    const res = await fetch(`${base}/services/aigc/text-generation/generation`, {
      method: 'POST',
      headers: sdkHeaders(key, { stream: true }),
      body: JSON.stringify({
        model: 'qwen-plus',
        input: { messages: [{ role: 'user', content: 'Write a line [sim:tokens=8]' }] },
        parameters: { result_format: 'message', incremental_output: true },
      }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const events = parseNativeSse(await res.text());
    assert.ok(events.length >= 8, `${events.length} events`);
    assert.ok(events.every((e) => e.event === 'result' && e.status === 200));
    assert.equal(events[0].id, '1');
    assert.equal(events[0].data.output.choices[0].finish_reason, 'null');
    const last = events[events.length - 1].data;
    assert.equal(last.output.choices[0].finish_reason, 'stop');
    assert.equal(last.usage.output_tokens, 8);
    const text = events.map((e) => e.data.output.choices[0].message.content).join('');
    assert.ok(text.length > 0);
  });

  test('a Wanx task submitted and polled through the hub', async () => {
    const submit = await fetch(`${base}/services/aigc/text2image/image-synthesis`, {
      method: 'POST',
      headers: sdkHeaders(key, { async: true }),
      body: JSON.stringify({ model: 'wanx-v1', input: { prompt: 'a red bicycle' }, parameters: { size: '1024*1024', n: 2 } }),
    });
    assert.equal(submit.status, 200);
    const submitted = await submit.json();
    assert.equal(submitted.output.task_status, 'PENDING');
    const taskId = submitted.output.task_id;
    assert.ok(taskId);

    const done = await waitFor(async () => {
      const r = await fetch(`${base}/tasks/${taskId}`, { headers: { Authorization: `Bearer ${key}`, 'user-agent': 'dashscope/1.24.6' } });
      assert.equal(r.status, 200);
      assert.ok(r.headers.get('server-timing'));
      const b = await r.json();
      assert.equal(b.output.task_id, taskId);
      return b.output.task_status === 'SUCCEEDED' ? b : null;
    }, 'the task to succeed');
    assert.equal(done.output.results.length, 2);
    assert.equal(done.usage.image_count, 2);
    // One more poll after success is not billed again.
    const again = await fetch(`${base}/tasks/${taskId}`, { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(again.status, 200);

    const rows = await queryDb(env.hub.dataDir,
      `SELECT endpoint, model, image_count, cost_micro_cny, status_code FROM api_calls
        WHERE user_id = '${user.user.id}' AND endpoint LIKE '/dashscope/api/v1/tasks/%'`);
    const billed = rows.filter((r) => r.image_count > 0);
    assert.equal(billed.length, 1, JSON.stringify(rows));
    assert.equal(billed[0].image_count, 2);
    assert.equal(billed[0].model, 'wanx-v1');
    assert.equal(billed[0].cost_micro_cny, 320000);
  });

  test('a task id is visible only to the user who submitted it', async () => {
    const submit = await fetch(`${base}/services/aigc/text2image/image-synthesis`, {
      method: 'POST',
      headers: sdkHeaders(key, { async: true }),
      body: JSON.stringify({ model: 'wanx-v1', input: { prompt: 'a private cat' }, parameters: { n: 1 } }),
    });
    const taskId = (await submit.json()).output.task_id;
    const other = await newUser(env.url);
    const otherKey = (await call(env.url, 'POST', '/api/v1/api-keys', { token: other.token, body: { name: 'o' } })).body.key;
    for (const credential of [otherKey, other.token]) {
      const r = await fetch(`${base}/tasks/${taskId}`, { headers: { Authorization: `Bearer ${credential}` } });
      assert.equal(r.status, 404);
      const b = await r.json();
      assert.equal(b.code, 'NotFound');
      assert.ok(b.request_id);
      const c = await fetch(`${base}/tasks/${taskId}/cancel`, { method: 'POST', headers: { Authorization: `Bearer ${credential}` } });
      assert.equal(c.status, 404);
    }
    // A task id the hub never saw is nobody's.
    const unknown = await fetch(`${base}/tasks/00000000-0000-0000-0000-000000000000`, { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(unknown.status, 404);
    // The owner still sees it (JWT or key).
    const mine = await fetch(`${base}/tasks/${taskId}`, { headers: { Authorization: `Bearer ${user.token}` } });
    assert.equal(mine.status, 200);
  });

  test('only documented paths are forwarded, with native-shaped errors', async () => {
    for (const p of ['/services/aigc/unknown/thing', '/services/aigc/text-generation/generation/../../../apps/x/completion',
      '/services/aigc/text-generation%2Fgeneration']) {
      const r = await fetch(`${base}${p}`, { method: 'POST', headers: sdkHeaders(key), body: '{"model":"qwen-plus"}' });
      assert.equal(r.status, 404, p);
    }
    const apps = await fetch(`${base}/apps/123/completion`, { method: 'POST', headers: sdkHeaders(key), body: '{}' });
    assert.equal(apps.status, 404);
    const sim = await fetch(`${env.url}/dashscope/_sim/stats`, { headers: { Authorization: `Bearer ${key}` } });
    assert.notEqual(sim.status, 200);

    const noKey = await fetch(`${base}/services/aigc/text-generation/generation`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(noKey.status, 401);
    assert.equal((await noKey.json()).code, 'InvalidApiKey');
    const badModel = await fetch(`${base}/services/aigc/text-generation/generation`, {
      method: 'POST', headers: sdkHeaders(key),
      body: JSON.stringify({ model: 'gpt-4', input: { messages: [{ role: 'user', content: 'hi' }] } }),
    });
    assert.equal(badModel.status, 404);
    assert.equal((await badModel.json()).code, 'ModelNotFound');
    const imageOnText = await fetch(`${base}/services/aigc/text-generation/generation`, {
      method: 'POST', headers: sdkHeaders(key),
      body: JSON.stringify({ model: 'wanx-v1', input: { messages: [{ role: 'user', content: 'hi' }] } }),
    });
    assert.equal(imageOnText.status, 404);
    // Upstream errors come back as DashScope sent them.
    const invalid = await fetch(`${base}/services/aigc/text-generation/generation`, {
      method: 'POST', headers: sdkHeaders(key),
      body: JSON.stringify({ model: 'qwen-plus', input: {}, parameters: {} }),
    });
    assert.equal(invalid.status, 400);
    const ib = await invalid.json();
    assert.ok(ib.code && ib.message && ib.request_id, JSON.stringify(ib));
    // The sim saw the hub's upstream key, never the platform key.
    const seen = await (await fetch(`${env.sim.url}/_sim/requests?limit=200&path=/api/v1/`)).json();
    assert.ok(seen.requests.length > 0);
    for (const r of seen.requests) {
      assert.equal(r.headers.authorization, `Bearer ****${SIM_UPSTREAM_KEY.slice(-4)}`);
      assert.ok(!JSON.stringify(r.headers).includes(key.slice(-12)));
    }
  });

  test('every pass-through call wrote its api_calls row', async () => {
    const rows = await queryDb(env.hub.dataDir,
      `SELECT endpoint, model, status_code, error_code, input_tokens, output_tokens, first_token_ms,
              cost_micro_cny, upstream_request_id, api_key_id
         FROM api_calls WHERE user_id = '${user.user.id}' ORDER BY created_at`);
    const gen = rows.filter((r) => r.endpoint === '/dashscope/api/v1/services/aigc/text-generation/generation');
    const ok = gen.filter((r) => r.status_code === 200);
    assert.ok(ok.length >= 2, JSON.stringify(gen));
    for (const r of ok) {
      assert.ok(r.input_tokens > 0 && r.output_tokens > 0 && r.cost_micro_cny > 0, JSON.stringify(r));
      assert.ok(r.upstream_request_id, JSON.stringify(r));
      assert.ok(r.api_key_id, JSON.stringify(r));
    }
    const streamed = ok.find((r) => r.output_tokens === 8);
    assert.ok(streamed && streamed.first_token_ms !== null, JSON.stringify(ok));
    assert.ok(gen.some((r) => r.status_code === 400 && r.error_code), JSON.stringify(gen));
    assert.ok(rows.some((r) => r.endpoint === '/dashscope/api/v1/services/aigc/text2image/image-synthesis' && r.model === 'wanx-v1'));
  });
});

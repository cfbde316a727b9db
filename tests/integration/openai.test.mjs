// The OpenAI-compatible API through the real `openai` npm package, against a running hub and
// bailian-sim: models, completions (plain and streamed chunk by chunk), tool calls, errors,
// Server-Timing, and one api_calls row per call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { call, newUser } from '../support/api.mjs';
import { queryDb, startHubWithSim } from '../support/hub.mjs';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' } },
      required: ['location'],
    },
  },
};

describe('OpenAI-compatible API', () => {
  let env;
  let user;
  let key;
  let client;

  before(async () => {
    env = await startHubWithSim({
      env: { BAILIAN_HUB_BCRYPT_COST: '10', BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000' },
    });
    user = await newUser(env.url);
    const created = await call(env.url, 'POST', '/api/v1/api-keys', { token: user.token, body: { name: 'sdk' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    key = created.body.key;
    client = new OpenAI({ apiKey: key, baseURL: `${env.url}/v1`, maxRetries: 0, timeout: 20000 });
  });
  after(async () => { await env?.stop(); });

  test('lists the catalog models', async () => {
    const ids = [];
    for await (const m of client.models.list()) {
      assert.equal(m.object, 'model');
      ids.push(m.id);
    }
    assert.ok(ids.includes('qwen-plus'), ids.join(','));
    const one = await client.models.retrieve('qwen-plus');
    assert.equal(one.id, 'qwen-plus');
    await assert.rejects(client.models.retrieve('gpt-17'), (e) => e instanceof OpenAI.NotFoundError);
  });

  test('a non-streaming completion, with Server-Timing', async () => {
    const { data, response } = await client.chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'echo Hello hub' }],
      temperature: 0.5,
      max_tokens: 200,
      seed: 7,
    }).withResponse();
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'qwen-plus');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'echo Hello hub');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage.prompt_tokens > 0);
    assert.ok(data.usage.completion_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    const timing = response.headers.get('server-timing');
    assert.match(timing, /^hub;dur=\d+\.\d, upstream;dur=\d+\.\d$/);
    assert.ok(response.headers.get('x-request-id'));
  });

  test('a streaming completion, chunk by chunk, with usage at the end', async () => {
    const stream = await client.chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'Tell me something [sim:tokens=12]' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 4, `got ${chunks.length} chunks`);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const id = chunks[0].id;
    assert.match(id, /^chatcmpl-/);
    let text = '';
    let finish = null;
    for (const c of chunks) {
      assert.equal(c.id, id);
      assert.equal(c.object, 'chat.completion.chunk');
      if (c.choices.length) {
        text += c.choices[0].delta.content || '';
        if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
      }
    }
    assert.ok(text.length > 0);
    assert.equal(finish, 'stop');
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, 12);
    assert.ok(last.usage.prompt_tokens > 0);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 12);
    // Without include_usage no usage chunk comes.
    const plain = await client.chat.completions.create({
      model: 'qwen-plus', messages: [{ role: 'user', content: 'hi' }], stream: true,
    });
    const plainChunks = [];
    for await (const c of plain) plainChunks.push(c);
    assert.ok(plainChunks.every((c) => c.choices.length === 1 && !c.usage));
  });

  test('the raw stream is OpenAI-shaped SSE ending in [DONE]', async () => {
    const res = await fetch(`${env.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'hi [sim:tokens=3]' }], stream: true,
        stream_options: { include_usage: true } }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const body = await res.text();
    const frames = body.split('\n\n').filter(Boolean);
    assert.ok(frames.every((f) => f.startsWith('data: ')), body);
    assert.equal(frames[frames.length - 1], 'data: [DONE]');
    const usage = JSON.parse(frames[frames.length - 2].slice(6));
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, 3);
  });

  test('a tool call and the answer to its result', async () => {
    const first = await client.chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'What is the weather in Hangzhou?' }],
      tools: [WEATHER_TOOL],
    });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const tc = choice.message.tool_calls[0];
    assert.equal(tc.type, 'function');
    assert.equal(tc.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(tc.function.arguments), { location: 'Hangzhou' });
    assert.match(tc.id, /^call_/);

    const second = await client.chat.completions.create({
      model: 'qwen-plus',
      messages: [
        { role: 'user', content: 'What is the weather in Hangzhou?' },
        choice.message,
        { role: 'tool', tool_call_id: tc.id, content: 'Sunny, 24 C' },
      ],
      tools: [WEATHER_TOOL],
    });
    assert.equal(second.choices[0].message.content, 'Based on the tool result: Sunny, 24 C');

    // Streamed tool calls arrive as OpenAI deltas the SDK can assemble.
    const stream = client.chat.completions.stream({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'What is the weather in Hangzhou?' }],
      tools: [WEATHER_TOOL],
    });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.equal(final.choices[0].message.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), { location: 'Hangzhou' });
  });

  test('response_format json_object is passed through', async () => {
    const r = await client.chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'Answer in json please' }],
      response_format: { type: 'json_object' },
    });
    assert.ok(typeof JSON.parse(r.choices[0].message.content).answer === 'string');
  });

  test('errors are OpenAI-shaped and the SDK raises the right classes', async () => {
    const bad = new OpenAI({ apiKey: 'bh-not-a-real-key-000000000000000000000000000000', baseURL: `${env.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      bad.chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === 'model_not_found',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'hi' }], stream: true, temperature: 5 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature',
    );
    // The raw shape.
    const r = await call(env.url, 'POST', '/v1/chat/completions', { token: key, body: { model: 'qwen-plus' } });
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(r.body.error.param, 'messages');
    assert.equal(r.body.error.type, 'invalid_request_error');
    assert.match(r.headers.get('server-timing'), /^hub;dur=/);
    const none = await call(env.url, 'GET', '/v1/models');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthenticated');
    // Upstream trouble after the answer started: an error frame, no [DONE].
    const cut = await fetch(`${env.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'tell me [sim:inspection:3]' }], stream: true }),
    });
    assert.equal(cut.status, 200);
    const text = await cut.text();
    assert.match(text, /data: \{"error":\{/);
    assert.ok(!text.includes('[DONE]'));
  });

  test('a stream-only thinking model still answers a non-streaming request', async () => {
    const r = await client.chat.completions.create({
      model: 'qwq-plus', messages: [{ role: 'user', content: 'Think about it [sim:tokens=6] [sim:reasoning=5]' }],
    });
    assert.equal(r.object, 'chat.completion');
    assert.ok(r.choices[0].message.content.length > 0);
    assert.ok(r.choices[0].message.reasoning_content.length > 0);
    assert.equal(r.usage.completion_tokens_details.reasoning_tokens, 5);
  });

  test('n > 1 returns n choices, streamed or not', async () => {
    const r = await client.chat.completions.create({
      model: 'qwen-plus', messages: [{ role: 'user', content: 'Say something' }], n: 2,
    });
    assert.equal(r.choices.length, 2);
    assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1]);
    assert.ok(r.choices.every((c) => c.message.content.length > 0));
    assert.ok(r.usage.completion_tokens > 0);
    const stream = await client.chat.completions.create({
      model: 'qwen-plus', messages: [{ role: 'user', content: 'Say something' }], n: 2, stream: true,
    });
    const seen = new Set();
    for await (const c of stream) for (const ch of c.choices) seen.add(ch.index);
    assert.deepEqual([...seen].sort(), [0, 1]);
  });

  test('a client that goes away cancels the upstream stream', async () => {
    const before = await (await fetch(`${env.sim.url}/_sim/stats`)).json();
    const ac = new AbortController();
    const stream = await client.chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: 'a long story [sim:tokens=400] [sim:tps=20]' }],
      stream: true,
    }, { signal: ac.signal });
    let n = 0;
    try {
      for await (const c of stream) {
        n += c.choices.length;
        if (n >= 2) ac.abort();
      }
    } catch (e) {
      assert.ok(e instanceof OpenAI.APIUserAbortError || e.name === 'AbortError', String(e));
    }
    assert.ok(n >= 2 && n < 50, `read ${n} chunks before leaving`);
    const deadline = Date.now() + 15000;
    for (;;) {
      const stats = await (await fetch(`${env.sim.url}/_sim/stats`)).json();
      if (stats.cancelled > before.cancelled) break;
      assert.ok(Date.now() < deadline, 'the upstream stream was not cancelled');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  test('a user JWT works as the API key too', async () => {
    const viaJwt = new OpenAI({ apiKey: user.token, baseURL: `${env.url}/v1`, maxRetries: 0 });
    const r = await viaJwt.chat.completions.create({ model: 'qwen-turbo', messages: [{ role: 'user', content: 'echo jwt' }] });
    assert.equal(r.choices[0].message.content, 'echo jwt');
  });

  test('every call wrote its api_calls row', async () => {
    const rows = await queryDb(env.hub.dataDir,
      `SELECT endpoint, model, status_code, error_code, input_tokens, output_tokens, latency_ms,
              first_token_ms, cost_micro_cny, upstream_request_id, api_key_id
         FROM api_calls WHERE user_id = '${user.user.id}' ORDER BY created_at`);
    const chat = rows.filter((r) => r.endpoint === '/v1/chat/completions');
    assert.ok(chat.length >= 12, `only ${chat.length} rows`);
    const keyId = (await call(env.url, 'GET', '/api/v1/api-keys', { token: user.token })).body.items[0].id;
    const ok = chat.filter((r) => r.status_code === 200);
    assert.ok(ok.length >= 8);
    for (const r of ok) {
      assert.ok(r.input_tokens > 0 && r.output_tokens > 0, JSON.stringify(r));
      assert.ok(r.upstream_request_id.length > 0, JSON.stringify(r));
      assert.ok(r.cost_micro_cny > 0, JSON.stringify(r));
      assert.ok(r.first_token_ms !== null, JSON.stringify(r));
    }
    assert.ok(ok.filter((r) => r.api_key_id === keyId).length >= 7, 'calls made with the key carry its id');
    assert.ok(ok.some((r) => r.api_key_id === null && r.model === 'qwen-turbo'), 'JWT calls have no key id');
    const failed = chat.filter((r) => r.status_code >= 400);
    assert.ok(failed.some((r) => r.error_code === 'model_not_found' && r.model === 'no-such-model'));
    assert.ok(chat.some((r) => r.error_code === 'DataInspectionFailed' || r.error_code === 'data_inspection_failed'),
      JSON.stringify(chat.map((r) => r.error_code)));
    assert.ok(chat.some((r) => r.status_code === 499 && r.error_code === 'client_closed'), 'the abandoned stream');
  });
});

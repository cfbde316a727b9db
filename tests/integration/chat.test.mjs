// Conversations and streaming chat over real HTTP, against bailian-sim as DashScope:
// conversation CRUD and search, SSE parsed by our own client, history reaching the upstream,
// context trimming, reasoning, regenerate, every fault (error before the first token, a cut
// stream, a client that leaves), the cross-user 404 matrix, export, the model catalog, and
// the api_calls rows with their tokens and cost.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { queryDb, startHub, startSim, tempDir, USE_MYSQL } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const HEARTBEAT_MS = 300;
const MAX_CHARS = 2000;

// ---- SSE client --------------------------------------------------------------------------

// Parses an SSE byte stream: events {event, data (parsed JSON)} and comment lines.
function parseSse(text) {
  const events = [];
  const comments = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ event, data: JSON.parse(data.join('\n')) });
  }
  return { events, comments };
}

// POSTs and reads the SSE answer. With abortAfterDeltas the client goes away after that many
// delta events.
async function stream(url, token, p, body, { headers = {}, abortAfterDeltas = 0 } = {}) {
  const controller = new AbortController();
  const res = await fetch(`${url}${p}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const ctype = res.headers.get('content-type') || '';
  if (!ctype.startsWith('text/event-stream')) {
    return { status: res.status, headers: res.headers, body: await res.json(), events: [], comments: [] };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let aborted = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (abortAfterDeltas) {
        const deltas = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2)).events.filter((e) => e.event === 'delta');
        if (deltas.length >= abortAfterDeltas) {
          aborted = true;
          controller.abort();
          break;
        }
      }
    }
  } catch (e) {
    if (!aborted) throw e;
  }
  const parsed = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
  return { status: res.status, headers: res.headers, raw: text, aborted, ...parsed };
}

const deltasOf = (r, kind = 'content') => r.events.filter((e) => e.event === 'delta' && e.data[kind] !== undefined)
  .map((e) => e.data[kind]).join('');
const lastEvent = (r) => r.events[r.events.length - 1];

async function until(fn, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the suite ---------------------------------------------------------------------------

describe('conversations and chat', () => {
  let sim;
  let hub;
  let alice;
  let bob;
  const api = (who, method, p, body) => call(hub.url, method, p, { token: who.token, body });
  const simRequests = async (limit = 200) => (await (await fetch(`${sim.url}/_sim/requests?limit=${limit}`)).json()).requests;
  const chatRequests = async () => (await simRequests()).filter((r) => r.route === 'compat.chat');
  // The upstream request that carried `marker` in its last user message.
  const upstreamFor = async (marker) => {
    const reqs = (await chatRequests()).filter((r) => {
      const msgs = r.body?.messages || [];
      const last = msgs[msgs.length - 1];
      return last && typeof last.content === 'string' && last.content.includes(marker) && !String(last.content).startsWith('Question:');
    });
    return reqs[reqs.length - 1];
  };
  const newConversation = async (who, body = {}) => {
    const r = await api(who, 'POST', '/api/v1/conversations', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };

  before(async () => {
    sim = await startSim({ args: ['--models', 'tiny-ctx'] });
    const dir = tempDir();
    const configFile = path.join(dir, 'hub.toml');
    writeFileSync(configFile, `
[[models.custom]]
id = "tiny-ctx"
context_window = 80
input_price = 0.001
output_price = 0.002
`);
    hub = await startHub({
      args: ['--config', configFile],
      env: {
        DASHSCOPE_API_KEY: 'sk-test-chat-0001',
        DASHSCOPE_BASE_URL: sim.url,
        BAILIAN_HUB_BCRYPT_COST: '10',
        BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000',
        BAILIAN_HUB_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
        BAILIAN_HUB_MAX_CONTENT_CHARS: String(MAX_CHARS),
        BAILIAN_HUB_DISABLED_MODELS: 'qwen-long',
      },
    });
    alice = await newUser(hub.url);
    bob = await newUser(hub.url);
  });
  after(async () => {
    await hub?.stop();
    await sim?.stop();
  });

  test('the model catalog', async () => {
    const r = await api(alice, 'GET', '/api/v1/models');
    assert.equal(r.status, 200);
    const byId = Object.fromEntries(r.body.items.map((m) => [m.id, m]));
    const plus = byId['qwen-plus'];
    assert.equal(plus.kind, 'chat');
    assert.ok(plus.context_window > 0);
    assert.equal(plus.enabled, true);
    assert.equal(plus.default, true);
    assert.equal(plus.prices.input_per_1k_tokens, 0.0008);
    assert.equal(plus.prices.output_per_1k_tokens, 0.002);
    assert.equal(byId['qwen-vl-max'].kind, 'vision');
    assert.equal(byId['wanx-v1'].kind, 'image');
    assert.equal(byId['qwen-long'].enabled, false);
    assert.equal(byId['tiny-ctx'].context_window, 80);
    assert.equal(r.body.default_model, 'qwen-plus');
    assert.equal((await call(hub.url, 'GET', '/api/v1/models')).status, 401);
  });

  test('create, read, change, list, paginate and delete conversations', async () => {
    const u = await newUser(hub.url);
    const c = await newConversation(u, { title: 'First', system_prompt: 'Be brief.' });
    assert.match(c.id, /^[0-9a-f-]{36}$/);
    assert.equal(c.title, 'First');
    assert.equal(c.system_prompt, 'Be brief.');
    assert.equal(c.model, null);
    assert.equal(c.pinned, false);
    assert.equal(c.archived, false);
    assert.ok(!Number.isNaN(Date.parse(c.created_at)));
    assert.ok(c.updated_at.endsWith('Z'));

    const got = await api(u, 'GET', `/api/v1/conversations/${c.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.message_count, 0);

    for (const bad of [{ model: 'gpt-4' }, { model: 'qwen-long' }, { title: 'x'.repeat(201) }, { title: 5 }, { color: 'red' }]) {
      const r = await api(u, 'POST', '/api/v1/conversations', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    assert.equal((await api(u, 'POST', '/api/v1/conversations', { model: 'nope' })).body.error.code, 'unknown_model');

    const c2 = await newConversation(u, { title: 'Second', model: 'qwen-max' });
    const c3 = await newConversation(u, { title: 'Third' });
    let p = await api(u, 'PATCH', `/api/v1/conversations/${c.id}`, { pinned: true, title: 'First (pinned)', model: 'qwen-turbo' });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.pinned, true);
    assert.equal(p.body.model, 'qwen-turbo');
    assert.equal(p.body.title, 'First (pinned)');
    p = await api(u, 'PATCH', `/api/v1/conversations/${c2.id}`, { archived: true, system_prompt: 'New prompt' });
    assert.equal(p.body.archived, true);
    assert.equal(p.body.system_prompt, 'New prompt');
    assert.equal((await api(u, 'PATCH', `/api/v1/conversations/${c3.id}`, { model: 'nope' })).status, 400);
    assert.equal((await api(u, 'PATCH', `/api/v1/conversations/${c3.id}`, { pinned: 'yes' })).status, 400);
    assert.equal((await api(u, 'PATCH', `/api/v1/conversations/${c3.id}`, { user_id: bob.user.id })).status, 400);

    // Pinned first, then newest first; archived hidden unless asked.
    let list = await api(u, 'GET', '/api/v1/conversations');
    assert.deepEqual(list.body.items.map((x) => x.id), [c.id, c3.id]);
    assert.equal(list.body.next_cursor, null);
    // (a change counts as activity: c2 was patched after c3 was created)
    list = await api(u, 'GET', '/api/v1/conversations?archived=true');
    assert.deepEqual(list.body.items.map((x) => x.id), [c.id, c2.id, c3.id]);
    // Cursor pagination.
    const page1 = await api(u, 'GET', '/api/v1/conversations?archived=true&limit=2');
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.next_cursor);
    const page2 = await api(u, 'GET', `/api/v1/conversations?archived=true&limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
    assert.deepEqual(page2.body.items.map((x) => x.id), [c3.id]);
    assert.equal(page2.body.next_cursor, null);
    assert.equal((await api(u, 'GET', '/api/v1/conversations?cursor=garbage')).status, 400);

    // Delete: gone from every list and lookup.
    assert.equal((await api(u, 'DELETE', `/api/v1/conversations/${c3.id}`)).status, 204);
    assert.equal((await api(u, 'DELETE', `/api/v1/conversations/${c3.id}`)).status, 404);
    assert.equal((await api(u, 'GET', `/api/v1/conversations/${c3.id}`)).status, 404);
    assert.equal((await api(u, 'GET', `/api/v1/conversations/${c3.id}/messages`)).status, 404);
    assert.equal((await api(u, 'GET', `/api/v1/conversations/${c3.id}/export`)).status, 404);
    assert.equal((await api(u, 'POST', `/api/v1/conversations/${c3.id}/messages`, { content: 'hi' })).status, 404);
    list = await api(u, 'GET', '/api/v1/conversations?archived=true');
    assert.ok(!list.body.items.some((x) => x.id === c3.id));
  });

  test('a streamed turn: user_message, deltas, done; stored and titled', async () => {
    const c = await newConversation(alice, { system_prompt: 'You are terse.' });
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
      { content: 'Tell me about the sea', stream: true });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    assert.ok(r.headers.get('x-request-id'));
    assert.equal(r.events[0].event, 'user_message');
    const q = r.events[0].data.message;
    assert.equal(q.role, 'user');
    assert.equal(q.content, 'Tell me about the sea');
    assert.equal(q.conversation_id, c.id);
    const deltas = r.events.filter((e) => e.event === 'delta');
    assert.ok(deltas.length > 3, `deltas: ${deltas.length}`);
    const done = lastEvent(r);
    assert.equal(done.event, 'done');
    const a = done.data.message;
    assert.equal(a.role, 'assistant');
    assert.equal(a.status, 'complete');
    assert.equal(a.content, deltasOf(r));
    assert.equal(a.parent_id, q.id);
    assert.equal(a.model, 'qwen-plus');
    assert.ok(a.input_tokens > 0 && a.output_tokens > 0);
    assert.equal(a.error_code, null);
    // The first answer named the conversation.
    assert.ok(done.data.conversation.title.length > 0);
    const got = await api(alice, 'GET', `/api/v1/conversations/${c.id}`);
    assert.equal(got.body.title, done.data.conversation.title);
    assert.equal(got.body.message_count, 2);
    assert.equal(got.body.output_tokens, a.output_tokens);

    const msgs = await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`);
    assert.equal(msgs.status, 200);
    assert.deepEqual(msgs.body.items.map((m) => m.id), [q.id, a.id]);  // oldest first
    assert.equal(msgs.body.items[1].content, a.content);

    // What the upstream received: the system prompt, then the question.
    const up = await upstreamFor('Tell me about the sea');
    assert.ok(up, 'the sim saw the request');
    assert.equal(up.body.stream, true);
    assert.equal(up.body.model, 'qwen-plus');
    assert.deepEqual(up.body.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Tell me about the sea' },
    ]);
  });

  test('history reaches the upstream request, and the non-streaming form', async () => {
    const c = await newConversation(alice);
    const first = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'echo alpha one', stream: true });
    assert.equal(lastEvent(first).event, 'done');
    assert.equal(lastEvent(first).data.message.content, 'echo alpha one');
    // Accept: text/event-stream alone asks for SSE too.
    const second = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'echo beta two' },
      { headers: { Accept: 'text/event-stream' } });
    assert.equal(lastEvent(second).event, 'done');
    // Without either: one JSON answer.
    const third = await api(alice, 'POST', `/api/v1/conversations/${c.id}/messages`, { content: 'echo gamma three', model: 'qwen-max' });
    assert.equal(third.status, 201, JSON.stringify(third.body));
    assert.equal(third.body.user_message.content, 'echo gamma three');
    assert.equal(third.body.message.content, 'echo gamma three');
    assert.equal(third.body.message.status, 'complete');
    assert.equal(third.body.message.model, 'qwen-max');
    const up = await upstreamFor('echo gamma three');
    assert.equal(up.body.model, 'qwen-max');
    assert.deepEqual(up.body.messages.map((m) => [m.role, m.content]), [
      ['user', 'echo alpha one'], ['assistant', 'echo alpha one'],
      ['user', 'echo beta two'], ['assistant', 'echo beta two'],
      ['user', 'echo gamma three'],
    ]);
  });

  test('the context keeps the newest history that fits the model window', async () => {
    // tiny-ctx has an 80-token window: each "echo wordN xxxxxxxxxxxx" turn is about 2 x 11
    // tokens, so only the latest turns go upstream.
    const c = await newConversation(alice, { model: 'tiny-ctx' });
    for (let i = 1; i <= 6; i += 1) {
      const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
        { content: `echo turn${i} xxxxxxxxxxxx`, stream: true });
      assert.equal(lastEvent(r).event, 'done', JSON.stringify(lastEvent(r)));
    }
    const up = await upstreamFor('echo turn6');
    const contents = up.body.messages.map((m) => m.content);
    assert.equal(contents[contents.length - 1], 'echo turn6 xxxxxxxxxxxx');
    assert.ok(contents.length < 11, `trimmed: ${contents.length} messages`);
    assert.ok(contents.length >= 3, `kept some history: ${contents.length}`);
    assert.ok(!contents.includes('echo turn1 xxxxxxxxxxxx'), 'the oldest turn was dropped');
    assert.equal(up.body.messages[0].role, 'user', 'never starts with an orphan answer');
    // Newest kept: the messages sent are a contiguous tail of the conversation.
    const all = (await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`)).body.items.map((m) => m.content);
    const end = all.length - 2;  // before the last question and its answer
    assert.deepEqual(contents.slice(0, -1), all.slice(end - (contents.length - 1), end));
    // A message that alone exceeds the window is refused.
    const big = await api(alice, 'POST', `/api/v1/conversations/${c.id}/messages`, { content: 'word '.repeat(200) });
    assert.equal(big.status, 400);
    assert.equal(big.body.error.code, 'context_too_long');
  });

  test('reasoning of thinking models streams and is stored apart', async () => {
    const c = await newConversation(alice);
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
      { content: 'Why is the sky blue?', stream: true, parameters: { enable_thinking: true, temperature: 0.3, top_p: 0.9, max_tokens: 200 } });
    const reasoning = deltasOf(r, 'reasoning');
    const content = deltasOf(r, 'content');
    assert.ok(reasoning.length > 0, 'reasoning deltas');
    assert.ok(content.length > 0, 'content deltas');
    const firstContent = r.events.findIndex((e) => e.event === 'delta' && e.data.content !== undefined);
    const lastReasoning = r.events.map((e) => e.event === 'delta' && e.data.reasoning !== undefined).lastIndexOf(true);
    assert.ok(lastReasoning < firstContent, 'reasoning comes first');
    const a = lastEvent(r).data.message;
    assert.equal(a.reasoning, reasoning);
    assert.equal(a.content, content);
    const stored = (await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`)).body.items[1];
    assert.equal(stored.reasoning, reasoning);
    assert.equal(stored.content, content);
    const up = await upstreamFor('Why is the sky blue?');
    assert.equal(up.body.enable_thinking, true);
    assert.equal(up.body.temperature, 0.3);
    assert.equal(up.body.top_p, 0.9);
    assert.equal(up.body.max_tokens, 200);
    // Reasoning never goes back upstream as context.
    await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'And at sunset?', stream: true });
    const next = await upstreamFor('And at sunset?');
    assert.ok(!JSON.stringify(next.body.messages).includes(reasoning.slice(0, 40)));
  });

  test('bad input is refused with 400 and stores nothing', async () => {
    const c = await newConversation(alice);
    const p = `/api/v1/conversations/${c.id}/messages`;
    const cases = [
      [{}, 'validation_failed'],
      [{ content: '' }, 'validation_failed'],
      [{ content: '   \n ' }, 'validation_failed'],
      [{ content: 7 }, 'validation_failed'],
      [{ content: 'x'.repeat(MAX_CHARS + 1) }, 'content_too_long'],
      [{ content: 'hi', model: 'gpt-4' }, 'unknown_model'],
      [{ content: 'hi', model: 'qwen-long' }, 'unknown_model'],
      [{ content: 'hi', model: 'wanx-v1' }, 'unknown_model'],
      [{ content: 'hi', parameters: { temperature: 2.5 } }, 'validation_failed'],
      [{ content: 'hi', parameters: { temperature: -1 } }, 'validation_failed'],
      [{ content: 'hi', parameters: { top_p: 0 } }, 'validation_failed'],
      [{ content: 'hi', parameters: { top_p: 1.5 } }, 'validation_failed'],
      [{ content: 'hi', parameters: { max_tokens: 0 } }, 'validation_failed'],
      [{ content: 'hi', parameters: { max_tokens: 'many' } }, 'validation_failed'],
      [{ content: 'hi', parameters: { enable_search: 'yes' } }, 'validation_failed'],
      [{ content: 'hi', parameters: { frequency: 1 } }, 'validation_failed'],
      [{ content: 'hi', parameters: 'hot' }, 'validation_failed'],
      [{ content: 'hi', model: 'qwen-max', parameters: { enable_thinking: true } }, 'validation_failed'],
      [{ content: 'hi', stream: 'yes' }, 'validation_failed'],
      [{ content: 'hi', role: 'system' }, 'validation_failed'],
    ];
    for (const [body, code] of cases) {
      const r = await api(alice, 'POST', p, { ...body, stream: body.stream ?? true });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)} -> ${r.status}`);
      assert.equal(r.body.error.code, code, JSON.stringify(body).slice(0, 80));
    }
    // Exactly the limit is fine (with the JSON form).
    const ok = await api(alice, 'POST', p, { content: `echo ${'y'.repeat(MAX_CHARS - 5)}` });
    assert.equal(ok.status, 201);
    const msgs = await api(alice, 'GET', `${p}?limit=50`);
    assert.equal(msgs.body.items.length, 2);
    const broken = await call(hub.url, 'POST', p, { token: alice.token, body: '{"content":', headers: { 'Content-Type': 'application/json' } });
    assert.equal(broken.status, 400);
  });

  test('upstream failing before the first token: error event, question kept, call recorded', async () => {
    const c = await newConversation(alice);
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
      { content: 'moderate me [sim:inspection]', stream: true });
    assert.equal(r.events[0].event, 'user_message');
    assert.equal(r.events.filter((e) => e.event === 'delta').length, 0);
    const err = lastEvent(r);
    assert.equal(err.event, 'error');
    assert.equal(err.data.error.code, 'content_filtered');
    assert.ok(err.data.error.message.length > 0);
    assert.equal(err.data.error.request_id, r.headers.get('x-request-id'));
    assert.equal(err.data.message.status, 'error');
    assert.equal(err.data.message.error_code, 'content_filtered');
    const msgs = (await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`)).body.items;
    assert.deepEqual(msgs.map((m) => [m.role, m.status]), [['user', 'complete'], ['assistant', 'error']]);
    assert.equal(msgs[0].content, 'moderate me [sim:inspection]');
    // The conversation still gets a title (the first words of the question).
    const conv = (await api(alice, 'GET', `/api/v1/conversations/${c.id}`)).body;
    assert.equal(conv.title, 'moderate me [sim:inspection]');
    const calls = (await api(alice, 'GET', `/api/v1/history/calls?status=error`)).body.items
      .filter((x) => x.conversation_id === c.id);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].endpoint, 'chat');
    assert.ok(calls[0].status_code >= 400);
    assert.ok(calls[0].error_code);

    // Retry after a failed first answer: regenerate from the question id.
    const again = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages/${msgs[0].id}/regenerate`, { stream: true });
    assert.equal(lastEvent(again).event, 'error');  // the directive is still in the question
  });

  test('a stream cut upstream leaves an interrupted answer with the text so far', async () => {
    const c = await newConversation(alice);
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
      { content: 'long story please [sim:cut:6] [sim:tokens=40]', stream: true });
    const partial = deltasOf(r);
    assert.ok(partial.length > 0, 'some text arrived before the cut');
    const end = lastEvent(r);
    assert.equal(end.event, 'error');
    assert.equal(end.data.message.status, 'interrupted');
    assert.equal(end.data.message.content, partial);
    assert.ok(end.data.message.error_code);
    const stored = (await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`)).body.items[1];
    assert.equal(stored.status, 'interrupted');
    assert.equal(stored.content, partial);
    const calls = (await api(alice, 'GET', '/api/v1/history/calls')).body.items.filter((x) => x.conversation_id === c.id);
    assert.equal(calls.length, 1);
    assert.ok(calls[0].error_code);
    assert.ok(calls[0].output_tokens > 0, 'billed for what was generated');
  });

  test('a client that goes away cancels the upstream request; the answer is interrupted', async () => {
    const c = await newConversation(alice);
    const marker = `slow-${Date.now()}`;
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
      { content: `${marker} [sim:tps=8] [sim:tokens=200]`, stream: true }, { abortAfterDeltas: 2 });
    assert.ok(r.aborted);
    // The simulator saw its client (the hub) leave.
    const up = await until(async () => {
      const u = await upstreamFor(marker);
      return u && u.outcome !== 'in_flight' ? u : null;
    }, 'the upstream request to end');
    assert.equal(up.outcome, 'cancelled');
    const stats = await (await fetch(`${sim.url}/_sim/stats`)).json();
    assert.ok(stats.cancelled >= 1);
    // The answer is stored as interrupted with what had been generated.
    const a = await until(async () => {
      const items = (await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`)).body.items;
      return items.find((m) => m.role === 'assistant');
    }, 'the interrupted answer');
    assert.equal(a.status, 'interrupted');
    assert.ok(a.content.length > 0);
    const call0 = await until(async () => (await api(alice, 'GET', '/api/v1/history/calls')).body.items
      .find((x) => x.conversation_id === c.id), 'the api_calls row');
    assert.equal(call0.status_code, 499);
    assert.equal(call0.error_code, 'client_closed');
  });

  test('heartbeat comments keep a silent stream alive', async () => {
    const c = await newConversation(alice, { title: 'has a title already' });
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`,
      { content: `wait for it [sim:ttft=${HEARTBEAT_MS * 5}]`, stream: true });
    assert.equal(lastEvent(r).event, 'done');
    assert.ok(r.comments.length >= 2, `keep-alive comments: ${r.comments.length}`);
    // The comments came before the first delta.
    assert.ok(r.raw.indexOf(': keep-alive') < r.raw.indexOf('event: delta'));
  });

  test('regenerate replaces the last answer and keeps the old one as a sibling', async () => {
    const c = await newConversation(alice);
    const first = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'Name a colour', stream: true });
    const q = first.events[0].data.message;
    const a1 = lastEvent(first).data.message;
    const second = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'Name a fruit', stream: true });
    const q2 = second.events[0].data.message;
    const a2 = lastEvent(second).data.message;

    // Only the last answer may be regenerated.
    const old = await api(alice, 'POST', `/api/v1/conversations/${c.id}/messages/${a1.id}/regenerate`, { stream: true });
    assert.equal(old.status, 409);

    const regen = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages/${a2.id}/regenerate`,
      { stream: true, parameters: { temperature: 1.5 } });
    assert.equal(regen.status, 200);
    assert.equal(regen.events[0].event, 'user_message');
    assert.equal(regen.events[0].data.message.id, q2.id);
    const a3 = lastEvent(regen).data.message;
    assert.equal(lastEvent(regen).event, 'done');
    assert.notEqual(a3.id, a2.id);
    assert.equal(a3.parent_id, q2.id);
    assert.equal(a3.content, deltasOf(regen));
    // The list shows the new answer in place of the old one.
    const shown = (await api(alice, 'GET', `/api/v1/conversations/${c.id}/messages`)).body.items.map((m) => m.id);
    assert.deepEqual(shown, [q.id, a1.id, q2.id, a3.id]);
    // The upstream got the history up to the question, without the replaced answer.
    const reqs = (await chatRequests()).filter((r) => JSON.stringify(r.body.messages).includes('Name a fruit'));
    const last = reqs[reqs.length - 1];
    assert.equal(last.body.temperature, 1.5);
    assert.deepEqual(last.body.messages.map((m) => m.content), ['Name a colour', a1.content, 'Name a fruit']);
    // The user message id is accepted as well; the old answers stay in the export.
    const again = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages/${q2.id}/regenerate`, { stream: true });
    assert.equal(lastEvent(again).event, 'done');
    assert.equal(lastEvent(again).data.message.parent_id, q2.id);
    assert.equal((await api(alice, 'POST', `/api/v1/conversations/${c.id}/messages/00000000-0000-7000-8000-000000000000/regenerate`, { stream: true })).status, 404);
  });

  test('another user\'s conversation is 404 for every verb, exactly like a missing one', async () => {
    const c = await newConversation(alice, { title: 'Alice private' });
    const turn = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'private words', stream: true });
    const mid = lastEvent(turn).data.message.id;
    const missing = '00000000-0000-7000-8000-000000000000';
    const verbs = (id, m) => [
      ['GET', `/api/v1/conversations/${id}`],
      ['PATCH', `/api/v1/conversations/${id}`, { title: 'mine now' }],
      ['DELETE', `/api/v1/conversations/${id}`],
      ['GET', `/api/v1/conversations/${id}/messages`],
      ['POST', `/api/v1/conversations/${id}/messages`, { content: 'hello', stream: true }],
      ['POST', `/api/v1/conversations/${id}/messages`, { content: 'hello' }],
      ['POST', `/api/v1/conversations/${id}/messages/${m}/regenerate`, { stream: true }],
      ['GET', `/api/v1/conversations/${id}/export?format=json`],
      ['GET', `/api/v1/conversations/${id}/export?format=markdown`],
    ];
    const foreign = verbs(c.id, mid);
    const absent = verbs(missing, missing);
    for (let i = 0; i < foreign.length; i += 1) {
      const [method, p, body] = foreign[i];
      const r = await api(bob, method, p, body);
      const r2 = await api(bob, absent[i][0], absent[i][1], absent[i][2]);
      assert.equal(r.status, 404, `${method} ${p}`);
      assert.equal(r2.status, 404, `${method} missing`);
      assert.equal(r.body.error.code, r2.body.error.code, `${method} ${p}: same code as missing`);
      assert.equal(r.body.error.message, r2.body.error.message);
    }
    // Bob's own conversation with Alice's message id: still 404.
    const own = await newConversation(bob);
    assert.equal((await api(bob, 'POST', `/api/v1/conversations/${own.id}/messages/${mid}/regenerate`, { stream: true })).status, 404);
    // Nothing of Alice's changed, and Bob's search does not find it.
    const still = await api(alice, 'GET', `/api/v1/conversations/${c.id}`);
    assert.equal(still.body.title, 'Alice private');
    assert.equal(still.body.message_count, 2);
    assert.equal((await api(bob, 'GET', '/api/v1/conversations?q=private')).body.items.length, 0);
  });

  test('q= searches titles and message text', async () => {
    const u = await newUser(hub.url);
    const a = await newConversation(u, { title: 'Quantum computing notes' });
    const b = await newConversation(u, { title: 'Garden' });
    const r = await stream(hub.url, u.token, `/api/v1/conversations/${b.id}/messages`,
      { content: 'echo how does photosynthesis work in 叶绿体', stream: true });
    assert.equal(lastEvent(r).event, 'done');
    const search = async (q) => (await api(u, 'GET', `/api/v1/conversations?q=${encodeURIComponent(q)}`)).body.items.map((x) => x.id);
    assert.deepEqual(await search('quantum'), [a.id]);
    assert.deepEqual(await search('photosynthesis'), [b.id]);
    assert.deepEqual(await search('PHOTOSYN'), [b.id]);
    assert.deepEqual(await search('叶绿体'), [b.id]);
    assert.deepEqual(await search('photosynthesis garden'), [b.id]);
    assert.deepEqual(await search('nothing-like-this'), []);
    assert.deepEqual(await search('"quantum'), []);
    // On SQLite a turn only queues its messages for the search index, which the hub fills in
    // the background: the queue drains by itself, and search answers the same from the index.
    if (!USE_MYSQL) {
      await waitFor(async () => (await queryDb(hub.dataDir,
        'SELECT count(*) AS n FROM messages_fts_pending'))[0].n === 0, 'the search queue to drain', 15000);
      const indexed = await queryDb(hub.dataDir,
        "SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH '\"photosynthesis\"'");
      assert.equal(indexed[0].n, 2);  // the question and the answer that echoes it
      assert.deepEqual(await search('photosynthesis'), [b.id]);
      assert.deepEqual(await search('PHOTOSYN'), [b.id]);
      assert.deepEqual(await search('叶绿体'), [b.id]);
    }
  });

  test('export as Markdown and JSON', async () => {
    const c = await newConversation(alice, { title: 'Export me', system_prompt: 'Answer in one line.' });
    const r = await stream(hub.url, alice.token, `/api/v1/conversations/${c.id}/messages`, { content: 'echo exported text', stream: true });
    assert.equal(lastEvent(r).event, 'done');
    const md = await fetch(`${hub.url}/api/v1/conversations/${c.id}/export?format=markdown`, { headers: { Authorization: `Bearer ${alice.token}` } });
    assert.equal(md.status, 200);
    assert.match(md.headers.get('content-type'), /^text\/markdown/);
    assert.match(md.headers.get('content-disposition'), /attachment; filename="Export-me\.md"/);
    const text = await md.text();
    assert.ok(text.startsWith('# Export me\n'), text.slice(0, 80));
    assert.ok(text.includes('## System prompt\n\nAnswer in one line.'));
    assert.ok(text.includes('## User'));
    assert.ok(text.includes('## Assistant (qwen-plus)'));
    assert.equal(text.split('echo exported text').length - 1, 2, 'question and answer');

    const js = await api(alice, 'GET', `/api/v1/conversations/${c.id}/export?format=json`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-disposition'), /Export-me\.json/);
    assert.equal(js.body.conversation.id, c.id);
    assert.equal(js.body.conversation.title, 'Export me');
    assert.deepEqual(js.body.messages.map((m) => [m.role, m.content]), [['user', 'echo exported text'], ['assistant', 'echo exported text']]);
    assert.equal((await api(alice, 'GET', `/api/v1/conversations/${c.id}/export?format=pdf`)).status, 400);
  });

  test('every upstream call has an api_calls row with tokens, cost and the upstream request id', async () => {
    const u = await newUser(hub.url);
    const c = await newConversation(u);
    const r = await stream(hub.url, u.token, `/api/v1/conversations/${c.id}/messages`, { content: 'Count the stars', stream: true });
    const a = lastEvent(r).data.message;
    const calls = (await api(u, 'GET', '/api/v1/history/calls')).body;
    assert.equal(calls.items.length, 2, JSON.stringify(calls.items.map((x) => x.endpoint)));  // the answer and the title
    const chat = calls.items.find((x) => x.endpoint === 'chat');
    const title = calls.items.find((x) => x.endpoint === 'chat.title');
    assert.ok(title, 'the title call is recorded too');
    assert.equal(chat.user_id, u.user.id);
    assert.equal(chat.conversation_id, c.id);
    assert.equal(chat.model, 'qwen-plus');
    assert.equal(chat.status_code, 200);
    assert.equal(chat.error_code, null);
    assert.equal(chat.input_tokens, a.input_tokens);
    assert.equal(chat.output_tokens, a.output_tokens);
    // qwen-plus: 0.0008 CNY / 1K input, 0.002 CNY / 1K output; micro-CNY = tokens x price x 1000.
    assert.equal(chat.cost_micro_cny, Math.round(chat.input_tokens * 0.8 + chat.output_tokens * 2));
    assert.ok(chat.latency_ms >= 0);
    assert.ok(chat.first_token_ms !== null && chat.first_token_ms <= chat.latency_ms);
    // The upstream request id is the simulator's.
    const up = await upstreamFor('Count the stars');
    assert.equal(chat.upstream_request_id, up.request_id);
    // The sim's usage: what the simulator counted is what we stored.
    assert.ok(chat.input_tokens > 0 && chat.output_tokens > 0);

    const stats = (await api(u, 'GET', '/api/v1/history/stats?group_by=model')).body;
    assert.equal(stats.totals.calls, 2);
    assert.equal(stats.totals.input_tokens, calls.items.reduce((s, x) => s + x.input_tokens, 0));
    assert.equal(stats.totals.cost_micro_cny, calls.items.reduce((s, x) => s + x.cost_micro_cny, 0));
    assert.ok(stats.groups.some((g) => g.key === 'qwen-plus'));
    // Own history only; another user's id is refused for a plain user.
    assert.equal((await api(u, 'GET', `/api/v1/history/calls?user_id=${alice.user.id}`)).status, 403);
    assert.equal((await api(u, 'GET', '/api/v1/history/calls?status=bogus')).status, 400);
    assert.equal((await api(u, 'GET', '/api/v1/history/stats?group_by=week')).status, 400);
  });

  test('a JSON-answer turn asks upstream for a whole answer and stores what a streamed turn stores', async () => {
    const u = await newUser(hub.url);
    const streamedConv = await newConversation(u, { title: 'streamed' });
    const wholeConv = await newConversation(u, { title: 'whole' });
    const question = 'Describe the tide [sim:tokens=24]';
    const s = await stream(hub.url, u.token, `/api/v1/conversations/${streamedConv.id}/messages`, { content: question, stream: true });
    assert.equal(lastEvent(s).event, 'done');
    const streamed = lastEvent(s).data.message;
    const w = await api(u, 'POST', `/api/v1/conversations/${wholeConv.id}/messages`, { content: question, stream: false });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    const whole = w.body.message;
    // The upstream requests: streamed with usage asked for, and a whole answer.
    const ups = (await chatRequests()).filter((r) => r.body?.messages?.at(-1)?.content === question);
    assert.equal(ups.length, 2);
    assert.equal(ups[0].body.stream, true);
    assert.deepEqual(ups[0].body.stream_options, { include_usage: true });
    assert.equal(ups[1].body.stream, false);
    assert.equal(ups[1].body.stream_options, undefined);
    assert.deepEqual(ups[1].body.messages, ups[0].body.messages);
    // The same answer, tokens and status stored either way, and the same api_calls figures.
    assert.equal(whole.content, streamed.content);
    assert.equal(whole.status, 'complete');
    assert.equal(whole.input_tokens, streamed.input_tokens);
    assert.equal(whole.output_tokens, streamed.output_tokens);
    assert.equal(w.body.conversation.id, wholeConv.id);
    assert.equal(w.body.conversation.updated_at, whole.created_at, 'the conversation row is the one the answer bumped');
    const stored = (await api(u, 'GET', `/api/v1/conversations/${wholeConv.id}/messages`)).body.items;
    assert.deepEqual(stored.map((m) => [m.role, m.content]), [['user', question], ['assistant', streamed.content]]);
    const calls = (await api(u, 'GET', '/api/v1/history/calls')).body.items.filter((x) => x.endpoint === 'chat');
    assert.equal(calls.length, 2);
    const byConv = Object.fromEntries(calls.map((x) => [x.conversation_id, x]));
    for (const k of ['status_code', 'input_tokens', 'output_tokens', 'cost_micro_cny', 'model']) {
      assert.equal(byConv[wholeConv.id][k], byConv[streamedConv.id][k], k);
    }
    assert.equal(byConv[wholeConv.id].upstream_request_id, ups[1].request_id);
    // A thinking call streams upstream even for a JSON answer (thinking is stream-only).
    const t = await api(u, 'POST', `/api/v1/conversations/${wholeConv.id}/messages`,
      { content: 'Think about tides', stream: false, parameters: { enable_thinking: true } });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    assert.ok(t.body.message.reasoning.length > 0);
    assert.equal((await upstreamFor('Think about tides')).body.stream, true);
  });
});

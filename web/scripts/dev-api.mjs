#!/usr/bin/env node
// A stand-in for the hub's /api/v1 with canned data, for working on the UI
// without the server: `node scripts/dev-api.mjs` then `HUB_URL=http://127.0.0.1:8099 npm run dev`.
// It is not the hub and checks nothing; the hub's API documentation is the contract.
//
// Special inputs: sign in as "disabled" (403) or "limited" (429); the password
// "wrong" fails (401). In chat, a message containing "!error", "!filter",
// "!busy" or "!limit" produces that failure; "!slow" streams slowly.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const PORT = Number(process.env.PORT ?? 8099);
const now = () => new Date().toISOString();
const ago = (min) => new Date(Date.now() - min * 60_000).toISOString();

const user = {
  id: 'u-1', username: 'alice', email: 'alice@example.com', display_name: 'Alice Zhang',
  role: 'admin', status: 'active', settings: {}, created_at: ago(60 * 24 * 40),
};
const models = [
  { id: 'qwen-plus', kind: 'chat', context_window: 131072, prices: {}, enabled: true },
  { id: 'qwen-max', kind: 'chat', context_window: 32768, prices: {}, enabled: true },
  { id: 'qwen-turbo', kind: 'chat', context_window: 1000000, prices: {}, enabled: true },
  { id: 'qwq-plus', kind: 'chat', context_window: 131072, prices: {}, enabled: true },
  { id: 'qwen-vl-plus', kind: 'vision', context_window: 32768, prices: {}, enabled: true },
  { id: 'wanx2.1-t2i-turbo', kind: 'image', context_window: null, prices: {}, enabled: true },
];
const sessions = [
  { id: 's-1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', ip: '127.0.0.1', created_at: ago(30), last_used_at: ago(1), current: true },
  { id: 's-2', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', ip: '10.0.0.8', created_at: ago(60 * 26), last_used_at: ago(60 * 3) },
];

const SAMPLE = [
  'Here is a quick answer with **Markdown**, a [link](https://example.com) and a table:',
  '',
  '| Model | Context |',
  '| --- | --- |',
  '| qwen-plus | 131k |',
  '| qwen-turbo | 1M |',
  '',
  '```python',
  'def merge(a, b):',
  '    """Merge two sorted lists."""',
  '    out, i, j = [], 0, 0',
  '    while i < len(a) and j < len(b):',
  '        if a[i] <= b[j]:',
  '            out.append(a[i]); i += 1',
  '        else:',
  '            out.append(b[j]); j += 1',
  '    return out + a[i:] + b[j:]',
  '```',
  '',
  'Raw HTML such as <script>alert(1)</script> and [a bad link](javascript:alert(1)) is never rendered.',
].join('\n');

const conversations = new Map();
const messages = new Map();
function addConversation(title, minutesAgo, { pinned = false, count = 2, model = 'qwen-plus' } = {}) {
  const id = randomUUID();
  const c = { id, title, model, system_prompt: '', pinned, archived: false, created_at: ago(minutesAgo + 5), updated_at: ago(minutesAgo) };
  conversations.set(id, c);
  const list = [];
  for (let i = 0; i < count; i += 2) {
    const q = { id: randomUUID(), conversation_id: id, role: 'user', content: count > 10 ? `Question number ${i / 2 + 1}` : 'Show me how to merge two sorted lists in Python.', model, status: 'complete', input_tokens: 12, output_tokens: 0, parent_id: null, created_at: ago(minutesAgo + 1) };
    const a = { id: randomUUID(), conversation_id: id, role: 'assistant', content: count > 10 ? `Answer number ${i / 2 + 1}. ${'Lorem ipsum dolor sit amet. '.repeat((i % 7) + 1)}` : SAMPLE, reasoning: count > 10 ? null : 'The user wants a merge function; two pointers is the classic approach.', model, status: 'complete', input_tokens: 20, output_tokens: 180, parent_id: q.id, created_at: ago(minutesAgo) };
    list.push(q, a);
  }
  messages.set(id, list);
  return c;
}
addConversation('Merge sorted lists in Python', 3, { pinned: true });
addConversation('A very long conversation (1,200 messages)', 20, { count: 1200 });
addConversation('Trip ideas for Hangzhou', 60);
addConversation('解释 HTTPS 的工作原理', 120);
for (let i = 0; i < 45; i += 1) addConversation(`Older conversation ${i + 1}`, 200 + i * 90);

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-Id': randomUUID(), ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
};
const fail = (res, status, code, message, headers) =>
  send(res, status, { error: { code, message, request_id: randomUUID() } }, headers);
const readBody = (req) =>
  new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      try { resolve(data ? JSON.parse(data) : {}); } catch { resolve({}); }
    });
  });
const tokens = () => ({
  access_token: `dev.${randomUUID()}`, token_type: 'Bearer', expires_in: 900, refresh_token: randomUUID(), user,
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const summary = (c) => {
  const list = messages.get(c.id) ?? [];
  return { ...c, message_count: list.length, input_tokens: list.reduce((n, m) => n + m.input_tokens, 0), output_tokens: list.reduce((n, m) => n + m.output_tokens, 0) };
};

async function stream(req, res, c, body, regenerateOf) {
  const list = messages.get(c.id);
  const text = body.content ?? '';
  if (text.includes('!limit')) return fail(res, 429, 'rate_limited', 'Too many requests', { 'Retry-After': '20' });
  if (text.includes('!busy')) return fail(res, 503, 'upstream_unavailable', 'Upstream unavailable');
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  let closed = false;
  res.on('close', () => { closed = true; });
  const ev = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let parent;
  if (regenerateOf) {
    parent = list.find((m) => m.id === regenerateOf.parent_id) ?? null;
  } else {
    parent = { id: randomUUID(), conversation_id: c.id, role: 'user', content: text, model: body.model ?? c.model, status: 'complete', input_tokens: 10, output_tokens: 0, parent_id: null, created_at: now() };
    list.push(parent);
    ev('user_message', { message: parent });
  }
  res.write(': heartbeat\n\n');
  const answer = { id: randomUUID(), conversation_id: c.id, role: 'assistant', content: '', reasoning: '', model: body.model ?? c.model, status: 'streaming', input_tokens: 40, output_tokens: 0, parent_id: parent?.id ?? null, created_at: now() };
  const slow = (parent?.content ?? '').includes('!slow');
  const delay = slow ? 120 : 25;
  if (body.parameters?.enable_thinking) {
    for (const w of 'Let me think about this step by step. First, what is being asked? Then, what is the simplest correct answer?'.split(/(?<= )/)) {
      if (closed) break;
      answer.reasoning += w;
      ev('delta', { reasoning: w });
      await sleep(delay);
    }
  }
  const reply = (parent?.content ?? '').includes('!error') || (parent?.content ?? '').includes('!filter') ? 'Partial answer before the failure…' : SAMPLE;
  for (const w of reply.split(/(?<=[ \n])/)) {
    if (closed) break;
    answer.content += w;
    answer.output_tokens += 1;
    ev('delta', { content: w });
    await sleep(delay);
  }
  const finish = (status) => {
    answer.status = status;
    if (regenerateOf) list.splice(list.indexOf(regenerateOf), 1, answer);
    else list.push(answer);
    c.updated_at = now();
    if (!c.title) c.title = (parent?.content ?? 'New chat').slice(0, 40);
  };
  if (closed) return finish('interrupted');
  if ((parent?.content ?? '').includes('!error')) {
    answer.error_code = 'upstream_error';
    finish('error');
    ev('error', { error: { code: 'upstream_error', message: 'Upstream closed the stream' } });
  } else if ((parent?.content ?? '').includes('!filter')) {
    answer.error_code = 'content_filtered';
    finish('error');
    ev('error', { error: { code: 'content_filtered', message: 'Output data may contain inappropriate content.' } });
  } else {
    finish('complete');
    ev('done', { message: answer });
  }
  res.end();
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const m = req.method;
  if (path === '/readyz') return send(res, 200, { status: 'ready', demo_mode: true });
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  if (!path.startsWith('/api/v1/')) return fail(res, 404, 'not_found', 'Not found');
  const p = path.slice('/api/v1'.length);
  const body = m === 'GET' || m === 'DELETE' ? {} : await readBody(req);

  if (p === '/auth/refresh' && m === 'POST') {
    if (!/hub_rt=/.test(req.headers.cookie ?? '') && !process.env.DEV_API_SIGNED_IN) return fail(res, 401, 'unauthenticated', 'No session');
    return send(res, 200, tokens());
  }
  if (p === '/auth/login' && m === 'POST') {
    if (body.username === 'limited') return fail(res, 429, 'rate_limited', 'Too many attempts', { 'Retry-After': '30' });
    if (body.username === 'disabled') return fail(res, 403, 'account_disabled', 'Account disabled');
    if (body.password === 'wrong') return fail(res, 401, 'invalid_credentials', 'Invalid credentials');
    return send(res, 200, tokens(), { 'Set-Cookie': 'hub_rt=dev; HttpOnly; SameSite=Strict; Path=/api/v1/auth' });
  }
  if (p === '/auth/register' && m === 'POST') {
    if (body.username === 'taken') return fail(res, 409, 'username_taken', 'Username taken');
    if (body.email === 'taken@example.com') return fail(res, 409, 'email_taken', 'Email taken');
    return send(res, 201, { user: { ...user, username: body.username, email: body.email } });
  }
  if (p === '/auth/logout') return send(res, 204, undefined, { 'Set-Cookie': 'hub_rt=; Max-Age=0; Path=/api/v1/auth' });
  if (!(req.headers.authorization ?? '').startsWith('Bearer ')) return fail(res, 401, 'unauthenticated', 'Missing token');

  if (p === '/auth/sessions') return send(res, 200, { items: sessions, next_cursor: null });
  if (p.startsWith('/auth/sessions/') && m === 'DELETE') {
    const i = sessions.findIndex((s) => s.id === p.split('/').pop());
    if (i >= 0) sessions.splice(i, 1);
    return send(res, 204);
  }
  if (p === '/users/me' && m === 'GET') return send(res, 200, user);
  if (p === '/users/me' && m === 'PATCH') {
    if (typeof body.display_name === 'string') user.display_name = body.display_name;
    if (body.settings) user.settings = body.settings;
    return send(res, 200, user);
  }
  if (p === '/users/me/password') {
    if (body.current_password === 'wrong') return fail(res, 401, 'invalid_credentials', 'Wrong password');
    return send(res, 204);
  }
  if (p === '/models') return send(res, 200, { items: models, next_cursor: null });

  if (p === '/conversations' && m === 'GET') {
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const limit = Number(url.searchParams.get('limit') ?? 20);
    const offset = Number(url.searchParams.get('cursor') ?? 0);
    const all = [...conversations.values()]
      .filter((c) => !q || (c.title ?? '').toLowerCase().includes(q) || (messages.get(c.id) ?? []).some((x) => x.content.toLowerCase().includes(q)))
      .sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.updated_at.localeCompare(a.updated_at));
    const items = all.slice(offset, offset + limit);
    await sleep(150);
    return send(res, 200, { items, next_cursor: offset + limit < all.length ? String(offset + limit) : null });
  }
  if (p === '/conversations' && m === 'POST') {
    const c = { id: randomUUID(), title: body.title ?? null, model: body.model ?? 'qwen-plus', system_prompt: body.system_prompt ?? '', pinned: false, archived: false, created_at: now(), updated_at: now() };
    conversations.set(c.id, c);
    messages.set(c.id, []);
    return send(res, 201, c);
  }
  const parts = p.split('/').filter(Boolean);
  if (parts[0] === 'conversations' && parts[1]) {
    const c = conversations.get(parts[1]);
    if (!c) return fail(res, 404, 'not_found', 'Conversation not found');
    if (parts.length === 2 && m === 'GET') return send(res, 200, summary(c));
    if (parts.length === 2 && m === 'PATCH') {
      for (const k of ['title', 'pinned', 'archived', 'model', 'system_prompt']) if (k in body) c[k] = body[k];
      c.updated_at = now();
      return send(res, 200, summary(c));
    }
    if (parts.length === 2 && m === 'DELETE') {
      conversations.delete(c.id);
      return send(res, 204);
    }
    if (parts[2] === 'export') {
      const list = messages.get(c.id);
      if (url.searchParams.get('format') === 'json') return send(res, 200, { conversation: c, messages: list });
      res.writeHead(200, { 'Content-Type': 'text/markdown', 'Content-Disposition': `attachment; filename="${c.id}.md"` });
      return res.end(`# ${c.title}\n\n${list.map((x) => `**${x.role}**: ${x.content}`).join('\n\n')}\n`);
    }
    if (parts[2] === 'messages' && parts.length === 3 && m === 'GET') {
      const list = messages.get(c.id);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const before = url.searchParams.get('before');
      const end = before ? Number(before) : list.length;
      const start = Math.max(0, end - limit);
      await sleep(200);
      return send(res, 200, { items: list.slice(start, end), next_cursor: start > 0 ? String(start) : null });
    }
    if (parts[2] === 'messages' && parts.length === 3 && m === 'POST') return stream(req, res, c, body, null);
    if (parts[2] === 'messages' && parts[4] === 'regenerate') {
      const old = messages.get(c.id).find((x) => x.id === parts[3]);
      if (!old) return fail(res, 404, 'not_found', 'Message not found');
      return stream(req, res, c, body, old);
    }
  }
  return fail(res, 404, 'not_found', 'Not found');
});

server.listen(PORT, '127.0.0.1', () => console.log(`dev API on http://127.0.0.1:${PORT}`));

// Injection: SQL metacharacters in every string a client sends (and in the Authorization
// header), CR/LF where a value could be echoed into a response header, and CR/LF in values
// that reach the log. Every attempt gets a clean answer, leaks nothing, and the database keeps
// working.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, login, register, uniqueName } from '../support/api.mjs';
import { parseRawResponse, queryDb, rawRequest, startHubWithSim, tableNames, USE_MYSQL } from '../support/hub.mjs';
import { api, assertJsonLines, assertNoSecretInLogs, FAST_ENV, keep, user } from './common.mjs';

const SQL = [
  "' OR 1=1--", "' OR '1'='1", "admin'--", "\"; DROP TABLE users;--", "'); DELETE FROM sessions;--",
  "' UNION SELECT password_hash, 1, 1 FROM users--", "1; SELECT sqlite_version()", "%' OR '%'='", '%', '_', '\\',
  "\\'; --", '" OR ""="', "x' AND (SELECT count(*) FROM sqlite_master) > 0 --", '"NEAR(a b)" OR title:*', "''''", '\u0000',
];
// What a database error or a stack trace would show.
const LEAK = /sqlite|syntax error|SQL logic|no such (table|column)|prepare|unrecognized token|std::|exception|password_hash|\$2b\$/i;

function clean(r, what) {
  assert.ok(r.status < 500, `${what} -> ${r.status} ${JSON.stringify(r.body)}`);
  // The payloads themselves may come back as stored text; anything else matching is a leak.
  let text = JSON.stringify(r.body ?? '');
  for (const p of [...SQL].sort((a, b) => b.length - a.length)) {
    if (p.length > 3) text = text.split(JSON.stringify(p).slice(1, -1)).join('');
  }
  assert.ok(!LEAK.test(text), `${what} leaked: ${text.slice(0, 300)}`);
}

describe('injection', () => {
  let env;
  let victim;
  let attacker;
  let as;
  before(async () => {
    env = await startHubWithSim({ env: { ...FAST_ENV, BAILIAN_HUB_TRUSTED_PROXIES: '127.0.0.1' } });
    victim = await user(env.url, { username: uniqueName('victim') });
    attacker = await user(env.url);
    as = api(env.url, attacker);
  });
  after(async () => { await env?.stop(); });

  test('SQL metacharacters in registration fields are refused or stored as plain text', async () => {
    for (const p of SQL) {
      for (const field of ['username', 'email', 'password', 'display_name']) {
        const fields = { username: uniqueName('sqli'), password: 'Long-Enough-Pass-42' };
        fields[field] = field === 'password' ? `Pw-${p}-long-enough-9` : p;
        const r = await register(env.url, fields);
        clean(r, `register ${field}=${JSON.stringify(p)}`);
        if (r.status === 201) {
          keep(fields.password);
          assert.equal(r.body.user[field === 'password' ? 'username' : field] ?? null, field === 'password' ? fields.username : (field === 'email' ? r.body.user.email : p));
          if (field === 'password') assert.equal((await login(env.url, fields.username, fields.password)).status, 200, 'the odd password works as itself');
        } else {
          assert.ok([400, 409].includes(r.status), `${field}=${JSON.stringify(p)} -> ${r.status}`);
        }
      }
    }
  });

  test('SQL metacharacters in login never sign anyone in', async () => {
    const names = [victim.username, `${victim.username}'--`, `${victim.username}' OR '1'='1`, `${victim.username}'/*`, "' OR 1=1--", `${victim.username}@example.com' --`];
    for (const username of names) {
      for (const password of ["' OR 1=1--", "' OR '1'='1", 'x" OR "1"="1', '*']) {
        const r = await call(env.url, 'POST', '/api/v1/auth/login', { body: { username, password } });
        clean(r, `login ${username}/${password}`);
        assert.ok([400, 401].includes(r.status), `login ${username} / ${password} -> ${r.status}`);
        assert.ok(!r.body.access_token);
      }
    }
  });

  test('SQL metacharacters in conversation titles, prompts, messages and key names come back unchanged', async () => {
    for (const p of SQL) {
      const c = await as('POST', '/api/v1/conversations', { title: `t ${p}`, system_prompt: `s ${p}` });
      clean(c, `title ${p}`);
      if (/[\u0000-\u001f]/.test(p)) {
        assert.equal(c.status, 400, 'control characters are refused');
        continue;
      }
      assert.equal(c.status, 201);
      assert.equal(c.body.title, `t ${p}`);
      const patched = await as('PATCH', `/api/v1/conversations/${c.body.id}`, { title: `p ${p}` });
      clean(patched, `patch ${p}`);
      assert.equal(patched.body.title, `p ${p}`);
      const k = await as('POST', '/api/v1/api-keys', { name: `k ${p}` });
      clean(k, `key name ${p}`);
      if (k.status === 201) {
        keep(k.body.key);
        assert.equal(k.body.name, `k ${p}`);
        assert.equal((await as('DELETE', `/api/v1/api-keys/${k.body.id}`)).status, 204);
      } else {
        assert.equal(k.status, 400);
      }
    }
    const c = await as('POST', '/api/v1/conversations', { title: 'messages' });
    for (const p of SQL.slice(0, 6)) {
      const m = await as('POST', `/api/v1/conversations/${c.body.id}/messages`, { content: `m ${p}` });
      clean(m, `message ${p}`);
      assert.equal(m.status, 201);
      assert.equal(m.body.user_message.content, `m ${p}`);
    }
    const model = await as('POST', `/api/v1/conversations/${c.body.id}/messages`, { content: 'x', model: "qwen-plus' OR 1=1--" });
    clean(model, 'model');
    assert.ok([400, 404, 422].includes(model.status), `model -> ${model.status}`);
  });

  test('SQL and LIKE metacharacters in search queries match only themselves, only the caller\'s own rows', async () => {
    const owner = await user(env.url);
    const os = api(env.url, owner);
    await os('POST', '/api/v1/conversations', { title: 'alpha plain' });
    await os('POST', '/api/v1/conversations', { title: 'beta 100% sure' });
    await api(env.url, victim)('POST', '/api/v1/conversations', { title: 'victim secret title' });
    for (const p of [...SQL, '"', '*', 'title:', 'AND', 'OR NOT', '(', ')', 'NEAR(', '^', '\'"\'"']) {
      const r = await os('GET', `/api/v1/conversations?q=${encodeURIComponent(p)}`);
      clean(r, `search ${p}`);
      assert.equal(r.status, 200, `search ${JSON.stringify(p)} -> ${r.status}`);
      const titles = r.body.items.map((x) => x.title);
      assert.ok(!titles.includes('victim secret title'), `search ${p} crossed users`);
      if (p === '%') assert.deepEqual(titles, ['beta 100% sure'], '% is a literal, not a wildcard');
      if (p === '_') assert.deepEqual(titles, [], '_ is a literal, not a wildcard');
    }
    for (const q of ["model=' OR 1=1--", "status=' OR 1=1--", "from=' OR 1=1--", "cursor=' OR 1=1--", "limit=1;DROP TABLE api_calls"]) {
      const r = await os('GET', `/api/v1/history/calls?${q.split('=')[0]}=${encodeURIComponent(q.slice(q.indexOf('=') + 1))}`);
      clean(r, `history ${q}`);
      assert.ok([200, 400].includes(r.status), `history ${q} -> ${r.status}`);
      if (r.status === 200) assert.equal(r.body.items.length, 0);
    }
    const cur = await os('GET', `/api/v1/conversations?cursor=${encodeURIComponent("' OR 1=1--")}`);
    clean(cur, 'conversation cursor');
    assert.equal(cur.status, 400);
  });

  test('SQL in the Authorization header (the pre-auth key lookup pattern) is a clean 401', async () => {
    const values = [
      "Bearer ' OR 1=1--", "Bearer ' OR '1'='1", "Bearer bh-' OR 1=1--", `Bearer bh-${"' OR 1=1--".padEnd(48, 'x')}`,
      "Bearer sk-' UNION SELECT key_hash FROM api_keys--", `Bearer bh-${'a'.repeat(40)}'--`, "Basic ' OR 1=1--", "' OR 1=1--",
      'Bearer %', 'Bearer *', `Bearer ${'x'.repeat(9000)}`,
    ];
    for (const value of values) {
      for (const [method, path] of [['GET', '/api/v1/users/me'], ['GET', '/v1/models'], ['POST', '/v1/chat/completions'], ['GET', '/dashscope/api/v1/tasks/x']]) {
        const r = await call(env.url, method, path, { headers: { Authorization: value }, body: method === 'POST' ? { model: 'qwen-plus', messages: [{ role: 'user', content: 'hi' }] } : undefined });
        clean(r, `${path} with ${value.slice(0, 40)}`);
        assert.ok([401, 429].includes(r.status), `${method} ${path} with ${value.slice(0, 40)} -> ${r.status}`);
      }
      const x = await call(env.url, 'GET', '/v1/models', { headers: { 'x-api-key': value.replace(/^Bearer /, '') } });
      assert.ok([401, 429].includes(x.status), `x-api-key ${value.slice(0, 40)} -> ${x.status}`);
    }
  });

  test('after all of it the database is intact and still works', async () => {
    assert.equal((await login(env.url, victim.username, victim.password)).status, 200);
    assert.equal((await call(env.url, 'GET', '/api/v1/users/me', { token: victim.token })).status, 200);
    const tables = await tableNames(env.hub.dataDir);
    for (const t of ['users', 'sessions', 'api_calls', 'conversations', 'messages', 'api_keys']) assert.ok(tables.includes(t), t);
    // The storage engine's own consistency check.
    if (USE_MYSQL) {
      const checks = await queryDb(env.hub.dataDir, `CHECK TABLE ${tables.join(', ')}`);
      assert.equal(checks.length, tables.length);
      for (const c of checks) assert.equal(c.Msg_text, 'OK', JSON.stringify(c));
    } else {
      const [check] = await queryDb(env.hub.dataDir, 'PRAGMA quick_check');
      assert.equal(check.quick_check, 'ok');
    }
    const fresh = await user(env.url);
    assert.equal((await api(env.url, fresh)('POST', '/api/v1/conversations', { title: 'still fine' })).status, 201);
  });

  test('CR/LF in values that could be echoed into headers never splits the response', async () => {
    const refused = await as('POST', '/api/v1/conversations', { title: 'x\r\nSet-Cookie: injected=1' });
    assert.equal(refused.status, 400, 'control characters in a title are refused');
    const c = await as('POST', '/api/v1/conversations', { title: 'Report "Q1"; Set-Cookie: injected=1 <script>' });
    assert.equal(c.status, 201);
    const requests = [
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a%0d%0aSet-Cookie:%20injected=1\r\nConnection: close\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\u00e9\u2028b\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/conversations/%0d%0aSet-Cookie:%20injected=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${attacker.token}\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/conversations/${c.body.id}/export?format=markdown HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${attacker.token}\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/conversations/${c.body.id}/export?format=%0d%0aSet-Cookie:%20injected=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${attacker.token}\r\nConnection: close\r\n\r\n`,
      `GET /%0d%0aSet-Cookie:%20injected=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET /v1/models/%0d%0aSet-Cookie:%20injected=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${attacker.token}\r\nConnection: close\r\n\r\n`,
    ];
    for (const req of requests) {
      const { text } = await rawRequest(env.hub.port, Buffer.from(req, 'latin1'));
      const head = text.split('\r\n\r\n')[0];
      const r = parseRawResponse(text);
      assert.ok(r.status >= 200 && r.status < 500, `${req.split('\r\n')[0]} -> ${r.status}`);
      assert.ok(!/^set-cookie:\s*injected/im.test(head), `header injected by ${req.split('\r\n')[0]}:\n${head}`);
      for (const line of head.split('\r\n').slice(1)) assert.match(line, /^[A-Za-z0-9-]+: [^\r\n]*$/, `odd header line ${JSON.stringify(line)}`);
      const rid = r.headers['x-request-id'];
      assert.match(rid, /^[A-Za-z0-9._:-]{1,128}$/);
    }
    // A raw CR or LF inside a header value is malformed HTTP, not a header to echo.
    for (const bad of ['a\rSet-Cookie: injected=1', 'a\nSet-Cookie: injected=1']) {
      const { text } = await rawRequest(env.hub.port, Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${bad}\r\n\r\n`, 'latin1'));
      assert.equal(parseRawResponse(text).status, 400, JSON.stringify(bad));
      assert.ok(!/^set-cookie:\s*injected/im.test(text.split('\r\n\r\n')[0]));
    }
  });

  test('CR/LF in logged values stays inside one JSON log line', async () => {
    const forged = '{"ts":"2020-01-01T00:00:00.000Z","level":"error","msg":"forged_entry"}';
    const evil = `ghost\r\n${forged}\n`;
    await call(env.url, 'POST', '/api/v1/auth/login', { body: { username: evil, password: `pw\r\n${forged}` } });
    await register(env.url, { username: evil, display_name: evil });
    await call(env.url, 'POST', '/api/v1/auth/login', { body: { username: 'x', password: 'y' }, headers: { 'X-Forwarded-For': `203.0.113.9, ${'1'.repeat(3)}` } });
    const c = await as('POST', '/api/v1/conversations', { title: evil, model: evil });
    await as('POST', '/api/v1/conversations', { title: evil, system_prompt: evil });
    if (c.status === 201) await as('POST', `/api/v1/conversations/${c.body.id}/messages`, { content: evil, model: evil });
    await call(env.url, 'POST', '/v1/chat/completions', { token: attacker.token, body: { model: evil, messages: [{ role: 'user', content: evil }] } });
    await call(env.url, 'GET', `/api/v1/conversations/${encodeURIComponent(evil)}`, { token: attacker.token });
    await rawRequest(env.hub.port, Buffer.from(`GET /healthz%0d%0a${encodeURIComponent(forged)} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1%0a${encodeURIComponent(forged)}\r\nConnection: close\r\n\r\n`, 'latin1'));
    // The hub writes its log when it stops; then every line is read.
    await env.hub.stop();
    const lines = env.hub.logs.filter((l) => l.trim());
    assertJsonLines(lines);
    for (const line of lines) {
      assert.notEqual(JSON.parse(line).msg, 'forged_entry', 'a forged log entry became its own line');
    }
  });

  test('no secret used in this file appears in any log line', () => {
    assertNoSecretInLogs();
  });
});

// Platform API keys over real HTTP: shown once, stored as a hash, Bearer and x-api-key forms,
// revocation, expiry, model allow-list, disabled owners, JWT-only management, audit.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser } from '../support/api.mjs';
import { allLogs, databaseBytes, queryDb, runHub, startHubWithSim, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const chat = (url, credential, model = 'qwen-plus', headers = {}) => call(url, 'POST', '/v1/chat/completions', {
  headers: { ...headers, ...(credential ? { Authorization: `Bearer ${credential}` } : {}) },
  body: { model, messages: [{ role: 'user', content: 'echo ping' }] },
});

describe('platform API keys', () => {
  let env;
  let dataDir;
  let adminToken;
  const keys = [];

  before(async () => {
    dataDir = tempDir();
    const adminPassword = 'Admin-Password-Quite-Long-42';
    const created = await runHub(['admin', 'create-user', '--username', 'keys_admin', '--email', 'keys_admin@example.com',
      '--role', 'admin', '--password-stdin'], { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' },
    { input: `${adminPassword}\n` });
    created.err = created.stderr;
    assert.equal(created.code, 0, created.err);
    env = await startHubWithSim({
      dataDir,
      env: { BAILIAN_HUB_BCRYPT_COST: '10', BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000', BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '1000' },
    });
    const l = await login(env.url, 'keys_admin', adminPassword);
    assert.equal(l.status, 200);
    adminToken = l.body.access_token;
  });
  after(async () => { await env?.stop(); });

  test('a key is shown once, stored as a SHA-256 hash with an 8-character prefix', async () => {
    const u = await newUser(env.url);
    const r = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'laptop' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const key = r.body.key;
    keys.push(key);
    assert.match(key, /^bh-[A-Za-z0-9_-]{40,}$/);
    assert.equal(r.body.prefix, key.slice(0, 8));
    assert.equal(r.body.name, 'laptop');
    assert.equal(r.body.expires_at, null);
    assert.equal(r.body.last_used_at, null);
    assert.deepEqual(r.body.models, []);
    assert.equal(r.headers.get('location'), `/api/v1/api-keys/${r.body.id}`);

    const list = await call(env.url, 'GET', '/api/v1/api-keys', { token: u.token });
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    assert.equal(list.body.items[0].id, r.body.id);
    assert.equal(list.body.items[0].prefix, key.slice(0, 8));
    assert.equal(list.body.items[0].key, undefined, 'never shown again');
    assert.ok(!JSON.stringify(list.body).includes(key));

    const rows = await queryDb(dataDir, `SELECT key_hash, prefix FROM api_keys WHERE id = '${r.body.id}'`);
    assert.equal(rows[0].key_hash, crypto.createHash('sha256').update(key).digest('hex'));
    assert.equal(rows[0].prefix, key.slice(0, 8));
    // The key itself is nowhere in the database.
    const stored = await databaseBytes(dataDir);
    assert.ok(stored.includes(Buffer.from(rows[0].key_hash)), 'the dump holds the rows');
    assert.ok(!stored.includes(Buffer.from(key)));
  });

  test('Bearer and x-api-key both work; last use is recorded', async () => {
    const u = await newUser(env.url);
    const key = (await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'k' } })).body.key;
    keys.push(key);
    const bearer = await chat(env.url, key);
    assert.equal(bearer.status, 200, JSON.stringify(bearer.body));
    const xApiKey = await chat(env.url, null, 'qwen-plus', { 'x-api-key': key });
    assert.equal(xApiKey.status, 200, JSON.stringify(xApiKey.body));
    const models = await call(env.url, 'GET', '/v1/models', { headers: { 'x-api-key': key } });
    assert.equal(models.status, 200);
    const list = await call(env.url, 'GET', '/api/v1/api-keys', { token: u.token });
    assert.ok(list.body.items[0].last_used_at, 'last_used_at set');
    // Both forms reject a wrong key the same way.
    const bad = `bh-${'x'.repeat(43)}`;
    for (const r of [await chat(env.url, bad), await chat(env.url, null, 'qwen-plus', { 'x-api-key': bad })]) {
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'invalid_api_key');
    }
  });

  test('platform keys cannot use JWT-only routes, nor manage keys', async () => {
    const u = await newUser(env.url);
    const key = (await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'k' } })).body.key;
    keys.push(key);
    for (const [method, p] of [['GET', '/api/v1/api-keys'], ['POST', '/api/v1/api-keys'], ['GET', '/api/v1/users/me']]) {
      const r = await call(env.url, method, p, { token: key, body: method === 'POST' ? { name: 'x' } : undefined });
      assert.equal(r.status, 401, `${method} ${p}`);
      assert.equal(r.body.error.code, 'invalid_token');
    }
  });

  test('revoked keys stop working at once; others cannot revoke mine', async () => {
    const u = await newUser(env.url);
    const other = await newUser(env.url);
    const created = (await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'temp' } })).body;
    keys.push(created.key);
    assert.equal((await chat(env.url, created.key)).status, 200);
    const foreign = await call(env.url, 'DELETE', `/api/v1/api-keys/${created.id}`, { token: other.token });
    assert.equal(foreign.status, 404);
    assert.equal((await chat(env.url, created.key)).status, 200);
    const del = await call(env.url, 'DELETE', `/api/v1/api-keys/${created.id}`, { token: u.token });
    assert.equal(del.status, 204);
    const after = await chat(env.url, created.key);
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'invalid_api_key');
    assert.equal(after.body.error.type, 'invalid_request_error');
    assert.equal((await call(env.url, 'GET', '/api/v1/api-keys', { token: u.token })).body.items.length, 0);
    assert.equal((await call(env.url, 'DELETE', '/api/v1/api-keys/nope', { token: u.token })).status, 404);
  });

  test('an expired key is rejected', async () => {
    const u = await newUser(env.url);
    const past = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'old', expires_at: '2020-01-01T00:00:00Z' } });
    assert.equal(past.status, 400);
    const soon = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'soon', expires_at: Date.now() + 1500 } });
    assert.equal(soon.status, 201, JSON.stringify(soon.body));
    keys.push(soon.body.key);
    assert.ok(soon.body.expires_at);
    await waitFor(async () => (await chat(env.url, soon.body.key)).status === 401, 'the key to expire');
    const later = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'later', expires_in_days: 30 } });
    assert.equal(later.status, 201);
    keys.push(later.body.key);
    assert.ok(Date.parse(later.body.expires_at) > Date.now() + 29 * 86400e3);
    assert.equal((await chat(env.url, later.body.key)).status, 200);
  });

  test('a model allow-list limits chat and the model list', async () => {
    const u = await newUser(env.url);
    const r = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'turbo-only', models: ['qwen-turbo'] } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.models, ['qwen-turbo']);
    keys.push(r.body.key);
    assert.equal((await chat(env.url, r.body.key, 'qwen-turbo')).status, 200);
    const denied = await chat(env.url, r.body.key, 'qwen-plus');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'model_not_allowed');
    const models = await call(env.url, 'GET', '/v1/models', { token: r.body.key });
    assert.deepEqual(models.body.data.map((m) => m.id), ['qwen-turbo']);
    // The same user's JWT is not limited.
    assert.equal((await chat(env.url, u.token, 'qwen-plus')).status, 200);
    // Unknown models cannot be listed.
    const bad = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'x', models: ['gpt-9'] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'unknown_model');
  });

  test('input is validated', async () => {
    const u = await newUser(env.url);
    for (const body of [{}, { name: '' }, { name: 'x', extra: 1 }, { name: 'x', models: 'qwen-plus' },
      { name: 'x', expires_in_days: 0 }, { name: 'x', expires_at: 'tomorrow' }, { name: 'x'.repeat(65) }]) {
      const r = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await call(env.url, 'GET', '/api/v1/api-keys')).status, 401);
  });

  test('the key of a disabled user is rejected', async () => {
    const u = await newUser(env.url);
    const key = (await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'k' } })).body.key;
    keys.push(key);
    assert.equal((await chat(env.url, key)).status, 200);
    const p = await call(env.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { status: 'disabled' } });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    const r = await chat(env.url, key);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_api_key');
    await call(env.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { status: 'active' } });
    assert.equal((await chat(env.url, key)).status, 200);
  });

  test('creation and revocation are audited, without the key', async () => {
    const u = await newUser(env.url);
    const created = (await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'audited' } })).body;
    keys.push(created.key);
    await call(env.url, 'DELETE', `/api/v1/api-keys/${created.id}`, { token: u.token });
    const rows = await queryDb(dataDir,
      `SELECT action, target, actor_user_id, detail FROM audit_log WHERE target = 'api_key:${created.id}' ORDER BY created_at`);
    assert.deepEqual(rows.map((r) => r.action), ['api_key.created', 'api_key.revoked']);
    assert.ok(rows.every((r) => r.actor_user_id === u.user.id));
    assert.equal(JSON.parse(rows[0].detail).prefix, created.key.slice(0, 8));
    const audit = await call(env.url, 'GET', '/api/v1/admin/audit-logs?limit=200', { token: adminToken });
    assert.equal(audit.status, 200);
    for (const k of keys) assert.ok(!JSON.stringify(audit.body).includes(k));
  });

  test('no key ever reaches a log line', () => {
    const logs = [...allLogs, ...env.hub.logs].join('\n');
    for (const k of keys) assert.ok(!logs.includes(k), 'a platform key was logged');
  });
});

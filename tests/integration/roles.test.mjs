// Roles as data: an admin creates a role with a model allow-list and without images, gives it
// to a user, and that user's very next request is refused or allowed accordingly through each
// entry point (web chat, web images, /v1 with a platform key, the DashScope pass-through, the
// model lists). Editing the role takes effect at once; built-in, in-use and lockout refusals;
// a platform key never has more than its owner's role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { runHub, startHubWithSim, tempDir } from '../support/hub.mjs';

const FAST_AUTH = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
};

async function createAdmin(dataDir) {
  const r = await runHub(['admin', 'create-user', '--username', 'roles_admin', '--email', 'roles@example.com', '--role', 'admin'],
    { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' });
  assert.equal(r.code, 0, r.stderr);
  const password = /password \(shown only once\): (\S+)/.exec(r.stdout)[1];
  return { username: 'roles_admin', password };
}

describe('custom roles', () => {
  let env;
  let admin;

  const asAdmin = (method, path, body) => call(env.url, method, path, { token: admin, body });
  const chat = async (u, model) => {
    const conv = await call(env.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
    assert.equal(conv.status, 201, JSON.stringify(conv.body));
    return call(env.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`,
      { token: u.token, body: { content: 'echo hello', model, stream: false } });
  };
  const v1Chat = (key, model) => call(env.url, 'POST', '/v1/chat/completions',
    { token: key, body: { model, messages: [{ role: 'user', content: 'echo hi' }] } });
  const v1Image = (key) => call(env.url, 'POST', '/v1/images/generations',
    { token: key, body: { model: 'wanx-v1', prompt: 'a fox [sim:task-seconds=0]' } });
  const native = (key, model) => call(env.url, 'POST', '/dashscope/api/v1/services/aigc/text-generation/generation',
    { token: key, body: { model, input: { messages: [{ role: 'user', content: 'echo native' }] }, parameters: { result_format: 'message' } } });
  const webImage = (u) => call(env.url, 'POST', '/api/v1/images/generations',
    { token: u.token, body: { prompt: 'a fox [sim:task-seconds=0]', model: 'wanx-v1' } });

  before(async () => {
    const dataDir = tempDir();
    const a = await createAdmin(dataDir);
    env = await startHubWithSim({ dataDir, env: FAST_AUTH });
    const l = await call(env.url, 'POST', '/api/v1/auth/login', { body: a });
    assert.equal(l.status, 200, JSON.stringify(l.body));
    admin = l.body.access_token;
  });
  after(async () => { await env?.stop(); });

  test('the permission list and the built-in roles, seeded so nobody lost access', async () => {
    const perms = await asAdmin('GET', '/api/v1/admin/permissions');
    assert.equal(perms.status, 200);
    const names = perms.body.items.map((p) => p.name);
    for (const p of ['models:chat', 'models:images', 'models:passthrough', 'roles:manage', 'security:read'])
      assert.ok(names.includes(p), p);
    assert.ok(perms.body.items.every((p) => p.description.length > 0));
    const roles = await asAdmin('GET', '/api/v1/admin/roles');
    assert.equal(roles.status, 200);
    const user = roles.body.items.find((r) => r.name === 'user');
    assert.equal(user.builtin, true);
    assert.deepEqual(user.models, []);
    assert.equal(user.mfa_required, false);
    for (const p of ['models:chat', 'models:images', 'models:passthrough']) assert.ok(user.permissions.includes(p));
    const plain = await newUser(env.url);
    assert.equal((await call(env.url, 'GET', '/api/v1/admin/roles', { token: plain.token })).status, 403);
    assert.equal((await call(env.url, 'POST', '/api/v1/admin/roles', { token: plain.token, body: { name: 'mine' } })).status, 403);
  });

  test('a role with an allow-list and without images, through every entry point, edited at once', async () => {
    const created = await asAdmin('POST', '/api/v1/admin/roles', {
      name: 'chat-plus',
      description: 'qwen-plus chat only',
      permissions: ['conversations:own', 'history:read:own', 'api_keys:own', 'models:chat', 'models:passthrough'],
      models: ['qwen-plus'],
      mfa_required: false,  // a role that requires MFA: integration/mfa.test.mjs
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.builtin, false);
    assert.equal(created.body.mfa_required, false);

    const u = await newUser(env.url);
    const keyRes = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'ci' } });
    assert.equal(keyRes.status, 201);
    const key = keyRes.body.key;
    // Before: a plain user may call anything.
    assert.equal((await v1Chat(key, 'qwen-max')).status, 200);

    const assigned = await asAdmin('PATCH', `/api/v1/admin/users/${u.user.id}`, { role: 'chat-plus' });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    // A role change ends the user's sessions (tokens name the role): sign in again.
    assert.equal((await call(env.url, 'GET', '/api/v1/models', { token: u.token })).status, 401);
    const l = await call(env.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
    assert.equal(l.status, 200);
    assert.equal(l.body.user.role, 'chat-plus');
    const member = { ...u, token: l.body.access_token };

    // Web chat: qwen-plus yes, qwen-max 403 model_not_allowed naming the model.
    const ok = await chat(member, 'qwen-plus');
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const denied = await chat(member, 'qwen-max');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'model_not_allowed');
    assert.match(denied.body.error.message, /qwen-max/);
    // Web images: no models:images.
    const img = await webImage(member);
    assert.equal(img.status, 403);
    assert.equal(img.body.error.code, 'forbidden');
    // /v1 with the platform key (whose own list is empty): the role narrows it.
    assert.equal((await v1Chat(key, 'qwen-plus')).status, 200);
    const v1Denied = await v1Chat(key, 'qwen-max');
    assert.equal(v1Denied.status, 403);
    assert.equal(v1Denied.body.error.code, 'model_not_allowed');
    assert.match(v1Denied.body.error.message, /qwen-max/);
    assert.equal((await v1Image(key)).status, 403);
    // The pass-through.
    assert.equal((await native(key, 'qwen-plus')).status, 200);
    const nativeDenied = await native(key, 'qwen-max');
    assert.equal(nativeDenied.status, 403);
    assert.equal(nativeDenied.body.code, 'AccessDenied');
    assert.match(nativeDenied.body.message, /qwen-max/);
    // The model lists show only what may be called.
    const list = await call(env.url, 'GET', '/api/v1/models', { token: member.token });
    assert.deepEqual(list.body.items.map((m) => m.id), ['qwen-plus']);
    const v1List = await call(env.url, 'GET', '/v1/models', { token: key });
    assert.deepEqual(v1List.body.data.map((m) => m.id), ['qwen-plus']);

    // Edit the role: images allowed, allow-list widened to wanx* and qwen-max; the very next
    // requests (same tokens, same key) see it.
    const edited = await asAdmin('PATCH', '/api/v1/admin/roles/chat-plus', {
      permissions: ['conversations:own', 'history:read:own', 'api_keys:own', 'images:own', 'models:chat', 'models:images'],
      models: ['qwen-plus', 'qwen-max', 'wanx*'],
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.equal(edited.body.description, 'qwen-plus chat only');
    assert.equal((await chat(member, 'qwen-max')).status, 201);
    assert.equal((await webImage(member)).status, 202);
    assert.equal((await v1Chat(key, 'qwen-max')).status, 200);
    assert.equal((await v1Image(key)).status, 200);
    const passthroughGone = await native(key, 'qwen-plus');
    assert.equal(passthroughGone.status, 403, 'models:passthrough was taken away');
    const denied2 = await chat(member, 'qwen-turbo');
    assert.equal(denied2.status, 403);
    assert.equal(denied2.body.error.code, 'model_not_allowed');

    // Audited.
    const audit = await asAdmin('GET', '/api/v1/admin/audit-logs?target=role:chat-plus');
    assert.deepEqual(audit.body.items.map((e) => e.action), ['role.updated', 'role.created']);

    // In use: 409; built-in: 409; unknown: 404.
    const inUse = await asAdmin('DELETE', '/api/v1/admin/roles/chat-plus');
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error.code, 'role_in_use');
    assert.equal((await asAdmin('DELETE', '/api/v1/admin/roles/user')).body.error.code, 'role_builtin');
    assert.equal((await asAdmin('DELETE', '/api/v1/admin/roles/ghost')).status, 404);
    assert.equal((await asAdmin('PATCH', `/api/v1/admin/users/${u.user.id}`, { role: 'user' })).status, 200);
    assert.equal((await asAdmin('DELETE', '/api/v1/admin/roles/chat-plus')).status, 204);
  });

  test('bad input is refused with a clear error and changes nothing', async () => {
    const unknown = await asAdmin('POST', '/api/v1/admin/roles', { name: 'odd', permissions: ['root:all'] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'unknown_permission');
    assert.match(unknown.body.error.message, /models:chat/);
    assert.equal((await asAdmin('POST', '/api/v1/admin/roles', { name: 'Bad Name' })).status, 400);
    assert.equal((await asAdmin('POST', '/api/v1/admin/roles', { name: 'odd', models: ['gpt-4'] })).body.error.code, 'unknown_model');
    assert.equal((await asAdmin('POST', '/api/v1/admin/roles', { name: 'odd', extra: 1 })).status, 400);
    assert.equal((await asAdmin('POST', '/api/v1/admin/roles', { name: 'odd', mfa_required: 'yes' })).status, 400);
    const roles = await asAdmin('GET', '/api/v1/admin/roles');
    assert.ok(!roles.body.items.some((r) => r.name === 'odd'));
    assert.equal((await asAdmin('POST', '/api/v1/admin/roles', { name: 'user' })).body.error.code, 'role_exists');

    // Nobody locks the hub out: admin keeps users:manage and roles:manage.
    const lockout = await asAdmin('PATCH', '/api/v1/admin/roles/admin', { permissions: ['users:manage'] });
    assert.equal(lockout.status, 409);
    assert.equal(lockout.body.error.code, 'admin_lockout');
    assert.equal((await asAdmin('GET', '/api/v1/admin/roles')).status, 200, 'admin still manages roles');
  });

  test('a platform key never has more than its owner role has now', async () => {
    const created = await asAdmin('POST', '/api/v1/admin/roles', {
      name: 'narrow', permissions: ['api_keys:own', 'models:chat'], models: ['qwen-plus'],
    });
    assert.equal(created.status, 201);
    const u = await newUser(env.url);
    assert.equal((await asAdmin('PATCH', `/api/v1/admin/users/${u.user.id}`, { role: 'narrow' })).status, 200);
    const token = (await call(env.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } })).body.access_token;
    // A key cannot list a model the role may not call.
    const wide = await call(env.url, 'POST', '/api/v1/api-keys', { token, body: { name: 'wide', models: ['qwen-max'] } });
    assert.equal(wide.status, 403);
    assert.equal(wide.body.error.code, 'model_not_allowed');
    const k = await call(env.url, 'POST', '/api/v1/api-keys', { token, body: { name: 'ok', models: ['qwen-plus'] } });
    assert.equal(k.status, 201);
    assert.equal((await v1Chat(k.body.key, 'qwen-plus')).status, 200);
    // The role loses chat: the key (remembered by the hub for a while) loses it on its next call.
    assert.equal((await asAdmin('PATCH', '/api/v1/admin/roles/narrow', { permissions: ['api_keys:own'] })).status, 200);
    const after = await v1Chat(k.body.key, 'qwen-plus');
    assert.equal(after.status, 403);
    // A key never manages keys, even if its owner may.
    assert.equal((await call(env.url, 'GET', '/api/v1/api-keys', { token: k.body.key })).status, 401);
  });
});

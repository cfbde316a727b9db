// Accounts and access over real HTTP: registration, login, JWT attacks, refresh rotation and
// reuse detection, logout, sessions, password change, RBAC, admin, audit, brute-force limits.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser, register, STRONG_PASSWORD, uniqueName } from '../support/api.mjs';
import { allLogs, runHub, startHub, tempDir } from '../support/hub.mjs';
import { readKeyRing } from '../support/keyring.mjs';
import { sql } from '../support/seed.mjs';
import { waitFor } from '../support/wait.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

function signRs256(header, payload, privatePem) {
  const head = b64url(JSON.stringify(header));
  const body = b64url(JSON.stringify(payload));
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), privatePem);
  return `${head}.${body}.${b64url(sig)}`;
}

// Secrets seen during the run; none may ever appear in any log line.
const secrets = new Set();

describe('accounts and access', () => {
  let hub;
  let adminToken;
  let adminId;
  const adminPassword = 'Admin-Password-Quite-Long-42';

  before(async () => {
    const dataDir = tempDir();
    // The first admin comes from the command line, with its password on standard input.
    const r = await runHub(['admin', 'create-user', '--username', 'root_admin', '--email', 'root@example.com', '--role', 'admin', '--password-stdin'],
      { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' }, { input: `${adminPassword}\n` });
    const created = { code: r.code, out: r.stdout, err: r.stderr };
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /created user root_admin \(admin/);
    assert.ok(!created.out.includes(adminPassword), 'a password from stdin is never echoed');
    secrets.add(adminPassword);
    hub = await startHub({
      dataDir,
      env: {
        BAILIAN_HUB_BCRYPT_COST: '10',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
        BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
        BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
      },
    });
    const l = await login(hub.url, 'root_admin', adminPassword);
    assert.equal(l.status, 200, JSON.stringify(l.body));
    adminToken = l.body.access_token;
    adminId = l.body.user.id;
    secrets.add(adminToken);
    secrets.add(l.body.refresh_token);
  });
  after(async () => { await hub?.stop(); });

  test('register validates input and ignores fields a client may not set', async () => {
    const username = uniqueName('Reg');
    const r = await register(hub.url, { username, role: 'admin', status: 'disabled', id: 'x' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.user.username, username);
    assert.equal(r.body.user.role, 'user');
    assert.equal(r.body.user.status, 'active');
    assert.notEqual(r.body.user.id, 'x');
    assert.equal(r.body.user.password_hash, undefined);
    assert.ok(!JSON.stringify(r.body).includes('$2b$'));

    let dup = await register(hub.url, { username: username.toUpperCase(), email: `other${username}@example.com` });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'username_taken');
    dup = await register(hub.url, { username: uniqueName(), email: `${username}@EXAMPLE.com` });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'email_taken');

    const bad = [
      [{ username: 'ab' }, 'invalid_username'],
      [{ username: 'has space' }, 'invalid_username'],
      [{ username: 'x'.repeat(33) }, 'invalid_username'],
      [{ email: 'not-an-email' }, 'invalid_email'],
      [{ password: 'short1!' }, 'weak_password'],
      [{ password: 'password123' }, 'weak_password'],
      [{ password: 'a'.repeat(73) }, 'weak_password'],
    ];
    for (const [fields, code] of bad) {
      const res = await register(hub.url, { username: uniqueName(), ...fields });
      assert.equal(res.status, 400, `${JSON.stringify(fields)} -> ${res.status}`);
      assert.equal(res.body.error.code, code, JSON.stringify(res.body));
      assert.ok(res.body.error.message.length > 0);
    }
    // Exactly 72 bytes of multi-byte UTF-8 is fine; the username as password is not.
    const u = uniqueName();
    assert.equal((await register(hub.url, { username: u, password: '密'.repeat(24) })).status, 201);
    const same = uniqueName();
    assert.equal((await register(hub.url, { username: same, password: `${same}` })).status, 400);
  });

  test('bad bodies: wrong content type, broken JSON, wrong field types', async () => {
    let r = await call(hub.url, 'POST', '/api/v1/auth/register', { body: 'username=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 415);
    assert.equal(r.body.error.code, 'unsupported_media_type');
    r = await call(hub.url, 'POST', '/api/v1/auth/register', { body: '{"username": ' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_json');
    r = await call(hub.url, 'POST', '/api/v1/auth/register', { body: '{"username": "\xff"}' });
    assert.equal(r.status, 400);
    r = await call(hub.url, 'POST', '/api/v1/auth/login', { body: { username: 42, password: 'x' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'validation_failed');
    r = await call(hub.url, 'POST', '/api/v1/auth/register', { body: `${'['.repeat(500)}${']'.repeat(500)}` });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_json');
  });

  test('login returns tokens and a strict refresh cookie; wrong password and unknown user look the same', async () => {
    const u = await newUser(hub.url);
    secrets.add(u.password); secrets.add(u.token); secrets.add(u.refresh);
    assert.match(u.cookie, /^bh_refresh=[A-Za-z0-9_-]{43};/);
    assert.match(u.cookie, /HttpOnly/);
    assert.match(u.cookie, /Secure/);
    assert.match(u.cookie, /SameSite=Strict/);
    assert.match(u.cookie, /Path=\/api\/v1\/auth/);
    const wrong = await login(hub.url, u.username, 'Wrong-Password-123');
    const unknown = await login(hub.url, uniqueName('ghost'), 'Wrong-Password-123');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.error.code, unknown.body.error.code);
    assert.equal(wrong.body.error.message, unknown.body.error.message);
    const byEmail = await call(hub.url, 'POST', '/api/v1/auth/login', { body: { username: `${u.username}@example.com`.toUpperCase(), password: u.password } });
    assert.equal(byEmail.status, 200);
    secrets.add(byEmail.body.access_token); secrets.add(byEmail.body.refresh_token);
  });

  test('access tokens are RS256 JWTs with the promised claims, verifiable with JWKS', async () => {
    const u = await newUser(hub.url);
    const [h, p] = u.token.split('.');
    const header = decode(h);
    const claims = decode(p);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    for (const c of ['iss', 'aud', 'sub', 'role', 'sid', 'jti', 'iat', 'exp']) assert.ok(claims[c] !== undefined, c);
    assert.equal(claims.sub, u.user.id);
    assert.equal(claims.role, 'user');
    assert.equal(claims.exp - claims.iat, 900);
    const jwks = await call(hub.url, 'GET', '/api/v1/auth/jwks');
    assert.equal(jwks.status, 200);
    const key = jwks.body.keys.find((k) => k.kid === header.kid);
    assert.equal(key.kty, 'RSA');
    assert.ok(!('d' in key), 'no private part in JWKS');
    const pub = crypto.createPublicKey({ key, format: 'jwk' });
    const [hh, pp, ss] = u.token.split('.');
    assert.ok(crypto.verify('sha256', Buffer.from(`${hh}.${pp}`), pub, Buffer.from(ss, 'base64url')));
  });

  test('JWT attacks are all refused', async () => {
    const u = await newUser(hub.url);
    const [h, p, s] = u.token.split('.');
    const header = decode(h);
    const claims = decode(p);
    const ring = await readKeyRing(hub.dataDir);
    const priv = ring.keys.find((k) => k.kid === header.kid).private_pem;
    const pubPem = ring.keys.find((k) => k.kid === header.kid).public_pem;
    const now = Math.floor(Date.now() / 1000);
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = {
      'alg none': `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: header.kid }))}.${p}.`,
      'alg none no sig': `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}`,
      'HS256 with the public key as secret': (() => {
        const hd = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: header.kid }));
        const mac = crypto.createHmac('sha256', pubPem).update(`${hd}.${p}`).digest();
        return `${hd}.${p}.${b64url(mac)}`;
      })(),
      'unknown kid': signRs256({ ...header, kid: 'not-a-key' }, claims, other.privateKey),
      'signed by another key': signRs256(header, claims, other.privateKey),
      expired: signRs256(header, { ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 1800 }, priv),
      'not yet valid': signRs256(header, { ...claims, nbf: now + 3600, exp: now + 4000 }, priv),
      'wrong issuer': signRs256(header, { ...claims, iss: 'evil' }, priv),
      'wrong audience': signRs256(header, { ...claims, aud: 'someone-else' }, priv),
      'payload changed after signing': `${h}.${b64url(JSON.stringify({ ...claims, role: 'admin' }))}.${s}`,
      'signature stripped': `${h}.${p}.`,
      garbage: 'not.a.jwt',
      'bad base64': `${h}.${p}.!!!`,
    };
    for (const [name, token] of Object.entries(forged)) {
      const r = await call(hub.url, 'GET', '/api/v1/users/me', { token });
      assert.equal(r.status, 401, `${name} -> ${r.status}`);
      assert.ok(['invalid_token', 'token_expired'].includes(r.body.error.code), name);
    }
    const ok = await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token });
    assert.equal(ok.status, 200);
    const none = await call(hub.url, 'GET', '/api/v1/users/me');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  });

  test('refresh rotates; reusing a rotated token revokes the whole family', async () => {
    const u = await newUser(hub.url);
    const r1 = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.refresh_token, u.refresh);
    const r2 = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: r1.body.refresh_token } });
    assert.equal(r2.status, 200);
    // The old token comes back: theft. Everything of that family dies, the newest included.
    const reuse = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.error.code, 'refresh_token_reused');
    const newest = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: r2.body.refresh_token } });
    assert.equal(newest.status, 401);
    const me = await call(hub.url, 'GET', '/api/v1/users/me', { token: r2.body.access_token });
    assert.equal(me.status, 401, 'the access token of the newest session is dead too');
  });

  test('cookie refresh checks Origin', async () => {
    const u = await newUser(hub.url);
    const cookie = u.cookie.split(';')[0];
    const host = `127.0.0.1:${hub.port}`;
    let r = await call(hub.url, 'POST', '/api/v1/auth/refresh', { headers: { Cookie: cookie } });
    assert.equal(r.status, 403, 'no Origin');
    r = await call(hub.url, 'POST', '/api/v1/auth/refresh', { headers: { Cookie: cookie, Origin: 'https://evil.example' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'origin_not_allowed');
    r = await call(hub.url, 'POST', '/api/v1/auth/refresh', { headers: { Cookie: cookie, Origin: `http://${host}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.headers.get('set-cookie'), /^bh_refresh=/);
  });

  test('logout kills the session and its access token at once', async () => {
    const u = await newUser(hub.url);
    const out = await call(hub.url, 'POST', '/api/v1/auth/logout', { token: u.token });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 401);
    const r = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(r.status, 401);
  });

  test('sessions: list, revoke own, another user\'s id is 404', async () => {
    const u = await newUser(hub.url);
    const second = await login(hub.url, u.username, u.password, { 'User-Agent': 'second-device' });
    const list = await call(hub.url, 'GET', '/api/v1/auth/sessions', { token: u.token });
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 2);
    assert.equal(list.body.items.filter((s) => s.current).length, 1);
    const other = list.body.items.find((s) => !s.current);
    assert.equal(other.user_agent, 'second-device');
    assert.equal(other.refresh_hash, undefined);
    const stranger = await newUser(hub.url);
    assert.equal((await call(hub.url, 'DELETE', `/api/v1/auth/sessions/${other.id}`, { token: stranger.token })).status, 404);
    assert.equal((await call(hub.url, 'DELETE', `/api/v1/auth/sessions/${other.id}`, { token: u.token })).status, 204);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: second.body.access_token })).status, 401);
  });

  test('profile: get and patch; unknown fields are refused', async () => {
    const u = await newUser(hub.url);
    let r = await call(hub.url, 'PATCH', '/api/v1/users/me', { token: u.token, body: { display_name: '小明', settings: { theme: 'dark' } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.display_name, '小明');
    assert.deepEqual(r.body.settings, { theme: 'dark' });
    r = await call(hub.url, 'PATCH', '/api/v1/users/me', { token: u.token, body: { role: 'admin' } });
    assert.equal(r.status, 400);
    r = await call(hub.url, 'PATCH', '/api/v1/users/me', { token: u.token, body: { settings: 'dark' } });
    assert.equal(r.status, 400);
    r = await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token });
    assert.equal(r.body.role, 'user');
    assert.equal(r.body.display_name, '小明');
  });

  test('password change needs the current password and ends the other sessions', async () => {
    const u = await newUser(hub.url);
    const other = await login(hub.url, u.username, u.password);
    let r = await call(hub.url, 'POST', '/api/v1/users/me/password', { token: u.token, body: { current_password: 'nope-nope-nope', new_password: 'Another-Good-Pass-9' } });
    assert.equal(r.status, 403);
    r = await call(hub.url, 'POST', '/api/v1/users/me/password', { token: u.token, body: { current_password: u.password, new_password: '12345678' } });
    assert.equal(r.status, 400);
    r = await call(hub.url, 'POST', '/api/v1/users/me/password', { token: u.token, body: { current_password: u.password, new_password: 'Another-Good-Pass-9' } });
    assert.equal(r.status, 204);
    secrets.add('Another-Good-Pass-9');
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: other.body.access_token })).status, 401);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 200);
    assert.equal((await login(hub.url, u.username, u.password)).status, 401);
    assert.equal((await login(hub.url, u.username, 'Another-Good-Pass-9')).status, 200);
  });

  test('RBAC: users cannot reach admin routes; auditors read audit logs only', async () => {
    const u = await newUser(hub.url);
    assert.equal((await call(hub.url, 'GET', '/api/v1/admin/users', { token: u.token })).status, 403);
    assert.equal((await call(hub.url, 'GET', '/api/v1/admin/audit-logs', { token: u.token })).status, 403);
    const aud = await newUser(hub.url);
    const set = await call(hub.url, 'PATCH', `/api/v1/admin/users/${aud.user.id}`, { token: adminToken, body: { role: 'auditor' } });
    assert.equal(set.status, 200);
    assert.equal(set.body.role, 'auditor');
    // A role change ends the sessions: the old token carried the old role.
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: aud.token })).status, 401);
    const relog = await login(hub.url, aud.username, aud.password);
    const t = relog.body.access_token;
    assert.equal((await call(hub.url, 'GET', '/api/v1/admin/audit-logs', { token: t })).status, 200);
    assert.equal((await call(hub.url, 'GET', '/api/v1/admin/users', { token: t })).status, 403);
    assert.equal((await call(hub.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: t, body: { status: 'disabled' } })).status, 403);
  });

  test('admin: list and search users, quotas, bad patches', async () => {
    const u = await newUser(hub.url, { username: uniqueName('findme') });
    let r = await call(hub.url, 'GET', `/api/v1/admin/users?q=${encodeURIComponent(u.username)}`, { token: adminToken });
    assert.equal(r.status, 200);
    assert.equal(r.body.items.length, 1);
    assert.equal(r.body.items[0].id, u.user.id);
    r = await call(hub.url, 'GET', '/api/v1/admin/users?limit=2', { token: adminToken });
    assert.equal(r.body.items.length, 2);
    assert.ok(r.body.next_cursor);
    const page2 = await call(hub.url, 'GET', `/api/v1/admin/users?limit=2&cursor=${encodeURIComponent(r.body.next_cursor)}`, { token: adminToken });
    assert.equal(page2.status, 200);
    assert.ok(!page2.body.items.some((x) => r.body.items.some((y) => y.id === x.id)));
    r = await call(hub.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { quota: { daily_tokens: 100000, rpm: 30 } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.quota, {
      daily_tokens: 100000, monthly_tokens: null, rpm: 30, tpm: null, daily_cost_cny: null, monthly_cost_cny: null,
    });
    for (const body of [{ role: 'emperor' }, { status: 'sleeping' }, { quota: { rpm: -1 } }, { quota: { rpm: 0 } },
      { quota: { tpm: 1000000001 } }, { quota: { daily_cost_cny: 0 } }, { rol: 'admin' }]) {
      r = await call(hub.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    r = await call(hub.url, 'PATCH', '/api/v1/admin/users/0192f3a0-aaaa-7bbb-8ccc-123456789abc', { token: adminToken, body: { status: 'disabled' } });
    assert.equal(r.status, 404);
  });

  test('a user disabled after the token was issued is locked out at once', async () => {
    const u = await newUser(hub.url);
    const r = await call(hub.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { status: 'disabled' } });
    assert.equal(r.status, 200);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 401);
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } })).status, 401);
    const again = await login(hub.url, u.username, u.password);
    assert.equal(again.status, 403);
    assert.equal(again.body.error.code, 'account_disabled');
    await call(hub.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { status: 'active' } });
    assert.equal((await login(hub.url, u.username, u.password)).status, 200);
  });

  test('the last active admin cannot demote or disable itself', async () => {
    let r = await call(hub.url, 'PATCH', `/api/v1/admin/users/${adminId}`, { token: adminToken, body: { role: 'user' } });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'last_admin');
    r = await call(hub.url, 'PATCH', `/api/v1/admin/users/${adminId}`, { token: adminToken, body: { status: 'disabled' } });
    assert.equal(r.status, 409);
    r = await call(hub.url, 'GET', '/api/v1/users/me', { token: adminToken });
    assert.equal(r.status, 200);
    assert.equal(r.body.role, 'admin');
  });

  test('audit rows exist for every kind of event, filterable', async () => {
    const r = await call(hub.url, 'GET', '/api/v1/admin/audit-logs?limit=200', { token: adminToken });
    assert.equal(r.status, 200);
    const actions = new Set(r.body.items.map((e) => e.action));
    for (const a of ['auth.register', 'auth.login', 'auth.login_failed', 'auth.logout', 'auth.refresh_reuse',
      'user.password_changed', 'admin.user_updated', 'auth.session_revoked', 'cli.user_created']) {
      assert.ok(actions.has(a), `audit has ${a}; got ${[...actions].join(', ')}`);
    }
    const failed = r.body.items.find((e) => e.action === 'auth.login_failed');
    assert.ok(['unknown_user', 'bad_password', 'disabled', 'rate_limited'].includes(failed.detail.reason));
    assert.ok(failed.ip);
    assert.ok(failed.request_id);
    const only = await call(hub.url, 'GET', '/api/v1/admin/audit-logs?action=auth.logout', { token: adminToken });
    assert.ok(only.body.items.length >= 1);
    assert.ok(only.body.items.every((e) => e.action === 'auth.logout'));
    const mine = await call(hub.url, 'GET', `/api/v1/admin/audit-logs?actor=${adminId}&from=2020-01-01T00:00:00Z`, { token: adminToken });
    assert.ok(mine.body.items.every((e) => e.actor_user_id === adminId));
    const future = await call(hub.url, 'GET', `/api/v1/admin/audit-logs?from=${Date.now() + 3600_000}`, { token: adminToken });
    assert.equal(future.body.items.length, 0);
    const bad = await call(hub.url, 'GET', '/api/v1/admin/audit-logs?from=yesterday', { token: adminToken });
    assert.equal(bad.status, 400);
    const text = JSON.stringify(r.body);
    for (const s of secrets) assert.ok(!text.includes(s), 'no secret in audit details');
  });
});

describe('brute force and registration policy', () => {
  test('login floods are limited per client IP and per account', async () => {
    const hub = await startHub({
      env: {
        BAILIAN_HUB_BCRYPT_COST: '10',
        BAILIAN_HUB_TRUSTED_PROXIES: '127.0.0.1',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '6',
        BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '3',
        BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '4',
      },
    });
    try {
      // Per IP: many different accounts from one address.
      let limited = null;
      for (let i = 0; i < 12 && !limited; i += 1) {
        const r = await login(hub.url, uniqueName('nobody'), 'Wrong-Password-1', { 'X-Forwarded-For': '203.0.113.7' });
        if (r.status === 429) limited = r;
        else assert.equal(r.status, 401);
      }
      assert.ok(limited, 'per-IP limit reached');
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      // Another address is not affected...
      assert.equal((await login(hub.url, uniqueName('nobody'), 'Wrong-Password-1', { 'X-Forwarded-For': '203.0.113.8' })).status, 401);
      // ...but one account attacked from many addresses is.
      const target = uniqueName('victim');
      let acct = null;
      for (let i = 0; i < 8 && !acct; i += 1) {
        const r = await login(hub.url, target, 'Wrong-Password-1', { 'X-Forwarded-For': `198.51.100.${i + 1}` });
        if (r.status === 429) acct = r;
      }
      assert.ok(acct, 'per-account limit reached');
      // Registration per IP.
      let reg = null;
      for (let i = 0; i < 10 && !reg; i += 1) {
        const r = await register(hub.url, { headers: undefined });
        if (r.status === 429) reg = r;
      }
      assert.ok(reg, 'register limit reached');
    } finally {
      await hub.stop();
    }
  });

  test('registration can be closed', async () => {
    const hub = await startHub({ env: { BAILIAN_HUB_REGISTRATION_OPEN: 'false' } });
    try {
      const r = await register(hub.url);
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'registration_closed');
    } finally {
      await hub.stop();
    }
  });

  test('jwt rotate reaches a running hub: old tokens stay valid, both keys published', async () => {
    const dataDir = tempDir();
    const hub = await startHub({ dataDir, env: { BAILIAN_HUB_BCRYPT_COST: '10' } });
    try {
      const u = await newUser(hub.url);
      const rot = await runHub(['jwt', 'rotate'], { BAILIAN_HUB_DATA_DIR: dataDir });
      assert.equal(rot.code, 0, rot.stderr);
      assert.match(rot.stdout, /new signing key \S+; 2 key\(s\) in the ring/);
      // The hub reads the rotated ring from the database without a restart.
      await waitFor(async () => (await call(hub.url, 'GET', '/api/v1/auth/jwks')).body.keys.length === 2,
        'the running hub publishes the new key');
      assert.ok(hub.logs.some((l) => l.includes('"jwt_keys_reloaded"')));
      assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 200);
      const fresh = await login(hub.url, u.username, u.password);
      const kidOf = (t) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url')).kid;
      assert.notEqual(kidOf(fresh.body.access_token), kidOf(u.token));
      assert.equal((await readKeyRing(dataDir)).keys.length, 2);
    } finally {
      await hub.stop();
    }
  });

  test('a key ring file of an older version is imported: its tokens stay valid', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir, env: { BAILIAN_HUB_BCRYPT_COST: '10' } });
    const u = await newUser(hub.url);
    const ring = await readKeyRing(dataDir);
    await hub.stop();
    // What an older hub left behind: its ring in jwt-keys.json, and a database without one.
    writeFileSync(path.join(dataDir, 'jwt-keys.json'), JSON.stringify(ring), { mode: 0o600 });
    await sql(dataDir, 'DELETE FROM signing_keys;');
    hub = await startHub({ dataDir, env: { BAILIAN_HUB_BCRYPT_COST: '10' } });
    try {
      assert.ok(hub.logs.some((l) => l.includes('"jwt_keys_imported"')), 'the file was imported');
      assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 200);
      assert.deepEqual((await readKeyRing(dataDir)).keys.map((k) => k.kid), ring.keys.map((k) => k.kid));
    } finally {
      await hub.stop();
    }
  });

  test('a database whose key ring another master key sealed refuses to start, saying why', async () => {
    const dataDir = tempDir();
    let hub = await startHub({ dataDir, env: { BAILIAN_HUB_BCRYPT_COST: '10' } });
    await hub.stop();
    const other = crypto.randomBytes(32).toString('base64');
    const r = await runHub(['serve'], {
      BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_LISTEN: '127.0.0.1:0', BAILIAN_HUB_METRICS_LISTEN: 'off',
      BAILIAN_HUB_MASTER_KEY: other, BAILIAN_HUB_LOG_FORMAT: 'json',
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /same BAILIAN_HUB_MASTER_KEY/);
    assert.ok(!(r.stdout + r.stderr).includes(other), 'the key itself is never printed');
  });

  test('admin CLI: generated password printed once, set-role protects the last admin', async () => {
    const dataDir = tempDir();
    const env = { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' };
    const c = await runHub(['admin', 'create-user', '--username', 'boss', '--email', 'boss@example.com', '--role', 'admin'], env);
    assert.equal(c.code, 0, c.stderr);
    const m = c.stdout.match(/password \(shown only once\): (\S+)/);
    assert.ok(m, 'the generated password is shown once, on purpose');
    const demote = await runHub(['admin', 'set-role', '--username', 'boss', '--role', 'user'], env);
    assert.notEqual(demote.code, 0);
    assert.match(demote.stderr, /last active admin/);
    const bad = await runHub(['admin', 'create-user', '--username', 'x', '--email', 'x@example.com'], env);
    assert.notEqual(bad.code, 0);
  });
});

describe('secrets stay out of logs', () => {
  test('no password, hash or token in any log line of this run', () => {
    const text = allLogs.join('\n');
    assert.ok(text.length > 0);
    for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked into the logs: ${s.slice(0, 6)}…`);
    assert.ok(!text.includes(STRONG_PASSWORD));
    assert.ok(!/\$2b\$\d\d\$/.test(text), 'no bcrypt hash in logs');
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(text), 'no JWT in logs');
  });
});

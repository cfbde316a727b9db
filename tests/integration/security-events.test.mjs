// Security events, end to end: the hub watches its own sign-ins and calls and records brute
// force (and locks the account's password sign-in until an admin unlocks it), credential
// stuffing from one IP (X-Forwarded-For honoured from the trusted proxy 127.0.0.1), refresh
// token reuse, an admin signing in from a new range, and a spend spike on a platform key
// (which suspends the key) through the simulator; each is listed for admins and counted in
// /metrics. Tests wait for conditions, never for time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser, uniqueName } from '../support/api.mjs';
import { runHub, startHubWithSim, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

async function createAdmin(dataDir) {
  const r = await runHub(['admin', 'create-user', '--username', 'sec_admin', '--email', 'sec@example.com', '--role', 'admin'],
    { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' });
  assert.equal(r.code, 0, r.stderr);
  const password = /password \(shown only once\): (\S+)/.exec(r.stdout)[1];
  return { username: 'sec_admin', password };
}

const xff = (ip) => ({ 'X-Forwarded-For': ip });

describe('security events', () => {
  let env;
  let admin;
  let adminCreds;

  const events = async (query = '') => {
    const r = await call(env.url, 'GET', `/api/v1/admin/security-events${query}`, { token: admin });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const metric = async (kind) => {
    const text = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    const m = new RegExp(`^bailian_hub_security_events_total\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };

  before(async () => {
    const dataDir = tempDir();
    adminCreds = await createAdmin(dataDir);
    env = await startHubWithSim({
      dataDir,
      env: {
        BAILIAN_HUB_BCRYPT_COST: '10',
        BAILIAN_HUB_TRUSTED_PROXIES: '127.0.0.1',
        BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
        BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
        BAILIAN_HUB_SECURITY_BRUTE_FORCE_FAILURES: '4',
        BAILIAN_HUB_SECURITY_STUFFING_ACCOUNTS: '5',
        BAILIAN_HUB_SECURITY_SPEND_MIN_MICRO_CNY: '1',
      },
    });
    const l = await login(env.url, adminCreds.username, adminCreds.password, xff('203.0.113.10'));
    assert.equal(l.status, 200, JSON.stringify(l.body));
    admin = l.body.access_token;
  });
  after(async () => { await env?.stop(); });

  test('brute force on one account: one event, the password sign-in locked, then unlocked', async () => {
    const victim = await newUser(env.url);
    for (let i = 0; i < 4; i += 1) {
      const r = await login(env.url, victim.username, 'Wrong-Password-1', xff(`198.51.100.${i + 1}`));
      assert.equal(r.status, 401);
    }
    const found = await waitFor(async () => (await events(`?kind=brute_force&user=${victim.user.id}`)).items[0], 'brute_force event');
    assert.equal(found.severity, 'high');
    assert.equal(found.action, 'account_locked');
    assert.ok(found.locked_until);
    assert.equal(found.detail.failures, 4);
    // Locked: even the right password is refused, with a clear code and Retry-After.
    const locked = await login(env.url, victim.username, victim.password, xff('198.51.100.50'));
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'account_locked');
    assert.ok(Number(locked.headers.get('retry-after')) > 60);
    // More failures while locked make no second event.
    await login(env.url, victim.username, 'Wrong-Password-1');
    assert.equal((await events(`?kind=brute_force&user=${victim.user.id}`)).items.length, 1);
    // An ordinary user cannot see or unlock.
    assert.equal((await call(env.url, 'GET', '/api/v1/admin/security-events', { token: victim.token })).status, 403);
    assert.equal((await call(env.url, 'POST', `/api/v1/admin/security-events/${found.id}/unlock`, { token: victim.token })).status, 403);
    const unlocked = await call(env.url, 'POST', `/api/v1/admin/security-events/${found.id}/unlock`, { token: admin });
    assert.equal(unlocked.status, 200, JSON.stringify(unlocked.body));
    assert.equal((await login(env.url, victim.username, victim.password)).status, 200);
    const audit = await call(env.url, 'GET', `/api/v1/admin/audit-logs?action=security.unlock`, { token: admin });
    assert.equal(audit.body.items[0].target, `user:${victim.user.id}`);
    assert.equal((await call(env.url, 'POST', '/api/v1/admin/security-events/nope/unlock', { token: admin })).status, 404);
    assert.ok((await metric('brute_force')) >= 1);
  });

  test('credential stuffing: one IP failing against many accounts', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 5; i += 1) {
      const u = i < 2 ? (await newUser(env.url)).username : uniqueName('ghost');
      assert.equal((await login(env.url, u, 'Wrong-Password-1', xff(ip))).status, 401);
    }
    const found = await waitFor(async () => (await events('?kind=credential_stuffing')).items.find((e) => e.ip === ip), 'stuffing event');
    assert.equal(found.detail.accounts, 5);
    assert.equal(found.user_id, null);
    assert.equal(await metric('credential_stuffing'), 1);
  });

  test('refresh token reuse', async () => {
    const u = await newUser(env.url);
    const r1 = await call(env.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(r1.status, 200);
    const reuse = await call(env.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(reuse.body.error.code, 'refresh_token_reused');
    const found = await waitFor(async () => (await events(`?kind=refresh_reuse&user=${u.user.id}`)).items[0], 'reuse event');
    assert.equal(found.severity, 'high');
    assert.equal(await metric('refresh_reuse'), 1);
  });

  test('an admin signing in from a range never seen for them', async () => {
    // The first sign-in (203.0.113.10) is the baseline; the same /24 is fine.
    assert.equal((await login(env.url, adminCreds.username, adminCreds.password, xff('203.0.113.200'))).status, 200);
    assert.equal((await events('?kind=admin_new_range')).items.length, 0);
    assert.equal((await login(env.url, adminCreds.username, adminCreds.password, xff('2001:db8:77::1'))).status, 200);
    const found = await waitFor(async () => (await events('?kind=admin_new_range')).items[0], 'new range event');
    assert.equal(found.detail.range, '2001:db8:77::/48');
    assert.equal(found.ip, '2001:db8:77::1');
  });

  test('a spend spike on a platform key suspends it until unlocked', async () => {
    const u = await newUser(env.url);
    const k = await call(env.url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'spender' } });
    assert.equal(k.status, 201);
    const complete = () => call(env.url, 'POST', '/v1/chat/completions',
      { token: k.body.key, body: { model: 'qwen-plus', messages: [{ role: 'user', content: 'echo spend' }] } });
    // No baseline and a minimum of 1 micro-CNY: the first paid call is a spike.
    assert.equal((await complete()).status, 200);
    const found = await waitFor(async () => (await events('?kind=spend_spike')).items.find((e) => e.api_key_id === k.body.id),
      'spend spike event');
    assert.equal(found.action, 'api_key_suspended');
    assert.equal(found.user_id, u.user.id);
    const refused = await complete();
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'api_key_suspended');
    assert.equal((await call(env.url, 'POST', `/api/v1/admin/security-events/${found.id}/unlock`, { token: admin })).status, 200);
    assert.equal((await complete()).status, 200);
    assert.ok((await metric('spend_spike')) >= 1);
  });

  test('the list pages with a cursor and filters', async () => {
    const first = await events('?limit=1');
    assert.equal(first.items.length, 1);
    assert.ok(first.next_cursor);
    const second = await events(`?limit=1&cursor=${encodeURIComponent(first.next_cursor)}`);
    assert.equal(second.items.length, 1);
    assert.notEqual(second.items[0].id, first.items[0].id);
    assert.equal((await call(env.url, 'GET', '/api/v1/admin/security-events?cursor=bogus', { token: admin })).status, 400);
    assert.equal((await events('?kind=no_such_kind')).items.length, 0);
    // Every kind is exported, zero or not.
    assert.equal(await metric('mfa_failures'), 0);
  });
});

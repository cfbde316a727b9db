// History, statistics, the CSV export and the admin console's endpoints over real HTTP, on
// 100,000 seeded api_calls rows: filters validated and scoped to the caller, the CSV streamed
// whole and correctly quoted, the RBAC matrix (user, auditor, admin) over /api/v1/admin/*.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, login } from '../support/api.mjs';
import { startHubWithSim, tempDir } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD, seedCalls } from '../support/seed.mjs';

const DAY = 86_400_000;
const ROWS = 100_000;

describe('history and admin console', () => {
  let env;
  let dataDir;
  const now = Date.now();
  const ids = {};
  const tokens = {};
  const range = { from: new Date(now - 40 * DAY).toISOString(), to: new Date(now + DAY).toISOString() };
  const q = (params) => new URLSearchParams({ ...range, ...params }).toString();

  before(async () => {
    dataDir = tempDir();
    ids.admin = await createUser(dataDir, 'hist_admin', 'admin');
    ids.auditor = await createUser(dataDir, 'hist_auditor', 'auditor');
    ids.user = await createUser(dataDir, 'hist_user', 'user');
    ids.other = await createUser(dataDir, 'hist_other', 'user');
    await seedCalls(dataDir, ids.user, { count: ROWS, nowMs: now, idPrefix: 'u' });
    await seedCalls(dataDir, ids.other, { count: 50, nowMs: now, idPrefix: 'o', apiKeyId: 'other-key' });
    env = await startHubWithSim({
      dataDir,
      env: { BAILIAN_HUB_BCRYPT_COST: '10', BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000',
        BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '1000' },
    });
    for (const who of ['admin', 'auditor', 'user', 'other']) {
      const l = await login(env.url, `hist_${who}`, SEED_PASSWORD);
      assert.equal(l.status, 200, JSON.stringify(l.body));
      tokens[who] = l.body.access_token;
    }
  });
  after(async () => { await env?.stop(); });

  test('the dashboard counts only the caller\'s calls, grouped every way in one answer', async () => {
    const r = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({ tz_offset_minutes: '480' })}`, { token: tokens.user });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.totals.calls, ROWS);
    assert.equal(r.body.totals.errors, ROWS / 10);
    assert.equal(r.body.by_day.reduce((n, d) => n + d.calls, 0), ROWS);
    assert.ok(r.body.by_day.length >= 29 && r.body.by_day.length <= 31, `${r.body.by_day.length} days`);
    assert.deepEqual(r.body.by_model.map((m) => m.key).slice(0, 3).sort(), ['qwen-max', 'qwen-plus', 'qwen-turbo']);
    assert.equal(r.body.by_day_model.reduce((n, d) => n + d.calls, 0), ROWS);
    assert.deepEqual(r.body.totals.latency_ms, { p50: 549, p95: 954, p99: 990 }, 'nearest rank over 100..999 ms');
    assert.equal(r.body.top_users, undefined, 'rankings are for the admin console only');

    const own = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({})}`, { token: tokens.other });
    assert.equal(own.body.totals.calls, 50);
    // An admin's history page is their own calls too (none), not everyone's.
    const admin = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({})}`, { token: tokens.admin });
    assert.equal(admin.body.totals.calls, 0);
  });

  test('filters: kind, status, model and key narrow the list and the statistics alike', async () => {
    const filtered = { kind: 'chat', status: 'error' };
    const d = await call(env.url, 'GET', `/api/v1/history/dashboard?${q(filtered)}`, { token: tokens.user });
    // i % 5 = 0 and i % 10 = 0: every 10th row.
    assert.equal(d.body.totals.calls, ROWS / 10);
    const list = await call(env.url, 'GET', `/api/v1/history/calls?${q({ ...filtered, limit: '5' })}`, { token: tokens.user });
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 5);
    for (const c of list.body.items) {
      assert.equal(c.kind, 'chat');
      assert.equal(c.endpoint, 'chat');
      assert.equal(c.status_code, 502);
    }
    const kinds = { compatible: '/v1/chat/completions', title: 'chat.title', images: 'images' };
    for (const [kind, endpoint] of Object.entries(kinds)) {
      const r = await call(env.url, 'GET', `/api/v1/history/calls?${q({ kind, limit: '3' })}`, { token: tokens.user });
      assert.ok(r.body.items.every((c) => c.kind === kind && c.endpoint === endpoint), kind);
    }
    const m = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({ model: 'qwen-max' })}`, { token: tokens.user });
    assert.deepEqual(m.body.by_model.map((x) => x.key), ['qwen-max']);
    const web = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({ key: 'none' })}`, { token: tokens.user });
    assert.equal(web.body.totals.calls, ROWS);
    const keyed = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({ key: 'other-key' })}`, { token: tokens.user });
    assert.equal(keyed.body.totals.calls, 0, 'another user\'s key filter finds nothing of theirs');
  });

  test('bad ranges and unknown filter values are 400 naming the field, for every history endpoint', async () => {
    const cases = [
      [{ from: range.to, to: range.from }, /^from /],
      [{ from: new Date(now - 400 * DAY).toISOString(), to: new Date(now).toISOString() }, /^to /],
      [{ from: 'yesterday' }, /^from /],
      [{ to: '2026-13-45' }, /^to /],
      [{ status: 'bogus' }, /^status /],
      [{ kind: 'bogus' }, /^kind /],
      [{ tz_offset_minutes: '9999' }, /^tz_offset_minutes /],
    ];
    for (const path of ['/api/v1/history/dashboard', '/api/v1/history/calls', '/api/v1/history/calls.csv', '/api/v1/admin/stats']) {
      for (const [params, field] of cases) {
        if (path !== '/api/v1/history/dashboard' && path !== '/api/v1/admin/stats' && params.tz_offset_minutes) continue;
        const r = await call(env.url, 'GET', `${path}?${new URLSearchParams({ ...range, ...params })}`, { token: tokens.admin });
        assert.equal(r.status, 400, `${path} ${JSON.stringify(params)}`);
        assert.equal(r.body.error.code, 'validation_failed');
        assert.match(r.body.error.message, field);
      }
    }
  });

  test('the CSV holds exactly the filtered rows, streamed, quoted, never another user\'s', async () => {
    const res = await call(env.url, 'GET', `/api/v1/history/calls.csv?${q({})}`, { token: tokens.user, raw: true });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.match(res.headers.get('content-disposition'), /attachment; filename="bailian-hub-calls\.csv"/);
    assert.equal(res.headers.get('content-length'), null, 'streamed in chunks, not buffered whole');
    const text = await res.text();
    const lines = text.split('\r\n');
    assert.equal(lines.pop(), '', 'ends with CRLF');
    assert.equal(lines[0], 'time,kind,endpoint,model,status_code,error_code,input_tokens,output_tokens,images,'
      + 'latency_ms,first_token_ms,cost_cny,upstream_request_id,api_key_id,conversation_id,id');
    assert.equal(lines.length, ROWS + 1);
    assert.ok(!text.includes('req-o-'), 'no row of another user');
    // Newest first; row u-00000000 is a failed chat call.
    assert.match(lines[1], /^\d{4}-\d\d-\d\dT[\d:.]+Z,chat,chat,qwen-plus,502,upstream_error,100,200,0,100,40,0\.001000,req-u-0,,,u-00000000$/);
    // A model name with a comma, quotes and a leading '=' is quoted and defused.
    const odd = lines.find((l) => l.endsWith(',u-00000007'));
    assert.ok(odd.includes(',"\'=odd,""model""",'), odd);

    const filtered = await call(env.url, 'GET', `/api/v1/history/calls.csv?${q({ model: 'qwen-max', status: 'error' })}`,
      { token: tokens.user, raw: true });
    const rows = (await filtered.text()).trim().split('\r\n').slice(1);
    const stats = await call(env.url, 'GET', `/api/v1/history/dashboard?${q({ model: 'qwen-max', status: 'error' })}`, { token: tokens.user });
    assert.equal(rows.length, stats.body.totals.calls);
    assert.ok(rows.every((l) => l.includes(',qwen-max,502,upstream_error,')));

    const other = await call(env.url, 'GET', `/api/v1/history/calls.csv?${q({ user_id: ids.other })}`, { token: tokens.user });
    assert.equal(other.status, 403);
    const none = await call(env.url, 'GET', '/api/v1/history/calls.csv', {});
    assert.equal(none.status, 401);
  });

  test('platform statistics: everyone\'s calls with the top users and keys, for admins and auditors', async () => {
    for (const who of ['admin', 'auditor']) {
      const r = await call(env.url, 'GET', `/api/v1/admin/stats?${q({})}`, { token: tokens[who] });
      assert.equal(r.status, 200, who);
      assert.equal(r.body.totals.calls, ROWS + 50);
      assert.equal(r.body.top_users[0].key, ids.user);
      assert.equal(r.body.top_users[1].key, ids.other);
      assert.deepEqual(r.body.top_keys.map((k) => k.key), [null, 'other-key']);
    }
    const one = await call(env.url, 'GET', `/api/v1/admin/stats?${q({ user_id: ids.other })}`, { token: tokens.admin });
    assert.equal(one.body.totals.calls, 50);
  });

  test('RBAC matrix over the admin endpoints: 403 changes nothing', async () => {
    const keysBefore = (await call(env.url, 'GET', '/api/v1/admin/upstream-keys', { token: tokens.admin })).body.items;
    const endpoints = [
      ['GET', '/api/v1/admin/stats', undefined, { user: 403, auditor: 200, admin: 200 }],
      ['GET', '/api/v1/admin/audit-logs', undefined, { user: 403, auditor: 200, admin: 200 }],
      ['GET', '/api/v1/admin/users', undefined, { user: 403, auditor: 403, admin: 200 }],
      ['PATCH', `/api/v1/admin/users/${ids.other}`, { quota: { daily_tokens: 5, rpm: null } }, { user: 403, auditor: 403 }],
      ['GET', '/api/v1/admin/upstream-keys', undefined, { user: 403, auditor: 403, admin: 200 }],
      ['POST', '/api/v1/admin/upstream-keys', { name: 'x', secret: 'sk-never-stored-0001' }, { user: 403, auditor: 403 }],
      ['POST', `/api/v1/admin/upstream-keys/${keysBefore[0].id}/rotate`, { secret: 'sk-never-stored-0002' }, { user: 403, auditor: 403 }],
      ['PATCH', `/api/v1/admin/upstream-keys/${keysBefore[0].id}`, { status: 'disabled' }, { user: 403, auditor: 403 }],
      ['DELETE', `/api/v1/admin/upstream-keys/${keysBefore[0].id}`, undefined, { user: 403, auditor: 403 }],
    ];
    for (const [method, path, body, expected] of endpoints) {
      for (const [who, status] of Object.entries(expected)) {
        const r = await call(env.url, method, path, { token: tokens[who], body });
        assert.equal(r.status, status, `${who} ${method} ${path}`);
        if (status === 403) assert.equal(r.body.error.code, 'forbidden');
      }
    }
    const keysAfter = (await call(env.url, 'GET', '/api/v1/admin/upstream-keys', { token: tokens.admin })).body.items;
    assert.deepEqual(keysAfter.map((k) => [k.id, k.status, k.rotated_at]), keysBefore.map((k) => [k.id, k.status, k.rotated_at]));
    const users = (await call(env.url, 'GET', '/api/v1/admin/users?q=hist_other', { token: tokens.admin })).body.items;
    assert.equal(users[0].quota.daily_tokens, null, 'the refused quota change did not happen');
  });

  test('users list: search and last sign-in; audit log filtered by target with details', async () => {
    const r = await call(env.url, 'GET', '/api/v1/admin/users?q=hist_', { token: tokens.admin });
    assert.equal(r.status, 200);
    const byName = Object.fromEntries(r.body.items.map((u) => [u.username, u]));
    assert.ok(byName.hist_user.last_sign_in_at, 'signed in above');
    assert.ok(Date.parse(byName.hist_user.last_sign_in_at) >= now - 60_000);

    const p = await call(env.url, 'PATCH', `/api/v1/admin/users/${ids.other}`,
      { token: tokens.admin, body: { quota: { daily_tokens: 1234, rpm: null } } });
    assert.equal(p.status, 200);
    assert.equal(p.body.quota.daily_tokens, 1234);
    const a = await call(env.url, 'GET', `/api/v1/admin/audit-logs?target=${encodeURIComponent(`user:${ids.other}`)}`, { token: tokens.auditor });
    assert.equal(a.status, 200);
    assert.equal(a.body.items[0].action, 'admin.user_updated');
    assert.equal(a.body.items[0].actor_user_id, ids.admin);
    assert.equal(a.body.items[0].detail.quota.daily_tokens, 1234);
    assert.ok(a.body.items.every((e) => e.target === `user:${ids.other}`));
    const byActor = await call(env.url, 'GET', `/api/v1/admin/audit-logs?actor=${ids.admin}&action=admin.user_updated`, { token: tokens.admin });
    assert.ok(byActor.body.items.length >= 1);
  });

  test('the last active admin cannot be disabled or demoted (409, nothing changes)', async () => {
    for (const body of [{ status: 'disabled' }, { role: 'user' }]) {
      const r = await call(env.url, 'PATCH', `/api/v1/admin/users/${ids.admin}`, { token: tokens.admin, body });
      assert.equal(r.status, 409, JSON.stringify(body));
    }
    const me = await call(env.url, 'GET', '/api/v1/users/me', { token: tokens.admin });
    assert.equal(me.status, 200);
    assert.equal(me.body.role ?? me.body.user?.role, 'admin');
  });

  test('upstream keys report live state: in flight, calls and errors in the last hour, last error', async () => {
    const chat = await call(env.url, 'POST', '/v1/chat/completions', {
      token: tokens.user, body: { model: 'qwen-plus', messages: [{ role: 'user', content: 'echo hi' }] },
    });
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    const r = await call(env.url, 'GET', '/api/v1/admin/upstream-keys', { token: tokens.admin });
    const h = r.body.items[0].health;
    assert.equal(h.state, 'active');
    assert.equal(h.in_flight, 0);
    assert.ok(h.calls_last_hour >= 1);
    assert.equal(h.errors_last_hour, 0);
    assert.equal(h.last_error, null);
    assert.equal(h.last_error_at, null);
  });
});

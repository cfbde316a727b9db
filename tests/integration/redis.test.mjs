// A hub with BAILIAN_HUB_REDIS_URL: its rate limits live in Redis (shared by every hub); when
// Redis stops or stalls, calls keep succeeding on the local fallback and /readyz, /metrics and
// the log say so; when it is back, the limits are shared again. At start-up an unusable Redis
// is a warning, or exit 2 with one line under BAILIAN_HUB_REDIS_REQUIRED=true. The Redis
// password never shows in a log line or in /readyz. Tests wait for conditions, never for time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { runHub, startHub, startHubWithSim, tempDir } from '../support/hub.mjs';
import { startRedis } from '../support/redis.mjs';
import { waitFor } from '../support/wait.mjs';

const FAST_AUTH = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
};
const REDIS_PASSWORD = 'redis-Secret-pw-4417';

async function createAdmin(dataDir) {
  const r = await runHub(['admin', 'create-user', '--username', 'redis_admin', '--email', 'redis@example.com', '--role', 'admin'],
    { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' });
  assert.equal(r.code, 0, r.stderr);
  const password = /password \(shown only once\): (\S+)/.exec(r.stdout)[1];
  return { username: 'redis_admin', password };
}

function completion(url, token, content = 'echo hello') {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content }] }),
  });
}

async function readyz(url) {
  const res = await fetch(`${url}/readyz`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

async function metric(metricsUrl, name) {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

describe('a hub with Redis', () => {
  let redis;
  let env;
  let adminToken;

  const setQuota = async (user, quota) => {
    const r = await call(env.url, 'PATCH', `/api/v1/admin/users/${user.user.id}`, { token: adminToken, body: { quota } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };

  before(async () => {
    redis = await startRedis({ password: REDIS_PASSWORD });
    const dataDir = tempDir();
    const admin = await createAdmin(dataDir);
    env = await startHubWithSim({
      dataDir,
      env: { ...FAST_AUTH, BAILIAN_HUB_REDIS_URL: redis.url, BAILIAN_HUB_REDIS_TIMEOUT_MS: '200' },
    });
    const l = await call(env.url, 'POST', '/api/v1/auth/login', { body: admin });
    assert.equal(l.status, 200, JSON.stringify(l.body));
    adminToken = l.body.access_token;
    await waitFor(async () => (await readyz(env.url)).body.checks.redis?.ok, 'limits shared in Redis');
  });
  after(async () => {
    await env?.stop();
    await redis?.destroy();
  });

  test('the limits are the shared ones: the buckets are keys in Redis', async () => {
    const u = await newUser(env.url);
    await setQuota(u, { rpm: 3 });
    for (let i = 0; i < 3; i++) {
      const r = await completion(env.url, u.token);
      assert.equal(r.status, 200, await r.text());
      assert.equal(r.headers.get('x-ratelimit-limit-requests'), '3');
    }
    const key = `bh:rl:rpm:user:${u.user.id}`;
    assert.match(await redis.cli('EXISTS', key), /^1/);
    assert.match(await redis.cli('HGET', key, 'c'), /^3/);
    const refused = await completion(env.url, u.token);
    assert.equal(refused.status, 429);
    // The bucket is the one in Redis: emptied there, the user passes again at once.
    await redis.cli('DEL', key);
    const again = await completion(env.url, u.token);
    assert.equal(again.status, 200, await again.text());
  });

  test('Redis stopped: calls keep succeeding on the local fallback, and it says so; back: shared again', async () => {
    const u = await newUser(env.url);
    await setQuota(u, { rpm: 50 });
    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const r = await completion(env.url, u.token);
      assert.equal(r.status, 200, await r.text());
    }
    const down = await waitFor(async () => {
      const r = await readyz(env.url);
      return r.body.checks.redis.fallback && r;
    }, 'readyz reporting the fallback');
    assert.equal(down.status, 200);  // Redis is never a single point of failure
    assert.equal(down.body.status, 'ready');
    assert.equal(down.body.checks.redis.ok, false);
    assert.equal(down.body.checks.redis.live_hubs >= 1, true);
    assert.ok(down.body.checks.redis.last_error);
    assert.equal(down.body.checks.redis.url, `redis://:***@127.0.0.1:${redis.port}/0`);
    assert.equal(await metric(env.hub.metricsUrl, 'bailian_hub_limiter_fallback_active'), 1);
    assert.equal(await metric(env.hub.metricsUrl, 'bailian_hub_redis_up'), 0);
    await waitFor(() => env.hub.logs.some((l) => l.includes('"redis_limiter_fallback"') && l.includes('"warn"')),
      'a warning going local');

    await redis.start();
    await waitFor(async () => (await readyz(env.url)).body.checks.redis.ok, 'shared again');
    assert.equal(await metric(env.hub.metricsUrl, 'bailian_hub_limiter_fallback_active'), 0);
    assert.equal(await metric(env.hub.metricsUrl, 'bailian_hub_redis_up'), 1);
    assert.ok(env.hub.logs.some((l) => l.includes('"redis_limiter_shared"')));
    const r = await completion(env.url, u.token);
    assert.equal(r.status, 200, await r.text());
    assert.match(await redis.cli('EXISTS', `bh:rl:rpm:user:${u.user.id}`), /^1/);
  });

  test('a paused Redis costs at most the timeout: calls are still answered', async () => {
    const u = await newUser(env.url);
    redis.pause();
    try {
      const r = await completion(env.url, u.token);
      assert.equal(r.status, 200, await r.text());
      await waitFor(async () => (await readyz(env.url)).body.checks.redis.fallback, 'fallback while paused');
      assert.ok(await metric(env.hub.metricsUrl, 'bailian_hub_redis_errors_total') !== null);
      const again = await completion(env.url, u.token);
      assert.equal(again.status, 200);
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await readyz(env.url)).body.checks.redis.ok, 'shared after the pause');
  });

  test('the Redis password is in no log line and not in /readyz', async () => {
    const r = await readyz(env.url);
    assert.ok(!r.text.includes(REDIS_PASSWORD));
    assert.ok(r.body.checks.redis.url.includes(':***@'));
    const metrics = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    assert.ok(!metrics.includes(REDIS_PASSWORD));
    assert.ok(env.hub.logs.length > 0);
    for (const line of env.hub.logs) assert.ok(!line.includes(REDIS_PASSWORD), line);
  });
});

describe('start-up with an unusable Redis', () => {
  let redis;
  before(async () => { redis = await startRedis({ password: REDIS_PASSWORD }); });
  after(async () => { await redis?.destroy(); });

  const baseEnv = () => ({
    BAILIAN_HUB_LISTEN: '127.0.0.1:0',
    BAILIAN_HUB_METRICS_LISTEN: 'off',
    BAILIAN_HUB_DATA_DIR: tempDir(),
    BAILIAN_HUB_LOG_FORMAT: 'json',
    BAILIAN_HUB_REDIS_REQUIRED: 'true',
  });
  const errorLines = (r) => `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /"level":"(error|critical)"/.test(l));

  for (const [what, url, expect] of [
    ['unreachable', 'redis://:redis-Secret-pw-4417@127.0.0.1:1/0', /cannot connect/],
    ['a wrong password', null, /AUTH/],
    ['a malformed URL', 'redis://:redis-Secret-pw-4417@127.0.0.1:notaport/0', /invalid Redis URL: the port/],
  ]) {
    test(`REQUIRED=true and ${what}: exit 2 with one line, no password`, async () => {
      const u = url ?? redis.urlFor('wrong-Pw-in-url-9', 0);
      const r = await runHub(['serve'], { ...baseEnv(), BAILIAN_HUB_REDIS_URL: u });
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      const lines = errorLines(r);
      assert.equal(lines.length, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(lines[0], /redis_required_unavailable/);
      assert.match(lines[0], expect);
      const all = `${r.stdout}${r.stderr}`;
      assert.ok(!all.includes(REDIS_PASSWORD));
      assert.ok(!all.includes('wrong-Pw-in-url-9'));
    });
  }

  test('REQUIRED=false and an unreachable Redis: a warning, and the hub serves', async () => {
    const hub = await startHub({
      env: { BAILIAN_HUB_REDIS_URL: 'redis://:redis-Secret-pw-4417@127.0.0.1:1/0', BAILIAN_HUB_REDIS_REQUIRED: 'false' },
    });
    try {
      assert.ok(hub.logs.some((l) => l.includes('"redis_unavailable_at_start"') && l.includes('"warn"')));
      const r = await readyz(hub.url);
      assert.equal(r.body.checks.redis.fallback, true);
      assert.equal(r.body.checks.redis.ok, false);
      assert.ok(!r.text.includes(REDIS_PASSWORD));
      for (const line of hub.logs) assert.ok(!line.includes(REDIS_PASSWORD), line);
    } finally {
      await hub.stop();
    }
  });

  test('REQUIRED=false and a malformed URL: a warning, and the hub serves on its own', async () => {
    const hub = await startHub({ env: { BAILIAN_HUB_REDIS_URL: 'redis://:redis-Secret-pw-4417@' } });
    try {
      assert.ok(hub.logs.some((l) => l.includes('"redis_unavailable_at_start"') && l.includes('invalid Redis URL')));
      const r = await readyz(hub.url);
      assert.equal(r.status, 200);
      assert.equal(r.body.checks.redis, undefined);  // no Redis at all: one hub, as without a URL
      for (const line of hub.logs) assert.ok(!line.includes(REDIS_PASSWORD), line);
    } finally {
      await hub.stop();
    }
  });
});

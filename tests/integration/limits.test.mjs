// Rate limits, budgets and the overload cap on every route that calls a model: our API, the
// OpenAI-compatible /v1 (through the openai SDK, whose retries honour Retry-After) and the
// DashScope pass-through. A refused call never reaches the simulator (its request log shows
// it); tests wait for conditions, never for time.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { call, newUser } from '../support/api.mjs';
import { runHub, startHubWithSim, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const FAST_AUTH = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
};

let markerCount = 0;
const marker = (what) => `mk${process.pid}x${++markerCount}x${what}`;

// Upstream requests that carried `mark` anywhere in their body.
async function upstreamWith(simUrl, mark) {
  const res = await fetch(`${simUrl}/_sim/requests?limit=1000`);
  const { requests } = await res.json();
  return requests.filter((r) => JSON.stringify(r.body ?? r.body_text ?? '').includes(mark));
}

// An admin made on the command line before the hub starts (its password is generated).
async function createAdmin(dataDir) {
  const r = await runHub(['admin', 'create-user', '--username', 'limits_admin', '--email', 'limits@example.com', '--role', 'admin'],
    { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_BCRYPT_COST: '10' });
  assert.equal(r.code, 0, r.stderr);
  const password = /password \(shown only once\): (\S+)/.exec(r.stdout)[1];
  return { username: 'limits_admin', password };
}

function completion(url, token, content, extra = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content }], ...extra }),
  });
}

describe('rate limits and budgets', () => {
  let env;
  let adminToken;

  const setQuota = async (user, quota) => {
    const r = await call(env.url, 'PATCH', `/api/v1/admin/users/${user.user.id}`, { token: adminToken, body: { quota } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const newKey = async (user, body = { name: 'limits' }) => {
    const r = await call(env.url, 'POST', '/api/v1/api-keys', { token: user.token, body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };

  before(async () => {
    const dataDir = tempDir();
    const admin = await createAdmin(dataDir);
    env = await startHubWithSim({
      dataDir,
      env: { ...FAST_AUTH, BAILIAN_HUB_LIMITS_UNAUTHENTICATED_PER_IP_PER_MINUTE: '5' },
    });
    const l = await call(env.url, 'POST', '/api/v1/auth/login', { body: admin });
    assert.equal(l.status, 200, JSON.stringify(l.body));
    adminToken = l.body.access_token;
  });
  after(async () => { await env?.stop(); });

  test('our API: the user at the limit gets 429 rate_limited and nothing goes upstream', async () => {
    const u = await newUser(env.url);
    await setQuota(u, { rpm: 2 });
    const conv = await call(env.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
    assert.equal(conv.status, 201);
    const send = (content) => call(env.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`,
      { token: u.token, body: { content, stream: false } });
    for (const left of ['1', '0']) {
      const r = await send(`echo ${marker('ok')}`);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.headers.get('x-ratelimit-limit-requests'), '2');
      assert.equal(r.headers.get('x-ratelimit-remaining-requests'), left);
      assert.ok(r.headers.get('x-ratelimit-limit-tokens'));
      assert.match(r.headers.get('x-ratelimit-reset-requests'), /^\d+(ms|s)$|m\d+s$/);
    }
    const mark = marker('refused');
    const r = await send(`echo ${mark}`);
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'rate_limited');
    assert.match(r.body.error.message, /2 requests per minute for this user/);
    assert.equal(r.body.error.request_id, r.headers.get('x-request-id'));
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal((await upstreamWith(env.sim.url, mark)).length, 0);
    // Streaming asks are refused the same way, before any event.
    const s = await call(env.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`,
      { token: u.token, body: { content: `echo ${mark}`, stream: true } });
    assert.equal(s.status, 429);
    assert.equal((await upstreamWith(env.sim.url, mark)).length, 0);
  });

  test('/v1 with the openai SDK: a 429 with Retry-After, then maxRetries succeeds', async () => {
    const u = await newUser(env.url);
    await setQuota(u, { rpm: 60 });  // a burst of 60, then one a second
    const key = (await newKey(u)).key;
    const fire = await Promise.all(Array.from({ length: 60 }, () => completion(env.url, key, 'echo fill')));
    assert.ok(fire.every((res) => res.status === 200), fire.map((res) => res.status).join(','));
    const ok = fire[0];
    assert.equal(ok.headers.get('x-ratelimit-limit-requests'), '60');
    assert.ok(ok.headers.get('x-ratelimit-remaining-tokens'));

    const noRetry = new OpenAI({ apiKey: key, baseURL: `${env.url}/v1`, maxRetries: 0 });
    await assert.rejects(
      noRetry.chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'echo one more' }] }),
      (e) => {
        assert.ok(e instanceof OpenAI.RateLimitError, String(e));
        assert.equal(e.status, 429);
        assert.equal(e.code, 'rate_limited');
        assert.equal(e.type, 'rate_limit_error');
        assert.equal(e.headers.get('retry-after'), '1');
        return true;
      },
    );
    const retrying = new OpenAI({ apiKey: key, baseURL: `${env.url}/v1`, maxRetries: 5 });
    const mark = marker('sdk');
    const { data, response } = await retrying.chat.completions.create({
      model: 'qwen-plus', messages: [{ role: 'user', content: `echo ${mark}` }],
    }).withResponse();
    assert.equal(data.choices[0].message.content, `echo ${mark}`);
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '60');
    assert.equal((await upstreamWith(env.sim.url, mark)).length, 1);
  });

  test('pass-through: a key over its own limit gets DashScope\'s 429; the user\'s other key still works', async () => {
    const u = await newUser(env.url);
    const limited = await newKey(u, { name: 'limited' });
    const other = await newKey(u, { name: 'other' });
    const bad = await call(env.url, 'PATCH', `/api/v1/api-keys/${limited.id}`, { token: u.token, body: { limits: { rpm: 0 } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /limits\.rpm/);
    const set = await call(env.url, 'PATCH', `/api/v1/api-keys/${limited.id}`, { token: u.token, body: { limits: { rpm: 1, tpm: null } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.limits, { rpm: 1, tpm: null });
    const native = (key, content) => fetch(`${env.url}/dashscope/api/v1/services/aigc/text-generation/generation`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen-plus', input: { messages: [{ role: 'user', content }] } }),
    });
    const first = await native(limited.key, 'echo first');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-ratelimit-limit-requests'), '1');
    assert.equal(first.headers.get('x-ratelimit-remaining-requests'), '0');
    const mark = marker('native');
    const second = await native(limited.key, `echo ${mark}`);
    assert.equal(second.status, 429);
    const body = await second.json();
    assert.equal(body.code, 'Throttling.RateQuota');
    assert.match(body.message, /1 requests per minute for this API key/);
    assert.ok(body.request_id);
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
    assert.equal((await upstreamWith(env.sim.url, mark)).length, 0);
    // Per key, not per user: the other key and the user's own token pass.
    assert.equal((await native(other.key, 'echo other')).status, 200);
    assert.equal((await native(u.token, 'echo jwt')).status, 200);
  });

  test('a daily token budget: refused before upstream, shown in usage, lifted by the admin at once', async () => {
    const u = await newUser(env.url);
    let usage = await call(env.url, 'GET', '/api/v1/users/me/usage', { token: u.token });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.day.tokens.used, 0);
    assert.ok(usage.body.day.tokens.left > 0);
    assert.ok(usage.body.month.cost_cny.limit > 0);
    assert.match(usage.body.day.resets_at, /T00:00:00\.000Z$/);
    assert.ok(usage.body.rate.rpm > 0);

    await setQuota(u, { daily_tokens: 100 });
    const key = (await newKey(u)).key;
    const long = `echo ${'word '.repeat(60)}`;
    const first = await completion(env.url, key, long);
    assert.equal(first.status, 200);
    const used = (await first.json()).usage.total_tokens;
    assert.ok(used >= 100, `used ${used}`);
    usage = await waitFor(async () => {
      const r = await call(env.url, 'GET', '/api/v1/users/me/usage', { token: u.token });
      return r.body.day.tokens.used === used && r;
    }, 'the call counted in the usage');
    assert.equal(usage.body.day.tokens.limit, 100);
    assert.equal(usage.body.day.tokens.left, 0);

    const mark = marker('quota');
    const refused = await completion(env.url, key, `echo ${mark}`);
    assert.equal(refused.status, 429);
    const err = (await refused.json()).error;
    assert.equal(err.code, 'quota_exceeded');
    assert.equal(err.type, 'insufficient_quota');
    assert.match(err.message, /daily token budget of 100 tokens/);
    assert.match(err.message, /resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(refused.headers.get('x-should-retry'), 'false');
    // Our own surface says the same.
    const conv = await call(env.url, 'POST', '/api/v1/conversations', { token: u.token, body: {} });
    const ours = await call(env.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`,
      { token: u.token, body: { content: `echo ${mark}`, stream: false } });
    assert.equal(ours.status, 429);
    assert.equal(ours.body.error.code, 'quota_exceeded');
    assert.equal((await upstreamWith(env.sim.url, mark)).length, 0);

    // Bad limits change nothing; a raised budget applies to the very next call.
    for (const quota of [{ daily_tokens: 0 }, { daily_tokens: -5 }, { monthly_tokens: 2000000000 }, { daily_cost_cny: 'a lot' }]) {
      const r = await call(env.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { quota } });
      assert.equal(r.status, 400, JSON.stringify(quota));
      assert.match(r.body.error.message, new RegExp(`quota\\.${Object.keys(quota)[0]}`));
    }
    assert.equal((await completion(env.url, key, 'echo still refused')).status, 429);
    await setQuota(u, { daily_tokens: 1000000 });
    const again = await completion(env.url, key, 'echo lifted');
    assert.equal(again.status, 200);
  });

  test('200 concurrent calls from one user: the burst passes, the rest is refused, nothing more reaches upstream', async () => {
    const u = await newUser(env.url);
    await setQuota(u, { rpm: 10 });
    const key = (await newKey(u)).key;
    const mark = marker('burst');
    const answers = await Promise.all(Array.from({ length: 200 }, () => completion(env.url, key, `echo ${mark}`)));
    const statuses = answers.map((r) => r.status);
    const ok = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    assert.equal(ok + refused, 200, statuses.join(','));
    // A burst of 10, and at most one refilled while the 200 were answered (one per 6 s).
    assert.ok(ok >= 10 && ok <= 11, `${ok} admitted`);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    assert.equal((await upstreamWith(env.sim.url, mark)).length, ok);
  });

  test('failed authentications on model routes are limited per client IP', async () => {
    const statuses = [];
    for (let i = 0; i < 7; i += 1) {
      const r = await completion(env.url, `bh-${'x'.repeat(43)}`, 'echo nope');
      statuses.push(r.status);
      if (r.status === 429) {
        const body = await r.json();
        assert.equal(body.error.code, 'rate_limited');
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
      }
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
  });
});

describe('overload: a cap on concurrent model calls', () => {
  let env;
  before(async () => {
    env = await startHubWithSim({ env: { ...FAST_AUTH, BAILIAN_HUB_MAX_CONCURRENT_CALLS: '2' } });
  });
  after(async () => { await env?.stop(); });

  const metric = async (name) => {
    const text = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.split(' ').pop()) : null;
  };

  test('calls past the cap get 503 + Retry-After at once; admitted streams finish', async () => {
    const u = await newUser(env.url);
    const key = (await newKey(u)).key;
    const mark = marker('held');
    // Two streams that stall upstream for a while hold both places.
    const held = [0, 1].map(() => completion(env.url, key, `echo ${mark} [sim:fault=stall:4]`, { stream: true }));
    await waitFor(async () => (await metric('bailian_hub_model_calls_in_flight')) === 2, 'two calls in flight');

    const shed = marker('shed');
    const r = await completion(env.url, key, `echo ${shed}`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    const body = await r.json();
    assert.equal(body.error.code, 'overloaded');
    const native = await fetch(`${env.url}/dashscope/api/v1/services/aigc/text-generation/generation`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen-plus', input: { messages: [{ role: 'user', content: `echo ${shed}` }] } }),
    });
    assert.equal(native.status, 503);
    assert.equal((await native.json()).code, 'ServiceUnavailable');
    assert.equal((await upstreamWith(env.sim.url, shed)).length, 0);
    assert.ok((await metric('bailian_hub_model_calls_refused_total{reason="overloaded"}')) >= 2);

    // The admitted streams run to their end.
    for (const res of await Promise.all(held)) {
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /data: \[DONE\]/);
    }
    await waitFor(async () => (await metric('bailian_hub_model_calls_in_flight')) === 0, 'the places freed');
    assert.equal((await completion(env.url, key, 'echo room again')).status, 200);
  });

  async function newKey(user) {
    const r = await call(env.url, 'POST', '/api/v1/api-keys', { token: user.token, body: { name: 'overload' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }
});

describe('overload: a bounded password-hashing queue', () => {
  let env;
  before(async () => {
    env = await startHubWithSim({
      env: { ...FAST_AUTH, BAILIAN_HUB_BCRYPT_COST: '12', BAILIAN_HUB_AUTH_MAX_PENDING_HASHES: '1' },
    });
  });
  after(async () => { await env?.stop(); });

  test('logins past the queue get 503 + Retry-After at once; the admitted ones are answered', async () => {
    const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => call(env.url, 'POST', '/api/v1/auth/login',
      { body: { username: `nobody_${i}`, password: 'Not-The-Password-1' } })));
    const statuses = attempts.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 401 || s === 503), statuses.join(','));
    assert.ok(statuses.includes(401), statuses.join(','));
    const shed = attempts.filter((r) => r.status === 503);
    assert.ok(shed.length >= 1, statuses.join(','));
    for (const r of shed) {
      assert.equal(r.body.error.code, 'overloaded');
      assert.equal(r.headers.get('retry-after'), '1');
    }
    const text = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('bailian_hub_password_hashes_refused_total'));
    assert.equal(Number(line.split(' ').pop()), shed.length);
  });
});

describe('overload: password hashes nobody waits for', () => {
  // bcrypt cost 12 takes a few hundred ms per hash: a dozen logins queue behind the workers.
  const SLOW_AUTH = { ...FAST_AUTH, BAILIAN_HUB_BCRYPT_COST: '12', BAILIAN_HUB_AUTH_MAX_PENDING_HASHES: '64' };
  const loginBody = (i) => JSON.stringify({ username: `gone_${i}`, password: 'Not-The-Password-1' });

  async function metricOf(metricsUrl, prefix) {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  test('a login whose client has gone is not hashed', async () => {
    const env = await startHubWithSim({ env: SLOW_AUTH });
    try {
      // Each client sends a whole login and leaves at once.
      await Promise.all(Array.from({ length: 12 }, (_, i) => new Promise((resolve, reject) => {
        const body = loginBody(i);
        const sock = net.connect(env.hub.port, '127.0.0.1', () => {
          sock.end(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
            + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => { sock.destroy(); resolve(); });
        });
        sock.on('error', reject);
      })));
      // Every login is settled (hashed or skipped) and the queue is empty again...
      const skipped = await waitFor(async () => {
        const pending = await metricOf(env.hub.metricsUrl, 'bailian_hub_worker_pool_pending{pool="crypto"}');
        const n = await metricOf(env.hub.metricsUrl, 'bailian_hub_password_hashes_skipped_total{reason="client_gone"}');
        return pending === 0 && n > 0 ? n : 0;
      }, 'the queued logins of departed clients skipped');
      // ...and those behind the busy workers were never hashed.
      assert.ok(skipped >= 1 && skipped <= 12, String(skipped));
      // A client that stays is still answered.
      const r = await call(env.url, 'POST', '/api/v1/auth/login', { body: JSON.parse(loginBody(99)) });
      assert.equal(r.status, 401);
    } finally {
      await env.stop();
    }
  });

  test('shutdown does not wait for queued hashes: queued logins get 503 and the hub exits', async () => {
    const env = await startHubWithSim({ env: SLOW_AUTH });
    let stopped;
    try {
      const answers = Array.from({ length: 16 }, (_, i) => call(env.url, 'POST', '/api/v1/auth/login',
        { body: JSON.parse(loginBody(i)) }));
      await waitFor(async () => (await metricOf(env.hub.metricsUrl, 'bailian_hub_worker_pool_pending{pool="crypto"}')) >= 8,
        'logins queued for bcrypt');
      stopped = env.hub.stop('SIGTERM');
      const results = await Promise.all(answers);
      const statuses = results.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 401 || s === 503), statuses.join(','));
      const shed = results.filter((r) => r.status === 503);
      assert.ok(shed.length >= 1, statuses.join(','));
      for (const r of shed) {
        assert.equal(r.body.error.code, 'shutting_down');
        assert.equal(r.headers.get('retry-after'), '1');
      }
      const { code } = await stopped;
      assert.equal(code, 0);
      assert.ok(env.hub.logs.some((l) => l.includes('"shutdown_drained"') && l.includes('"clean":true')));
    } finally {
      await env.stop();
    }
  });
});

describe('overload: connections past server.max_connections', () => {
  test('are closed at once, counted and logged; the kernel\'s listen-queue drops are exported', async () => {
    const env = await startHubWithSim({ env: { BAILIAN_HUB_MAX_CONNECTIONS: '2' } });
    const held = [];
    try {
      const metrics = async () => (await (await fetch(`${env.hub.metricsUrl}/metrics`)).text());
      const value = (text, name) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ').pop());
      for (let i = 0; i < 2; i += 1) {
        held.push(await new Promise((resolve, reject) => {
          const s = net.connect(env.hub.port, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        }));
      }
      await waitFor(async () => value(await metrics(), 'bailian_hub_http_connections') === 2, 'two connections open');
      // The third is accepted and closed without a byte.
      const third = await new Promise((resolve, reject) => {
        const s = net.connect(env.hub.port, '127.0.0.1');
        let got = '';
        s.on('data', (d) => { got += d; });
        s.on('close', () => resolve(got));
        s.on('error', (e) => (e.code === 'ECONNRESET' ? resolve(got) : reject(e)));
      });
      assert.equal(third, '');
      const text = await metrics();
      assert.equal(value(text, 'bailian_hub_http_connections_refused_total'), 1);
      assert.ok(Number.isFinite(value(text, 'bailian_hub_tcp_listen_overflows_total')));
      assert.ok(env.hub.logs.some((l) => l.includes('"connection_refused"') && l.includes('"refused_total":1')));
    } finally {
      for (const s of held) s.destroy();
      await env.stop();
    }
  });
});

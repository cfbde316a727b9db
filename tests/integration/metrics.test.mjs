// GET /metrics: the Prometheus exposition on its own loopback listener (and on the main one
// behind a token), with what the hub did in it: requests by route pattern, streams, upstream
// calls and tokens by model, the database, the key pool, rate limits — and never a secret.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser, register } from '../support/api.mjs';
import { SIM_UPSTREAM_KEY, startHub, startHubWithSim } from '../support/hub.mjs';

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/;

// Parses the text format strictly: every line must be a sample or a HELP/TYPE comment, every
// sample's family must have been declared, no series may appear twice.
function parse(text) {
  const samples = new Map();
  const types = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      assert.match(line, COMMENT);
      const [, kind, name, rest] = line.match(/^# (HELP|TYPE) (\S+) (.*)$/);
      if (kind === 'TYPE') {
        assert.ok(!types.has(name), `TYPE ${name} twice`);
        types.set(name, rest);
      }
      continue;
    }
    const m = line.match(SAMPLE);
    assert.ok(m, `not a sample line: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]) || types.has(family), `no TYPE for ${m[1]}`);
    const key = m[1] + (m[2] || '');
    assert.ok(!samples.has(key), `series twice: ${key}`);
    samples.set(key, m[3] === '+Inf' ? Infinity : Number(m[3]));
  }
  return { samples, types };
}

async function scrape(url, token) {
  const res = await fetch(`${url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, ...(res.status === 200 ? parse(text) : {}) };
}

// The value of one series, or 0 when absent.
function value(samples, name, labels = '') {
  return samples.get(labels ? `${name}{${labels}}` : name) ?? 0;
}

function sum(samples, prefix) {
  let s = 0;
  for (const [k, v] of samples) if (k.startsWith(prefix)) s += v;
  return s;
}

describe('metrics on the separate listener', () => {
  let env;
  let user;
  let key;

  before(async () => {
    env = await startHubWithSim({
      env: { BAILIAN_HUB_BCRYPT_COST: '10', BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '2',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000', BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000' },
    });
    user = await newUser(env.url);
    const created = await call(env.url, 'POST', '/api/v1/api-keys', { token: user.token, body: { name: 'metrics' } });
    assert.equal(created.status, 201);
    key = created.body.key;
  });
  after(async () => { await env?.stop(); });

  test('answers Prometheus text on loopback, and nothing on the main listener without a token', async () => {
    assert.ok(env.hub.metricsPort > 0 && env.hub.metricsPort !== env.hub.port);
    const m = await scrape(env.hub.metricsUrl);
    assert.equal(m.status, 200);
    assert.equal(m.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(m.types.get('bailian_hub_http_requests_total'), 'counter');
    assert.equal(m.types.get('bailian_hub_http_request_duration_seconds'), 'histogram');
    assert.equal(m.types.get('bailian_hub_http_active_streams'), 'gauge');
    assert.ok(value(m.samples, 'process_resident_memory_bytes') > 1e6);
    assert.equal(value(m.samples, 'bailian_hub_build_info', 'version="0.1.0",demo_mode="false"'), 1);
    const main = await call(env.url, 'GET', '/metrics');
    assert.equal(main.status, 404);
    // The metrics listener serves /metrics only.
    assert.equal((await call(env.hub.metricsUrl, 'GET', '/healthz')).status, 404);
  });

  test('counts requests by route pattern and status, with latency, never raw paths', async () => {
    const before = (await scrape(env.hub.metricsUrl)).samples;
    const ids = [];
    for (let i = 0; i < 30; i += 1) {
      const id = `0190aaaa-bbbb-7ccc-8ddd-${String(i).padStart(12, '0')}`;
      ids.push(id);
      assert.equal((await call(env.url, 'GET', `/api/v1/conversations/${id}`, { token: user.token })).status, 404);
      assert.equal((await call(env.url, 'GET', `/no/such/${id}`)).status, 404);
    }
    assert.equal((await call(env.url, 'GET', '/healthz')).status, 200);
    const { samples, text } = await scrape(env.hub.metricsUrl);
    const conv = 'method="GET",route="/api/v1/conversations/{id}",status="404"';
    assert.equal(value(samples, 'bailian_hub_http_requests_total', conv) - value(before, 'bailian_hub_http_requests_total', conv), 30);
    const healthz = 'method="GET",route="/healthz"';
    assert.ok(value(samples, 'bailian_hub_http_request_duration_seconds_count', healthz) >= 1);
    assert.equal(value(samples, 'bailian_hub_http_request_duration_seconds_bucket', `${healthz},le="+Inf"`),
      value(samples, 'bailian_hub_http_request_duration_seconds_count', healthz));
    for (const id of ids) assert.ok(!text.includes(id), 'a raw id reached a label');
    assert.ok(!text.includes('/no/such'), 'a raw path reached a label');
  });

  test('upstream calls: api_calls by status, tokens and latency by model, streams, the key pool', async () => {
    const before = (await scrape(env.hub.metricsUrl)).samples;
    const auth = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
    const plain = await fetch(`${env.url}/v1/chat/completions`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'hi [sim:tokens=7]' }] }),
    });
    assert.equal(plain.status, 200);
    const usage = (await plain.json()).usage;
    // A slow stream: while it runs, the active-streams gauge shows it.
    const streamed = await fetch(`${env.url}/v1/chat/completions`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ model: 'qwen-plus', stream: true,
        messages: [{ role: 'user', content: 'slowly [sim:tokens=12] [sim:tps=10]' }] }),
    });
    assert.equal(streamed.status, 200);
    const reader = streamed.body.getReader();
    await reader.read();
    const during = (await scrape(env.hub.metricsUrl)).samples;
    assert.ok(value(during, 'bailian_hub_http_active_streams') >= 1);
    while (!(await reader.read()).done) { /* drain */ }
    const bad = await fetch(`${env.url}/v1/chat/completions`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: 'boom [sim:500]' }] }),
    });
    assert.ok(bad.status >= 500);
    await bad.text();

    let after;
    for (let i = 0; i < 50; i += 1) {  // rows are counted when recorded, right after the answer
      after = (await scrape(env.hub.metricsUrl)).samples;
      if (value(after, 'bailian_hub_upstream_ttft_seconds_count', 'model="qwen-plus"') > value(before, 'bailian_hub_upstream_ttft_seconds_count', 'model="qwen-plus"')
        && sum(after, 'bailian_hub_api_calls_total') - sum(before, 'bailian_hub_api_calls_total') >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const delta = (name, labels) => value(after, name, labels) - value(before, name, labels);
    const ep = 'endpoint="/v1/chat/completions"';
    assert.equal(delta('bailian_hub_api_calls_total', `${ep},status="200"`), 2);
    assert.equal(sum(after, 'bailian_hub_api_calls_total{endpoint="/v1/chat/completions",status="5')
      - sum(before, 'bailian_hub_api_calls_total{endpoint="/v1/chat/completions",status="5'), 1);
    assert.ok(delta('bailian_hub_tokens_total', 'model="qwen-plus",kind="output"') >= usage.completion_tokens + 12);
    assert.ok(delta('bailian_hub_tokens_total', 'model="qwen-plus",kind="input"') >= usage.prompt_tokens);
    assert.equal(delta('bailian_hub_upstream_duration_seconds_count', 'model="qwen-plus"'), 3);
    // Streams: the first token; whole answers: their first byte. The failed call has neither.
    assert.equal(delta('bailian_hub_upstream_ttft_seconds_count', 'model="qwen-plus"'), 2);
    assert.equal(value(after, 'bailian_hub_http_active_streams'), 0);
    assert.ok(delta('bailian_hub_db_operation_duration_seconds_count') >= 3);
    assert.ok(value(after, 'bailian_hub_worker_pool_pending', 'pool="db"') >= 0);
    // The key pool, per key: state set, requests and failures; the secret never.
    const states = [...after.keys()].filter((k) => k.startsWith('bailian_hub_upstream_key_state{'));
    assert.equal(states.length, 5);
    assert.equal(states.filter((k) => after.get(k) === 1).length, 1);
    assert.ok(sum(after, 'bailian_hub_upstream_key_requests_total') >= 3);
  });

  test('rate-limit rejections and cache hits are counted', async () => {
    const u = await register(env.url);
    assert.equal(u.status, 201);
    let limited = 0;
    for (let i = 0; i < 4; i += 1) {
      if ((await login(env.url, u.username, 'Wrong-Password-123')).status === 429) limited += 1;
    }
    assert.ok(limited >= 1);
    for (let i = 0; i < 3; i += 1) assert.equal((await call(env.url, 'GET', '/api/v1/models', { token: user.token })).status, 200);
    const { samples } = await scrape(env.hub.metricsUrl);
    assert.equal(value(samples, 'bailian_hub_rate_limit_rejections_total', 'bucket="login:account"'), limited);
    assert.ok(value(samples, 'bailian_hub_cache_hits_total') >= 1);
    assert.ok(value(samples, 'bailian_hub_worker_pool_wait_seconds_count', 'pool="crypto"') >= 4);
    assert.ok(!(await scrape(env.hub.metricsUrl)).text.includes(u.username));
  });

  test('no secret reaches the exposition', async () => {
    const { text } = await scrape(env.hub.metricsUrl);
    for (const secret of [SIM_UPSTREAM_KEY, key, user.token, user.refresh, user.password]) {
      assert.ok(secret && !text.includes(secret), 'a secret is in /metrics');
    }
    assert.ok(!text.includes(key.slice(0, 12)));
  });
});

describe('metrics behind a token', () => {
  const TOKEN = 'scrape-token-0123456789abcdef';
  let hub;
  before(async () => {
    hub = await startHub({ env: { BAILIAN_HUB_METRICS_TOKEN: TOKEN } });
  });
  after(async () => { await hub?.stop(); });

  test('both listeners ask for the token; the main one then serves /metrics too', async () => {
    for (const url of [hub.url, hub.metricsUrl]) {
      const none = await scrape(url);
      assert.equal(none.status, 401);
      assert.equal(JSON.parse(none.text).error.code, 'unauthenticated');
      assert.ok(!none.text.includes(TOKEN));
      assert.equal((await scrape(url, `${TOKEN}x`)).status, 401);
      assert.equal((await scrape(url, TOKEN.slice(0, -1))).status, 401);
      const ok = await scrape(url, TOKEN);
      assert.equal(ok.status, 200);
      assert.ok(ok.samples.has('process_open_fds'));
      assert.ok(!ok.text.includes(TOKEN));
    }
    assert.ok(!hub.logs.join('\n').includes(TOKEN));
  });
});

describe('metrics listener settings', () => {
  test('off: no second listener', async () => {
    const hub = await startHub({ env: { BAILIAN_HUB_METRICS_LISTEN: 'off' } });
    try {
      assert.equal(hub.metricsPort, 0);
      assert.equal((await call(hub.url, 'GET', '/metrics')).status, 404);
    } finally {
      await hub.stop();
    }
  });

  test('a taken port stops start-up with a clear message', async () => {
    const first = await startHub();
    try {
      await assert.rejects(
        startHub({ env: { BAILIAN_HUB_METRICS_LISTEN: `127.0.0.1:${first.metricsPort}` } }),
        /metrics_listen_failed|exited|BAILIAN_HUB_METRICS_LISTEN/,
      );
    } finally {
      await first.stop();
    }
  });
});

// The hub on MySQL/MariaDB (BAILIAN_HUB_DATABASE_URL=mysql://...), against real mariadbd
// servers these tests start on loopback: chat with history and Chinese search, start-up
// refusals that never show the password, a server restart under load (fast 503s, no hang, no
// acknowledged write lost, service back without a hub restart), two hubs migrating one empty
// database at once, `db copy` from SQLite, backups, and a read replica (heavy reads go there,
// a user reads their own writes, a lagging or dead replica is skipped and /readyz says so).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { runHub, SIM_UPSTREAM_KEY, startHub, startSim, tempDir } from '../support/hub.mjs';
import { MYSQL_PASSWORD, parseMysqlUrl, startMariaDb } from '../support/mariadb.mjs';
import { waitFor } from '../support/wait.mjs';

const FAST_AUTH = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '10000',
};

async function turn(url, token, conversationId, content) {
  return call(url, 'POST', `/api/v1/conversations/${conversationId}/messages`, {
    token, body: { content, stream: false },
  });
}

async function metric(hub, name, labels = '') {
  const text = await (await fetch(`${hub.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('the hub on MariaDB', () => {
  let db;
  let sim;
  const hubs = [];
  const start = async (env, extra = {}) => {
    const hub = await startHub({
      env: { DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY, DASHSCOPE_BASE_URL: sim.url, ...FAST_AUTH, ...env },
      ...extra,
    });
    hubs.push(hub);
    return hub;
  };

  before(async () => {
    db = await startMariaDb({ external: null });
    sim = await startSim();
  });
  after(async () => {
    for (const h of hubs) await h.stop();
    await sim?.stop();
    await db?.stop();
  });

  test('chat, history and conversation search (Chinese too) on a MariaDB store', async () => {
    const url = await db.freshDatabase();
    const hub = await start({ BAILIAN_HUB_DATABASE_URL: url });
    const ready = await call(hub.url, 'GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.checks.database.dialect, 'mysql');
    assert.equal(ready.body.checks.migrations.current, ready.body.checks.migrations.latest);

    const ann = await newUser(hub.url, { display_name: '安娜 🙂' });
    const conv = await call(hub.url, 'POST', '/api/v1/conversations', { token: ann.token, body: { title: '旅行计划' } });
    assert.equal(conv.status, 201, JSON.stringify(conv.body));
    const r = await turn(hub.url, ann.token, conv.body.id, 'echo 我们明天去北京看长城 🏯');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const messages = await call(hub.url, 'GET', `/api/v1/conversations/${conv.body.id}/messages`, { token: ann.token });
    assert.ok(messages.body.items.some((m) => m.content.includes('北京看长城 🏯')));
    for (const q of ['长城', '计划', '北京']) {
      const found = await call(hub.url, 'GET', `/api/v1/conversations?q=${encodeURIComponent(q)}`, { token: ann.token });
      assert.deepEqual(found.body.items.map((c) => c.id), [conv.body.id], q);
    }
    const none = await call(hub.url, 'GET', `/api/v1/conversations?q=${encodeURIComponent('上海')}`, { token: ann.token });
    assert.deepEqual(none.body.items, []);
    const calls = await call(hub.url, 'GET', '/api/v1/history/calls', { token: ann.token });
    assert.equal(calls.status, 200);
    assert.ok(calls.body.items.length >= 1);
    // A value longer than its column is refused by validation, not stored cut short.
    const long = await call(hub.url, 'POST', '/api/v1/conversations', { token: ann.token, body: { title: 'x'.repeat(5000) } });
    assert.equal(long.status, 400, JSON.stringify(long.body));
  });

  test('start-up refusals name the problem in one line, never the password, exit 2', async () => {
    const url = await db.freshDatabase();
    const o = parseMysqlUrl(url);
    const base = { BAILIAN_HUB_DATA_DIR: tempDir(), BAILIAN_HUB_LISTEN: '127.0.0.1:0', BAILIAN_HUB_METRICS_LISTEN: 'off' };
    const cases = [
      ['malformed', `mysql://hub:${MYSQL_PASSWORD}@127.0.0.1:notaport/${o.database}`],
      ['wrong password', `mysql://hub:Wrong-${MYSQL_PASSWORD}@127.0.0.1:${o.port}/${o.database}`],
      ['unreachable', `mysql://hub:${MYSQL_PASSWORD}@127.0.0.1:1/${o.database}`],
      ['no such database', `mysql://hub:${MYSQL_PASSWORD}@127.0.0.1:${o.port}/nope_${o.database}`],
    ];
    for (const [what, bad] of cases) {
      const r = await runHub(['serve'], { ...base, BAILIAN_HUB_DATABASE_URL: bad });
      assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
      const out = r.stdout + r.stderr;
      assert.ok(!out.includes(MYSQL_PASSWORD), `${what}: the password leaked: ${out}`);
      assert.ok(out.trim().length > 0, what);
    }
    // A user without the rights to create tables: the migration is refused, named, exit 2.
    await db.query("CREATE USER IF NOT EXISTS 'reader'@'%' IDENTIFIED BY 'Reader-Pw-123';" +
      `GRANT SELECT ON ${o.database}.* TO 'reader'@'%'`);
    const ro = await runHub(['serve'], { ...base, BAILIAN_HUB_DATABASE_URL: `mysql://reader:Reader-Pw-123@127.0.0.1:${o.port}/${o.database}` });
    assert.equal(ro.code, 2, ro.stdout + ro.stderr);
    assert.match(ro.stdout + ro.stderr, /migration/);
    assert.ok(!(ro.stdout + ro.stderr).includes('Reader-Pw-123'));
  });

  test('two hubs starting on one empty database at once: one migrates, both serve', async () => {
    const url = await db.freshDatabase();
    // Hubs of one installation share the master key (docs/operations.md).
    const env = { BAILIAN_HUB_DATABASE_URL: url, BAILIAN_HUB_MASTER_KEY: randomBytes(32).toString('base64') };
    const [a, b] = await Promise.all([start(env), start(env)]);
    for (const h of [a, b]) assert.equal((await call(h.url, 'GET', '/readyz')).status, 200);
    const { database } = parseMysqlUrl(url);
    const versions = (await db.query(`SELECT version FROM ${database}.schema_migrations ORDER BY version`)).trim().split('\n');
    assert.equal(new Set(versions).size, versions.length, 'every version recorded once');
    // What one hub writes the other reads.
    const u = await newUser(a.url);
    const l = await call(b.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
    assert.equal(l.status, 200);
  });

  test('the server restarts under load: fast 503s, nothing hangs, no acknowledged write lost, back without a hub restart', async (t) => {
    const server = await startMariaDb({ external: null });
    try {
      const url = await server.freshDatabase('timeout_ms=2000');
      const hub = await start({ BAILIAN_HUB_DATABASE_URL: url });
      const u = await newUser(hub.url);
      const conv = await call(hub.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: 'outage' } });
      assert.equal(conv.status, 201);
      const acknowledged = [];
      const statuses = new Map();
      let slowest = 0;
      let stop = false;
      const load = Promise.all([0, 1, 2].map(async (w) => {
        for (let i = 0; !stop; i += 1) {
          const t0 = Date.now();
          const r = await call(hub.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: `w${w}-${i}` } });
          slowest = Math.max(slowest, Date.now() - t0);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 201) acknowledged.push(r.body.id);
          else assert.equal(r.status, 503, JSON.stringify(r.body));
          if (r.status === 503) assert.equal(r.body.error.code, 'database_unavailable', JSON.stringify(r.body));
        }
      }));
      await waitFor(() => acknowledged.length >= 10, 'load before the outage');
      await server.stopOnly();
      await waitFor(() => (statuses.get(503) ?? 0) >= 3, 'requests refused during the outage', 20000);
      const down = await call(hub.url, 'GET', '/readyz');
      assert.equal(down.status, 503);
      await server.startAgain();
      const back = Date.now();
      await waitFor(async () => (await call(hub.url, 'GET', '/readyz')).status === 200, 'ready again', 10000);
      t.diagnostic(`ready again ${Date.now() - back} ms after the server accepted connections`);
      const seenBefore = acknowledged.length;
      await waitFor(() => acknowledged.length >= seenBefore + 5, 'writes succeed again', 10000);
      stop = true;
      await load;
      assert.ok(Date.now() - back < 10000);
      // Every write a client saw succeed is there.
      const { database } = parseMysqlUrl(url);
      const rows = (await server.query(`SELECT id FROM ${database}.conversations`)).trim().split('\n');
      const stored = new Set(rows);
      for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged ${id} is stored`);
      // Each refused request was answered quickly (bounded by the connect timeout), none hung.
      assert.ok(slowest < 15000, `slowest request ${slowest} ms`);
    } finally {
      await server.stop();
    }
  });

  test('db copy moves a SQLite installation to MariaDB and refuses a target with data', async () => {
    const dataDir = tempDir();
    // A SQLite hub even on HUB_TEST_DB=mysql (its file is what is being moved).
    const lite = await start({ BAILIAN_HUB_DATABASE_URL: `sqlite:${path.join(dataDir, 'bailian-hub.db')}` }, { dataDir, keepDataDir: true });
    const u = await newUser(lite.url, { display_name: '复制 🚚' });
    const conv = await call(lite.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: '搬家' } });
    assert.equal((await turn(lite.url, u.token, conv.body.id, 'echo 你好 moving day')).status, 201);
    await lite.stop();
    hubs.splice(hubs.indexOf(lite), 1);

    const url = await db.freshDatabase();
    const copy = await runHub(['db', 'copy', '--from', `sqlite:${path.join(dataDir, 'bailian-hub.db')}`, '--to', url]);
    assert.equal(copy.code, 0, copy.stdout + copy.stderr);
    assert.match(copy.stdout, /every count verified/);
    assert.ok(!(copy.stdout + copy.stderr).includes(MYSQL_PASSWORD), 'the password is never printed');
    const again = await runHub(['db', 'copy', '--from', `sqlite:${path.join(dataDir, 'bailian-hub.db')}`, '--to', url]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/);

    // The same data folder (master key, files) on MariaDB: the user signs in, the history is there.
    const moved = await start({ BAILIAN_HUB_DATABASE_URL: url }, { dataDir, keepDataDir: true });
    const l = await call(moved.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
    assert.equal(l.status, 200);
    const msgs = await call(moved.url, 'GET', `/api/v1/conversations/${conv.body.id}/messages`, { token: l.body.access_token });
    assert.ok(msgs.body.items.some((m) => m.content.includes('你好 moving day')));
    const me = await call(moved.url, 'GET', '/api/v1/users/me', { token: l.body.access_token });
    assert.equal(me.body.display_name, '复制 🚚');
  });

  test('a backup of a MariaDB hub restores into an empty MariaDB database', async () => {
    const dataDir = tempDir();
    const url = await db.freshDatabase();
    const hub = await start({ BAILIAN_HUB_DATABASE_URL: url }, { dataDir, keepDataDir: true });
    const u = await newUser(hub.url);
    const conv = await call(hub.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: 'kept' } });
    assert.equal((await turn(hub.url, u.token, conv.body.id, 'echo backed-up-marker')).status, 201);
    const work = tempDir();
    const out = path.join(work, 'my.bhbk');
    const b = await runHub(['backup', '--out', out], { BAILIAN_HUB_DATA_DIR: dataDir, BAILIAN_HUB_DATABASE_URL: url });
    assert.equal(b.code, 0, b.stdout + b.stderr);

    const target = await db.freshDatabase();
    const r = await runHub(['restore', '--from', out], { BAILIAN_HUB_DATA_DIR: path.join(work, 'restored'), BAILIAN_HUB_DATABASE_URL: target });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const { database } = parseMysqlUrl(target);
    const content = await db.query(`SELECT content FROM ${database}.messages`);
    assert.match(content, /backed-up-marker/);
  });
});

describe('a read replica', () => {
  let primary;
  let replica;
  let sim;
  let hub;
  let hubEnv;
  let url;

  before(async () => {
    primary = await startMariaDb({ logBin: true, serverId: 1 });
    replica = await startMariaDb({ serverId: 2, replicaOf: primary });
    sim = await startSim();
    url = await primary.freshDatabase();
    const { database } = parseMysqlUrl(url);
    await replica.waitForGtid(await primary.gtid());
    hubEnv = {
      DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY, DASHSCOPE_BASE_URL: sim.url, ...FAST_AUTH,
      BAILIAN_HUB_DATABASE_URL: url,
      BAILIAN_HUB_DATABASE_REPLICA_URL: replica.url(database),
      BAILIAN_HUB_DATABASE_REPLICA_MAX_LAG_MS: '1000',
      BAILIAN_HUB_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    hub = await startHub({ env: hubEnv });
  });
  after(async () => {
    await hub?.stop();
    await sim?.stop();
    await replica?.stop();
    await primary?.stop();
  });

  test('heavy reads go to the replica; a user reads their own writes even while it lags; a dead replica is skipped', async () => {
    await waitFor(async () => (await call(hub.url, 'GET', '/readyz')).body.checks.database.replica?.ok === true, 'replica in use');
    const u = await newUser(hub.url);
    const other = await newUser(hub.url);
    const conv = await call(hub.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: 'first' } });
    assert.equal(conv.status, 201);
    // Once the replica has the write, the lists are read there.
    await replica.waitForGtid(await primary.gtid());
    const before = await metric(hub, 'bailian_hub_db_heavy_reads_total', '{target="replica"}');
    const list = await call(hub.url, 'GET', '/api/v1/conversations', { token: other.token });
    assert.equal(list.status, 200);
    const history = await call(hub.url, 'GET', '/api/v1/history/calls', { token: other.token });
    assert.equal(history.status, 200);
    assert.ok((await metric(hub, 'bailian_hub_db_heavy_reads_total', '{target="replica"}')) >= before + 2);

    // The replica stops applying: a user's new conversation still shows in their own list at once.
    await replica.query('STOP SLAVE SQL_THREAD');
    const fresh = await call(hub.url, 'POST', '/api/v1/conversations', { token: u.token, body: { title: 'just written' } });
    assert.equal(fresh.status, 201);
    const mine = await call(hub.url, 'GET', '/api/v1/conversations', { token: u.token });
    assert.ok(mine.body.items.some((c) => c.id === fresh.body.id), 'read your own write');
    // Writes keep coming while the replica stands still: it falls behind its bound and is skipped.
    for (let i = 0; i < 3; i += 1) await call(hub.url, 'POST', '/api/v1/conversations', { token: other.token, body: { title: `lag ${i}` } });
    await waitFor(async () => {
      const r = await call(hub.url, 'GET', '/readyz');
      return r.status === 200 && r.body.checks.database.replica.ok === false;
    }, 'lagging replica skipped', 20000);
    assert.equal(await metric(hub, 'bailian_hub_db_replica_up'), 0);
    const primaryReads = await metric(hub, 'bailian_hub_db_heavy_reads_total', '{target="primary"}');
    const theirs = await call(hub.url, 'GET', '/api/v1/conversations', { token: other.token });
    assert.equal(theirs.body.items.length, 3, 'served by the primary while the replica lags');
    assert.ok((await metric(hub, 'bailian_hub_db_heavy_reads_total', '{target="primary"}')) > primaryReads);
    // It catches up and is used again.
    await replica.query('START SLAVE SQL_THREAD');
    await waitFor(async () => (await call(hub.url, 'GET', '/readyz')).body.checks.database.replica.ok === true, 'replica back', 20000);
    // The replica's server dies: the hub stays ready, heavy reads still answer.
    await replica.stopOnly();
    await waitFor(async () => {
      const r = await call(hub.url, 'GET', '/readyz');
      return r.status === 200 && r.body.checks.database.replica.ok === false;
    }, 'dead replica skipped', 20000);
    const still = await call(hub.url, 'GET', '/api/v1/history/calls', { token: u.token });
    assert.equal(still.status, 200);
    // A hub that starts while its replica is down starts, ready, and says why it skips it.
    const second = await startHub({ env: hubEnv });
    try {
      const first = await call(second.url, 'GET', '/readyz');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.checks.database.replica.ok, false);
      // The replica is probed off the start-up path: wait for the first probe's verdict.
      let r = first;
      await waitFor(async () => {
        r = await call(second.url, 'GET', '/readyz');
        return !/not probed/.test(r.body.checks.database.replica.reason);
      }, 'the first replica probe');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.checks.database.replica.ok, false);
      assert.match(r.body.checks.database.replica.reason, /unreachable/);
      const l = await call(second.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
      assert.equal(l.status, 200);
      assert.equal((await call(second.url, 'GET', '/api/v1/conversations', { token: l.body.access_token })).status, 200);
    } finally {
      await second.stop();
    }
  });
});

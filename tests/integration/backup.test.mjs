// Backups and restores with the real binaries: a backup taken by `bailian-hub backup` while
// chat turns are being written, restored with `bailian-hub restore` into a fresh data folder
// and served again (every acknowledged turn, the image, the api_calls rows, the encrypted
// upstream key with the same master key; the manifest's row counts equal the restored
// database's); tampered, truncated, wrongly-keyed and too-new backups refused before anything
// is written; a write error (the file-size limit, as a full disk) cleaned up while the hub
// keeps serving; scheduled backups with retention, and their failures counted.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { allLogs, HUB_BIN, queryDb, runHub, SIM_UPSTREAM_KEY, startHub, startHubWithSim, tableNames, tempDir, USE_MYSQL, withTestDb } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD, sql } from '../support/seed.mjs';
import { waitFor } from '../support/wait.mjs';

const ENV = {
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_IMAGE_FIRST_POLL_MS: '100',
  BAILIAN_HUB_IMAGE_MAX_POLL_MS: '200',
  BAILIAN_HUB_BCRYPT_COST: '10',
};
const PASSPHRASE = 'a backup passphrase for tests';

function isEmptyDir(dir) {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

// bailian-hub with a shell in front, for a file-size limit (ulimit -f, in KiB).
async function runHubLimited(args, env, fsizeKiB) {
  const fullEnv = await withTestDb({ PATH: process.env.PATH, HOME: process.env.HOME, ...env });
  return new Promise((resolve) => {
    const quoted = [HUB_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const proc = spawn('bash', ['-c', `ulimit -f ${fsizeKiB}; exec ${quoted}`], {
      env: fullEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function rowCounts(dataDir, tables) {
  const out = {};
  for (const t of tables) {
    const rows = await queryDb(dataDir, `SELECT count(*) AS n FROM \`${t}\``);
    out[t] = rows[0].n;
  }
  return out;
}

describe('backup and restore', () => {
  let env;
  let admin;
  let alice;
  const work = tempDir('hub-backup-work-');
  const passFile = path.join(work, 'passphrase');

  before(async () => {
    env = await startHubWithSim({ env: ENV });
    writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    await createUser(env.hub.dataDir, 'backup_admin', 'admin');
    const l = await call(env.url, 'POST', '/api/v1/auth/login', { body: { username: 'backup_admin', password: SEED_PASSWORD } });
    admin = l.body.access_token;
    alice = await newUser(env.url);
  });
  after(async () => { await env?.stop(); });

  test('a backup under load restores every acknowledged turn, the image, the calls and the upstream key', async () => {
    // An upstream key stored encrypted under the master key (the simulator accepts it).
    const key = await call(env.url, 'POST', '/api/v1/admin/upstream-keys', {
      token: admin, body: { name: 'stored-key', secret: SIM_UPSTREAM_KEY, weight: 1 },
    });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    // An image, kept in the file store.
    const gen = await call(env.url, 'POST', '/api/v1/images/generations', {
      token: alice.token, body: { prompt: 'a lighthouse at dusk', n: 1 },
    });
    assert.equal(gen.status, 202, JSON.stringify(gen.body));
    const done = await waitFor(async () => {
      const r = await call(env.url, 'GET', `/api/v1/images/generations/${gen.body.id}`, { token: alice.token });
      return r.body.status === 'succeeded' ? r.body : null;
    }, 'the image');
    const imageId = done.images[0].id;
    const imageBytes = Buffer.from(await (await fetch(`${env.url}/api/v1/files/${imageId}`, {
      headers: { Authorization: `Bearer ${alice.token}` },
    })).arrayBuffer());
    assert.ok(imageBytes.length > 100);

    const conv = await call(env.url, 'POST', '/api/v1/conversations', { token: alice.token, body: { title: 'backup load' } });
    assert.equal(conv.status, 201);
    const turn = (i) => call(env.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`, {
      token: alice.token, body: { content: `echo turn-${i}-marker`, stream: false },
    });
    // Turns acknowledged before the backup starts must all be in it.
    const acknowledged = [];
    for (let i = 0; i < 10; i += 1) {
      const r = await turn(i);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      acknowledged.push(i);
    }
    // More turns keep arriving while the backup runs: four writers, each in a conversation
    // of its own.
    let stop = false;
    let during = 0;
    const load = Promise.all([0, 1, 2, 3].map(async (w) => {
      const c = await call(env.url, 'POST', '/api/v1/conversations', { token: alice.token, body: { title: `load ${w}` } });
      for (let i = 0; !stop; i += 1) {
        const r = await call(env.url, 'POST', `/api/v1/conversations/${c.body.id}/messages`, {
          token: alice.token, body: { content: `echo load-${w}-${i}`, stream: false },
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        during += 1;
      }
    }));
    await waitFor(() => during >= 4, 'the load to start');
    const out = path.join(work, 'under-load.bhbk');
    const b = await runHub(['backup', '--out', out, '--passphrase-file', passFile], { BAILIAN_HUB_DATA_DIR: env.hub.dataDir });
    stop = true;
    await load;
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /encrypted/);
    assert.match(b.stdout, /master key not included/);
    assert.ok(!readFileSync(out).includes('turn-1-marker'), 'the backup is encrypted');

    // Restore into a fresh folder that holds only the same master key.
    const target = path.join(tempDir('hub-restore-'), 'data');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(target, { mode: 0o700 });
    copyFileSync(path.join(env.hub.dataDir, 'master.key'), path.join(target, 'master.key'));
    const r = await runHub(['restore', '--from', out, '--passphrase-file', passFile, '--data-dir', target], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored/);

    // The manifest's counts are the restored database's, table by table.
    const manifest = JSON.parse(r.stdout.match(/manifest: (.*)$/m)?.[1] ?? 'null') ?? null;
    const restoredCounts = await rowCounts(target, await tableNames(target));
    assert.ok(manifest, r.stdout);
    assert.deepEqual(restoredCounts, manifest.row_counts);
    assert.ok(manifest.row_counts.messages >= 20);

    // The restored hub serves it all; upstream calls use the restored (encrypted) key.
    const restored = await startHub({ dataDir: target, env: { ...ENV, DASHSCOPE_BASE_URL: env.sim.url } });
    try {
      const login = await call(restored.url, 'POST', '/api/v1/auth/login', { body: { username: alice.username, password: alice.password } });
      assert.equal(login.status, 200);
      const t = login.body.access_token;
      const msgs = await call(restored.url, 'GET', `/api/v1/conversations/${conv.body.id}/messages?limit=200`, { token: t });
      assert.equal(msgs.status, 200);
      const texts = msgs.body.items.map((m) => m.content).join('\n');
      for (const i of acknowledged) assert.ok(texts.includes(`turn-${i}-marker`), `turn ${i} is missing`);
      const img = await fetch(`${restored.url}/api/v1/files/${imageId}`, { headers: { Authorization: `Bearer ${t}` } });
      assert.equal(img.status, 200);
      assert.ok(Buffer.from(await img.arrayBuffer()).equals(imageBytes));
      const calls = await call(restored.url, 'GET', '/api/v1/history/calls?limit=200', { token: t });
      assert.equal(calls.status, 200);
      assert.ok(calls.body.items.length >= acknowledged.length + 1);
      const adminLogin = await call(restored.url, 'POST', '/api/v1/auth/login', { body: { username: 'backup_admin', password: SEED_PASSWORD } });
      const keys = await call(restored.url, 'GET', '/api/v1/admin/upstream-keys', { token: adminLogin.body.access_token });
      assert.ok(keys.body.items.some((k) => k.name === 'stored-key'));
      const again = await call(restored.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`, {
        token: t, body: { content: 'echo after restore', stream: false },
      });
      assert.equal(again.status, 201, JSON.stringify(again.body));
    } finally {
      await restored.stop();
    }
  });

  test('tampered, truncated, wrongly keyed and too new backups are refused before anything is written', async () => {
    const out = path.join(work, 'plain.bhbk');
    const b = await runHub(['backup', '--out', out], { BAILIAN_HUB_DATA_DIR: env.hub.dataDir });
    assert.equal(b.code, 0, b.stderr);
    const good = readFileSync(out);
    const restoreInto = async (file, extra = []) => {
      const target = path.join(tempDir('hub-restore-bad-'), 'data');
      const r = await runHub(['restore', '--from', file, '--data-dir', target, ...extra], {});
      return { ...r, target };
    };

    const tampered = Buffer.from(good);
    tampered[Math.floor(good.length / 2)] ^= 0x20;
    writeFileSync(path.join(work, 'tampered.bhbk'), tampered);
    let r = await restoreInto(path.join(work, 'tampered.bhbk'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /damaged or was changed|incomplete/);
    assert.ok(isEmptyDir(r.target), 'nothing was written');

    writeFileSync(path.join(work, 'truncated.bhbk'), good.subarray(0, good.length - 100));
    r = await restoreInto(path.join(work, 'truncated.bhbk'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /incomplete|damaged/);
    assert.ok(isEmptyDir(r.target));

    const enc = path.join(work, 'enc.bhbk');
    assert.equal((await runHub(['backup', '--out', enc, '--passphrase-file', passFile], { BAILIAN_HUB_DATA_DIR: env.hub.dataDir })).code, 0);
    const wrong = path.join(work, 'wrong-pass');
    writeFileSync(wrong, 'not the right passphrase at all\n');
    r = await restoreInto(enc, ['--passphrase-file', wrong]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /passphrase does not open this backup/);
    assert.ok(!r.stderr.includes('not the right passphrase'));
    assert.ok(isEmptyDir(r.target));
    r = await restoreInto(enc);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /encrypted/);

    // Into a folder that already holds a hub: refused.
    r = await runHub(['restore', '--from', out, '--data-dir', env.hub.dataDir], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /only into an empty data folder/);

    // A backup of a database from a newer hub (schema version 999), made by a SQLite hub (it
    // copies its file as it is) even on HUB_TEST_DB=mysql; the restore goes into the suite's store.
    const future = tempDir('hub-future-');
    const futureFile = path.join(future, 'bailian-hub.db');
    const futureEnv = { BAILIAN_HUB_DATA_DIR: future, BAILIAN_HUB_DATABASE_URL: `sqlite:${futureFile}` };
    assert.equal((await runHub(['migrate'], futureEnv)).code, 0);
    execFileSync('sqlite3', [futureFile, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 0);"]);
    const fut = path.join(work, 'future.bhbk');
    const fb = await runHub(['backup', '--out', fut], futureEnv);
    assert.equal(fb.code, 0, fb.stderr);
    r = await restoreInto(fut);
    assert.equal(r.code, 1);
    // On MariaDB the dialect is checked first: a SQLite backup goes to MariaDB with `db copy`.
    assert.match(r.stderr, USE_MYSQL ? /backup is of a sqlite database; this hub uses mysql/ : /newer than this program knows/);
    assert.ok(isEmptyDir(r.target));

    // A database of the suite's store from a newer hub: backed up as is (SQLite) or refused
    // with a clear reason (MariaDB: a backup is written through this program's schema).
    const newer = tempDir('hub-newer-');
    assert.equal((await runHub(['migrate'], { BAILIAN_HUB_DATA_DIR: newer })).code, 0);
    await sql(newer, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 0);");
    const nb = await runHub(['backup', '--out', path.join(work, 'newer.bhbk')], { BAILIAN_HUB_DATA_DIR: newer });
    if (USE_MYSQL) {
      assert.equal(nb.code, 1, nb.stdout);
      assert.match(nb.stderr, /schema version/);
      assert.ok(!existsSync(path.join(work, 'newer.bhbk')), 'no partial file is left');
    } else {
      assert.equal(nb.code, 0, nb.stderr);
    }
  });

  test('a write error during a backup removes the partial file and the hub keeps serving', async () => {
    const dir = tempDir('hub-backup-full-');
    const r = await runHubLimited(['backup', '--out', path.join(dir, 'full.bhbk')], { BAILIAN_HUB_DATA_DIR: env.hub.dataDir }, 64);
    assert.equal(r.code, 1, `${r.signal} ${r.stderr}`);
    assert.match(r.stderr, /could not be written/);
    assert.deepEqual(readdirSync(dir), [], 'no partial file is left');
    assert.equal((await call(env.url, 'GET', '/healthz')).status, 200);
    const conv = await call(env.url, 'POST', '/api/v1/conversations', { token: alice.token, body: {} });
    const turn = await call(env.url, 'POST', `/api/v1/conversations/${conv.body.id}/messages`, {
      token: alice.token, body: { content: 'echo still serving', stream: false },
    });
    assert.equal(turn.status, 201);
  });

  test('scheduled backups keep the newest N; a failing schedule is logged and counted', async () => {
    const dir = tempDir('hub-backup-sched-');
    const hub = await startHub({ env: { ...ENV, BAILIAN_HUB_BACKUP_DIR: dir, BAILIAN_HUB_BACKUP_EVERY: '1s', BAILIAN_HUB_BACKUP_KEEP: '2', BAILIAN_HUB_BACKUP_PASSPHRASE: PASSPHRASE } });
    try {
      await newUser(hub.url);
      await waitFor(() => hub.logs.filter((l) => l.includes('"backup_written"')).length >= 3
        && hub.logs.some((l) => l.includes('"backup_removed"')), 'three scheduled backups and a removal');
      const metrics = await (await fetch(`${hub.metricsUrl}/metrics`)).text();
      assert.ok(Number(metrics.match(/bailian_hub_backups_total\{result="ok"\} (\d+)/)?.[1]) >= 3, metrics);
    } finally {
      await hub.stop();
    }
    const left = readdirSync(dir);
    assert.equal(left.length, 2, left.join(' '));
    for (const name of left) assert.match(name, /^bailian-hub-\d{8}T\d{9}Z\.bhbk$/);
    // The newest one restores.
    const target = path.join(tempDir('hub-restore-sched-'), 'data');
    const newest = left.sort().at(-1);
    const r = await runHub(['restore', '--from', path.join(dir, newest), '--data-dir', target], { BAILIAN_HUB_BACKUP_PASSPHRASE: PASSPHRASE });
    assert.equal(r.code, 0, r.stderr);

    // A backup folder that cannot be made: each run fails, the hub serves on.
    const blocker = path.join(tempDir('hub-backup-bad-'), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const bad = await startHub({ env: { ...ENV, BAILIAN_HUB_BACKUP_DIR: path.join(blocker, 'sub'), BAILIAN_HUB_BACKUP_EVERY: '1s' } });
    try {
      await waitFor(() => bad.logs.some((l) => l.includes('"backup_failed"')), 'a failed scheduled backup');
      assert.equal((await call(bad.url, 'GET', '/healthz')).status, 200);
      const metrics = await (await fetch(`${bad.metricsUrl}/metrics`)).text();
      assert.ok(Number(metrics.match(/bailian_hub_backups_total\{result="failed"\} (\d+)/)?.[1]) >= 1, metrics);
    } finally {
      await bad.stop();
    }
  });

  test('the passphrase never reaches a log line or an error', () => {
    assert.ok(!allLogs.join('\n').includes(PASSPHRASE));
  });
});

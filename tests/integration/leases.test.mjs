// Work that runs once across hubs: two hubs on ONE MariaDB database and one bailian-sim. Only
// the hub holding the "images" lease talks to DashScope about image tasks, whichever hub
// accepted them; when it is killed (SIGKILL) with generations pending, the other hub takes the
// lease over after the ttl and finishes every one, each submitted once and billed once (one
// api_calls row); a submit cut short by the kill is never repeated; scheduled backups run once
// per slot across both hubs. docs/architecture.md, "Work that runs once".
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { SIM_UPSTREAM_KEY, startHub, startSim, tempDir } from '../support/hub.mjs';
import { parseMysqlUrl, startMariaDb } from '../support/mariadb.mjs';
import { waitFor } from '../support/wait.mjs';

const TTL_MS = 1500;
const ENV = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '10000',
  BAILIAN_HUB_LEASE_TTL_MS: String(TTL_MS),
  BAILIAN_HUB_IMAGE_FIRST_POLL_MS: '150',
  BAILIAN_HUB_IMAGE_MAX_POLL_MS: '400',
  BAILIAN_HUB_IMAGE_SUBMIT_GRACE_MS: '2000',
  BAILIAN_HUB_BACKUP_EVERY: '1s',
  BAILIAN_HUB_BACKUP_KEEP: '1000',
};
const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

async function metric(hub, name, labels) {
  const text = await (await fetch(`${hub.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function leasesOf(hub) {
  const r = await call(hub.url, 'GET', '/readyz');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.leases;
}

async function holds(hub, name) {
  return (await leasesOf(hub)).held.some((l) => l.name === name);
}

async function simRequests(sim, pathPart) {
  const r = await fetch(`${sim.url}/_sim/requests?limit=5000&path=${encodeURIComponent(pathPart)}`);
  return (await r.json()).requests;
}

// The submits of the generation whose prompt is `prompt` (prompts are unique per test).
async function submitsOf(sim, prompt) {
  return (await simRequests(sim, 'image-synthesis')).filter((r) => r.body?.input?.prompt === prompt);
}

describe('leases: work that runs on one hub at a time', () => {
  let db;
  let sim;
  let database;
  let url;
  const dirs = [];
  const hubs = [];
  const env = {};

  const rows = async (sql) => {
    const out = (await db.query(`USE ${database}; ${sql}`)).trim();
    return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
  };

  // Hubs of one installation share the database and the master key (which opens the token
  // signing keys kept in the database).
  const startOne = async (name) => {
    const dir = tempDir(`hub-lease-${name}-`);
    dirs.push(dir);
    const hub = await startHub({
      dataDir: dir,
      env: { ...env, BAILIAN_HUB_BACKUP_DIR: path.join(dir, 'backups') },
    });
    hub.name = name;
    hubs.push(hub);
    return hub;
  };

  let a;
  let b;
  let user;

  before(async () => {
    db = await startMariaDb({ external: null });
    url = await db.freshDatabase();
    database = parseMysqlUrl(url).database;
    sim = await startSim({ args: ['--task-seconds', '3'] });
    Object.assign(env, ENV, {
      BAILIAN_HUB_DATABASE_URL: url,
      BAILIAN_HUB_MASTER_KEY: randomBytes(32).toString('base64'),
      DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY,
      DASHSCOPE_BASE_URL: sim.url,
    });
    a = await startOne('a');
    // A takes both leases before B starts, so the test knows which hub holds them.
    await waitFor(async () => (await holds(a, 'images')) && (await holds(a, 'backups')), 'hub A to hold its leases');
    b = await startOne('b');
    user = await newUser(a.url);
  });

  after(async () => {
    for (const h of hubs) await h.stop('SIGKILL');
    await sim?.stop();
    await db?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('one hub holds each lease; /readyz and the metric say which', async () => {
    const la = await leasesOf(a);
    const lb = await leasesOf(b);
    assert.notEqual(la.instance, lb.instance);
    assert.equal(la.ttl_ms, TTL_MS);
    assert.deepEqual(la.held.map((l) => l.name).sort(), ['backups', 'images']);
    assert.deepEqual(lb.held, []);
    assert.equal(await metric(a, 'bailian_hub_lease_held', '{name="images"}'), 1);
    assert.equal(await metric(b, 'bailian_hub_lease_held', '{name="images"}'), 0);
    const [[holder, generation]] = await rows("SELECT holder, generation FROM leases WHERE name = 'images'");
    assert.equal(holder, la.instance);
    assert.equal(Number(generation), la.held.find((l) => l.name === 'images').generation);
  });

  test('generations accepted by the hub without the lease are worked on by the holder only', async () => {
    // A token signed by A works on B (shared keys), and B accepts the generations.
    const prompts = [0, 1, 2].map((i) => `a lighthouse at dusk, via B ${i} ${randomBytes(3).toString('hex')}`);
    const ids = [];
    for (const prompt of prompts) {
      const r = await call(b.url, 'POST', '/api/v1/images/generations', { token: user.token, body: { prompt, n: 1 } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    for (const id of ids) {
      const done = await waitFor(async () => {
        const r = await call(b.url, 'GET', `/api/v1/images/generations/${id}`, { token: user.token });
        assert.equal(r.status, 200);
        return FINISHED.has(r.body.status) && r.body;
      }, `generation ${id} to finish`);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
    }
    // Every request about them came from A's poller; B made none.
    for (const kind of ['submit', 'poll', 'download']) {
      assert.equal(await metric(b, 'bailian_hub_image_task_requests_total', `{kind="${kind}"}`), 0, kind);
      assert.ok((await metric(a, 'bailian_hub_image_task_requests_total', `{kind="${kind}"}`)) >= 3, kind);
    }
    for (const prompt of prompts) assert.equal((await submitsOf(sim, prompt)).length, 1, prompt);
    for (const id of ids) {
      const [[calls]] = await rows(`SELECT count(*) FROM api_calls c JOIN image_generations g ON g.task_id = c.upstream_task_id WHERE g.id = '${id}'`);
      assert.equal(Number(calls), 1, id);
    }
  });

  test('SIGKILL of the holder with generations pending: B takes the lease over and finishes each once', async () => {
    const tag = randomBytes(3).toString('hex');
    const prompts = [0, 1, 2, 3].map((i) => `a paper kite ${tag} ${i}`);
    // Cut short right after DashScope got it: the sim holds this submit's answer back, so A
    // dies between the submit and recording the task id.
    const hung = `[sim:fault=stall-before-headers:20000] a stalled kite ${tag}`;
    const ids = [];
    for (const prompt of [...prompts, hung]) {
      const r = await call(a.url, 'POST', '/api/v1/images/generations', { token: user.token, body: { prompt, n: 2 } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    const hungId = ids.pop();
    // Every task submitted (and still running: tasks take 3 s), the hung submit in flight.
    await waitFor(async () => {
      const [[n]] = await rows(`SELECT count(*) FROM image_generations WHERE task_id <> '' AND id IN (${ids.map((i) => `'${i}'`).join(',')})`);
      return Number(n) === ids.length && (await submitsOf(sim, hung)).length === 1;
    }, 'the tasks to be submitted by A');
    const [[pendingBefore]] = await rows(`SELECT count(*) FROM image_generations WHERE accounted_at IS NULL AND id IN (${ids.map((i) => `'${i}'`).join(',')})`);
    assert.equal(Number(pendingBefore), ids.length, 'all still pending when A dies');
    const gen = (await leasesOf(a)).held.find((l) => l.name === 'images').generation;

    a.proc.kill('SIGKILL');
    await a.exited;
    // B takes the lease over once it expired (the ttl), under a new fencing generation.
    const took = await waitFor(async () => (await leasesOf(b)).held.find((l) => l.name === 'images'), 'B to take the images lease', 20000);
    assert.equal(took.generation, gen + 1);
    assert.ok(b.logs.some((l) => l.includes('"lease_gained"') && l.includes('"images"')));

    for (const id of ids) {
      const done = await waitFor(async () => {
        const r = await call(b.url, 'GET', `/api/v1/images/generations/${id}`, { token: user.token });
        assert.equal(r.status, 200);
        return FINISHED.has(r.body.status) && r.body;
      }, `generation ${id} to be finished by B`);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.equal(done.images.length, 2);
    }
    // Settled and billed once each; submitted once each (never again by B); every image kept.
    await waitFor(async () => {
      const [[n]] = await rows(`SELECT count(*) FROM image_generations WHERE accounted_at IS NULL AND id IN (${ids.map((i) => `'${i}'`).join(',')})`);
      return Number(n) === 0;
    }, 'every generation settled');
    for (const [i, id] of ids.entries()) {
      const [[calls, images]] = await rows(`SELECT (SELECT count(*) FROM api_calls c JOIN image_generations g ON g.task_id = c.upstream_task_id WHERE g.id = '${id}'), (SELECT count(*) FROM images WHERE generation_id = '${id}' AND status = 'succeeded')`);
      assert.equal(Number(calls), 1, `one api_calls row for ${id}`);
      assert.equal(Number(images), 2, `two images for ${id}`);
      assert.equal((await submitsOf(sim, prompts[i])).length, 1, `submitted once: ${prompts[i]}`);
    }
    assert.ok((await metric(b, 'bailian_hub_image_task_requests_total', '{kind="download"}')) >= 8);

    // The submit A never saw answered is not repeated: after the grace it fails as
    // submit_interrupted, billed once (no image, no cost).
    const cut = await waitFor(async () => {
      const r = await call(b.url, 'GET', `/api/v1/images/generations/${hungId}`, { token: user.token });
      return FINISHED.has(r.body.status) && r.body;
    }, 'the interrupted generation to end', 20000);
    assert.equal(cut.status, 'failed');
    assert.equal(cut.error.code, 'submit_interrupted', JSON.stringify(cut));
    assert.equal((await submitsOf(sim, hung)).length, 1, 'never submitted a second time');
    await waitFor(async () => {
      const [[n]] = await rows(`SELECT count(*) FROM image_generations WHERE id = '${hungId}' AND accounted_at IS NOT NULL`);
      return Number(n) === 1;
    }, 'the interrupted generation settled');
    const [[hungCalls]] = await rows(`SELECT count(*) FROM api_calls WHERE user_id = (SELECT user_id FROM image_generations WHERE id = '${hungId}') AND error_code = 'submit_interrupted'`);
    assert.equal(Number(hungCalls), 1);
  });

  test('scheduled backups: one per slot across both hubs', async () => {
    // A is gone; B holds the backups lease now too.
    await waitFor(async () => holds(b, 'backups'), 'B to take the backups lease', 20000);
    const writtenBy = (hub) => hub.logs.filter((l) => l.includes('"backup_written"')).length;
    const before = writtenBy(b);
    await waitFor(async () => writtenBy(b) >= before + 2, 'B to write two more backups', 20000);
    const written = hubs.reduce((n, h) => n + writtenBy(h), 0);
    const failed = hubs.reduce((n, h) => n + h.logs.filter((l) => l.includes('"backup_failed"')).length, 0);
    assert.equal(failed, 0);
    const [[slots, distinct]] = await rows("SELECT count(*), count(DISTINCT slot) FROM job_runs WHERE job = 'backups'");
    assert.equal(Number(slots), Number(distinct));
    // Each backup written belongs to a slot claimed once; a slot whose backup was still being
    // written when A was killed has a claim and no file, never two files.
    assert.ok(written <= Number(slots), `${written} backups for ${slots} slots`);
    assert.ok(written >= Number(slots) - 1, `${written} backups for ${slots} slots`);
    const holders = new Set((await rows("SELECT DISTINCT holder FROM job_runs WHERE job = 'backups'")).map(([h]) => h));
    assert.ok(holders.size >= 2, 'A and then B took slots');
  });
});

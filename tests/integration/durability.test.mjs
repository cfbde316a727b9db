// Durability under kill -9: several clients keep calls going (platform-key
// /v1/chat/completions, non-streamed, and conversation turns with stream:false) while the hub
// is killed with SIGKILL after a random number of answers; it is restarted on the same data
// dir, and every call whose complete 2xx answer reached a client must be in the database (its
// api_calls row; a turn's question and answer), and the database must pass its integrity
// check. Once per SQLite sync mode (BAILIAN_HUB_DB_SYNC=full, the default, and normal: both
// promise to survive the death of the process).
//
// The kill point is drawn per run from a seed printed with the test; replay a failure with
// DURABILITY_SEED=<seed>.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { queryDb, startHub, startSim, tempDir, USE_MYSQL, SIM_UPSTREAM_KEY } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const COMPLETION_CLIENTS = 3;
const TURN_CLIENTS = 3;

// mulberry32: a small seeded generator, so that a failing run can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hubEnv = (mode) => ({
  DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY,
  BAILIAN_HUB_DB_SYNC: mode,
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_LIMITS_USER_RPM: '1000000',
  BAILIAN_HUB_LIMITS_USER_TPM: '1000000000',
});

async function crashRun(mode) {
  const seed = process.env.DURABILITY_SEED ? Number(process.env.DURABILITY_SEED)
    : Math.floor(Math.random() * 2 ** 31);
  const random = rng(seed);
  const killAfter = 20 + Math.floor(random() * 180);  // answers seen before the kill
  console.log(`durability (${mode}): DURABILITY_SEED=${seed} kills after ${killAfter} answers`);

  const sim = await startSim({ args: ['--history', '100000'] });
  const dir = tempDir('hub-durability-');
  let hub;
  let restarted;
  try {
    hub = await startHub({ dataDir: dir, env: { ...hubEnv(mode), DASHSCOPE_BASE_URL: sim.url } });
    const user = await newUser(hub.url);
    const created = await call(hub.url, 'POST', '/api/v1/api-keys', { token: user.token, body: { name: 'crash' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.key;
    const conversations = [];
    for (let i = 0; i < TURN_CLIENTS; i += 1) {
      const c = await call(hub.url, 'POST', '/api/v1/conversations', { token: user.token, body: { title: `crash ${i}` } });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      conversations.push(c.body.id);
    }

    // What the clients saw answered, completely, with a 2xx.
    const completions = [];  // the marker each answered completion carried
    const turns = [];        // {conversation, question, answer} ids
    let answers = 0;
    let killed = false;
    let otherFailures = [];
    const answered = () => {
      answers += 1;
      if (!killed && answers >= killAfter) {
        killed = true;
        hub.proc.kill('SIGKILL');
      }
    };
    const completionClient = async (n) => {
      for (let i = 0; !killed; i += 1) {
        const marker = `crash-${mode}-c${n}-${i}`;
        try {
          const res = await fetch(`${hub.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ model: 'qwen-plus', messages: [{ role: 'user', content: `echo ${marker}` }] }),
          });
          const body = await res.json();
          if (res.status !== 200) {
            if (!killed) otherFailures.push(`completion ${res.status} ${JSON.stringify(body)}`);
            continue;
          }
          assert.equal(body.choices[0].message.content, `echo ${marker}`);
          completions.push(marker);
          answered();
        } catch (e) {
          if (!killed) otherFailures.push(`completion: ${e.message}`);
        }
      }
    };
    const turnClient = async (n) => {
      const conv = conversations[n];
      for (let i = 0; !killed; i += 1) {
        try {
          const res = await fetch(`${hub.url}/api/v1/conversations/${conv}/messages`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ content: `echo crash-${mode}-t${n}-${i}`, stream: false }),
          });
          const body = await res.json();
          if (res.status !== 201) {
            if (!killed) otherFailures.push(`turn ${res.status} ${JSON.stringify(body)}`);
            continue;
          }
          turns.push({ conversation: conv, question: body.user_message.id, answer: body.message.id,
            content: body.message.content });
          answered();
        } catch (e) {
          if (!killed) otherFailures.push(`turn: ${e.message}`);
        }
      }
    };
    const clients = [];
    for (let n = 0; n < COMPLETION_CLIENTS; n += 1) clients.push(completionClient(n));
    for (let n = 0; n < TURN_CLIENTS; n += 1) clients.push(turnClient(n));
    await Promise.all(clients);
    const exit = await hub.exited;
    assert.equal(exit.signal, 'SIGKILL', 'the hub was killed, it did not exit by itself');
    assert.deepEqual(otherFailures, [], 'no call failed before the kill');
    assert.ok(answers >= killAfter);
    assert.ok(completions.length > 0 && turns.length > 0,
      `both kinds of call were answered (${completions.length} completions, ${turns.length} turns)`);

    // Restarted on the same data dir (SQLite recovers its WAL on open).
    restarted = await startHub({ dataDir: dir, env: { ...hubEnv(mode), DASHSCOPE_BASE_URL: sim.url } });
    await waitFor(async () => (await fetch(`${restarted.url}/readyz`)).status === 200, 'the restarted hub ready');

    // Completions: the sim's record of each marker's upstream request gives its request id,
    // which is what api_calls keeps (upstream_request_id).
    const simRecords = (await (await fetch(`${sim.url}/_sim/requests?limit=100000`)).json()).requests;
    const upstreamIdOf = new Map();
    for (const r of simRecords) {
      const msgs = r.body?.messages || [];
      const last = msgs[msgs.length - 1];
      if (r.route === 'compat.chat' && last && typeof last.content === 'string') {
        upstreamIdOf.set(last.content.replace(/^echo /, ''), r.request_id);
      }
    }
    const rows = await queryDb(dir,
      `SELECT upstream_request_id, status_code, endpoint FROM api_calls WHERE user_id = '${user.user.id}'`);
    const stored = new Map(rows.map((r) => [r.upstream_request_id, r]));
    const missing = [];
    for (const marker of completions) {
      const rid = upstreamIdOf.get(marker);
      assert.ok(rid, `the sim saw ${marker}`);
      const row = stored.get(rid);
      if (!row) missing.push(marker);
      else assert.equal(row.status_code, 200);
    }
    assert.deepEqual(missing, [], `answered completions without their api_calls row (seed ${seed})`);

    // Turns: both messages of every answered turn, and the answer's text as the client saw it.
    const ids = turns.flatMap((t) => [t.question, t.answer]);
    const msgRows = await queryDb(dir,
      `SELECT id, conversation_id, role, content FROM messages WHERE id IN (${ids.map((i) => `'${i}'`).join(',')})`);
    const byId = new Map(msgRows.map((m) => [m.id, m]));
    const lostTurns = [];
    for (const t of turns) {
      const q = byId.get(t.question);
      const a = byId.get(t.answer);
      if (!q || !a) {
        lostTurns.push(t);
        continue;
      }
      assert.equal(q.conversation_id, t.conversation);
      assert.equal(q.role, 'user');
      assert.equal(a.role, 'assistant');
      assert.equal(a.content, t.content);
    }
    assert.deepEqual(lostTurns, [], `answered turns without both messages (seed ${seed})`);
    // Each answered turn also has its api_calls row (endpoint "chat").
    const chatRows = rows.filter((r) => r.endpoint === 'chat').length;
    assert.ok(chatRows >= turns.length, `${chatRows} chat rows for ${turns.length} answered turns`);

    if (USE_MYSQL) {
      const checks = await queryDb(dir, 'CHECK TABLE api_calls, messages, conversations');
      for (const c of checks) assert.ok(['OK', 'status'].includes(c.Msg_text) || c.Msg_type !== 'error', JSON.stringify(c));
    } else {
      const check = await queryDb(dir, 'PRAGMA integrity_check');
      assert.deepEqual(check, [{ integrity_check: 'ok' }]);
    }

    // The restarted hub serves, and writes, as before.
    const after = await call(restarted.url, 'POST', '/api/v1/conversations/' + conversations[0] + '/messages',
      { token: user.token, body: { content: 'echo after the crash', stream: false } });
    assert.equal(after.status, 201, JSON.stringify(after.body));
  } finally {
    if (hub && hub.proc.exitCode === null && hub.proc.signalCode === null) hub.proc.kill('SIGKILL');
    await restarted?.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('durability: kill -9 under load', () => {
  test('every answered call survives, BAILIAN_HUB_DB_SYNC=full (the default)', async () => {
    await crashRun('full');
  });
  test('every answered call survives, BAILIAN_HUB_DB_SYNC=normal', async () => {
    await crashRun('normal');
  });
});

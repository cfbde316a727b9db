// Starts the real bailian-hub (and bailian-sim) binaries for integration tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchOrigin } from './contract.mjs';
import { dumpMysql, queryMysql, USE_MYSQL, withTestDb } from './testdb.mjs';

export { databaseUrlFor, TEST_DB, USE_MYSQL, withTestDb } from './testdb.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD = process.env.HUB_BUILD_DIR || path.join(ROOT, 'build');
export const HUB_BIN = path.join(BUILD, 'bailian-hub');
export const SIM_BIN = path.join(BUILD, 'bailian-sim');

export function tempDir(prefix = 'hub-test-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Every log line of every process started by the tests, for secret-leak checks.
export const allLogs = [];

function waitForLine(proc, logs, predicate, what, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}; log:\n${logs.join('\n')}`));
    }, timeoutMs);
    const onData = (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let parsed = null;
        try { parsed = JSON.parse(line); } catch { /* text line */ }
        const hit = predicate(parsed, line);
        if (hit !== undefined && hit !== false && hit !== null) {
          cleanup();
          resolve(hit);
          return;
        }
      }
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`${what}: process exited with ${code}; log:\n${logs.join('\n')}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
    };
    proc.stdout.on('data', onData);
    proc.on('exit', onExit);
  });
}

function collect(proc, logs) {
  for (const stream of [proc.stdout, proc.stderr]) {
    let buf = '';
    stream.on('data', (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        logs.push(line);
        allLogs.push(line);
        buf = buf.slice(nl + 1);
      }
    });
  }
}

// Starts bailian-hub serve on an ephemeral loopback port with a fresh data dir.
export async function startHub({ env = {}, args = [], dataDir, keepDataDir = false } = {}) {
  const dir = dataDir || tempDir();
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BAILIAN_HUB_LISTEN: '127.0.0.1:0',
    BAILIAN_HUB_METRICS_LISTEN: '127.0.0.1:0',
    BAILIAN_HUB_DATA_DIR: dir,
    BAILIAN_HUB_LOG_FORMAT: 'json',
    BAILIAN_HUB_WEB_ROOT: path.join(dir, 'no-web'),
    BAILIAN_HUB_SHUTDOWN_GRACE_MS: '5000',
    ...env,
  };
  Object.assign(fullEnv, await withTestDb(fullEnv));
  const proc = spawn(HUB_BIN, [...args, 'serve'], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  collect(proc, logs);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = await waitForLine(proc, logs, (j) => j && j.msg === 'listening' && j.port > 0 && j, 'hub listening');
  const { port } = listening;
  const url = `http://127.0.0.1:${port}`;
  // Every answer the tests get from this hub is held to docs/openapi.yaml.
  watchOrigin(url);
  // The separate /metrics listener (0 when BAILIAN_HUB_METRICS_LISTEN=off).
  const metricsPort = listening.metrics_port;
  const metricsUrl = metricsPort ? `http://127.0.0.1:${metricsPort}` : null;
  return {
    proc, port, url, metricsPort, metricsUrl, logs, dataDir: dir, exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const r = await exited;
      if (!keepDataDir && !dataDir) rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
}

// The data directory a command line works on: --data-dir DIR, else BAILIAN_HUB_DATA_DIR.
function dataDirOf(args, env) {
  const i = args.indexOf('--data-dir');
  return i >= 0 && i + 1 < args.length ? args[i + 1] : env.BAILIAN_HUB_DATA_DIR;
}

// Runs bailian-hub with arguments to completion (`input` on its stdin); resolves
// {code, stdout, stderr}. On HUB_TEST_DB=mysql the data directory's database is used.
export async function runHub(args, env = {}, { input } = {}) {
  const fullEnv = await withTestDb({ PATH: process.env.PATH, HOME: process.env.HOME, ...env }, dataDirOf(args, env));
  return new Promise((resolve) => {
    const proc = spawn(HUB_BIN, args, {
      env: fullEnv,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) proc.stdin.end(input);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.on('exit', (code) => {
      allLogs.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

// Sends raw bytes over a fresh TCP connection and collects everything until the server closes
// (or timeoutMs passes). Useful for malformed requests that fetch would refuse to send.
export function rawRequest(port, data, { timeoutMs = 5000, chunks = null, gapMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = Buffer.alloc(0);
    let closed = false;
    const timer = setTimeout(() => { sock.destroy(); resolve({ text: out.toString('latin1'), closed }); }, timeoutMs);
    sock.on('data', (d) => { out = Buffer.concat([out, d]); });
    sock.on('end', () => { closed = true; });
    sock.on('close', () => { clearTimeout(timer); resolve({ text: out.toString('latin1'), closed: true }); });
    sock.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
    sock.on('connect', async () => {
      const parts = chunks || [data];
      for (const p of parts) {
        sock.write(p);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

export function parseRawResponse(text) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: rest.join('\r\n\r\n') };
}

export async function json(res) {
  const text = await res.text();
  try { return JSON.parse(text); } catch { throw new Error(`not JSON (${res.status}): ${text}`); }
}

export function expectErrorEnvelope(assert, body, res, code) {
  assert.equal(typeof body.error, 'object', 'error envelope');
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(body.error.request_id, res.headers.get('x-request-id'));
}

// Starts bailian-sim on an ephemeral loopback port (--port-file); resolves {url, port, logs,
// stop()}. Extra command-line flags go in `args`.
export async function startSim({ args = [] } = {}) {
  const { existsSync, readFileSync } = await import('node:fs');
  const dir = tempDir('hub-sim-');
  const portFile = path.join(dir, 'port');
  const proc = spawn(SIM_BIN, ['--listen', '127.0.0.1:0', '--port-file', portFile, '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  collect(proc, logs);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 15000;
  let port = null;
  while (!port) {
    if (proc.exitCode !== null) throw new Error(`bailian-sim exited: ${logs.join('\n')}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`bailian-sim did not start: ${logs.join('\n')}`);
    }
    if (existsSync(portFile)) port = Number(readFileSync(portFile, 'utf8').trim()) || null;
    if (!port) await new Promise((r) => setTimeout(r, 25));
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    proc, port, url, logs,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The upstream key the hub is given when it runs against a simulator of ours.
export const SIM_UPSTREAM_KEY = 'sk-test-upstream-0001';

// Starts bailian-sim and a hub that uses it as DashScope; stop() stops both.
export async function startHubWithSim({ env = {}, simArgs = [], dataDir } = {}) {
  const sim = await startSim({ args: simArgs });
  let hub;
  try {
    hub = await startHub({
      dataDir,
      env: { DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY, DASHSCOPE_BASE_URL: sim.url, ...env },
    });
  } catch (e) {
    await sim.stop();
    throw e;
  }
  return {
    hub, sim, url: hub.url,
    async stop() { await hub.stop(); await sim.stop(); },
  };
}

// Runs a read-only query against a hub's database (the sqlite3 command-line tool on the SQLite
// file; on HUB_TEST_DB=mysql the mariadb client on the data directory's database); resolves the
// rows as objects (sqlite3 -json's shape either way). Write the SQL for both dialects.
export function queryDb(dataDir, sql) {
  if (USE_MYSQL) return queryMysql(dataDir, sql);
  return new Promise((resolve, reject) => {
    const proc = spawn('sqlite3', ['-readonly', '-json', path.join(dataDir, 'bailian-hub.db'), sql],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { err += c; });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sqlite3 failed (${code}): ${err}`));
      try { resolve(out.trim() ? JSON.parse(out) : []); } catch (e) { reject(e); }
    });
  });
}

// The names of a hub's tables (SQLite: without its own and the full-text index's tables).
export async function tableNames(dataDir) {
  const rows = await queryDb(dataDir, USE_MYSQL
    ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name'
    : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%' ORDER BY name");
  return rows.map((r) => r.name);
}

// The bytes of a hub's database, for "a secret is nowhere in it" checks: the SQLite files (with
// the WAL) as they are on disk, or a dump of every row of the MariaDB database.
export async function databaseBytes(dataDir) {
  if (USE_MYSQL) return dumpMysql(dataDir);
  return Buffer.concat(readdirSync(dataDir).filter((n) => n.startsWith('bailian-hub.db'))
    .map((n) => readFileSync(path.join(dataDir, n))));
}

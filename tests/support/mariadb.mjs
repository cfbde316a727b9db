// Throwaway MariaDB servers for integration tests (the node twin of support/mariadb.hpp).
//
//   const db = await startMariaDb();                  // a fresh server on a free loopback port
//   const url = await db.freshDatabase();             // mysql://hub:...@127.0.0.1:PORT/hub_N
//   await db.query('SELECT 1');                       // as root over the Unix socket
//   await db.restart();                               // same data folder and port
//   await db.stop();                                  // SIGTERM (SIGKILL if it hangs), folder removed
//
// Replication: `startMariaDb({ logBin: true, serverId: 1 })` is a primary;
// `startMariaDb({ serverId: 2, replicaOf: primary })` a replica following it
// (CHANGE MASTER TO ... MASTER_USE_GTID = slave_pos; START SLAVE), read-only.
//
// HUB_TEST_MYSQL_URL (mysql://root:pw@host:port/db of a server someone else runs) is used
// instead of starting one, unless the caller needs its own server (restart or replication).
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.mjs';
import { freePort } from './net.mjs';

export const MYSQL_USER = 'hub';
export const MYSQL_PASSWORD = 'hub-Test-pw-5d1e';

function findProgram(name) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  throw new Error(`${name} not found (apt-get install mariadb-server)`);
}

function run(file, args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

function sqlString(s) {
  return `'${String(s).replace(/'/g, "''")}'`;
}

function parseUrl(url) {
  const u = new URL(url);
  return {
    user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
    host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 3306),
    database: u.pathname.slice(1),
  };
}

let counter = 0;

// `background: true` is for a server shared by a whole test process (support/testdb.mjs): it
// does not keep node's event loop alive (the owner stops it on 'beforeExit') and the kernel
// kills it if the test process dies first (setpriv --pdeathsig), so it never outlives the run.
export async function startMariaDb({ logBin = false, serverId = 1, replicaOf = null, external, background = false } = {}) {
  const externalUrl = external ?? (replicaOf || logBin ? null : process.env.HUB_TEST_MYSQL_URL);
  if (externalUrl) return externalServer(externalUrl);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-mariadb-'));
  const datadir = path.join(dir, 'data');
  const socket = path.join(dir, 'sock');
  // A tmpdir of its own: a starting server deletes every #sql* file in its tmpdir, which in a
  // shared /tmp are the temporary tables of other servers (mariadb-install-db fails with
  // "Error on delete of '/tmp/#sql-temptable-...'" when test processes start servers at once).
  const tmpdir = path.join(dir, 'tmp');
  mkdirSync(tmpdir);
  const client = findProgram('mariadb');
  try {
    await run(findProgram('mariadb-install-db'), [
      '--no-defaults', '--auth-root-authentication-method=normal', `--datadir=${datadir}`,
      '--user=root', '--skip-test-db', '--skip-name-resolve', `--tmpdir=${tmpdir}`,
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const port = await freePort();
  let proc = null;
  const logs = [];

  // `extra` options come last (e.g. ['--vertical', '--column-names']).
  const query = (sql, extra = []) => run(client, ['--no-defaults', '-S', socket, '-uroot', '--batch',
    '--default-character-set=utf8mb4', '--skip-column-names', ...extra, '-e', sql]);

  async function start() {
    const args = [
      '--no-defaults', `--datadir=${datadir}`, `--socket=${socket}`, `--port=${port}`,
      '--bind-address=127.0.0.1', '--user=root', `--pid-file=${path.join(dir, 'mariadbd.pid')}`, `--tmpdir=${tmpdir}`,
      '--skip-name-resolve', '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M',
      '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci',
      `--server-id=${serverId}`,
    ];
    if (logBin) args.push(`--log-bin=${path.join(dir, 'binlog')}`, '--binlog-format=ROW');
    else args.push('--skip-log-bin');
    if (replicaOf) args.push('--read-only');
    proc = background
      ? spawn(findProgram('setpriv'), ['--pdeathsig', 'KILL', '--', findProgram('mariadbd'), ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(findProgram('mariadbd'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [proc.stdout, proc.stderr]) s.on('data', (c) => logs.push(c.toString()));
    if (background) {
      proc.unref();
      proc.stdout.unref();
      proc.stderr.unref();
    }
    let exited = null;
    proc.once('exit', (code) => { exited = code; });
    await waitFor(async () => {
      if (exited !== null) throw new Error(`mariadbd exited with ${exited}:\n${logs.join('')}`);
      try { await query('SELECT 1'); return true; } catch { return false; }
    }, 'mariadbd to accept connections', 60000);
  }

  async function stop() {
    if (!proc) return;
    const p = proc;
    proc = null;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.ref(); // waited for even by a background server's owner
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
    await exited;
    clearTimeout(timer);
  }

  try {
    await start();
  } catch (e) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // Set-up statements stay out of the binlog: a replica has made its own users already.
  await query(`SET sql_log_bin = 0; CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY ${sqlString(MYSQL_PASSWORD)};` +
    `CREATE USER '${MYSQL_USER}'@'localhost' IDENTIFIED BY ${sqlString(MYSQL_PASSWORD)}`);

  const server = {
    port, socket, dir, logs,
    // Synchronous last resort (process 'exit'): SIGKILL, folder removed.
    killAndRemove: () => {
      try { proc?.kill('SIGKILL'); } catch { /* gone */ }
      proc = null;
      rmSync(dir, { recursive: true, force: true });
    },
    query,
    url(db, { user = MYSQL_USER, password = MYSQL_PASSWORD, params = '' } = {}) {
      return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}` +
        (params ? `?${params}` : '');
    },
    async freshDatabase(params = '') {
      const name = `hub_t${process.pid}_${++counter}`;
      await query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;` +
        `GRANT ALL ON ${name}.* TO '${MYSQL_USER}'@'%';` +
        `GRANT ALL ON ${name}.* TO '${MYSQL_USER}'@'localhost'`);
      return server.url(name, { params });
    },
    restart: async () => { await stop(); await start(); },
    // An outage: the server stops (data kept) until startAgain() brings it back on the same port.
    stopOnly: () => stop(),
    startAgain: () => start(),
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => proc?.kill('SIGKILL'),
  };

  if (logBin) {
    await query(`SET sql_log_bin = 0; CREATE USER 'repl'@'%' IDENTIFIED BY 'repl-Pw-77';` +
      `GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'`);
  }
  if (replicaOf) {
    await query(`CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${replicaOf.port},` +
      ` MASTER_USER='repl', MASTER_PASSWORD='repl-Pw-77', MASTER_USE_GTID=slave_pos,` +
      ` MASTER_CONNECT_RETRY=1; START SLAVE`);
    let status = '';
    try {
      await waitFor(async () => {
        status = await query('SHOW SLAVE STATUS', ['--vertical', '--column-names']);
        return /Slave_IO_Running: Yes/.test(status) && /Slave_SQL_Running: Yes/.test(status);
      }, 'the replica to follow its primary', 30000);
    } catch (e) {
      const errors = status.split('\n').filter((l) => /Error|Running/.test(l)).join('\n');
      await server.stop();
      throw new Error(`${e.message}\n${errors}`);
    }
  }
  // The replication position of this server (GTID), and waiting for a replica to reach one.
  server.gtid = async () => (await query('SELECT @@gtid_binlog_pos')).trim();
  server.waitForGtid = async (gtid, timeoutMs = 30000) => {
    await waitFor(async () => {
      const out = (await query(`SELECT MASTER_GTID_WAIT(${sqlString(gtid)}, 0)`)).trim();
      return out === '0';
    }, `replica to reach ${gtid}`, timeoutMs);
  };
  return server;
}

async function externalServer(url) {
  const o = parseUrl(url);
  const client = findProgram('mariadb');
  const query = (sql, extra = []) => run(client, ['--no-defaults', '-h', o.host, '-P', String(o.port),
    `-u${o.user}`, '--batch', '--default-character-set=utf8mb4', '--skip-column-names', ...extra, '-e', sql], {}).catch((e) => {
    throw new Error(e.message.replaceAll(o.password, '***'));
  });
  // The password goes through the environment, not the command line.
  process.env.MYSQL_PWD = o.password;
  await query(`CREATE USER IF NOT EXISTS '${MYSQL_USER}'@'%' IDENTIFIED BY ${sqlString(MYSQL_PASSWORD)}`);
  const server = {
    port: o.port, socket: null, dir: null, logs: [], query, external: true,
    url(db, { user = MYSQL_USER, password = MYSQL_PASSWORD, params = '' } = {}) {
      return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${o.host}:${o.port}/${db}` +
        (params ? `?${params}` : '');
    },
    async freshDatabase(params = '') {
      const name = `hub_t${process.pid}_${++counter}`;
      await query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;` +
        `GRANT ALL ON ${name}.* TO '${MYSQL_USER}'@'%'`);
      return server.url(name, { params });
    },
    restart: async () => { throw new Error('an external server (HUB_TEST_MYSQL_URL) cannot be restarted'); },
    stop: async () => {},
    killAndRemove: () => {},
    kill: () => {},
  };
  return server;
}

// The log of a server, for failure messages.
export function serverLog(server) {
  return server.logs.join('');
}

export { parseUrl as parseMysqlUrl };

// Which database the hubs of the node suites use (HUB_TEST_DB).
//
// Unset (or `sqlite`): each hub keeps its SQLite file in its data directory, as in production.
// `mysql`: the whole suite runs on MariaDB instead. One throwaway server per test process
// (support/mariadb.mjs, started on first use, stopped when the process is done — 'beforeExit',
// SIGKILL on 'exit', and the kernel kills it should node die first), and one fresh database
// per data directory: seeding before the hub starts, the hub itself, `bailian-hub` command-line
// runs and the test's own queries all reach the database of that data directory.
// A test that sets BAILIAN_HUB_DATABASE_URL itself keeps it.
import { execFile } from 'node:child_process';
import path from 'node:path';

import { MYSQL_PASSWORD, MYSQL_USER, parseMysqlUrl, startMariaDb } from './mariadb.mjs';

export const TEST_DB = process.env.HUB_TEST_DB || 'sqlite';
if (TEST_DB !== 'sqlite' && TEST_DB !== 'mysql') {
  throw new Error(`HUB_TEST_DB is sqlite or mysql, not ${JSON.stringify(TEST_DB)}`);
}
export const USE_MYSQL = TEST_DB === 'mysql';

let serverPromise = null;
const databases = new Map(); // resolved data directory -> Promise<{ url, name }>

function server() {
  if (!serverPromise) {
    serverPromise = startMariaDb({ background: true });
    serverPromise.then((s) => {
      const onBeforeExit = async () => {
        process.off('beforeExit', onBeforeExit);
        serverPromise = null;
        databases.clear();
        await s.stop();
        process.off('exit', onExit);
      };
      const onExit = () => s.killAndRemove();
      process.on('beforeExit', onBeforeExit);
      process.on('exit', onExit);
    }, () => { serverPromise = null; });
  }
  return serverPromise;
}

function databaseOf(dataDir) {
  const key = path.resolve(dataDir);
  let db = databases.get(key);
  if (!db) {
    db = (async () => {
      const s = await server();
      const url = await s.freshDatabase();
      return { url, name: new URL(url).pathname.slice(1) };
    })();
    databases.set(key, db);
    db.catch(() => databases.delete(key));
  }
  return db;
}

// mysql://... of the database behind `dataDir` (made on first use).
export async function databaseUrlFor(dataDir) {
  return (await databaseOf(dataDir)).url;
}

// The environment of a hub process: on MariaDB, a BAILIAN_HUB_DATA_DIR (or `dataDir`, e.g. the
// --data-dir of `restore`) without a BAILIAN_HUB_DATABASE_URL gets its data directory's database.
export async function withTestDb(env, dataDir = env.BAILIAN_HUB_DATA_DIR) {
  if (!USE_MYSQL || !dataDir || env.BAILIAN_HUB_DATABASE_URL !== undefined) return env;
  return { ...env, BAILIAN_HUB_DATABASE_URL: await databaseUrlFor(dataDir) };
}

const NUMERIC_TYPES = new Set(['TINY', 'SHORT', 'LONG', 'INT24', 'LONGLONG', 'FLOAT', 'DOUBLE',
  'DECIMAL', 'NEWDECIMAL', 'YEAR']);

// `mariadb --column-type-info` (table mode) prints one block per column before the rows.
function columnTypes(text) {
  const types = [];
  let current = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('+')) break;
    let m = line.match(/^Field\s+\d+:\s+`(.*)`$/);
    if (m) { current = { name: m[1], numeric: false }; types.push(current); continue; }
    m = line.match(/^Type:\s+(\S+)/);
    if (m && current) current.numeric = NUMERIC_TYPES.has(m[1]);
  }
  return types;
}

function unescapeXml(s) {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    }
  });
}

// Runs one read-only statement on the MariaDB database of `dataDir`; the rows come back in the
// shape of `sqlite3 -json`: objects, numbers as numbers, NULL as null, text and bytes as strings.
export async function queryMysql(dataDir, sql) {
  const { name } = await databaseOf(dataDir);
  const s = await server();
  // Read-only, like sqlite3 -readonly: a statement that writes fails.
  const readOnly = `SET SESSION TRANSACTION READ ONLY; ${sql}`;
  const [meta, xml] = await Promise.all([
    s.query(readOnly, ['-D', name, '-t', '--column-type-info']),
    s.query(readOnly, ['-D', name, '--xml']),
  ]);
  const numeric = new Set(columnTypes(meta).filter((c) => c.numeric).map((c) => c.name));
  const rows = [];
  for (const [, body] of xml.matchAll(/<row>([\s\S]*?)<\/row>/g)) {
    const row = {};
    for (const m of body.matchAll(/<field name="([^"]*)"(?: xsi:nil="true" \/>|>([\s\S]*?)<\/field>)/g)) {
      const column = unescapeXml(m[1]);
      if (m[2] === undefined) row[column] = null;
      else {
        const value = unescapeXml(m[2]);
        row[column] = numeric.has(column) ? Number(value) : value;
      }
    }
    rows.push(row);
  }
  return rows;
}

// Runs statements (any number, `;`-separated) on the MariaDB database of `dataDir` as root;
// resolves the output of the last result (tab-separated, no column names).
export async function execMysql(dataDir, statements) {
  const { name } = await databaseOf(dataDir);
  const s = await server();
  return s.query(statements, ['-D', name]);
}

// Every row of the MariaDB database of `dataDir` as mariadb-dump prints it (text and bytes as
// they are stored), for "this secret is nowhere in the database" checks.
export async function dumpMysql(dataDir) {
  const { url } = await databaseOf(dataDir);
  const o = parseMysqlUrl(url);
  return new Promise((resolve, reject) => {
    execFile('mariadb-dump', ['--no-defaults', '-h', o.host, '-P', String(o.port), `-u${MYSQL_USER}`,
      '--single-transaction', '--skip-extended-insert', o.database],
    { env: { ...process.env, MYSQL_PWD: MYSQL_PASSWORD }, encoding: 'buffer', maxBuffer: 256 << 20 },
    (err, stdout, stderr) => (err ? reject(new Error(`mariadb-dump failed: ${stderr}`)) : resolve(stdout)));
  });
}

// The MariaDB test helper (support/mariadb.mjs) that the MySQL store's integration tests use:
// a throwaway server with the hub's user, a restart on the same data, and a primary with a
// replica following it over loopback.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { MYSQL_PASSWORD, parseMysqlUrl, startMariaDb } from '../support/mariadb.mjs';

const servers = [];
after(async () => {
  for (const s of servers.reverse()) await s.stop();
});

test('a throwaway server: fresh databases for the hub user, data kept across a restart', async () => {
  const db = await startMariaDb({ external: null });
  servers.push(db);
  const url = await db.freshDatabase('pool=2');
  const o = parseMysqlUrl(url);
  assert.equal(o.user, 'hub');
  assert.equal(o.password, MYSQL_PASSWORD);
  assert.equal(o.port, db.port);
  assert.match(url, /\?pool=2$/);
  await db.query(`CREATE TABLE ${o.database}.t (s VARCHAR(16)) DEFAULT CHARSET = utf8mb4;` +
    `INSERT INTO ${o.database}.t VALUES ('你好😀')`);
  await db.restart();
  assert.equal((await db.query(`SELECT s FROM ${o.database}.t`)).trim(), '你好😀');
  const dir = db.dir;
  await db.stop();
  assert.equal(existsSync(dir), false);
});

test('a primary with binlog and a replica that follows it', async () => {
  const primary = await startMariaDb({ logBin: true, serverId: 1 });
  servers.push(primary);
  const replica = await startMariaDb({ serverId: 2, replicaOf: primary });
  servers.push(replica);
  const url = await primary.freshDatabase();
  const { database } = parseMysqlUrl(url);
  await primary.query(`CREATE TABLE ${database}.r (id INT PRIMARY KEY); INSERT INTO ${database}.r VALUES (1), (2)`);
  await replica.waitForGtid(await primary.gtid());
  assert.equal((await replica.query(`SELECT count(*) FROM ${database}.r`)).trim(), '2');
  assert.equal((await replica.query('SELECT @@read_only')).trim(), '1');
});

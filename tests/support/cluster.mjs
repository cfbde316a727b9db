// Several hubs as one, on loopback, the way deploy/ runs them: one MariaDB database, one Redis,
// one bailian-sim, N hubs sharing the master key, and nginx in front (least_conn, SSE not
// buffered). Every process is started on free ports here and stopped by stop(), whatever happens.
//
//   const c = await startCluster({ hubs: 2 });
//   c.url                       // through nginx
//   c.hubs[0].url, c.hubs[1].url
//   await c.killHub(0)          // kill -9
//   await c.restartHub(0)
//   c.redis.stop() / start()    // support/redis.mjs
//   await c.stop()
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { SIM_UPSTREAM_KEY, startHub, startSim, tempDir } from './hub.mjs';
import { startMariaDb } from './mariadb.mjs';
import { startRedis } from './redis.mjs';
import { waitFor } from './wait.mjs';
import { accepts, freePort } from './net.mjs';

export const FAST_ENV = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
};

// nginx as deploy/ configures it in front of hubs, on loopback, with its files in `dir`.
export async function startNginx(upstreamPorts) {
  const dir = tempDir('hub-nginx-');
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d));
  const port = await freePort();
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
  const conf = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream bailian_hub {
    least_conn;
${servers}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 20m;
    location / {
      proxy_pass http://bailian_hub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto http;
      proxy_set_header X-Request-Id $request_id;
      proxy_buffering off;
      proxy_read_timeout 300s;
      proxy_next_upstream error timeout;
    }
  }
}
`;
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const proc = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nginx', '-p', dir, '-c', file],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  for (const s of [proc.stdout, proc.stderr]) s.on('data', (c) => logs.push(c.toString()));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${logs.join('')}`);
    return accepts(port);
  }, 'nginx listening', 20000, 20);
  return {
    port, url: `http://127.0.0.1:${port}`, logs,
    async stop() {
      // SIGTERM: the master stops its workers (they hold our stdout pipe) before it exits.
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startCluster({ hubs: count = 2, env = {}, simArgs = [] } = {}) {
  const parts = { mariadb: null, redis: null, sim: null, hubs: [], nginx: null };
  const stopAll = async () => {
    await parts.nginx?.stop().catch(() => {});
    for (const h of parts.hubs) await h?.stop('SIGKILL').catch(() => {});
    await parts.sim?.stop().catch(() => {});
    await parts.redis?.destroy().catch(() => {});
    await parts.mariadb?.stop().catch(() => {});
  };
  try {
    parts.mariadb = await startMariaDb();
    const databaseUrl = await parts.mariadb.freshDatabase();
    parts.redis = await startRedis();
    parts.sim = await startSim({ args: simArgs });
    const masterKey = randomBytes(32).toString('base64');
    const hubEnv = {
      ...FAST_ENV,
      BAILIAN_HUB_DATABASE_URL: databaseUrl,
      BAILIAN_HUB_MASTER_KEY: masterKey,
      BAILIAN_HUB_REDIS_URL: parts.redis.url,
      BAILIAN_HUB_TRUSTED_PROXIES: '127.0.0.1',
      DASHSCOPE_API_KEY: SIM_UPSTREAM_KEY,
      DASHSCOPE_BASE_URL: parts.sim.url,
      ...env,
    };
    // One after the other: the first migrates the database and stores the key ring.
    for (let i = 0; i < count; i++) parts.hubs.push(await startHub({ env: hubEnv }));
    parts.nginx = await startNginx(parts.hubs.map((h) => h.port));
    return {
      ...parts,
      url: parts.nginx.url,
      databaseUrl,
      masterKey,
      hubEnv,
      async killHub(i) {
        const h = parts.hubs[i];
        h.proc.kill('SIGKILL');
        return h.exited;
      },
      // A hub on the same port as before (nginx keeps its upstream list).
      async restartHub(i, extraEnv = {}) {
        const old = parts.hubs[i];
        await old.stop('SIGKILL');
        parts.hubs[i] = await startHub({ env: { ...hubEnv, BAILIAN_HUB_LISTEN: `127.0.0.1:${old.port}`, ...extraEnv } });
        return parts.hubs[i];
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

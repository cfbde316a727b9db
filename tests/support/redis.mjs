// Throwaway redis-server for integration tests (the node twin of support/redis.hpp).
//
//   const redis = await startRedis();                  // free loopback port, temp dir, no persistence
//   const redis = await startRedis({ password: 'pw', tls: true });
//   redis.url                                          // redis://[:pw@]127.0.0.1:PORT/0 (rediss://...?tls_ca=)
//   await redis.cli('KEYS', 'bh:*')                    // redis-cli, its stdout
//   await redis.stop(); await redis.start();           // the same port again (reconnects)
//   redis.pause(); redis.resume();                     // SIGSTOP / SIGCONT: a slow Redis
//   await redis.destroy();                             // killed, folder removed
//
// The server is killed when the test process exits, even on a crash (setpriv --pdeathsig).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.mjs';
import { accepts, freePort } from './net.mjs';

function openssl(args, cwd) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const running = new Set();
process.on('exit', () => { for (const p of running) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export async function startRedis({ password = '', tls = false } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-redis-'));
  const port = await freePort();
  let ca = null;
  if (tls) {
    ca = path.join(dir, 'ca.pem');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hub test CA',
      '-keyout', 'ca.key', '-out', 'ca.pem'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key',
      '-out', 'server.csr'], dir);
    writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem'], dir);
  }
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--daemonize', 'no', '--protected-mode', 'no'];
  if (tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', path.join(dir, 'server.pem'),
      '--tls-key-file', path.join(dir, 'server.key'), '--tls-ca-cert-file', ca, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (password) args.push('--requirepass', password);

  let proc = null;
  const logs = [];
  const urlFor = (pw = password, db = 0) => {
    let u = tls ? 'rediss://' : 'redis://';
    if (pw) u += `:${encodeURIComponent(pw)}@`;
    u += `127.0.0.1:${port}/${db}`;
    if (tls) u += `?tls_ca=${encodeURIComponent(ca)}`;
    return u;
  };

  async function start() {
    if (proc) return;
    proc = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'redis-server', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    for (const s of [proc.stdout, proc.stderr]) s.on('data', (c) => logs.push(c.toString()));
    const p = proc;
    p.once('exit', () => running.delete(p));
    await waitFor(async () => {
      if (p.exitCode !== null) throw new Error(`redis-server exited:\n${logs.join('')}`);
      return accepts(port);
    }, 'redis-server listening', 20000, 20);
  }

  async function stop() {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await exited;
    await waitFor(async () => !(await accepts(port)), 'redis port closed', 5000, 20);
  }

  function cli(...cmd) {
    const a = ['-h', '127.0.0.1', '-p', String(port)];
    if (tls) a.push('--tls', '--cacert', ca);
    if (password) a.push('--no-auth-warning', '-a', password);
    return new Promise((resolve, reject) => {
      execFile('redis-cli', [...a, ...cmd], (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  await start();
  return {
    port, dir, ca, password, logs,
    get url() { return urlFor(); },
    urlFor,
    cli,
    start,
    stop,
    pause() { if (proc) proc.kill('SIGSTOP'); },
    resume() { if (proc) proc.kill('SIGCONT'); },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

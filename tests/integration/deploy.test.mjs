// deploy/: what this machine can check without Docker or a Kubernetes cluster. Prometheus'
// config and alert rules (promtool, and a real Prometheus scraping a running hub with the
// shipped scrape config), `nginx -t` on every shipped nginx config, the Compose and Kubernetes
// YAML held to the rules in docs/operations.md ("Deploying"), the Dockerfile's structure and its
// runtime packages against what the built binaries link, and `bailian-hub healthcheck` (the
// image's HEALTHCHECK) against a real hub and simulator.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';

import { HUB_BIN, ROOT, SIM_BIN, startHub, startSim, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';
import { freePort } from '../support/net.mjs';

const DEPLOY = path.join(ROOT, 'deploy');
const read = (...p) => readFileSync(path.join(...p), 'utf8');

function run(cmd, args, { cwd, env, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, {
      cwd, env: env || process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    proc.on('error', reject);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// A throwaway self-signed certificate for nginx -t.
async function throwawayCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-days', '1', '-subj', '/CN=localhost']);
  assert.equal(r.code, 0, r.stderr);
  return { cert, key };
}

// What the official nginx image does with /etc/nginx/templates/*.template: replace ${NAME} for
// the variables given (NGINX_ENVSUBST_FILTER=^HUB_), leave every other $word to nginx.
function renderTemplate(text, vars) {
  return text.replace(/\$\{(HUB_[A-Z0-9_]+)\}/g, (m, name) => {
    assert.ok(name in vars, `template variable ${name} has no value in the test`);
    return vars[name];
  });
}

// nginx -t on a server-level config (what goes in conf.d/), wrapped in a main config whose
// pid, logs and temp paths are inside the prefix, so no root and no /var/log are needed.
// nginx -t binds the listeners: each `listen PORT` becomes a free loopback port.
async function nginxTest(dir, siteConf) {
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  let conf = siteConf;
  for (const m of [...siteConf.matchAll(/^(\s*listen\s+)(\d+)(?=[\s;])/gm)]) {
    conf = conf.replace(m[0], `${m[1]}127.0.0.1:${await freePort()}`);
  }
  writeFileSync(path.join(dir, 'site.conf'), conf);
  const main = [
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/logs/error.log;`,
    'events {}',
    'http {',
    `  access_log ${dir}/logs/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`),
    `  include ${dir}/site.conf;`,
    '}',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'nginx.conf'), main);
  return run('nginx', ['-t', '-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', `${dir}/logs/error.log`]);
}

// Every string literal "BAILIAN_HUB_..." / "DASHSCOPE_..." in src/: the variables the hub reads
// (config.cpp's table, and the few read elsewhere such as the master key). The role limits are
// assembled from "BAILIAN_HUB_LIMITS_" + role + field.
function knownEnvVars() {
  const names = new Set();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(cpp|hpp)$/.test(e.name)) {
        for (const m of readFileSync(p, 'utf8').matchAll(/"((?:BAILIAN_HUB|DASHSCOPE)_[A-Z0-9_]+)"/g)) names.add(m[1]);
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  return names;
}
// Being built beside this work (the Redis client and its configuration).
const COMING_ENV = new Set(['BAILIAN_HUB_REDIS_URL', 'BAILIAN_HUB_REDIS_REQUIRED', 'BAILIAN_HUB_REDIS_TIMEOUT_MS']);
const LIMIT_ENV = /^BAILIAN_HUB_LIMITS_(USER|ADMIN)_(RPM|RPM_BURST|TPM|TPM_BURST|DAILY_TOKENS|MONTHLY_TOKENS|DAILY_COST_CNY|MONTHLY_COST_CNY)$/;

function unknownEnvVars(names, known) {
  return [...names].filter((n) => !known.has(n) && !COMING_ENV.has(n) && !LIMIT_ENV.test(n));
}

function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
describe('Prometheus: alert rules and scrape config', () => {
  const PROM = path.join(DEPLOY, 'prometheus');
  const rules = YAML.parse(read(PROM, 'alerts.yml'));
  const alerts = rules.groups.flatMap((g) => g.rules.filter((r) => r.alert));

  test('promtool check rules and the rule unit tests pass', async () => {
    const check = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: PROM });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
    const unit = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: PROM });
    assert.equal(unit.code, 0, unit.stdout + unit.stderr);
    assert.match(unit.stdout, /SUCCESS/);
  });

  test('promtool check config resolves the rule file and the token file next to it', async (t) => {
    const dir = tempDir('hub-prom-check-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(PROM, dir, { recursive: true });
    // In compose the certs service writes it; here any token will do.
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets', 'metrics-token'), 'x'.repeat(32));
    const r = await run('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 1 rule files found/);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  test('every alert has a duration, a severity, a summary and a description', () => {
    for (const a of alerts) {
      assert.ok(a.for, `${a.alert}: no for:`);
      assert.match(a.for, /^\d+[smh]$/, `${a.alert}: for: ${a.for}`);
      assert.ok(['critical', 'warning', 'info'].includes(a.labels?.severity), `${a.alert}: severity`);
      assert.ok(a.annotations?.summary?.length > 10, `${a.alert}: summary`);
      assert.ok(a.annotations?.description?.length > 40, `${a.alert}: description`);
    }
    const names = new Set(alerts.map((a) => a.alert));
    for (const needed of ['BailianHubDown', 'BailianHubNotReady', 'BailianHubUpstreamErrorRate',
      'BailianHubAllUpstreamKeysDisabled', 'BailianHubHighLatencyP99', 'BailianHubRedisDown',
      'BailianHubLimiterOnLocalFallback', 'BailianHubQuotaExhaustion', 'BailianHubShedding',
      'BailianHubLeaseNotHeld', 'BailianHubApiCallWriteFailures']) {
      assert.ok(names.has(needed), `alert ${needed} missing`);
    }
    // Every alert named in the runbook, and every alert in the runbook exists.
    const ops = read(ROOT, 'docs', 'operations.md');
    for (const n of names) assert.ok(ops.includes(n), `docs/operations.md does not explain ${n}`);
  });

  test('alert expressions use metric names the hub exports (or the Redis/lease ones being built)', () => {
    const exported = new Set();
    for (const f of filesUnder(path.join(ROOT, 'src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/"(bailian_hub_[a-z0-9_]+)"/g)) exported.add(m[1]);
    }
    const coming = new Set(['bailian_hub_redis_up', 'bailian_hub_limiter_fallback_active',
      'bailian_hub_redis_errors_total', 'bailian_hub_lease_held']);
    for (const a of alerts) {
      for (const [name] of String(a.expr).matchAll(/bailian_hub_[a-z0-9_]+/g)) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(exported.has(name) || exported.has(family) || coming.has(name),
          `${a.alert}: ${name} is not a metric of the hub`);
      }
    }
  });

  test('the scrape job reads each hub\'s metrics listener with the token from a file', () => {
    const cfg = YAML.parse(read(PROM, 'prometheus.yml'));
    assert.deepEqual(cfg.rule_files, ['alerts.yml']);
    const job = cfg.scrape_configs.find((j) => j.job_name === 'bailian-hub');
    assert.ok(job, 'job bailian-hub');
    assert.equal(job.metrics_path, '/metrics');
    assert.equal(job.authorization.type, 'Bearer');
    assert.equal(job.authorization.credentials_file, 'secrets/metrics-token');
    assert.equal(job.authorization.credentials, undefined, 'no token inlined in the config');
    assert.deepEqual(job.static_configs[0].targets, ['hub-1:9464', 'hub-2:9464']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('a real Prometheus scrapes a running hub with the shipped config', () => {
  let hub;
  let prom;
  let promExited;
  let promUrl;
  let dir;
  const promLogs = [];
  const token = randomBytes(24).toString('hex');

  before(async () => {
    dir = tempDir('hub-prom-');
    hub = await startHub({ env: { BAILIAN_HUB_METRICS_TOKEN: token } });
    cpSync(path.join(DEPLOY, 'prometheus'), path.join(dir, 'etc'), { recursive: true });
    mkdirSync(path.join(dir, 'etc', 'secrets'));
    writeFileSync(path.join(dir, 'etc', 'secrets', 'metrics-token'), token, { mode: 0o600 });
    // Only the targets change: job name, metrics_path, auth and rules stay as shipped.
    const cfgPath = path.join(dir, 'etc', 'prometheus.yml');
    const doc = YAML.parseDocument(readFileSync(cfgPath, 'utf8'));
    const jobs = doc.get('scrape_configs');
    const job = jobs.items.find((j) => j.get('job_name') === 'bailian-hub');
    job.get('static_configs').items[0].set('targets', doc.createNode([`127.0.0.1:${hub.metricsPort}`]));
    writeFileSync(cfgPath, doc.toString());
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn('prometheus', [
      `--config.file=${cfgPath}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [prom.stdout, prom.stderr]) s.on('data', (c) => promLogs.push(String(c)));
    promExited = new Promise((resolve) => prom.on('exit', resolve));
    await waitFor(async () => {
      if (prom.exitCode !== null) throw new Error(`prometheus exited:\n${promLogs.join('')}`);
      try { return (await fetch(`${promUrl}/-/ready`)).ok; } catch { return false; }
    }, 'prometheus ready', 60000, 100);
  });

  after(async () => {
    if (prom && prom.exitCode === null && prom.signalCode === null) {
      prom.kill('SIGTERM');
      const stopped = await Promise.race([promExited.then(() => true),
        new Promise((r) => { setTimeout(() => r(false), 10000).unref(); })]);
      if (!stopped) { prom.kill('SIGKILL'); await promExited; }
    }
    if (hub) await hub.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const api = async (p) => {
    const r = await fetch(`${promUrl}/api/v1/${p}`);
    assert.equal(r.status, 200, p);
    const body = await r.json();
    assert.equal(body.status, 'success');
    return body.data;
  };

  test('the target is up, hub series are queryable, and the alert rules are loaded', async () => {
    // The metrics listener refuses a scrape without the token: an `up` target proves the
    // token file is what Prometheus sends.
    const bare = await fetch(`${hub.metricsUrl}/metrics`);
    assert.equal(bare.status, 401);

    const target = await waitFor(async () => {
      const data = await api('targets?state=active');
      const t = data.activeTargets.find((x) => x.labels.job === 'bailian-hub');
      return t && t.health === 'up' ? t : null;
    }, 'the bailian-hub target to be up', 60000, 250);
    assert.equal(target.scrapeUrl, `http://127.0.0.1:${hub.metricsPort}/metrics`);
    assert.equal(target.labels.instance, `127.0.0.1:${hub.metricsPort}`);

    const result = await waitFor(async () => {
      const data = await api(`query?query=${encodeURIComponent('bailian_hub_build_info{job="bailian-hub"}')}`);
      return data.result.length > 0 ? data.result : null;
    }, 'bailian_hub_build_info in Prometheus', 30000, 250);
    assert.equal(result.length, 1);
    assert.equal(result[0].metric.instance, `127.0.0.1:${hub.metricsPort}`);
    assert.equal(result[0].value[1], '1');
    // A series the availability alert reads.
    const up = await api(`query?query=${encodeURIComponent('up{job="bailian-hub"}')}`);
    assert.equal(up.result[0].value[1], '1');

    const shipped = YAML.parse(read(DEPLOY, 'prometheus', 'alerts.yml'));
    const rules = await api('rules?type=alert');
    const loaded = new Set(rules.groups.flatMap((g) => g.rules.map((r) => r.name)));
    const wanted = shipped.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.deepEqual([...loaded].sort(), [...wanted].sort());
    for (const g of rules.groups) {
      for (const r of g.rules) assert.notEqual(r.health, 'err', `${r.name}: ${r.lastError}`);
    }
    // A healthy hub fires none of the alerts about the hub (the Redis and lease series are
    // absent, so their alerts stay quiet too).
    const alertsNow = await api('alerts');
    assert.deepEqual(alertsNow.alerts.filter((a) => a.state === 'firing'), []);
  });
});

// ---------------------------------------------------------------------------------------------
describe('nginx: every shipped config passes nginx -t', () => {
  let dir;
  let cert;
  before(async () => {
    dir = tempDir('hub-nginx-');
    cert = await throwawayCert(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the compose proxy (rendered like the nginx image does)', async () => {
    const text = read(DEPLOY, 'nginx', 'templates', 'default.conf.template');
    const rendered = renderTemplate(text, {
      HUB_UPSTREAM_1: '127.0.0.1:18081', HUB_UPSTREAM_2: '127.0.0.1:18082',
      HUB_TLS_CERT: cert.cert, HUB_TLS_KEY: cert.key,
    });
    assert.doesNotMatch(rendered, /\$\{/);
    // nginx's own variables are left to nginx.
    for (const v of ['$host', '$proxy_add_x_forwarded_for', '$request_id', '$request_uri']) {
      assert.ok(rendered.includes(v), v);
    }
    assert.match(rendered, /least_conn;/);
    assert.match(rendered, /proxy_buffering off;/);
    assert.match(rendered, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    assert.match(rendered, /proxy_set_header X-Forwarded-Proto https;/);
    assert.match(rendered, /proxy_set_header X-Request-Id \$request_id;/);
    assert.match(rendered, /listen 443 ssl/);
    const sub = path.join(dir, 'compose');
    const r = await nginxTest(sub, rendered);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /test is successful/);
  });

  test('the TLS front of the simulator in compose', async () => {
    const rendered = renderTemplate(read(DEPLOY, 'nginx', 'dashscope', 'dashscope.conf.template'), {
      HUB_SIM_UPSTREAM: '127.0.0.1:19000', HUB_TLS_CERT: cert.cert, HUB_TLS_KEY: cert.key,
    });
    const r = await nginxTest(path.join(dir, 'dashscope'), rendered);
    assert.equal(r.code, 0, r.stderr);
  });

  test('the bare-metal example (deploy/nginx.conf) with its certificate paths pointed here', async () => {
    const text = read(DEPLOY, 'nginx.conf');
    assert.match(text, /least_conn;/);
    assert.match(text, /proxy_buffering off;/);
    const rendered = text
      .replace('/etc/ssl/hub/fullchain.pem', cert.cert)
      .replace('/etc/ssl/hub/privkey.pem', cert.key);
    assert.notEqual(rendered, text);
    const r = await nginxTest(path.join(dir, 'bare'), rendered);
    assert.equal(r.code, 0, r.stderr);
  });

  test('compose\'s upstream chain works: hub client -> TLS front (dashscope template) -> bailian-sim', async (t) => {
    // The pieces as compose runs them: the certificate the `certs` service makes, bailian-sim
    // with the `sim` service's flags, nginx with the rendered dashscope template, and the hub's
    // HTTP client trusting that certificate through SSL_CERT_FILE (as the hubs do).
    const compose = YAML.parse(read(DEPLOY, 'compose', 'docker-compose.yml'), { merge: true });
    const certCmd = compose.services.certs.command.join(' ').match(/bailian-hub (tls self-signed [^;]+);/)[1];
    const certDir = path.join(dir, 'chain-certs');
    const made = await run(HUB_BIN, certCmd.replace('/certs', certDir).split(/\s+/));
    assert.equal(made.code, 0, made.stderr);
    // startSim picks the address (a free loopback port); every other flag is compose's.
    const simArgs = [...compose.services.sim.command];
    simArgs.splice(simArgs.indexOf('--listen'), 2);
    const sim = await startSim({ args: simArgs });
    t.after(() => sim.stop());
    const port = await freePort();
    const site = renderTemplate(read(DEPLOY, 'nginx', 'dashscope', 'dashscope.conf.template'), {
      HUB_SIM_UPSTREAM: `127.0.0.1:${sim.port}`,
      HUB_TLS_CERT: path.join(certDir, 'cert.pem'),
      HUB_TLS_KEY: path.join(certDir, 'key.pem'),
    }).replace(/listen 9443 ssl;/, `listen 127.0.0.1:${port} ssl;`);
    const ndir = path.join(dir, 'chain');
    const checked = await nginxTest(ndir, site);
    assert.equal(checked.code, 0, checked.stderr);
    const nginx = spawn('nginx', ['-p', `${ndir}/`, '-c', path.join(ndir, 'nginx.conf'), '-e',
      `${ndir}/logs/error.log`, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const nginxExited = new Promise((resolve) => nginx.on('exit', resolve));
    t.after(async () => {
      if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill('SIGTERM');
      await nginxExited;
    });
    // nginxTest wrote the same site config; the listen line was rewritten above already.
    await waitFor(() => new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => { sock.destroy(); resolve(true); });
      sock.on('error', () => resolve(false));
    }), 'nginx listening', 20000);
    const url = `https://localhost:${port}/_sim/health`;
    const base = { PATH: process.env.PATH, HOME: process.env.HOME };
    const trusted = await run(HUB_BIN, ['healthcheck', '--url', url],
      { env: { ...base, SSL_CERT_FILE: path.join(certDir, 'cert.pem') } });
    assert.equal(trusted.code, 0, trusted.stderr);
    // Without it the self-signed certificate is refused: the client really verifies.
    const untrusted = await run(HUB_BIN, ['healthcheck', '--url', url], { env: base });
    assert.equal(untrusted.code, 1);
  });

  test('the compose proxy in front of a real hub: request ids, HTTPS to the hub, /metrics kept in', async (t) => {
    // Both upstream entries point at one hub (two would need a shared database); the hub trusts
    // the proxy's address as compose's hubs trust nginx's.
    const metricsToken = randomBytes(24).toString('hex');
    // Not a loopback listener, so the hub insists that the proxy says the client came over
    // HTTPS (X-Forwarded-Proto), as in compose.
    const hub = await startHub({
      env: {
        BAILIAN_HUB_LISTEN: '0.0.0.0:0',
        BAILIAN_HUB_TRUSTED_PROXIES: '127.0.0.1',
        BAILIAN_HUB_METRICS_TOKEN: metricsToken,
      },
    });
    t.after(() => hub.stop());
    const [httpsPort, httpPort] = [await freePort(), await freePort()];
    const site = renderTemplate(read(DEPLOY, 'nginx', 'templates', 'default.conf.template'), {
      HUB_UPSTREAM_1: `127.0.0.1:${hub.port}`, HUB_UPSTREAM_2: `127.0.0.1:${hub.port}`,
      HUB_TLS_CERT: cert.cert, HUB_TLS_KEY: cert.key,
    }).replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${httpsPort} ssl http2;`)
      .replace(/listen 80;/, `listen 127.0.0.1:${httpPort};`);
    const ndir = path.join(dir, 'front');
    const checked = await nginxTest(ndir, site);
    assert.equal(checked.code, 0, checked.stderr);
    const nginx = spawn('nginx', ['-p', `${ndir}/`, '-c', path.join(ndir, 'nginx.conf'), '-e',
      `${ndir}/logs/error.log`, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const nginxExited = new Promise((resolve) => nginx.on('exit', resolve));
    t.after(async () => {
      if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill('SIGTERM');
      await nginxExited;
    });
    const ca = readFileSync(cert.cert);
    const get = (port, p, headers = {}, tls = true) => new Promise((resolve, reject) => {
      const mod = tls ? https : http;
      const req = mod.request({ host: '127.0.0.1', port, path: p, headers, ca, servername: 'localhost' }, (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor(async () => {
      try { return (await get(httpsPort, '/healthz')).status === 200; } catch { return false; }
    }, 'the proxy answering', 20000);

    const r = await get(httpsPort, '/readyz');
    assert.equal(r.status, 200, r.body);
    // nginx's $request_id reached the hub, which answered under it.
    assert.match(r.headers['x-request-id'], /^[0-9a-f]{32}$/);
    const line = await waitFor(() => hub.logs.map((l) => { try { return JSON.parse(l); } catch { return null; } })
      .find((j) => j && j.msg === 'access' && j.request_id === r.headers['x-request-id']), 'the access line');
    assert.equal(line.route, '/readyz');
    // The hub took it as HTTPS from its trusted proxy: the same request from that address
    // without nginx's X-Forwarded-Proto is refused.
    assert.match(r.headers['strict-transport-security'], /max-age=\d+/);
    const bare = await get(hub.port, '/readyz', {}, false);
    assert.equal(bare.status, 403);
    assert.equal(JSON.parse(bare.body).error.code, 'https_required');
    // /metrics stays inside, even with the right token (the hub itself would serve it).
    const m = await get(httpsPort, '/metrics', { authorization: `Bearer ${metricsToken}` });
    assert.equal(m.status, 404);
    assert.doesNotMatch(m.body, /bailian_hub_/);
    // Plain HTTP is sent to HTTPS.
    const plain = await get(httpPort, '/api/v1/models', {}, false);
    assert.equal(plain.status, 301);
    assert.match(plain.headers.location, /^https:\/\/[^/]+\/api\/v1\/models$/);
  });

  test('a broken config fails nginx -t (the check is real)', async () => {
    const r = await nginxTest(path.join(dir, 'broken'), 'server { listen 443 ssl; proxy_buffering maybe; }');
    assert.notEqual(r.code, 0);
  });
});

// ---------------------------------------------------------------------------------------------
describe('docker compose (development)', () => {
  const COMPOSE = path.join(DEPLOY, 'compose');
  const text = read(COMPOSE, 'docker-compose.yml');
  const compose = YAML.parse(text, { merge: true });
  const services = compose.services;
  const envOf = (s) => services[s].environment || {};

  test('every service is there, and every long-running one has a healthcheck', () => {
    for (const s of ['hub-1', 'hub-2', 'sim', 'mariadb', 'redis', 'nginx', 'prometheus']) {
      assert.ok(services[s], `service ${s}`);
      assert.ok(Array.isArray(services[s].healthcheck?.test), `${s}: healthcheck`);
    }
    // The one-shot init is the only service without one.
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === 'no') continue;
      assert.ok(s.healthcheck, `${name}: healthcheck`);
    }
  });

  test('two hubs from the Dockerfile, on MariaDB and Redis, secrets from .env', () => {
    for (const h of ['hub-1', 'hub-2']) {
      const s = services[h];
      assert.equal(s.build.dockerfile, 'deploy/Dockerfile');
      assert.ok(existsSync(path.join(COMPOSE, s.build.context, s.build.dockerfile)));
      const env = envOf(h);
      assert.match(env.BAILIAN_HUB_DATABASE_URL, /^mysql:\/\/hub:\$\{MARIADB_PASSWORD[^}]*\}@mariadb:3306\/hub$/);
      assert.match(env.BAILIAN_HUB_REDIS_URL, /^redis:\/\/:\$\{REDIS_PASSWORD[^}]*\}@redis:6379\/\d+$/);
      assert.match(env.BAILIAN_HUB_MASTER_KEY, /^\$\{BAILIAN_HUB_MASTER_KEY/);
      assert.match(env.BAILIAN_HUB_METRICS_TOKEN, /^\$\{BAILIAN_HUB_METRICS_TOKEN/);
      // Only nginx may speak for clients.
      assert.equal(env.BAILIAN_HUB_TRUSTED_PROXIES, services.nginx.networks.hubnet.ipv4_address);
      assert.ok(s.volumes.includes('hub-data:/data'), `${h}: shared data folder`);
      assert.match(s.healthcheck.test.join(' '), /bailian-hub healthcheck --url http:\/\/127\.0\.0\.1:8080\/readyz/);
      assert.equal(env.BAILIAN_HUB_LISTEN, '0.0.0.0:8080');
    }
    assert.equal(services['hub-2'].depends_on['hub-1'].condition, 'service_healthy');
    assert.equal(services.mariadb.environment.MARIADB_DATABASE, 'hub');
    assert.match(services.mariadb.environment.MARIADB_PASSWORD, /^\$\{MARIADB_PASSWORD/);
  });

  test('nginx fronts both hubs with TLS; the hubs reach the simulator over TLS', () => {
    const n = services.nginx;
    assert.equal(n.environment.HUB_UPSTREAM_1, 'hub-1:8080');
    assert.equal(n.environment.HUB_UPSTREAM_2, 'hub-2:8080');
    assert.equal(n.environment.NGINX_ENVSUBST_FILTER, '^HUB_');
    assert.ok(n.volumes.includes('../nginx/templates:/etc/nginx/templates:ro'));
    assert.ok(n.ports.some((p) => p.endsWith(':443')));
    assert.deepEqual(services.sim.entrypoint, ['/usr/local/bin/bailian-sim']);
    assert.ok(services.dashscope.networks.hubnet.aliases.includes('dashscope'));
    assert.match(envOf('hub-1').DASHSCOPE_BASE_URL, /https:\/\/dashscope:9443/);
  });

  test('Prometheus gets the shipped scrape config, alert rules and the token file', () => {
    const p = services.prometheus;
    assert.ok(p.volumes.includes('../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
    assert.ok(p.volumes.includes('../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'));
    assert.ok(p.volumes.some((v) => v.endsWith(':/etc/prometheus/secrets:ro')));
    const port = envOf('hub-1').BAILIAN_HUB_METRICS_LISTEN.split(':').pop();
    const prom = YAML.parse(read(DEPLOY, 'prometheus', 'prometheus.yml'));
    const targets = prom.scrape_configs.find((j) => j.job_name === 'bailian-hub').static_configs[0].targets;
    assert.deepEqual(targets, [`hub-1:${port}`, `hub-2:${port}`]);
  });

  test('every bind-mounted path exists, and .env.example names every variable the file needs', () => {
    for (const s of Object.values(services)) {
      for (const v of s.volumes || []) {
        const src = v.split(':')[0];
        if (src.startsWith('.')) assert.ok(existsSync(path.join(COMPOSE, src)), src);
      }
    }
    const example = read(COMPOSE, '.env.example');
    const defined = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    for (const m of text.matchAll(/(?<!\$)\$\{([A-Z0-9_]+)/g)) {
      assert.ok(defined.has(m[1]), `.env.example lacks ${m[1]}`);
    }
    assert.doesNotMatch(text, /BAILIAN_HUB_MASTER_KEY: [A-Za-z0-9+/]{20,}/, 'no key inlined');
  });
});

// ---------------------------------------------------------------------------------------------
describe('Kubernetes manifests', () => {
  const K8S = path.join(DEPLOY, 'kubernetes');
  const kustomization = YAML.parse(read(K8S, 'kustomization.yaml'));
  const docs = kustomization.resources.flatMap((f) => YAML.parseAllDocuments(read(K8S, f)).map((d) => d.toJS()));
  const byKind = (kind) => docs.filter((d) => d && d.kind === kind);
  const one = (kind) => {
    const all = byKind(kind);
    assert.equal(all.length, 1, `one ${kind}`);
    return all[0];
  };
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const podLabels = deployment.spec.template.metadata.labels;
  const subset = (sel, labels) => Object.entries(sel).every(([k, v]) => labels[k] === v);

  test('every file parses and the namespace is the kustomization\'s', () => {
    for (const f of readdirSync(K8S).filter((x) => x.endsWith('.yaml'))) {
      assert.ok(f === 'kustomization.yaml' || kustomization.resources.includes(f), `${f} not in kustomization`);
    }
    assert.equal(one('Namespace').metadata.name, kustomization.namespace);
  });

  test('the Deployment: replicas, probes, resources, shutdown', () => {
    assert.ok(deployment.spec.replicas >= 2);
    assert.ok(subset(deployment.spec.selector.matchLabels, podLabels));
    const port = (name) => container.ports.find((p) => p.name === name || p.containerPort === name);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.ok(container.startupProbe.httpGet.path);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      assert.ok(port(container[probe].httpGet.port), `${probe} port`);
    }
    for (const k of ['requests', 'limits']) {
      assert.ok(container.resources[k].cpu, `${k}.cpu`);
      assert.ok(container.resources[k].memory, `${k}.memory`);
    }
    // The kubelet waits longer than the preStop pause plus the hub's own drain.
    const cm = one('ConfigMap').data;
    const drainMs = Number(cm.BAILIAN_HUB_SHUTDOWN_GRACE_MS);
    const preStop = container.lifecycle.preStop.exec.command;
    assert.equal(preStop[0], 'sleep');
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > drainMs + Number(preStop[1]) * 1000);
  });

  test('the pod runs as non-root with a read-only root, no capabilities and the default seccomp', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    // A recursive group chmod of every stored file on each start would take minutes on a large
    // volume.
    assert.equal(pod.securityContext.fsGroupChangePolicy, 'OnRootMismatch');
    assert.ok(Number.isInteger(pod.securityContext.runAsUser) && pod.securityContext.runAsUser > 0);
    const sc = container.securityContext;
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities.drop, ['ALL']);
    assert.equal((sc.seccompProfile || pod.securityContext.seccompProfile).type, 'RuntimeDefault');
    // The image's user (deploy/Dockerfile) is the one the pod asks for.
    const user = read(DEPLOY, 'Dockerfile').match(/^USER (\d+)/m)[1];
    assert.equal(pod.securityContext.runAsUser, Number(user));
    // A read-only root: the hub writes only to mounted volumes.
    const mounts = container.volumeMounts.map((m) => m.mountPath);
    assert.ok(mounts.includes('/data') && mounts.includes('/tmp'));
  });

  test('secrets come from the Secret, never inline; the ConfigMap holds none', () => {
    const secret = one('Secret');
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    for (const name of ['BAILIAN_HUB_MASTER_KEY', 'DASHSCOPE_API_KEY', 'BAILIAN_HUB_DATABASE_URL',
      'BAILIAN_HUB_REDIS_URL', 'BAILIAN_HUB_METRICS_TOKEN']) {
      assert.ok(env[name], `${name} in the container's env`);
      assert.equal(env[name].value, undefined, `${name} inlined`);
      assert.equal(env[name].valueFrom.secretKeyRef.name, secret.metadata.name);
      assert.ok(env[name].valueFrom.secretKeyRef.key in secret.stringData, `${name} in the Secret`);
      assert.match(secret.stringData[env[name].valueFrom.secretKeyRef.key], /REPLACE_ME/);
    }
    const cm = one('ConfigMap');
    assert.deepEqual(container.envFrom.map((e) => e.configMapRef?.name), [cm.metadata.name]);
    for (const k of Object.keys(cm.data)) {
      assert.doesNotMatch(k, /MASTER_KEY|API_KEY|TOKEN|PASSWORD|PASSPHRASE|SECRET|DATABASE_URL|REDIS_URL/, `${k} in the ConfigMap`);
    }
    const tls = pod.volumes.find((v) => v.secret);
    assert.ok(tls, 'the TLS certificate from a Secret');
    assert.equal(cm.data.BAILIAN_HUB_TLS_CERT.startsWith(
      container.volumeMounts.find((m) => m.name === tls.name).mountPath), true);
  });

  test('the Service matches the pods and the container ports; the Ingress suits SSE', () => {
    const svc = one('Service');
    assert.ok(subset(svc.spec.selector, podLabels));
    for (const p of svc.spec.ports) {
      const cp = container.ports.find((c) => c.name === p.targetPort || c.containerPort === p.targetPort);
      assert.ok(cp, `Service port ${p.name} targets a container port`);
    }
    const probePort = container.readinessProbe.httpGet.port;
    const listen = one('ConfigMap').data.BAILIAN_HUB_LISTEN.split(':').pop();
    assert.equal(container.ports.find((c) => c.name === probePort).containerPort, Number(listen));
    const ing = one('Ingress');
    assert.equal(ing.spec.ingressClassName, 'nginx');
    const a = ing.metadata.annotations;
    assert.equal(a['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
    assert.ok(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 300);
    assert.match(a['nginx.ingress.kubernetes.io/proxy-body-size'], /^\d+m$/);
    // The hub speaks HTTPS (and the probes use it).
    assert.equal(a['nginx.ingress.kubernetes.io/backend-protocol'], 'HTTPS');
    assert.equal(container.readinessProbe.httpGet.scheme, 'HTTPS');
    const backend = ing.spec.rules[0].http.paths[0].backend.service;
    assert.equal(backend.name, svc.metadata.name);
    assert.ok(svc.spec.ports.some((p) => p.name === backend.port.name));
  });

  test('the autoscaler and the disruption budget select the Deployment', () => {
    const hpa = one('HorizontalPodAutoscaler');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.ok(hpa.spec.minReplicas >= 2);
    assert.ok(hpa.spec.metrics.some((m) => m.resource?.name === 'cpu'));
    const pdb = one('PodDisruptionBudget');
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.ok(subset(pdb.spec.selector.matchLabels, podLabels));
    assert.equal(one('PersistentVolumeClaim').spec.accessModes[0], 'ReadWriteMany');
  });

  test('the optional Prometheus Operator objects match the Service, the Secret and alerts.yml', () => {
    const MON = path.join(K8S, 'monitoring');
    const mk = YAML.parse(read(MON, 'kustomization.yaml'));
    const objs = Object.fromEntries(mk.resources.map((f) => {
      const d = YAML.parse(read(MON, f));
      return [d.kind, d];
    }));
    const svc = one('Service');
    const sm = objs.ServiceMonitor;
    assert.ok(subset(sm.spec.selector.matchLabels, svc.metadata.labels));
    const ep = sm.spec.endpoints[0];
    assert.ok(svc.spec.ports.some((p) => p.name === ep.port));
    assert.equal(ep.path, '/metrics');
    const secret = one('Secret');
    assert.equal(ep.bearerTokenSecret.name, secret.metadata.name);
    assert.equal(ep.bearerTokenSecret.key, 'BAILIAN_HUB_METRICS_TOKEN');
    // The same rules as deploy/prometheus/alerts.yml, group for group.
    const shipped = YAML.parse(read(DEPLOY, 'prometheus', 'alerts.yml'));
    assert.deepEqual(objs.PrometheusRule.spec.groups, shipped.groups,
      'monitoring/prometheus-rule.yaml differs from alerts.yml: regenerate it (docs/operations.md)');
  });
});

// ---------------------------------------------------------------------------------------------
describe('environment variables named in deploy/', () => {
  test('every BAILIAN_HUB_* and DASHSCOPE_* variable is one the hub reads', () => {
    const known = knownEnvVars();
    assert.ok(known.has('BAILIAN_HUB_LISTEN') && known.has('BAILIAN_HUB_MASTER_KEY'));
    // The check catches a typo.
    assert.deepEqual(unknownEnvVars(['BAILIAN_HUB_LISTN', 'BAILIAN_HUB_LISTEN'], known), ['BAILIAN_HUB_LISTN']);
    const used = new Set();
    for (const f of [...filesUnder(DEPLOY), path.join(ROOT, '.dockerignore')]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\b((?:BAILIAN_HUB|DASHSCOPE)_[A-Z0-9_]*[A-Z0-9])\b/g)) used.add(m[1]);
    }
    assert.ok(used.size > 10);
    assert.deepEqual(unknownEnvVars(used, known), []);
  });

  test('the hubs\' environment in compose and in Kubernetes is a configuration the hub accepts', async () => {
    // `bailian-hub healthcheck` loads the configuration first: a bad value exits 2 with one
    // "config: ..." line before anything is probed.
    const example = Object.fromEntries([...read(DEPLOY, 'compose', '.env.example')
      .matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    const interpolate = (v) => String(v).replace(/\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}/g, (m, n) => example[n] ?? '');
    const compose = YAML.parse(read(DEPLOY, 'compose', 'docker-compose.yml'), { merge: true });
    const hubEnv = Object.fromEntries(Object.entries(compose.services['hub-1'].environment)
      .map(([k, v]) => [k, interpolate(v)]));
    const base = { PATH: process.env.PATH, HOME: process.env.HOME };
    const c = await run(HUB_BIN, ['healthcheck', '--timeout-ms', '500'],
      { env: { ...base, ...hubEnv, BAILIAN_HUB_LISTEN: `0.0.0.0:${await freePort()}` } });
    assert.equal(c.code, 1, c.stderr);  // a valid configuration; nothing listens there
    assert.doesNotMatch(c.stderr, /config:/);

    const K8S = path.join(DEPLOY, 'kubernetes');
    const cm = YAML.parse(read(K8S, 'configmap.yaml')).data;
    const secret = YAML.parse(read(K8S, 'secret.yaml')).stringData;
    const k = await run(HUB_BIN, ['healthcheck'], { env: { ...base, ...cm, ...secret } });
    // Valid, and HTTPS in the pod: the probe asks for an explicit URL (the kubelet probes itself).
    assert.equal(k.code, 2, k.stderr);
    assert.doesNotMatch(k.stderr, /config:/);
    assert.match(k.stderr, /speaks HTTPS/);
  });
});

// ---------------------------------------------------------------------------------------------
describe('the Dockerfile', () => {
  const text = read(DEPLOY, 'Dockerfile');
  // Stages: FROM lines split the file; a stage's instructions follow its FROM.
  const stages = [];
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i);
    if (m) stages.push({ image: m[1], name: m[2], lines: [] });
    else stages.at(-1).lines.push(line);
  }
  const runtime = stages.at(-1);
  const build = stages.find((s) => s.lines.some((l) => /ninja/.test(l)));
  const runtimePackages = new Set(runtime.lines.filter((l) => /apt-get install/.test(l))
    .flatMap((l) => l.split(/\s+/)).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w))
    .filter((w) => !['apt-get', 'install', 'update', 'rm', 'run'].includes(w)));

  test('multi-stage: Debian 12 build from the shared package list, slim runtime', () => {
    assert.ok(stages.length >= 2);
    assert.equal(build.image, 'debian:12');
    assert.ok(build.lines.some((l) => l.includes('scripts/packages/build.txt')), 'build.txt');
    assert.ok(!build.lines.some((l) => /apt-get install[^|]*-dev\b/.test(l)), 'no second -dev list');
    assert.match(read(ROOT, 'scripts', 'setup.sh'), /packages\/build\.txt/);
    assert.ok(build.lines.some((l) => /CMAKE_BUILD_TYPE=Release/.test(l)));
    assert.equal(runtime.image, 'debian:12-slim');
    assert.ok(runtime.lines.some((l) => /^COPY --from=\S+ .*bailian-hub.*bailian-sim/.test(l)));
    assert.ok(runtime.lines.some((l) => /^COPY --from=\S+ \S*web\/dist/.test(l)), 'web UI');
  });

  test('runtime: numeric non-root user, /data volume, ports, HEALTHCHECK with the hub itself', () => {
    const user = runtime.lines.find((l) => l.startsWith('USER '));
    assert.match(user, /^USER [1-9]\d*(:[1-9]\d*)?$/);
    assert.ok(runtime.lines.some((l) => /^VOLUME .*\/data/.test(l)));
    assert.ok(runtime.lines.some((l) => /^EXPOSE .*8080/.test(l)));
    const hc = runtime.lines.find((l) => l.startsWith('HEALTHCHECK'));
    assert.match(hc, /CMD \["\/usr\/local\/bin\/bailian-hub", "healthcheck"/);
    assert.ok(existsSync(path.join(ROOT, '.dockerignore')));
    const ignore = read(ROOT, '.dockerignore');
    for (const p of ['node_modules', '/build', '/var', '.env']) assert.ok(ignore.includes(p), p);
  });

  test('every library the built binaries link comes from a package the runtime stage installs', async () => {
    const basics = new Set(['libc6', 'libstdc++6', 'libgcc-s1']);
    const needed = new Map();
    for (const bin of [HUB_BIN, SIM_BIN]) {
      const r = await run('ldd', [bin]);
      assert.equal(r.code, 0, r.stderr);
      for (const m of r.stdout.matchAll(/=>\s+(\/\S+)/g)) {
        const lib = m[1];
        const candidates = [lib, realpathSync(lib)];
        if (lib.startsWith('/lib/')) candidates.push(`/usr${lib}`);
        if (lib.startsWith('/usr/lib/')) candidates.push(lib.slice(4));
        let pkg = null;
        for (const c of candidates) {
          const d = await run('dpkg', ['-S', c]);
          if (d.code === 0) { pkg = d.stdout.split(':')[0].trim(); break; }
        }
        assert.ok(pkg, `no package provides ${lib}`);
        needed.set(pkg, lib);
      }
    }
    assert.ok(needed.has('libssl3'), 'ldd found the OpenSSL dependency');
    for (const [pkg, lib] of needed) {
      if (basics.has(pkg)) continue;
      assert.ok(runtimePackages.has(pkg), `${lib} comes from ${pkg}, which the runtime stage does not install`);
    }
    assert.ok(runtimePackages.has('ca-certificates'), 'CA certificates for HTTPS to DashScope');
  });
});

// ---------------------------------------------------------------------------------------------
describe('bailian-hub healthcheck', () => {
  let hub;
  let sim;
  before(async () => {
    hub = await startHub();
    sim = await startSim();
  });
  after(async () => {
    if (hub) await hub.stop();
    if (sim) await sim.stop();
  });
  const env = (extra = {}) => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });

  test('exits 0 when the hub on the configured port answers /healthz', async () => {
    const r = await run(HUB_BIN, ['healthcheck'], { env: env({ BAILIAN_HUB_LISTEN: `127.0.0.1:${hub.port}` }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`http://127\\.0\\.0\\.1:${hub.port}/healthz answered 200`));
  });

  test('probes another URL with --url: readiness, and the simulator\'s health', async () => {
    const ready = await run(HUB_BIN, ['healthcheck', '--url', `${hub.url}/readyz`], { env: env() });
    assert.equal(ready.code, 0, ready.stderr);
    const s = await run(HUB_BIN, ['healthcheck', '--url', `${sim.url}/_sim/health`], { env: env() });
    assert.equal(s.code, 0, s.stderr);
  });

  test('exits 1 on an answer other than 200, and when nothing listens', async () => {
    const missing = await run(HUB_BIN, ['healthcheck', '--url', `${hub.url}/no-such-page`], { env: env() });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /answered 404/);
    const port = await freePort();
    const closed = await run(HUB_BIN, ['healthcheck', '--timeout-ms', '2000'],
      { env: env({ BAILIAN_HUB_LISTEN: `127.0.0.1:${port}` }) });
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, new RegExp(`127\\.0\\.0\\.1:${port}/healthz: `));
  });

  test('a bad --url or an HTTPS listener without one exits 2 with one line', async () => {
    for (const url of ['ftp://127.0.0.1/healthz', 'http://10.9.8.7:8080/healthz', 'nonsense']) {
      const r = await run(HUB_BIN, ['healthcheck', '--url', url], { env: env() });
      assert.equal(r.code, 2, url);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /healthcheck/);
    }
    const dir = tempDir('hub-hc-');
    try {
      const r = await run(HUB_BIN, ['healthcheck'], {
        env: env({ BAILIAN_HUB_TLS_CERT: path.join(dir, 'c.pem'), BAILIAN_HUB_TLS_KEY: path.join(dir, 'k.pem') }),
      });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--url/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

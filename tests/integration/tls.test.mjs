// HTTPS in the hub: the certificate command, protocol and suite policy (checked with
// openssl s_client), HSTS and Secure cookies, session tickets, reloads that drop nothing, the
// redirect listener, and start-up errors. Tests wait for conditions, never for time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { STRONG_PASSWORD, uniqueName } from '../support/api.mjs';
import { runHub, startHubWithSim, tempDir } from '../support/hub.mjs';
import { waitFor } from '../support/wait.mjs';

const FAST_AUTH = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
};

function run(cmd, args, input = '') {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
    // A tool that exits before reading its input (openssl x509 reads a file) closes the pipe:
    // an EPIPE on our end of it is expected, not a failure.
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

async function selfSigned(dir) {
  const r = await runHub(['tls', 'self-signed', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  return { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

async function fingerprintOf(certFile) {
  const r = await run('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
  return r.stdout.trim().split('=')[1];
}

// The certificate a new connection is served.
function servedFingerprint(port) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

// One HTTPS request trusting `ca`; resolves {status, headers, text, json}.
function request(url, { method = 'GET', headers = {}, body, ca } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(url, {
      method, ca,
      headers: { ...(data ? { 'Content-Type': 'application/json' } : {}), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

function sClient(port, args) {
  return run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args]);
}

test('tls self-signed: a 0600 key and a certificate for localhost and the loopback addresses', async () => {
  const dir = path.join(tempDir(), 'certs');
  const { cert, key } = await selfSigned(dir);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  const text = (await run('openssl', ['x509', '-in', cert, '-noout', '-text'])).stdout;
  assert.match(text, /DNS:localhost/);
  assert.match(text, /IP Address:127\.0\.0\.1/);
  const bad = await runHub(['tls', 'self-signed', '--out', dir, '--host', 'a b']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /neither a host name nor an IP address/);
});

describe('HTTPS listener', () => {
  let env;
  let certs;
  let spare;
  let base;
  let ca;
  let redirectPort;

  before(async () => {
    const dir = tempDir();
    certs = await selfSigned(path.join(dir, 'live'));
    spare = await selfSigned(path.join(dir, 'spare'));
    ca = [readFileSync(certs.cert), readFileSync(spare.cert)];
    // An OCSP response as the operator's job would leave it (status "unauthorized": only the
    // stapling is under test here, not a CA).
    const ocsp = path.join(dir, 'ocsp.der');
    writeFileSync(ocsp, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x06]));
    env = await startHubWithSim({
      env: {
        ...FAST_AUTH,
        BAILIAN_HUB_TLS_CERT: certs.cert,
        BAILIAN_HUB_TLS_KEY: certs.key,
        BAILIAN_HUB_TLS_OCSP_RESPONSE: ocsp,
        BAILIAN_HUB_TLS_RELOAD_CHECK_MS: '0',  // reloads here come from SIGHUP only
        BAILIAN_HUB_HTTP_REDIRECT_LISTEN: '127.0.0.1:0',
      },
    });
    base = `https://127.0.0.1:${env.hub.port}`;
    redirectPort = await waitFor(() => {
      const line = env.hub.logs.map((l) => { try { return JSON.parse(l); } catch { return null; } })
        .find((j) => j && j.msg === 'redirect_listening');
      return line?.port;
    }, 'the redirect listener');
  });
  after(async () => { await env?.stop(); });

  test('TLS 1.0 and 1.1 and weak suites get a handshake failure; 1.2 and 1.3 use forward-secret AEAD suites', async () => {
    for (const old of ['-tls1', '-tls1_1']) {
      const r = await sClient(env.hub.port, [old]);
      assert.notEqual(r.code, 0, `${old} must fail`);
      assert.doesNotMatch(r.stdout, /Cipher is (?!\(NONE\))/);
    }
    for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'DHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA']) {
      const r = await sClient(env.hub.port, ['-tls1_2', '-cipher', weak]);
      assert.notEqual(r.code, 0, `${weak} must fail`);
    }
    const t12 = await sClient(env.hub.port, ['-tls1_2']);
    assert.match(t12.stdout, /New, TLSv1\.2, Cipher is ECDHE-ECDSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)/);
    const t13 = await sClient(env.hub.port, ['-tls1_3']);
    assert.match(t13.stdout, /New, TLSv1\.3, Cipher is TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)/);
    // The client's preference is not the server's: offered CHACHA20 first, AES-GCM is chosen.
    const pref = await sClient(env.hub.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256']);
    assert.match(pref.stdout, /Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
    const metrics = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    assert.match(metrics, /bailian_hub_tls_handshake_failures_total [1-9]/);
  });

  test('session tickets resume sessions (TLS 1.2 and 1.3)', async () => {
    // A connection that waits for its ticket, then one that presents it.
    const connect = (version, session) => new Promise((resolve, reject) => {
      const s = tls.connect({
        host: '127.0.0.1', port: env.hub.port, servername: 'localhost', rejectUnauthorized: false,
        minVersion: version, maxVersion: version, session,
      });
      if (session) {
        // Resumed: known at the end of the handshake.
        s.once('secureConnect', () => {
          const reused = s.isSessionReused();
          s.end();
          resolve({ reused });
        });
      } else {
        // New: the ticket arrives after the handshake (TLS 1.3) or with it (TLS 1.2).
        s.once('session', (ticket) => {
          const reused = s.isSessionReused();
          s.end();
          resolve({ ticket, reused });
        });
      }
      s.on('error', reject);
    });
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const first = await connect(v);
      assert.equal(first.reused, false);
      const again = await connect(v, first.ticket);
      assert.equal(again.reused, true, `${v} resumed`);
    }
  });

  test('the OCSP response file is stapled when the client asks', async () => {
    const r = await sClient(env.hub.port, ['-status', '-tls1_2']);
    assert.match(r.stdout, /OCSP Response Status: unauthorized \((0x)?6\)/);
  });

  test('every HTTPS answer has HSTS; the refresh cookie is Secure', async () => {
    const health = await request(`${base}/healthz`, { ca });
    assert.equal(health.status, 200);
    assert.match(health.headers['strict-transport-security'], /^max-age=31536000; includeSubDomains$/);
    const username = uniqueName('tls');
    const reg = await request(`${base}/api/v1/auth/register`, {
      method: 'POST', ca, body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
    });
    assert.equal(reg.status, 201, reg.text);
    const login = await request(`${base}/api/v1/auth/login`, {
      method: 'POST', ca, body: { username, password: STRONG_PASSWORD },
    });
    assert.equal(login.status, 200, login.text);
    assert.ok(login.headers['strict-transport-security']);
    const cookie = login.headers['set-cookie'].find((c) => c.startsWith('bh_refresh='));
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; HttpOnly/);
  });

  test('the redirect listener answers 308 to the same path on HTTPS and serves nothing else', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await fetch(`http://127.0.0.1:${redirectPort}/api/v1/conversations?limit=5`, { method, redirect: 'manual' });
      assert.equal(res.status, 308);
      assert.equal(res.headers.get('location'), `https://127.0.0.1:${env.hub.port}/api/v1/conversations?limit=5`);
      assert.equal(res.headers.get('strict-transport-security'), null);
    }
    // A Host that could smuggle anything into Location is refused.
    const raw = await new Promise((resolve, reject) => {
      import('node:net').then(({ default: net }) => {
        const s = net.connect(redirectPort, '127.0.0.1', () => {
          s.end('GET /x HTTP/1.1\r\nHost: evil.example/<script>\r\nConnection: close\r\n\r\n');
        });
        let out = '';
        s.on('data', (d) => { out += d; });
        s.on('close', () => resolve(out));
        s.on('error', reject);
      });
    });
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.doesNotMatch(raw, /Location:/i);
  });

  test('SIGHUP swaps the certificate without dropping a stream in flight; a bad file keeps the old one', async () => {
    // A platform key, then a long stream through it.
    const username = uniqueName('tlsstream');
    await request(`${base}/api/v1/auth/register`, {
      method: 'POST', ca, body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
    });
    const login = await request(`${base}/api/v1/auth/login`, { method: 'POST', ca, body: { username, password: STRONG_PASSWORD } });
    const key = await request(`${base}/api/v1/api-keys`, {
      method: 'POST', ca, headers: { Authorization: `Bearer ${login.json.access_token}` }, body: { name: 'tls' },
    });
    assert.equal(key.status, 201, key.text);
    const before = await servedFingerprint(env.hub.port);
    assert.equal(before, await fingerprintOf(certs.cert));

    let firstChunk;
    const started = new Promise((r) => { firstChunk = r; });
    const streamed = new Promise((resolve, reject) => {
      const req = https.request(`${base}/v1/chat/completions`, {
        method: 'POST', ca,
        headers: { Authorization: `Bearer ${key.json.key}`, 'Content-Type': 'application/json' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; firstChunk(); });
        res.on('end', () => resolve({ status: res.statusCode, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(JSON.stringify({
        model: 'qwen-plus', stream: true,
        messages: [{ role: 'user', content: '[sim:tps=20][sim:tokens=40] a story across a reload' }],
      }));
    });
    await started;

    // A good new certificate: new connections get it, the stream goes on.
    copyFileSync(spare.cert, certs.cert);
    copyFileSync(spare.key, certs.key);
    env.hub.proc.kill('SIGHUP');
    const spareFp = await fingerprintOf(spare.cert);
    await waitFor(async () => (await servedFingerprint(env.hub.port)) === spareFp, 'the new certificate served');

    // A broken file: refused, the certificate in use stays.
    writeFileSync(certs.cert, 'not a certificate\n');
    env.hub.proc.kill('SIGHUP');
    await waitFor(() => env.hub.logs.some((l) => l.includes('"tls_reload_failed"')), 'the refused reload logged');
    assert.equal(await servedFingerprint(env.hub.port), spareFp);
    const failed = env.hub.logs.find((l) => l.includes('"tls_reload_failed"'));
    assert.match(failed, new RegExp(certs.cert.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

    const done = await streamed;
    assert.equal(done.status, 200);
    assert.match(done.text, /data: \[DONE\]/);
    const metrics = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    assert.match(metrics, /bailian_hub_tls_reloads_total 1\b/);
    assert.match(metrics, /bailian_hub_tls_reload_failures_total 1\b/);
    // Put the good pair back for the other tests.
    copyFileSync(spare.cert, certs.cert);
  });
});

test('replaced certificate files are noticed without a signal', async () => {
  const dir = tempDir();
  const live = await selfSigned(path.join(dir, 'live'));
  const next = await selfSigned(path.join(dir, 'next'));
  const env = await startHubWithSim({
    env: { BAILIAN_HUB_TLS_CERT: live.cert, BAILIAN_HUB_TLS_KEY: live.key, BAILIAN_HUB_TLS_RELOAD_CHECK_MS: '100' },
  });
  try {
    assert.equal(await servedFingerprint(env.hub.port), await fingerprintOf(live.cert));
    copyFileSync(next.key, live.key);
    copyFileSync(next.cert, live.cert);
    const want = await fingerprintOf(next.cert);
    await waitFor(async () => (await servedFingerprint(env.hub.port)) === want, 'the replaced certificate served');
  } finally {
    await env.stop();
  }
});

test('the metrics listener speaks HTTPS too when asked', async () => {
  const dir = tempDir();
  const pair = await selfSigned(path.join(dir, 'm'));
  const ca = readFileSync(pair.cert);
  const env = await startHubWithSim({
    env: { BAILIAN_HUB_TLS_CERT: pair.cert, BAILIAN_HUB_TLS_KEY: pair.key, BAILIAN_HUB_METRICS_TLS: 'true' },
  });
  try {
    const r = await request(`https://127.0.0.1:${env.hub.metricsPort}/metrics`, { ca });
    assert.equal(r.status, 200);
    assert.match(r.text, /bailian_hub_tls_handshakes_total/);
    // Plain HTTP on that port is not answered.
    await assert.rejects(fetch(`http://127.0.0.1:${env.hub.metricsPort}/metrics`));
  } finally {
    await env.stop();
  }
});

test('over TLS 1.2 and 1.3, a login whose client left before its answer is not hashed', async () => {
  // bcrypt at cost 12 keeps the crypto workers busy, so most of a burst of logins queues. Each
  // client sends its login and, once the hub has queued it, leaves: over TLS its close_notify
  // arrives before its FIN, and the hub must read that record (without consuming anything:
  // it could be a pipelined request) as the client leaving. Leaving only after the hub has
  // read the request matters: sent with it, the close_notify would be read into the TLS
  // session with the request, and the FIN alone would give the client away.
  const dir = tempDir();
  const pair = await selfSigned(path.join(dir, 'g'));
  const env = await startHubWithSim({
    env: {
      ...FAST_AUTH,
      BAILIAN_HUB_BCRYPT_COST: '12',
      BAILIAN_HUB_AUTH_MAX_PENDING_HASHES: '64',
      BAILIAN_HUB_TLS_CERT: pair.cert,
      BAILIAN_HUB_TLS_KEY: pair.key,
    },
  });
  const metric = async (prefix) => {
    const text = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const SKIPPED = 'bailian_hub_password_hashes_skipped_total{reason="client_gone"}';
  const PENDING = 'bailian_hub_worker_pool_pending{pool="crypto"}';
  const RAN = 'bailian_hub_worker_pool_wait_seconds_count{pool="crypto"}';
  const LOGINS = 12;
  try {
    for (const version of ['TLSv1.2', 'TLSv1.3']) {
      const before = await metric(SKIPPED);
      const ranBefore = await metric(RAN);
      const sockets = await Promise.all(Array.from({ length: LOGINS }, (_, i) => new Promise((resolve, reject) => {
        const body = JSON.stringify({ username: `gone_${i}`, password: 'Not-The-Password-1' });
        const s = tls.connect({
          host: '127.0.0.1', port: env.hub.port, servername: 'localhost',
          rejectUnauthorized: false, minVersion: version, maxVersion: version,
        }, () => {
          s.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
            + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => resolve(s));
        });
        s.on('error', reject);
      })));
      // Every login has reached the crypto pool (queued, hashing or hashed) before anyone leaves.
      await waitFor(async () => (await metric(PENDING)) + (await metric(RAN)) - ranBefore >= LOGINS,
        `the ${version} logins queued`);
      for (const s of sockets) s.end();
      const skipped = await waitFor(async () => {
        const n = (await metric(SKIPPED)) - before;
        return (await metric(PENDING)) === 0 && n > 0 ? n : 0;
      }, `the queued logins of clients gone over ${version} skipped`);
      assert.ok(skipped >= 1 && skipped <= LOGINS, `${version}: ${skipped}`);
    }
  } finally {
    await env.stop();
  }
});

test('plain HTTP behind a TLS proxy: only requests the proxy says came over HTTPS are answered', async () => {
  const env = await startHubWithSim({
    env: { BAILIAN_HUB_LISTEN: '0.0.0.0:0', BAILIAN_HUB_TRUSTED_PROXIES: '127.0.0.1' },
  });
  const get = (headers) => new Promise((resolve, reject) => {
    import('node:http').then(({ default: http }) => {
      http.get({ host: '127.0.0.1', port: env.hub.port, path: '/healthz', headers }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      }).on('error', reject);
    });
  });
  try {
    const plain = await get({});
    assert.equal(plain.status, 403);
    assert.equal(JSON.parse(plain.text).error.code, 'https_required');
    const forwarded = await get({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' });
    assert.equal(forwarded.status, 200);
    assert.match(forwarded.headers['strict-transport-security'], /max-age=31536000/);
    assert.equal((await get({ 'X-Forwarded-Proto': 'http' })).status, 403);
  } finally {
    await env.stop();
  }
});

describe('start-up: certificate problems are configuration errors', () => {
  let dir;
  let good;
  let other;
  before(async () => {
    dir = tempDir();
    good = await selfSigned(path.join(dir, 'good'));
    other = await selfSigned(path.join(dir, 'other'));
  });

  async function serve(env) {
    const data = path.join(dir, `data${Math.random()}`);
    mkdirSync(data);
    return runHub(['serve'], {
      BAILIAN_HUB_DATA_DIR: data, BAILIAN_HUB_LISTEN: '127.0.0.1:0', BAILIAN_HUB_METRICS_LISTEN: 'off',
      BAILIAN_HUB_LOG_FORMAT: 'json', DASHSCOPE_API_KEY: 'sk-unused-0000', ...env,
    });
  }

  test('a missing, unreadable or mismatched certificate or key: exit 2 naming the file', async () => {
    const missing = path.join(dir, 'nope.pem');
    const cases = [
      [{ BAILIAN_HUB_TLS_CERT: missing, BAILIAN_HUB_TLS_KEY: good.key }, missing],
      [{ BAILIAN_HUB_TLS_CERT: good.cert, BAILIAN_HUB_TLS_KEY: missing }, missing],
      [{ BAILIAN_HUB_TLS_CERT: good.key, BAILIAN_HUB_TLS_KEY: good.key }, good.key],
      [{ BAILIAN_HUB_TLS_CERT: good.cert, BAILIAN_HUB_TLS_KEY: other.key }, other.key],
    ];
    for (const [env, file] of cases) {
      const r = await serve(env);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const line = (r.stdout + r.stderr).split('\n').find((l) => l.includes('tls_config_failed'));
      assert.ok(line, r.stdout + r.stderr);
      assert.ok(line.includes(file), line);
    }
    const half = await serve({ BAILIAN_HUB_TLS_CERT: good.cert });
    assert.equal(half.code, 2);
    assert.match(half.stderr + half.stdout, /BAILIAN_HUB_TLS_KEY/);
  });

  test('plain HTTP off loopback without a TLS proxy refuses to start; with a certificate it is allowed', async () => {
    const plain = await serve({ BAILIAN_HUB_LISTEN: '0.0.0.0:0' });
    assert.equal(plain.code, 2);
    assert.match(plain.stderr + plain.stdout, /plain HTTP is only served on loopback/);
    const redirectOnly = await serve({ BAILIAN_HUB_HTTP_REDIRECT_LISTEN: '127.0.0.1:0' });
    assert.equal(redirectOnly.code, 2);
  });

  test('an expired certificate: the hub starts, says so loudly, and the metric shows the past date', async () => {
    // An expired certificate made the way a CA would (openssl ca with explicit dates).
    const ca = path.join(dir, 'ca');
    mkdirSync(path.join(ca, 'newcerts'), { recursive: true });
    writeFileSync(path.join(ca, 'index.txt'), '');
    writeFileSync(path.join(ca, 'serial'), '1000\n');
    writeFileSync(path.join(ca, 'ca.cnf'), [
      '[ ca ]', 'default_ca = d', '[ d ]', `dir = ${ca}`, 'database = $dir/index.txt',
      'new_certs_dir = $dir/newcerts', 'serial = $dir/serial', 'default_md = sha256',
      'policy = p', 'copy_extensions = copy', '[ p ]', 'commonName = supplied', ''].join('\n'));
    const key = path.join(ca, 'key.pem');
    const csr = path.join(ca, 'req.csr');
    const cert = path.join(ca, 'cert.pem');
    let r = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-subj', '/CN=localhost', '-out', csr]);
    assert.equal(r.code, 0, r.stderr);
    r = await run('openssl', ['ca', '-batch', '-config', path.join(ca, 'ca.cnf'), '-selfsign', '-keyfile', key,
      '-in', csr, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-out', cert]);
    assert.equal(r.code, 0, r.stderr);

    const env = await startHubWithSim({ env: { BAILIAN_HUB_TLS_CERT: cert, BAILIAN_HUB_TLS_KEY: key } });
    try {
      assert.ok(env.hub.logs.some((l) => l.includes('"tls_certificate_expired"') && l.includes('"level":"error"')));
      const metrics = await (await fetch(`${env.hub.metricsUrl}/metrics`)).text();
      const line = metrics.split('\n').find((l) => l.startsWith('bailian_hub_tls_certificate_expiry_timestamp_seconds'));
      assert.equal(Number(line.split(' ').pop()), Date.UTC(2020, 0, 2) / 1000);
    } finally {
      await env.stop();
    }
  });
});

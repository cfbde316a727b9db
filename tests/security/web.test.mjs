// Browser-side attacks: cross-site requests riding the refresh cookie, CORS from an untrusted
// origin, framing (clickjacking), and the Content-Security-Policy that keeps injected script
// from running.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call } from '../support/api.mjs';
import { startHub, tempDir } from '../support/hub.mjs';
import { assertNoSecretInLogs, FAST_ENV, keep, user } from './common.mjs';

const TRUSTED = 'https://hub.example.com';

describe('web attacks', () => {
  let hub;
  let host;
  before(async () => {
    const webRoot = path.join(tempDir(), 'web');
    mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Bailian Hub</title><script type="module" src="/assets/app-12345678.js"></script>');
    writeFileSync(path.join(webRoot, 'assets', 'app-12345678.js'), 'console.log(1)');
    hub = await startHub({ env: { ...FAST_ENV, BAILIAN_HUB_WEB_ROOT: webRoot, BAILIAN_HUB_ALLOWED_ORIGINS: TRUSTED } });
    host = `127.0.0.1:${hub.port}`;
  });
  after(async () => { await hub?.stop(); });

  const refreshWithCookie = (cookie, headers = {}) => call(hub.url, 'POST', '/api/v1/auth/refresh', { headers: { Cookie: cookie, ...headers } });

  test('CSRF: the refresh cookie is refused from another Origin, from none, and from look-alikes', async () => {
    const u = await user(hub.url);
    const cookie = u.cookie.split(';')[0];
    const bad = [
      {}, { Origin: 'https://evil.example' }, { Origin: 'null' }, { Origin: `http://${host}.evil.example` },
      { Origin: `http://evil.example/${host}` }, { Origin: `http://${host.replace('127.0.0.1', '127.0.0.2')}` },
      { Origin: `${TRUSTED}.evil.example` }, { Origin: TRUSTED.toUpperCase() }, { Origin: `${TRUSTED}/` },
      { Referer: `http://${host}/` }, { Origin: 'https://evil.example', Referer: `http://${host}/` },
      { 'Sec-Fetch-Site': 'same-origin' },
    ];
    for (const headers of bad) {
      const r = await refreshWithCookie(cookie, headers);
      assert.equal(r.status, 403, `${JSON.stringify(headers)} -> ${r.status}`);
      assert.equal(r.body.error.code, 'origin_not_allowed');
      assert.ok(!r.body.access_token);
      assert.equal(r.headers.get('set-cookie'), null, 'no new cookie');
    }
    // A form post (no JSON) cannot reach it either.
    const form = await call(hub.url, 'POST', '/api/v1/auth/refresh', {
      body: 'refresh_token=x', headers: { Cookie: cookie, Origin: 'https://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.ok(form.status >= 400 && form.status < 500 && !form.body.access_token, `form -> ${form.status}`);
    // The same cookie from our own origin, then from the configured one, works.
    const own = await refreshWithCookie(cookie, { Origin: `http://${host}` });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    keep(own.body.access_token, own.body.refresh_token);
    const next = own.headers.get('set-cookie').split(';')[0];
    const trusted = await refreshWithCookie(next, { Origin: TRUSTED });
    assert.equal(trusted.status, 200);
    keep(trusted.body.access_token, trusted.body.refresh_token);
  });

  test('CSRF: a cookie alone never authenticates any other route', async () => {
    const u = await user(hub.url);
    const cookie = u.cookie.split(';')[0];
    const attempts = [
      ['POST', '/api/v1/auth/logout'], ['GET', '/api/v1/users/me'], ['POST', '/api/v1/conversations', {}],
      ['POST', '/api/v1/api-keys', { name: 'csrf' }], ['POST', '/api/v1/users/me/password', { current_password: 'x', new_password: 'Another-Good-Pass-9' }],
    ];
    for (const [method, p, body] of attempts) {
      const r = await call(hub.url, method, p, { body, headers: { Cookie: cookie, Origin: 'https://evil.example' } });
      assert.equal(r.status, 401, `${method} ${p} -> ${r.status}`);
    }
    assert.match(u.cookie, /SameSite=Strict/);
    assert.match(u.cookie, /HttpOnly/);
    assert.match(u.cookie, /Path=\/api\/v1\/auth/);
  });

  test('CORS: an untrusted Origin gets no Access-Control-Allow-Origin, preflight or not', async () => {
    const u = await user(hub.url);
    const evil = 'https://evil.example';
    const responses = [
      await fetch(`${hub.url}/api/v1/users/me`, { headers: { Origin: evil, Authorization: `Bearer ${u.token}` } }),
      await fetch(`${hub.url}/api/v1/users/me`, { method: 'OPTIONS', headers: { Origin: evil, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } }),
      await fetch(`${hub.url}/api/v1/auth/refresh`, { method: 'OPTIONS', headers: { Origin: evil, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } }),
      await fetch(`${hub.url}/v1/models`, { headers: { Origin: evil, Authorization: `Bearer ${u.token}` } }),
      await fetch(`${hub.url}/api/v1/auth/login`, { method: 'POST', headers: { Origin: 'null', 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'x', password: 'y' }) }),
      await fetch(`${hub.url}/healthz`, { headers: { Origin: evil } }),
    ];
    for (const r of responses) {
      const acao = r.headers.get('access-control-allow-origin');
      assert.ok(acao === null, `${r.url} answered Access-Control-Allow-Origin: ${acao}`);
      assert.equal(r.headers.get('access-control-allow-credentials'), null);
      await r.arrayBuffer();
    }
  });

  test('clickjacking: pages and API answers forbid framing', async () => {
    for (const p of ['/', '/c/some-client-route', '/api/v1/auth/jwks', '/healthz', '/api/v1/nothing-here']) {
      const r = await fetch(`${hub.url}${p}`);
      await r.arrayBuffer();
      assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
      assert.match(r.headers.get('content-security-policy') || '', /frame-ancestors 'none'/, p);
    }
  });

  test('CSP: scripts only from self, never inline or eval; no plugins; no foreign base or form targets', async () => {
    const r = await fetch(`${hub.url}/`);
    assert.match(await r.text(), /Bailian Hub/);
    const csp = r.headers.get('content-security-policy');
    assert.ok(csp, 'the page has a CSP');
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name.toLowerCase(), values];
    }));
    const scripts = directives['script-src'] || directives['default-src'];
    assert.ok(scripts, 'script-src or default-src');
    for (const forbidden of ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'http:', 'https:', "'unsafe-hashes'"]) {
      assert.ok(!scripts.includes(forbidden), `script sources include ${forbidden}: ${csp}`);
    }
    assert.deepEqual(directives['object-src'], ["'none'"]);
    assert.ok(directives['base-uri'] && !directives['base-uri'].includes('*'));
    assert.ok(directives['form-action'] && !directives['form-action'].includes('*'));
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  });

  test('responses that carry user data are not cached or sniffed', async () => {
    const u = await user(hub.url);
    const r = await fetch(`${hub.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${u.token}` } });
    await r.arrayBuffer();
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  });

  test('no secret used in this file appears in any log line', () => {
    assertNoSecretInLogs();
  });
});

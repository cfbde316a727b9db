// Single sign-on (issue 18, item 3) against a REAL OpenID provider on loopback (the
// `oidc-provider` package, tests/support/oidc-provider.mjs): providers list, sign-in that makes
// an account with the provider's default role, the second sign-in, linking an existing account
// (verified email + password), every refusal (state, replayed code, nonce, domain, unverified
// email, disabled user), a provider that is down, linked identities and the last-method rule,
// the audit trail, and that no client secret reaches a log or an answer.
// A tiny "evil" issuer served here stands in ONLY for what the real provider will not do: an
// ID token signed by another key, for another audience, expired, or under a kid it rotated in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { generateKeyPairSync, sign as cryptoSign, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { startHub, runHub, tempDir } from '../support/hub.mjs';
import { call, login, register, STRONG_PASSWORD } from '../support/api.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';
import { startOidcProvider, drive } from '../support/oidc-provider.mjs';
import { freshStep, oath } from '../support/totp.mjs';
import { freePort } from '../support/net.mjs';

const SECRETS = {
  test: 'test-client-secret-9f8e7d6c5b4a',
  es: 'es-client-secret-0a1b2c3d4e5f',
  corp: 'corp-client-secret-5566778899',
  flaky: 'flaky-client-secret-1122334455',
  evil: 'evil-client-secret-abcdefabcdef',
};

// ---- the evil issuer: well-behaved discovery and JWKS, hand-made ID tokens -----------------
function b64url(buf) { return Buffer.from(buf).toString('base64url'); }
function rsaKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}
function signJwt(key, claims, kid = key.kid) {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(cryptoSign('sha256', Buffer.from(input), key.privateKey))}`;
}
async function startEvil() {
  const published = rsaKey('evil-1');
  const rotated = rsaKey('evil-2');
  const stranger = rsaKey('evil-1');  // the same kid, another key
  const state = { jwksFetches: 0, publishRotated: false, codes: new Map(), tokenAuth: [] };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, issuer);
    const json = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`, token_endpoint_auth_methods_supported: ['client_secret_post'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (url.pathname === '/jwks') {
      state.jwksFetches += 1;
      return json(200, { keys: state.publishRotated ? [published.jwk, rotated.jwk] : [published.jwk] });
    }
    if (url.pathname === '/authorize') {
      const code = b64url(randomBytes(16));
      state.codes.set(code, { nonce: url.searchParams.get('nonce'), mode: url.searchParams.get('mode') });
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state'));
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      state.tokenAuth.push({ basic: !!req.headers.authorization, post: form.get('client_secret') === SECRETS.evil });
      const grant = state.codes.get(form.get('code'));
      state.codes.delete(form.get('code'));
      if (!grant || form.get('client_secret') !== SECRETS.evil) return json(400, { error: 'invalid_grant' });
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: issuer, sub: `evil-${grant.mode}`, aud: 'hub-evil', nonce: grant.nonce, iat: now, exp: now + 300, email: `${grant.mode}@evil.test`, email_verified: true };
      let token;
      switch (grant.mode) {
        case 'wrongkey': token = signJwt(stranger, claims); break;
        case 'audience': token = signJwt(published, { ...claims, aud: 'someone-else' }); break;
        case 'expired': token = signJwt(published, { ...claims, iat: now - 7200, exp: now - 3600 }); break;
        case 'rotated': state.publishRotated = true; token = signJwt(rotated, claims); break;
        case 'madeupkid': token = signJwt(published, claims, `made-up-${b64url(randomBytes(4))}`); break;
        default: token = signJwt(published, claims);
      }
      return json(200, { access_token: 'x', token_type: 'Bearer', expires_in: 300, id_token: token });
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  return { issuer, state, stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

// ---- setup ------------------------------------------------------------------------------------
let op;       // the real provider: clients test (RS256, basic), es (ES256), corp (domain-limited)
let flaky;    // a second real provider, stopped to play "down"
let evil;
let hub;
let adminToken;
let restartPort;  // a hub restarted in the middle of a sign-in listens here both times
const answers = [];  // every body the hub sent, for the secret check

before(async () => {
  op = await startOidcProvider();
  flaky = await startOidcProvider();
  evil = await startEvil();
  const dir = tempDir('hub-sso-');
  await createUser(dir, 'root_admin', 'admin');
  const secretFile = path.join(dir, 'test-client-secret');
  writeFileSync(secretFile, `${SECRETS.test}\n`, { mode: 0o600 });
  const providersFile = path.join(dir, 'providers.json');
  writeFileSync(providersFile, JSON.stringify([
    { id: 'test', display_name: 'Test ID', issuer: op.issuer, client_id: 'hub', client_secret_file: secretFile },
    { id: 'es', display_name: 'Test ID (ES256)', issuer: op.issuer, client_id: 'hub-es', client_secret: SECRETS.es, default_role: 'auditor' },
    { id: 'corp', display_name: 'Corp', issuer: op.issuer, client_id: 'hub-corp', client_secret: SECRETS.corp, allowed_email_domains: ['corp.test'] },
    { id: 'flaky', display_name: 'Flaky ID', issuer: flaky.issuer, client_id: 'hub-flaky', client_secret: SECRETS.flaky },
    { id: 'evil', display_name: 'Evil ID', issuer: evil.issuer, client_id: 'hub-evil', client_secret: SECRETS.evil },
  ]));
  hub = await startHub({
    dataDir: dir,
    env: {
      BAILIAN_HUB_OIDC_PROVIDERS_FILE: providersFile,
      // No model is called here: an upstream key (to a closed port) keeps the hub out of demo mode.
      DASHSCOPE_API_KEY: 'sk-sso-test-unused',
      DASHSCOPE_BASE_URL: 'http://127.0.0.1:9',
      BAILIAN_HUB_BCRYPT_COST: '10',
      BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
      BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
    },
  });
  const cb = (id) => `${hub.url}/api/v1/auth/sso/${id}/callback`;
  restartPort = await freePort();
  op.configure([
    { client_id: 'hub-restart', client_secret: SECRETS.test, redirect_uri: `http://127.0.0.1:${restartPort}/api/v1/auth/sso/test/callback` },
    { client_id: 'hub', client_secret: SECRETS.test, redirect_uri: cb('test') },
    { client_id: 'hub-es', client_secret: SECRETS.es, redirect_uri: cb('es'), alg: 'ES256' },
    { client_id: 'hub-corp', client_secret: SECRETS.corp, redirect_uri: cb('corp') },
  ]);
  flaky.configure([{ client_id: 'hub-flaky', client_secret: SECRETS.flaky, redirect_uri: cb('flaky') }]);
  const l = await login(hub.url, 'root_admin', SEED_PASSWORD);
  assert.equal(l.status, 200);
  adminToken = l.body.access_token;
});

after(async () => {
  await hub?.stop();
  await op?.stop();
  await flaky?.stop().catch(() => {});
  await evil?.stop();
});

// ---- helpers ----------------------------------------------------------------------------------
// The browser's state cookie: set by start, sent back to the callback (the hub checks both match).
let stateCookie = '';
async function hubGet(url, { cookie = stateCookie } = {}) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  for (const c of res.headers.getSetCookie()) {
    if (c.startsWith('bh_sso_state=')) {
      const pair = c.split(';')[0];
      stateCookie = /Max-Age=0/.test(c) ? '' : pair;
      assert.match(c, /; Path=\/api\/v1\/auth\/sso; HttpOnly; SameSite=Lax; Max-Age=\d+/);
    }
  }
  const text = await res.text();
  answers.push(text);
  return { status: res.status, location: res.headers.get('location'), text, type: res.headers.get('content-type') };
}
async function start(provider) {
  const r = await hubGet(`${hub.url}/api/v1/auth/sso/${provider}/start`);
  assert.equal(r.status, 302, r.text);
  return r.location;
}
// Start -> the real provider's pages as `who` -> the URL it sends the browser back to.
async function toCallback(provider, who, tamper = (u) => u) {
  return drive(tamper(await start(provider)), who);
}
async function signIn(provider, who) {
  return hubGet(await toCallback(provider, who));
}
function param(location, name) { return new URL(location, hub.url).searchParams.get(name); }
async function exchange(location) {
  const r = await call(hub.url, 'POST', '/api/v1/auth/sso/exchange', { body: { ticket: param(location, 'ticket') } });
  answers.push(JSON.stringify(r.body));
  return r;
}
function reasonOf(page) { return /<code id="reason">([^<]*)<\/code>/.exec(page.text)?.[1]; }
async function audit(action) {
  const r = await call(hub.url, 'GET', `/api/v1/admin/audit-logs?action=${action}&limit=200`, { token: adminToken });
  assert.equal(r.status, 200);
  return r.body.items;
}
function detailOf(e) { return typeof e.detail === 'string' ? JSON.parse(e.detail) : e.detail; }

// ---- tests ------------------------------------------------------------------------------------
test('the providers list names each provider for the sign-in page, and nothing secret', async () => {
  const r = await call(hub.url, 'GET', '/api/v1/auth/sso/providers');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.items.map((p) => p.id), ['test', 'es', 'corp', 'flaky', 'evil']);
  assert.equal(r.body.items[0].display_name, 'Test ID');
  const text = JSON.stringify(r.body);
  for (const s of Object.values(SECRETS)) assert.ok(!text.includes(s));
  assert.ok(!text.includes('client_id') && !text.includes('issuer'));
});

test('start redirects to the provider with state, nonce and a PKCE S256 challenge', async () => {
  const auth = new URL(await start('test'));
  assert.equal(auth.origin, op.issuer);
  const q = auth.searchParams;
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('client_id'), 'hub');
  assert.equal(q.get('redirect_uri'), `${hub.url}/api/v1/auth/sso/test/callback`);
  assert.equal(q.get('scope'), 'openid email profile');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.match(q.get('state'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(q.get('nonce').length >= 32);
  const unknown = await hubGet(`${hub.url}/api/v1/auth/sso/nope/start`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.type, /text\/html/);
});

let olivia;  // made by her first sign-in
test('a first sign-in makes an account with the default role; the ticket gives the login answer once', async () => {
  const cb = await signIn('test', 'olivia');
  assert.equal(cb.status, 302, cb.text);
  assert.match(cb.location, /^\/sso\/complete\?ticket=[A-Za-z0-9_-]{43}$/);
  assert.ok(!cb.location.includes('access_token'));
  const r = await exchange(cb.location);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Exactly the answer of POST /auth/login: the same fields and the refresh cookie.
  assert.deepEqual(Object.keys(r.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type', 'user']);
  assert.equal(r.body.token_type, 'Bearer');
  assert.match(r.headers.get('set-cookie'), /^bh_refresh=[^;]+; Path=\/api\/v1\/auth; HttpOnly; SameSite=Strict/);
  assert.equal(r.body.user.email, 'olivia@example.test');
  assert.equal(r.body.user.role, 'user');
  assert.equal(r.body.user.username, 'olivia');
  assert.equal(r.body.user.display_name, 'Olivia Example');
  const me = await call(hub.url, 'GET', '/api/v1/users/me', { token: r.body.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.body.id, r.body.user.id);
  olivia = { id: r.body.user.id, token: r.body.access_token };
  // The ticket is single use.
  const again = await exchange(cb.location);
  assert.equal(again.status, 401);
  assert.equal(again.body.error.code, 'invalid_ticket');
  // The account has no password: password sign-in cannot reach it.
  const pw = await login(hub.url, 'olivia', 'any-password-at-all-123');
  assert.equal(pw.status, 401);
});

test('a second sign-in reuses the account; an ES256 provider with its own default role works too', async () => {
  const cb = await signIn('test', 'olivia');
  const r = await exchange(cb.location);
  assert.equal(r.status, 200);
  assert.equal(r.body.user.id, olivia.id);
  const users = await call(hub.url, 'GET', '/api/v1/admin/users?q=olivia', { token: adminToken });
  assert.equal(users.body.items.length, 1);
  const es = await exchange((await signIn('es', 'dave')).location);
  assert.equal(es.status, 200);
  assert.equal(es.body.user.role, 'auditor');
  assert.equal(es.body.user.email, 'dave@elsewhere.test');
});

test('an account with TOTP takes the second step after single sign-on too', async () => {
  const first = await exchange((await signIn('test', 'mira')).location);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const token = first.body.access_token;
  const begin = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp', { token });
  assert.equal(begin.status, 200, JSON.stringify(begin.body));
  const step = await freshStep();
  const on = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp/confirm', { token, body: { code: oath(begin.body.secret, step - 1) } });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  // The provider's word alone gives no token now: the same second step as after a password.
  const r = await exchange((await signIn('test', 'mira')).location);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.mfa_required, true);
  assert.deepEqual(r.body.methods, ['totp', 'recovery_code']);
  assert.equal(r.body.access_token, undefined);
  assert.equal(r.headers.get('set-cookie'), null);
  const done = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: r.body.mfa_token, code: oath(begin.body.secret, step) } });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.user.email, 'mira@example.test');
  const challenges = (await audit('auth.mfa_challenge')).filter((e) => e.actor_user_id === done.body.user.id).map(detailOf);
  assert.ok(challenges.some((d) => d.method === 'sso' && d.provider === 'test'), JSON.stringify(challenges));
});

test('an existing account is linked only with a verified email and its password', async () => {
  const reg = await register(hub.url, { username: 'linda_pw', email: 'linda@example.test' });
  assert.equal(reg.status, 201);
  // The provider's verified email matches: a pending link, never an automatic one.
  const first = await signIn('test', 'linda');
  assert.equal(first.status, 302, first.text);
  assert.match(first.location, /^\/sso\/link\?token=[A-Za-z0-9_-]{43}&provider=Test%20ID&email=linda%40example\.test$/);
  const token = param(first.location, 'token');
  const wrong = await call(hub.url, 'POST', '/api/v1/auth/sso/link', { body: { link_token: token, password: 'Not-The-Password-99' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'invalid_credentials');
  // A wrong password spends the link request.
  const reused = await call(hub.url, 'POST', '/api/v1/auth/sso/link', { body: { link_token: token, password: STRONG_PASSWORD } });
  assert.equal(reused.status, 401);
  assert.equal(reused.body.error.code, 'invalid_link_token');
  const ids = await call(hub.url, 'GET', '/api/v1/users/me/identities', { token: (await login(hub.url, 'linda_pw')).body.access_token });
  assert.equal(ids.body.items.length, 0, 'nothing was linked by the refused attempts');
  const second = await signIn('test', 'linda');
  const ok = await call(hub.url, 'POST', '/api/v1/auth/sso/link', { body: { link_token: param(second.location, 'token'), password: STRONG_PASSWORD } });
  answers.push(JSON.stringify(ok.body));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.user.id, reg.body.user.id);
  assert.ok(ok.body.access_token && ok.body.refresh_token);
  // From now on the provider signs her straight in.
  const third = await signIn('test', 'linda');
  assert.match(third.location, /^\/sso\/complete\?ticket=/);
  assert.equal((await exchange(third.location)).body.user.id, reg.body.user.id);
});

test('an unverified email is neither linked nor used for a new account', async () => {
  assert.equal((await register(hub.url, { username: 'ulrich_pw', email: 'ulrich@example.test' })).status, 201);
  const link = await signIn('test', 'ulrich');
  assert.equal(link.status, 403);
  assert.match(link.type, /text\/html/);
  assert.equal(reasonOf(link), 'email_not_verified');
  assert.match(link.text, /has not verified the email/);
  const fresh = await signIn('test', 'victor');
  assert.equal(fresh.status, 403);
  assert.equal(reasonOf(fresh), 'email_not_verified');
  const users = await call(hub.url, 'GET', '/api/v1/admin/users?q=victor', { token: adminToken });
  assert.equal(users.body.items.length, 0);
});

test('a wrong or unknown state is refused with a readable page', async () => {
  const r = await hubGet(`${hub.url}/api/v1/auth/sso/test/callback?code=abc&state=not-a-state`);
  assert.equal(r.status, 401);
  assert.match(r.type, /text\/html/);
  assert.equal(reasonOf(r), 'unknown_state');
  assert.match(r.text, /Sign-in failed/);
  assert.match(r.text, /href="\/login"/);
  const none = await hubGet(`${hub.url}/api/v1/auth/sso/test/callback`);
  assert.equal(reasonOf(none), 'unknown_state');
  // Someone else's sign-in link, opened in a browser that did not start it (login CSRF).
  const foreign = await toCallback('test', 'olivia');
  const csrf = await hubGet(foreign, { cookie: '' });
  assert.equal(csrf.status, 401);
  assert.equal(reasonOf(csrf), 'browser_mismatch');
  const other = await toCallback('test', 'olivia');
  const mismatch = await hubGet(other, { cookie: `bh_sso_state=${'A'.repeat(43)}` });
  assert.equal(reasonOf(mismatch), 'browser_mismatch');
  // A state started for one provider does not finish at another.
  const cb = new URL(await toCallback('test', 'olivia'));
  const elsewhere = await hubGet(`${hub.url}/api/v1/auth/sso/corp/callback${cb.search}`);
  assert.equal(elsewhere.status, 401);
  assert.equal(reasonOf(elsewhere), 'wrong_state');
});

test('a state is single use, and a replayed code is refused by the provider', async () => {
  const cbUrl = await toCallback('test', 'olivia');
  const ok = await hubGet(cbUrl);
  assert.equal(ok.status, 302);
  const replay = await hubGet(cbUrl);
  assert.equal(replay.status, 401);
  assert.equal(reasonOf(replay), 'reused_state');
  // The same code under a fresh state: the hub asks the provider, which refuses it.
  const code = param(cbUrl, 'code');
  const fresh = new URL(await start('test')).searchParams.get('state');
  const refusedBefore = op.tokenRequests.filter((t) => !t.ok).length;
  const r = await hubGet(`${hub.url}/api/v1/auth/sso/test/callback?code=${encodeURIComponent(code)}&state=${fresh}`);
  assert.equal(r.status, 401);
  assert.equal(reasonOf(r), 'code_rejected');
  assert.match(r.text, /refused the sign-in code/);
  assert.equal(op.tokenRequests.filter((t) => !t.ok).length, refusedBefore + 1);
});

test('an ID token carrying another nonce is refused', async () => {
  const cb = await toCallback('test', 'olivia', (u) => {
    const url = new URL(u);
    url.searchParams.set('nonce', 'a-nonce-the-hub-never-made-0123456789');
    return url.toString();
  });
  const r = await hubGet(cb);
  assert.equal(r.status, 401);
  assert.equal(reasonOf(r), 'id_token_wrong_nonce');
});

test('ID tokens signed by another key, for another audience, or expired are refused', async () => {
  const viaEvil = async (mode) => hubGet(await drive(`${await start('evil')}&mode=${mode}`, 'nobody'));
  const good = await viaEvil('good');
  assert.equal(good.status, 302, good.text);  // the evil issuer works when it behaves
  assert.deepEqual(evil.state.tokenAuth.at(-1), { basic: false, post: true }, 'client_secret_post, as its discovery says');
  for (const [mode, reason] of [['wrongkey', 'id_token_bad_signature'], ['audience', 'id_token_wrong_audience'], ['expired', 'id_token_expired']]) {
    const r = await viaEvil(mode);
    assert.equal(r.status, 401, mode);
    assert.match(r.type, /text\/html/);
    assert.equal(reasonOf(r), reason, mode);
  }
});

test('an unknown kid refreshes the JWKS once; a flood of made-up kids does not refetch', async () => {
  const viaEvil = async (mode) => hubGet(await drive(`${await start('evil')}&mode=${mode}`, 'nobody'));
  const before = evil.state.jwksFetches;
  const rotated = await viaEvil('rotated');
  assert.equal(rotated.status, 302, rotated.text);
  assert.equal(evil.state.jwksFetches, before + 1);
  for (let i = 0; i < 3; i++) {
    const r = await viaEvil('madeupkid');
    assert.equal(reasonOf(r), 'id_token_unknown_key');
  }
  assert.equal(evil.state.jwksFetches, before + 1, 'no refetch within the minimum interval');
});

test('an email domain that is not allowed is refused; an allowed one signs in', async () => {
  const r = await signIn('corp', 'dave');
  assert.equal(r.status, 403);
  assert.equal(reasonOf(r), 'email_domain_not_allowed');
  assert.match(r.text, /elsewhere\.test/);
  const ok = await signIn('corp', 'carol');
  assert.equal(ok.status, 302);
  assert.equal((await exchange(ok.location)).body.user.email, 'carol@corp.test');
});

test('a disabled user is refused at the callback', async () => {
  const dave = await call(hub.url, 'GET', '/api/v1/admin/users?q=dave', { token: adminToken });
  const id = dave.body.items[0].id;
  assert.equal((await call(hub.url, 'PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { status: 'disabled' } })).status, 200);
  const r = await signIn('es', 'dave');
  assert.equal(r.status, 403);
  assert.equal(reasonOf(r), 'disabled_user');
  await call(hub.url, 'PATCH', `/api/v1/admin/users/${id}`, { token: adminToken, body: { status: 'active' } });
});

test('identities: listed, the last way to sign in cannot be removed, another one can', async () => {
  const mine = await call(hub.url, 'GET', '/api/v1/users/me/identities', { token: olivia.token });
  assert.equal(mine.status, 200);
  assert.equal(mine.body.items.length, 1);
  const it = mine.body.items[0];
  assert.equal(it.provider, 'test');
  assert.equal(it.provider_display_name, 'Test ID');
  assert.equal(it.email, 'olivia@example.test');
  assert.ok(it.last_login_at >= it.created_at);
  const last = await call(hub.url, 'DELETE', `/api/v1/users/me/identities/${it.id}`, { token: olivia.token });
  assert.equal(last.status, 409);
  assert.equal(last.body.error.code, 'last_sign_in_method');
  // Linda has a password: her identity can go, and then the provider no longer signs her in.
  const linda = (await login(hub.url, 'linda_pw')).body.access_token;
  const hers = await call(hub.url, 'GET', '/api/v1/users/me/identities', { token: linda });
  assert.equal(hers.body.items.length, 1);
  const notYours = await call(hub.url, 'DELETE', `/api/v1/users/me/identities/${it.id}`, { token: linda });
  assert.equal(notYours.status, 404);
  assert.equal((await call(hub.url, 'DELETE', `/api/v1/users/me/identities/${hers.body.items[0].id}`, { token: linda })).status, 204);
  assert.equal((await call(hub.url, 'GET', '/api/v1/users/me/identities', { token: linda })).body.items.length, 0);
  const back = await signIn('test', 'linda');
  assert.match(back.location, /^\/sso\/link\?/, 'unlinked: a new sign-in asks to link again');
  assert.equal((await call(hub.url, 'GET', '/api/v1/users/me/identities')).status, 401);
});

test('a provider that is down: a readable 503, and password sign-in still works', async () => {
  // Reached once (discovery cached), then down when the code is exchanged.
  const cbUrl = await toCallback('flaky', 'olivia');
  await flaky.stop();
  const atCallback = await hubGet(cbUrl);
  assert.equal(atCallback.status, 503);
  assert.equal(reasonOf(atCallback), 'provider_unavailable');
  assert.match(atCallback.text, /Flaky ID cannot be reached right now/);
  const atStart = await hubGet(`${hub.url}/api/v1/auth/sso/flaky/start`);
  assert.equal(atStart.status, 503);
  assert.match(atStart.type, /text\/html/);
  assert.equal(reasonOf(atStart), 'provider_unavailable');
  const list = await call(hub.url, 'GET', '/api/v1/auth/sso/providers');
  assert.equal(list.status, 200);
  const pw = await login(hub.url, 'root_admin', SEED_PASSWORD);
  assert.equal(pw.status, 200);
  // The other providers are not affected.
  assert.equal((await signIn('test', 'olivia')).status, 302);
});

test('the audit log has every refusal with its reason and each sign-in with its method', async () => {
  const reasons = new Set((await audit('auth.sso_failed')).map((e) => detailOf(e).reason));
  for (const r of ['unknown_state', 'wrong_state', 'browser_mismatch', 'reused_state', 'code_rejected', 'id_token_wrong_nonce',
    'id_token_bad_signature', 'id_token_wrong_audience', 'id_token_expired', 'id_token_unknown_key',
    'email_domain_not_allowed', 'email_not_verified', 'disabled_user', 'provider_unavailable', 'link_bad_password']) {
    assert.ok(reasons.has(r), `auth.sso_failed ${r} (have: ${[...reasons].join(', ')})`);
  }
  const logins = await audit('auth.login');
  const sso = logins.filter((e) => detailOf(e).method === 'sso' && e.actor_user_id === olivia.id);
  assert.ok(sso.length >= 2);
  assert.equal(detailOf(sso[0]).provider, 'test');
  const linked = await audit('auth.sso_linked');
  assert.equal(linked.length, 1);
  assert.equal((await audit('auth.sso_unlinked')).length, 1);
});

test('start and callback share the per-IP sign-in rate limit: 429 with Retry-After, in words', async () => {
  const dir = tempDir('hub-sso-limit-');
  const file = path.join(dir, 'providers.json');
  writeFileSync(file, JSON.stringify([{ id: 'test', display_name: 'Test ID', issuer: op.issuer, client_id: 'hub', client_secret: SECRETS.test }]));
  const small = await startHub({
    dataDir: dir,
    env: {
      BAILIAN_HUB_OIDC_PROVIDERS_FILE: file, DASHSCOPE_API_KEY: 'sk-sso-test-unused', DASHSCOPE_BASE_URL: 'http://127.0.0.1:9',
      BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '2',
    },
  });
  try {
    const statuses = [];
    let limited = null;
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await fetch(`${small.url}/api/v1/auth/sso/test/${i % 2 ? 'callback?state=x&code=y' : 'start'}`, { redirect: 'manual' });
      const text = await res.text();
      statuses.push(res.status);
      if (res.status === 429) limited = { res, text };
    }
    assert.ok(limited, `no 429 among ${statuses.join(', ')}`);
    assert.match(limited.res.headers.get('content-type'), /text\/html/);
    assert.match(limited.res.headers.get('retry-after'), /^\d+$/);
    assert.match(limited.text, /Too many sign-in attempts/);
  } finally {
    await small.stop();
  }
});

test('a sign-in started before a restart finishes after it (the state is in the database)', async () => {
  const dir = tempDir('hub-sso-restart-');
  const file = path.join(dir, 'providers.json');
  writeFileSync(file, JSON.stringify([{ id: 'test', display_name: 'Test ID', issuer: op.issuer, client_id: 'hub-restart', client_secret: SECRETS.test }]));
  const env = {
    BAILIAN_HUB_OIDC_PROVIDERS_FILE: file, DASHSCOPE_API_KEY: 'sk-sso-test-unused', DASHSCOPE_BASE_URL: 'http://127.0.0.1:9',
    BAILIAN_HUB_LISTEN: `127.0.0.1:${restartPort}`,
  };
  const first = await startHub({ dataDir: dir, env });
  const res = await fetch(`${first.url}/api/v1/auth/sso/test/start`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('bh_sso_state=')).split(';')[0];
  const cbUrl = await drive(res.headers.get('location'), 'olivia');
  await first.stop();
  const second = await startHub({ dataDir: dir, env });
  try {
    const back = await fetch(cbUrl, { redirect: 'manual', headers: { cookie } });
    assert.equal(back.status, 302, await back.text());
    const ticket = new URL(back.headers.get('location'), second.url).searchParams.get('ticket');
    const r = await call(second.url, 'POST', '/api/v1/auth/sso/exchange', { body: { ticket } });
    assert.equal(r.status, 200);
    assert.equal(r.body.user.email, 'olivia@example.test');
  } finally {
    await second.stop();
  }
});

test('no client secret reaches a log line or an answer', async () => {
  const logs = hub.logs.join('\n');
  const bodies = answers.join('\n');
  for (const [id, s] of Object.entries(SECRETS)) {
    assert.ok(!logs.includes(s), `${id}'s secret in the log`);
    assert.ok(!bodies.includes(s), `${id}'s secret in an answer`);
  }
});

test('a bad providers file stops the start with one clear line and exit 2, without the secret', async () => {
  const dir = tempDir('hub-sso-bad-');
  const file = path.join(dir, 'providers.json');
  writeFileSync(file, JSON.stringify([{ id: 'x', display_name: 'X', issuer: 'http://id.example.test', client_id: 'c', client_secret: 'bad-file-secret-777' }]));
  const r = await runHub(['serve'], {
    BAILIAN_HUB_DATA_DIR: dir, BAILIAN_HUB_LISTEN: '127.0.0.1:0', BAILIAN_HUB_METRICS_LISTEN: '127.0.0.1:0',
    BAILIAN_HUB_OIDC_PROVIDERS_FILE: file,
  });
  assert.equal(r.code, 2);
  const out = r.stdout + r.stderr;
  assert.match(out, /BAILIAN_HUB_OIDC_PROVIDERS_FILE: provider \\?"x\\?" \\?"issuer\\?" must be an https:\/\/ URL/);
  assert.ok(!out.includes('bad-file-secret-777'));
});

// Passkeys (WebAuthn) over real HTTP with a software authenticator (tests/support/webauthn.mjs):
// registration with ES256, RS256 and EdDSA; passwordless sign-in that answers like a password
// login; list, rename, delete; and every refusal: another origin, another RP ID, a sign count
// that does not rise, another user's credential, a reused or expired challenge, a bad
// signature, malformed CBOR, a disabled account.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { call, newUser } from '../support/api.mjs';
import { expectErrorEnvelope, queryDb, startHub } from '../support/hub.mjs';
import { sql } from '../support/seed.mjs';
import { ALGS, FLAGS, SoftCredential, cbor } from '../support/webauthn.mjs';

const RP_ID = 'hub.example.test';
const ORIGIN = 'https://hub.example.test';

describe('passkeys', () => {
  let hub;

  before(async () => {
    hub = await startHub({
      env: {
        BAILIAN_HUB_BCRYPT_COST: '10',
        BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
        BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
        BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
        BAILIAN_HUB_WEBAUTHN_RP_ID: RP_ID,
        BAILIAN_HUB_WEBAUTHN_ORIGINS: `${ORIGIN},https://second.example.test`,
      },
    });
  });
  after(async () => { await hub?.stop(); });

  const api = (method, path, opts) => call(hub.url, method, path, opts);

  async function registerPasskey(user, alg, { name, attestationOpts = {} } = {}) {
    const o = await api('POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    const cred = new SoftCredential(alg, { rpId: RP_ID, origin: ORIGIN, userHandle: o.body.user.id });
    const r = await api('POST', '/api/v1/users/me/passkeys', {
      token: user.token, body: { name, credential: cred.attestation(o.body, attestationOpts) },
    });
    return { cred, res: r, options: o.body };
  }

  async function loginOptions() {
    const o = await api('POST', '/api/v1/auth/passkey/options');
    assert.equal(o.status, 200, JSON.stringify(o.body));
    return o.body;
  }

  async function signIn(cred, assertionOpts = {}, options = null) {
    const opts = options ?? await loginOptions();
    return api('POST', '/api/v1/auth/passkey', { body: { credential: cred.assertion(opts, assertionOpts) } });
  }

  function expectRefused(r) {
    assert.equal(r.status, 401, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'passkey_not_accepted');
    assert.equal(r.headers.get('set-cookie'), null);
  }

  async function auditActions(userId) {
    const rows = await queryDb(hub.dataDir,
      `SELECT action, detail FROM audit_log WHERE actor_user_id = '${userId}' ORDER BY created_at, id`);
    return rows.map((r) => ({ action: r.action, detail: JSON.parse(r.detail || '{}') }));
  }

  test('registration options follow the WebAuthn shape the browser needs', async () => {
    const user = await newUser(hub.url);
    const o = await api('POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    assert.equal(o.status, 200);
    assert.deepEqual(o.body.rp, { id: RP_ID, name: 'Bailian Hub' });
    assert.equal(Buffer.from(o.body.user.id, 'base64url').toString(), user.user.id);
    assert.equal(o.body.user.name, user.username);
    assert.equal(Buffer.from(o.body.challenge, 'base64url').length, 32);
    assert.deepEqual(o.body.pubKeyCredParams.map((p) => p.alg).sort((a, b) => a - b), [-257, -8, -7]);
    assert.equal(o.body.authenticatorSelection.residentKey, 'required');
    assert.equal(o.body.authenticatorSelection.userVerification, 'required');
    assert.equal(o.body.attestation, 'none');
    assert.deepEqual(o.body.excludeCredentials, []);
    assert.equal(o.body.timeout, 300000);
    // Not without a session.
    const anon = await api('POST', '/api/v1/users/me/passkeys/options');
    assert.equal(anon.status, 401);
  });

  for (const [algName, alg] of Object.entries(ALGS)) {
    test(`register a ${algName} passkey and sign in with it, like a password login`, async () => {
      const user = await newUser(hub.url);
      const { cred, res } = await registerPasskey(user, alg, { name: `My ${algName} key` });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.name, `My ${algName} key`);
      assert.equal(res.body.algorithm, algName);
      assert.equal(res.body.credential_id, Buffer.from(cred.id).toString('base64url'));
      assert.deepEqual(res.body.transports, ['internal', 'hybrid']);
      assert.equal(res.body.last_used_at, null);

      const r = await signIn(cred);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.token_type, 'Bearer');
      assert.equal(r.body.user.id, user.user.id);
      assert.ok(r.body.refresh_token);
      assert.match(r.headers.get('set-cookie'), /^bh_refresh=[^;]+; Path=\/api\/v1\/auth; HttpOnly; SameSite=Strict/);
      const me = await api('GET', '/api/v1/users/me', { token: r.body.access_token });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, user.user.id);
      const refreshed = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: r.body.refresh_token } });
      assert.equal(refreshed.status, 200);

      const list = await api('GET', '/api/v1/users/me/passkeys', { token: user.token });
      assert.equal(list.body.items.length, 1);
      assert.ok(list.body.items[0].last_used_at, 'last use recorded');
      const rows = await queryDb(hub.dataDir, `SELECT sign_count FROM passkeys WHERE user_id = '${user.user.id}'`);
      assert.equal(rows[0].sign_count, 1);

      const audit = await auditActions(user.user.id);
      assert.ok(audit.some((a) => a.action === 'user.passkey_added' && a.detail.alg === alg));
      assert.ok(audit.some((a) => a.action === 'auth.login' && a.detail.method === 'passkey'));
      assert.ok(audit.some((a) => a.action === 'auth.login' && a.detail.method === 'password'));
    });
  }

  test('list, rename, delete; another user\'s passkey answers 404', async () => {
    const user = await newUser(hub.url);
    const other = await newUser(hub.url);
    const first = await registerPasskey(user, ALGS.ES256);
    assert.equal(first.res.status, 201);
    assert.equal(first.res.body.name, 'Passkey 1');
    const second = await registerPasskey(user, ALGS.EdDSA, { name: 'Phone' });
    assert.equal(second.res.status, 201);
    // The next options exclude both.
    const o = await api('POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    assert.deepEqual(o.body.excludeCredentials.map((c) => c.id).sort(),
      [first.res.body.credential_id, second.res.body.credential_id].sort());

    const list = await api('GET', '/api/v1/users/me/passkeys', { token: user.token });
    assert.deepEqual(list.body.items.map((p) => p.name), ['Passkey 1', 'Phone']);
    assert.equal(list.body.next_cursor, null);
    const theirs = await api('GET', '/api/v1/users/me/passkeys', { token: other.token });
    assert.deepEqual(theirs.body.items, []);

    const id = first.res.body.id;
    const renamed = await api('PATCH', `/api/v1/users/me/passkeys/${id}`, { token: user.token, body: { name: 'Laptop' } });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'Laptop');
    for (const bad of [{ name: '' }, { name: '   ' }, { name: 'x'.repeat(65) }, {}, { name: 'ok', extra: 1 }, { name: 5 }]) {
      const r = await api('PATCH', `/api/v1/users/me/passkeys/${id}`, { token: user.token, body: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    const stolenRename = await api('PATCH', `/api/v1/users/me/passkeys/${id}`, { token: other.token, body: { name: 'Mine' } });
    assert.equal(stolenRename.status, 404);
    expectErrorEnvelope(assert, stolenRename.body, stolenRename, 'passkey_not_found');
    const stolenDelete = await api('DELETE', `/api/v1/users/me/passkeys/${id}`, { token: other.token });
    assert.equal(stolenDelete.status, 404);

    const del = await api('DELETE', `/api/v1/users/me/passkeys/${id}`, { token: user.token });
    assert.equal(del.status, 204);
    const again = await api('DELETE', `/api/v1/users/me/passkeys/${id}`, { token: user.token });
    assert.equal(again.status, 404);
    // A deleted passkey signs no one in; the other one still does.
    expectRefused(await signIn(first.cred));
    assert.equal((await signIn(second.cred)).status, 200);

    const audit = (await auditActions(user.user.id)).map((a) => a.action);
    assert.ok(audit.includes('user.passkey_renamed'));
    assert.ok(audit.includes('user.passkey_deleted'));
  });

  test('assertions from another origin or for another RP ID are refused', async () => {
    const user = await newUser(hub.url);
    const { cred } = await registerPasskey(user, ALGS.ES256);
    expectRefused(await signIn(cred, { origin: 'https://evil.example.test' }));
    expectRefused(await signIn(cred, { rpId: 'evil.example.test' }));
    // The second configured origin is fine.
    assert.equal((await signIn(cred, { origin: 'https://second.example.test' })).status, 200);
    const failed = (await queryDb(hub.dataDir,
      "SELECT detail FROM audit_log WHERE action = 'auth.login_failed'")).map((r) => JSON.parse(r.detail));
    assert.ok(failed.some((d) => d.method === 'passkey' && d.reason === 'webauthn_wrong_origin'));
    assert.ok(failed.some((d) => d.method === 'passkey' && d.reason === 'webauthn_wrong_rp_id'));
  });

  test('a sign count that does not rise is refused and audited', async () => {
    const user = await newUser(hub.url);
    const { cred } = await registerPasskey(user, ALGS.RS256);
    assert.equal((await signIn(cred, { counter: 10 })).status, 200);
    expectRefused(await signIn(cred, { counter: 10 }));
    expectRefused(await signIn(cred, { counter: 3 }));
    assert.equal((await signIn(cred, { counter: 11 })).status, 200);
    const audit = (await auditActions(user.user.id)).map((a) => a.action);
    assert.equal(audit.filter((a) => a === 'auth.passkey_sign_count_regressed').length, 2);
  });

  test('another user\'s credential, a bad signature, no user verification: refused', async () => {
    const alice = await newUser(hub.url);
    const bob = await newUser(hub.url);
    const a = await registerPasskey(alice, ALGS.ES256);
    const b = await registerPasskey(bob, ALGS.EdDSA);
    // Alice's credential presented as Bob's user handle.
    expectRefused(await signIn(a.cred, { userHandle: b.options.user.id }));
    // No user handle at all.
    expectRefused(await signIn(a.cred, { userHandle: null }));
    // Bob's key signing for Alice's credential id.
    expectRefused(await signIn(b.cred, { credentialId: a.cred.id, userHandle: a.options.user.id }));
    expectRefused(await signIn(a.cred, { tamper: true }));
    expectRefused(await signIn(a.cred, { flags: FLAGS.UP }));
    // Unknown credential.
    const stranger = new SoftCredential(ALGS.ES256, { rpId: RP_ID, origin: ORIGIN, userHandle: a.options.user.id });
    expectRefused(await signIn(stranger));
    assert.equal((await signIn(a.cred)).status, 200);
  });

  test('a challenge works once, only for its purpose, and not after it expired', async () => {
    const user = await newUser(hub.url);
    const { cred } = await registerPasskey(user, ALGS.EdDSA);
    const options = await loginOptions();
    assert.deepEqual(options.allowCredentials, []);
    assert.equal(options.userVerification, 'required');
    assert.equal(options.rpId, RP_ID);
    assert.equal((await signIn(cred, {}, options)).status, 200);
    expectRefused(await signIn(cred, {}, options));  // reused
    expectRefused(await signIn(cred, {}, { challenge: Buffer.alloc(32, 7).toString('base64url') }));  // never issued
    // A registration challenge is no sign-in challenge.
    const reg = await api('POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    expectRefused(await signIn(cred, {}, reg.body));
    // Expired: the challenge's expiry put in the past in the database the hub reads.
    const stale = await loginOptions();
    await sql(hub.dataDir, `UPDATE webauthn_challenges SET expires_at = 1 WHERE used_at IS NULL AND purpose = 'login';`);
    expectRefused(await signIn(cred, {}, stale));
    // Registration: a used challenge is refused too.
    const o = await api('POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    const c2 = new SoftCredential(ALGS.ES256, { rpId: RP_ID, origin: ORIGIN, userHandle: o.body.user.id });
    const ok = await api('POST', '/api/v1/users/me/passkeys', { token: user.token, body: { credential: c2.attestation(o.body) } });
    assert.equal(ok.status, 201);
    const c3 = new SoftCredential(ALGS.ES256, { rpId: RP_ID, origin: ORIGIN, userHandle: o.body.user.id });
    const reused = await api('POST', '/api/v1/users/me/passkeys', { token: user.token, body: { credential: c3.attestation(o.body) } });
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error.code, 'webauthn_challenge_invalid');
    // Another user's registration challenge is not this user's.
    const other = await newUser(hub.url);
    const theirs = await api('POST', '/api/v1/users/me/passkeys/options', { token: other.token });
    const c4 = new SoftCredential(ALGS.ES256, { rpId: RP_ID, origin: ORIGIN, userHandle: theirs.body.user.id });
    const cross = await api('POST', '/api/v1/users/me/passkeys', { token: user.token, body: { credential: c4.attestation(theirs.body) } });
    assert.equal(cross.status, 400);
    assert.equal(cross.body.error.code, 'webauthn_challenge_invalid');
  });

  test('bad registrations get a clear 400 and store nothing', async () => {
    const user = await newUser(hub.url);
    const before = await queryDb(hub.dataDir, 'SELECT count(*) AS n FROM passkeys');
    // Malformed CBOR.
    const malformed = await registerPasskey(user, ALGS.ES256, { attestationOpts: { attestationObject: Buffer.from([0xa3, 0x63, 0x66]) } });
    assert.equal(malformed.res.status, 400);
    assert.equal(malformed.res.body.error.code, 'invalid_cbor');
    // A tag (not accepted) in otherwise fine CBOR.
    const tagged = await registerPasskey(user, ALGS.ES256, { attestationOpts: { attestationObject: Buffer.concat([Buffer.from([0xc0]), cbor.text('x')]) } });
    assert.equal(tagged.res.body.error.code, 'invalid_cbor');
    const wrongOrigin = await registerPasskey(user, ALGS.ES256, { attestationOpts: { origin: 'https://evil.example.test' } });
    assert.equal(wrongOrigin.res.status, 400);
    assert.equal(wrongOrigin.res.body.error.code, 'webauthn_wrong_origin');
    const wrongRp = await registerPasskey(user, ALGS.ES256, { attestationOpts: { rpId: 'evil.example.test' } });
    assert.equal(wrongRp.res.body.error.code, 'webauthn_wrong_rp_id');
    const noUv = await registerPasskey(user, ALGS.ES256, { attestationOpts: { flags: FLAGS.UP | FLAGS.AT } });
    assert.equal(noUv.res.body.error.code, 'webauthn_user_not_verified');
    // Not base64url, missing fields, wrong type.
    for (const credential of [
      { rawId: '!!', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' } },
      { rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30' } },
      { rawId: 'AAAA', type: 'password', response: { clientDataJSON: 'e30', attestationObject: 'oA' } },
      'nope',
    ]) {
      const r = await api('POST', '/api/v1/users/me/passkeys', { token: user.token, body: { credential } });
      assert.equal(r.status, 400, JSON.stringify(credential));
      assert.equal(r.body.error.code, 'validation_failed');
    }
    const after = await queryDb(hub.dataDir, 'SELECT count(*) AS n FROM passkeys');
    assert.equal(after[0].n, before[0].n);
    // The same credential twice: 409.
    const { cred, res } = await registerPasskey(user, ALGS.ES256);
    assert.equal(res.status, 201);
    const o = await api('POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    const dup = await api('POST', '/api/v1/users/me/passkeys', { token: user.token, body: { credential: cred.attestation(o.body) } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'passkey_exists');
    // A malformed sign-in body is a 400, not a 401.
    const badLogin = await api('POST', '/api/v1/auth/passkey', { body: { credential: { rawId: 'AAAA', type: 'public-key', response: {} } } });
    assert.equal(badLogin.status, 400);
  });

  test('a disabled account cannot sign in with its passkey', async () => {
    const user = await newUser(hub.url);
    const { cred } = await registerPasskey(user, ALGS.ES256);
    await sql(hub.dataDir, `UPDATE users SET status = 'disabled' WHERE id = '${user.user.id}';`);
    const r = await signIn(cred);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'account_disabled');
    assert.equal(r.headers.get('set-cookie'), null);
  });
});

// fetch() does not send a Host header of ours; node:http does.
function withHost(port, host, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path,
      headers: { Host: host, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) } },
    (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('passkeys without configuration', () => {
  let hub;
  before(async () => { hub = await startHub({ env: { BAILIAN_HUB_BCRYPT_COST: '10' } }); });
  after(async () => { await hub?.stop(); });

  test('the RP ID and origin come from the request on loopback', async () => {
    const user = await newUser(hub.url);
    const o = await call(hub.url, 'POST', '/api/v1/users/me/passkeys/options', { token: user.token });
    assert.equal(o.status, 200);
    assert.equal(o.body.rp.id, '127.0.0.1');
    const origin = hub.url;  // http://127.0.0.1:PORT: allowed because it is loopback
    const cred = new SoftCredential(ALGS.ES256, { rpId: '127.0.0.1', origin, userHandle: o.body.user.id });
    const r = await call(hub.url, 'POST', '/api/v1/users/me/passkeys', { token: user.token, body: { credential: cred.attestation(o.body) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const lo = await call(hub.url, 'POST', '/api/v1/auth/passkey/options');
    const ok = await call(hub.url, 'POST', '/api/v1/auth/passkey', { body: { credential: cred.assertion(lo.body) } });
    assert.equal(ok.status, 200);
    // Another Host name is its own RP ID (an https origin only, being no loopback name).
    const lo2 = await withHost(hub.port, 'hub.example.org', 'POST', '/api/v1/auth/passkey/options');
    assert.equal(lo2.body.rpId, 'hub.example.org');
  });
});

describe('passkey sign-in is rate-limited per IP', () => {
  let hub;
  before(async () => {
    hub = await startHub({ env: { BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '2', BAILIAN_HUB_WEBAUTHN_RP_ID: RP_ID, BAILIAN_HUB_WEBAUTHN_ORIGINS: ORIGIN } });
  });
  after(async () => { await hub?.stop(); });

  test('past the per-IP budget: 429 with Retry-After, audited', async () => {
    const stranger = new SoftCredential(ALGS.EdDSA, { rpId: RP_ID, origin: ORIGIN, userHandle: Buffer.from('nobody').toString('base64url') });
    const attempt = () => call(hub.url, 'POST', '/api/v1/auth/passkey', {
      body: { credential: stranger.assertion({ challenge: Buffer.alloc(32, 1).toString('base64url') }) },
    });
    assert.equal((await attempt()).status, 401);
    assert.equal((await attempt()).status, 401);
    const limited = await attempt();
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const rows = await queryDb(hub.dataDir, "SELECT detail FROM audit_log WHERE action = 'auth.login_failed'");
    const reasons = rows.map((r) => JSON.parse(r.detail).reason);
    assert.deepEqual(reasons.sort(), ['challenge_invalid', 'challenge_invalid', 'rate_limited']);
  });
});

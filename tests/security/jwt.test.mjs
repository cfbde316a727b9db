// Forged, stale and misused tokens. Access tokens are RS256 JWTs (src/auth/jwt.cpp): header
// {alg, typ, kid}, claims iss, aud, sub, role, sid, jti, iat, nbf, exp; 30 s of clock leeway.
// Refresh tokens are 43 random base64url characters, rotated on use.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { call } from '../support/api.mjs';
import { startHub, tempDir } from '../support/hub.mjs';
import { readKeyRing } from '../support/keyring.mjs';
import {
  assertNoSecretInLogs, b64url, FAST_ENV, jwtParts, keep, signHs256, signRs256, user,
} from './common.mjs';

describe('JWT attacks', () => {
  let hub;
  let victim;
  let parts;
  let ring;
  let signingKey;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    hub = await startHub({ env: FAST_ENV });
    victim = await user(hub.url);
    parts = jwtParts(victim.token);
    ring = await readKeyRing(hub.dataDir);
    signingKey = ring.keys.find((k) => k.kid === parts.header.kid);
    keep(signingKey.private_pem);
  });
  after(async () => { await hub?.stop(); });

  const me = (token) => call(hub.url, 'GET', '/api/v1/users/me', { token });
  async function refused(token, what) {
    const r = await me(token);
    assert.equal(r.status, 401, `${what} -> ${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(['invalid_token', 'token_expired'].includes(r.body.error.code), `${what}: ${r.body.error.code}`);
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer/);
    return r;
  }
  // The victim's own claims, re-signed with the real key: only the named change makes it bad.
  const resigned = (claims, header = parts.header) => signRs256(header, { ...parts.claims, ...claims }, signingKey.private_pem);

  test('the genuine token works and is RS256 with a kid (the baseline of every attack)', async () => {
    assert.equal((await me(victim.token)).status, 200);
    assert.equal(parts.header.alg, 'RS256');
    assert.ok(parts.header.kid);
    assert.equal((await me(resigned({}))).status, 200, 'a token we sign ourselves with the real key passes');
  });

  test('alg none', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const head = b64url(JSON.stringify({ alg, typ: 'JWT', kid: parts.header.kid }));
      const admin = b64url(JSON.stringify({ ...parts.claims, role: 'admin' }));
      await refused(`${head}.${admin}.`, `alg ${alg}, empty signature`);
      await refused(`${head}.${parts.p}.`, `alg ${alg}, own claims`);
      await refused(`${head}.${parts.p}`, `alg ${alg}, two segments`);
      await refused(`${head}.${parts.p}.${parts.s}`, `alg ${alg}, original signature kept`);
    }
  });

  test('HS256 signed with the RSA public key (algorithm confusion)', async () => {
    const jwks = await call(hub.url, 'GET', '/api/v1/auth/jwks');
    const jwk = jwks.body.keys.find((k) => k.kid === parts.header.kid);
    const pubPem = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const pubDer = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      for (const [name, secret] of [['pem', pubPem], ['file pem', signingKey.public_pem], ['der', pubDer], ['jwk n', jwk.n]]) {
        await refused(signHs256({ alg, typ: 'JWT', kid: parts.header.kid }, { ...parts.claims, role: 'admin' }, secret), `${alg} with the public key as ${name}`);
      }
    }
  });

  test('RS256 signed by a key of the attacker, named by the real kid or carried in the header', async () => {
    const evil = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const evilJwk = evil.publicKey.export({ format: 'jwk' });
    const claims = { ...parts.claims, role: 'admin' };
    await refused(signRs256(parts.header, claims, evil.privateKey), 'real kid, other key');
    await refused(signRs256({ ...parts.header, jwk: evilJwk }, claims, evil.privateKey), 'embedded jwk');
    await refused(signRs256({ alg: 'RS256', typ: 'JWT', jwk: evilJwk }, claims, evil.privateKey), 'embedded jwk without kid');
    await refused(signRs256({ ...parts.header, jku: 'http://127.0.0.1:1/jwks.json' }, claims, evil.privateKey), 'jku');
    await refused(signRs256({ ...parts.header, x5u: 'http://127.0.0.1:1/cert.pem' }, claims, evil.privateKey), 'x5u');
    await refused(signRs256({ alg: 'PS256', typ: 'JWT', kid: parts.header.kid }, claims, signingKey.private_pem), 'PS256');
  });

  test('kid pointing elsewhere: path traversal, URL, SQL', async () => {
    const evil = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kids = [
      '../../../../../../dev/null', '/dev/null', '../master.key', `${hub.dataDir}/master.key`,
      'file:///etc/passwd', 'http://127.0.0.1:1/key.pem', 'https://evil.example/jwks.json',
      "' OR '1'='1", "x' UNION SELECT public_pem FROM keys--", `${parts.header.kid}' --`,
      '', ' ', `${parts.header.kid}\u0000`, `${parts.header.kid} `, parts.header.kid.toUpperCase(), 'k'.repeat(5000),
    ];
    for (const kid of kids) {
      await refused(signRs256({ alg: 'RS256', typ: 'JWT', kid }, { ...parts.claims, role: 'admin' }, evil.privateKey), `kid ${JSON.stringify(kid.slice(0, 40))} with another key`);
      // Even signed with the real key, a kid that is not exactly one of the ring's is refused.
      if (kid !== parts.header.kid) await refused(signRs256({ alg: 'RS256', typ: 'JWT', kid }, parts.claims, signingKey.private_pem), `kid ${JSON.stringify(kid.slice(0, 40))} with the real key`);
    }
    for (const kid of [42, null, ['x'], { $ne: '' }]) {
      await refused(signRs256({ alg: 'RS256', typ: 'JWT', kid }, parts.claims, signingKey.private_pem), `kid ${JSON.stringify(kid)}`);
    }
  });

  test('expired', async () => {
    const t = now();
    await refused(resigned({ iat: t - 7200, nbf: t - 7200, exp: t - 3600 }), 'expired an hour ago');
    await refused(resigned({ iat: t - 1000, nbf: t - 1000, exp: t - 60 }), 'expired beyond the leeway');
    await refused(resigned({ exp: undefined }), 'no exp');
    await refused(resigned({ exp: String(t + 600) }), 'exp as a string');
  });

  test('not yet valid', async () => {
    const t = now();
    await refused(resigned({ iat: t + 3600, nbf: t + 3600, exp: t + 4500 }), 'nbf an hour ahead');
    await refused(resigned({ nbf: t + 120 }), 'nbf beyond the leeway');
  });

  test('wrong iss or aud', async () => {
    await refused(resigned({ iss: 'https://evil.example' }), 'iss');
    await refused(resigned({ iss: undefined }), 'no iss');
    await refused(resigned({ iss: `${parts.claims.iss} ` }), 'iss with a space');
    await refused(resigned({ aud: 'another-service' }), 'aud');
    await refused(resigned({ aud: ['another-service'] }), 'aud list without us');
    await refused(resigned({ aud: undefined }), 'no aud');
  });

  test('claims changed after signing', async () => {
    for (const change of [{ role: 'admin' }, { sub: 'someone-else' }, { exp: parts.claims.exp + 86400 }]) {
      const body = b64url(JSON.stringify({ ...parts.claims, ...change }));
      await refused(`${parts.h}.${body}.${parts.s}`, `changed ${Object.keys(change)[0]}`);
    }
    await refused(`${parts.h}.${parts.p}.${parts.s.slice(0, -4)}AAAA`, 'signature bit-flipped');
    await refused(`${parts.h}.${parts.p}.`, 'signature stripped');
    await refused(`${parts.h}.${parts.p}.${parts.s}.${parts.s}`, 'four segments');
    await refused(`${parts.h} .${parts.p}.${parts.s}`, 'space inside');
    await refused(`${parts.h}=.${parts.p}.${parts.s}`, 'padded base64');
  });

  test('a revoked session\'s token (after logout) stops working at once', async () => {
    const u = await user(hub.url);
    assert.equal((await me(u.token)).status, 200);
    const out = await call(hub.url, 'POST', '/api/v1/auth/logout', { token: u.token });
    assert.equal(out.status, 204);
    await refused(u.token, 'access token after logout');
    // Re-signing its claims with the real key does not bring the session back.
    await refused(signRs256(jwtParts(u.token).header, { ...jwtParts(u.token).claims, jti: crypto.randomUUID() }, signingKey.private_pem), 'fresh jti, dead sid');
    const r = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(r.status, 401);
  });

  test('a session deleted from another device ends its access token', async () => {
    const u = await user(hub.url);
    const other = await call(hub.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
    keep(other.body.access_token, other.body.refresh_token);
    const sessions = await call(hub.url, 'GET', '/api/v1/auth/sessions', { token: u.token });
    const victimSession = sessions.body.items.find((s) => !s.current);
    assert.equal((await call(hub.url, 'DELETE', `/api/v1/auth/sessions/${victimSession.id}`, { token: u.token })).status, 204);
    await refused(other.body.access_token, 'token of a deleted session');
  });

  test('a refresh token used as an access token', async () => {
    const u = await user(hub.url);
    for (const path of ['/api/v1/users/me', '/api/v1/conversations', '/api/v1/auth/sessions']) {
      const r = await call(hub.url, 'GET', path, { token: u.refresh });
      assert.equal(r.status, 401, `${path} -> ${r.status}`);
    }
    const compat = await call(hub.url, 'GET', '/v1/models', { token: u.refresh });
    assert.equal(compat.status, 401);
  });

  test('an access token used as a refresh token', async () => {
    const u = await user(hub.url);
    for (const body of [{ refresh_token: u.token }, { refresh_token: u.token.split('.')[2].slice(0, 43) }]) {
      const r = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body });
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.ok(!r.body.access_token);
    }
    const cookie = await call(hub.url, 'POST', '/api/v1/auth/refresh', {
      headers: { Cookie: `bh_refresh=${u.token}`, Origin: hub.url },
    });
    assert.equal(cookie.status, 401);
    assert.equal((await me(u.token)).status, 200, 'the misuse does not end the real session');
  });

  test('a reused refresh token ends the whole family, the newest pair included', async () => {
    const u = await user(hub.url);
    const first = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(first.status, 200);
    keep(first.body.access_token, first.body.refresh_token);
    assert.equal((await me(first.body.access_token)).status, 200);
    // The thief replays the original token.
    const replay = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refresh } });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'refresh_token_reused');
    assert.ok(!replay.body.access_token);
    // The pair from the first rotation is dead too, both halves.
    const next = await call(hub.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: first.body.refresh_token } });
    assert.equal(next.status, 401);
    await refused(first.body.access_token, 'access token of the rotated pair');
    await refused(u.token, 'the original access token');
    // A fresh login still works: the account is not locked, only the stolen family.
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } })).status, 200);
  });

  test('a token of another hub (other key ring, same issuer) is refused', async () => {
    const other = await startHub({ env: FAST_ENV });
    try {
      const stranger = await user(other.url);
      await refused(stranger.token, 'token from another hub');
    } finally {
      await other.stop();
    }
  });

  test('revoked sessions stay revoked across a restart (logout, deleted session, reused refresh token)', async () => {
    const dataDir = tempDir();
    let h = await startHub({ dataDir, env: FAST_ENV });
    let loggedOut;
    let deleted;
    let family;
    let alive;
    try {
      loggedOut = await user(h.url);
      assert.equal((await call(h.url, 'POST', '/api/v1/auth/logout', { token: loggedOut.token })).status, 204);
      deleted = await user(h.url);
      const second = await call(h.url, 'POST', '/api/v1/auth/login', { body: { username: deleted.username, password: deleted.password } });
      keep(second.body.access_token, second.body.refresh_token);
      const sid = jwtParts(second.body.access_token).claims.sid;
      assert.equal((await call(h.url, 'DELETE', `/api/v1/auth/sessions/${sid}`, { token: deleted.token })).status, 204);
      deleted.dead = second.body.access_token;
      family = await user(h.url);
      const rotated = await call(h.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: family.refresh } });
      keep(rotated.body.access_token, rotated.body.refresh_token);
      assert.equal((await call(h.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: family.refresh } })).status, 401);
      family.dead = rotated.body.access_token;
      alive = await user(h.url);
    } finally {
      await h.stop();
    }
    h = await startHub({ dataDir, env: FAST_ENV });
    try {
      const check = async (token, what, status) => {
        const r = await call(h.url, 'GET', '/api/v1/users/me', { token });
        assert.equal(r.status, status, `${what} after a restart -> ${r.status}`);
      };
      await check(loggedOut.token, 'a logged-out token', 401);
      await check(deleted.dead, 'the token of a deleted session', 401);
      await check(family.dead, 'the token of a family ended by reuse', 401);
      await check(family.token, 'the first token of that family', 401);
      await check(deleted.token, 'the other, live session of that user', 200);
      await check(alive.token, 'an untouched session', 200);
    } finally {
      await h.stop();
    }
  });

  test('no secret used in this file appears in any log line', () => {
    assertNoSecretInLogs();
  });
});

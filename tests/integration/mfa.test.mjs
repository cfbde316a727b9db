// TOTP multi-factor sign-in over real HTTP, with codes from an independent implementation
// (Debian's oathtool): enrollment (pending is not enabled), sign-in in two steps and in one,
// one step of drift either side and not two, each code once, the same 401 for every bad code,
// the second-step token (single use, expiry, burnt, never a Bearer token), recovery codes once
// and regenerated, disabling behind password + code, the failure budget (429), the audit
// trail, no secret in any GET or log line, enrollment required by role, account deletion, and
// the token surviving a restart (it is kept, hashed, in the database).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser } from '../support/api.mjs';
import { startHub, tempDir } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';
import { freshStep, oath, STEP_MS } from '../support/totp.mjs';
import { waitFor } from '../support/wait.mjs';
import { ALGS, SoftCredential } from '../support/webauthn.mjs';

const ENV = {
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '10000',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_MFA_FAILURES_PER_ACCOUNT_PER_MINUTE: '12',
  BAILIAN_HUB_MFA_TOKEN_TTL_S: '3',
  BAILIAN_HUB_MFA_REQUIRED_ROLES: 'auditor',
};
describe('TOTP multi-factor sign-in', () => {
  let hub;
  let adminToken;

  before(async () => {
    hub = await startHub({ env: ENV });
    await createUser(hub.dataDir, 'mfa_admin', 'admin');
    adminToken = (await login(hub.url, 'mfa_admin', SEED_PASSWORD)).body.access_token;
  });
  after(async () => { await hub?.stop(); });

  // A fresh user with TOTP on: {u, secret, codes, lastStep}.
  async function enrolled() {
    const u = await newUser(hub.url);
    const begin = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp', { token: u.token });
    assert.equal(begin.status, 200, JSON.stringify(begin.body));
    const secret = begin.body.secret;
    const step = await freshStep();
    const confirm = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp/confirm', {
      token: u.token, body: { code: oath(secret, step - 1) },
    });
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    return { u, secret, codes: confirm.body.recovery_codes, lastStep: step - 1 };
  }

  async function audit(action, userId) {
    const r = await call(hub.url, 'GET', `/api/v1/admin/audit-logs?action=${action}&limit=100`, { token: adminToken });
    assert.equal(r.status, 200);
    return r.body.items.filter((e) => !userId || e.actor_user_id === userId);
  }

  test('enroll: pending is not on, the first code turns it on, then sign-in takes two steps', async () => {
    const u = await newUser(hub.url);
    let status = await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: u.token });
    assert.deepEqual(status.body, { totp_enabled: false, enrollment_pending: false, required: false, recovery_codes_left: 0, enrolled_at: null });

    const begin = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp', { token: u.token });
    assert.equal(begin.status, 200);
    assert.match(begin.body.secret, /^[A-Z2-7]{32}$/);
    assert.ok(begin.body.otpauth_uri.startsWith(`otpauth://totp/Bailian%20Hub:${u.username}?`), begin.body.otpauth_uri);
    const uri = new URL(begin.body.otpauth_uri);
    assert.equal(uri.searchParams.get('secret'), begin.body.secret);
    assert.equal(uri.searchParams.get('issuer'), 'Bailian Hub');
    assert.equal(begin.headers.get('cache-control'), 'no-store');

    // Pending: not enabled anywhere, and the password alone still signs in.
    status = await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: u.token });
    assert.equal(status.body.totp_enabled, false);
    assert.equal(status.body.enrollment_pending, true);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).body.mfa_enabled, false);
    const before = (await login(hub.url, u.username, u.password)).body.access_token;
    assert.ok(before);

    const step = await freshStep();
    const wrong = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp/confirm', {
      token: u.token, body: { code: oath(begin.body.secret, step - 3) },
    });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'invalid_mfa_code');
    const confirm = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp/confirm', {
      token: u.token, body: { code: oath(begin.body.secret, step) },
    });
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    assert.equal(confirm.body.recovery_codes.length, 10);
    assert.equal(new Set(confirm.body.recovery_codes).size, 10);
    for (const c of confirm.body.recovery_codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);

    status = await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: u.token });
    assert.equal(status.body.totp_enabled, true);
    assert.equal(status.body.recovery_codes_left, 10);
    assert.ok(!Number.isNaN(Date.parse(status.body.enrolled_at)));
    const me = await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token });
    assert.equal(me.body.mfa_enabled, true);
    // The secret is in no GET answer.
    for (const r of [status, me]) assert.ok(!JSON.stringify(r.body).includes(begin.body.secret));

    // The password alone: a challenge, no token, no cookie.
    const first = await login(hub.url, u.username, u.password);
    assert.equal(first.status, 200);
    assert.equal(first.body.mfa_required, true);
    assert.deepEqual(first.body.methods, ['totp', 'recovery_code']);
    assert.equal(first.body.expires_in, 3);
    assert.equal(first.body.access_token, undefined);
    assert.equal(first.headers.get('set-cookie'), null);
    // The step of the confirmation is spent; the next one signs in.
    const second = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', {
      body: { mfa_token: first.body.mfa_token, code: oath(begin.body.secret, step + 1) },
    });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.token_type, 'Bearer');
    assert.equal(second.body.user.id, u.user.id);
    assert.match(second.headers.get('set-cookie'), /^bh_refresh=[^;]+; Path=\/api\/v1\/auth; HttpOnly; SameSite=Strict/);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: second.body.access_token })).status, 200);
    // Enabling ended the other sessions (opened with the password alone); the one that enabled
    // it stays.
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: before })).status, 401);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 200);

    assert.equal((await audit('user.mfa_enabled', u.user.id)).length, 1);
    assert.ok((await audit('auth.mfa_ok', u.user.id)).length >= 1);
    assert.ok((await audit('auth.mfa_failed', u.user.id)).length >= 1);
  });

  test('one step: password and totp_code together; a bad totp_code is refused', async () => {
    const { u, secret, lastStep } = await enrolled();
    const bad = await call(hub.url, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: u.password, totp_code: '12345' },
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.code, 'invalid_mfa_code');
    const ok = await call(hub.url, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: u.password, totp_code: oath(secret, lastStep + 1) },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(ok.body.access_token);
    assert.ok(ok.headers.get('set-cookie'));
    // A wrong password with a right code is still just invalid_credentials.
    const pw = await call(hub.url, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: 'Wrong-Password-123', totp_code: oath(secret, lastStep + 2) },
    });
    assert.equal(pw.status, 401);
    assert.equal(pw.body.error.code, 'invalid_credentials');
  });

  test('one step of drift either side, not two; each step once; every bad code the same 401', async () => {
    const { u, secret, lastStep } = await enrolled();
    const step = await freshStep();
    const second = async (body) => {
      const c = await login(hub.url, u.username, u.password);
      assert.equal(c.body.mfa_required, true);
      return call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, ...body } });
    };
    const refusals = [];
    refusals.push(await second({ code: oath(secret, step - 2) }));  // expired (two steps old)
    refusals.push(await second({ code: oath(secret, step + 2) }));  // two steps ahead
    refusals.push(await second({ code: '12a456' }));                // malformed
    refusals.push(await second({ code: '1234567' }));               // malformed
    const wrong = ['000000', '111111'].find((c) => ![-1, 0, 1].some((d) => oath(secret, step + d) === c));
    refusals.push(await second({ code: wrong }));                   // wrong
    // The enrollment's code, again.
    refusals.push(await second({ code: oath(secret, lastStep) }));
    assert.equal((await second({ code: oath(secret, step) })).status, 200);  // now
    refusals.push(await second({ code: oath(secret, step) }));       // replayed
    assert.equal((await second({ code: oath(secret, step + 1) })).status, 200);  // +1 drift
    refusals.push(await second({ code: oath(secret, step + 1) }));   // replayed
    refusals.push(await second({ code: oath(secret, step) }));       // older than the last one
    for (const r of refusals) {
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body.error).sort(), Object.keys(refusals[0].body.error).sort());
      assert.equal(r.body.error.code, 'invalid_mfa_code');
      assert.equal(r.body.error.message, refusals[0].body.error.message);
    }
    const reasons = (await audit('auth.mfa_failed', u.user.id)).map((e) => e.detail.reason);
    assert.ok(reasons.includes('replayed'), reasons.join());
    assert.ok(reasons.includes('malformed'));
    assert.ok(reasons.includes('wrong_code'));
  });

  test('-1 step of drift is accepted', async () => {
    const u = await newUser(hub.url);
    const begin = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp', { token: u.token });
    const step = await freshStep();
    // Enrolled with the current step; the one before cannot be used after it, so a fresh
    // user checks -1 at confirmation time.
    const confirm = await call(hub.url, 'POST', '/api/v1/users/me/mfa/totp/confirm', {
      token: u.token, body: { code: oath(begin.body.secret, step - 1) },
    });
    assert.equal(confirm.status, 200);
    const c = await login(hub.url, u.username, u.password);
    const ok = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, code: oath(begin.body.secret, step) } });
    assert.equal(ok.status, 200);
  });

  test('the second-step token: single use, bound to its user, expires, burnt, never a Bearer token', async () => {
    const a = await enrolled();
    const b = await enrolled();
    const step = await freshStep();
    const ca = await login(hub.url, a.u.username, a.u.password);
    // Not an access token anywhere.
    for (const path of ['/api/v1/users/me', '/api/v1/users/me/mfa', '/api/v1/auth/sessions']) {
      const r = await call(hub.url, 'GET', path, { token: ca.body.mfa_token });
      assert.equal(r.status, 401, path);
    }
    // Bound to its user: b's code does not complete a's sign-in.
    const cross = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: ca.body.mfa_token, code: oath(b.secret, step) } });
    assert.equal(cross.status, 401);
    // Used once, then dead.
    const ok = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: ca.body.mfa_token, code: oath(a.secret, step) } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const twice = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: ca.body.mfa_token, code: oath(a.secret, step + 1) } });
    assert.equal(twice.status, 401);
    assert.equal(twice.body.error.code, 'invalid_mfa_token');
    // Expired (BAILIAN_HUB_MFA_TOKEN_TTL_S=3): refused even with a right code.
    const cb = await login(hub.url, b.u.username, b.u.password);
    const issued = Date.now();
    await waitFor(() => Date.now() > issued + 3200, 'the token to expire', 10_000, 100);
    const late = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: cb.body.mfa_token, code: oath(b.secret, Math.floor(Date.now() / STEP_MS)) } });
    assert.equal(late.status, 401);
    assert.equal(late.body.error.code, 'invalid_mfa_token');
    // Burnt after 5 wrong codes: the right one no longer works on it.
    const c = await login(hub.url, b.u.username, b.u.password);
    for (let i = 0; i < 5; i += 1) {
      const r = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, code: 'x' } });
      assert.equal(r.body.error.code, 'invalid_mfa_code');
    }
    const burnt = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, code: oath(b.secret, Math.floor(Date.now() / STEP_MS)) } });
    assert.equal(burnt.status, 401);
    assert.equal(burnt.body.error.code, 'invalid_mfa_token');
    // Junk and missing fields.
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: 'nope', code: '123456' } })).status, 401);
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { code: '123456' } })).status, 400);
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: 'x', code: '1', recovery_code: '2' } })).status, 400);
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: 'x', code: '1', extra: 1 } })).status, 400);
  });

  test('recovery codes: each works once; regenerating kills the old ones; both need password + code', async () => {
    const { u, secret, codes, lastStep } = await enrolled();
    const useRecovery = async (code) => {
      const c = await login(hub.url, u.username, u.password);
      return call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, recovery_code: code } });
    };
    const ok = await useRecovery(codes[0].toUpperCase());
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const again = await useRecovery(codes[0]);
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'invalid_mfa_code');
    const token = ok.body.access_token;
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token })).body.recovery_codes_left, 9);
    const used = await audit('auth.recovery_code_used', u.user.id);
    assert.equal(used.length, 1);
    assert.equal(used[0].detail.remaining, 9);

    // Regenerate: a wrong password, then a wrong code, change nothing.
    const badPw = await call(hub.url, 'POST', '/api/v1/users/me/mfa/recovery-codes', { token, body: { password: 'Wrong-Password-123', code: oath(secret, lastStep + 1) } });
    assert.equal(badPw.status, 403);
    assert.equal(badPw.body.error.code, 'invalid_credentials');
    const badCode = await call(hub.url, 'POST', '/api/v1/users/me/mfa/recovery-codes', { token, body: { password: u.password, code: '000000x' } });
    assert.equal(badCode.status, 403);
    assert.equal(badCode.body.error.code, 'invalid_mfa_code');
    const regen = await call(hub.url, 'POST', '/api/v1/users/me/mfa/recovery-codes', { token, body: { password: u.password, recovery_code: codes[1] } });
    assert.equal(regen.status, 200, JSON.stringify(regen.body));
    assert.equal(regen.body.recovery_codes.length, 10);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token })).body.recovery_codes_left, 10);
    assert.equal((await useRecovery(codes[2])).status, 401);
    assert.equal((await useRecovery(regen.body.recovery_codes[0])).status, 200);
    assert.equal((await audit('user.recovery_codes_regenerated', u.user.id)).length, 1);
  });

  test('disable needs the password and a code; then the password alone signs in again', async () => {
    const { u, secret, lastStep } = await enrolled();
    // Another device, signed in with a code (one step).
    const other = await call(hub.url, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: u.password, totp_code: oath(secret, lastStep + 1) },
    });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    const step = lastStep + 2;
    const noCode = await call(hub.url, 'DELETE', '/api/v1/users/me/mfa/totp', { token: u.token, body: { password: u.password } });
    assert.equal(noCode.status, 400);
    const badPw = await call(hub.url, 'DELETE', '/api/v1/users/me/mfa/totp', { token: u.token, body: { password: 'Wrong-Password-123', code: oath(secret, step) } });
    assert.equal(badPw.status, 403);
    assert.equal(badPw.body.error.code, 'invalid_credentials');
    const badCode = await call(hub.url, 'DELETE', '/api/v1/users/me/mfa/totp', { token: u.token, body: { password: u.password, code: oath(secret, step - 3) } });
    assert.equal(badCode.status, 403);
    assert.equal(badCode.body.error.code, 'invalid_mfa_code');
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: u.token })).body.totp_enabled, true);
    const off = await call(hub.url, 'DELETE', '/api/v1/users/me/mfa/totp', { token: u.token, body: { password: u.password, code: oath(secret, step) } });
    assert.equal(off.status, 204);
    // Turning it off ended the other sessions; this one goes on.
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: other.body.access_token })).status, 401);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 200);
    const status = await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: u.token });
    assert.deepEqual(status.body, { totp_enabled: false, enrollment_pending: false, required: false, recovery_codes_left: 0, enrolled_at: null });
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).body.mfa_enabled, false);
    assert.ok((await login(hub.url, u.username, u.password)).body.access_token);
    assert.equal((await audit('user.mfa_disabled', u.user.id)).length, 1);
  });

  test('wrong codes are limited per account: 429 with Retry-After, audited', async () => {
    const { u } = await enrolled();
    let limited = null;
    for (let i = 0; i < 20 && !limited; i += 1) {
      const c = await login(hub.url, u.username, u.password);
      const r = await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, code: '000000' } });
      if (r.status === 429) limited = { r, i };
      else assert.equal(r.status, 401);
    }
    assert.ok(limited, 'no 429 after 20 wrong codes');
    // A burst of 10 wrong codes (12 a minute refill meanwhile).
    assert.ok(limited.i >= 10 && limited.i <= 16, `429 after ${limited.i} wrong codes`);
    assert.ok(Number(limited.r.headers.get('retry-after')) >= 1);
    assert.equal(limited.r.body.error.code, 'rate_limited');
    const reasons = (await audit('auth.mfa_failed', u.user.id)).map((e) => e.detail.reason);
    assert.ok(reasons.includes('rate_limited'));
  });

  test('a role that requires MFA: its members enroll at sign-in before they get tokens', async () => {
    const name = `mfa_auditor_${process.pid}`;
    const id = await createUser(hub.dataDir, name, 'auditor');
    // The step is chosen before the sign-in: the enroll token lives only 3 s here, less than
    // waiting for room in a TOTP step can take.
    const step = await freshStep();
    const first = await login(hub.url, name, SEED_PASSWORD);
    assert.equal(first.status, 200);
    assert.equal(first.body.mfa_enrollment_required, true);
    assert.equal(first.body.access_token, undefined);
    assert.equal(first.headers.get('set-cookie'), null);
    const token = first.body.mfa_token;
    // Not a Bearer token; not a login token.
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token })).status, 401);
    assert.equal((await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: token, code: '123456' } })).status, 401);
    const begin = await call(hub.url, 'POST', '/api/v1/auth/login/mfa/enroll', { body: { mfa_token: token } });
    assert.equal(begin.status, 200, JSON.stringify(begin.body));
    assert.match(begin.body.secret, /^[A-Z2-7]{32}$/);
    const wrong = await call(hub.url, 'POST', '/api/v1/auth/login/mfa/enroll/confirm', { body: { mfa_token: token, code: oath(begin.body.secret, step - 3) } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'invalid_mfa_code');
    const done = await call(hub.url, 'POST', '/api/v1/auth/login/mfa/enroll/confirm', { body: { mfa_token: token, code: oath(begin.body.secret, step) } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.ok(done.body.access_token);
    assert.equal(done.body.user.id, id);
    assert.equal(done.body.recovery_codes.length, 10);
    assert.ok(done.headers.get('set-cookie'));
    const again = await call(hub.url, 'POST', '/api/v1/auth/login/mfa/enroll/confirm', { body: { mfa_token: token, code: oath(begin.body.secret, step + 1) } });
    assert.equal(again.status, 401);
    const status = await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: done.body.access_token });
    assert.equal(status.body.totp_enabled, true);
    assert.equal(status.body.required, true);
    // From now on, the usual second step.
    const next = await login(hub.url, name, SEED_PASSWORD);
    assert.equal(next.body.mfa_required, true);
    // Other roles are not asked to enroll.
    const plain = await newUser(hub.url);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me/mfa', { token: plain.token })).body.required, false);
  });

  // A passkey registered over loopback (RP ID 127.0.0.1, origin the hub's own URL).
  async function addPasskey(u) {
    const o = await call(hub.url, 'POST', '/api/v1/users/me/passkeys/options', { token: u.token });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    const cred = new SoftCredential(ALGS.ES256, { rpId: '127.0.0.1', origin: hub.url, userHandle: o.body.user.id });
    const r = await call(hub.url, 'POST', '/api/v1/users/me/passkeys', { token: u.token, body: { credential: cred.attestation(o.body) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return cred;
  }

  async function passkeyStep(mfaToken, cred, assertionOpts = {}) {
    const o = await call(hub.url, 'POST', '/api/v1/auth/login/mfa/passkey/options', { body: { mfa_token: mfaToken } });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    return call(hub.url, 'POST', '/api/v1/auth/login/mfa/passkey', {
      body: { mfa_token: mfaToken, credential: cred.assertion(o.body, assertionOpts) },
    });
  }

  test('a passkey answers the second step; a wrong one is refused and the token is used once', async () => {
    const { u } = await enrolled();
    const cred = await addPasskey(u);
    const first = await login(hub.url, u.username, u.password);
    assert.equal(first.body.mfa_required, true);
    assert.deepEqual(first.body.methods, ['totp', 'recovery_code', 'passkey']);
    const token = first.body.mfa_token;
    const wrongOrigin = await passkeyStep(token, cred, { origin: 'http://evil.example' });
    assert.equal(wrongOrigin.status, 401);
    assert.equal(wrongOrigin.body.error.code, 'passkey_not_accepted');
    assert.equal(wrongOrigin.headers.get('set-cookie'), null);
    const ok = await passkeyStep(token, cred);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(ok.body.access_token);
    assert.equal(ok.body.user.id, u.user.id);
    assert.ok(ok.headers.get('set-cookie'));
    const again = await call(hub.url, 'POST', '/api/v1/auth/login/mfa/passkey/options', { body: { mfa_token: token } });
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'invalid_mfa_token');
    // Another user's passkey cannot answer this user's step.
    const other = await newUser(hub.url);
    const otherCred = await addPasskey(other);
    const next = await login(hub.url, u.username, u.password);
    const foreign = await passkeyStep(next.body.mfa_token, otherCred);
    assert.equal(foreign.status, 401);
    const logins = (await audit('auth.login', u.user.id)).map((e) => e.detail);
    assert.ok(logins.some((d) => d.mfa === 'passkey'), JSON.stringify(logins));
  });

  test('a member of a role that requires MFA with a passkey answers with it instead of enrolling TOTP', async () => {
    const u = await newUser(hub.url);
    const cred = await addPasskey(u);
    const promote = await call(hub.url, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: adminToken, body: { role: 'auditor' } });
    assert.equal(promote.status, 200, JSON.stringify(promote.body));
    const first = await login(hub.url, u.username, u.password);
    assert.equal(first.body.mfa_required, true, JSON.stringify(first.body));
    assert.deepEqual(first.body.methods, ['passkey']);
    const done = await passkeyStep(first.body.mfa_token, cred);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user.role, 'auditor');
  });

  test('an admin requires MFA for a role in its settings; switching it off takes effect at once', async () => {
    const created = await call(hub.url, 'POST', '/api/v1/admin/roles', {
      token: adminToken,
      body: { name: 'mfa-team', permissions: ['conversations:own', 'models:chat'], mfa_required: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const name = `mfa_team_${process.pid}`;
    await createUser(hub.dataDir, name, 'mfa-team');
    const first = await login(hub.url, name, SEED_PASSWORD);
    assert.equal(first.body.mfa_enrollment_required, true, JSON.stringify(first.body));
    assert.equal(first.body.access_token, undefined);
    const off = await call(hub.url, 'PATCH', '/api/v1/admin/roles/mfa-team', { token: adminToken, body: { mfa_required: false } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const next = await login(hub.url, name, SEED_PASSWORD);
    assert.equal(next.status, 200);
    assert.ok(next.body.access_token, JSON.stringify(next.body));
  });

  test('deleting one\'s account with TOTP on needs a valid code', async () => {
    const { u, secret, codes, lastStep } = await enrolled();
    const noCode = await call(hub.url, 'DELETE', '/api/v1/users/me', { token: u.token, body: { password: u.password } });
    assert.equal(noCode.status, 403);
    assert.equal(noCode.body.error.code, 'invalid_mfa_code');
    const badCode = await call(hub.url, 'DELETE', '/api/v1/users/me', { token: u.token, body: { password: u.password, mfa_code: '000000' === oath(secret, lastStep + 1) ? '111111' : '000000' } });
    assert.equal(badCode.status, 403);
    assert.equal((await call(hub.url, 'GET', '/api/v1/users/me', { token: u.token })).status, 200);
    const gone = await call(hub.url, 'DELETE', '/api/v1/users/me', { token: u.token, body: { password: u.password, mfa_code: codes[3] } });
    assert.equal(gone.status, 204, JSON.stringify(gone.body));
    assert.equal((await login(hub.url, u.username, u.password)).status, 401);
    // With a TOTP code too.
    const other = await enrolled();
    const ok = await call(hub.url, 'DELETE', '/api/v1/users/me', { token: other.u.token, body: { password: other.u.password, mfa_code: oath(other.secret, other.lastStep + 1) } });
    assert.equal(ok.status, 204, JSON.stringify(ok.body));
  });

  test('no secret, recovery code or second-step token in any log line', async () => {
    const { u, secret, codes } = await enrolled();
    const c = await login(hub.url, u.username, u.password);
    await call(hub.url, 'POST', '/api/v1/auth/login/mfa', { body: { mfa_token: c.body.mfa_token, code: '000000' } });
    await waitFor(() => hub.logs.some((l) => l.includes('/api/v1/auth/login/mfa')), 'the access log line');
    const text = hub.logs.join('\n');
    for (const s of [secret, secret.toLowerCase(), ...codes, c.body.mfa_token, u.password]) {
      assert.ok(!text.includes(s), `log contains a secret: ${s.slice(0, 6)}…`);
    }
  });

  test('the second-step token is kept in the database: it survives a restart of the hub', async () => {
    const dir = tempDir('hub-mfa-restart-');
    const env = { ...ENV, BAILIAN_HUB_MFA_TOKEN_TTL_S: '300' };
    let first = await startHub({ env, dataDir: dir, keepDataDir: true });
    let second = null;
    try {
      const u = await newUser(first.url);
      const begin = await call(first.url, 'POST', '/api/v1/users/me/mfa/totp', { token: u.token });
      const step = await freshStep();
      const confirm = await call(first.url, 'POST', '/api/v1/users/me/mfa/totp/confirm', { token: u.token, body: { code: oath(begin.body.secret, step - 1) } });
      assert.equal(confirm.status, 200);
      const challenge = await login(first.url, u.username, u.password);
      assert.equal(challenge.body.mfa_required, true);
      await first.stop();
      first = null;
      second = await startHub({ env, dataDir: dir });
      const done = await call(second.url, 'POST', '/api/v1/auth/login/mfa', {
        body: { mfa_token: challenge.body.mfa_token, code: oath(begin.body.secret, step) },
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.user.id, u.user.id);
      // Still single use after the restart.
      const again = await call(second.url, 'POST', '/api/v1/auth/login/mfa', {
        body: { mfa_token: challenge.body.mfa_token, code: oath(begin.body.secret, step + 1) },
      });
      assert.equal(again.status, 401);
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

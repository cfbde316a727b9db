// Two-step sign-in in a real Chromium against the real hub, at desktop (1280×800) and phone
// (390×844) sizes: enroll TOTP from Settings (the QR code drawn by the page, the key read as
// text and fed to Debian's oathtool), save the recovery codes, sign out, sign in with the
// password and a code (the one-time-code field), then with a recovery code; and a role that
// requires MFA enrolling at sign-in.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  apiUser,
  assertNoConsoleErrors,
  call,
  DESKTOP,
  launchBrowser,
  nextJson,
  openPage,
  PHONE,
  shot,
  signInViaUi,
  signOutViaUi,
  startStack,
  waitSignedIn,
  waitUntil,
} from './support/e2e.mjs';
import { tempDir } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';

const STEP_MS = 30_000;

function oath(secret, step) {
  return execFileSync('oathtool', ['--totp', '-b', '--now', `@${step * 30 + 1}`, secret]).toString().trim();
}

// The current TOTP step, once at least 10 s of it are left.
async function freshStep() {
  await waitUntil(() => STEP_MS - (Date.now() % STEP_MS) > 10_000, () => 'room in the TOTP step', 40_000);
  return Math.floor(Date.now() / STEP_MS);
}

describe('two-step sign-in in the browser', { timeout: 240_000 }, () => {
  let stack;
  let browser;
  let dataDir;
  const contexts = [];

  before(async () => {
    dataDir = tempDir('e2e-mfa-');
    await createUser(dataDir, 'e2e_mfa_auditor', 'auditor');
    stack = await startStack({ dataDir, env: { BAILIAN_HUB_MFA_REQUIRED_ROLES: 'auditor' } });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`${size}: enroll from Settings, sign out, sign in with a code, then with a recovery code`, async () => {
      const u = await apiUser(stack.url);
      const { context, page: pg } = await openPage(browser, { viewport });
      contexts.push(context);
      await signInViaUi(pg, stack.url, u.username);
      await pg.goto(`${stack.url}/settings?tab=security`);
      const card = pg.getByTestId('mfa-card');
      await card.getByText('Off', { exact: true }).waitFor();

      // Enroll: a QR code drawn in the page and the key as text.
      const begun = nextJson(pg, 'POST', '/api/v1/users/me/mfa/totp');
      await card.getByRole('button', { name: 'Set up authenticator app' }).click();
      const enrollment = await begun;
      const qr = card.getByRole('img', { name: 'QR code for your authenticator app' });
      await qr.waitFor();
      assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,/);
      // Shown in groups of four, as authenticator apps show it.
      const secret = (await card.getByTestId('totp-secret').innerText()).replace(/\s+/g, '');
      assert.equal(secret, enrollment.secret);
      const field = card.getByLabel('6-digit code');
      assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
      // The card fits the phone: no sideways scrolling.
      const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
      await shot(pg, `${size}-mfa-enroll`);

      // A wrong code is refused readably, the right one turns it on.
      const step = await freshStep();
      await field.fill(oath(secret, step - 5));
      await card.getByRole('button', { name: 'Turn on' }).click();
      await card.getByText('That code is not valid. Enter the current code from your app.').waitFor();
      await field.fill(oath(secret, step));
      const confirmed = nextJson(pg, 'POST', '/api/v1/users/me/mfa/totp/confirm');
      await card.getByRole('button', { name: 'Turn on' }).click();
      const { recovery_codes: codes } = await confirmed;
      const list = card.getByTestId('recovery-codes');
      await list.waitFor();
      assert.deepEqual((await list.locator('li').allInnerTexts()).map((s) => s.trim()), codes);
      await card.getByRole('button', { name: 'Download' }).waitFor();
      await shot(pg, `${size}-mfa-recovery-codes`);
      await card.getByRole('button', { name: 'I have saved them' }).click();
      await card.getByText('On', { exact: true }).waitFor();
      await card.getByText(/10 recovery codes left/).waitFor();

      // Sign out, then the password: the code step, no session yet.
      await signOutViaUi(pg);
      await pg.getByLabel('Username or email').fill(u.username);
      await pg.getByLabel('Password', { exact: true }).fill(u.password);
      const challenged = nextJson(pg, 'POST', '/api/v1/auth/login');
      await pg.getByRole('button', { name: 'Sign in', exact: true }).click();
      assert.equal((await challenged).mfa_required, true);
      const code = pg.getByLabel('6-digit code');
      await code.waitFor();
      assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
      assert.equal(await code.getAttribute('inputmode'), 'numeric');
      await shot(pg, `${size}-mfa-sign-in-code`);
      await code.fill(oath(secret, step + 1));
      const signedIn = nextJson(pg, 'POST', '/api/v1/auth/login/mfa');
      await pg.getByRole('button', { name: 'Verify' }).click();
      assert.ok((await signedIn).access_token);
      await waitSignedIn(pg);

      // Once more with a recovery code.
      await signOutViaUi(pg);
      await pg.getByLabel('Username or email').fill(u.username);
      await pg.getByLabel('Password', { exact: true }).fill(u.password);
      await pg.getByRole('button', { name: 'Sign in', exact: true }).click();
      await pg.getByRole('button', { name: 'Use a recovery code instead' }).click();
      const recovery = pg.getByLabel('Recovery code');
      await recovery.fill(codes[0]);
      await shot(pg, `${size}-mfa-sign-in-recovery`);
      const withRecovery = nextJson(pg, 'POST', '/api/v1/auth/login/mfa');
      await pg.getByRole('button', { name: 'Verify' }).click();
      assert.ok((await withRecovery).access_token);
      await waitSignedIn(pg);
      const me = await call(stack.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } });
      assert.equal(me.body.mfa_required, true);
      assertNoConsoleErrors(pg, [/status of 40[13]/]);
    });
  }

  test('phone: a role that requires MFA enrolls at sign-in, saves the codes, then is in', async () => {
    const { context, page: pg } = await openPage(browser, { viewport: PHONE });
    contexts.push(context);
    await pg.goto(`${stack.url}/login`);
    await pg.getByLabel('Username or email').fill('e2e_mfa_auditor');
    await pg.getByLabel('Password', { exact: true }).fill(SEED_PASSWORD);
    const challenged = nextJson(pg, 'POST', '/api/v1/auth/login');
    await pg.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.equal((await challenged).mfa_enrollment_required, true);
    await pg.getByText('Your role requires two-step sign-in').waitFor();
    const begun = nextJson(pg, 'POST', '/api/v1/auth/login/mfa/enroll');
    await pg.getByRole('button', { name: 'Set up authenticator app' }).click();
    const enrollment = await begun;
    await pg.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    const secret = (await pg.getByTestId('totp-secret').innerText()).replace(/\s+/g, '');
    assert.equal(secret, enrollment.secret);
    const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    await shot(pg, 'phone-mfa-enroll-at-sign-in');
    const step = await freshStep();
    await pg.getByLabel('6-digit code').fill(oath(secret, step));
    const confirmed = nextJson(pg, 'POST', '/api/v1/auth/login/mfa/enroll/confirm');
    await pg.getByRole('button', { name: 'Turn on' }).click();
    const done = await confirmed;
    assert.equal(done.recovery_codes.length, 10);
    await pg.getByTestId('recovery-codes').waitFor();
    await pg.getByRole('button', { name: 'I have saved them' }).click();
    await waitSignedIn(pg);
    assertNoConsoleErrors(pg);
  });
});

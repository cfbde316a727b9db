// Single sign-on in a real Chromium against the real hub and a REAL OpenID provider on loopback
// (`oidc-provider`, tests/support/oidc-provider.mjs), at desktop (1280×800) and phone (390×844):
// "Sign in with Test ID" on the sign-in page, the provider's own login and consent pages, back
// signed in; the linked provider in Settings; signing out and in again; and, at desktop, linking
// an existing account on the link page with its password.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertNoConsoleErrors,
  call,
  DESKTOP,
  launchBrowser,
  nextJson,
  openPage,
  PHONE,
  shot,
  signOutViaUi,
  startStack,
  STRONG_PASSWORD,
  waitSignedIn,
} from './support/e2e.mjs';
import { tempDir } from '../support/hub.mjs';
import { startOidcProvider } from '../support/oidc-provider.mjs';

const SECRET = 'e2e-client-secret-0f1e2d3c4b5a';
// The provider's development pages load a web font from the internet (there is none here) and
// have no favicon: the provider's own console noise, not the hub's.
const providerNoise = (issuer) => [
  /fonts\.googleapis\.com/,
  /ERR_INTERNET_DISCONNECTED|ERR_NAME_NOT_RESOLVED/,
  new RegExp(`404 \\(Not Found\\) \\(${issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/favicon\\.ico\\)`),
];

describe('single sign-on in the browser', { timeout: 240_000 }, () => {
  let op;
  let stack;
  let browser;
  let dir;
  const contexts = [];

  before(async () => {
    op = await startOidcProvider();
    dir = tempDir('e2e-sso-');
    const file = path.join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify([
      { id: 'test', display_name: 'Test ID', issuer: op.issuer, client_id: 'hub', client_secret: SECRET },
    ]));
    stack = await startStack({ env: { BAILIAN_HUB_OIDC_PROVIDERS_FILE: file } });
    op.configure([{ client_id: 'hub', client_secret: SECRET, redirect_uri: `${stack.url}/api/v1/auth/sso/test/callback` }]);
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    await op?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** On the provider's pages: its login form (any listed login), then its consent page. */
  async function atProvider(pg, login) {
    await pg.waitForURL((u) => u.origin === op.issuer);
    await pg.locator('input[name="login"]').fill(login);
    await pg.locator('input[name="password"]').fill('any');
    await pg.getByRole('button', { name: 'Sign-in' }).click();
    await pg.getByRole('button', { name: 'Continue' }).click();
  }

  for (const [size, viewport, who] of [['desktop', DESKTOP, 'erin'], ['phone', PHONE, 'pia']]) {
    test(`${size}: sign in with the provider, see it in Settings, sign out and in again`, async () => {
      const { context, page: pg } = await openPage(browser, { viewport });
      contexts.push(context);
      await pg.goto(`${stack.url}/login`);
      const button = pg.getByRole('link', { name: 'Sign in with Test ID' });
      await button.waitFor();
      await shot(pg, `${size}-sso-sign-in-page`);
      // The button fits the phone's width.
      const box = await button.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `button inside the viewport: ${JSON.stringify(box)}`);

      await button.click();
      const exchanged = nextJson(pg, 'POST', '/api/v1/auth/sso/exchange');
      await atProvider(pg, who);
      const tokens = await exchanged;
      assert.equal(tokens.user.email, `${who}@example.test`);
      await waitSignedIn(pg);
      assert.equal(new URL(pg.url()).pathname, '/');
      assert.ok(!pg.url().includes('ticket='), 'the ticket is not left in the address bar');

      await pg.goto(`${stack.url}/settings?tab=security`);
      const card = pg.locator('.ant-card').filter({ hasText: 'Single sign-on' });
      await card.getByText('Test ID', { exact: true }).waitFor();
      await card.getByText(`${who}@example.test`).waitFor();
      await shot(pg, `${size}-sso-settings-identities`);

      // Signed out, the provider still knows the browser: one click signs in again.
      await signOutViaUi(pg);
      // Wait for the exchange from before the click: the provider remembers the browser, so
      // the whole round trip can finish before a waiter registered after the click.
      const exchangedAgain = nextJson(pg, 'POST', '/api/v1/auth/sso/exchange');
      await pg.getByRole('link', { name: 'Sign in with Test ID' }).click();
      const again = await exchangedAgain;
      assert.equal(again.user.id, tokens.user.id);
      await waitSignedIn(pg);
      assertNoConsoleErrors(pg, providerNoise(op.issuer));
    });
  }

  test('desktop: an existing account is linked on the link page with its password', async () => {
    const reg = await call(stack.url, 'POST', '/api/v1/auth/register', {
      body: { username: 'linda_e2e', email: 'linda@example.test', password: STRONG_PASSWORD },
    });
    assert.equal(reg.status, 201);
    const { context, page: pg } = await openPage(browser, { viewport: DESKTOP });
    contexts.push(context);
    await pg.goto(`${stack.url}/login`);
    await pg.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await atProvider(pg, 'linda');
    await pg.waitForURL((u) => u.pathname === '/sso/link');
    await pg.getByText('An account with the email linda@example.test already exists here.', { exact: false }).waitFor();
    await shot(pg, 'desktop-sso-link-page');
    await pg.getByLabel('Password of this account').fill(STRONG_PASSWORD);
    const linked = nextJson(pg, 'POST', '/api/v1/auth/sso/link');
    await pg.getByRole('button', { name: 'Link and sign in' }).click();
    assert.equal((await linked).user.id, reg.body.user.id);
    await waitSignedIn(pg);
    assertNoConsoleErrors(pg, providerNoise(op.issuer));
  });
});

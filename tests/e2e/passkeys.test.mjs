// Passkeys in a real Chromium with its virtual authenticator (DevTools protocol WebAuthn.*),
// at desktop (1280×800) and phone (390×844) sizes: add a passkey from Settings → Password,
// rename it, sign out, sign in with the "Sign in with a passkey" button; then delete it.
// WebAuthn needs a secure context and an RP ID that is a host name: the page is opened at
// http://localhost:PORT, so the hub (no WebAuthn configuration) serves RP ID "localhost".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiUser,
  assertNoConsoleErrors,
  DESKTOP,
  launchBrowser,
  nextJson,
  openPage,
  PHONE,
  settledDialog,
  shot,
  signInViaUi,
  signOutViaUi,
  startStack,
  waitSignedIn,
} from './support/e2e.mjs';

describe('passkeys in the browser', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let url;
  const contexts = [];

  before(async () => {
    stack = await startStack();
    url = stack.url.replace('127.0.0.1', 'localhost');
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
  });

  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`${size}: add a passkey in Settings, sign out, sign in with it`, async () => {
      const u = await apiUser(stack.url);
      const { context, page: pg } = await openPage(browser, { viewport });
      contexts.push(context);
      const cdp = await context.newCDPSession(pg);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
      });

      await signInViaUi(pg, url, u.username);
      await pg.goto(`${url}/settings?tab=security`);
      const card = pg.getByTestId('passkeys-card');
      await card.getByText('No passkeys yet').waitFor();

      const added = nextJson(pg, 'POST', '/api/v1/users/me/passkeys', 201);
      await card.getByRole('button', { name: 'Add a passkey' }).click();
      const passkey = await added;
      assert.equal(passkey.name, 'Passkey 1');
      assert.equal(passkey.algorithm, 'ES256');
      const item = card.getByTestId('passkey-item');
      await item.getByText('Passkey 1').waitFor();
      await item.getByText('never used').waitFor();
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0].isResidentCredential, true);
      assert.equal(credentials[0].rpId, 'localhost');

      // Rename it.
      await item.getByRole('button', { name: 'Rename passkey Passkey 1' }).click();
      const dialog = await settledDialog(pg, 'Rename passkey');
      await dialog.getByLabel('Name').fill(`My ${size} key`);
      const renamed = nextJson(pg, 'PATCH', `/api/v1/users/me/passkeys/${passkey.id}`);
      await dialog.getByRole('button', { name: 'Save' }).click();
      assert.equal((await renamed).name, `My ${size} key`);
      await item.getByText(`My ${size} key`).waitFor();
      // Fits a phone: the card is no wider than the window.
      const box = await card.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width + 1, `card inside the window (${JSON.stringify(box)})`);
      await shot(pg, `${size}-passkeys-settings`);

      await signOutViaUi(pg);
      const signIn = nextJson(pg, 'POST', '/api/v1/auth/passkey');
      await pg.getByRole('button', { name: 'Sign in with a passkey' }).click();
      const tokens = await signIn;
      assert.equal(tokens.user.username, u.username);
      await waitSignedIn(pg);
      await shot(pg, `${size}-signed-in-with-passkey`);

      // Last use shows in Settings; deleting it (after confirming) empties the list.
      await pg.goto(`${url}/settings?tab=security`);
      await item.getByText(/last used/).waitFor();
      await item.getByRole('button', { name: `Delete passkey My ${size} key` }).click();
      const deleted = nextJson(pg, 'DELETE', `/api/v1/users/me/passkeys/${passkey.id}`, 204);
      await pg.getByRole('tooltip').getByRole('button', { name: 'Delete' }).click();
      await deleted;
      await card.getByText('No passkeys yet').waitFor();
      assertNoConsoleErrors(pg, stack.missingApiErrors);
    });
  }
});

// Settings → Your data in a real Chromium against the real hub, at desktop (1280×800) and
// phone (390×844) sizes: "Export my data" with its progress and the ZIP downloaded, then
// "Delete my account" (password again, an explicit confirmation) signs out for good.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  startStack,
  STRONG_PASSWORD,
  waitUntil,
} from './support/e2e.mjs';
import { tempDir } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';

describe('your data in the browser', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let dataDir;
  const contexts = [];

  before(async () => {
    dataDir = tempDir('e2e-rights-');
    await createUser(dataDir, 'e2e_dradmin', 'admin');
    stack = await startStack({ dataDir });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`${size}: export my data, download it, then delete my account`, async () => {
      const u = await apiUser(stack.url);
      const tokens = (await call(stack.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } })).body;
      const conv = await call(stack.url, 'POST', '/api/v1/conversations', { token: tokens.access_token, body: { title: 'Kept in the export' } });
      assert.equal(conv.status, 201);

      const { context, page: pg } = await openPage(browser, { viewport });
      contexts.push(context);
      await signInViaUi(pg, stack.url, u.username);
      await pg.goto(`${stack.url}/settings?tab=data`);
      const panel = pg.getByRole('tabpanel', { name: 'Your data' });
      await panel.getByRole('heading', { name: 'Export my data' }).waitFor();

      // Export: the job starts, shows its progress, and becomes a download.
      const started = nextJson(pg, 'POST', '/api/v1/users/me/exports', 202);
      await panel.getByRole('button', { name: 'Export my data' }).click();
      assert.ok((await started).id);
      const download = panel.getByTestId('export-download');
      await download.waitFor();
      await panel.getByText(/Your export is ready/).waitFor();
      await shot(pg, `${size}-settings-data-export`);
      const [file] = await Promise.all([pg.waitForEvent('download'), download.click()]);
      const saved = path.join(mkdtempSync(path.join(os.tmpdir(), 'e2e-export-')), 'export.zip');
      await file.saveAs(saved);
      const names = execFileSync('unzip', ['-Z1', saved]).toString();
      assert.match(names, new RegExp(`conversations/${conv.body.id}\\.md`));
      assert.match(names, /profile\.json/);

      // Delete: the danger zone, password again, the box ticked.
      await panel.getByRole('button', { name: 'Delete my account…' }).click();
      const dialog = pg.getByRole('dialog', { name: 'Delete your account for good?' });
      await dialog.waitFor();
      await dialog.getByLabel('Your password').fill('Wrong-Password-123');
      await dialog.getByRole('checkbox').check();
      await dialog.getByRole('button', { name: 'Delete for good' }).click();
      await dialog.getByText('The current password is not correct').waitFor();
      await dialog.getByLabel('Your password').fill(STRONG_PASSWORD);
      await shot(pg, `${size}-settings-data-delete`);
      const deleted = nextJson(pg, 'DELETE', '/api/v1/users/me', 204);
      await dialog.getByRole('button', { name: 'Delete for good' }).click();
      await deleted;
      await pg.waitForURL((x) => x.pathname === '/login');
      await pg.getByText('Your account has been deleted.').waitFor();
      await shot(pg, `${size}-account-deleted`);

      // Signed out for good: the old token is dead and the password no longer signs in.
      assert.equal((await call(stack.url, 'GET', '/api/v1/users/me', { token: tokens.access_token })).status, 401);
      await pg.getByLabel('Username or email').fill(u.username);
      await pg.getByLabel('Password', { exact: true }).fill(u.password);
      await pg.getByRole('button', { name: 'Sign in', exact: true }).click();
      await pg.getByText('Wrong username, email or password.').waitFor();
      assertNoConsoleErrors(pg, [/status of 40[13]/]);
    });
  }

  test('admin console: delete a user after confirming; the last admin is refused readably', async () => {
    const victim = await apiUser(stack.url);
    const { context, page: pg } = await openPage(browser, { viewport: DESKTOP });
    contexts.push(context);
    await signInViaUi(pg, stack.url, 'e2e_dradmin', SEED_PASSWORD);
    await pg.goto(`${stack.url}/admin`);
    const search = pg.getByRole('textbox', { name: 'Search users' });
    const rows = pg.getByTestId('admin-users').locator('tbody tr.ant-table-row');
    const only = async (name) => {
      await search.fill(name);
      await waitUntil(async () => (await rows.count()) === 1 && (await rows.first().innerText()).includes(name), () => `only ${name} listed`);
    };

    await only(victim.username);
    await rows.first().getByRole('button', { name: `Delete ${victim.username}` }).click();
    const confirm = pg.getByRole('dialog', { name: `Delete ${victim.username}?` });
    await confirm.waitFor();
    await shot(pg, 'desktop-admin-delete-user');
    const deleted = nextJson(pg, 'DELETE', `/api/v1/admin/users/${victim.user.id}`, 204);
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await deleted;
    await pg.getByText('User deleted').waitFor();
    await waitUntil(async () => (await rows.count()) === 0, () => 'the deleted user is gone from the list');
    assert.equal((await call(stack.url, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: victim.password } })).status, 401);

    // The only admin: the refusal says why.
    await only('e2e_dradmin');
    await rows.first().getByRole('button', { name: 'Delete e2e_dradmin' }).click();
    const self = pg.getByRole('dialog', { name: 'Delete e2e_dradmin?' });
    await self.getByRole('button', { name: 'Delete', exact: true }).click();
    await pg.getByText('The last administrator cannot be deleted. Make another user an administrator first.').waitFor();
    await shot(pg, 'desktop-admin-last-admin');
    assertNoConsoleErrors(pg, [/status of 409/]);

    // At 390 px the list and its delete buttons stay reachable.
    const phone = await openPage(browser, { viewport: PHONE });
    contexts.push(phone.context);
    await signInViaUi(phone.page, stack.url, 'e2e_dradmin', SEED_PASSWORD);
    await phone.page.goto(`${stack.url}/admin`);
    await phone.page.getByRole('textbox', { name: 'Search users' }).fill('e2e_dradmin');
    const btn = phone.page.getByTestId('admin-users').getByRole('button', { name: 'Delete e2e_dradmin' });
    await btn.scrollIntoViewIfNeeded();
    await btn.waitFor();
    await shot(phone.page, 'phone-admin-users');
  });
});

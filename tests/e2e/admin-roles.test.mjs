// The admin console's Roles and Security events tabs in a real Chromium against the real hub,
// at desktop (1280×800) and phone (390×844) sizes: an admin creates a role (permissions as
// grouped checkboxes, a model allow-list, the MFA switch), sees the security events the hub
// detected (a brute force that locked an account), and unlocks it from the table.
import assert from 'node:assert/strict';
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
  startStack,
  waitUntil,
} from './support/e2e.mjs';
import { tempDir } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';

describe('roles and security events in the admin console', { timeout: 180_000 }, () => {
  let stack;
  let browser;
  let dataDir;
  const contexts = [];

  before(async () => {
    dataDir = tempDir('e2e-roles-');
    await createUser(dataDir, 'e2e_rolesadmin', 'admin');
    stack = await startStack({ dataDir, env: { BAILIAN_HUB_SECURITY_BRUTE_FORCE_FAILURES: '3' } });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`${size}: create a role, then see and unlock a security event`, async () => {
      const { context, page: pg } = await openPage(browser, { viewport });
      contexts.push(context);
      await signInViaUi(pg, stack.url, 'e2e_rolesadmin', SEED_PASSWORD);

      // Roles: the built-in ones are listed; create one.
      await pg.goto(`${stack.url}/admin?tab=roles`);
      const table = pg.getByTestId('admin-roles');
      await table.getByText('auditor', { exact: true }).waitFor();
      await pg.getByRole('button', { name: 'New role' }).click();
      const drawer = pg.getByRole('dialog', { name: 'New role' });
      await drawer.waitFor();
      const name = `support-${size}`;
      await drawer.getByLabel('Name', { exact: true }).fill(name);
      await drawer.getByLabel('Description', { exact: true }).fill('Chat with qwen-plus only');
      await drawer.getByText('Model families').waitFor();
      await drawer.getByRole('checkbox', { name: /models:chat/ }).check();
      await drawer.getByRole('checkbox', { name: /conversations:own/ }).check();
      await drawer.getByRole('combobox', { name: 'Allowed models' }).click();
      await pg.keyboard.type('qwen-plus');
      await pg.keyboard.press('Enter');
      await pg.keyboard.press('Escape');
      await drawer.getByRole('switch', { name: 'Require two-factor sign-in' }).click();
      await shot(pg, `${size}-admin-role-editor`);
      const created = nextJson(pg, 'POST', '/api/v1/admin/roles', 201);
      await drawer.getByRole('button', { name: 'Save' }).click();
      const role = await created;
      assert.deepEqual(role.permissions, ['conversations:own', 'models:chat']);
      assert.deepEqual(role.models, ['qwen-plus']);
      assert.equal(role.mfa_required, true);
      await table.getByText(name, { exact: true }).waitFor();
      await shot(pg, `${size}-admin-roles`);

      // A brute force on a user's account: the hub records it and locks the password sign-in.
      const victim = await apiUser(stack.url);
      for (let i = 0; i < 3; i += 1) {
        const r = await call(stack.url, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: 'Wrong-Password-1' } });
        assert.equal(r.status, 401);
      }
      assert.equal((await call(stack.url, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: victim.password } })).status, 429);

      await pg.goto(`${stack.url}/admin?tab=security`);
      const events = pg.getByTestId('admin-security-events');
      const row = events.locator('tbody tr.ant-table-row', { hasText: victim.user.id });
      await row.waitFor();
      await row.getByText('Brute force on an account').waitFor();
      await shot(pg, `${size}-admin-security-events`);
      const unlocked = nextJson(pg, 'POST', '/unlock');
      const unlock = row.getByRole('button', { name: 'Unlock after Brute force on an account' });
      await unlock.scrollIntoViewIfNeeded();
      await unlock.click();
      await unlocked;
      await pg.getByText('Unlocked', { exact: true }).waitFor();
      await waitUntil(async () => (await row.getByRole('button', { name: /Unlock/ }).count()) === 0, () => 'the unlock button is gone');
      assert.equal((await call(stack.url, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: victim.password } })).status, 200);
      await shot(pg, `${size}-admin-security-unlocked`);
      assertNoConsoleErrors(pg);
    });
  }
});

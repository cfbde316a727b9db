// Limits in Chromium against the real hub + bailian-sim: an admin gives a user limits of their
// own in the admin console (all six, then one cleared back to the role's default, then an
// invalid value refused before any request), and the API shows each change; a user limits one
// of their platform keys in Settings → API keys. The dialogs at 1280 px in English and at
// 390 px in Chinese.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { createUser, SEED_PASSWORD } from '../support/seed.mjs';
import { tempDir } from '../support/hub.mjs';
import {
  apiLogin,
  assertNoConsoleErrors,
  call,
  DESKTOP,
  launchBrowser,
  openAccountMenuItem,
  openPage,
  PHONE,
  settledDialog,
  shot,
  startStack,
  waitUntil,
} from './support/e2e.mjs';

const EN = {
  locale: 'en-US', user: 'Username or email', password: 'Password', signIn: 'Sign in', menu: 'Open menu',
  account: /^Account menu for /, admin: 'Admin console', search: 'Search users', limitsOf: (n) => `Limits of ${n}`,
  save: 'Save', cancel: 'Cancel', roleDefaults: 'Role defaults',
  rpm: 'Requests per minute', tpm: 'Tokens per minute', dailyTokens: 'Tokens per day', monthlyTokens: 'Tokens per month',
  dailyCost: 'Cost per day (CNY)', monthlyCost: 'Cost per month (CNY)',
};
const ZH = {
  locale: 'zh-CN', user: '用户名或邮箱', password: '密码', signIn: /^登\s?录$/, menu: '打开菜单',
  account: / 的账户菜单$/, admin: '管理控制台', search: '搜索用户', limitsOf: (n) => `${n} 的限制`,
  save: /^保\s?存$/, cancel: /^取\s?消$/, roleDefaults: '角色默认',
  rpm: '每分钟请求数', tpm: '每分钟 Token 数', dailyTokens: '每日 Token 数', monthlyTokens: '每月 Token 数',
  dailyCost: '每日费用（元）', monthlyCost: '每月费用（元）',
};

async function signIn(page, url, username, L, password = SEED_PASSWORD) {
  await page.goto(`${url}/login`);
  await page.getByLabel(L.user).fill(username);
  await page.getByLabel(L.password, { exact: true }).fill(password);
  const login = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login');
  await page.getByRole('button', typeof L.signIn === 'string' ? { name: L.signIn, exact: true } : { name: L.signIn }).click();
  assert.equal((await login).status(), 200);
  await page.locator('header').first().waitFor();
}

/** Admin console → Users, filtered down to `username`; resolves that user's row. */
async function openUserRow(page, L, username) {
  await openAccountMenuItem(page, L.admin, { account: L.account, menu: L.menu, path: '/admin' });
  await page.getByRole('textbox', { name: L.search }).fill(username);
  const rows = page.getByTestId('admin-users').locator('tbody tr.ant-table-row');
  await waitUntil(async () => (await rows.count()) === 1 && (await rows.first().innerText()).includes(username), () => `only ${username} listed`);
  return rows.first();
}

/** The response to the next PATCH of `path`. */
function nextPatch(page, path) {
  return page.waitForResponse((r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === path);
}

/** Counts the PATCH requests the page sends to `path` from now on. */
function countPatches(page, path) {
  const seen = { n: 0 };
  page.on('request', (r) => {
    if (r.method() === 'PATCH' && new URL(r.url()).pathname === path) seen.n += 1;
  });
  return seen;
}

describe('limits: admin console and API keys', () => {
  let stack;
  let browser;
  let dataDir;
  const ids = {};

  before(async () => {
    dataDir = tempDir('e2e-limits-');
    ids.admin = await createUser(dataDir, 'e2e_ladmin', 'admin');
    ids.user = await createUser(dataDir, 'e2e_luser', 'user');
    ids.keyOwner = await createUser(dataDir, 'e2e_lkeys', 'user');
    stack = await startStack({ dataDir });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("admin sets a user's six limits, clears one back to the role default, and an invalid value changes nothing (desktop, en-US)", async () => {
    const admin = await apiLogin(stack.url, 'e2e_ladmin', SEED_PASSWORD);
    const user = await apiLogin(stack.url, 'e2e_luser', SEED_PASSWORD);
    const quotaOf = async () => {
      const r = await call(stack.url, 'GET', '/api/v1/admin/users?q=e2e_luser', { token: admin.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.items.find((u) => u.id === ids.user).quota;
    };
    const usage = async () => {
      const r = await call(stack.url, 'GET', '/api/v1/users/me/usage', { token: user.access_token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    const defaults = await usage();
    const path = `/api/v1/admin/users/${ids.user}`;

    const { context, page } = await openPage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, stack.url, 'e2e_ladmin', EN);
      const row = await openUserRow(page, EN, 'e2e_luser');
      await row.getByText(EN.roleDefaults).waitFor();
      const patches = countPatches(page, path);

      // All six, typed as people type them (thousands separators included).
      await row.getByRole('button', { name: EN.limitsOf('e2e_luser') }).click();
      let dialog = await settledDialog(page, EN.limitsOf('e2e_luser'));
      assert.equal(await dialog.getByLabel(EN.rpm).inputValue(), '');
      assert.equal(await dialog.getByLabel(EN.rpm).getAttribute('placeholder'), 'Role default');
      await shot(page, 'desktop-admin-limits-empty');
      await dialog.getByLabel(EN.rpm).fill('60');
      await dialog.getByLabel(EN.tpm).fill('100,000');
      await dialog.getByLabel(EN.dailyTokens).fill('1000000');
      await dialog.getByLabel(EN.monthlyTokens).fill('20000000');
      await dialog.getByLabel(EN.dailyCost).fill('12.5');
      await dialog.getByLabel(EN.monthlyCost).fill('300');
      await shot(page, 'desktop-admin-limits-filled');
      let saved = nextPatch(page, path);
      await dialog.getByRole('button', { name: EN.save }).click();
      assert.equal((await saved).status(), 200);
      await dialog.waitFor({ state: 'hidden' });
      const all = { rpm: 60, tpm: 100000, daily_tokens: 1000000, monthly_tokens: 20000000, daily_cost_cny: 12.5, monthly_cost_cny: 300 };
      assert.deepEqual(await quotaOf(), all);
      let u = await usage();
      assert.equal(u.rate.rpm, 60);
      assert.equal(u.rate.tpm, 100000);
      assert.equal(u.day.tokens.limit, 1000000);
      assert.equal(u.month.tokens.limit, 20000000);
      assert.equal(u.day.cost_cny.limit, 12.5);
      assert.equal(u.month.cost_cny.limit, 300);
      await row.getByText('60 rpm · 100K tpm · 1M tokens/day · 20M tokens/month · ¥12.5/day · ¥300/month').waitFor();
      await shot(page, 'desktop-admin-limits-row');

      // Requests per minute cleared: back to the role's default; the others stay.
      await row.getByRole('button', { name: EN.limitsOf('e2e_luser') }).click();
      dialog = await settledDialog(page, EN.limitsOf('e2e_luser'));
      assert.equal(await dialog.getByLabel(EN.rpm).inputValue(), '60');
      assert.equal(await dialog.getByLabel(EN.monthlyCost).inputValue(), '300');
      await dialog.getByLabel(EN.rpm).fill('');
      saved = nextPatch(page, path);
      await dialog.getByRole('button', { name: EN.save }).click();
      assert.equal((await saved).status(), 200);
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await quotaOf(), { ...all, rpm: null });
      u = await usage();
      assert.equal(u.rate.rpm, defaults.rate.rpm);
      assert.equal(u.rate.tpm, 100000);
      await row.getByText('100K tpm · 1M tokens/day · 20M tokens/month · ¥12.5/day · ¥300/month').waitFor();
      assert.equal(patches.n, 2);

      // Invalid values: said on their fields, nothing sent, nothing changed.
      await row.getByRole('button', { name: EN.limitsOf('e2e_luser') }).click();
      dialog = await settledDialog(page, EN.limitsOf('e2e_luser'));
      await dialog.getByLabel(EN.dailyTokens).fill('1.5');
      await dialog.getByLabel(EN.dailyCost).fill('0');
      await dialog.getByLabel(EN.monthlyCost).fill('10.555');
      await dialog.getByRole('button', { name: EN.save }).click();
      await dialog.getByText('Enter a whole number, e.g. 600.').waitFor();
      await dialog.getByText('Must be more than 0.').waitFor();
      await dialog.getByText('At most 2 decimals.').waitFor();
      await dialog.getByLabel(EN.tpm).fill('1000000001');
      await dialog.getByText('Must be at most 1,000,000,000.').waitFor();
      await shot(page, 'desktop-admin-limits-invalid');
      assert.equal(patches.n, 2, 'no request for invalid values');
      await dialog.getByRole('button', { name: EN.cancel }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await quotaOf(), { ...all, rpm: null });
      await row.getByText('100K tpm · 1M tokens/day · 20M tokens/month · ¥12.5/day · ¥300/month').waitFor();

      // Reopened, the dialog shows what is stored, not what was typed and cancelled.
      await row.getByRole('button', { name: EN.limitsOf('e2e_luser') }).click();
      dialog = await settledDialog(page, EN.limitsOf('e2e_luser'));
      assert.equal(await dialog.getByLabel(EN.dailyTokens).inputValue(), '1000000');
      assert.equal(await dialog.getByLabel(EN.rpm).inputValue(), '');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
  });

  test('the limits dialog on a 390 px phone in Chinese', async () => {
    const { context, page } = await openPage(browser, { viewport: PHONE, locale: 'zh-CN', colorScheme: 'dark' });
    try {
      await signIn(page, stack.url, 'e2e_ladmin', ZH);
      const row = await openUserRow(page, ZH, 'e2e_lkeys');
      await row.getByText(ZH.roleDefaults).waitFor();
      // The table scrolls sideways inside the page; its limits column can be reached.
      await row.getByRole('button', { name: ZH.limitsOf('e2e_lkeys') }).scrollIntoViewIfNeeded();
      await shot(page, 'phone-zh-CN-admin-limits-row');
      await row.getByRole('button', { name: ZH.limitsOf('e2e_lkeys') }).click();
      const dialog = await settledDialog(page, ZH.limitsOf('e2e_lkeys'));
      await dialog.getByLabel(ZH.monthlyCost).fill('abc');
      await dialog.getByRole('button', { name: ZH.save }).click();
      await dialog.getByText('请输入金额，例如 50 或 12.50。').waitFor();
      // Every field is on screen width: one column, nothing cut off.
      for (const label of [ZH.rpm, ZH.tpm, ZH.dailyTokens, ZH.monthlyTokens, ZH.dailyCost, ZH.monthlyCost]) {
        const box = await dialog.getByLabel(label).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${label} fits: ${JSON.stringify(box)}`);
      }
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
      await shot(page, 'phone-zh-CN-admin-limits-dialog');
      await dialog.getByRole('button', { name: ZH.cancel }).click();
      await dialog.waitFor({ state: 'hidden' });
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
  });

  test("a user sets and clears a key's own rate limits in Settings → API keys (desktop, en-US)", async () => {
    const owner = await apiLogin(stack.url, 'e2e_lkeys', SEED_PASSWORD);
    const created = await call(stack.url, 'POST', '/api/v1/api-keys', { token: owner.access_token, body: { name: 'ci-runner' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const keyId = created.body.id;
    const limitsOf = async () => {
      const r = await call(stack.url, 'GET', '/api/v1/api-keys', { token: owner.access_token });
      assert.equal(r.status, 200);
      return r.body.items.find((k) => k.id === keyId).limits;
    };
    const path = `/api/v1/api-keys/${keyId}`;

    const { context, page } = await openPage(browser, { viewport: DESKTOP });
    try {
      await signIn(page, stack.url, 'e2e_lkeys', EN);
      await page.goto(`${stack.url}/settings?tab=apiKeys`);
      const row = page.getByTestId('api-keys-table').locator('tr', { hasText: 'ci-runner' });
      await row.getByText('None of its own').waitFor();
      const patches = countPatches(page, path);

      await row.getByRole('button', { name: 'Limits of ci-runner' }).click();
      let dialog = await settledDialog(page, 'Limits of ci-runner');
      assert.equal(await dialog.getByLabel(EN.rpm).getAttribute('placeholder'), 'No limit of its own');
      await dialog.getByLabel(EN.tpm).fill('12abc');
      await dialog.getByRole('button', { name: EN.save }).click();
      await dialog.getByText('Enter a whole number, e.g. 600.').waitFor();
      assert.equal(patches.n, 0, 'no request for an invalid value');
      await dialog.getByLabel(EN.tpm).fill('');
      await dialog.getByLabel(EN.rpm).fill('30');
      await shot(page, 'desktop-api-key-limits');
      let saved = nextPatch(page, path);
      await dialog.getByRole('button', { name: EN.save }).click();
      assert.equal((await saved).status(), 200);
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await limitsOf(), { rpm: 30, tpm: null });
      await row.getByText('30 rpm', { exact: true }).waitFor();

      await row.getByRole('button', { name: 'Limits of ci-runner' }).click();
      dialog = await settledDialog(page, 'Limits of ci-runner');
      assert.equal(await dialog.getByLabel(EN.rpm).inputValue(), '30');
      await dialog.getByLabel(EN.tpm).fill('50000');
      saved = nextPatch(page, path);
      await dialog.getByRole('button', { name: EN.save }).click();
      assert.equal((await saved).status(), 200);
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await limitsOf(), { rpm: 30, tpm: 50000 });
      await row.getByText('30 rpm · 50K tpm').waitFor();
      await shot(page, 'desktop-api-key-limits-row');

      // "Clear all": none of its own again.
      await row.getByRole('button', { name: 'Limits of ci-runner' }).click();
      dialog = await settledDialog(page, 'Limits of ci-runner');
      await dialog.getByRole('button', { name: 'Clear all' }).click();
      saved = nextPatch(page, path);
      await dialog.getByRole('button', { name: EN.save }).click();
      assert.equal((await saved).status(), 200);
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await limitsOf(), { rpm: null, tpm: null });
      await row.getByText('None of its own').waitFor();
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
  });
});

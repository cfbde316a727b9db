// The history page, the API keys page and the admin console in Chromium against the real hub
// + bailian-sim, on seeded data: statistics and charts, filters, the table (cards on a phone),
// the CSV download, a platform key used through the openai SDK and seen in the history, and
// the admin console (disable a user, add and rotate an upstream key, the audit log) — at
// desktop and 390 px widths, in English and Chinese.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import { createUser, SEED_PASSWORD, seedCalls } from '../support/seed.mjs';
import { tempDir } from '../support/hub.mjs';
import {
  apiLogin,
  apiUser,
  assertNoConsoleErrors,
  call,
  chooseOption,
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

const SEEDED = 3000; // one call every 10 minutes: about 21 days
const EN = {
  locale: 'en-US', user: 'Username or email', password: 'Password', signIn: 'Sign in', menu: 'Open menu',
  account: /^Account menu for /, history: 'History', admin: 'Admin console', status: 'Status', failed: 'Failed',
  kind: 'Kind', title: 'Title', allKinds: 'All kinds', noCalls: 'No calls in this range', exportCsv: 'Export CSV',
  heading: 'History and statistics', loadMore: 'Load more',
};
const ZH = {
  locale: 'zh-CN', user: '用户名或邮箱', password: '密码', signIn: /^登\s?录$/, menu: '打开菜单',
  account: / 的账户菜单$/, history: '历史记录', admin: '管理控制台', status: '状态', failed: '失败',
  kind: '类型', title: '标题', allKinds: '全部类型', noCalls: '此时间范围内没有调用', exportCsv: 'CSV',
  heading: '历史记录与统计', loadMore: '加载更多',
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

/** The account menu in the sidebar (a drawer on phones) → `item`. */
async function navigate(page, L, item) {
  const path = item === L.admin ? '/admin' : item === L.history ? '/history' : undefined;
  await openAccountMenuItem(page, item, { account: L.account, menu: L.menu, path });
}

const rows = (page) => page.getByTestId('history-row');
const totalCalls = async (page) =>
  Number((await page.getByTestId('history-totals').locator('.ant-statistic-content').first().innerText()).replace(/\D/g, ''));

describe('history, API keys and admin console', () => {
  let stack;
  let browser;
  let dataDir;
  const ids = {};

  before(async () => {
    dataDir = tempDir('e2e-history-');
    ids.admin = await createUser(dataDir, 'e2e_hadmin', 'admin');
    ids.user = await createUser(dataDir, 'e2e_huser', 'user');
    ids.victim = await createUser(dataDir, 'e2e_hvictim', 'user');
    await seedCalls(dataDir, ids.user, { count: SEEDED, spacingMs: 600_000, idPrefix: 'e2e' });
    stack = await startStack({ dataDir });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const [viewport, L, scheme] of [[DESKTOP, EN, 'light'], [PHONE, ZH, 'dark']]) {
    const name = `${viewport === DESKTOP ? 'desktop' : 'phone'}-${L.locale}`;
    test(`history page: statistics, charts, filters, rows and the CSV (${name}, ${scheme})`, async () => {
      const { context, page } = await openPage(browser, { viewport, locale: L.locale, colorScheme: scheme });
      try {
        await signIn(page, stack.url, 'e2e_huser', L);
        await navigate(page, L, L.history);
        await page.getByRole('heading', { level: 1, name: L.heading }).waitFor();
        await waitUntil(async () => (await totalCalls(page)) === SEEDED, async () => `totals show ${SEEDED} calls`);
        // The charts (a lazily loaded chunk) draw the seeded days and models.
        await page.getByTestId('chart-calls').locator('.recharts-bar-rectangle').first().waitFor();
        await page.getByTestId('chart-share').locator('.recharts-pie-sector').first().waitFor();
        await page.getByTestId('chart-latency').locator('.recharts-line').first().waitFor();
        await page.getByTestId(page.compact ? 'history-cards' : 'history-table').waitFor();
        await waitUntil(async () => (await rows(page).count()) === 50, async () => `50 rows, got ${await rows(page).count()}`);
        await shot(page, `${name}-history`);

        const more = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/history/calls' && r.url().includes('cursor='));
        await page.getByRole('button', { name: L.loadMore }).click();
        assert.equal((await more).status(), 200);
        await waitUntil(async () => (await rows(page).count()) === 100, async () => `100 rows, got ${await rows(page).count()}`);

        // Failed calls only: every 10th seeded call.
        await chooseOption(page, L.status, L.failed);
        await waitUntil(async () => (await totalCalls(page)) === SEEDED / 10, async () => `totals show ${SEEDED / 10} calls`);
        await waitUntil(async () => (await rows(page).count()) === 50, () => 'failed rows listed');
        assert.equal(await rows(page).filter({ hasText: 'upstream_error' }).count(), 50);
        // No failed title calls: the empty state.
        await chooseOption(page, L.kind, L.title);
        await page.getByText(L.noCalls).first().waitFor();
        await shot(page, `${name}-history-empty`);
        await chooseOption(page, L.kind, L.allKinds);
        await waitUntil(async () => (await rows(page).count()) === 50, () => 'failed rows listed again');

        // The CSV holds exactly the filtered rows.
        const download = page.waitForEvent('download');
        await page.getByRole('button', { name: L.exportCsv }).click();
        const file = await (await download).path();
        const lines = readFileSync(file, 'utf8').trim().split('\r\n');
        assert.match(lines[0], /^time,kind,endpoint,model,status_code,/);
        assert.equal(lines.length, SEEDED / 10 + 1);
        assert.ok(lines.slice(1).every((l) => l.includes(',502,upstream_error,')));
        assertNoConsoleErrors(page, stack.missingApiErrors);
      } finally {
        await context.close();
      }
    });
  }

  test('API key: create, use it with the openai SDK, see the call in the history, revoke (desktop, en-US)', async () => {
    const { context, page } = await openPage(browser, { viewport: DESKTOP });
    try {
      const u = await apiUser(stack.url);
      await signIn(page, stack.url, u.username, EN, u.password);
      await page.goto(`${stack.url}/settings?tab=apiKeys`);
      await page.getByText('No API keys yet').waitFor();
      await page.getByRole('button', { name: 'Create API key' }).click();
      const form = await settledDialog(page, 'Create API key');
      await form.getByLabel('Name').fill('sdk-laptop');
      await form.getByLabel('Expires after (days)').fill('30');
      const created = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/api-keys');
      await form.getByRole('button', { name: 'Create', exact: true }).click();
      assert.equal((await created).status(), 201);
      const shown = await settledDialog(page, 'Your new API key');
      const key = (await shown.getByTestId('new-api-key').innerText()).trim();
      assert.match(key, /^bh-/);
      await shown.getByText(`${stack.url}/v1/chat/completions`, { exact: false }).first().waitFor();
      await shown.getByRole('tab', { name: 'Node.js' }).click();
      await shown.getByText(`baseURL: '${stack.url}/v1'`, { exact: false }).first().waitFor();
      await shot(page, 'desktop-api-key-created');
      await shown.getByRole('button', { name: 'Done' }).click();
      await shown.waitFor({ state: 'hidden' });
      const table = page.getByTestId('api-keys-table');
      await table.getByText('sdk-laptop').waitFor();
      assert.ok(!(await page.content()).includes(key), 'the key is shown only once');

      const client = new OpenAI({ apiKey: key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const reply = await client.chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'echo hello from the sdk' }] });
      assert.ok(reply.choices[0].message.content.length > 0);

      await page.goto(`${stack.url}/history`);
      const row = page.getByTestId('history-row').filter({ hasText: 'Compatible API' });
      await row.first().waitFor();
      await row.first().getByText('sdk-laptop').waitFor();
      await shot(page, 'desktop-history-sdk-call');

      await page.goto(`${stack.url}/settings?tab=apiKeys`);
      await page.getByRole('button', { name: 'Revoke sdk-laptop' }).click();
      const confirm = await settledDialog(page, 'Revoke this key?');
      const revoked = page.waitForResponse((r) => r.request().method() === 'DELETE');
      await confirm.getByRole('button', { name: 'Revoke' }).click();
      assert.equal((await revoked).status(), 204);
      await page.getByText('No API keys yet').waitFor();
      await assert.rejects(
        client.chat.completions.create({ model: 'qwen-plus', messages: [{ role: 'user', content: 'echo again' }] }),
        (e) => e.status === 401,
      );
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
  });

  test('admin console: disable a user (their next request is refused), add and rotate an upstream key, the audit log (desktop, en-US)', async () => {
    const { context, page } = await openPage(browser, { viewport: DESKTOP });
    try {
      const victim = await apiLogin(stack.url, 'e2e_hvictim', SEED_PASSWORD);
      assert.equal((await call(stack.url, 'GET', '/api/v1/users/me', { token: victim.access_token })).status, 200);
      await signIn(page, stack.url, 'e2e_hadmin', EN);
      await navigate(page, EN, EN.admin);
      await page.getByRole('heading', { level: 1, name: 'Admin console' }).waitFor();

      await page.getByRole('textbox', { name: 'Search users' }).fill('e2e_hvictim');
      const users = page.getByTestId('admin-users');
      await waitUntil(async () => (await users.locator('tbody tr.ant-table-row').count()) === 1, () => 'one user found');
      const disabled = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/v1/admin/users/${ids.victim}`));
      await page.getByRole('switch', { name: 'Enable e2e_hvictim' }).click();
      assert.equal((await disabled).status(), 200);
      await waitUntil(async () => (await page.getByRole('switch', { name: 'Enable e2e_hvictim' }).getAttribute('aria-checked')) === 'false', () => 'switch off');
      const refused = await call(stack.url, 'GET', '/api/v1/users/me', { token: victim.access_token });
      assert.ok([401, 403].includes(refused.status), `the disabled user's next request is refused (${refused.status})`);
      await shot(page, 'desktop-admin-users');

      await page.getByRole('tab', { name: 'Upstream keys' }).click();
      const keys = page.getByTestId('admin-keys');
      await keys.waitFor();
      await page.getByRole('button', { name: 'Add upstream key' }).click();
      const add = await settledDialog(page, 'Add upstream key');
      await add.getByLabel('Name').fill('backup');
      await add.getByLabel('DashScope API key').fill('sk-e2e-backup-key-0002');
      const added = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/admin/upstream-keys');
      await add.getByRole('button', { name: 'Add', exact: true }).click();
      assert.equal((await added).status(), 201);
      await keys.locator('tr', { hasText: 'backup' }).getByText('…0002').waitFor();
      await page.getByRole('button', { name: 'Rotate backup' }).click();
      const rotate = await settledDialog(page, 'Rotate backup');
      await rotate.getByLabel('New DashScope API key').fill('sk-e2e-backup-key-0003');
      const rotated = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/rotate'));
      await rotate.getByRole('button', { name: 'Rotate', exact: true }).click();
      assert.equal((await rotated).status(), 200);
      await keys.locator('tr', { hasText: 'backup' }).getByText('…0003').waitFor();
      assert.ok(!(await page.content()).includes('sk-e2e-backup-key'), 'secrets never come back');
      await shot(page, 'desktop-admin-keys');

      await page.getByRole('tab', { name: 'Audit log' }).click();
      const audit = page.getByTestId('admin-audit');
      await audit.getByText('admin.user_updated').first().waitFor();
      await audit.locator('tr', { hasText: 'admin.user_updated' }).first().getByRole('button', { name: 'Details' }).click();
      const drawer = await settledDialog(page, 'admin.user_updated');
      await drawer.getByText(`user:${ids.victim}`).waitFor();
      await shot(page, 'desktop-admin-audit');
      await page.keyboard.press('Escape');
      await drawer.waitFor({ state: 'hidden' });

      await page.getByRole('tab', { name: 'Usage statistics' }).click();
      await waitUntil(async () => (await totalCalls(page)) >= SEEDED, () => 'platform totals');
      await page.getByText('Top users by cost').waitFor();
      await page.getByText(ids.user).first().waitFor();
      await page.getByTestId('chart-calls').locator('.recharts-bar-rectangle').first().waitFor();
      await shot(page, 'desktop-admin-stats');
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
  });

  test('admin console on a 390 px phone in Chinese; a plain user has no admin entry', async () => {
    const { context, page } = await openPage(browser, { viewport: PHONE, locale: 'zh-CN', colorScheme: 'dark' });
    try {
      await signIn(page, stack.url, 'e2e_hadmin', ZH);
      await navigate(page, ZH, ZH.admin);
      await page.getByRole('heading', { level: 1, name: '管理控制台' }).waitFor();
      await page.getByTestId('admin-users').waitFor();
      await shot(page, 'phone-zh-CN-admin-users');
      await page.getByRole('tab', { name: '上游密钥' }).click();
      await page.getByTestId('admin-keys').waitFor();
      await shot(page, 'phone-zh-CN-admin-keys');
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
    const plain = await openPage(browser, { viewport: DESKTOP });
    try {
      await signIn(plain.page, stack.url, 'e2e_huser', EN);
      await plain.page.getByRole('button', { name: EN.account }).click();
      await plain.page.getByRole('menuitem', { name: 'History' }).waitFor();
      assert.equal(await plain.page.getByRole('menuitem', { name: 'Admin console' }).count(), 0);
      // The page itself says no; the server refuses the API calls either way.
      await plain.page.goto(`${stack.url}/admin`);
      await plain.page.getByText('You do not have access to the admin console.').waitFor();
    } finally {
      await plain.context.close();
    }
  });
});

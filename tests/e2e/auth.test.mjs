// Sign-in, registration, the silent refresh after a reload, settings, language and theme,
// at desktop (1280×800) and phone (390×844) sizes, in a real Chromium against the real hub.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  apiLogin,
  apiUser,
  assertNoConsoleErrors,
  call,
  DESKTOP,
  launchBrowser,
  nextJson,
  openAccountMenuItem,
  openPage,
  openSidebar,
  PHONE,
  refreshCookie,
  registerViaUi,
  shot,
  signInViaUi,
  signOutViaUi,
  startStack,
  pickOption,
  STRONG_PASSWORD,
  waitUntil,
} from './support/e2e.mjs';

const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe('accounts in the browser', { timeout: 120_000 }, () => {
  let stack;
  let browser;
  const contexts = [];

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.stop();
  });

  async function page(opts) {
    const p = await openPage(browser, opts);
    contexts.push(p.context);
    return p;
  }

  test('register, token only in memory, silent refresh after reload, sign out, sign in', async () => {
    const { context, page: pg } = await page({ viewport: DESKTOP });

    // A visitor lands on sign-in; not in demo mode here, so no demo banner.
    await pg.goto(`${stack.url}/`);
    await pg.waitForURL((u) => u.pathname === '/login');
    await pg.getByRole('heading', { name: 'Sign in to Bailian Hub' }).waitFor();
    assert.equal(await pg.getByText(/^Demo mode/).count(), 0);
    await shot(pg, 'desktop-login');

    await pg.getByRole('link', { name: 'Create an account' }).click();
    await pg.getByRole('heading', { name: 'Create your account' }).waitFor();
    // Client-side validation mirrors the server's rules.
    await pg.getByLabel('Username', { exact: true }).fill('ab!');
    await pg.getByLabel('Email').click();
    await pg.getByText('Use only letters, digits, underscore (_), dot (.) and hyphen (-)').waitFor();
    // The form is taller than the window: scrolled to the top, its heading is fully in view.
    await pg.locator('main').evaluate((m) => m.scrollTo(0, 0));
    const top = await pg.getByRole('heading', { name: 'Create your account' }).boundingBox();
    assert.ok(top && top.y >= 0, `register heading reachable (y=${top?.y})`);
    await shot(pg, 'desktop-register');

    const { username, tokens } = await registerViaUi(pg, stack.url, { displayName: 'Ada Lovelace' });
    assert.equal(pg.url(), `${stack.url}/`);
    const nav = await openSidebar(pg);
    await nav.getByRole('button', { name: 'Account menu for Ada Lovelace' }).waitFor();

    // The access token lives only in memory; the refresh token only in an HttpOnly cookie.
    const stored = await pg.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    assert.ok(!stored.includes(tokens.access_token), 'access token must not be in web storage');
    assert.ok(!stored.includes(tokens.refresh_token), 'refresh token must not be readable by scripts');
    const cookie = await refreshCookie(context);
    assert.ok(cookie, 'refresh cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/api/v1/auth');

    // Reload: memory is gone, the cookie brings the session back without a sign-in form.
    const refreshed = nextJson(pg, 'POST', '/api/v1/auth/refresh');
    const meAfter = pg.waitForRequest((r) => new URL(r.url()).pathname.startsWith('/api/v1/') &&
      !new URL(r.url()).pathname.startsWith('/api/v1/auth/') && !!r.headers().authorization);
    await pg.reload();
    const renewed = await refreshed;
    assert.notEqual(renewed.access_token, tokens.access_token, 'a new access token');
    assert.equal(renewed.user.username, username);
    assert.equal((await meAfter).headers().authorization, `Bearer ${renewed.access_token}`);
    await (await openSidebar(pg)).getByRole('button', { name: 'Account menu for Ada Lovelace' }).waitFor();
    assert.equal(new URL(pg.url()).pathname, '/');
    await shot(pg, 'desktop-home');

    // Sign out: the cookie is cleared and a reload stays on sign-in.
    await signOutViaUi(pg);
    const gone = await refreshCookie(context);
    assert.ok(!gone || gone.value === '', 'refresh cookie cleared');
    await pg.reload();
    await pg.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(new URL(pg.url()).pathname, '/login');

    // Wrong password: a clear error, still on sign-in.
    await pg.getByLabel('Username or email').fill(username);
    await pg.getByLabel('Password', { exact: true }).fill('Not-The-Password-1');
    await pg.getByRole('button', { name: 'Sign in', exact: true }).click();
    await pg.getByRole('alert').getByText('Wrong username, email or password.').waitFor();
    await shot(pg, 'desktop-login-error');

    await signInViaUi(pg, stack.url, username, STRONG_PASSWORD, { goto: false });
    assert.equal(new URL(pg.url()).pathname, '/');
    // The one refused request is the wrong password this test typed on purpose.
    assertNoConsoleErrors(pg, [...stack.missingApiErrors, /status of 401 .*\/api\/v1\/auth\/login/]);
  });

  test('the app shell: the service worker caches it, and it opens offline; API answers are never cached', async () => {
    const { context, page: pg } = await page({ viewport: DESKTOP, serviceWorkers: 'allow' });
    await pg.goto(`${stack.url}/login`);
    await pg.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    // Installed (the shell precached) and in control of the page (it claims its clients).
    await pg.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
      }
    });
    const api = () => pg.evaluate(() => fetch('/api/v1/models').then((r) => String(r.status), () => 'failed'));
    assert.equal(await api(), '401', 'online, the API answers');
    await context.setOffline(true);
    try {
      await pg.reload();
      await pg.getByRole('heading', { name: 'Sign in to Bailian Hub' }).waitFor();
      await pg.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      assert.equal(await api(), 'failed', 'offline, no API answer comes from the cache');
    } finally {
      await context.setOffline(false);
    }
  });

  test('a deep link survives sign-in: back to the page asked for', async () => {
    const u = await apiUser(stack.url);
    const { page: pg } = await page({ viewport: DESKTOP });
    await pg.goto(`${stack.url}/settings?tab=preferences`);
    await pg.waitForURL((x) => x.pathname === '/login');
    await signInViaUi(pg, stack.url, u.username, u.password, { goto: false });
    await pg.waitForURL((x) => x.pathname === '/settings');
    await pg.getByRole('tab', { name: 'Preferences', selected: true }).waitFor();
    assertNoConsoleErrors(pg, stack.missingApiErrors);
  });

  test('settings: profile, sessions with revoke, password change, language, theme', async () => {
    const u = await apiUser(stack.url);
    const { page: pg } = await page({ viewport: DESKTOP });
    await signInViaUi(pg, stack.url, u.username);
    // Another device signed in before the settings page opens.
    const phoneSession = await apiLogin(stack.url, u.username, u.password, IPHONE_UA);

    await openAccountMenuItem(pg, 'Settings');
    await pg.waitForURL((x) => x.pathname === '/settings');
    await pg.getByRole('heading', { name: 'Settings' }).waitFor();

    // Profile: the display name is saved and shows in the sidebar.
    const profile = pg.getByRole('tabpanel', { name: 'Profile' });
    await profile.getByText(u.username, { exact: true }).waitFor();
    await profile.getByText(`${u.username}@example.com`).waitFor();
    await pg.getByLabel('Display name').fill('Grace Hopper');
    const patched = nextJson(pg, 'PATCH', '/api/v1/users/me');
    await pg.getByRole('button', { name: 'Save' }).click();
    assert.equal((await patched).display_name, 'Grace Hopper');
    await pg.getByText('Saved', { exact: true }).waitFor();
    await pg.getByRole('button', { name: 'Account menu for Grace Hopper' }).waitFor();
    // Usage: the budgets of today and this month, below the profile.
    const usage = profile.getByRole('region', { name: 'Usage' });
    await usage.getByRole('heading', { name: 'Today' }).waitFor();
    await usage.getByRole('heading', { name: 'This month' }).waitFor();
    await usage.getByText('Requests per minute').waitFor();
    await shot(pg, 'desktop-settings-profile');

    // Sessions: this browser and the phone; revoke the phone.
    await pg.getByRole('tab', { name: 'Sessions' }).click();
    const sessions = pg.locator('li').filter({ has: pg.getByRole('button', { name: /^Revoke session on / }) });
    await assertCount(sessions, 2);
    await pg.getByText('This device').waitFor();
    await pg.getByText('Safari · iOS').waitFor();
    await shot(pg, 'desktop-settings-sessions');
    await pg.getByRole('button', { name: 'Revoke session on Safari · iOS' }).click();
    const revoked = pg.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes('/api/v1/auth/sessions/'));
    await pg.getByRole('tooltip').getByRole('button', { name: 'Revoke' }).click();
    assert.equal((await revoked).status(), 204);
    await pg.getByText('Session revoked').waitFor();
    await assertCount(sessions, 1);
    const dead = await call(stack.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: phoneSession.refresh_token } });
    assert.equal(dead.status, 401, 'the revoked session cannot refresh');

    // Password: a wrong current password is flagged on its field; the right one signs out others.
    const other = await apiLogin(stack.url, u.username, u.password);
    await pg.getByRole('tab', { name: 'Password' }).click();
    await pg.getByLabel('Current password').fill('Wrong-Password-99');
    await pg.getByLabel('New password').fill('Brand-New-Secret-42');
    await pg.getByLabel('Confirm password').fill('Brand-New-Secret-42');
    await pg.getByRole('button', { name: 'Change password' }).click();
    await pg.getByText('The current password is not correct').waitFor();
    await pg.getByLabel('Current password').fill(u.password);
    const changed = pg.waitForResponse((r) => r.url().endsWith('/api/v1/users/me/password'));
    await pg.getByRole('button', { name: 'Change password' }).click();
    assert.equal((await changed).status(), 204);
    await pg.getByText('Password changed. Other sessions have been signed out.').waitFor();
    await shot(pg, 'desktop-settings-password');
    const otherAfter = await call(stack.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: other.refresh_token } });
    assert.equal(otherAfter.status, 401, 'other sessions end on a password change');
    // This browser stays signed in and still works.
    await pg.getByRole('tab', { name: 'Sessions' }).click();
    await assertCount(sessions, 1);

    // Preferences: language and theme apply at once, stay after a reload and are saved to the account.
    await pg.getByRole('tab', { name: 'Preferences' }).click();
    await pg.getByLabel('Language').click();
    const savedLang = nextJson(pg, 'PATCH', '/api/v1/users/me');
    await pickOption(pg, '简体中文');
    await pg.getByRole('heading', { name: '设置' }).waitFor();
    assert.equal(await pg.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.equal((await savedLang).settings.language, 'zh-CN');
    await shot(pg, 'desktop-settings-zh');

    const savedTheme = nextJson(pg, 'PATCH', '/api/v1/users/me');
    await pg.getByText('深色', { exact: true }).click();
    await waitForTheme(pg, 'dark');
    assert.equal((await savedTheme).settings.theme, 'dark');
    await shot(pg, 'desktop-settings-dark');

    await pg.reload();
    await pg.getByRole('heading', { name: '设置' }).waitFor();
    await waitForTheme(pg, 'dark');
    const me = await call(stack.url, 'GET', '/api/v1/users/me', {
      token: (await apiLogin(stack.url, u.username, 'Brand-New-Secret-42')).access_token,
    });
    assert.deepEqual({ language: me.body.settings.language, theme: me.body.settings.theme }, { language: 'zh-CN', theme: 'dark' });

    // Back to English and light.
    await pg.getByRole('tab', { name: '偏好' }).click();
    await pg.getByLabel('语言').click();
    await pickOption(pg, 'English');
    await pg.getByRole('heading', { name: 'Settings' }).waitFor();
    await pg.getByText('Light', { exact: true }).click();
    await waitForTheme(pg, 'light');

    // The new password is the one that works now.
    await signOutViaUi(pg);
    await signInViaUi(pg, stack.url, u.username, 'Brand-New-Secret-42', { goto: false });
    // The one refused request is the wrong current password typed on purpose.
    assertNoConsoleErrors(pg, [...stack.missingApiErrors, /status of 403 .*\/api\/v1\/users\/me\/password/]);
  });

  test('a session revoked elsewhere: back to sign-in with the draft kept, then to the same page', async () => {
    const u = await apiUser(stack.url);
    const { page: pg } = await page({ viewport: DESKTOP });
    await signInViaUi(pg, stack.url, u.username);
    const box = pg.getByRole('textbox', { name: 'Message' });
    await box.fill('half-written thought about tides');
    // Another device signs this browser out.
    const admin = await apiLogin(stack.url, u.username);
    const list = await call(stack.url, 'GET', '/api/v1/auth/sessions', { token: admin.access_token });
    const browserSession = list.body.items.find((x) => !x.current);
    assert.ok(browserSession, 'the browser session is listed');
    const del = await call(stack.url, 'DELETE', `/api/v1/auth/sessions/${browserSession.id}`, { token: admin.access_token });
    assert.equal(del.status, 204);
    // The next request gets 401, the silent refresh is refused: sign-in, saying why.
    await (await openSidebar(pg)).getByRole('textbox', { name: 'Search conversations' }).fill('tides');
    await pg.waitForURL((x) => x.pathname === '/login');
    await pg.getByText('Your session has ended').waitFor();
    await pg.getByText('Anything you were typing has been kept.').waitFor();
    await shot(pg, 'desktop-session-ended');
    await signInViaUi(pg, stack.url, u.username, u.password, { goto: false });
    assert.equal(new URL(pg.url()).pathname, '/');
    assert.equal(await pg.getByRole('textbox', { name: 'Message' }).inputValue(), 'half-written thought about tides');
    // The refused requests are the point of this test.
    assertNoConsoleErrors(pg, [/status of 401 .*\/api\/v1\/(conversations|auth\/refresh)/]);
  });

  test('language switch on the sign-in page, remembered across a reload', async () => {
    const { page: pg } = await page({ viewport: DESKTOP });
    await pg.goto(`${stack.url}/login`);
    await pg.getByRole('heading', { name: 'Sign in to Bailian Hub' }).waitFor();
    await pg.getByRole('button', { name: 'Language' }).click();
    await pg.getByRole('menuitem', { name: '简体中文' }).click();
    const zhTitle = pg.getByRole('heading', { level: 1 });
    await pg.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    const title = await zhTitle.textContent();
    assert.match(title, /[\u4e00-\u9fff]/, `Chinese title, got ${title}`);
    await shot(pg, 'desktop-login-zh');
    await pg.reload();
    await pg.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.equal(await pg.getByRole('heading', { level: 1 }).textContent(), title);
    // Theme from the same corner.
    await pg.getByRole('button', { name: '主题' }).click();
    await pg.getByRole('menuitem', { name: '深色' }).click();
    await waitForTheme(pg, 'dark');
    await shot(pg, 'desktop-login-zh-dark');
    assertNoConsoleErrors(pg, stack.missingApiErrors);
  });

  test('phone 390×844: register, drawer navigation, settings pages, sign out', async () => {
    const { page: pg } = await page({ viewport: PHONE });
    await pg.goto(`${stack.url}/login`);
    await pg.getByRole('heading', { name: 'Sign in to Bailian Hub' }).waitFor();
    await assertFitsWidth(pg);
    await shot(pg, 'phone-login');

    const { username } = await registerViaUi(pg, stack.url, { displayName: 'Phone User' });
    // The sidebar is a drawer on phones: hidden until the menu button opens it.
    assert.equal(await pg.getByRole('navigation', { name: 'Conversations' }).isVisible(), false);
    await assertFitsWidth(pg);
    await shot(pg, 'phone-home');
    await openSidebar(pg);
    await shot(pg, 'phone-drawer');

    await openAccountMenuItem(pg, 'Settings');
    await pg.waitForURL((x) => x.pathname === '/settings');
    await pg.getByRole('navigation', { name: 'Conversations' }).waitFor({ state: 'hidden' });
    await pg.getByRole('tabpanel', { name: 'Profile' }).getByText(username, { exact: true }).waitFor();
    await assertFitsWidth(pg);
    await shot(pg, 'phone-settings-profile');
    for (const [tab, name] of [['Password', 'password'], ['Sessions', 'sessions'], ['Preferences', 'preferences']]) {
      await pg.getByRole('tab', { name: tab }).click();
      await pg.getByRole('tab', { name: tab, selected: true }).waitFor();
      if (tab === 'Sessions') await pg.getByText('This device').waitFor();
      await assertFitsWidth(pg);
      await shot(pg, `phone-settings-${name}`);
    }
    await signOutViaUi(pg);
    await shot(pg, 'phone-signed-out');
    assertNoConsoleErrors(pg, stack.missingApiErrors);
  });
});

async function assertCount(locator, n) {
  await waitUntil(async () => (await locator.count()) === n, async () => `expected ${n}, found ${await locator.count()}`);
}

async function waitForTheme(pg, theme) {
  await pg.waitForFunction((t) => document.documentElement.dataset.theme === t, theme, { timeout: 10_000 });
}

/** Nothing sticks out sideways: no horizontal scrolling at this width. */
async function assertFitsWidth(pg) {
  const { scroll, client } = await pg.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `page is ${scroll}px wide in a ${client}px viewport`);
}

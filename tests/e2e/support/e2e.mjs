// Browser end-to-end helpers: the real hub (+ bailian-sim) and Debian's Chromium driven by
// playwright-core. Every wait is on a condition with a bounded timeout, never a fixed sleep.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, SIM_BIN, startHub, tempDir } from '../../support/hub.mjs';
import { call, STRONG_PASSWORD, uniqueName } from '../../support/api.mjs';

export { call, STRONG_PASSWORD, uniqueName };

export const WEB_ROOT = path.join(ROOT, 'web', 'dist');
export const SHOTS = process.env.E2E_SCREENSHOT_DIR || path.join(ROOT, 'build', 'e2e');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** Default wait for one UI condition. */
export const WAIT = 15_000;

const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

/** Starts bailian-sim on an ephemeral port; resolves {url, stop()}. */
export async function startSim({ tokensPerSecond = 20, extraArgs = [] } = {}) {
  const dir = tempDir('e2e-sim-');
  const portFile = path.join(dir, 'port');
  const proc = spawn(
    SIM_BIN,
    ['--listen', '127.0.0.1:0', '--port-file', portFile, '--tokens-per-second', String(tokensPerSecond),
      '--log-level', 'warn', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs = [];
  for (const s of [proc.stdout, proc.stderr]) s.on('data', (c) => logs.push(String(c)));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 15_000;
  let port = null;
  while (!port) {
    if (proc.exitCode !== null) throw new Error(`bailian-sim exited: ${logs.join('')}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`bailian-sim did not start: ${logs.join('')}`);
    }
    if (existsSync(portFile)) port = Number(readFileSync(portFile, 'utf8').trim()) || null;
    if (!port) await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const HUB_ENV = {
  BAILIAN_HUB_WEB_ROOT: WEB_ROOT,
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '1000',
};

/** The stacks of this test file now running (pageState shows the end of their hubs' logs). */
const liveStacks = new Set();

/**
 * The hub serving web/dist. `demo: true` leaves DASHSCOPE_API_KEY unset (demo mode, the hub's
 * own simulator); otherwise a bailian-sim of ours, paced at `tokensPerSecond`, is the upstream.
 * `dataDir`: a data directory prepared beforehand (e.g. seeded users and calls).
 */
export async function startStack({ demo = false, tokensPerSecond = 20, env = {}, dataDir } = {}) {
  await ensureWebBuilt();
  let sim = null;
  const upstream = {};
  if (!demo) {
    sim = await startSim({ tokensPerSecond });
    upstream.DASHSCOPE_API_KEY = 'sk-e2e-test';
    upstream.DASHSCOPE_BASE_URL = sim.url;
  }
  let hub;
  try {
    hub = await startHub({ dataDir, env: { ...HUB_ENV, ...upstream, ...env } });
  } catch (e) {
    await sim?.stop();
    throw e;
  }
  // The port of the hub's own 'listening' line (a demo-mode hub's simulator child prints a
  // text line first, which hub.mjs may take for it).
  await waitUntil(() => hub.logs.some((l) => /"msg":"listening"/.test(l)), () => `hub listening:\n${hub.logs.join('\n')}`);
  const listening = JSON.parse(hub.logs.find((l) => /"msg":"listening"/.test(l)));
  const url = `http://127.0.0.1:${listening.port}`;
  // Routes other issues are still building answer 404 today. Pages that merely show them
  // (the sidebar's list, the model picker) may log that 404 in tests about something else;
  // the chat tests themselves fail on them. Once a route exists this list is empty.
  const missingApi = [];
  for (const route of ['/api/v1/models', '/api/v1/conversations']) {
    const r = await fetch(`${url}${route}`);
    await r.arrayBuffer();
    if (r.status === 404) missingApi.push(route);
  }
  if (missingApi.length) process.stderr.write(`e2e: not on this hub yet (404): ${missingApi.join(', ')}\n`);
  const stack = {
    url,
    hub,
    sim,
    missingApi,
    /** Console-error patterns for the 404s of `missingApi`. */
    missingApiErrors: missingApi.map((r) => new RegExp(`status of 404 .*${r.replaceAll('/', '\\/')}(\\?|\\)|/)`)),
    async stop() {
      liveStacks.delete(stack);
      await hub.stop().catch(() => undefined);
      await sim?.stop().catch(() => undefined);
    },
  };
  liveStacks.add(stack);
  return stack;
}

/** Builds web/dist when it is missing (a fresh clone before `make web`). */
async function ensureWebBuilt() {
  if (existsSync(path.join(WEB_ROOT, 'index.html'))) return;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('npm', ['run', 'build'], { cwd: path.join(ROOT, 'web'), stdio: 'inherit' });
  if (r.status !== 0) throw new Error('web build (npm run build in web/) failed');
}

/** Fails at once, saying why, when the hub under test has no chat API yet. */
export function requireChatApi(stack) {
  assert.deepEqual(stack.missingApi, [], `the hub under test has no chat API yet (404): ${stack.missingApi.join(', ')}`);
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * A fresh context (own cookies and storage) and page. Console errors, uncaught page errors and
 * failed API responses are collected in `page.problems`; `assertNoConsoleErrors` checks them.
 * The app-shell service worker is blocked unless `serviceWorkers: 'allow'`: installed, it
 * downloads the whole shell (80-odd files) over the page's six connections while a test
 * clicks, and takes the page over at a moment of its own; the test that is about it allows it.
 */
export async function openPage(
  browser,
  { viewport = DESKTOP, locale = 'en-US', colorScheme = 'light', serviceWorkers = 'block' } = {},
) {
  const phone = viewport.width < 600;
  const context = await browser.newContext({
    viewport,
    locale,
    colorScheme,
    serviceWorkers,
    isMobile: phone,
    hasTouch: phone,
    deviceScaleFactor: 1,
    userAgent: phone
      ? 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36'
      : undefined,
  });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console.error: ${m.text()} (${m.location()?.url ?? ''})`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.compact = phone;
  return { context, page };
}

export function assertNoConsoleErrors(page, allow = []) {
  const left = page.problems.filter((p) => !allow.some((re) => re.test(p)));
  assert.deepEqual(left, [], `console errors:\n${left.join('\n')}`);
}

/** Saves build/e2e/<name>.png (the directory is created on first use). */
export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  // Let fonts and transitions settle so the picture shows the finished state.
  await page.evaluate(() => document.fonts?.ready).catch(() => undefined);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), animations: 'disabled' });
}

/**
 * Resolves with the JSON body of the next response whose URL path ends with `suffix`. When none
 * with `status` comes, the error says what became of every such request meanwhile (never sent,
 * answered with another status and what it said, failed) and where the page is.
 */
export function nextJson(page, method, suffix, status = 200) {
  const matches = (r) => r.method() === method && new URL(r.url()).pathname.endsWith(suffix);
  const seen = new Map(); // request → what became of it
  const sent = (r) => matches(r) && seen.set(r, 'sent, no answer');
  const answered = (resp) => {
    const r = resp.request();
    if (!matches(r)) return;
    seen.set(r, `answered ${resp.status()}`);
    if (resp.status() !== status) {
      resp.text().then((t) => seen.set(r, `answered ${resp.status()}: ${t.slice(0, 300)}`), () => undefined);
    }
  };
  const failed = (r) => matches(r) && seen.set(r, `failed: ${r.failure()?.errorText}`);
  page.on('request', sent);
  page.on('response', answered);
  page.on('requestfailed', failed);
  const p = page
    .waitForResponse((r) => matches(r.request()) && r.status() === status, { timeout: WAIT })
    .then(
      (r) => (r.status() === 204 ? null : r.json()),
      async (e) => {
        const what = [...seen.values()].join('; ') || 'none sent';
        throw new Error(`no ${status} answer to ${method} …${suffix} (requests: ${what}); ${await pageState(page)}`, { cause: e });
      },
    )
    .finally(() => {
      page.off('request', sent);
      page.off('response', answered);
      page.off('requestfailed', failed);
    });
  p.catch(() => undefined); // a test that fails earlier must not also report an unhandled rejection
  return p;
}

// ---------------------------------------------------------------- UI flows

/** Registers through the form (auto sign-in follows) and waits for the signed-in shell. */
export async function registerViaUi(page, url, { username = uniqueName('e2e'), displayName, password = STRONG_PASSWORD } = {}) {
  await page.goto(`${url}/register`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  if (displayName) await page.getByLabel('Display name (optional)').fill(displayName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  const login = nextJson(page, 'POST', '/api/v1/auth/login');
  await page.getByRole('button', { name: 'Create account' }).click();
  const tokens = await login;
  await waitSignedIn(page);
  return { username, password, displayName, tokens };
}

export async function signInViaUi(page, url, username, password = STRONG_PASSWORD, { goto = true } = {}) {
  if (goto) await page.goto(`${url}/login`);
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const login = nextJson(page, 'POST', '/api/v1/auth/login');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const tokens = await login;
  await waitSignedIn(page);
  return tokens;
}

/** The signed-in shell is up: the chat composer is there (every signed-in page has a top bar). */
export async function waitSignedIn(page) {
  await page.locator('header').first().waitFor({ state: 'visible' });
  await page.waitForURL((u) => !u.pathname.startsWith('/login') && !u.pathname.startsWith('/register'));
}

/** Phones keep the sidebar in a drawer: open it. Desktops show it all the time. */
export async function openSidebar(page) {
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  if (page.compact && !(await nav.isVisible())) {
    await page.getByRole('button', { name: 'Open menu' }).click();
  }
  await nav.waitFor({ state: 'visible' });
  return nav;
}

export async function closeSidebar(page) {
  if (!page.compact) return;
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  if (await nav.isVisible()) {
    await page.keyboard.press('Escape');
    await nav.waitFor({ state: 'hidden' });
  }
}

/**
 * The account menu in the sidebar (a drawer on phones) → `item`. The menu is let finish opening
 * before the click; with `path`, waits until the page is there and, if it never gets there, says
 * where it is instead (URL, headings, console problems) and keeps a screenshot.
 */
export async function openAccountMenuItem(page, item, { account = /^Account menu for /, menu = 'Open menu', path: to } = {}) {
  if (page.compact) {
    const drawerClosed = !(await page.getByRole('navigation').filter({ has: page.getByRole('button', { name: account }) }).isVisible());
    if (drawerClosed) await page.getByRole('button', { name: menu }).click();
  }
  await page.getByRole('button', { name: account }).click();
  const menuItem = page.getByRole('menuitem', { name: item });
  await waitSettled(page.locator('.ant-dropdown:not(.ant-dropdown-hidden)').filter({ has: menuItem }), 'account menu');
  await menuItem.click();
  if (to) await arrivedAt(page, to);
}

/** Waits until the page's path is `to`; on a timeout the error says where the page is instead. */
export async function arrivedAt(page, to) {
  try {
    await page.waitForURL((u) => u.pathname === to);
  } catch (e) {
    throw new Error(`never reached ${to}: ${await pageState(page)}`, { cause: e });
  }
}

/** Where a page is and what it shows (for failure messages); also saves FAILED-<time>.png. */
export async function pageState(page) {
  const name = `FAILED-${Date.now()}`;
  await shot(page, name).catch(() => undefined);
  const headings = await page.getByRole('heading').allInnerTexts().catch(() => []);
  const hubLogs = [...liveStacks].map((s) => s.hub.logs.slice(-20).join('\n')).join('\n---\n');
  return `url ${page.url()}, headings ${JSON.stringify(headings)}, screenshot ${name}.png, problems:\n${(page.problems ?? []).join('\n')}\nthe hub's last log lines:\n${hubLogs}`;
}

export async function signOutViaUi(page) {
  const logout = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/logout');
  await openAccountMenuItem(page, 'Sign out');
  assert.equal((await logout).status(), 204);
  await page.waitForURL((u) => u.pathname === '/login');
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
}

/** Waits until no CSS animation or transition runs inside `locator` (an opening popup settled). */
export async function waitSettled(locator, what = 'animation') {
  await locator.waitFor({ state: 'visible' });
  await waitUntil(
    () => locator.evaluate((el) => el.getAnimations({ subtree: true }).every((a) => a.playState !== 'running')),
    () => `${what} settled`,
  );
}

/**
 * An antd modal dialog, open and settled (its zoom-in over, so a click lands on what a person
 * sees, not on a button still moving into place).
 */
export async function settledDialog(page, name) {
  const dialog = page.getByRole('dialog', { name });
  await waitSettled(dialog, `dialog "${name}"`);
  return dialog;
}

/**
 * Picks an option of the open antd Select. Its role=option elements form a visually hidden
 * list for screen readers; the visible rows are the ones a pointer clicks. Waits for the list
 * to finish opening first and to close after.
 */
export async function pickOption(page, text) {
  const dropdown = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').last();
  await waitSettled(dropdown, 'select dropdown');
  await dropdown.locator('.ant-select-item-option')
    .filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).first().click();
  await page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').waitFor({ state: 'detached' });
}

/** Opens the Select labelled `label`, picks `text`, and waits until the select shows it. */
export async function chooseOption(page, label, text, scope = page) {
  const combo = scope.getByRole('combobox', { name: label });
  await combo.click();
  await pickOption(page, text);
  const root = combo.locator('xpath=ancestor::*[contains(concat(" ", normalize-space(@class), " "), " ant-select ")][1]');
  await waitUntil(async () => (await root.innerText()).trim() === text, async () => `"${label}" shows "${text}" (shows "${(await root.innerText()).trim()}")`);
}

/** The refresh cookie as the browser holds it (HttpOnly, so only the context can see it). */
export async function refreshCookie(context) {
  const cookies = await context.cookies();
  return cookies.find((c) => c.name === 'bh_refresh') ?? null;
}

/** Registers and signs in over the API (fast set-up for tests that start signed in elsewhere). */
export async function apiUser(url, { userAgent } = {}) {
  const username = uniqueName('e2e');
  const reg = await call(url, 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  return { username, password: STRONG_PASSWORD, user: reg.body.user, login: () => apiLogin(url, username, STRONG_PASSWORD, userAgent) };
}

export async function apiLogin(url, username, password = STRONG_PASSWORD, userAgent) {
  const r = await call(url, 'POST', '/api/v1/auth/login', {
    body: { username, password },
    headers: userAgent ? { 'User-Agent': userAgent } : {},
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Polls `check` (every 50 ms, up to `timeout`) until it returns true. */
export async function waitUntil(check, describe = () => 'condition', timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

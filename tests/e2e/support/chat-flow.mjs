// The main chat flow, run at desktop and at phone size by chat.test.mjs / chat-phone.test.mjs.
import assert from 'node:assert/strict';
import {
  apiLogin,
  call,
  nextJson,
  openSidebar,
  closeSidebar,
  registerViaUi,
  settledDialog,
  shot,
  signOutViaUi,
  waitUntil,
} from './e2e.mjs';

/** Collapses whitespace: rendered Markdown and the raw text differ only in spacing. */
export const norm = (s) => s.replace(/\s+/g, ' ').trim();

/** The answer being streamed: the row the chat window marks busy while the answer comes in. */
export const STREAMING_ROW = '[aria-live="polite"][aria-busy="true"]';

/**
 * Records every distinct text of the streaming answer row, from now on, in the page.
 * Returns a function that stops recording and yields the snapshots.
 */
export async function recordStreaming(page) {
  await page.evaluate((sel) => {
    const snaps = [];
    const grab = () => {
      const row = document.querySelector(sel);
      if (!row) return;
      const text = row.innerText.replace(/\s+/g, ' ').trim();
      if (text && snaps[snaps.length - 1] !== text) snaps.push(text);
    };
    const obs = new MutationObserver(grab);
    obs.observe(document.body, { subtree: true, childList: true, characterData: true });
    window.__e2eStream = { snaps, stop: () => obs.disconnect() };
  }, STREAMING_ROW);
  return async () =>
    page.evaluate(() => {
      window.__e2eStream.stop();
      return window.__e2eStream.snaps;
    });
}

export function composer(page) {
  return page.getByRole('textbox', { name: 'Message' });
}

const isSendRequest = (r) => r.method() === 'POST' && /\/api\/v1\/conversations\/[^/]+\/messages$/.test(new URL(r.url()).pathname);

/**
 * Types a message and sends it with Enter. Resolves once the answer's request has its response
 * headers, with `finished`: settles when that request is over (it ends, or the page drops it
 * after the final event or on Stop; which of the two comes first is a race, so both count).
 */
export async function send(page, text) {
  const finished = new Promise((resolve) => {
    const on = (r) => {
      if (!isSendRequest(r)) return;
      page.off('requestfinished', on);
      page.off('requestfailed', on);
      resolve(r);
    };
    page.on('requestfinished', on);
    page.on('requestfailed', on);
  });
  const response = page.waitForResponse((r) => isSendRequest(r.request()), { timeout: 30_000 });
  const box = composer(page);
  await box.fill(text);
  await box.press('Enter');
  return { response: await response, finished };
}

/** Assistant answers in the chat window (stored ones and the one streaming). */
export function answers(page) {
  return page.locator('.ant-bubble-start');
}

/** Waits until the answer of `sent` (from send()) is complete on the server and settled on screen. */
export async function waitStreamingDone(page, sent, timeout = 60_000) {
  let timer;
  try {
    await Promise.race([
      sent.finished,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('the answer did not finish')), timeout); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  await page.locator(STREAMING_ROW).waitFor({ state: 'detached', timeout });
  await page.getByRole('button', { name: 'Send' }).waitFor({ timeout });
}

/** The sidebar entry of a conversation, found by its title. */
export function sidebarItem(nav, title) {
  return nav.locator('li').filter({ hasText: title });
}

async function itemAction(page, title, action) {
  const nav = await openSidebar(page);
  await nav.getByRole('button', { name: `Actions for “${title}”` }).click();
  await page.getByRole('menuitem', { name: action }).click();
}

/**
 * register → new chat → answer streams in (≥ 2 intermediate states) → reload keeps history →
 * search finds it → rename → a second chat stopped mid-stream keeps its partial answer (also
 * after a reload) → delete → sign out. Resolves {failures}: checks that do not stop the flow.
 */
export async function chatFlow(page, url, prefix) {
  const failures = [];
  const marker = `quokka${Math.floor(Math.random() * 1e9).toString(36)}`;
  const modelsLoaded = nextJson(page, 'GET', '/api/v1/models');
  const { username } = await registerViaUi(page, url, { displayName: 'Chat Tester' });
  await page.getByText('What can I help you with?').waitFor();
  const models = await modelsLoaded;
  const modelIds = (Array.isArray(models) ? models : models.items).map((m) => m.id);
  assert.ok(modelIds.length > 0, 'GET /models lists models');
  await shot(page, `${prefix}-new-chat`);

  // --- 1. A new chat; the answer appears progressively.
  const stop = await recordStreaming(page);
  const created = nextJson(page, 'POST', '/api/v1/conversations', 201);
  const question = `Tell me about ${marker} and lighthouses. [sim:tokens=48]`;
  const posted = page.waitForRequest((r) => r.method() === 'POST' && /\/api\/v1\/conversations\/[^/]+\/messages$/.test(new URL(r.url()).pathname));
  const sent = await send(page, question);
  const conversation = await created;
  const body = (await posted).postDataJSON();
  assert.equal(body.content, question);
  assert.equal(body.stream, true);
  assert.ok(modelIds.includes(body.model), `the model picker chose a listed model (${body.model})`);
  await page.waitForURL((u) => u.pathname === `/c/${conversation.id}`);
  // Mid-stream picture: the answer is partly there.
  await page.locator(STREAMING_ROW).filter({ hasText: /\w+ \w+/ }).waitFor({ timeout: 30_000 });
  await shot(page, `${prefix}-chat-streaming`);
  await waitStreamingDone(page, sent);
  const snaps = await stop();
  const lastAnswer = answers(page).last();
  const final = norm(await lastAnswer.innerText());
  const intermediate = snaps.filter((s) => s.length < final.length && final.startsWith(s));
  // Checked at the end, so that one failure here still lets the rest of the flow run.
  if (intermediate.length < 2) {
    failures.push(`the answer did not appear progressively: ${intermediate.length} intermediate state(s) ` +
      `seen before the full text (need ≥ 2); snapshots: ${JSON.stringify(snaps.map((x) => x.slice(0, 60)))}`);
  }
  assert.ok(final.split(' ').length >= 10, `a full answer: ${final}`);
  // The question is shown as sent.
  await page.getByText(question, { exact: true }).waitFor();
  // After the first answer the conversation has a title (generated, or the question's first words).
  await waitUntil(
    async () => !['Untitled conversation', 'New chat', ''].includes((await page.getByRole('heading', { level: 1 }).innerText()).trim()),
    () => 'a title after the first answer',
    20_000,
  );
  const title = (await page.getByRole('heading', { level: 1 }).innerText()).trim();
  await shot(page, `${prefix}-chat-answered`);

  // --- 2. A reload keeps the history (messages come back from the server).
  await page.reload();
  await page.getByText(question, { exact: true }).waitFor();
  await waitUntil(async () => norm(await answers(page).last().innerText()).startsWith(final.slice(0, 40)),
    async () => `answer after reload: ${await answers(page).last().innerText()}`);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), title);

  // --- 3. Search finds the conversation by a word of the question; nonsense finds nothing.
  let nav = await openSidebar(page);
  await sidebarItem(nav, title).waitFor();
  const search = nav.getByRole('textbox', { name: 'Search conversations' });
  await search.fill(marker);
  await page.waitForResponse((r) => r.url().includes('/api/v1/conversations?') && r.url().includes(`q=${marker}`));
  await sidebarItem(nav, title).waitFor();
  await waitUntil(async () => (await nav.locator('li[title]').count()) === 1, async () => `one match, got ${await nav.locator('li[title]').count()}`);
  await shot(page, `${prefix}-search`);
  await search.fill(`${marker}zzz`);
  await nav.getByText('No matching conversations').waitFor();
  await search.fill('');
  await sidebarItem(nav, title).waitFor();

  // --- 4. Rename from the item's menu.
  const renamed = `Renamed ${marker}`;
  await itemAction(page, title, 'Rename');
  const dialog = await settledDialog(page, 'Rename');
  await dialog.getByRole('textbox', { name: 'Title' }).fill(renamed);
  const patched = nextJson(page, 'PATCH', `/api/v1/conversations/${conversation.id}`);
  await dialog.getByRole('button', { name: 'Save' }).click();
  assert.equal((await patched).title, renamed);
  await dialog.waitFor({ state: 'hidden' });
  nav = await openSidebar(page);
  await sidebarItem(nav, renamed).waitFor();
  await closeSidebar(page);
  await page.getByRole('heading', { level: 1, name: renamed }).waitFor();

  // --- 4b. The details page: title, totals, export as Markdown.
  await page.getByRole('button', { name: 'Details' }).click();
  await page.waitForURL((u) => u.pathname === `/c/${conversation.id}/details`);
  await page.getByRole('heading', { level: 1, name: 'Conversation details' }).waitFor();
  await waitUntil(async () => (await page.getByLabel('Title').inputValue()) === renamed, () => 'title field filled');
  const messagesCount = page.locator('.ant-descriptions-item').filter({ hasText: /^Messages/ }).locator('.ant-descriptions-item-content');
  await waitUntil(async () => (await messagesCount.innerText()).trim() === '2', async () => `2 messages, shows ${await messagesCount.innerText()}`);
  await shot(page, `${prefix}-details`);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Markdown' }).click();
  const file = await download;
  const exported = await streamText(await file.createReadStream());
  assert.ok(exported.includes(marker), `the Markdown export holds the question:\n${exported.slice(0, 500)}`);
  await page.getByRole('button', { name: 'Back' }).click();
  await page.waitForURL((u) => u.pathname === `/c/${conversation.id}`);
  await page.getByText(question, { exact: true }).waitFor();

  // --- 5. Another new chat, stopped mid-stream: the partial answer stays, also after a reload.
  nav = await openSidebar(page);
  await nav.getByRole('button', { name: 'New chat' }).click();
  await page.waitForURL((u) => u.pathname === '/');
  await page.getByText('What can I help you with?').waitFor();
  const created2 = nextJson(page, 'POST', '/api/v1/conversations', 201);
  await send(page, 'Write a very long story about the sea. [sim:tokens=400]');
  const second = await created2;
  await page.waitForURL((u) => u.pathname === `/c/${second.id}`);
  const streaming = page.locator(STREAMING_ROW);
  await streaming.filter({ hasText: /(\S+\s+){4}\S+/ }).waitFor({ timeout: 30_000 });
  // Phones tap Stop; desktops press Esc (the keyboard shortcut), with the button in view.
  const stopButton = page.getByRole('button', { name: 'Stop' });
  await stopButton.waitFor();
  if (page.compact) await stopButton.click();
  else await page.keyboard.press('Escape');
  await streaming.waitFor({ state: 'detached' });
  const stopped = answers(page).last();
  await stopped.getByText('Stopped', { exact: true }).waitFor();
  const partial = norm((await stopped.innerText()).replace(/\bStopped\b/, ''));
  assert.ok(partial.split(' ').length >= 5, `partial answer kept on screen: ${partial}`);
  await page.getByRole('button', { name: 'Send' }).waitFor();
  await shot(page, `${prefix}-chat-stopped`);
  // The server stored what was produced as an interrupted answer (it may hold a few more words
  // than the screen showed when Stop was pressed, never fewer, and far from all 400 tokens).
  await page.reload();
  const storedStopped = answers(page).last();
  await storedStopped.getByText('Stopped', { exact: true }).waitFor();
  const stored = norm((await storedStopped.innerText()).replace(/\bStopped\b/, ''));
  const partialWords = partial.split(' ').slice(0, 5).join(' ');
  assert.ok(stored.startsWith(partialWords), `stored partial answer starts like the shown one:\n${stored}\n${partial}`);
  assert.ok(stored.split(' ').length < 300, 'the stream was really stopped');

  // --- 6. Delete the renamed conversation: gone from the list and from search.
  await itemAction(page, renamed, 'Delete');
  const confirm = await settledDialog(page, 'Delete this conversation?');
  const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/api/v1/conversations/${conversation.id}`));
  await confirm.getByRole('button', { name: 'Delete' }).click();
  assert.equal((await deleted).status(), 204);
  await confirm.waitFor({ state: 'hidden' });
  nav = await openSidebar(page);
  await sidebarItem(nav, renamed).waitFor({ state: 'detached' });
  await nav.getByRole('textbox', { name: 'Search conversations' }).fill(marker);
  await nav.getByText('No matching conversations').waitFor();
  await nav.getByRole('textbox', { name: 'Search conversations' }).fill('');
  // Without the search, the other (stopped) conversation is listed again, alone.
  await waitUntil(async () => (await nav.locator('li[title]').count()) === 1, async () => `one conversation left, got ${await nav.locator('li[title]').count()}`);
  // (A fresh API session: the page's reloads rotated the session the first token belonged to.)
  const { access_token: token } = await apiLogin(url, username);
  const gone = await call(url, 'GET', `/api/v1/conversations/${conversation.id}`, { token });
  assert.equal(gone.status, 404, 'the deleted conversation is gone');
  await shot(page, `${prefix}-after-delete`);

  // --- 7. Sign out.
  await closeSidebar(page);
  await signOutViaUi(page);
  return { username, failures };
}

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

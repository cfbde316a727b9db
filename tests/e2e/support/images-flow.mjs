// Steps of the Images page (issue 12) shared by images.test.mjs: what a person does and waits for.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { call, closeSidebar, nextJson, openSidebar, waitUntil, WAIT } from './e2e.mjs';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Fails at once, saying why, when the hub under test has no images API yet. */
export async function requireImagesApi(url) {
  const r = await fetch(`${url}/api/v1/images/generations`);
  await r.arrayBuffer();
  assert.notEqual(r.status, 404, 'the hub under test has no /api/v1/images/generations yet (issue 12)');
}

/** Goes to /images through the main navigation (the sidebar; a drawer on phones). */
export async function openImagesPage(page) {
  const nav = await openSidebar(page);
  // (An icon's label comes first in a button's name: match the end.)
  await nav.getByRole('button', { name: /Images$/ }).click();
  await page.waitForURL((u) => u.pathname === '/images');
  await closeSidebar(page);
  await page.getByRole('heading', { name: 'Images', level: 1 }).waitFor();
  await generateButton(page).waitFor();
}

export const promptBox = (page) => page.getByRole('textbox', { name: 'Prompt', exact: true });
export const generateButton = (page) => page.getByRole('button', { name: /Generate$/ });
/** The gallery card of a generation (an <article> named by its prompt). */
export const card = (page, prompt) => page.getByRole('article', { name: prompt, exact: true });

/** Picks the number of images with the Count control. */
export async function chooseCount(page, n) {
  await page.getByRole('radiogroup', { name: 'Count' }).getByText(String(n), { exact: true }).click();
}

/**
 * Types the prompt and presses Generate. Resolves with the 202 body once the page has opened
 * the generation's events stream (how it learns about progress, instead of polling).
 */
export async function generate(page, prompt) {
  await promptBox(page).fill(prompt);
  await waitUntil(async () => generateButton(page).isEnabled(), () => 'Generate enabled');
  const posted = nextJson(page, 'POST', '/api/v1/images/generations', 202);
  const stream = page.waitForRequest((r) => /^\/api\/v1\/images\/generations\/[^/]+\/events$/.test(new URL(r.url()).pathname), { timeout: WAIT });
  stream.catch(() => undefined);
  await generateButton(page).click();
  const g = await posted;
  assert.equal(g.status, 'pending');
  const req = await stream;
  assert.equal(new URL(req.url()).pathname, `/api/v1/images/generations/${g.id}/events`);
  return g;
}

/** Waits until every <img> of the card has loaded (naturalWidth > 0); returns how many there are. */
export async function waitImagesLoaded(page, cardLocator, count, timeout = 30_000) {
  await cardLocator.scrollIntoViewIfNeeded();
  const imgs = cardLocator.locator('img');
  await waitUntil(
    async () =>
      (await imgs.count()) === count &&
      (await imgs.evaluateAll((list) => list.every((i) => i.complete && i.naturalWidth > 0))),
    async () => `${count} loaded image(s) in the card; card text: ${await cardLocator.innerText().catch(() => '?')}`,
    timeout,
  );
}

/** Clicks Download in the viewer; returns the downloaded bytes and the suggested file name. */
export async function downloadFromViewer(page, dialog) {
  const download = page.waitForEvent('download', { timeout: WAIT });
  await dialog.getByRole('link', { name: /Download$/ }).click();
  const d = await download;
  const file = await d.path();
  assert.ok(file, `download failed: ${await d.failure()}`);
  return { bytes: readFileSync(file), name: d.suggestedFilename() };
}

/** Deletes from the viewer through its confirmation and waits for the server to say 204. */
export async function deleteFromViewer(page, dialog, id) {
  await dialog.getByRole('button', { name: /Delete$/ }).click();
  const confirm = page.locator('.ant-popconfirm').filter({ hasText: 'Delete this generation?' });
  await confirm.waitFor();
  const deleted = nextJson(page, 'DELETE', `/api/v1/images/generations/${id}`, 204);
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await deleted;
  await dialog.waitFor({ state: 'hidden' });
}

/** The generation as the API sees it now (status code and body). */
export async function apiGeneration(url, token, id) {
  return call(url, 'GET', `/api/v1/images/generations/${id}`, { token });
}

/** Fails when the page or the document scrolls sideways at this width. */
export async function assertNoSidewaysScroll(page) {
  const over = await page.evaluate(() => {
    const out = [];
    for (const el of [document.documentElement, ...document.querySelectorAll('main, section, article, [class*="scroll"]')]) {
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'hidden') {
        out.push(`${el.tagName.toLowerCase()}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
      }
    }
    return out;
  });
  assert.deepEqual(over, [], `scrolls sideways:\n${over.join('\n')}`);
}

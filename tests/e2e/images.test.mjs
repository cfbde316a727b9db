// The Images page (issue 12) against the real hub + bailian-sim (Wanx tasks of 1–3 s through
// the `[sim:task-seconds=N]` prompt directive): generate, live status from the events stream,
// the image appears, viewer, download, delete; failures with a reason; the 390 px phone layout;
// screenshots in light and dark.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  apiUser,
  assertNoConsoleErrors,
  call,
  DESKTOP,
  launchBrowser,
  openPage,
  PHONE,
  shot,
  signInViaUi,
  startStack,
  waitUntil,
} from './support/e2e.mjs';
import {
  apiGeneration,
  assertNoSidewaysScroll,
  card,
  chooseCount,
  deleteFromViewer,
  downloadFromViewer,
  generate,
  generateButton,
  openImagesPage,
  PNG_SIGNATURE,
  promptBox,
  requireImagesApi,
  waitImagesLoaded,
} from './support/images-flow.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

test('desktop: generate, watch it run, open, download, use the prompt again, delete', { timeout: 150_000 }, async () => {
  await requireImagesApi(stack.url);
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  try {
    const u = await apiUser(stack.url);
    const tokens = await signInViaUi(page, stack.url, u.username);
    await openImagesPage(page);
    await page.getByText('No images yet').waitFor();

    // The form: nothing to send until there is a prompt, and not one over the model's limit.
    assert.equal(await generateButton(page).isDisabled(), true, 'Generate disabled on an empty form');
    await promptBox(page).fill('x'.repeat(501));
    await page.getByText('At most 500 characters').waitFor();
    assert.equal(await generateButton(page).isDisabled(), true, 'Generate disabled over the limit');

    // Every request for a single generation: the page must follow the events stream, not poll.
    const singleGets = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && /^\/api\/v1\/images\/generations\/[^/]+$/.test(new URL(r.url()).pathname)) singleGets.push(r.url());
    });

    const prompt = 'A lighthouse on a cliff at dawn, watercolour [sim:task-seconds=3]';
    await page.getByRole('spinbutton', { name: /^Seed/ }).fill('4242');
    const g = await generate(page, prompt);
    assert.equal(g.seed, 4242);
    const c = card(page, prompt);
    await c.waitFor();
    // Live status: it runs with a clock, then is done, without a reload.
    await c.getByText(/^(Queued|Generating · \d+ s)$/).first().waitFor();
    await c.getByText(/^Generating · \d+ s$/).waitFor({ timeout: 20_000 });
    await c.getByText('Done', { exact: true }).waitFor({ timeout: 30_000 });
    await waitImagesLoaded(page, c, 1);
    assert.equal(await c.locator('img').first().getAttribute('loading'), 'lazy');
    assert.deepEqual(singleGets, [], 'no polling of the generation');
    await shot(page, 'images-desktop-light');

    // The viewer: the image large with its prompt, seed, size and model.
    await c.getByRole('button', { name: `Open image 1 of “${prompt}”` }).click();
    const dialog = page.getByRole('dialog', { name: 'Image details' });
    await dialog.waitFor();
    await waitUntil(
      async () => dialog.locator('img').evaluate((i) => i.complete && i.naturalWidth > 0),
      () => 'the viewer image loaded',
    );
    const details = await dialog.innerText();
    for (const text of [prompt, 'Seed', '4242', '1024 × 1024', g.model]) assert.ok(details.includes(text), `viewer shows ${text}:\n${details}`);
    await shot(page, 'images-desktop-viewer');

    // Download: the file itself, a PNG.
    const { bytes, name } = await downloadFromViewer(page, dialog);
    assert.ok(bytes.length > PNG_SIGNATURE.length, 'downloaded something');
    assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE, `a PNG (${name})`);

    // "Use this prompt again" fills the form and closes the viewer.
    await dialog.getByRole('button', { name: /Use this prompt again$/ }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await promptBox(page).inputValue(), prompt);
    assert.equal(await generateButton(page).isEnabled(), true);

    // Delete, confirmed: gone from the page and from the server.
    await c.getByRole('button', { name: `Open image 1 of “${prompt}”` }).click();
    await dialog.waitFor();
    await deleteFromViewer(page, dialog, g.id);
    await c.waitFor({ state: 'detached' });
    await page.getByText('No images yet').waitFor();
    assert.equal((await apiGeneration(stack.url, tokens.access_token, g.id)).status, 404);

    assertNoConsoleErrors(page, stack.missingApiErrors);
  } catch (e) {
    await shot(page, 'images-desktop-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

test('desktop: a failed task shows a readable reason; a partly failed one keeps the good image', { timeout: 120_000 }, async () => {
  await requireImagesApi(stack.url);
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  try {
    const u = await apiUser(stack.url);
    await signInViaUi(page, stack.url, u.username);
    await openImagesPage(page);

    const failing = 'A storm over the sea [sim:task-failed] [sim:task-seconds=1]';
    await generate(page, failing);
    const bad = card(page, failing);
    await bad.getByText('Failed', { exact: true }).waitFor({ timeout: 30_000 });
    const reason = (await bad.getByRole('alert').innerText()).trim();
    assert.ok(reason.length > 10 && /\s/.test(reason), `a sentence, not a bare code: ${reason}`);

    const partial = 'Two cats on a sofa [sim:task-partial] [sim:task-seconds=1]';
    await chooseCount(page, 2);
    const g = await generate(page, partial);
    assert.equal(g.n, 2);
    const mixed = card(page, partial);
    await mixed.getByText(/^1 of 2 failed$/).waitFor({ timeout: 30_000 });
    await waitImagesLoaded(page, mixed, 1);
    await mixed.getByRole('img', { name: /^This image failed: / }).waitFor();
    await shot(page, 'images-desktop-failures');
    assertNoConsoleErrors(page, stack.missingApiErrors);
  } catch (e) {
    await shot(page, 'images-failures-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

test('phone 390×844: one column with the form first, generate, open; light and dark', { timeout: 150_000 }, async () => {
  await requireImagesApi(stack.url);
  const u = await apiUser(stack.url);
  for (const colorScheme of ['light', 'dark']) {
    const { context, page } = await openPage(browser, { viewport: PHONE, colorScheme });
    try {
      await signInViaUi(page, stack.url, u.username);
      await openImagesPage(page);
      const form = await page.getByRole('region', { name: 'Create an image' }).boundingBox();
      const gallery = await page.getByRole('region', { name: 'Your images' }).boundingBox();
      assert.ok(form && gallery && form.y + form.height <= gallery.y, 'the form comes before the gallery');
      assert.ok(Math.abs(form.x - gallery.x) < 2 && Math.abs(form.width - gallery.width) < 2, 'one column');
      assert.ok(form.x >= 0 && form.x + form.width <= PHONE.width, 'the form fits the screen');

      const prompt = `A paper boat on a puddle, ${colorScheme} [sim:task-seconds=1]`;
      await generate(page, prompt);
      const c = card(page, prompt);
      await c.getByText('Done', { exact: true }).waitFor({ timeout: 30_000 });
      await waitImagesLoaded(page, c, 1);
      const box = await c.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `the card fits the screen: ${JSON.stringify(box)}`);
      await assertNoSidewaysScroll(page);
      await page.getByRole('region', { name: 'Create an image' }).evaluate((el) => el.scrollIntoView());
      await shot(page, `images-phone-${colorScheme}`);

      await c.getByRole('button', { name: `Open image 1 of “${prompt}”` }).click();
      const dialog = page.getByRole('dialog', { name: 'Image details' });
      await dialog.waitFor();
      await waitUntil(
        async () => dialog.locator('img').evaluate((i) => i.complete && i.naturalWidth > 0),
        () => 'the viewer image loaded',
      );
      const img = await dialog.locator('img').boundingBox();
      assert.ok(img && img.x >= 0 && img.x + img.width <= PHONE.width, `the image fits the screen: ${JSON.stringify(img)}`);
      await dialog.getByRole('link', { name: /Download$/ }).waitFor();
      await shot(page, `images-phone-viewer-${colorScheme}`);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      if (colorScheme === 'dark') {
        await page.setViewportSize(DESKTOP);
        await page.getByRole('heading', { name: 'Your images' }).waitFor();
        await waitImagesLoaded(page, c, 1);
        await shot(page, 'images-desktop-dark');
      }
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } catch (e) {
      await shot(page, `images-phone-${colorScheme}-FAILED`).catch(() => undefined);
      throw e;
    } finally {
      await context.close();
    }
  }
});

test('desktop: the gallery loads older generations with the cursor as it scrolls', { timeout: 120_000 }, async () => {
  await requireImagesApi(stack.url);
  const u = await apiUser(stack.url);
  const { access_token: token } = await u.login();
  const prompts = Array.from({ length: 14 }, (_, i) => `Scroll test ${String(i).padStart(2, '0')} [sim:task-seconds=1]`);
  for (const prompt of prompts) {
    const r = await call(stack.url, 'POST', '/api/v1/images/generations', { token, body: { prompt } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  try {
    await signInViaUi(page, stack.url, u.username);
    await openImagesPage(page);
    await card(page, prompts.at(-1)).waitFor();
    const oldest = card(page, prompts[0]);
    assert.equal(await oldest.count(), 0, 'the oldest is not on the first page');
    const nextPage = page.waitForRequest((r) => {
      const url = new URL(r.url());
      return url.pathname === '/api/v1/images/generations' && url.searchParams.has('cursor');
    });
    nextPage.catch(() => undefined);
    // Scroll the gallery down the way a person would, until the oldest generation shows.
    await page.getByRole('region', { name: 'Your images' }).hover();
    await waitUntil(
      async () => {
        if (await oldest.isVisible()) return true;
        await page.mouse.wheel(0, 1500);
        return false;
      },
      () => 'the oldest generation after scrolling',
      30_000,
    );
    await nextPage;
    await oldest.getByText('Done', { exact: true }).waitFor({ timeout: 30_000 });
    await waitImagesLoaded(page, oldest, 1);
    assertNoConsoleErrors(page, stack.missingApiErrors);
  } catch (e) {
    await shot(page, 'images-scroll-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

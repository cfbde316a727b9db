// Chat with images in the browser, at 1280×800 and 390×844: attach by the button (the file
// chooser a phone turns into camera / photo library), the offer of a vision model when a
// text-only one is chosen, upload progress and thumbnails with remove, attach by paste, send,
// the pictures in the thread (also after a reload) opening the viewer, and the conversation
// detail page listing them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { makePng, photoJpeg } from '../support/images.mjs';
import {
  assertNoConsoleErrors,
  call,
  STRONG_PASSWORD,
  uniqueName,
  waitSignedIn,
  DESKTOP,
  launchBrowser,
  openPage,
  PHONE,
  registerViaUi,
  requireChatApi,
  shot,
  startStack,
  waitUntil,
} from './support/e2e.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ tokensPerSecond: 40 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

const composer = (page) => page.getByRole('textbox', { name: 'Message' });
const pending = (page) => page.getByTestId('pending-attachment');
// The <img> of each picture in the thread (antd's Image may wrap it).
const threadImages = (page) => page.locator('img[data-testid="message-image"], [data-testid="message-image"] img');

/** Waits until every chosen picture is uploaded (no progress ring left). */
async function uploadsDone(page, count) {
  await waitUntil(async () => (await pending(page).count()) === count, () => `${count} thumbnails`);
  await waitUntil(
    async () => (await page.locator('[data-testid="pending-attachment"] [role="progressbar"]').count()) === 0,
    () => 'uploads finished',
  );
}

/** Sends what the composer holds with Enter; resolves the send request's JSON-less response. */
async function sendAndWait(page, text) {
  await composer(page).fill(text);
  // The Send button is there and enabled exactly when the composer would send: no answer
  // running or starting, every picture uploaded, a model that reads them. Enter before that
  // is (rightly) ignored, so wait for it rather than race a slow machine.
  const send = page.getByRole('button', { name: 'Send' });
  await waitUntil(async () => (await send.count()) === 1 && (await send.isEnabled()), () => 'Send enabled');
  const response = page.waitForResponse(
    (r) => r.request().method() === 'POST' && /\/api\/v1\/conversations\/[^/]+\/messages$/.test(new URL(r.url()).pathname),
  );
  await composer(page).press('Enter');
  const r = await response;
  assert.equal(r.status(), 200);
  // The answer is in and the stream is over: no row streams, the box offers Send again.
  await waitUntil(async () => (await page.locator('[aria-busy="true"]').count()) === 0, () => 'answer finished');
  await page.getByRole('button', { name: 'Send' }).waitFor();
  await waitUntil(async () => (await page.getByRole('button', { name: 'Stop' }).count()) === 0, () => 'stream over');
}

/** Pastes a PNG (bytes from the test) into the message box, as a screenshot paste does. */
async function pastePng(page, bytes, name) {
  await composer(page).evaluate(
    (el, { b64, name }) => {
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bin], name, { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    },
    { b64: bytes.toString('base64'), name },
  );
}

for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  describe(`chat with images (${label})`, () => {
    test('attach by button and by paste, send, see the pictures after a reload, open the viewer', { timeout: 150_000 }, async () => {
      requireChatApi(stack);
      const { context, page } = await openPage(browser, { viewport });
      try {
        await registerViaUi(page, stack.url);
        await composer(page).waitFor();

        // The button opens the file chooser (on a phone: camera or photo library).
        const input = page.getByTestId('attach-input');
        assert.equal(await input.getAttribute('accept'), 'image/*');
        const chooser = page.waitForEvent('filechooser');
        await page.getByRole('button', { name: 'Attach images' }).click();
        await (await chooser).setFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photoJpeg() });
        await uploadsDone(page, 1);

        // The default model reads only text: the composer offers a vision model instead.
        const offer = page.getByRole('button', { name: /^Use qwen-vl/ });
        await offer.waitFor();
        await shot(page, `vision-${label}-offer`);
        await offer.click();
        await offer.waitFor({ state: 'detached' });

        // A second picture, then removed again before sending.
        const extra = page.waitForEvent('filechooser');
        await page.getByRole('button', { name: 'Attach images' }).click();
        await (await extra).setFiles({ name: 'extra.png', mimeType: 'image/png', buffer: makePng(32, 32) });
        await uploadsDone(page, 2);
        await page.getByRole('button', { name: 'Remove extra.png' }).click();
        await uploadsDone(page, 1);
        await shot(page, `vision-${label}-attached`);

        await sendAndWait(page, 'What is in this picture?');
        await waitUntil(async () => (await threadImages(page).count()) === 1, () => 'picture in the thread');
        assert.equal(await pending(page).count(), 0);
        const conversationUrl = page.url();
        assert.match(conversationUrl, /\/c\/[^/]+$/);

        // Paste a screenshot into the box and send it without text.
        await pastePng(page, makePng(120, 80, (x, y) => [x * 2, y * 3, 200]), 'screenshot.png');
        await uploadsDone(page, 1);
        await sendAndWait(page, '');
        await waitUntil(async () => (await threadImages(page).count()) === 2, () => 'two pictures in the thread');

        // The pictures really are the stored files (decoded, sized as uploaded).
        const sizes = await threadImages(page).evaluateAll((imgs) =>
          imgs.map((i) => ({ w: i.naturalWidth, h: i.naturalHeight, src: i.currentSrc.slice(0, 5) })),
        );
        assert.deepEqual(sizes, [{ w: 64, h: 48, src: 'blob:' }, { w: 120, h: 80, src: 'blob:' }]);
        await shot(page, `vision-${label}-thread`);

        // After a reload the thread still shows both pictures.
        await page.reload();
        await waitUntil(async () => (await threadImages(page).count()) === 2, () => 'pictures after reload');
        await waitUntil(
          async () => (await threadImages(page).evaluateAll((imgs) => imgs.every((i) => i.complete && i.naturalWidth > 0))),
          () => 'pictures loaded after reload',
        );

        // A click opens the viewer.
        await threadImages(page).first().click();
        const viewer = page.locator('.ant-image-preview');
        await viewer.first().waitFor();
        await shot(page, `vision-${label}-viewer`);
        await page.keyboard.press('Escape');
        await waitUntil(async () => !(await viewer.first().isVisible().catch(() => false)), () => 'viewer closed');

        // The conversation detail page lists the pictures too.
        await page.goto(`${conversationUrl}/details`);
        const gallery = page.getByTestId('conversation-images');
        await gallery.waitFor();
        await waitUntil(async () => (await gallery.locator('[data-testid="message-image"]').count()) === 2, () => 'detail page pictures');
        await shot(page, `vision-${label}-details`);

        if (viewport.width < 600) {
          // Nothing is wider than the phone's screen.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `page overflows by ${overflow}px`);
        }
        assertNoConsoleErrors(page);
      } catch (e) {
        await shot(page, `vision-${label}-FAILED`).catch(() => undefined);
        throw e;
      } finally {
        await context.close();
      }
    });
  });
}

test('phone 390 px in Chinese: the attach button, the thumbnail and the vision-model offer', { timeout: 60_000 }, async () => {
  requireChatApi(stack);
  const username = uniqueName('e2ezh');
  const reg = await call(stack.url, 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
  });
  assert.equal(reg.status, 201);
  const { context, page } = await openPage(browser, { viewport: PHONE, locale: 'zh-CN', colorScheme: 'dark' });
  try {
    await page.goto(`${stack.url}/login`);
    await page.getByLabel('用户名或邮箱').fill(username);
    await page.getByLabel('密码', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: /^登\s?录$/ }).click();
    await waitSignedIn(page);
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: '添加图片' }).click();
    await (await chooser).setFiles({ name: '照片.png', mimeType: 'image/png', buffer: makePng(48, 48) });
    await uploadsDone(page, 1);
    await page.getByText('无法识别图片').waitFor();
    const offer = page.getByRole('button', { name: /^改用 qwen-vl/ });
    await offer.waitFor();
    await page.getByRole('button', { name: '移除 照片.png' }).waitFor();
    await shot(page, 'vision-phone-zh-CN-offer');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page overflows by ${overflow}px`);
    assertNoConsoleErrors(page);
  } catch (e) {
    await shot(page, 'vision-phone-zh-CN-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

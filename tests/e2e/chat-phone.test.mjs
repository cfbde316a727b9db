// The main chat flow at phone size (390×844; the sidebar is a drawer) against the real hub + bailian-sim (20 tokens/s).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chatFlow } from './support/chat-flow.mjs';
import { assertNoConsoleErrors, requireChatApi, shot, PHONE, launchBrowser, openPage, startStack } from './support/e2e.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ tokensPerSecond: 20 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

test('phone 390×844: new chat streams progressively, reload, search, rename, stop keeps the partial answer, delete, sign out', { timeout: 150_000 }, async () => {
  requireChatApi(stack);
  const { context, page } = await openPage(browser, { viewport: PHONE });
  try {
    const { failures } = await chatFlow(page, stack.url, 'phone');
    assertNoConsoleErrors(page);
    assert.deepEqual(failures, [], failures.join('\n'));
  } catch (e) {
    await shot(page, 'phone-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

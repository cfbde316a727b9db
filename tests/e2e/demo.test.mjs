// Demo mode: a hub without DASHSCOPE_API_KEY answers from its built-in simulator and the UI
// says so with a banner on every page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { answers, norm, send, waitStreamingDone } from './support/chat-flow.mjs';
import {
  assertNoConsoleErrors,
  DESKTOP,
  launchBrowser,
  nextJson,
  openPage,
  PHONE,
  registerViaUi,
  requireChatApi,
  shot,
  startStack,
} from './support/e2e.mjs';

const BANNER = 'Demo mode: answers come from the built-in simulator, not from Model Studio.';

let stack;
let browser;

before(async () => {
  stack = await startStack({ demo: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

test('demo mode: /readyz says so and the banner shows on sign-in and in the app (desktop and phone)', { timeout: 90_000 }, async () => {
  const ready = await (await fetch(`${stack.url}/readyz`)).json();
  assert.equal(ready.demo_mode, true);
  for (const [viewport, prefix] of [[DESKTOP, 'desktop'], [PHONE, 'phone']]) {
    const { context, page } = await openPage(browser, { viewport });
    try {
      await page.goto(`${stack.url}/login`);
      await page.getByText(BANNER).waitFor();
      await shot(page, `${prefix}-demo-login`);
      await registerViaUi(page, stack.url);
      await page.getByText(BANNER).waitFor();
      await shot(page, `${prefix}-demo-home`);
      assertNoConsoleErrors(page, stack.missingApiErrors);
    } finally {
      await context.close();
    }
  }
});

test('demo mode: a chat gets an answer from the built-in simulator', { timeout: 90_000 }, async () => {
  requireChatApi(stack);
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  try {
    await registerViaUi(page, stack.url);
    const created = nextJson(page, 'POST', '/api/v1/conversations', 201);
    const sent = await send(page, 'Please echo this sentence back to me.');
    await created;
    await waitStreamingDone(page, sent);
    assert.match(norm(await answers(page).last().innerText()), /echo this sentence back to me/i);
    await shot(page, 'desktop-demo-chat');
    assertNoConsoleErrors(page);
  } finally {
    await context.close();
  }
});

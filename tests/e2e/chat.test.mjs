// The main chat flow at desktop size (1280×800) against the real hub + bailian-sim (20 tokens/s).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { answers, chatFlow, send, waitStreamingDone } from './support/chat-flow.mjs';
import {
  apiUser,
  assertNoConsoleErrors,
  DESKTOP,
  launchBrowser,
  openPage,
  chooseOption,
  requireChatApi,
  shot,
  signInViaUi,
  startStack,
  waitUntil,
} from './support/e2e.mjs';

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

test('desktop: new chat streams progressively, reload, search, rename, stop keeps the partial answer, delete, sign out', { timeout: 150_000 }, async () => {
  requireChatApi(stack);
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  try {
    const { failures } = await chatFlow(page, stack.url, 'desktop');
    assertNoConsoleErrors(page);
    assert.deepEqual(failures, [], failures.join('\n'));
  } catch (e) {
    await shot(page, 'desktop-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

test('desktop: model picker and Think switch — reasoning only where the model can reason', { timeout: 90_000 }, async () => {
  requireChatApi(stack);
  const { context, page } = await openPage(browser, { viewport: DESKTOP });
  try {
    const u = await apiUser(stack.url);
    await signInViaUi(page, stack.url, u.username);
    const think = page.getByRole('button', { name: 'Think' });
    await think.click();
    assert.equal(await think.getAttribute('aria-pressed'), 'true');

    // A model without reasoning: the switch is off and disabled, nothing asks for thinking.
    await chooseOption(page, 'Model', 'qwen-max');
    await waitUntil(async () => await think.isDisabled(), () => 'Think disabled for qwen-max');
    const first = page.waitForRequest((r) => r.method() === 'POST' && /\/messages$/.test(new URL(r.url()).pathname));
    const sent1 = await send(page, 'hello there [sim:tokens=8]');
    const body1 = (await first).postDataJSON();
    assert.equal(body1.model, 'qwen-max');
    assert.equal(body1.parameters, undefined, 'no enable_thinking for qwen-max');
    await waitStreamingDone(page, sent1);
    assert.equal(await answers(page).last().getByRole('alert').count(), 0, 'answered without an error');

    // A hybrid model: the switch applies, the reasoning shows in its own collapsible block.
    await chooseOption(page, 'Model', 'qwen-plus');
    await waitUntil(async () => !(await think.isDisabled()), () => 'Think enabled for qwen-plus');
    assert.equal(await think.getAttribute('aria-pressed'), 'true');
    const second = page.waitForRequest((r) => r.method() === 'POST' && /\/messages$/.test(new URL(r.url()).pathname));
    const sent2 = await send(page, 'why is the sky blue? [sim:tokens=12] [sim:reasoning=12]');
    const body2 = (await second).postDataJSON();
    assert.equal(body2.model, 'qwen-plus');
    assert.deepEqual(body2.parameters, { enable_thinking: true });
    await waitStreamingDone(page, sent2);
    const last = answers(page).last();
    await last.getByText('Reasoning', { exact: true }).waitFor();
    assert.equal(await last.getByRole('alert').count(), 0);
    await shot(page, 'desktop-chat-reasoning');
    assertNoConsoleErrors(page);
  } catch (e) {
    await shot(page, 'desktop-think-FAILED').catch(() => undefined);
    throw e;
  } finally {
    await context.close();
  }
});

// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message, TokenResponse } from '../../app/apiTypes';
import { makeStore, type AppStore } from '../../app/store';
import { json, mockFetch, sse } from '../../test/http';
import { sessionStarted } from '../auth/authSlice';
import { flattenMessages, messagesApi } from './messagesApi';
import { createDeltaBatcher, retryStream, startStream, stopStream } from './streamRunner';
import { testUser } from '../../test/fixtures';

const user = testUser;
const tokens = (t: string): TokenResponse => ({ access_token: t, token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user });
const msg = (id: string, role: Message['role'], content: string, extra: Partial<Message> = {}): Message => ({
  id,
  reasoning: null,
  error_code: null,
  conversation_id: 'c1',
  role,
  content,
  model: 'qwen-plus',
  status: 'complete',
  input_tokens: 1,
  output_tokens: 2,
  parent_id: null,
  created_at: new Date().toISOString(),
  ...extra,
});

let store: AppStore;

async function loadMessages(items: Message[]) {
  await store.dispatch(messagesApi.endpoints.getMessages.initiate('c1'));
  expect(cachedIds()).toEqual(items.map((m) => m.id));
}
const cachedIds = () => flattenMessages(messagesApi.endpoints.getMessages.select('c1')(store.getState()).data).map((m) => m.id);

beforeEach(() => {
  store = makeStore();
  store.dispatch(sessionStarted(tokens('tok-1')));
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('startStream', () => {
  it('streams an answer into the store and the message cache', async () => {
    const history = [msg('u0', 'user', 'old'), msg('a0', 'assistant', 'older answer')];
    const calls = mockFetch((call) => {
      if (call.method === 'GET') return json(200, { items: history, next_cursor: null });
      return sse([
        ['user_message', { message: msg('u1', 'user', 'Hi') }],
        ['delta', { reasoning: 'Thinking.' }],
        ['delta', { content: 'Hel' }],
        ['delta', { content: 'lo' }],
        ['done', { message: msg('a1', 'assistant', 'Hello', { reasoning: 'Thinking.', parent_id: 'u1' }) }],
      ]);
    });
    await loadMessages(history);

    const run = store.dispatch(startStream('c1', { kind: 'send', content: 'Hi', model: 'qwen-plus', parameters: { enable_thinking: true } }));
    expect(store.getState().chat.streams.c1.phase).toBe('streaming');
    expect(store.getState().chat.streams.c1.localUser?.content).toBe('Hi');
    await run;

    expect(store.getState().chat.streams.c1).toBeUndefined();
    expect(cachedIds()).toEqual(['u0', 'a0', 'u1', 'a1']);
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.path).toBe('/api/v1/conversations/c1/messages');
    expect(post.headers.get('Authorization')).toBe('Bearer tok-1');
    expect(post.headers.get('Accept')).toBe('text/event-stream');
    expect(JSON.parse(post.body)).toEqual({ content: 'Hi', model: 'qwen-plus', stream: true, parameters: { enable_thinking: true } });
  });

  it('keeps the partial answer and the error from an error event', async () => {
    mockFetch((call) =>
      call.method === 'GET'
        ? json(200, { items: [], next_cursor: null })
        : sse([
            ['user_message', { message: msg('u1', 'user', 'Hi') }],
            ['delta', { content: 'Part' }],
            ['error', { error: { code: 'content_filtered', message: 'blocked' } }],
          ]),
    );
    await store.dispatch(startStream('c1', { kind: 'send', content: 'Hi' }));
    const s = store.getState().chat.streams.c1;
    expect(s.phase).toBe('failed');
    expect(s.content).toBe('Part');
    expect(s.error).toMatchObject({ code: 'content_filtered', message: 'blocked' });
    expect(s.userMessageId).toBe('u1');
  });

  it('reports a rate limit with its Retry-After', async () => {
    mockFetch(() => json(429, { error: { code: 'rate_limited', message: 'slow', request_id: 'r' } }, { 'Retry-After': '7' }));
    await store.dispatch(startStream('c1', { kind: 'send', content: 'Hi' }));
    expect(store.getState().chat.streams.c1.error).toMatchObject({ status: 429, code: 'rate_limited', retryAfter: 7 });
  });

  it('treats a stream that ends without done as interrupted', async () => {
    mockFetch((call) => (call.method === 'GET' ? json(200, { items: [] }) : sse([['delta', { content: 'x' }]])));
    await store.dispatch(startStream('c1', { kind: 'send', content: 'Hi' }));
    expect(store.getState().chat.streams.c1.error?.code).toBe('stream_interrupted');
  });

  it('stops when asked, keeping what arrived, and finds the stored answer for a retry', async () => {
    let answerStored = false;
    const calls = mockFetch((call, signal) => {
      if (call.method === 'GET') {
        return json(200, {
          items: answerStored ? [msg('u1', 'user', 'Hi'), msg('a1', 'assistant', 'Hel', { status: 'interrupted', parent_id: 'u1' })] : [],
          next_cursor: null,
        });
      }
      if (call.path.endsWith('/regenerate')) return sse([['done', { message: msg('a2', 'assistant', 'Hello again', { parent_id: 'u1' }) }]]);
      signal?.addEventListener('abort', () => (answerStored = true));
      return sse([['user_message', { message: msg('u1', 'user', 'Hi') }], ['delta', { content: 'Hel' }]], { hold: true, signal });
    });
    const run = store.dispatch(startStream('c1', { kind: 'send', content: 'Hi' }));
    await vi.waitFor(() => expect(store.getState().chat.streams.c1.content).toBe('Hel'));
    stopStream('c1');
    await run;
    expect(store.getState().chat.streams.c1.phase).toBe('stopped');
    await vi.waitFor(() => expect(store.getState().chat.streams.c1.assistantMessageId).toBe('a1'));

    await store.dispatch(retryStream('c1'));
    const regen = calls.find((c) => c.path.endsWith('/regenerate'))!;
    expect(regen.path).toBe('/api/v1/conversations/c1/messages/a1/regenerate');
    expect(store.getState().chat.streams.c1).toBeUndefined();
  });

  it('refreshes the access token once on a 401 and retries', async () => {
    let refreshes = 0;
    const calls = mockFetch((call) => {
      if (call.path === '/api/v1/auth/refresh') {
        refreshes += 1;
        return json(200, tokens('tok-2'));
      }
      if (call.method === 'GET') return json(200, { items: [] });
      if (call.headers.get('Authorization') === 'Bearer tok-1') return json(401, { error: { code: 'unauthenticated' } });
      return sse([['done', { message: msg('a1', 'assistant', 'ok') }]]);
    });
    await store.dispatch(startStream('c1', { kind: 'send', content: 'Hi' }));
    expect(refreshes).toBe(1);
    expect(store.getState().auth.accessToken).toBe('tok-2');
    const refresh = calls.find((c) => c.path === '/api/v1/auth/refresh')!;
    expect(refresh.body).toBe('{}');
    expect(store.getState().chat.streams.c1).toBeUndefined();
  });

  it('ends the session (as expired) when the refresh is refused', async () => {
    mockFetch((call) =>
      call.path === '/api/v1/auth/refresh'
        ? json(401, { error: { code: 'unauthenticated' } })
        : json(401, { error: { code: 'unauthenticated' } }),
    );
    await store.dispatch(startStream('c1', { kind: 'send', content: 'Hi' }));
    expect(store.getState().auth).toMatchObject({ status: 'anonymous', expired: true, accessToken: null });
  });
});

describe('createDeltaBatcher', () => {
  it('coalesces deltas until flushed or the interval passes', () => {
    vi.useFakeTimers();
    const out: unknown[] = [];
    const b = createDeltaBatcher((d) => out.push(d), 30);
    b.push({ content: 'a' });
    b.push({ reasoning: 'r' });
    b.push({ content: 'b' });
    expect(out).toEqual([]);
    vi.advanceTimersByTime(30);
    expect(out).toEqual([{ content: 'ab', reasoning: 'r' }]);
    b.push({ content: 'c' });
    b.flush();
    b.flush();
    expect(out).toEqual([{ content: 'ab', reasoning: 'r' }, { content: 'c' }]);
    vi.useRealTimers();
  });
});

// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch } from '../test/http';
import { sessionEnded, sessionStarted } from '../features/auth/authSlice';
import { conversationsApi } from '../features/conversations/conversationsApi';
import { makeStore } from './store';
import { testUser } from '../test/fixtures';

const user = testUser;
const conv = { id: 'c1', title: 'T', model: 'qwen-plus', system_prompt: null, pinned: false, archived: false, created_at: '', updated_at: '' };

afterEach(() => vi.unstubAllGlobals());

describe('baseQuery', () => {
  it('sends the bearer token from memory', async () => {
    const store = makeStore();
    store.dispatch(sessionStarted({ access_token: 'tok', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user }));
    const calls = mockFetch(() => json(200, conv));
    const res = await store.dispatch(conversationsApi.endpoints.getConversation.initiate('c1'));
    expect(res.data).toEqual(conv);
    expect(calls[0].headers.get('Authorization')).toBe('Bearer tok');
  });

  it('refreshes once on 401 (sharing one refresh between parallel requests) and retries', async () => {
    const store = makeStore();
    store.dispatch(sessionStarted({ access_token: 'old', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user }));
    let refreshes = 0;
    mockFetch(async (call) => {
      if (call.path === '/api/v1/auth/refresh') {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 10));
        return json(200, { access_token: 'new', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user });
      }
      return call.headers.get('Authorization') === 'Bearer new' ? json(200, conv) : json(401, { error: { code: 'unauthenticated' } });
    });
    const [a, b] = await Promise.all([
      store.dispatch(conversationsApi.endpoints.getConversation.initiate('c1')),
      store.dispatch(conversationsApi.endpoints.getConversation.initiate('c2')),
    ]);
    expect(a.data).toEqual(conv);
    expect(b.data).toEqual(conv);
    expect(refreshes).toBe(1);
    expect(store.getState().auth.accessToken).toBe('new');
  });

  it('normalises errors, keeping Retry-After', async () => {
    const store = makeStore();
    store.dispatch(sessionStarted({ access_token: 'tok', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user }));
    mockFetch(() => json(429, { error: { code: 'rate_limited', message: 'm', request_id: 'r' } }, { 'Retry-After': '9' }));
    const res = await store.dispatch(conversationsApi.endpoints.getConversation.initiate('c1'));
    expect(res.error).toEqual({ status: 429, code: 'rate_limited', message: 'm', requestId: 'r', retryAfter: 9 });
  });

  it('reports an unreachable server as network_error', async () => {
    const store = makeStore();
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('fetch failed');
    }));
    const res = await store.dispatch(conversationsApi.endpoints.getConversation.initiate('c1'));
    expect(res.error).toMatchObject({ status: 0, code: 'network_error' });
  });
});

describe('session end', () => {
  it('drops cached server data', async () => {
    const store = makeStore();
    store.dispatch(sessionStarted({ access_token: 'tok', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user }));
    mockFetch(() => json(200, conv));
    await store.dispatch(conversationsApi.endpoints.getConversation.initiate('c1'));
    expect(conversationsApi.endpoints.getConversation.select('c1')(store.getState()).data).toEqual(conv);
    store.dispatch(sessionEnded({ expired: true }));
    expect(conversationsApi.endpoints.getConversation.select('c1')(store.getState()).data).toBeUndefined();
  });
});

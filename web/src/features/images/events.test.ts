// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TokenResponse } from '../../app/apiTypes';
import { makeStore, type AppStore } from '../../app/store';
import { json, mockFetch, sse } from '../../test/http';
import { sessionStarted } from '../auth/authSlice';
import { flattenGenerations } from './cache';
import { parseGenerationEvent, reconnectDelay, Slots, watchGeneration } from './events';
import { imagesApi, storeGeneration } from './imagesApi';
import { generation } from './testData';
import type { Generation } from './types';
import { testUser } from '../../test/fixtures';

const user = testUser;
const tokens: TokenResponse = { access_token: 'tok', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user };

describe('parseGenerationEvent', () => {
  it('takes generation events with a usable body only', () => {
    const g = generation('g1', { status: 'running' });
    expect(parseGenerationEvent({ event: 'generation', data: JSON.stringify(g) })).toEqual(g);
    expect(parseGenerationEvent({ event: 'message', data: JSON.stringify(g) })).toBeNull();
    expect(parseGenerationEvent({ event: 'generation', data: '{broken' })).toBeNull();
    expect(parseGenerationEvent({ event: 'generation', data: '{"id":1}' })).toBeNull();
    expect(parseGenerationEvent({ event: 'generation', data: '{"id":"x","status":"pending"}' })?.images).toEqual([]);
  });
});

describe('reconnectDelay', () => {
  it('grows and is capped', () => {
    expect([0, 1, 2, 3, 10].map(reconnectDelay)).toEqual([1000, 2000, 4000, 8000, 15000]);
  });
});

describe('Slots', () => {
  it('hands out at most `limit` and queues the rest until a release or an abort', async () => {
    const slots = new Slots(1);
    const a = new AbortController();
    expect(await slots.acquire(a.signal)).toBe(true);
    let second: boolean | undefined;
    const p = slots.acquire(new AbortController().signal).then((v) => (second = v));
    const gone = new AbortController();
    const q = slots.acquire(gone.signal);
    await Promise.resolve();
    expect(second).toBeUndefined();
    gone.abort();
    expect(await q).toBe(false);
    slots.release();
    await p;
    expect(second).toBe(true);
  });
});

describe('watchGeneration', () => {
  let store: AppStore;
  beforeEach(() => {
    store = makeStore();
    store.dispatch(sessionStarted(tokens));
  });
  afterEach(() => vi.unstubAllGlobals());

  it('follows the stream to a terminal status with the bearer token, skipping pings', async () => {
    const seen: Generation[] = [];
    const calls = mockFetch(() => {
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(`event: generation\ndata: ${JSON.stringify(generation('g1'))}\n\n: ping\n\n`));
          c.enqueue(enc.encode(`event: generation\ndata: ${JSON.stringify(generation('g1', { status: 'running' }))}\n\n`));
          c.enqueue(enc.encode(`event: generation\ndata: ${JSON.stringify(generation('g1', { status: 'succeeded' }))}\n\n`));
          c.close();
        },
      });
      return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
    });
    await watchGeneration('g1', { onGeneration: (g) => seen.push(g), onGone: () => undefined }, new AbortController().signal, store.dispatch, store.getState);
    expect(seen.map((g) => g.status)).toEqual(['pending', 'running', 'succeeded']);
    expect(calls).toHaveLength(1);
    expect(calls[0].path).toBe('/api/v1/images/generations/g1/events');
    expect(calls[0].headers.get('Authorization')).toBe('Bearer tok');
    expect(calls[0].headers.get('Accept')).toBe('text/event-stream');
  });

  it('reopens a stream that ended early, and reports a generation that is gone', async () => {
    vi.useFakeTimers();
    try {
      let n = 0;
      const gone = vi.fn();
      mockFetch(() => {
        n += 1;
        if (n === 1) return sse([['generation', generation('g1', { status: 'running' })]]);
        return json(404, { error: { code: 'not_found', message: 'no' } });
      });
      const done = watchGeneration('g1', { onGeneration: () => undefined, onGone: gone }, new AbortController().signal, store.dispatch, store.getState);
      await vi.runAllTimersAsync();
      await done;
      expect(n).toBe(2);
      expect(gone).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    mockFetch((_call, signal) => sse([['generation', generation('g1', { status: 'running' })]], { hold: true, signal }));
    const seen: string[] = [];
    const done = watchGeneration(
      'g1',
      { onGeneration: (g) => { seen.push(g.status); controller.abort(); }, onGone: () => undefined },
      controller.signal,
      store.dispatch,
      store.getState,
    );
    await done;
    expect(seen).toEqual(['running']);
  });
});

describe('imagesApi cache', () => {
  let store: AppStore;
  beforeEach(() => {
    store = makeStore();
    store.dispatch(sessionStarted(tokens));
  });
  afterEach(() => vi.unstubAllGlobals());
  const listed = () => flattenGenerations(imagesApi.endpoints.listGenerations.select(undefined)(store.getState()).data?.pages);

  it('puts a new generation first, updates it from events, and removes it on delete', async () => {
    const calls = mockFetch((call) => {
      if (call.method === 'GET') return json(200, { items: [generation('old', { status: 'succeeded' })], next_cursor: null });
      if (call.method === 'POST') return json(202, generation('new'));
      return new Response(null, { status: 204 });
    });
    const sub = store.dispatch(imagesApi.endpoints.listGenerations.initiate(undefined));
    await sub;
    expect(calls[0].path).toBe('/api/v1/images/generations?limit=12');
    await store.dispatch(imagesApi.endpoints.createGeneration.initiate({ prompt: 'a fox', n: 1 }));
    expect(JSON.parse(calls[1].body)).toEqual({ prompt: 'a fox', n: 1 });
    expect(listed().map((g) => g.id)).toEqual(['new', 'old']);
    store.dispatch(storeGeneration(generation('new', { status: 'running' })));
    expect(listed()[0].status).toBe('running');
    await store.dispatch(imagesApi.endpoints.deleteGeneration.initiate('new'));
    expect(calls[2]).toMatchObject({ method: 'DELETE', path: '/api/v1/images/generations/new' });
    expect(listed().map((g) => g.id)).toEqual(['old']);
    sub.unsubscribe();
  });

  it('fetches the list again when a generation was created while it was still loading', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let listCalls = 0;
    const stored: ReturnType<typeof generation>[] = [];
    mockFetch(async (call) => {
      if (call.method === 'POST') {
        const g = generation('new');
        stored.unshift(g);
        return json(202, g);
      }
      listCalls += 1;
      const items = [...stored];
      if (listCalls === 1) await gate; // the first answer left before the POST
      return json(200, { items, next_cursor: null });
    });
    const sub = store.dispatch(imagesApi.endpoints.listGenerations.initiate(undefined));
    await store.dispatch(imagesApi.endpoints.createGeneration.initiate({ prompt: 'a fox' }));
    release();
    await vi.waitFor(() => expect(listed().map((g) => g.id)).toEqual(['new']));
    expect(listCalls).toBe(2);
    sub.unsubscribe();
  });

  it('puts a generation back when the delete fails', async () => {
    mockFetch((call) => {
      if (call.method === 'GET') return json(200, { items: [generation('a', { status: 'succeeded' })], next_cursor: null });
      return json(500, { error: { code: 'internal_error', message: 'x' } });
    });
    const sub = store.dispatch(imagesApi.endpoints.listGenerations.initiate(undefined));
    await sub;
    await store.dispatch(imagesApi.endpoints.deleteGeneration.initiate('a'));
    expect(listed().map((g) => g.id)).toEqual(['a']);
    sub.unsubscribe();
  });
});

import { describe, expect, it } from 'vitest';
import type { Message, Page } from '../../app/apiTypes';
import { buildChatItems } from './chatItems';
import type { StreamState } from './chatSlice';
import { flattenMessages, upsertIntoPages } from './messagesApi';

const m = (id: string, role: Message['role'] = 'user', extra: Partial<Message> = {}): Message => ({
  id,
  reasoning: null,
  error_code: null,
  conversation_id: 'c1',
  role,
  content: id,
  model: null,
  status: 'complete',
  input_tokens: 0,
  output_tokens: 0,
  parent_id: null,
  created_at: '2025-01-01T00:00:00Z',
  ...extra,
});

// Page 0 is the newest; each page is oldest-first.
const pages = (): { pages: Page<Message>[]; pageParams: (string | null)[] } => ({
  pages: [
    { items: [m('u3'), m('a3', 'assistant')], next_cursor: 'p1' },
    { items: [m('u1'), m('a1', 'assistant'), m('u2'), m('a2', 'assistant')], next_cursor: null },
  ],
  pageParams: [null, 'p1'],
});

describe('message pages', () => {
  it('flattens newest-first pages into display order', () => {
    expect(flattenMessages(pages()).map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3', 'a3']);
    expect(flattenMessages(undefined)).toEqual([]);
  });

  it('appends new messages to the newest page and replaces known ones', () => {
    const d = pages();
    upsertIntoPages(d, [m('u4'), m('a4', 'assistant')]);
    upsertIntoPages(d, [m('a4', 'assistant', { content: 'final' })]);
    expect(flattenMessages(d).map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3', 'a3', 'u4', 'a4']);
    expect(flattenMessages(d).at(-1)?.content).toBe('final');
  });

  it('swaps a regenerated answer in place', () => {
    const d = pages();
    upsertIntoPages(d, [m('a3b', 'assistant')], 'a3');
    expect(flattenMessages(d).map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3', 'a3b']);
  });

  it('creates a first page when there is none', () => {
    const d = { pages: [] as Page<Message>[], pageParams: [] as (string | null)[] };
    upsertIntoPages(d, [m('u1')]);
    expect(flattenMessages(d).map((x) => x.id)).toEqual(['u1']);
  });
});

describe('buildChatItems', () => {
  const stream = (over: Partial<StreamState>): StreamState => ({
    phase: 'streaming',
    request: { kind: 'send', content: 'q' },
    content: '',
    reasoning: '',
    startedAt: 1,
    ...over,
  });

  it('lists stored messages oldest first, without system messages, and counts the older pages', () => {
    const p = pages();
    p.pages[1].items.unshift(m('s', 'system'));
    const { items, olderCount } = buildChatItems(p.pages, undefined);
    expect(items.map((i) => i.key)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3', 'a3']);
    expect(olderCount).toBe(4);
    const last = items.at(-1)!;
    expect(last.type === 'message' && last.last).toBe(true);
  });

  it('adds the pending question and the streaming answer', () => {
    const { items } = buildChatItems(pages().pages, stream({ localUser: m('local', 'user') }));
    expect(items.map((i) => i.key).slice(-2)).toEqual(['pending-user', 'stream']);
    expect(items.some((i) => i.type === 'message' && i.last)).toBe(false);
  });

  it('drops the local echo once the stored question is in the list', () => {
    const p = pages();
    p.pages[0].items.push(m('u4'));
    const { items } = buildChatItems(p.pages, stream({ localUser: m('local'), userMessageId: 'u4' }));
    expect(items.map((i) => i.key).slice(-2)).toEqual(['u4', 'stream']);
  });

  it('hides the answer being regenerated and a stored copy of a stopped answer', () => {
    const regen = buildChatItems(pages().pages, stream({ request: { kind: 'regenerate', messageId: 'a3' } }));
    expect(regen.items.map((i) => i.key)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3', 'stream']);
    const p = pages();
    p.pages[0].items.push(m('u4'), m('a4', 'assistant'));
    const stopped = buildChatItems(p.pages, stream({ phase: 'stopped', userMessageId: 'u4', assistantMessageId: 'a4' }));
    expect(stopped.items.map((i) => i.key).slice(-2)).toEqual(['u4', 'stream']);
  });
});

import { describe, expect, it } from 'vitest';
import type { Message } from '../../app/apiTypes';
import {
  chatReducer,
  deltaReceived,
  selectIsStreaming,
  selectStream,
  storedAnswerFound,
  streamCompleted,
  streamDismissed,
  streamFailed,
  streamStarted,
  streamStopped,
  userMessageStored,
  type ChatState,
} from './chatSlice';

const msg = (id: string, role: Message['role'] = 'user'): Message => ({
  id,
  reasoning: null,
  error_code: null,
  conversation_id: 'c1',
  role,
  content: 'hi',
  model: 'qwen-plus',
  status: 'complete',
  input_tokens: 0,
  output_tokens: 0,
  parent_id: null,
  created_at: '2025-01-01T00:00:00Z',
});

const started = chatReducer(
  undefined,
  streamStarted({
    conversationId: 'c1',
    request: { kind: 'send', content: 'hi', model: 'qwen-plus' },
    localUser: msg('local-1'),
    startedAt: 5,
  }),
);

describe('chatSlice', () => {
  it('starts a stream with the local echo of the question', () => {
    const s = started.streams.c1;
    expect(s.phase).toBe('streaming');
    expect(s.localUser?.id).toBe('local-1');
    expect(s.content).toBe('');
    expect(selectIsStreaming({ chat: started }, 'c1')).toBe(true);
    expect(selectIsStreaming({ chat: started }, 'other')).toBe(false);
    expect(selectStream({ chat: started }, undefined)).toBeUndefined();
  });

  it('swaps the local echo for the stored question', () => {
    const s = chatReducer(started, userMessageStored({ conversationId: 'c1', message: msg('u1') }));
    expect(s.streams.c1.userMessageId).toBe('u1');
    expect(s.streams.c1.localUser).toBeUndefined();
  });

  it('appends content and reasoning deltas', () => {
    let s: ChatState = started;
    s = chatReducer(s, deltaReceived({ conversationId: 'c1', reasoning: 'Let me ' }));
    s = chatReducer(s, deltaReceived({ conversationId: 'c1', reasoning: 'think.' }));
    s = chatReducer(s, deltaReceived({ conversationId: 'c1', content: 'Hel' }));
    s = chatReducer(s, deltaReceived({ conversationId: 'c1', content: 'lo' }));
    expect(s.streams.c1.reasoning).toBe('Let me think.');
    expect(s.streams.c1.content).toBe('Hello');
  });

  it('ignores deltas for unknown or finished streams', () => {
    const s = chatReducer(started, deltaReceived({ conversationId: 'nope', content: 'x' }));
    expect(s).toEqual(started);
    const stopped = chatReducer(started, streamStopped({ conversationId: 'c1' }));
    expect(chatReducer(stopped, deltaReceived({ conversationId: 'c1', content: 'late' })).streams.c1.content).toBe('');
  });

  it('removes the stream when the answer is complete', () => {
    expect(chatReducer(started, streamCompleted({ conversationId: 'c1' })).streams).toEqual({});
  });

  it('keeps partial text and the error when a stream fails', () => {
    let s = chatReducer(started, deltaReceived({ conversationId: 'c1', content: 'part' }));
    s = chatReducer(s, streamFailed({ conversationId: 'c1', error: { status: 429, code: 'rate_limited', message: '', retryAfter: 3 } }));
    expect(s.streams.c1.phase).toBe('failed');
    expect(s.streams.c1.content).toBe('part');
    expect(s.streams.c1.error?.retryAfter).toBe(3);
    expect(selectIsStreaming({ chat: s }, 'c1')).toBe(false);
  });

  it('records the stored answer only once the stream is over', () => {
    const live = chatReducer(started, storedAnswerFound({ conversationId: 'c1', messageId: 'a1' }));
    expect(live.streams.c1.assistantMessageId).toBeUndefined();
    const stopped = chatReducer(started, streamStopped({ conversationId: 'c1' }));
    const s = chatReducer(stopped, storedAnswerFound({ conversationId: 'c1', messageId: 'a1' }));
    expect(s.streams.c1.phase).toBe('stopped');
    expect(s.streams.c1.assistantMessageId).toBe('a1');
    expect(chatReducer(s, streamDismissed({ conversationId: 'c1' })).streams).toEqual({});
  });

  it('a new stream replaces a failed one in the same conversation', () => {
    const failed = chatReducer(started, streamFailed({ conversationId: 'c1', error: { status: 0, code: 'network_error', message: '' } }));
    const again = chatReducer(
      failed,
      streamStarted({ conversationId: 'c1', request: { kind: 'regenerate', messageId: 'a1' }, startedAt: 9 }),
    );
    expect(again.streams.c1.phase).toBe('streaming');
    expect(again.streams.c1.error).toBeUndefined();
    expect(again.streams.c1.request).toEqual({ kind: 'regenerate', messageId: 'a1' });
  });
});

import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseEvent } from './sse';

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of readSse(body)) out.push(ev);
  return out;
}

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    const p = new SseParser();
    const events = p.feed('event: delta\ndata: {"content":"Hi"}\n\n');
    expect(events).toEqual([{ event: 'delta', data: '{"content":"Hi"}' }]);
  });

  it('defaults the event name to "message" and joins multi-line data', () => {
    const p = new SseParser();
    expect(p.feed('data: a\ndata: b\n\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('ignores comment lines (heartbeats) and events without data', () => {
    const p = new SseParser();
    expect(p.feed(': ping\n\n:keepalive\nevent: noop\n\n')).toEqual([]);
    expect(p.feed('event: done\ndata: {}\n\n')).toEqual([{ event: 'done', data: '{}' }]);
  });

  it('handles events split at any byte boundary', () => {
    const text = 'event: user_message\ndata: {"message":{"id":"m1"}}\n\nevent: delta\ndata: {"content":"x"}\n\n';
    for (let cut = 1; cut < text.length; cut += 1) {
      const p = new SseParser();
      const events = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
      expect(events.map((e) => e.event)).toEqual(['user_message', 'delta']);
    }
  });

  it('accepts CRLF and lone CR line endings, including a CRLF split across chunks', () => {
    const p = new SseParser();
    const events = [
      ...p.feed('event: delta\r\ndata: one\r'),
      ...p.feed('\n\r\nevent: delta\rdata: two\r\r'),
    ];
    expect(events).toEqual([
      { event: 'delta', data: 'one' },
      { event: 'delta', data: 'two' },
    ]);
  });

  it('strips exactly one space after the colon and keeps the rest', () => {
    const p = new SseParser();
    expect(p.feed('data:  two spaces\n\ndata:none\n\n')).toEqual([
      { event: 'message', data: ' two spaces' },
      { event: 'message', data: 'none' },
    ]);
  });

  it('remembers the last id', () => {
    const p = new SseParser();
    expect(p.feed('id: 7\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: '7' }]);
  });

  it('delivers a final event without its blank line on flush, but not a cut-off line', () => {
    const p = new SseParser();
    expect(p.feed('event: done\ndata: {"ok":true}\n')).toEqual([]);
    expect(p.flush()).toEqual([{ event: 'done', data: '{"ok":true}' }]);
    const q = new SseParser();
    q.feed('event: done\ndata: {"ok":tr');
    expect(q.flush()).toEqual([]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split inside a multi-byte character', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"content":"你好"}\n\n');
    const cut = bytes.indexOf(0xe4) + 1; // inside "你"
    const events = await collect(streamOf([bytes.slice(0, cut), bytes.slice(cut)]));
    expect(events).toEqual([{ event: 'delta', data: '{"content":"你好"}' }]);
  });

  it('yields a whole answer stream in order', async () => {
    const events = await collect(
      streamOf([
        'event: user_message\ndata: {"message":{"id":"u1"}}\n\n',
        ': heartbeat\n\n',
        'event: delta\ndata: {"reasoning":"hmm"}\n\nevent: delta\ndata: {"content":"He"}\n\n',
        'event: delta\ndata: {"content":"llo"}\n\nevent: done\ndata: {"message":{"id":"a1"}}\n\n',
      ]),
    );
    expect(events.map((e) => e.event)).toEqual(['user_message', 'delta', 'delta', 'delta', 'done']);
    expect(events.filter((e) => e.event === 'delta').map((e) => JSON.parse(e.data))).toEqual([
      { reasoning: 'hmm' },
      { content: 'He' },
      { content: 'llo' },
    ]);
  });

  it('cancels the body when the consumer stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const ev of readSse(body)) {
      expect(ev.data).toBe('x');
      break;
    }
    expect(cancelled).toBe(true);
  });
});

/**
 * Server-Sent Events reader for fetch() bodies.
 *
 * `SseParser` is pure: feed it whatever text arrived and it returns the events
 * completed so far. `readSse` drives it from a ReadableStream of bytes.
 * Follows the WHATWG event-stream rules: CRLF / LF / CR line endings, `:`
 * comment lines (heartbeats), multi-line `data`, one optional space after the colon.
 */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private pendingCr = false;
  private eventType = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;

  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.pendingCr) {
      // A CR ended the previous chunk; a LF starting this one belongs to it.
      if (text.startsWith('\n')) text = text.slice(1);
      this.pendingCr = false;
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i += 1) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i += 1;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
      const ev = this.processLine(line);
      if (ev) out.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /**
   * Call at end of stream. Complete lines of an event that lacked its closing
   * blank line are still delivered; an unterminated (possibly cut) line is dropped.
   */
  flush(): SseEvent[] {
    this.buffer = '';
    this.pendingCr = false;
    const last = this.dispatch();
    return last ? [last] : [];
  }

  private processLine(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        break; // `retry` and unknown fields are ignored
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    if (this.dataLines.length === 0) {
      this.eventType = '';
      return null;
    }
    const ev: SseEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n') };
    if (this.lastId !== undefined) ev.id = this.lastId;
    this.eventType = '';
    this.dataLines = [];
    return ev;
  }
}

/** Yields events from a byte stream until it ends (or the reader is cancelled). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const ev of parser.feed(decoder.decode(value, { stream: true }))) yield ev;
    }
    finished = true;
    const tail = decoder.decode();
    if (tail) for (const ev of parser.feed(tail)) yield ev;
    for (const ev of parser.flush()) yield ev;
  } finally {
    // The consumer stopped early (break / return / throw): let the server know.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

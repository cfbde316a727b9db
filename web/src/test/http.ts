import { vi } from 'vitest';

/**
 * Test double for the network: browsers resolve relative URLs against the page,
 * Node's Request does not, so relative URLs are resolved against http://hub.test.
 */
export const ORIGIN = 'http://hub.test';

const NativeRequest = globalThis.Request;
class PageRequest extends NativeRequest {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(typeof input === 'string' && input.startsWith('/') ? new URL(input, ORIGIN).toString() : input, init);
  }
}
globalThis.Request = PageRequest as typeof Request;

export interface Call {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

export type Handler = (call: Call, signal?: AbortSignal | null) => Response | Promise<Response>;

/** Replaces fetch with `handler`; returns the list of calls made. */
export function mockFetch(handler: Handler): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(input, init);
      const url = new URL(req.url, ORIGIN);
      const call: Call = {
        method: req.method,
        path: url.pathname + url.search,
        headers: req.headers,
        body: req.body ? await req.text() : '',
      };
      calls.push(call);
      return handler(call, init?.signal ?? req.signal);
    }),
  );
  return calls;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** An SSE response; with `hold`, the stream stays open until the request is aborted. */
export function sse(events: [string, unknown][], opts: { hold?: boolean; signal?: AbortSignal | null } = {}): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const [event, data] of events) {
        controller.enqueue(enc.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      }
      if (!opts.hold) {
        controller.close();
        return;
      }
      opts.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

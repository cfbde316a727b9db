import { API_BASE } from '../../app/api';
import { authorizedFetch } from '../../app/authorizedFetch';
import type { AppDispatch, RootState } from '../../app/store';
import { readSse, type SseEvent } from '../../lib/sse';
import { isTerminal } from './status';
import type { Generation } from './types';

/** The Generation carried by an `event: generation`, or null for anything else. */
export function parseGenerationEvent(ev: SseEvent): Generation | null {
  if (ev.event !== 'generation') return null;
  try {
    const g = JSON.parse(ev.data) as unknown;
    if (!g || typeof g !== 'object') return null;
    const gen = g as Generation;
    if (typeof gen.id !== 'string' || typeof gen.status !== 'string') return null;
    return { ...gen, images: Array.isArray(gen.images) ? gen.images : [] };
  } catch {
    return null;
  }
}

/** Waits before reconnecting a stream that broke: 1 s, 2 s, 4 s … at most 15 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(15_000, 1000 * 2 ** Math.max(0, attempt));
}

/**
 * At most `limit` event streams at once: each one holds a connection, and a browser has six
 * per host over HTTP/1.1, which the rest of the app needs too.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.used < this.limit) {
      this.used += 1;
      return true;
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.used += 1;
        resolve(true);
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      };
      this.waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    const next = this.waiting.shift();
    if (next) next();
  }
}

const slots = new Slots(3);

export interface WatchHandlers {
  /** Every state the server reports, the first one at once. */
  onGeneration: (g: Generation) => void;
  /** The generation is gone (deleted, or never was this user's). */
  onGone: () => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Follows GET /images/generations/{id}/events until the generation reaches a terminal status
 * (or `signal` aborts). A broken stream is reopened after a growing pause; its first event
 * brings the current state, so nothing is missed.
 */
export async function watchGeneration(
  id: string,
  handlers: WatchHandlers,
  signal: AbortSignal,
  dispatch: AppDispatch,
  getState: () => RootState,
): Promise<void> {
  let attempt = 0;
  while (!signal.aborted) {
    if (!(await slots.acquire(signal))) return;
    let terminal = false;
    try {
      const res = await authorizedFetch(
        `${API_BASE}/images/generations/${encodeURIComponent(id)}/events`,
        { headers: { Accept: 'text/event-stream' }, signal },
        dispatch,
        getState,
      );
      if (res.status === 404) {
        handlers.onGone();
        return;
      }
      if (res.status === 401 || res.status === 403) return; // the session is over
      if (res.ok && res.body) {
        for await (const ev of readSse(res.body)) {
          const g = parseGenerationEvent(ev);
          if (!g) continue;
          attempt = 0;
          handlers.onGeneration(g);
          if (isTerminal(g.status)) {
            terminal = true;
            break;
          }
        }
      } else {
        await res.body?.cancel().catch(() => undefined);
      }
    } catch {
      /* network trouble or abort: decided below */
    } finally {
      slots.release();
    }
    if (terminal || signal.aborted) return;
    await sleep(reconnectDelay(attempt), signal);
    attempt += 1;
  }
}

import type { TokenResponse } from '../../app/apiTypes';
import type { AppDispatch } from '../../app/store';
import { sessionEnded, sessionStarted } from './authSlice';

export type RefreshOutcome = 'ok' | 'rejected' | 'network';

let inflight: Promise<RefreshOutcome> | null = null;

/**
 * Renews the access token through the HttpOnly refresh cookie. Concurrent callers
 * share one request (the server rotates refresh tokens: two parallel refreshes
 * would look like reuse). Callers decide what a failure means: see `endExpiredSession`.
 */
export function refreshSession(dispatch: AppDispatch): Promise<RefreshOutcome> {
  inflight ??= acrossTabs(() => doRefresh(dispatch)).finally(() => {
    inflight = null;
  });
  return inflight;
}

/**
 * Other tabs share the refresh cookie: two of them presenting the same refresh token at once
 * would look like reuse and end the session everywhere. A Web Lock makes them take turns; the
 * second one then sends the cookie the first one received.
 */
function acrossTabs<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks || typeof locks.request !== 'function') return fn();
  return locks.request('bailian-hub.refresh', fn) as Promise<T>;
}

async function doRefresh(dispatch: AppDispatch): Promise<RefreshOutcome> {
  let res: Response;
  try {
    res = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: '{}',
    });
  } catch {
    return 'network';
  }
  if (res.ok) {
    try {
      const body = (await res.json()) as TokenResponse;
      if (body && typeof body.access_token === 'string') {
        dispatch(sessionStarted(body));
        return 'ok';
      }
    } catch {
      /* fall through */
    }
    return 'network';
  }
  if (res.status >= 500 || res.status === 429) return 'network';
  return 'rejected';
}

/** The refresh cookie was refused while signed in: back to sign-in, drafts kept. */
export function endExpiredSession(dispatch: AppDispatch): void {
  dispatch(sessionEnded({ expired: true }));
}

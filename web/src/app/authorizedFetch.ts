import { endExpiredSession, refreshSession } from '../features/auth/session';
import type { AppDispatch, RootState } from './store';

/**
 * fetch() with the in-memory bearer token and the same session rules as the
 * RTK Query base query (one refresh + retry on 401). For streams and downloads.
 */
export async function authorizedFetch(
  url: string,
  init: RequestInit,
  dispatch: AppDispatch,
  getState: () => RootState,
): Promise<Response> {
  const attempt = () => {
    const headers = new Headers(init.headers);
    const token = getState().auth.accessToken;
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers, credentials: 'same-origin' });
  };
  const res = await attempt();
  if (res.status !== 401 || getState().auth.status !== 'authenticated') return res;
  const outcome = await refreshSession(dispatch);
  if (outcome === 'ok') return attempt();
  if (outcome === 'rejected') endExpiredSession(dispatch);
  return res;
}

import {
  createApi,
  fetchBaseQuery,
  type BaseQueryFn,
  type FetchArgs,
  type FetchBaseQueryError,
} from '@reduxjs/toolkit/query/react';
import { networkError, toApiError, type ApiError } from '../lib/apiError';
import { endExpiredSession, refreshSession } from '../features/auth/session';
import type { AppDispatch, RootState } from './store';

export const API_BASE = '/api/v1';

const rawBaseQuery = fetchBaseQuery({
  baseUrl: API_BASE,
  credentials: 'same-origin',
  prepareHeaders(headers, { getState }) {
    const token = (getState() as RootState).auth.accessToken;
    if (token && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${token}`);
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    return headers;
  },
});

const NO_REAUTH = ['/auth/login', '/auth/register', '/auth/refresh', '/auth/logout'];

function urlOf(args: string | FetchArgs): string {
  return typeof args === 'string' ? args : args.url;
}

function normalise(error: FetchBaseQueryError, headers?: Headers): ApiError {
  if (typeof error.status === 'number') return toApiError(error.status, error.data, headers);
  if (error.status === 'PARSING_ERROR') return toApiError(error.originalStatus, null, headers);
  if (error.status === 'FETCH_ERROR' || error.status === 'TIMEOUT_ERROR') return networkError(error.error);
  return { status: 0, code: 'request_failed', message: error.error };
}

/**
 * fetchBaseQuery + the session rules: the bearer token from memory, one silent
 * refresh and retry on a 401, errors normalised to ApiError (with Retry-After).
 */
export const baseQuery: BaseQueryFn<string | FetchArgs, unknown, ApiError> = async (args, api, extra) => {
  let result = await rawBaseQuery(args, api, extra);
  const url = urlOf(args);
  if (
    result.error?.status === 401 &&
    !NO_REAUTH.some((p) => url.startsWith(p)) &&
    (api.getState() as RootState).auth.status === 'authenticated'
  ) {
    const outcome = await refreshSession(api.dispatch as AppDispatch);
    if (outcome === 'ok') result = await rawBaseQuery(args, api, extra);
    else if (outcome === 'rejected') endExpiredSession(api.dispatch as AppDispatch);
  }
  if (result.error) {
    return { error: normalise(result.error, result.meta?.response?.headers), meta: result.meta };
  }
  return { data: result.data, meta: result.meta };
};

/** The one RTK Query API; features add their endpoints with injectEndpoints. */
export const api = createApi({
  reducerPath: 'api',
  baseQuery,
  tagTypes: ['Conversation', 'ConversationList', 'Messages', 'Me', 'Sessions', 'Models', 'ImageGenerations', 'Usage', 'Passkeys'],
  endpoints: () => ({}),
});

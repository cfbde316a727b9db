import { api } from '../../app/api';
import type { AuthSession, Page, RequestBody, User } from '../../app/apiTypes';
import type { AppThunk } from '../../app/store';
import { allDraftsCleared } from '../chat/draftsSlice';
import { isTokens, type LoginAnswer } from '../mfa/mfaApi';
import { sessionEnded, sessionStarted } from './authSlice';

export type LoginRequest = RequestBody<'postAuthLogin'>;
export type RegisterRequest = RequestBody<'postAuthRegister'>;

function itemsOf<T>(body: Page<T> | T[]): T[] {
  return Array.isArray(body) ? body : (body.items ?? []);
}

export const authApi = api.injectEndpoints({
  endpoints: (build) => ({
    // The tokens, or (MFA) the second step that is due: the page then asks for the code.
    login: build.mutation<LoginAnswer, LoginRequest>({
      query: (body) => ({ url: '/auth/login', method: 'POST', body, credentials: 'include' }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          if (isTokens(data)) dispatch(sessionStarted(data));
        } catch {
          /* the form shows the error */
        }
      },
    }),
    register: build.mutation<{ user: User }, RegisterRequest>({
      query: (body) => ({ url: '/auth/register', method: 'POST', body }),
    }),
    logout: build.mutation<void, void>({
      query: () => ({ url: '/auth/logout', method: 'POST', body: {}, credentials: 'include' }),
    }),
    listSessions: build.query<AuthSession[], void>({
      query: () => '/auth/sessions',
      transformResponse: (body: Page<AuthSession> | AuthSession[]) => itemsOf(body),
      providesTags: ['Sessions'],
    }),
    revokeSession: build.mutation<void, string>({
      query: (id) => ({ url: `/auth/sessions/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['Sessions'],
    }),
  }),
});

export const {
  useLoginMutation,
  useRegisterMutation,
  useListSessionsQuery,
  useRevokeSessionMutation,
} = authApi;

/** Signs out here and on the server; clears every trace of the account from memory. */
export function signOut(): AppThunk<Promise<void>> {
  return async (dispatch) => {
    try {
      await dispatch(authApi.endpoints.logout.initiate()).unwrap();
    } catch {
      /* signed out locally all the same */
    }
    dispatch(sessionEnded({ expired: false })); // also stops streams and drops cached data
    dispatch(allDraftsCleared());
  };
}

import { api } from '../../app/api';
import type { Page, RequestBody, Schemas } from '../../app/apiTypes';
import { sessionStarted } from '../auth/authSlice';
import { isTokens, type LoginAnswer } from '../mfa/mfaApi';

export type SsoProvider = Schemas['SsoProvider'];
export type UserIdentity = Schemas['UserIdentity'];
export type SsoExchange = RequestBody<'postAuthSsoExchange'>;
export type SsoLink = RequestBody<'postAuthSsoLink'>;

/** Where a "Sign in with …" button goes: a full navigation, the hub redirects to the provider. */
export function ssoStartUrl(id: string): string {
  return `/api/v1/auth/sso/${encodeURIComponent(id)}/start`;
}

const tagged = api.enhanceEndpoints({ addTagTypes: ['Identities'] });

async function startSession(
  queryFulfilled: Promise<{ data: LoginAnswer }>,
  dispatch: (a: ReturnType<typeof sessionStarted>) => unknown,
) {
  try {
    const { data } = await queryFulfilled;
    if (isTokens(data)) dispatch(sessionStarted(data));
  } catch {
    /* the page shows the error */
  }
}

export const ssoApi = tagged.injectEndpoints({
  endpoints: (build) => ({
    ssoProviders: build.query<SsoProvider[], void>({
      query: () => '/auth/sso/providers',
      transformResponse: (body: Page<SsoProvider>) => body.items ?? [],
    }),
    ssoExchange: build.mutation<LoginAnswer, SsoExchange>({
      query: (body) => ({ url: '/auth/sso/exchange', method: 'POST', body, credentials: 'include' }),
      onQueryStarted: (_arg, { dispatch, queryFulfilled }) => startSession(queryFulfilled, dispatch),
    }),
    ssoLink: build.mutation<LoginAnswer, SsoLink>({
      query: (body) => ({ url: '/auth/sso/link', method: 'POST', body, credentials: 'include' }),
      onQueryStarted: (_arg, { dispatch, queryFulfilled }) => startSession(queryFulfilled, dispatch),
    }),
    identities: build.query<UserIdentity[], void>({
      query: () => '/users/me/identities',
      transformResponse: (body: Page<UserIdentity>) => body.items ?? [],
      providesTags: ['Identities'],
    }),
    unlinkIdentity: build.mutation<void, string>({
      query: (id) => ({ url: `/users/me/identities/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['Identities'],
    }),
  }),
});

export const {
  useSsoProvidersQuery,
  useSsoExchangeMutation,
  useSsoLinkMutation,
  useIdentitiesQuery,
  useUnlinkIdentityMutation,
} = ssoApi;

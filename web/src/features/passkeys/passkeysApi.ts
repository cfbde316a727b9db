import { api } from '../../app/api';
import type { Page, Schemas, TokenResponse } from '../../app/apiTypes';
import { sessionStarted } from '../auth/authSlice';
import type { AssertionJson, AttestationJson, CreationOptionsJson, RequestOptionsJson } from './webauthn';

export type Passkey = Schemas['Passkey'];

export const passkeysApi = api.injectEndpoints({
  endpoints: (build) => ({
    listPasskeys: build.query<Passkey[], void>({
      query: () => '/users/me/passkeys',
      transformResponse: (body: Page<Passkey>) => body.items ?? [],
      providesTags: ['Passkeys'],
    }),
    passkeyCreationOptions: build.mutation<CreationOptionsJson, void>({
      query: () => ({ url: '/users/me/passkeys/options', method: 'POST', body: {} }),
    }),
    addPasskey: build.mutation<Passkey, { name?: string; credential: AttestationJson }>({
      query: (body) => ({ url: '/users/me/passkeys', method: 'POST', body }),
      invalidatesTags: ['Passkeys'],
    }),
    renamePasskey: build.mutation<Passkey, { id: string; name: string }>({
      query: ({ id, name }) => ({ url: `/users/me/passkeys/${encodeURIComponent(id)}`, method: 'PATCH', body: { name } }),
      invalidatesTags: ['Passkeys'],
    }),
    deletePasskey: build.mutation<void, string>({
      query: (id) => ({ url: `/users/me/passkeys/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['Passkeys'],
    }),
    passkeySignInOptions: build.mutation<RequestOptionsJson, void>({
      query: () => ({ url: '/auth/passkey/options', method: 'POST', body: {} }),
    }),
    signInWithPasskey: build.mutation<TokenResponse, { credential: AssertionJson }>({
      query: (body) => ({ url: '/auth/passkey', method: 'POST', body, credentials: 'include' }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          dispatch(sessionStarted((await queryFulfilled).data));
        } catch {
          /* the button shows the error */
        }
      },
    }),
    passkeySecondStepOptions: build.mutation<RequestOptionsJson, { mfa_token: string }>({
      query: (body) => ({ url: '/auth/login/mfa/passkey/options', method: 'POST', body }),
    }),
    passkeySecondStep: build.mutation<TokenResponse, { mfa_token: string; credential: AssertionJson }>({
      query: (body) => ({ url: '/auth/login/mfa/passkey', method: 'POST', body, credentials: 'include' }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          dispatch(sessionStarted((await queryFulfilled).data));
        } catch {
          /* the step shows the error */
        }
      },
    }),
  }),
});

export const {
  useListPasskeysQuery,
  usePasskeyCreationOptionsMutation,
  useAddPasskeyMutation,
  useRenamePasskeyMutation,
  useDeletePasskeyMutation,
  usePasskeySignInOptionsMutation,
  useSignInWithPasskeyMutation,
  usePasskeySecondStepOptionsMutation,
  usePasskeySecondStepMutation,
} = passkeysApi;

import { api } from '../../app/api';
import type { RequestBody, Schemas, TokenResponse } from '../../app/apiTypes';
import { sessionStarted } from '../auth/authSlice';

export type MfaStatus = Schemas['MfaStatus'];
export type TotpEnrollment = Schemas['TotpEnrollment'];
export type RecoveryCodes = Schemas['RecoveryCodes'];
export type MfaChallenge = Schemas['MfaChallenge'];
export type MfaEnrollmentChallenge = Schemas['MfaEnrollmentChallenge'];
export type EnrolledSignIn = Schemas['EnrolledSignIn'];
export type PasswordAndCode = RequestBody<'postUsersMeMfaRecoveryCodes'>;
export type SecondStep = RequestBody<'postAuthLoginMfa'>;

/** What POST /auth/login answers: the tokens, or the second step that is due. */
export type LoginAnswer = TokenResponse | MfaChallenge | MfaEnrollmentChallenge;

export function isTokens(a: LoginAnswer): a is TokenResponse {
  return 'access_token' in a;
}

export function isMfaChallenge(a: LoginAnswer): a is MfaChallenge {
  return 'mfa_required' in a && a.mfa_required === true;
}

export function isEnrollmentChallenge(a: LoginAnswer): a is MfaEnrollmentChallenge {
  return 'mfa_enrollment_required' in a && a.mfa_enrollment_required === true;
}

export const mfaApi = api.injectEndpoints({
  endpoints: (build) => ({
    getMfaStatus: build.query<MfaStatus, void>({
      query: () => '/users/me/mfa',
      providesTags: ['Me'],
    }),
    beginTotp: build.mutation<TotpEnrollment, void>({
      query: () => ({ url: '/users/me/mfa/totp', method: 'POST' }),
      invalidatesTags: ['Me'],
    }),
    confirmTotp: build.mutation<RecoveryCodes, { code: string }>({
      query: (body) => ({ url: '/users/me/mfa/totp/confirm', method: 'POST', body }),
      invalidatesTags: ['Me', 'Sessions'],
    }),
    regenerateRecoveryCodes: build.mutation<RecoveryCodes, PasswordAndCode>({
      query: (body) => ({ url: '/users/me/mfa/recovery-codes', method: 'POST', body }),
      invalidatesTags: ['Me'],
    }),
    disableTotp: build.mutation<void, PasswordAndCode>({
      query: (body) => ({ url: '/users/me/mfa/totp', method: 'DELETE', body }),
      invalidatesTags: ['Me', 'Sessions'],
    }),
    // The second sign-in step: the same answer (and cookie) as a password sign-in.
    loginMfa: build.mutation<TokenResponse, SecondStep>({
      query: (body) => ({ url: '/auth/login/mfa', method: 'POST', body, credentials: 'include' }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          dispatch(sessionStarted((await queryFulfilled).data));
        } catch {
          /* the form shows the error */
        }
      },
    }),
    loginEnroll: build.mutation<TotpEnrollment, { mfa_token: string }>({
      query: (body) => ({ url: '/auth/login/mfa/enroll', method: 'POST', body }),
    }),
    // Not signed in here: the page shows the recovery codes first, then starts the session.
    loginEnrollConfirm: build.mutation<EnrolledSignIn, { mfa_token: string; code: string }>({
      query: (body) => ({ url: '/auth/login/mfa/enroll/confirm', method: 'POST', body, credentials: 'include' }),
    }),
  }),
});

export const {
  useGetMfaStatusQuery,
  useBeginTotpMutation,
  useConfirmTotpMutation,
  useRegenerateRecoveryCodesMutation,
  useDisableTotpMutation,
  useLoginMfaMutation,
  useLoginEnrollMutation,
  useLoginEnrollConfirmMutation,
} = mfaApi;

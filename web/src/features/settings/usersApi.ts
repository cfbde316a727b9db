import { api } from '../../app/api';
import type { RequestBody, User } from '../../app/apiTypes';
import { userUpdated } from '../auth/authSlice';

export type ProfileUpdate = RequestBody<'patchUsersMe'>;
export type PasswordChange = RequestBody<'postUsersMePassword'>;

function unwrapUser(body: User | { user: User }): User {
  return 'user' in body && body.user && typeof body.user === 'object' ? body.user : (body as User);
}

export const usersApi = api.injectEndpoints({
  endpoints: (build) => ({
    getMe: build.query<User, void>({
      query: () => '/users/me',
      transformResponse: unwrapUser,
      providesTags: ['Me'],
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          dispatch(userUpdated((await queryFulfilled).data));
        } catch {
          /* shown by the caller */
        }
      },
    }),
    updateMe: build.mutation<User, ProfileUpdate>({
      query: (body) => ({ url: '/users/me', method: 'PATCH', body }),
      transformResponse: unwrapUser,
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(userUpdated(data));
          dispatch(usersApi.util.upsertQueryData('getMe', undefined, data));
        } catch {
          /* shown by the caller */
        }
      },
    }),
    changePassword: build.mutation<void, PasswordChange>({
      query: (body) => ({ url: '/users/me/password', method: 'POST', body }),
      invalidatesTags: ['Sessions'],
    }),
  }),
});

export const { useGetMeQuery, useUpdateMeMutation, useChangePasswordMutation } = usersApi;

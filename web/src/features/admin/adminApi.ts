import { api } from '../../app/api';
import type { Page, RequestBody, Schemas } from '../../app/apiTypes';

export type AdminUser = Schemas['AdminUser'];
/** `quota` replaces all six: a field left out is back to the role's default. */
export type AdminUserPatch = RequestBody<'patchAdminUsersById'>;
export type UpstreamKeyHealth = Schemas['UpstreamKeyHealth'];
export type UpstreamKey = Schemas['UpstreamKey'];
export type UpstreamKeyCreate = RequestBody<'postAdminUpstreamKeys'>;
export type UpstreamKeyPatch = RequestBody<'patchAdminUpstreamKeysById'>;
export type UpstreamKeyRotate = RequestBody<'postAdminUpstreamKeysByIdRotate'>;
export type AuditEntry = Schemas['AuditEntry'];

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  from?: string;
  to?: string;
}

const tagged = api.enhanceEndpoints({ addTagTypes: ['AdminUsers', 'UpstreamKeys'] });

export const adminApi = tagged.injectEndpoints({
  endpoints: (build) => ({
    listUsers: build.infiniteQuery<Page<AdminUser>, { q: string }, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (last) => last.next_cursor || undefined,
      },
      query: ({ queryArg, pageParam }) => ({
        url: '/admin/users',
        params: { limit: 50, ...(queryArg.q ? { q: queryArg.q } : {}), ...(pageParam ? { cursor: pageParam } : {}) },
      }),
      providesTags: ['AdminUsers'],
    }),
    deleteUser: build.mutation<void, string>({
      query: (id) => ({ url: `/admin/users/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['AdminUsers'],
    }),
    updateUser: build.mutation<AdminUser, { id: string; patch: AdminUserPatch }>({
      query: ({ id, patch }) => ({ url: `/admin/users/${encodeURIComponent(id)}`, method: 'PATCH', body: patch }),
      invalidatesTags: ['AdminUsers'],
    }),
    listUpstreamKeys: build.query<UpstreamKey[], void>({
      query: () => '/admin/upstream-keys',
      transformResponse: (body: Page<UpstreamKey>) => body.items,
      providesTags: ['UpstreamKeys'],
    }),
    addUpstreamKey: build.mutation<UpstreamKey, UpstreamKeyCreate>({
      query: (body) => ({ url: '/admin/upstream-keys', method: 'POST', body }),
      invalidatesTags: ['UpstreamKeys'],
    }),
    rotateUpstreamKey: build.mutation<UpstreamKey, { id: string } & UpstreamKeyRotate>({
      query: ({ id, secret }) => ({ url: `/admin/upstream-keys/${encodeURIComponent(id)}/rotate`, method: 'POST', body: { secret } }),
      invalidatesTags: ['UpstreamKeys'],
    }),
    updateUpstreamKey: build.mutation<UpstreamKey, { id: string } & UpstreamKeyPatch>({
      query: ({ id, ...body }) => ({ url: `/admin/upstream-keys/${encodeURIComponent(id)}`, method: 'PATCH', body }),
      invalidatesTags: ['UpstreamKeys'],
    }),
    deleteUpstreamKey: build.mutation<void, string>({
      query: (id) => ({ url: `/admin/upstream-keys/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: ['UpstreamKeys'],
    }),
    listAudit: build.infiniteQuery<Page<AuditEntry>, AuditFilter, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (last) => last.next_cursor || undefined,
      },
      query: ({ queryArg, pageParam }) => {
        const params: Record<string, string | number> = { limit: 50 };
        for (const [k, v] of Object.entries(queryArg)) if (v) params[k] = v;
        if (pageParam) params.cursor = pageParam;
        return { url: '/admin/audit-logs', params };
      },
    }),
  }),
});

export const {
  useDeleteUserMutation,
  useListUsersInfiniteQuery,
  useUpdateUserMutation,
  useListUpstreamKeysQuery,
  useAddUpstreamKeyMutation,
  useRotateUpstreamKeyMutation,
  useUpdateUpstreamKeyMutation,
  useDeleteUpstreamKeyMutation,
  useListAuditInfiniteQuery,
} = adminApi;

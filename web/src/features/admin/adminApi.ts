import { api } from '../../app/api';
import type { Page } from '../../app/apiTypes';
import type { components } from '../../app/openapi.gen';
import type { UserQuota } from '../limits/limitRules';

export type AdminUser = components['schemas']['AdminUser'];

export interface AdminUserPatch {
  role?: string;
  status?: 'active' | 'disabled';
  /** Replaces all six: a field left out is back to the role's default. */
  quota?: UserQuota;
}

export interface UpstreamKeyHealth {
  state: 'active' | 'cooling' | 'probing' | 'disabled' | 'retiring' | string;
  in_flight: number;
  consecutive_failures: number;
  cooldown_until: string | null;
  total_requests: number;
  total_failures: number;
  calls_last_hour: number;
  errors_last_hour: number;
  last_error: string | null;
  last_error_at: string | null;
}

export interface UpstreamKey {
  id: string;
  name: string;
  last4: string;
  status: 'active' | 'disabled' | string;
  weight: number;
  created_at: string;
  rotated_at: string | null;
  health: UpstreamKeyHealth | null;
}

export interface AuditEntry {
  id: string;
  actor_user_id: string | null;
  action: string;
  target: string;
  ip: string;
  request_id: string;
  detail: Record<string, unknown>;
  created_at: string;
}

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
    updateUser: build.mutation<AdminUser, { id: string; patch: AdminUserPatch }>({
      query: ({ id, patch }) => ({ url: `/admin/users/${encodeURIComponent(id)}`, method: 'PATCH', body: patch }),
      invalidatesTags: ['AdminUsers'],
    }),
    listUpstreamKeys: build.query<UpstreamKey[], void>({
      query: () => '/admin/upstream-keys',
      transformResponse: (body: Page<UpstreamKey>) => body.items,
      providesTags: ['UpstreamKeys'],
    }),
    addUpstreamKey: build.mutation<UpstreamKey, { name: string; secret: string; weight?: number }>({
      query: (body) => ({ url: '/admin/upstream-keys', method: 'POST', body }),
      invalidatesTags: ['UpstreamKeys'],
    }),
    rotateUpstreamKey: build.mutation<UpstreamKey, { id: string; secret: string }>({
      query: ({ id, secret }) => ({ url: `/admin/upstream-keys/${encodeURIComponent(id)}/rotate`, method: 'POST', body: { secret } }),
      invalidatesTags: ['UpstreamKeys'],
    }),
    updateUpstreamKey: build.mutation<UpstreamKey, { id: string; status?: 'active' | 'disabled'; weight?: number }>({
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
  useListUsersInfiniteQuery,
  useUpdateUserMutation,
  useListUpstreamKeysQuery,
  useAddUpstreamKeyMutation,
  useRotateUpstreamKeyMutation,
  useUpdateUpstreamKeyMutation,
  useDeleteUpstreamKeyMutation,
  useListAuditInfiniteQuery,
} = adminApi;

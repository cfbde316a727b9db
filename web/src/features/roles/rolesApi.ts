import { api } from '../../app/api';
import type { Page, RequestBody, Schemas } from '../../app/apiTypes';

export type RoleRecord = Schemas['Role'];
export type RoleCreate = RequestBody<'postAdminRoles'>;
export type RolePatch = RequestBody<'patchAdminRolesByName'>;
export interface PermissionInfo {
  name: string;
  description: string;
}

const tagged = api.enhanceEndpoints({ addTagTypes: ['Roles'] });

export const rolesApi = tagged.injectEndpoints({
  endpoints: (build) => ({
    listRoles: build.query<RoleRecord[], void>({
      query: () => '/admin/roles',
      transformResponse: (body: Page<RoleRecord>) => body.items,
      providesTags: ['Roles'],
    }),
    listPermissions: build.query<PermissionInfo[], void>({
      query: () => '/admin/permissions',
      transformResponse: (body: Page<PermissionInfo>) => body.items,
      keepUnusedDataFor: 600,
    }),
    createRole: build.mutation<RoleRecord, RoleCreate>({
      query: (body) => ({ url: '/admin/roles', method: 'POST', body }),
      invalidatesTags: ['Roles'],
    }),
    updateRole: build.mutation<RoleRecord, { name: string; patch: RolePatch }>({
      query: ({ name, patch }) => ({ url: `/admin/roles/${encodeURIComponent(name)}`, method: 'PATCH', body: patch }),
      invalidatesTags: ['Roles'],
    }),
    deleteRole: build.mutation<void, string>({
      query: (name) => ({ url: `/admin/roles/${encodeURIComponent(name)}`, method: 'DELETE' }),
      invalidatesTags: ['Roles'],
    }),
  }),
});

export const {
  useListRolesQuery,
  useListPermissionsQuery,
  useCreateRoleMutation,
  useUpdateRoleMutation,
  useDeleteRoleMutation,
} = rolesApi;

/** The groups the role editor shows permissions in, in order. */
export type PermissionGroup = 'models' | 'own' | 'admin';

/** Splits permissions into the editor's groups: model families, the user's own data, administration. */
export function groupPermissions(perms: readonly PermissionInfo[]): { group: PermissionGroup; items: PermissionInfo[] }[] {
  const groups: Record<PermissionGroup, PermissionInfo[]> = { models: [], own: [], admin: [] };
  for (const p of perms) {
    if (p.name.startsWith('models:')) groups.models.push(p);
    else if (p.name.endsWith(':own')) groups.own.push(p);
    else groups.admin.push(p);
  }
  return (['models', 'own', 'admin'] as const).filter((g) => groups[g].length > 0).map((g) => ({ group: g, items: groups[g] }));
}

import { api, API_BASE } from '../../app/api';
import { authorizedFetch } from '../../app/authorizedFetch';
import type { Page, RequestBody, Schemas } from '../../app/apiTypes';
import type { AppThunk } from '../../app/store';
import { apiErrorFromResponse, networkError, type ApiError } from '../../lib/apiError';

export type DataExport = Schemas['DataExport'];
export type DeleteAccount = RequestBody<'deleteUsersMe'>;

const tagged = api.enhanceEndpoints({ addTagTypes: ['DataExports'] });

export const dataRightsApi = tagged.injectEndpoints({
  endpoints: (build) => ({
    listExports: build.query<Page<DataExport>, void>({
      query: () => '/users/me/exports',
      providesTags: ['DataExports'],
    }),
    startExport: build.mutation<DataExport, void>({
      query: () => ({ url: '/users/me/exports', method: 'POST' }),
      invalidatesTags: ['DataExports'],
    }),
    deleteAccount: build.mutation<void, DeleteAccount>({
      query: (body) => ({ url: '/users/me', method: 'DELETE', body, credentials: 'include' }),
    }),
  }),
});

export const { useListExportsQuery, useStartExportMutation, useDeleteAccountMutation } = dataRightsApi;

/** Downloads a finished export (the bearer token is needed, so not a plain link). */
export function downloadExport(e: DataExport): AppThunk<Promise<ApiError | null>> {
  return async (dispatch, getState) => {
    let res: Response;
    try {
      res = await authorizedFetch(`${API_BASE}/users/me/exports/${encodeURIComponent(e.id)}/download`, {}, dispatch, getState);
    } catch (err) {
      return networkError(err instanceof Error ? err.message : '');
    }
    if (!res.ok) return apiErrorFromResponse(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `bailian-hub-export-${e.created_at.slice(0, 10)}.zip`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return null;
  };
}

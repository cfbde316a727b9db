import { API_BASE } from '../../app/api';
import { authorizedFetch } from '../../app/authorizedFetch';
import type { AppThunk } from '../../app/store';
import { apiErrorFromResponse, networkError, type ApiError } from '../../lib/apiError';
import { filterParams, type HistoryFilter } from './historyApi';

/** Downloads GET /history/calls.csv for the filter (needs the bearer token, so not a plain link). */
export function downloadCallsCsv(filter: HistoryFilter): AppThunk<Promise<ApiError | null>> {
  return async (dispatch, getState) => {
    const query = new URLSearchParams(filterParams(filter)).toString();
    let res: Response;
    try {
      res = await authorizedFetch(`${API_BASE}/history/calls.csv?${query}`, { headers: { Accept: 'text/csv' } }, dispatch, getState);
    } catch (e) {
      return networkError(e instanceof Error ? e.message : '');
    }
    if (!res.ok) return apiErrorFromResponse(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `bailian-hub-calls-${filter.from.slice(0, 10)}-${filter.to.slice(0, 10)}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return null;
  };
}

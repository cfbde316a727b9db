import { API_BASE } from '../../app/api';
import { authorizedFetch } from '../../app/authorizedFetch';
import type { AppThunk } from '../../app/store';
import { apiErrorFromResponse, networkError, type ApiError } from '../../lib/apiError';

export type ExportFormat = 'markdown' | 'json';

/** File name from Content-Disposition, or a safe one made from the title. */
export function exportFileName(disposition: string | null, title: string, format: ExportFormat): string {
  const ext = format === 'markdown' ? 'md' : 'json';
  const star = disposition?.match(/filename\*=UTF-8''([^;]+)/i);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      /* fall through */
    }
  }
  const plain = disposition?.match(/filename="?([^";]+)"?/i);
  if (plain) return plain[1];
  const base = title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').trim().slice(0, 80) || 'conversation';
  return `${base}.${ext}`;
}

/** Downloads GET /conversations/{id}/export?format=… (needs the bearer token, so not a plain link). */
export function exportConversation(id: string, title: string, format: ExportFormat): AppThunk<Promise<ApiError | null>> {
  return async (dispatch, getState) => {
    let res: Response;
    try {
      res = await authorizedFetch(
        `${API_BASE}/conversations/${encodeURIComponent(id)}/export?format=${format}`,
        { headers: { Accept: format === 'json' ? 'application/json' : 'text/markdown' } },
        dispatch,
        getState,
      );
    } catch (e) {
      return networkError(e instanceof Error ? e.message : '');
    }
    if (!res.ok) return apiErrorFromResponse(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = exportFileName(res.headers.get('Content-Disposition'), title, format);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return null;
  };
}

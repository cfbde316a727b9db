import { api } from '../../app/api';
import type { Page, Schemas } from '../../app/apiTypes';

export type ApiCall = Schemas['ApiCall'];
export type CallKind = ApiCall['kind'];
export const CALL_KINDS: CallKind[] = ['chat', 'compatible', 'passthrough', 'images', 'title'];

/** A bucket of the dashboard; `key` is the day or the model in by_day and by_model. */
export type UsageBucket = Schemas['UsageBucket'] & { key?: string };
export type DayModelBucket = Schemas['DayModelBucket'];
export type RankedBucket = Schemas['RankedBucket'];
/** GET /history/dashboard, or GET /admin/stats (with top_users and top_keys). */
export type Dashboard = Schemas['Dashboard'] & Partial<Pick<Schemas['AdminStats'], 'top_users' | 'top_keys'>>;

/** The filters of the history page, as query parameters (empty = not filtered). */
export interface HistoryFilter {
  from: string;
  to: string;
  model?: string;
  status?: 'ok' | 'error';
  kind?: CallKind;
  key?: string;
}

export const HISTORY_PAGE_SIZE = 50;

export function filterParams(f: HistoryFilter): Record<string, string> {
  const p: Record<string, string> = { from: f.from, to: f.to };
  if (f.model) p.model = f.model;
  if (f.status) p.status = f.status;
  if (f.kind) p.kind = f.kind;
  if (f.key) p.key = f.key;
  return p;
}

export function tzOffsetMinutes(): number {
  return -new Date().getTimezoneOffset();
}

export const historyApi = api.injectEndpoints({
  endpoints: (build) => ({
    listCalls: build.infiniteQuery<Page<ApiCall>, HistoryFilter, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.next_cursor || undefined,
      },
      query: ({ queryArg, pageParam }) => ({
        url: '/history/calls',
        params: {
          limit: HISTORY_PAGE_SIZE,
          ...filterParams(queryArg),
          ...(pageParam ? { cursor: pageParam } : {}),
        },
      }),
    }),
    getDashboard: build.query<Dashboard, HistoryFilter & { scope?: 'own' | 'platform' }>({
      query: ({ scope, ...f }) => ({
        url: scope === 'platform' ? '/admin/stats' : '/history/dashboard',
        params: { ...filterParams(f), tz_offset_minutes: tzOffsetMinutes() },
      }),
    }),
  }),
});

export const { useListCallsInfiniteQuery, useGetDashboardQuery } = historyApi;

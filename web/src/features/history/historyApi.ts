import { api } from '../../app/api';
import type { Page } from '../../app/apiTypes';

export type CallKind = 'chat' | 'title' | 'images' | 'compatible' | 'passthrough' | 'other';
export const CALL_KINDS: CallKind[] = ['chat', 'compatible', 'passthrough', 'images', 'title'];

export interface ApiCall {
  id: string;
  user_id: string;
  api_key_id: string | null;
  conversation_id: string | null;
  endpoint: string;
  kind: CallKind;
  model: string;
  status_code: number;
  error_code: string | null;
  input_tokens: number;
  output_tokens: number;
  image_count: number;
  latency_ms: number;
  first_token_ms: number | null;
  cost_micro_cny: number;
  cost_cny: number;
  upstream_request_id: string | null;
  created_at: string;
}

export interface UsageBucket {
  key?: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  images: number;
  cost_micro_cny: number;
  cost_cny: number;
  errors: number;
  latency_ms: { p50: number; p95: number; p99: number };
}

export interface DayModelBucket {
  day: string;
  model: string;
  calls: number;
  total_tokens: number;
  cost_cny: number;
}

export interface RankedBucket {
  key: string | null;
  calls: number;
  total_tokens: number;
  errors: number;
  cost_cny: number;
}

export interface Dashboard {
  totals: UsageBucket;
  by_day: UsageBucket[];
  by_model: UsageBucket[];
  by_day_model: DayModelBucket[];
  top_users?: RankedBucket[];
  top_keys?: RankedBucket[];
}

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

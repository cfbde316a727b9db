import { api } from '../../app/api';
import type { Page, Schemas } from '../../app/apiTypes';

export type SecurityEvent = Schemas['SecurityEvent'];
export type SecurityEventKind = SecurityEvent['kind'];

export const SECURITY_EVENT_KINDS: SecurityEventKind[] = [
  'brute_force',
  'credential_stuffing',
  'refresh_reuse',
  'admin_new_range',
  'mfa_failures',
  'spend_spike',
];

export interface SecurityEventFilter {
  kind?: string;
  user?: string;
}

const tagged = api.enhanceEndpoints({ addTagTypes: ['SecurityEvents'] });

export const securityEventsApi = tagged.injectEndpoints({
  endpoints: (build) => ({
    listSecurityEvents: build.infiniteQuery<Page<SecurityEvent>, SecurityEventFilter, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (last) => last.next_cursor || undefined,
      },
      query: ({ queryArg, pageParam }) => {
        const params: Record<string, string | number> = { limit: 50 };
        for (const [k, v] of Object.entries(queryArg)) if (v) params[k] = v;
        if (pageParam) params.cursor = pageParam;
        return { url: '/admin/security-events', params };
      },
      providesTags: ['SecurityEvents'],
    }),
    unlockSecurityEvent: build.mutation<SecurityEvent, string>({
      query: (id) => ({ url: `/admin/security-events/${encodeURIComponent(id)}/unlock`, method: 'POST' }),
      invalidatesTags: ['SecurityEvents'],
    }),
  }),
});

export const { useListSecurityEventsInfiniteQuery, useUnlockSecurityEventMutation } = securityEventsApi;

/** Whether the event set a lock that is still in force at `now` (an unlock lifts it). */
export function isLocked(e: Pick<SecurityEvent, 'action' | 'locked_until'>, now: number): boolean {
  return e.action !== 'none' && !!e.locked_until && Date.parse(e.locked_until) > now;
}

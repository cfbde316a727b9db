import { api } from '../../app/api';
import type { Schemas } from '../../app/apiTypes';

/** GET /readyz; empty when it could not be read. */
export type Readiness = Partial<Schemas['Ready']>;

/** GET /readyz sits outside /api/v1 and answers JSON even when not ready (503). */
export const systemApi = api.injectEndpoints({
  endpoints: (build) => ({
    readiness: build.query<Readiness, void>({
      async queryFn() {
        try {
          const res = await fetch('/readyz', { headers: { Accept: 'application/json' } });
          const body = (await res.json().catch(() => ({}))) as Readiness;
          return { data: body && typeof body === 'object' ? body : {} };
        } catch {
          return { data: {} };
        }
      },
      keepUnusedDataFor: 3600,
    }),
  }),
});

export const { useReadinessQuery } = systemApi;

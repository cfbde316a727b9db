import { api } from '../../app/api';

export interface Readiness {
  demo_mode?: boolean;
  [key: string]: unknown;
}

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

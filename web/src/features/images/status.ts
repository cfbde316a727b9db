import type { ErrorInfo, Generation, GenerationStatus } from './types';

/** What the page shows for a status: queued, generating (with a clock), done, failed, canceled. */
export type Phase = 'queued' | 'generating' | 'done' | 'failed' | 'canceled';

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled']);

export function isTerminal(status: GenerationStatus | string): boolean {
  return TERMINAL.has(status);
}

export function phaseOf(status: GenerationStatus | string): Phase {
  switch (status) {
    case 'pending':
      return 'queued';
    case 'running':
      return 'generating';
    case 'succeeded':
      return 'done';
    case 'canceled':
      return 'canceled';
    default:
      return 'failed';
  }
}

/** Error codes with their own sentence under `images.reasons`. */
const REASONS: Record<string, string> = {
  content_filtered: 'content_filtered',
  DataInspectionFailed: 'content_filtered',
  data_inspection_failed: 'content_filtered',
  IPInfringementSuspect: 'content_filtered',
  timeout: 'timeout',
  task_expired: 'timeout',
  upstream_timeout: 'timeout',
  'InternalError.Timeout': 'timeout',
  rate_limited: 'rate_limited',
  Throttling: 'rate_limited',
  'Throttling.RateQuota': 'rate_limited',
  quota_exceeded: 'quota_exceeded',
  Arrearage: 'quota_exceeded',
  upstream_unavailable: 'upstream_unavailable',
  InternalError: 'upstream_error',
  upstream_error: 'upstream_error',
  task_failed: 'upstream_error',
  download_failed: 'download_failed',
  not_an_image: 'invalid_image',
  storage_failed: 'storage_failed',
  canceled: 'canceled',
  deleted: 'canceled',
};

/**
 * A readable reason for a failure: an i18n key (`images.reasons.*`) for the codes we know,
 * otherwise the service's own message, otherwise the generic sentence.
 */
export function failureReason(error: ErrorInfo | null | undefined): { key: string } | { text: string } {
  const code = error?.code ?? '';
  const known = REASONS[code];
  if (known) return { key: `images.reasons.${known}` };
  if (/filter|inspection/i.test(code)) return { key: 'images.reasons.content_filtered' };
  if (/timeout/i.test(code)) return { key: 'images.reasons.timeout' };
  if (error?.message) return { text: error.message };
  return { key: 'images.reasons.unknown' };
}

function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/**
 * Seconds the generation has taken so far (running: since it started, else since it was
 * created) or took (finished), never negative.
 */
export function elapsedSeconds(g: Pick<Generation, 'created_at' | 'started_at' | 'submitted_at' | 'finished_at'>, now: number): number {
  const start = ms(g.started_at) ?? ms(g.submitted_at) ?? ms(g.created_at) ?? now;
  const end = ms(g.finished_at) ?? now;
  return Math.max(0, Math.floor((end - start) / 1000));
}

/** 7 → "7 s", 75 → "1:15". */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** Images that came out, and how many of the requested ones failed. */
export function imageCounts(g: Pick<Generation, 'images' | 'n' | 'status'>): { ok: number; failed: number } {
  const ok = g.images.filter((i) => i.status === 'succeeded').length;
  const failed = g.images.filter((i) => i.status === 'failed').length;
  return { ok, failed };
}

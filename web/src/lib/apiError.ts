/** The hub's error envelope, normalised for the UI. */
export interface ApiError {
  /** HTTP status, or 0 when the request never got an answer. */
  status: number;
  /** Server code such as `rate_limited`, or a local one: `network_error`, `bad_response`. */
  code: string;
  message: string;
  requestId?: string;
  /** Seconds to wait, from Retry-After on 429/503. */
  retryAfter?: number;
}

interface Envelope {
  error?: { code?: unknown; message?: unknown; request_id?: unknown };
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 502 || status === 503 || status === 504) return 'upstream_unavailable';
  if (status >= 500) return 'internal_error';
  return 'request_failed';
}

/** Builds an ApiError from a status, a parsed (or unparsed) body and the headers. */
export function toApiError(status: number, body: unknown, headers?: Headers | null): ApiError {
  const env = (body && typeof body === 'object' ? body : {}) as Envelope;
  const e = env.error ?? {};
  const err: ApiError = {
    status,
    code: typeof e.code === 'string' && e.code ? e.code : codeForStatus(status),
    message: typeof e.message === 'string' ? e.message : '',
  };
  const requestId =
    (typeof e.request_id === 'string' && e.request_id) || headers?.get('X-Request-Id') || undefined;
  if (requestId) err.requestId = requestId;
  const retryAfter = parseRetryAfter(headers?.get('Retry-After'));
  if (retryAfter !== undefined) err.retryAfter = retryAfter;
  return err;
}

export async function apiErrorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return toApiError(res.status, body, res.headers);
}

export function networkError(message = ''): ApiError {
  return { status: 0, code: 'network_error', message };
}

export function isApiError(value: unknown): value is ApiError {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as ApiError).code === 'string' &&
    typeof (value as ApiError).status === 'number'
  );
}

import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { isApiError, type ApiError } from '../lib/apiError';

/** Error codes with their own wording; anything else shows the server's message. */
const KNOWN = new Set([
  'network_error',
  'rate_limited',
  'content_filtered',
  'upstream_unavailable',
  'upstream_error',
  'upstream_timeout',
  'quota_exceeded',
  'overloaded',
  'invalid_credentials',
  'account_disabled',
  'unauthenticated',
  'forbidden',
  'not_found',
  'payload_too_large',
  'internal_error',
  'stream_interrupted',
  'context_too_long',
  'model_not_found',
  'model_disabled',
  'bad_response',
  'unsupported_image',
  'invalid_image',
  'image_too_large',
  'image_too_small',
  'file_too_large',
  'model_not_vision',
]);

/** Codes that mean the upstream model service is down or slow. */
const UPSTREAM = new Set(['upstream_unavailable', 'upstream_error', 'upstream_timeout', 'bad_gateway', 'service_unavailable', 'gateway_timeout']);

export function errorKey(err: ApiError): string | null {
  if (KNOWN.has(err.code)) return `errors.${err.code}`;
  if (UPSTREAM.has(err.code)) return 'errors.upstream_unavailable';
  if (err.code.includes('filter') || err.code === 'data_inspection_failed') return 'errors.content_filtered';
  return null;
}

/** Turns any error (ApiError or not) into one sentence in the user's language. */
export function useErrorText() {
  const { t } = useTranslation();
  return useCallback(
    (err: unknown): string => {
      if (!isApiError(err)) return t('errors.generic');
      const key = errorKey(err);
      if (key) return t(key, { seconds: err.retryAfter ?? 0 });
      return err.message || t('errors.generic');
    },
    [t],
  );
}

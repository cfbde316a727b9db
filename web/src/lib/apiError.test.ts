import { describe, expect, it } from 'vitest';
import { isApiError, parseRetryAfter, toApiError } from './apiError';
import { describeUserAgent } from './userAgent';

describe('toApiError', () => {
  it('reads the error envelope and headers', () => {
    const headers = new Headers({ 'Retry-After': '30', 'X-Request-Id': 'hdr' });
    const e = toApiError(429, { error: { code: 'rate_limited', message: 'slow down', request_id: 'r1' } }, headers);
    expect(e).toEqual({ status: 429, code: 'rate_limited', message: 'slow down', requestId: 'r1', retryAfter: 30 });
    expect(isApiError(e)).toBe(true);
  });

  it('derives a code from the status when the body has none', () => {
    expect(toApiError(503, '<html>', null).code).toBe('upstream_unavailable');
    expect(toApiError(429, null, null).code).toBe('rate_limited');
    expect(toApiError(500, null, null).code).toBe('internal_error');
    expect(toApiError(401, {}, new Headers({ 'X-Request-Id': 'h' })).requestId).toBe('h');
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('describeUserAgent', () => {
  it('names common browsers and systems', () => {
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0')).toMatchObject({ browser: 'Edge', os: 'Windows', mobile: false });
    expect(describeUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Mobile/15E148 Safari/604.1')).toMatchObject({ browser: 'Safari', os: 'iOS', mobile: true });
    expect(describeUserAgent(null)).toEqual({ browser: '', os: '', mobile: false });
  });
});

import { describe, expect, it } from 'vitest';
import { isLocked } from './securityEventsApi';

describe('isLocked', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  it('is true only for a lock that has not ended', () => {
    expect(isLocked({ action: 'account_locked', locked_until: '2026-12-06T12:15:00Z' }, now)).toBe(true);
    expect(isLocked({ action: 'api_key_suspended', locked_until: '2026-12-06T11:59:59Z' }, now)).toBe(false);
    expect(isLocked({ action: 'none', locked_until: null }, now)).toBe(false);
    expect(isLocked({ action: 'account_locked', locked_until: null }, now)).toBe(false);
  });
});

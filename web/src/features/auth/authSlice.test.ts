import { describe, expect, it } from 'vitest';
import type { TokenResponse } from '../../app/apiTypes';
import { authReducer, initialAuthState, refreshDelay, sessionEnded, sessionStarted, userUpdated } from './authSlice';
import type { User } from '../../app/apiTypes';
import { testUser } from '../../test/fixtures';

const user: User = { ...testUser, id: 'u1', display_name: 'Alice', created_at: '2025-01-01T00:00:00Z' };
const tokens: TokenResponse = { access_token: 'tok', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user };

describe('authSlice', () => {
  it('starts unknown, without a token', () => {
    expect(authReducer(undefined, { type: 'init' })).toEqual(initialAuthState);
  });

  it('keeps the access token in memory with its expiry, and never the refresh token', () => {
    const s = authReducer(undefined, sessionStarted(tokens, 1_000));
    expect(s.status).toBe('authenticated');
    expect(s.accessToken).toBe('tok');
    expect(s.expiresAt).toBe(1_000 + 900_000);
    expect(s.user).toEqual(user);
    expect(JSON.stringify(s)).not.toContain('"r"');
  });

  it('updates the user without touching the session', () => {
    const s1 = authReducer(undefined, sessionStarted(tokens, 0));
    const s2 = authReducer(s1, userUpdated({ ...user, display_name: 'Al' }));
    expect(s2.user?.display_name).toBe('Al');
    expect(s2.accessToken).toBe('tok');
  });

  it('forgets everything when the session ends, remembering whether it expired', () => {
    const s1 = authReducer(undefined, sessionStarted(tokens, 0));
    const expired = authReducer(s1, sessionEnded({ expired: true }));
    expect(expired).toEqual({ ...initialAuthState, status: 'anonymous', expired: true });
    const out = authReducer(s1, sessionEnded({ expired: false }));
    expect(out.expired).toBe(false);
    expect(out.accessToken).toBeNull();
  });

  it('a new session clears the expired flag', () => {
    const s1 = authReducer(undefined, sessionEnded({ expired: true }));
    expect(authReducer(s1, sessionStarted(tokens, 0)).expired).toBe(false);
  });
});

describe('refreshDelay', () => {
  it('refreshes a minute before expiry', () => {
    expect(refreshDelay(1_000_000, 100_000)).toBe(840_000);
  });
  it('refreshes at once when already (nearly) expired', () => {
    expect(refreshDelay(1_000, 5_000)).toBe(0);
    expect(refreshDelay(30_000, 0)).toBe(0);
  });
  it('uses 20% of a short lifetime as the margin', () => {
    expect(refreshDelay(100_000, 0, 100_000)).toBe(80_000);
  });
});

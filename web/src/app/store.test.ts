import { beforeEach, describe, expect, it } from 'vitest';
import { sessionEnded, sessionStarted } from '../features/auth/authSlice';
import { createBrowserStore, SESSION_HINT_KEY } from './store';
import { testUser } from '../test/fixtures';

const user = testUser;

describe('createBrowserStore session hint', () => {
  beforeEach(() => localStorage.clear());

  it('goes straight to anonymous when this browser never signed in (no refresh request)', () => {
    expect(createBrowserStore().getState().auth.status).toBe('anonymous');
  });

  it('tries the refresh cookie when the hint is there', () => {
    localStorage.setItem(SESSION_HINT_KEY, '1');
    expect(createBrowserStore().getState().auth.status).toBe('unknown');
  });

  it('sets the hint on sign-in and removes it when the session ends; never stores a token', () => {
    const store = createBrowserStore();
    store.dispatch(sessionStarted({ access_token: 'secret-tok', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user }));
    expect(localStorage.getItem(SESSION_HINT_KEY)).toBe('1');
    expect(JSON.stringify({ ...localStorage })).not.toContain('secret-tok');
    store.dispatch(sessionEnded({ expired: false }));
    expect(localStorage.getItem(SESSION_HINT_KEY)).toBeNull();
  });
});

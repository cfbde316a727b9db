import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { TokenResponse, User } from '../../app/apiTypes';

export type AuthStatus = 'unknown' | 'authenticated' | 'anonymous';

/** Client-side session state. The access token lives here (memory) and nowhere else. */
export interface AuthState {
  status: AuthStatus;
  accessToken: string | null;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number | null;
  user: User | null;
  /** True when the session ended on its own (refresh failed), not by signing out. */
  expired: boolean;
}

export const initialAuthState: AuthState = {
  status: 'unknown',
  accessToken: null,
  expiresAt: null,
  user: null,
  expired: false,
};

const authSlice = createSlice({
  name: 'auth',
  initialState: initialAuthState,
  reducers: {
    sessionStarted: {
      reducer(state, action: PayloadAction<TokenResponse & { receivedAt: number }>) {
        const { access_token, expires_in, user, receivedAt } = action.payload;
        state.status = 'authenticated';
        state.accessToken = access_token;
        state.expiresAt = receivedAt + Math.max(0, expires_in) * 1000;
        state.user = user;
        state.expired = false;
      },
      prepare(payload: TokenResponse, receivedAt: number = Date.now()) {
        return { payload: { ...payload, receivedAt } };
      },
    },
    userUpdated(state, action: PayloadAction<User>) {
      state.user = action.payload;
    },
    sessionEnded(_state, action: PayloadAction<{ expired: boolean }>) {
      return { ...initialAuthState, status: 'anonymous', expired: action.payload.expired };
    },
  },
});

export const { sessionStarted, userUpdated, sessionEnded } = authSlice.actions;
export const authReducer = authSlice.reducer;

/** Milliseconds until a refresh should run: one minute before expiry (or at 80% of short lifetimes). */
export function refreshDelay(expiresAt: number, now: number, lifetimeMs?: number): number {
  const remaining = expiresAt - now;
  const margin = lifetimeMs !== undefined ? Math.min(60_000, lifetimeMs * 0.2) : 60_000;
  return Math.max(0, remaining - margin);
}

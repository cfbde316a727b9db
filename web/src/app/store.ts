import {
  combineReducers,
  configureStore,
  createListenerMiddleware,
  type ThunkAction,
  type UnknownAction,
} from '@reduxjs/toolkit';
import { api } from './api';
import { authReducer, initialAuthState, sessionEnded } from '../features/auth/authSlice';
import { chatReducer } from '../features/chat/chatSlice';
import { stopAllStreams } from '../features/chat/streamRunner';
import { DRAFTS_STORAGE_KEY, draftsReducer, loadDrafts } from '../features/chat/draftsSlice';
import { loadPrefs, PREFS_STORAGE_KEY, prefsReducer } from '../features/settings/prefsSlice';

const rootReducer = combineReducers({
  [api.reducerPath]: api.reducer,
  auth: authReducer,
  chat: chatReducer,
  drafts: draftsReducer,
  prefs: prefsReducer,
});

export type RootState = ReturnType<typeof rootReducer>;

export function makeStore(preloadedState?: Partial<RootState>) {
  // When a session ends (sign-out or expiry), nothing of the account stays in
  // memory: answers in flight stop and cached server data is dropped. Drafts stay.
  const listener = createListenerMiddleware();
  listener.startListening({
    actionCreator: sessionEnded,
    effect: (_action, { dispatch }) => {
      stopAllStreams();
      dispatch(api.util.resetApiState());
    },
  });
  return configureStore({
    reducer: rootReducer,
    preloadedState,
    middleware: (getDefault) => getDefault().prepend(listener.middleware).concat(api.middleware),
  });
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
export type AppThunk<R = void> = ThunkAction<R, RootState, undefined, UnknownAction>;

function readStorage(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(storage: () => Storage, key: string, value: string): void {
  try {
    storage().setItem(key, value);
  } catch {
    /* private mode or quota: preferences simply are not remembered */
  }
}

function removeStorage(storage: () => Storage, key: string): void {
  try {
    storage().removeItem(key);
  } catch {
    /* nothing to forget */
  }
}

/**
 * A flag (never a token) saying this browser signed in and may hold a refresh cookie.
 * Without it a page load goes straight to sign-in instead of trying the cookie: a visitor
 * who never signed in gets no refused refresh request.
 */
export const SESSION_HINT_KEY = 'bailian-hub.session';

/** The browser's store: preferences from localStorage, drafts from sessionStorage, both kept in sync. */
export function createBrowserStore(): AppStore {
  const mayHaveSession = readStorage(() => localStorage, SESSION_HINT_KEY) === '1';
  const store = makeStore({
    prefs: loadPrefs(readStorage(() => localStorage, PREFS_STORAGE_KEY), navigator.languages ?? [navigator.language]),
    drafts: loadDrafts(readStorage(() => sessionStorage, DRAFTS_STORAGE_KEY)),
    ...(mayHaveSession ? {} : { auth: { ...initialAuthState, status: 'anonymous' as const } }),
  });
  let prefs = store.getState().prefs;
  let drafts = store.getState().drafts;
  let authStatus = store.getState().auth.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  store.subscribe(() => {
    const state = store.getState();
    if (state.auth.status !== authStatus) {
      authStatus = state.auth.status;
      if (authStatus === 'authenticated') writeStorage(() => localStorage, SESSION_HINT_KEY, '1');
      else if (authStatus === 'anonymous') removeStorage(() => localStorage, SESSION_HINT_KEY);
    }
    if (state.prefs !== prefs) {
      prefs = state.prefs;
      writeStorage(() => localStorage, PREFS_STORAGE_KEY, JSON.stringify(prefs));
    }
    if (state.drafts !== drafts) {
      drafts = state.drafts;
      clearTimeout(timer);
      timer = setTimeout(() => {
        writeStorage(() => sessionStorage, DRAFTS_STORAGE_KEY, JSON.stringify(store.getState().drafts.byKey));
      }, 300);
    }
  });
  return store;
}

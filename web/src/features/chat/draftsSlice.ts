import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

/**
 * What the user is typing, per conversation ("new" for a chat not created yet).
 * Kept in sessionStorage so an expired session or a reload does not lose it.
 */
export interface DraftsState {
  byKey: Record<string, string>;
}

export const NEW_CHAT_DRAFT = 'new';
export const DRAFTS_STORAGE_KEY = 'bailian-hub.drafts';
const MAX_DRAFT_CHARS = 100_000;

export function loadDrafts(saved: string | null): DraftsState {
  if (!saved) return { byKey: {} };
  try {
    const parsed = JSON.parse(saved) as unknown;
    if (!parsed || typeof parsed !== 'object') return { byKey: {} };
    const byKey: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v === 'string' && v) byKey[k] = v;
    }
    return { byKey };
  } catch {
    return { byKey: {} };
  }
}

const draftsSlice = createSlice({
  name: 'drafts',
  initialState: (): DraftsState => ({ byKey: {} }),
  reducers: {
    draftChanged(state, action: PayloadAction<{ key: string; text: string }>) {
      const { key, text } = action.payload;
      if (text) state.byKey[key] = text.slice(0, MAX_DRAFT_CHARS);
      else delete state.byKey[key];
    },
    draftCleared(state, action: PayloadAction<string>) {
      delete state.byKey[action.payload];
    },
    draftMoved(state, action: PayloadAction<{ from: string; to: string }>) {
      const text = state.byKey[action.payload.from];
      delete state.byKey[action.payload.from];
      if (text) state.byKey[action.payload.to] = text;
    },
    allDraftsCleared() {
      return { byKey: {} };
    },
  },
});

export const { draftChanged, draftCleared, draftMoved, allDraftsCleared } = draftsSlice.actions;
export const draftsReducer = draftsSlice.reducer;

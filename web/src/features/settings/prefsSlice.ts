import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

export type ThemePref = 'system' | 'light' | 'dark';
export type Language = 'zh-CN' | 'en-US';
export const LANGUAGES: readonly Language[] = ['zh-CN', 'en-US'];

/** Device-local preferences: the UI language and theme. */
export interface PrefsState {
  theme: ThemePref;
  language: Language;
  /** False while the language simply follows the browser. */
  languageChosen: boolean;
  /** The model last picked for a new chat. */
  model: string | null;
  /** Ask thinking models to reason (enable_thinking). */
  thinking: boolean;
}

export const PREFS_STORAGE_KEY = 'bailian-hub.prefs';

export function languageFromBrowser(languages: readonly string[]): Language {
  for (const tag of languages) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en-US';
  }
  return 'en-US';
}

/** Reads saved preferences; anything missing or malformed falls back to the browser's. */
export function loadPrefs(saved: string | null, browserLanguages: readonly string[]): PrefsState {
  const fallback: PrefsState = {
    theme: 'system',
    language: languageFromBrowser(browserLanguages),
    languageChosen: false,
    model: null,
    thinking: false,
  };
  if (!saved) return fallback;
  try {
    const parsed = JSON.parse(saved) as Partial<PrefsState>;
    const theme = parsed.theme === 'light' || parsed.theme === 'dark' ? parsed.theme : 'system';
    const chosen = parsed.languageChosen === true && LANGUAGES.includes(parsed.language as Language);
    return {
      theme,
      language: chosen ? (parsed.language as Language) : fallback.language,
      languageChosen: chosen,
      model: typeof parsed.model === 'string' && parsed.model ? parsed.model : null,
      thinking: parsed.thinking === true,
    };
  } catch {
    return fallback;
  }
}

const prefsSlice = createSlice({
  name: 'prefs',
  initialState: (): PrefsState => ({
    theme: 'system',
    language: 'en-US',
    languageChosen: false,
    model: null,
    thinking: false,
  }),
  reducers: {
    themeChanged(state, action: PayloadAction<ThemePref>) {
      state.theme = action.payload;
    },
    languageChanged(state, action: PayloadAction<Language>) {
      state.language = action.payload;
      state.languageChosen = true;
    },
    modelChosen(state, action: PayloadAction<string>) {
      state.model = action.payload;
    },
    thinkingToggled(state, action: PayloadAction<boolean>) {
      state.thinking = action.payload;
    },
  },
});

export const { themeChanged, languageChanged, modelChosen, thinkingToggled } = prefsSlice.actions;
export const prefsReducer = prefsSlice.reducer;

import { describe, expect, it } from 'vitest';
import {
  languageChanged,
  languageFromBrowser,
  loadPrefs,
  modelChosen,
  prefsReducer,
  themeChanged,
  thinkingToggled,
} from './prefsSlice';

describe('prefsSlice', () => {
  it('follows the browser language until one is chosen', () => {
    expect(languageFromBrowser(['zh-TW', 'en'])).toBe('zh-CN');
    expect(languageFromBrowser(['fr-FR', 'en-GB'])).toBe('en-US');
    expect(languageFromBrowser(['de'])).toBe('en-US');
    expect(loadPrefs(null, ['zh-CN'])).toEqual({
      theme: 'system',
      language: 'zh-CN',
      languageChosen: false,
      model: null,
      thinking: false,
    });
  });

  it('remembers a chosen language over the browser one', () => {
    const s = prefsReducer(loadPrefs(null, ['en-US']), languageChanged('zh-CN'));
    expect(s.languageChosen).toBe(true);
    const reloaded = loadPrefs(JSON.stringify(s), ['en-US']);
    expect(reloaded.language).toBe('zh-CN');
  });

  it('ignores a saved language that was never chosen', () => {
    const saved = JSON.stringify({ language: 'zh-CN', languageChosen: false, theme: 'dark' });
    expect(loadPrefs(saved, ['en-US'])).toMatchObject({ language: 'en-US', theme: 'dark' });
  });

  it('switches theme, model and thinking', () => {
    let s = prefsReducer(undefined, themeChanged('dark'));
    s = prefsReducer(s, modelChosen('qwen-max'));
    s = prefsReducer(s, thinkingToggled(true));
    expect(s).toMatchObject({ theme: 'dark', model: 'qwen-max', thinking: true });
  });

  it('survives malformed storage', () => {
    expect(loadPrefs('{', ['en']).theme).toBe('system');
    expect(loadPrefs('{"theme":"neon","language":"xx","languageChosen":true}', ['en'])).toMatchObject({
      theme: 'system',
      language: 'en-US',
      languageChosen: false,
    });
  });
});

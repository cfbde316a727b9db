import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Language } from '../features/settings/prefsSlice';
import enUS from './locales/en-US';
import zhCN from './locales/zh-CN';

export const resources = {
  'en-US': { translation: enUS },
  'zh-CN': { translation: zhCN },
} as const;

/** Initialises the one i18next instance with both languages bundled (they are small). */
export function initI18n(language: Language) {
  if (!i18n.isInitialized) {
    void i18n.use(initReactI18next).init({
      resources,
      lng: language,
      fallbackLng: 'en-US',
      interpolation: { escapeValue: false }, // React escapes
      returnNull: false,
    });
  }
  return i18n;
}

export default i18n;

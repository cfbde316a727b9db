import { useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { Provider as ReduxProvider } from 'react-redux';
import { App as AntApp, theme as antdTheme } from 'antd';
import XProvider from '@ant-design/x/es/x-provider';
import xEnUS from '@ant-design/x/es/locale/en_US';
import xZhCN from '@ant-design/x/es/locale/zh_CN';
import antdEnUS from 'antd/locale/en_US';
import antdZhCN from 'antd/locale/zh_CN';
import i18n from './i18n';
import { useAppSelector } from './hooks';
import type { AppStore } from './store';
import styles from './app.module.css';

const LOCALES = {
  'en-US': { ...antdEnUS, ...xEnUS },
  'zh-CN': { ...antdZhCN, ...xZhCN },
};

const BRAND = '#615ced';

function subscribeDark(onChange: () => void) {
  const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
  mq?.addEventListener('change', onChange);
  return () => mq?.removeEventListener('change', onChange);
}
const systemPrefersDark = () => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;

export function useIsDark(): boolean {
  const pref = useAppSelector((s) => s.prefs.theme);
  const system = useSyncExternalStore(subscribeDark, systemPrefersDark, () => false);
  return pref === 'dark' || (pref === 'system' && system);
}

function ThemedApp({ children }: { children: ReactNode }) {
  const language = useAppSelector((s) => s.prefs.language);
  const dark = useIsDark();

  useEffect(() => {
    void i18n.changeLanguage(language);
    document.documentElement.lang = language;
  }, [language]);

  useEffect(() => {
    const html = document.documentElement;
    html.dataset.theme = dark ? 'dark' : 'light';
    html.style.colorScheme = dark ? 'dark' : 'light';
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', dark ? '#141414' : '#ffffff');
  }, [dark]);

  const themeConfig = useMemo(
    () => ({
      algorithm: dark ? antdTheme.darkAlgorithm : antdTheme.defaultAlgorithm,
      token: { colorPrimary: BRAND, colorLink: BRAND, borderRadius: 8 },
      cssVar: { key: 'bh' },
    }),
    [dark],
  );

  return (
    <XProvider locale={LOCALES[language]} theme={themeConfig}>
      <AntApp className={styles.app}>{children}</AntApp>
    </XProvider>
  );
}

export function Providers({ store, children }: { store: AppStore; children: ReactNode }) {
  return (
    <ReduxProvider store={store}>
      <ThemedApp>{children}</ThemedApp>
    </ReduxProvider>
  );
}

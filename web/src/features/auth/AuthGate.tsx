import { useEffect, type ReactNode } from 'react';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { FullPageSpinner } from '../../components/FullPageSpinner';
import { languageChanged, LANGUAGES, themeChanged, type Language } from '../settings/prefsSlice';
import { refreshDelay, sessionEnded } from './authSlice';
import { endExpiredSession, refreshSession } from './session';

const NETWORK_RETRY_MS = 15_000;

/**
 * Restores the session at start (refresh cookie), then keeps the access token
 * fresh: a refresh runs a minute before it expires and when the tab wakes up.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const dispatch = useAppDispatch();
  const status = useAppSelector((s) => s.auth.status);
  const expiresAt = useAppSelector((s) => s.auth.expiresAt);

  useEffect(() => {
    if (status !== 'unknown') return;
    let live = true;
    void refreshSession(dispatch).then((outcome) => {
      if (live && outcome !== 'ok') dispatch(sessionEnded({ expired: false }));
    });
    return () => {
      live = false;
    };
  }, [status, dispatch]);

  useEffect(() => {
    if (status !== 'authenticated' || !expiresAt) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      const outcome = await refreshSession(dispatch);
      if (outcome === 'rejected') endExpiredSession(dispatch);
      else if (outcome === 'network') timer = setTimeout(run, NETWORK_RETRY_MS);
    };
    timer = setTimeout(run, refreshDelay(expiresAt, Date.now()));
    const onVisible = () => {
      if (document.visibilityState === 'visible' && refreshDelay(expiresAt, Date.now()) === 0) {
        clearTimeout(timer);
        void run();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [status, expiresAt, dispatch]);

  useApplyAccountPrefs();

  if (status === 'unknown') return <FullPageSpinner />;
  return <>{children}</>;
}

/** On sign-in, a language/theme saved with the account applies unless this device chose its own. */
function useApplyAccountPrefs() {
  const dispatch = useAppDispatch();
  const userId = useAppSelector((s) => s.auth.user?.id);
  const settings = useAppSelector((s) => s.auth.user?.settings);
  const prefs = useAppSelector((s) => s.prefs);
  useEffect(() => {
    if (!userId || !settings) return;
    const lang = settings.language;
    if (!prefs.languageChosen && typeof lang === 'string' && LANGUAGES.includes(lang as Language)) {
      dispatch(languageChanged(lang as Language));
    }
    const theme = settings.theme;
    if (prefs.theme === 'system' && (theme === 'light' || theme === 'dark')) dispatch(themeChanged(theme));
    // Only when the signed-in account changes.
  }, [userId]);
}

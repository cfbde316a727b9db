import { useEffect, useState } from 'react';
import { useAppDispatch, useAppStore } from '../../app/hooks';
import { watchGeneration } from './events';
import { forgetGeneration, storeGeneration } from './imagesApi';
import { isTerminal } from './status';

/** While the generation is unfinished, follows its events stream into the cache. */
export function useWatchGeneration(id: string, status: string): void {
  const dispatch = useAppDispatch();
  const store = useAppStore();
  const live = !isTerminal(status);
  useEffect(() => {
    if (!live) return undefined;
    const controller = new AbortController();
    void watchGeneration(
      id,
      {
        onGeneration: (g) => dispatch(storeGeneration(g)),
        onGone: () => forgetGeneration(dispatch, id),
      },
      controller.signal,
      dispatch,
      store.getState,
    );
    return () => controller.abort();
  }, [id, live, dispatch, store]);
}

/** The current time, refreshed every second while `active`. */
export function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

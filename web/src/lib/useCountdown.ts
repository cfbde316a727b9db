import { useEffect, useState } from 'react';

/** Seconds left from `seconds` (restarting whenever `key` changes); 0 when done. */
export function useCountdown(seconds: number | undefined, key: unknown): number {
  const [left, setLeft] = useState(seconds ?? 0);
  useEffect(() => {
    setLeft(seconds ?? 0);
    if (!seconds) return;
    const end = Date.now() + seconds * 1000;
    const id = setInterval(() => {
      const rest = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      setLeft(rest);
      if (rest === 0) clearInterval(id);
    }, 250);
    return () => clearInterval(id);
  }, [seconds, key]);
  return left;
}

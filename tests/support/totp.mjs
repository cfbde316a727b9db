// TOTP codes from an implementation independent of the hub's (Debian's oathtool).
import { execFileSync } from 'node:child_process';

import { waitFor } from './wait.mjs';

export const STEP_MS = 30_000;

// The TOTP code of `secret` (base32) for the 30-second step `step`.
export function oath(secret, step) {
  const at = step * 30 + 1;
  return execFileSync('oathtool', ['--totp', '-b', '--now', `@${at}`, secret]).toString().trim();
}

// The current step, once at least `marginMs` of it is left (so a few requests fit in it).
export async function freshStep(marginMs = 6000) {
  await waitFor(() => STEP_MS - (Date.now() % STEP_MS) > marginMs, 'room in the TOTP step', 40_000, 100);
  return Math.floor(Date.now() / STEP_MS);
}

#!/usr/bin/env node
// Times the statistics endpoints over a large api_calls table (issue 13: a million rows
// answer in under a second). Seeds HISTORY_BENCH_ROWS rows (default 1,000,000) for one user
// over the last 365 days straight into a fresh hub's SQLite database, starts the real hub and
// asks, five times each, for that user's year (/api/v1/history/dashboard) and for everyone's
// (/api/v1/admin/stats), printing the client-side wall time of each answer and the CPU time
// the hub spent on it (on a busy machine the wall time includes waiting for a core).
//
//   node bench/history_stats.mjs          (after make build; HUB_BUILD_DIR=... for another build)
import { readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { call, login } from '../tests/support/api.mjs';
import { startHub, tempDir } from '../tests/support/hub.mjs';
import { createUser, SEED_PASSWORD, seedCalls } from '../tests/support/seed.mjs';

// CPU time (user + system, ms) the hub process has used: the answer's cost apart from what
// other processes on a shared machine take from it.
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
}

const ROWS = Number(process.env.HISTORY_BENCH_ROWS ?? 1_000_000);
const RUNS = 5;
const DAY = 86_400_000;

const dir = tempDir('history-bench-');
try {
  const admin = await createUser(dir, 'bench_admin', 'admin');
  const t0 = performance.now();
  await seedCalls(dir, admin, { count: ROWS, spacingMs: Math.floor((365 * DAY) / ROWS), idPrefix: 'b' });
  console.log(`seeded ${ROWS.toLocaleString('en-US')} api_calls rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const hub = await startHub({ dataDir: dir, env: { BAILIAN_HUB_BCRYPT_COST: '10' } });
  try {
    const { body } = await login(hub.url, 'bench_admin', SEED_PASSWORD);
    const now = Date.now();
    const range = new URLSearchParams({ from: new Date(now - 365 * DAY).toISOString(), to: new Date(now + DAY).toISOString(), tz_offset_minutes: '480' });
    for (const path of ['/api/v1/history/dashboard', '/api/v1/admin/stats']) {
      const times = [];
      const cpu = [];
      let calls = 0;
      for (let i = 0; i < RUNS; i += 1) {
        const start = performance.now();
        const cpu0 = cpuMs(hub.proc.pid);
        const r = await call(hub.url, 'GET', `${path}?${range}`, { token: body.access_token });
        times.push(performance.now() - start);
        cpu.push(cpuMs(hub.proc.pid) - cpu0);
        if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
        calls = r.body.totals.calls;
      }
      times.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      console.log(`${path}: ${calls.toLocaleString('en-US')} calls; wall ms per answer: min ${times[0].toFixed(0)}, `
        + `median ${times[2].toFixed(0)}, max ${times[RUNS - 1].toFixed(0)}; hub CPU ms: median ${cpu[2].toFixed(0)}`);
    }
  } finally {
    await hub.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

import type { Dashboard } from './historyApi';

// Distinct in light and dark themes.
export const PALETTE = ['#615ced', '#13a8a8', '#fa8c16', '#eb2f96', '#52c41a', '#1677ff', '#faad14', '#a0d911', '#8c8c8c'];
const MAX_SERIES = 8;
const OTHER = '…';

/** Models ranked by calls; beyond MAX_SERIES they share one series. */
export function chartSeries(d: Dashboard) {
  const ranked = d.by_model.map((m) => m.key ?? '');
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const seriesOf = (model: string) => (shown.includes(model) ? model : OTHER);
  const series = ranked.length > shown.length ? [...shown, OTHER] : shown;
  const days = d.by_day.map((b) => b.key ?? '');
  const calls = new Map(days.map((day) => [day, { day } as Record<string, string | number>]));
  const tokens = new Map(days.map((day) => [day, { day } as Record<string, string | number>]));
  for (const b of d.by_day_model) {
    const s = seriesOf(b.model);
    const c = calls.get(b.day);
    const t = tokens.get(b.day);
    if (c) c[s] = Number(c[s] ?? 0) + b.calls;
    if (t) t[s] = Number(t[s] ?? 0) + b.total_tokens;
  }
  return {
    series,
    calls: [...calls.values()],
    tokens: [...tokens.values()],
    cost: d.by_day.map((b) => ({ day: b.key, cost: b.cost_cny })),
    latency: d.by_day.map((b) => ({ day: b.key, p50: b.latency_ms.p50, p95: b.latency_ms.p95 })),
    share: d.by_model.map((b) => ({ name: b.key || '—', value: b.calls })),
  };
}

import { describe, expect, it } from 'vitest';
import { keyExamples } from '../apiKeys/apiKeysApi';
import { adminTabsFor } from '../admin/adminTabs';
import { chartSeries } from './chartData';
import { filterParams, type Dashboard, type UsageBucket } from './historyApi';
import { rangeOf } from './HistoryPage';

const bucket = (key: string, calls: number, extra: Partial<UsageBucket> = {}): UsageBucket => ({
  key,
  calls,
  input_tokens: 0,
  output_tokens: 0,
  total_tokens: calls * 10,
  images: 0,
  cost_micro_cny: 0,
  cost_cny: calls / 100,
  errors: 0,
  latency_ms: { p50: 100, p95: 300, p99: 400 },
  ...extra,
});

describe('history', () => {
  it('stacks calls and tokens per day by model', () => {
    const d: Dashboard = {
      totals: bucket('', 6),
      by_day: [bucket('2026-01-01', 3), bucket('2026-01-02', 3)],
      by_model: [bucket('qwen-plus', 4), bucket('qwen-max', 2)],
      by_day_model: [
        { day: '2026-01-01', model: 'qwen-plus', calls: 2, total_tokens: 20, cost_micro_cny: 0, cost_cny: 0 },
        { day: '2026-01-01', model: 'qwen-max', calls: 1, total_tokens: 5, cost_micro_cny: 0, cost_cny: 0 },
        { day: '2026-01-02', model: 'qwen-plus', calls: 2, total_tokens: 30, cost_micro_cny: 0, cost_cny: 0 },
        { day: '2026-01-02', model: 'qwen-max', calls: 1, total_tokens: 7, cost_micro_cny: 0, cost_cny: 0 },
      ],
    };
    const s = chartSeries(d);
    expect(s.series).toEqual(['qwen-plus', 'qwen-max']);
    expect(s.calls).toEqual([
      { day: '2026-01-01', 'qwen-plus': 2, 'qwen-max': 1 },
      { day: '2026-01-02', 'qwen-plus': 2, 'qwen-max': 1 },
    ]);
    expect(s.tokens[1]).toEqual({ day: '2026-01-02', 'qwen-plus': 30, 'qwen-max': 7 });
    expect(s.latency[0]).toEqual({ day: '2026-01-01', p50: 100, p95: 300 });
    expect(s.share).toEqual([
      { name: 'qwen-plus', value: 4 },
      { name: 'qwen-max', value: 2 },
    ]);
  });

  it('folds models beyond eight into one series', () => {
    const models = Array.from({ length: 10 }, (_, i) => bucket(`m${i}`, 10 - i));
    const d: Dashboard = {
      totals: bucket('', 55),
      by_day: [bucket('2026-01-01', 55)],
      by_model: models,
      by_day_model: models.map((m) => ({ day: '2026-01-01', model: m.key!, calls: m.calls, total_tokens: 0, cost_micro_cny: 0, cost_cny: 0 })),
    };
    const s = chartSeries(d);
    expect(s.series).toHaveLength(8);
    expect(s.calls[0]['…']).toBe(3 + 2 + 1);
  });

  it('covers whole local days, today included', () => {
    const r = rangeOf(7, new Date(2026, 0, 10, 15, 30));
    expect(new Date(r.to).getTime() - new Date(r.from).getTime()).toBe(7 * 86_400_000);
    expect(new Date(r.to)).toEqual(new Date(2026, 0, 11));
  });

  it('sends only the filters that are set', () => {
    expect(filterParams({ from: 'a', to: 'b' })).toEqual({ from: 'a', to: 'b' });
    expect(filterParams({ from: 'a', to: 'b', kind: 'chat', status: 'error', key: 'none', model: 'm' })).toEqual({
      from: 'a',
      to: 'b',
      kind: 'chat',
      status: 'error',
      key: 'none',
      model: 'm',
    });
  });

  it('gives ready-to-paste examples with the base URL and key', () => {
    const ex = keyExamples('https://hub.example', 'bh-secret', 'qwen-plus');
    expect(ex.curl).toContain('https://hub.example/v1/chat/completions');
    expect(ex.curl).toContain('Bearer bh-secret');
    expect(ex.python).toContain('base_url="https://hub.example/v1"');
    expect(ex.node).toContain("baseURL: 'https://hub.example/v1'");
  });

  it('shows admin tabs by role', () => {
    expect(adminTabsFor('admin')).toEqual(['users', 'keys', 'roles', 'security', 'audit', 'stats']);
    expect(adminTabsFor('auditor')).toEqual(['audit', 'stats']);
    expect(adminTabsFor('user')).toEqual([]);
  });
});

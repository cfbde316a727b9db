import { describe, expect, it } from 'vitest';
import { nearestBudget, percentUsed, type Usage } from './usageApi';

const amount = (used: number, limit: number) => ({ used, limit, left: Math.max(0, limit - used) });
const usage = (dayTokens: number, monthCost: number): Usage => ({
  day: { start: 'd0', resets_at: 'd1', tokens: amount(dayTokens, 100), cost_cny: amount(0, 10) },
  month: { start: 'm0', resets_at: 'm1', tokens: amount(dayTokens, 1000), cost_cny: amount(monthCost, 100) },
  rate: { rpm: 60, rpm_burst: 60, tpm: 1000, tpm_burst: 1000 },
});

describe('usage', () => {
  it('computes the share of a budget used, capped at 100', () => {
    expect(percentUsed(amount(25, 100))).toBe(25);
    expect(percentUsed(amount(150, 100))).toBe(100);
    expect(percentUsed(amount(5, 0))).toBe(0);
  });

  it('warns about the most used budget from 80 % on', () => {
    expect(nearestBudget(undefined)).toBeNull();
    expect(nearestBudget(usage(79, 10))).toBeNull();
    expect(nearestBudget(usage(80, 10))).toEqual({ name: 'dailyTokens', percent: 80, resetsAt: 'd1' });
    expect(nearestBudget(usage(85, 95))).toEqual({ name: 'monthlyCost', percent: 95, resetsAt: 'm1' });
  });
});

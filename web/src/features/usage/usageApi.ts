import { api } from '../../app/api';
import type { Schemas } from '../../app/apiTypes';

/** One budget: used, limit and what is left (tokens, or CNY for cost). */
export type Amount = Schemas['Amount'];
export type UsageWindow = Schemas['UsageWindow'];
/** GET /api/v1/users/me/usage */
export type Usage = Schemas['MyUsage'];

export type BudgetName = 'dailyTokens' | 'monthlyTokens' | 'dailyCost' | 'monthlyCost';

/** Share of a budget used, 0..100 (a full or over-spent budget is 100). */
export function percentUsed(a: Amount): number {
  if (!(a.limit > 0)) return 0;
  return Math.min(100, Math.max(0, (a.used / a.limit) * 100));
}

/** The most used budget once it reaches `threshold` percent, else null (the chat's warning). */
export function nearestBudget(
  usage: Usage | undefined,
  threshold = 80,
): { name: BudgetName; percent: number; resetsAt: string } | null {
  if (!usage) return null;
  const budgets: { name: BudgetName; amount: Amount; resetsAt: string }[] = [
    { name: 'dailyTokens', amount: usage.day.tokens, resetsAt: usage.day.resets_at },
    { name: 'dailyCost', amount: usage.day.cost_cny, resetsAt: usage.day.resets_at },
    { name: 'monthlyTokens', amount: usage.month.tokens, resetsAt: usage.month.resets_at },
    { name: 'monthlyCost', amount: usage.month.cost_cny, resetsAt: usage.month.resets_at },
  ];
  let best: { name: BudgetName; percent: number; resetsAt: string } | null = null;
  for (const b of budgets) {
    const percent = percentUsed(b.amount);
    if (percent >= threshold && (!best || percent > best.percent)) {
      best = { name: b.name, percent, resetsAt: b.resetsAt };
    }
  }
  return best;
}

export const usageApi = api.injectEndpoints({
  endpoints: (build) => ({
    getUsage: build.query<Usage, void>({
      query: () => '/users/me/usage',
      providesTags: ['Usage'],
    }),
  }),
});

export const { useGetUsageQuery } = usageApi;

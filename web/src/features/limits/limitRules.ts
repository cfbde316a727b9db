/**
 * Rate limits and budgets as people type and read them. Client-side copies of the server's
 * rules (services/limits.cpp, api/admin_routes.cpp) so a form can say what is wrong before a
 * round trip; the server stays the authority.
 *
 * - Counts (requests, tokens): whole numbers from 1 to 10^9.
 * - Costs: CNY above 0, at most 10^9, at most 2 decimals (the server keeps micro-CNY).
 * - Empty means "no limit of its own": the role's default for a user, the owner's for a key.
 */

/** The largest value any limit or budget may have (services::kMaxLimit). */
export const LIMIT_MAX = 1_000_000_000;

/** A user's own limits, in the order the dialog and the summary show them. */
export const USER_LIMIT_FIELDS = ['rpm', 'tpm', 'daily_tokens', 'monthly_tokens', 'daily_cost_cny', 'monthly_cost_cny'] as const;
/** A platform key's own limits. */
export const KEY_LIMIT_FIELDS = ['rpm', 'tpm'] as const;

export type LimitField = (typeof USER_LIMIT_FIELDS)[number];
export type KeyLimitField = (typeof KEY_LIMIT_FIELDS)[number];
/** null = no limit of its own. */
export type LimitValues<F extends LimitField> = Record<F, number | null>;
/** `quota` of a user on the wire (GET/PATCH /api/v1/admin/users). */
export type UserQuota = LimitValues<LimitField>;
/** `limits` of a platform key on the wire (GET/PATCH /api/v1/api-keys). */
export type KeyLimits = LimitValues<KeyLimitField>;

export type LimitKind = 'count' | 'cny';

export function kindOf(field: LimitField): LimitKind {
  return field.endsWith('_cny') ? 'cny' : 'count';
}

export type LimitProblem = 'not_whole' | 'too_small' | 'too_large' | 'not_amount' | 'not_positive' | 'decimals';

export type ParsedLimit = { ok: true; value: number | null } | { ok: false; problem: LimitProblem };

const COUNT_RE = /^-?\d+$/;
const AMOUNT_RE = /^-?(\d*)(?:\.(\d*))?$/;

/**
 * Reads what was typed. Full-width digits (a Chinese input method) and thousands separators
 * (spaces, commas, underscores) are accepted; empty is null.
 */
export function parseLimit(text: string | null | undefined, kind: LimitKind): ParsedLimit {
  const s = (text ?? '').normalize('NFKC').replace(/[\s,_]/g, '');
  if (s === '') return { ok: true, value: null };
  if (kind === 'count') {
    if (!COUNT_RE.test(s)) return { ok: false, problem: 'not_whole' };
    const n = Number(s);
    if (n < 1) return { ok: false, problem: 'too_small' };
    if (n > LIMIT_MAX) return { ok: false, problem: 'too_large' };
    return { ok: true, value: n };
  }
  const m = AMOUNT_RE.exec(s);
  if (!m || (m[1] === '' && !m[2])) return { ok: false, problem: 'not_amount' };
  const n = Number(s);
  if (!(n > 0)) return { ok: false, problem: 'not_positive' };
  if ((m[2] ?? '').replace(/0+$/, '').length > 2) return { ok: false, problem: 'decimals' };
  if (n > LIMIT_MAX) return { ok: false, problem: 'too_large' };
  return { ok: true, value: n };
}

/** What an input shows for a stored value (empty for none). */
export function limitText(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** A short figure for a list: 600, 100K, 10M (10万, 1000万 in Chinese); ¥50, ¥1,000.5. */
export function formatLimit(field: LimitField, value: number, locale: string): string {
  if (kindOf(field) === 'cny') return `¥${new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value)}`;
  return new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 2 }).format(value);
}

type Translate = (key: string, options: { value: string }) => string;

/** The limits that are set, in short and in order, for a table cell: ["600 rpm", "10M tokens/day"]. */
export function limitParts<F extends LimitField>(
  values: Partial<LimitValues<F>> | null | undefined,
  fields: readonly F[],
  locale: string,
  t: Translate,
): string[] {
  const parts: string[] = [];
  for (const f of fields) {
    const v = values?.[f];
    if (typeof v === 'number') parts.push(t(`limits.short.${f}`, { value: formatLimit(f, v, locale) }));
  }
  return parts;
}

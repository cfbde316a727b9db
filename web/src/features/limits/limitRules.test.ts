import { describe, expect, it } from 'vitest';
import i18n from '../../app/i18n';
import { fieldFromServerMessage } from '../../lib/validation';
import {
  formatLimit,
  KEY_LIMIT_FIELDS,
  kindOf,
  LIMIT_MAX,
  limitParts,
  limitText,
  parseLimit,
  USER_LIMIT_FIELDS,
  type UserQuota,
} from './limitRules';

const none: UserQuota = { rpm: null, tpm: null, daily_tokens: null, monthly_tokens: null, daily_cost_cny: null, monthly_cost_cny: null };

describe('parseLimit: counts (requests, tokens)', () => {
  it('empty is null: no limit of its own', () => {
    expect(parseLimit('', 'count')).toEqual({ ok: true, value: null });
    expect(parseLimit('   ', 'count')).toEqual({ ok: true, value: null });
    expect(parseLimit(undefined, 'count')).toEqual({ ok: true, value: null });
  });

  it('whole numbers from 1 to 10^9, as the server takes them', () => {
    expect(parseLimit('1', 'count')).toEqual({ ok: true, value: 1 });
    expect(parseLimit('600', 'count')).toEqual({ ok: true, value: 600 });
    expect(parseLimit(String(LIMIT_MAX), 'count')).toEqual({ ok: true, value: 1_000_000_000 });
    expect(parseLimit('0', 'count')).toEqual({ ok: false, problem: 'too_small' });
    expect(parseLimit('-5', 'count')).toEqual({ ok: false, problem: 'too_small' });
    expect(parseLimit('1000000001', 'count')).toEqual({ ok: false, problem: 'too_large' });
    expect(parseLimit('99999999999999999999', 'count')).toEqual({ ok: false, problem: 'too_large' });
  });

  it('anything but digits is refused, not rounded', () => {
    for (const s of ['1.5', '1e3', 'abc', '12abc', '0x10', '+', '-', 'Infinity', 'NaN']) {
      expect(parseLimit(s, 'count'), s).toEqual({ ok: false, problem: 'not_whole' });
    }
  });

  it('thousands separators and full-width digits are fine', () => {
    expect(parseLimit('10,000,000', 'count')).toEqual({ ok: true, value: 10_000_000 });
    expect(parseLimit(' 1 000 ', 'count')).toEqual({ ok: true, value: 1000 });
    expect(parseLimit('1_000', 'count')).toEqual({ ok: true, value: 1000 });
    expect(parseLimit('６００', 'count')).toEqual({ ok: true, value: 600 });
    expect(parseLimit('1，000', 'count')).toEqual({ ok: true, value: 1000 });
  });
});

describe('parseLimit: costs (CNY)', () => {
  it('above 0, at most 10^9, at most 2 decimals', () => {
    expect(parseLimit('50', 'cny')).toEqual({ ok: true, value: 50 });
    expect(parseLimit('12.5', 'cny')).toEqual({ ok: true, value: 12.5 });
    expect(parseLimit('12.50', 'cny')).toEqual({ ok: true, value: 12.5 });
    expect(parseLimit('0.01', 'cny')).toEqual({ ok: true, value: 0.01 });
    expect(parseLimit('.5', 'cny')).toEqual({ ok: true, value: 0.5 });
    expect(parseLimit('3.', 'cny')).toEqual({ ok: true, value: 3 });
    expect(parseLimit('1.000', 'cny')).toEqual({ ok: true, value: 1 }); // trailing zeros are not decimals
    expect(parseLimit('1,000.25', 'cny')).toEqual({ ok: true, value: 1000.25 });
    expect(parseLimit('1000000000', 'cny')).toEqual({ ok: true, value: 1_000_000_000 });
    expect(parseLimit('１２．５', 'cny')).toEqual({ ok: true, value: 12.5 });
  });

  it('says what is wrong', () => {
    expect(parseLimit('0', 'cny')).toEqual({ ok: false, problem: 'not_positive' });
    expect(parseLimit('0.00', 'cny')).toEqual({ ok: false, problem: 'not_positive' });
    expect(parseLimit('-1', 'cny')).toEqual({ ok: false, problem: 'not_positive' });
    expect(parseLimit('0.001', 'cny')).toEqual({ ok: false, problem: 'decimals' });
    expect(parseLimit('12.345', 'cny')).toEqual({ ok: false, problem: 'decimals' });
    expect(parseLimit('1000000000.01', 'cny')).toEqual({ ok: false, problem: 'too_large' });
    for (const s of ['.', 'abc', '1e3', '1.2.3', '¥5', '5元']) {
      expect(parseLimit(s, 'cny'), s).toEqual({ ok: false, problem: 'not_amount' });
    }
  });
});

describe('fields', () => {
  it('cost fields are CNY, the others counts', () => {
    expect(USER_LIMIT_FIELDS.filter((f) => kindOf(f) === 'cny')).toEqual(['daily_cost_cny', 'monthly_cost_cny']);
    expect(KEY_LIMIT_FIELDS.map(kindOf)).toEqual(['count', 'count']);
  });

  it('a stored value becomes the text of its input', () => {
    expect(limitText(null)).toBe('');
    expect(limitText(undefined)).toBe('');
    expect(limitText(600)).toBe('600');
    expect(limitText(1_000_000_000)).toBe('1000000000');
    expect(limitText(12.5)).toBe('12.5');
  });

  it("a server 400 names the field it is about (services::ValidateQuota's words)", () => {
    const f = (m: string) => fieldFromServerMessage(m, USER_LIMIT_FIELDS);
    expect(f('quota.rpm must be a whole number from 1 to 1000000000, or null for the default.')).toBe('rpm');
    expect(f('quota.tpm must be a whole number from 1 to 1000000000, or null for the default.')).toBe('tpm');
    expect(f('quota.monthly_tokens must be a whole number from 1 to 1000000000 or null.')).toBe('monthly_tokens');
    expect(f('quota.daily_cost_cny must be a number of CNY above 0 and at most 1000000000, or null.')).toBe('daily_cost_cny');
    expect(f('quota.monthly_cost_cny must be a number of CNY above 0 and at most 1000000000, or null for the default.')).toBe(
      'monthly_cost_cny',
    );
    expect(fieldFromServerMessage('limits.tpm must be a whole number from 1 to 1000000000, or null.', KEY_LIMIT_FIELDS)).toBe('tpm');
    expect(f('burst is not a known field here.')).toBeNull();
  });
});

describe('formatting', () => {
  it('short figures in both languages', () => {
    expect(formatLimit('rpm', 600, 'en-US')).toBe('600');
    expect(formatLimit('tpm', 100_000, 'en-US')).toBe('100K');
    expect(formatLimit('daily_tokens', 10_000_000, 'en-US')).toBe('10M');
    expect(formatLimit('daily_tokens', 1_234_567, 'en-US')).toBe('1.23M');
    expect(formatLimit('daily_tokens', 10_000_000, 'zh-CN')).toBe('1000万');
    expect(formatLimit('monthly_tokens', 200_000_000, 'zh-CN')).toBe('2亿');
    expect(formatLimit('daily_cost_cny', 50, 'en-US')).toBe('¥50');
    expect(formatLimit('monthly_cost_cny', 1000.5, 'en-US')).toBe('¥1,000.5');
    expect(formatLimit('monthly_cost_cny', 12.25, 'zh-CN')).toBe('¥12.25');
  });

  it('a table cell: the limits that are set, in order', () => {
    const en = i18n.getFixedT('en-US');
    const zh = i18n.getFixedT('zh-CN');
    expect(limitParts(none, USER_LIMIT_FIELDS, 'en-US', en)).toEqual([]);
    expect(limitParts(undefined, USER_LIMIT_FIELDS, 'en-US', en)).toEqual([]);
    expect(limitParts({ ...none, daily_tokens: 10_000_000, rpm: 600 }, USER_LIMIT_FIELDS, 'en-US', en)).toEqual(['600 rpm', '10M tokens/day']);
    const all: UserQuota = {
      rpm: 60,
      tpm: 100_000,
      daily_tokens: 1_000_000,
      monthly_tokens: 20_000_000,
      daily_cost_cny: 12.5,
      monthly_cost_cny: 300,
    };
    expect(limitParts(all, USER_LIMIT_FIELDS, 'en-US', en).join(' · ')).toBe(
      '60 rpm · 100K tpm · 1M tokens/day · 20M tokens/month · ¥12.5/day · ¥300/month',
    );
    expect(limitParts(all, USER_LIMIT_FIELDS, 'zh-CN', zh).join(' · ')).toBe(
      '60 次/分钟 · 10万 Token/分钟 · 100万 Token/日 · 2000万 Token/月 · ¥12.5/日 · ¥300/月',
    );
    expect(limitParts({ rpm: null, tpm: 5000 }, KEY_LIMIT_FIELDS, 'en-US', en)).toEqual(['5K tpm']);
  });
});

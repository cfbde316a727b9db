import { describe, expect, it } from 'vitest';
import type { Model } from '../../app/apiTypes';
import { defaultImageModel, FALLBACK_SPEC, formatPrice, formatSize, imageModels, parseSize, pricePerImage, specOf } from './imageModels';

const image = (id: string, extra: Record<string, unknown> = {}): Model =>
  ({ id, kind: 'image', enabled: true, prices: { currency: 'CNY', per_image: 0.14 }, ...extra }) as Model;

describe('image models', () => {
  const models = [
    { id: 'qwen-plus', kind: 'chat', enabled: true } as Model,
    image('wanx-v1'),
    image('wan2.2-t2i-flash'),
    image('wan2.5-t2i-preview', { enabled: false }),
  ];
  it('lists enabled image models only', () => {
    expect(imageModels(models).map((m) => m.id)).toEqual(['wanx-v1', 'wan2.2-t2i-flash']);
    expect(imageModels(undefined)).toEqual([]);
  });
  it('prefers wan2.2-t2i-flash, else the first', () => {
    expect(defaultImageModel(imageModels(models))).toBe('wan2.2-t2i-flash');
    expect(defaultImageModel([image('wanx-v1'), image('wanx2.1-t2i-plus')])).toBe('wanx-v1');
    expect(defaultImageModel([])).toBeUndefined();
  });
  it("reads the model's limits, falling back where the catalog says nothing", () => {
    const spec = { sizes: ['1024*1024', '720*1280'], default_size: '720*1280', max_n: 2, max_prompt_chars: 800, max_negative_prompt_chars: 500 };
    expect(specOf(image('x', { image: spec }))).toEqual(spec);
    expect(specOf(image('x'))).toEqual(FALLBACK_SPEC);
    expect(specOf(undefined)).toEqual(FALLBACK_SPEC);
    expect(specOf(image('x', { image: { sizes: ['512*512'], default_size: '1*1', max_n: 0 } }))).toMatchObject({
      sizes: ['512*512'],
      default_size: '512*512',
      max_n: 4,
    });
  });
  it('shows the price per image', () => {
    expect(pricePerImage(image('x'))).toEqual({ amount: 0.14, currency: 'CNY' });
    expect(pricePerImage(image('x', { prices: null }))).toBeNull();
    expect(formatPrice({ amount: 0.14, currency: 'CNY' }, 'zh-CN')).toBe('¥0.14');
    expect(formatPrice({ amount: 0.14, currency: 'CNY' }, 'en-US')).toBe('CN¥0.14');
    expect(formatPrice({ amount: 1, currency: 'nonsense' }, 'en-US')).toBe('1 nonsense');
  });
  it('formats and parses sizes', () => {
    expect(formatSize('1024*1024')).toBe('1024 × 1024');
    expect(formatSize('odd')).toBe('odd');
    expect(parseSize('720*1280')).toEqual({ width: 720, height: 1280 });
    expect(parseSize('x')).toBeNull();
  });
});

import type { Model } from '../../app/apiTypes';
import type { ImageSpec } from './types';

/** The model the picker starts with when it exists and is enabled. */
export const PREFERRED_IMAGE_MODEL = 'wan2.2-t2i-flash';

/** What is assumed of a model whose catalog entry carries no `image` block. */
export const FALLBACK_SPEC: ImageSpec = {
  sizes: ['1024*1024'],
  default_size: '1024*1024',
  max_n: 4,
  max_prompt_chars: 500,
  max_negative_prompt_chars: 500,
};

/** Enabled image models, in the catalog's order. */
export function imageModels(models: readonly Model[] | undefined): Model[] {
  return (models ?? []).filter((m) => m.kind === 'image' && m.enabled !== false);
}

/** The picker's first choice: the preferred model if offered, else the first image model. */
export function defaultImageModel(models: readonly Model[]): string | undefined {
  return (models.find((m) => m.id === PREFERRED_IMAGE_MODEL) ?? models[0])?.id;
}

function positiveInt(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback;
}

/** The model's limits, with safe fallbacks for anything the catalog leaves out. */
export function specOf(model: Model | undefined): ImageSpec {
  const raw = (model as { image?: Partial<ImageSpec> | null } | undefined)?.image ?? {};
  const sizes =
    Array.isArray(raw.sizes) && raw.sizes.every((s) => typeof s === 'string') && raw.sizes.length
      ? raw.sizes
      : typeof raw.default_size === 'string'
        ? [raw.default_size]
        : FALLBACK_SPEC.sizes;
  const defaultSize = typeof raw.default_size === 'string' && sizes.includes(raw.default_size) ? raw.default_size : sizes[0];
  return {
    sizes,
    default_size: defaultSize,
    max_n: positiveInt(raw.max_n, FALLBACK_SPEC.max_n),
    max_prompt_chars: positiveInt(raw.max_prompt_chars, FALLBACK_SPEC.max_prompt_chars),
    max_negative_prompt_chars: positiveInt(raw.max_negative_prompt_chars, FALLBACK_SPEC.max_negative_prompt_chars),
  };
}

/** Price of one image, when the catalog says. */
export function pricePerImage(model: Model | undefined): { amount: number; currency: string } | null {
  const prices = model?.prices;
  const amount = prices?.per_image;
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return null;
  const currency = typeof prices?.currency === 'string' && prices.currency ? prices.currency : 'CNY';
  return { amount, currency };
}

export function formatPrice(price: { amount: number; currency: string }, locale: string): string {
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: price.currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: 4,
    }).format(price.amount);
  } catch {
    return `${price.amount} ${price.currency}`;
  }
}

/** "1024*1024" → "1024 × 1024". */
export function formatSize(size: string): string {
  const [w, h] = size.split('*');
  return w && h ? `${w} × ${h}` : size;
}

/** Width and height of a "W*H" size, or null. */
export function parseSize(size: string): { width: number; height: number } | null {
  const m = /^(\d+)\*(\d+)$/.exec(size);
  if (!m) return null;
  return { width: Number(m[1]), height: Number(m[2]) };
}

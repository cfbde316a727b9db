import type { GenerationRequest, ImageSpec } from './types';

/** The Images form as the page holds it. */
export interface ImageFormValues {
  prompt: string;
  negativePrompt: string;
  model?: string;
  size?: string;
  n: number;
  /** Empty means "let the service choose". */
  seed: number | null;
}

export type ImageFormField = 'prompt' | 'negativePrompt' | 'model' | 'size' | 'n' | 'seed';

/** An i18n key under `images.validation` with its values. */
export interface FieldError {
  key: string;
  values?: Record<string, number>;
}

/** DashScope's seed range. */
export const MAX_SEED = 2147483647;

/** Characters as the server counts them (code points, so an emoji is one). */
export function countChars(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** Per-field problems; an empty object means the form can be sent. */
export function validateImageForm(v: ImageFormValues, spec: ImageSpec): Partial<Record<ImageFormField, FieldError>> {
  const errors: Partial<Record<ImageFormField, FieldError>> = {};
  if (!v.prompt.trim()) errors.prompt = { key: 'promptRequired' };
  else if (countChars(v.prompt) > spec.max_prompt_chars)
    errors.prompt = { key: 'tooLong', values: { max: spec.max_prompt_chars } };
  if (countChars(v.negativePrompt) > spec.max_negative_prompt_chars)
    errors.negativePrompt = { key: 'tooLong', values: { max: spec.max_negative_prompt_chars } };
  if (!v.model) errors.model = { key: 'modelRequired' };
  if (!v.size || !spec.sizes.includes(v.size)) errors.size = { key: 'sizeInvalid' };
  if (!Number.isInteger(v.n) || v.n < 1 || v.n > spec.max_n) errors.n = { key: 'countRange', values: { max: spec.max_n } };
  if (v.seed !== null && (!Number.isInteger(v.seed) || v.seed < 0 || v.seed > MAX_SEED))
    errors.seed = { key: 'seedRange', values: { max: MAX_SEED } };
  return errors;
}

/** Keeps what still fits after the model changed: its default size and at most its max_n. */
export function fitToModel(v: ImageFormValues, spec: ImageSpec): ImageFormValues {
  return {
    ...v,
    size: v.size && spec.sizes.includes(v.size) ? v.size : spec.default_size,
    n: Math.min(Math.max(1, Math.trunc(v.n) || 1), spec.max_n),
  };
}

/** The POST body: only what the user set. */
export function toRequest(v: ImageFormValues): GenerationRequest {
  const body: GenerationRequest = { prompt: v.prompt.trim() };
  if (v.negativePrompt.trim()) body.negative_prompt = v.negativePrompt.trim();
  if (v.model) body.model = v.model;
  if (v.size) body.size = v.size;
  body.n = v.n;
  if (v.seed !== null) body.seed = v.seed;
  return body;
}

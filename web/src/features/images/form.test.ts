import { describe, expect, it } from 'vitest';
import { countChars, fitToModel, MAX_SEED, toRequest, validateImageForm, type ImageFormValues } from './form';
import type { ImageSpec } from './types';

const spec: ImageSpec = {
  sizes: ['1024*1024', '720*1280'],
  default_size: '1024*1024',
  max_n: 4,
  max_prompt_chars: 10,
  max_negative_prompt_chars: 5,
};
const ok: ImageFormValues = { prompt: 'a cat', negativePrompt: '', model: 'wanx-v1', size: '1024*1024', n: 2, seed: null };

describe('validateImageForm', () => {
  it('accepts a complete form', () => {
    expect(validateImageForm(ok, spec)).toEqual({});
    expect(validateImageForm({ ...ok, seed: 0 }, spec)).toEqual({});
    expect(validateImageForm({ ...ok, seed: MAX_SEED, n: 4, prompt: '0123456789' }, spec)).toEqual({});
  });
  it('needs a prompt that is not only spaces, within the limit', () => {
    expect(validateImageForm({ ...ok, prompt: '   ' }, spec).prompt?.key).toBe('promptRequired');
    expect(validateImageForm({ ...ok, prompt: '01234567890' }, spec).prompt).toEqual({ key: 'tooLong', values: { max: 10 } });
  });
  it('counts characters as the server does (code points)', () => {
    expect(countChars('猫🐈')).toBe(2);
    expect(validateImageForm({ ...ok, prompt: '🐈'.repeat(10) }, spec)).toEqual({});
    expect(validateImageForm({ ...ok, negativePrompt: '模糊模糊模糊' }, spec).negativePrompt?.key).toBe('tooLong');
  });
  it('checks size, count and seed against the model', () => {
    expect(validateImageForm({ ...ok, size: '512*512' }, spec).size?.key).toBe('sizeInvalid');
    expect(validateImageForm({ ...ok, size: undefined }, spec).size?.key).toBe('sizeInvalid');
    expect(validateImageForm({ ...ok, n: 0 }, spec).n?.key).toBe('countRange');
    expect(validateImageForm({ ...ok, n: 5 }, spec).n).toEqual({ key: 'countRange', values: { max: 4 } });
    expect(validateImageForm({ ...ok, n: 1.5 }, spec).n?.key).toBe('countRange');
    expect(validateImageForm({ ...ok, seed: -1 }, spec).seed?.key).toBe('seedRange');
    expect(validateImageForm({ ...ok, seed: MAX_SEED + 1 }, spec).seed?.key).toBe('seedRange');
    expect(validateImageForm({ ...ok, model: undefined }, spec).model?.key).toBe('modelRequired');
  });
});

describe('fitToModel', () => {
  it("keeps a size and count the new model allows, else takes its default and its max", () => {
    expect(fitToModel({ ...ok, size: '720*1280', n: 3 }, spec)).toMatchObject({ size: '720*1280', n: 3 });
    expect(fitToModel({ ...ok, size: '1440*1440', n: 4 }, { ...spec, max_n: 1 })).toMatchObject({ size: '1024*1024', n: 1 });
    expect(fitToModel({ ...ok, size: undefined, n: 0 }, spec)).toMatchObject({ size: '1024*1024', n: 1 });
  });
});

describe('toRequest', () => {
  it('sends only what was set, trimmed', () => {
    expect(toRequest({ ...ok, prompt: '  a cat  ', negativePrompt: '  ' })).toEqual({ prompt: 'a cat', model: 'wanx-v1', size: '1024*1024', n: 2 });
    expect(toRequest({ ...ok, negativePrompt: 'blur', seed: 42 })).toEqual({
      prompt: 'a cat', negative_prompt: 'blur', model: 'wanx-v1', size: '1024*1024', n: 2, seed: 42,
    });
  });
});

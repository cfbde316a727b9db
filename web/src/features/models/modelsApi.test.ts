import { describe, expect, it } from 'vitest';
import type { Model } from '../../app/apiTypes';
import { chatModels, pickModel, thinkingAvailable } from './modelsApi';
import { testModel } from '../../test/fixtures';

const m = (id: string, extra: Partial<Model> = {}): Model => testModel({ id, ...extra });

// A model object from a hub older than the `thinking` field.
const olderHub = (id: string): Model => ({ ...m(id), thinking: undefined }) as unknown as Model;

describe('models', () => {
  it('offers enabled chat and vision models only', () => {
    const list = [m('a'), m('b', { enabled: false }), m('img', { kind: 'image' }), m('vl', { kind: 'vision' })];
    expect(chatModels(list).map((x) => x.id)).toEqual(['a', 'vl']);
  });

  it("starts with the user's choice, else the hub's default, else the first", () => {
    const list = [m('qwen3-max'), m('qwen-plus', { default: true }), m('qwen-turbo')];
    expect(pickModel(list, 'qwen-turbo')).toBe('qwen-turbo');
    expect(pickModel(list, 'gone')).toBe('qwen-plus');
    expect(pickModel(list, null)).toBe('qwen-plus');
    expect(pickModel([m('x'), m('y')], null)).toBe('x');
    expect(pickModel([], null)).toBeUndefined();
  });

  it('offers the Think switch only for models that can reason (unknown: let the hub decide)', () => {
    const list = [m('qwen-max', { thinking: false }), m('qwen-plus', { thinking: true }), olderHub('old')];
    expect(thinkingAvailable(list, 'qwen-max')).toBe(false);
    expect(thinkingAvailable(list, 'qwen-plus')).toBe(true);
    expect(thinkingAvailable(list, 'old')).toBe(true);
    expect(thinkingAvailable(undefined, 'qwen-max')).toBe(true);
  });
});

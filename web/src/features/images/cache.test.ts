import { describe, expect, it } from 'vitest';
import { flattenGenerations, removeGeneration, upsertGeneration, type GenerationPages } from './cache';
import { generation } from './testData';

const pages = (): GenerationPages => ({
  pages: [
    { items: [generation('b'), generation('a')], next_cursor: 'c1' },
    { items: [generation('z')], next_cursor: null },
  ],
  pageParams: [null, 'c1'],
});

describe('generation cache', () => {
  it('replaces a listed generation where it is', () => {
    const d = pages();
    upsertGeneration(d, generation('z', { status: 'running' }));
    expect(d.pages[1].items[0].status).toBe('running');
    expect(flattenGenerations(d.pages).map((g) => g.id)).toEqual(['b', 'a', 'z']);
  });
  it('puts a new one first', () => {
    const d = pages();
    upsertGeneration(d, generation('c'));
    expect(flattenGenerations(d.pages).map((g) => g.id)).toEqual(['c', 'b', 'a', 'z']);
    const empty: GenerationPages = { pages: [], pageParams: [] };
    upsertGeneration(empty, generation('c'));
    expect(flattenGenerations(empty.pages).map((g) => g.id)).toEqual(['c']);
  });
  it('removes from every page and lists each once', () => {
    const d = pages();
    d.pages[1].items.unshift(generation('a'));
    expect(flattenGenerations(d.pages).map((g) => g.id)).toEqual(['b', 'a', 'z']);
    removeGeneration(d, 'a');
    expect(flattenGenerations(d.pages).map((g) => g.id)).toEqual(['b', 'z']);
  });
});

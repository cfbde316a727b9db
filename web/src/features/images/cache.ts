import type { Page } from '../../app/apiTypes';
import type { Generation } from './types';

/** RTK Query's infinite-query data for the generation list. */
export interface GenerationPages {
  pages: Page<Generation>[];
  pageParams: (string | null)[];
}

/** Replaces the generation wherever it is listed, or puts it first when it is new. Mutates (Immer draft). */
export function upsertGeneration(data: GenerationPages, g: Generation): void {
  for (const page of data.pages) {
    const i = page.items.findIndex((x) => x.id === g.id);
    if (i >= 0) {
      page.items[i] = g;
      return;
    }
  }
  if (data.pages.length === 0) {
    data.pages.push({ items: [g], next_cursor: null });
    data.pageParams.push(null);
  } else {
    data.pages[0].items.unshift(g);
  }
}

/** Drops the generation from every page. Mutates (Immer draft). */
export function removeGeneration(data: GenerationPages, id: string): void {
  for (const page of data.pages) page.items = page.items.filter((x) => x.id !== id);
}

/** The pages flattened, newest first, each generation once (a page boundary may repeat one). */
export function flattenGenerations(pages: readonly Page<Generation>[] | undefined): Generation[] {
  const seen = new Set<string>();
  const out: Generation[] = [];
  for (const page of pages ?? []) {
    for (const g of page.items) {
      if (seen.has(g.id)) continue;
      seen.add(g.id);
      out.push(g);
    }
  }
  return out;
}

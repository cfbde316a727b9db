import type { Generation } from './types';

/** A generation as the server would send it, with overrides. */
export function generation(id: string, extra: Partial<Generation> = {}): Generation {
  return {
    id,
    status: 'pending',
    model: 'wan2.2-t2i-flash',
    prompt: 'a red fox in snow',
    negative_prompt: '',
    task_id: null,
    size: '1024*1024',
    n: 1,
    seed: null,
    prompt_extend: true,
    watermark: false,
    created_at: '2026-01-01T00:00:00Z',
    submitted_at: null,
    started_at: null,
    finished_at: null,
    error: null,
    cost_cny: 0,
    images: [],
    ...extra,
  };
}

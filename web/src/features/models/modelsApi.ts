import { api } from '../../app/api';
import type { Model, Page } from '../../app/apiTypes';

export const modelsApi = api.injectEndpoints({
  endpoints: (build) => ({
    listModels: build.query<Model[], void>({
      query: () => '/models',
      transformResponse: (body: Page<Model> | Model[]) => (Array.isArray(body) ? body : (body.items ?? [])),
      providesTags: ['Models'],
      keepUnusedDataFor: 600,
    }),
  }),
});

export const { useListModelsQuery } = modelsApi;

/** Models a chat can use: enabled chat or vision models. */
export function chatModels(models: readonly Model[] | undefined): Model[] {
  return (models ?? []).filter((m) => m.enabled !== false && (m.kind === 'chat' || m.kind === 'vision'));
}

/** The model a new chat starts with: the user's last choice if still offered, else the hub's default, else the first. */
export function pickModel(models: readonly Model[], preferred: string | null | undefined): string | undefined {
  if (preferred && models.some((m) => m.id === preferred)) return preferred;
  return (models.find((m) => m.default) ?? models[0])?.id;
}

/**
 * Whether a model takes enable_thinking. Unknown (models not loaded, or a hub that does not
 * say) counts as yes: the hub has the last word.
 */
export function thinkingAvailable(models: readonly Model[] | undefined, id: string | null | undefined): boolean {
  const m = models?.find((x) => x.id === id);
  return !m || m.thinking !== false;
}

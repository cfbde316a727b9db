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

import { api } from '../../app/api';
import type { Page } from '../../app/apiTypes';
import type { AppDispatch, AppThunk } from '../../app/store';
import { removeGeneration, upsertGeneration } from './cache';
import type { Generation, GenerationRequest } from './types';

export const GENERATIONS_PAGE_SIZE = 12;

export const imagesApi = api.injectEndpoints({
  endpoints: (build) => ({
    listGenerations: build.infiniteQuery<Page<Generation>, void, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.next_cursor || undefined,
      },
      query: ({ pageParam }) => ({
        url: '/images/generations',
        params: { limit: GENERATIONS_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
      }),
      providesTags: [{ type: 'ImageGenerations', id: 'LIST' }],
    }),
    getGeneration: build.query<Generation, string>({
      query: (id) => `/images/generations/${encodeURIComponent(id)}`,
      providesTags: (_r, _e, id) => [{ type: 'ImageGenerations', id }],
      async onQueryStarted(_id, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(storeGeneration(data));
        } catch {
          /* the caller shows it */
        }
      },
    }),
    createGeneration: build.mutation<Generation, GenerationRequest>({
      query: (body) => ({ url: '/images/generations', method: 'POST', body }),
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(storeGeneration(data));
        } catch {
          /* the caller shows it */
        }
      },
    }),
    deleteGeneration: build.mutation<void, string>({
      query: (id) => ({ url: `/images/generations/${encodeURIComponent(id)}`, method: 'DELETE' }),
      async onQueryStarted(id, { dispatch, queryFulfilled }) {
        const undo = dispatch(
          imagesApi.util.updateQueryData('listGenerations', undefined, (data) => removeGeneration(data, id)),
        );
        try {
          await queryFulfilled;
        } catch (e) {
          // Already gone is what was asked for; anything else puts it back.
          if ((e as { error?: { status?: number } })?.error?.status !== 404) undo.undo();
        }
      },
    }),
  }),
});

/**
 * Puts a generation (from the POST, a GET or the events stream) into the cached list, the one
 * place the page reads generations from, so every view of it changes at once. A list still on
 * its way may not hold it yet: that one is fetched again once it has arrived.
 */
export function storeGeneration(g: Generation): AppThunk {
  return (dispatch, getState) => {
    const list = imagesApi.endpoints.listGenerations.select(undefined)(getState());
    if (list.data) {
      dispatch(imagesApi.util.updateQueryData('listGenerations', undefined, (data) => upsertGeneration(data, g)));
    } else if (list.isLoading) {
      dispatch(imagesApi.util.invalidateTags([{ type: 'ImageGenerations', id: 'LIST' }]));
    }
  };
}

/** Forgets a generation the server no longer has (deleted elsewhere). */
export function forgetGeneration(dispatch: AppDispatch, id: string): void {
  dispatch(imagesApi.util.updateQueryData('listGenerations', undefined, (data) => removeGeneration(data, id)));
}

export const {
  useListGenerationsInfiniteQuery,
  useGetGenerationQuery,
  useLazyGetGenerationQuery,
  useCreateGenerationMutation,
  useDeleteGenerationMutation,
} = imagesApi;

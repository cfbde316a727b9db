import { api } from '../../app/api';
import type { Conversation, Page, RequestBody } from '../../app/apiTypes';
import type { RootState } from '../../app/store';

export const CONVERSATIONS_PAGE_SIZE = 30;

export interface ConversationListArg {
  q: string;
}

export type ConversationCreate = RequestBody<'postConversations'>;
export type ConversationPatch = RequestBody<'patchConversationsById'>;

type ListData = { pages: Page<Conversation>[]; pageParams: (string | null)[] };

export const conversationsApi = api.injectEndpoints({
  endpoints: (build) => ({
    listConversations: build.infiniteQuery<Page<Conversation>, ConversationListArg, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.next_cursor || undefined,
      },
      query: ({ queryArg, pageParam }) => ({
        url: '/conversations',
        params: {
          limit: CONVERSATIONS_PAGE_SIZE,
          ...(queryArg.q ? { q: queryArg.q } : {}),
          ...(pageParam ? { cursor: pageParam } : {}),
        },
      }),
      providesTags: [{ type: 'ConversationList', id: 'LIST' }],
    }),
    getConversation: build.query<Conversation, string>({
      query: (id) => `/conversations/${encodeURIComponent(id)}`,
      providesTags: (_r, _e, id) => [{ type: 'Conversation', id }],
    }),
    createConversation: build.mutation<Conversation, ConversationCreate>({
      query: (body) => ({ url: '/conversations', method: 'POST', body }),
      invalidatesTags: [{ type: 'ConversationList', id: 'LIST' }],
      async onQueryStarted(_arg, { dispatch, queryFulfilled }) {
        try {
          const { data } = await queryFulfilled;
          dispatch(conversationsApi.util.upsertQueryData('getConversation', data.id, data));
        } catch {
          /* shown by the caller */
        }
      },
    }),
    updateConversation: build.mutation<Conversation, { id: string; patch: ConversationPatch }>({
      query: ({ id, patch }) => ({ url: `/conversations/${encodeURIComponent(id)}`, method: 'PATCH', body: patch }),
      invalidatesTags: (_r, _e, { id }) => [
        { type: 'Conversation', id },
        { type: 'ConversationList', id: 'LIST' },
      ],
      async onQueryStarted({ id, patch }, { dispatch, getState, queryFulfilled }) {
        const undo = patchCachedLists(dispatch, getState() as RootState, (list) => {
          for (const page of list.pages) {
            const c = page.items.find((x) => x.id === id);
            if (c) Object.assign(c, patch);
          }
        });
        const one = dispatch(
          conversationsApi.util.updateQueryData('getConversation', id, (c) => {
            Object.assign(c, patch);
          }),
        );
        try {
          await queryFulfilled;
        } catch {
          undo();
          one.undo();
        }
      },
    }),
    deleteConversation: build.mutation<void, string>({
      query: (id) => ({ url: `/conversations/${encodeURIComponent(id)}`, method: 'DELETE' }),
      invalidatesTags: [{ type: 'ConversationList', id: 'LIST' }],
      async onQueryStarted(id, { dispatch, getState, queryFulfilled }) {
        const undo = patchCachedLists(dispatch, getState() as RootState, (list) => {
          for (const page of list.pages) page.items = page.items.filter((x) => x.id !== id);
        });
        try {
          await queryFulfilled;
          dispatch(conversationsApi.util.invalidateTags([{ type: 'Conversation', id }]));
        } catch {
          undo();
        }
      },
    }),
  }),
});

/** Applies an optimistic change to every cached conversation list (each search term). */
function patchCachedLists(
  dispatch: (action: unknown) => unknown,
  state: RootState,
  recipe: (list: ListData) => void,
): () => void {
  const undos: Array<() => void> = [];
  const entries = conversationsApi.util.selectInvalidatedBy(state, [{ type: 'ConversationList', id: 'LIST' }]);
  for (const entry of entries) {
    if (entry.endpointName !== 'listConversations') continue;
    const result = dispatch(
      conversationsApi.util.updateQueryData('listConversations', entry.originalArgs as ConversationListArg, recipe),
    ) as { undo: () => void };
    undos.push(result.undo);
  }
  return () => undos.forEach((u) => u());
}

export const {
  useListConversationsInfiniteQuery,
  useGetConversationQuery,
  useCreateConversationMutation,
  useUpdateConversationMutation,
  useDeleteConversationMutation,
} = conversationsApi;

/** Flattens pages and puts pinned conversations first, keeping the server's order otherwise. */
export function orderConversations(pages: readonly Page<Conversation>[] | undefined): Conversation[] {
  const seen = new Set<string>();
  const all: Conversation[] = [];
  for (const page of pages ?? []) {
    for (const c of page.items) {
      if (seen.has(c.id) || c.archived) continue;
      seen.add(c.id);
      all.push(c);
    }
  }
  return [...all.filter((c) => c.pinned), ...all.filter((c) => !c.pinned)];
}

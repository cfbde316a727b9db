import { api } from '../../app/api';
import type { Message, Page } from '../../app/apiTypes';
import type { AppDispatch, RootState } from '../../app/store';

export const MESSAGES_PAGE_SIZE = 50;

type MessagePages = { pages: Page<Message>[]; pageParams: (string | null)[] };

/**
 * Messages of a conversation, newest page first: page 0 has the latest
 * messages, each following page is older (fetched with ?before=<cursor>).
 * Items inside a page are oldest first, as the server sends them.
 */
export const messagesApi = api.injectEndpoints({
  endpoints: (build) => ({
    getMessages: build.infiniteQuery<Page<Message>, string, string | null>({
      infiniteQueryOptions: {
        initialPageParam: null,
        getNextPageParam: (lastPage) => lastPage.next_cursor || undefined,
      },
      query: ({ queryArg, pageParam }) => ({
        url: `/conversations/${encodeURIComponent(queryArg)}/messages`,
        params: { limit: MESSAGES_PAGE_SIZE, ...(pageParam ? { before: pageParam } : {}) },
      }),
      providesTags: (_r, _e, id) => [{ type: 'Messages', id }],
      keepUnusedDataFor: 300,
    }),
  }),
});

export const { useGetMessagesInfiniteQuery } = messagesApi;

/** All loaded messages in display order (oldest first). */
export function flattenMessages(data: MessagePages | undefined): Message[] {
  if (!data) return [];
  const out: Message[] = [];
  for (let i = data.pages.length - 1; i >= 0; i -= 1) out.push(...data.pages[i].items);
  return out;
}

/**
 * Inserts or replaces messages in the cached pages (new ones go to the newest page).
 * `replaceId` swaps an old message for the first given one in place (regenerate).
 * Pure on the draft; exported for tests.
 */
export function upsertIntoPages(draft: MessagePages, messages: readonly Message[], replaceId?: string): void {
  if (draft.pages.length === 0) draft.pages.push({ items: [], next_cursor: null });
  const [first, ...rest] = messages;
  const toPlace = [...messages];
  if (replaceId && first) {
    for (const page of draft.pages) {
      const idx = page.items.findIndex((m) => m.id === replaceId);
      if (idx >= 0) {
        page.items[idx] = first;
        toPlace.splice(0, toPlace.length, ...rest);
        break;
      }
    }
  }
  for (const msg of toPlace) {
    let placed = false;
    for (const page of draft.pages) {
      const idx = page.items.findIndex((m) => m.id === msg.id);
      if (idx >= 0) {
        page.items[idx] = msg;
        placed = true;
        break;
      }
    }
    if (!placed) draft.pages[0].items.push(msg);
  }
  // A replaced message may also still exist elsewhere when the server kept it; drop duplicates.
  const seen = new Set<string>();
  for (let p = draft.pages.length - 1; p >= 0; p -= 1) {
    draft.pages[p].items = draft.pages[p].items.filter((m) => (seen.has(m.id) ? false : (seen.add(m.id), true)));
  }
}

/** Upserts into the cache; when nothing is cached yet, has the list refetched instead. */
export function upsertMessages(
  dispatch: AppDispatch,
  getState: () => RootState,
  conversationId: string,
  messages: readonly Message[],
  replaceId?: string,
): void {
  const cached = messagesApi.endpoints.getMessages.select(conversationId)(getState());
  if (!cached.data) {
    dispatch(api.util.invalidateTags([{ type: 'Messages', id: conversationId }]));
    return;
  }
  dispatch(
    messagesApi.util.updateQueryData('getMessages', conversationId, (draft) => {
      upsertIntoPages(draft, messages, replaceId);
    }),
  );
}

import type { Message, Page } from '../../app/apiTypes';
import type { StreamState } from './chatSlice';

export type ChatItem =
  | { key: string; type: 'message'; message: Message; last: boolean }
  | { key: string; type: 'pending-user'; message: Message }
  | { key: string; type: 'stream'; stream: StreamState };

/** Message ids the list must not show because an in-flight answer stands in for them. */
function hiddenIds(stream: StreamState | undefined): Set<string> {
  const hidden = new Set<string>();
  if (!stream) return hidden;
  if (stream.request.kind === 'regenerate') hidden.add(stream.request.messageId);
  if (stream.assistantMessageId) hidden.add(stream.assistantMessageId);
  return hidden;
}

function visible(messages: readonly Message[], hidden: Set<string>): Message[] {
  return messages.filter((m) => m.role !== 'system' && !hidden.has(m.id));
}

/**
 * What the chat window shows, oldest first: stored messages, then the pending
 * question and the streaming (or failed / stopped) answer.
 * `olderCount` is how many items come from pages other than the newest one: the
 * virtualised list uses it to keep its position when older pages are prepended.
 */
export function buildChatItems(
  pages: readonly Page<Message>[] | undefined,
  stream: StreamState | undefined,
): { items: ChatItem[]; olderCount: number } {
  const hidden = hiddenIds(stream);
  const older: Message[] = [];
  const list = pages ?? [];
  for (let i = list.length - 1; i >= 1; i -= 1) older.push(...visible(list[i].items, hidden));
  const newest = list.length ? visible(list[0].items, hidden) : [];
  const all = [...older, ...newest];
  let lastAssistant = -1;
  for (let i = all.length - 1; i >= 0; i -= 1) {
    if (all[i].role === 'assistant') {
      lastAssistant = i;
      break;
    }
  }
  const items: ChatItem[] = all.map((message, i) => ({
    key: message.id,
    type: 'message',
    message,
    last: !stream && i === lastAssistant && i === all.length - 1,
  }));
  if (stream) {
    if (stream.localUser && !all.some((m) => m.id === stream.userMessageId)) {
      items.push({ key: 'pending-user', type: 'pending-user', message: stream.localUser });
    }
    items.push({ key: 'stream', type: 'stream', stream });
  }
  return { items, olderCount: older.length };
}

import { describe, expect, it } from 'vitest';
import type { Conversation } from '../../app/apiTypes';
import { orderConversations } from './conversationsApi';
import { exportFileName } from './exportConversation';

const c = (id: string, pinned = false, archived = false): Conversation => ({
  id,
  title: id,
  model: 'qwen-plus',
  system_prompt: '',
  pinned,
  archived,
  created_at: '',
  updated_at: '',
});

describe('orderConversations', () => {
  it('puts pinned first, keeps server order, skips archived and duplicates across pages', () => {
    const out = orderConversations([
      { items: [c('a'), c('b', true), c('x', false, true)], next_cursor: '1' },
      { items: [c('b', true), c('d'), c('e', true)], next_cursor: null },
    ]);
    expect(out.map((x) => x.id)).toEqual(['b', 'e', 'a', 'd']);
    expect(orderConversations(undefined)).toEqual([]);
  });
});

describe('exportFileName', () => {
  it('prefers the server file name', () => {
    expect(exportFileName('attachment; filename="chat.md"', 't', 'markdown')).toBe('chat.md');
    expect(exportFileName("attachment; filename*=UTF-8''%E5%AF%B9%E8%AF%9D.json", 't', 'json')).toBe('对话.json');
  });
  it('falls back to a safe name made from the title', () => {
    expect(exportFileName(null, 'a/b:c?', 'markdown')).toBe('a b c.md');
    expect(exportFileName(null, '  ', 'json')).toBe('conversation.json');
  });
});

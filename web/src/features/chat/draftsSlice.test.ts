import { describe, expect, it } from 'vitest';
import { allDraftsCleared, draftChanged, draftCleared, draftMoved, draftsReducer, loadDrafts } from './draftsSlice';

describe('draftsSlice', () => {
  it('keeps a draft per conversation and drops empty ones', () => {
    let s = draftsReducer(undefined, draftChanged({ key: 'new', text: 'hello' }));
    s = draftsReducer(s, draftChanged({ key: 'c1', text: 'other' }));
    expect(s.byKey).toEqual({ new: 'hello', c1: 'other' });
    s = draftsReducer(s, draftChanged({ key: 'c1', text: '' }));
    expect(s.byKey).toEqual({ new: 'hello' });
  });

  it('clears, moves and wipes drafts', () => {
    let s = draftsReducer(undefined, draftChanged({ key: 'new', text: 'hello' }));
    s = draftsReducer(s, draftMoved({ from: 'new', to: 'c9' }));
    expect(s.byKey).toEqual({ c9: 'hello' });
    s = draftsReducer(s, draftCleared('c9'));
    expect(s.byKey).toEqual({});
    s = draftsReducer(draftsReducer(s, draftChanged({ key: 'a', text: 'x' })), allDraftsCleared());
    expect(s.byKey).toEqual({});
  });

  it('loads saved drafts defensively', () => {
    expect(loadDrafts(null)).toEqual({ byKey: {} });
    expect(loadDrafts('not json')).toEqual({ byKey: {} });
    expect(loadDrafts('{"a":"x","b":3,"c":""}')).toEqual({ byKey: { a: 'x' } });
  });
});

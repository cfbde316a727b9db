import { describe, expect, it } from 'vitest';
import { withSessionToken } from './authorize';

describe('withSessionToken', () => {
  it('adds the session token when the user chose nothing', () => {
    expect(withSessionToken({ headers: {} }, 'tok').headers).toEqual({ Authorization: 'Bearer tok' });
  });
  it('keeps a platform key the user authorized with', () => {
    expect(withSessionToken({ headers: { Authorization: 'Bearer bh-key' } }, 'tok').headers).toEqual({ Authorization: 'Bearer bh-key' });
    expect(withSessionToken({ headers: { 'x-api-key': 'bh-key' } }, 'tok').headers).toEqual({ 'x-api-key': 'bh-key' });
  });
  it('sends nothing when signed out', () => {
    expect(withSessionToken({ headers: {} }, null).headers).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { groupPermissions } from './rolesApi';

describe('groupPermissions', () => {
  it('puts model families first, then own data, then administration', () => {
    const perms = ['users:manage', 'conversations:own', 'models:chat', 'security:read', 'models:images', 'history:read:own', 'api_keys:own']
      .map((name) => ({ name, description: name }));
    const groups = groupPermissions(perms);
    expect(groups.map((g) => g.group)).toEqual(['models', 'own', 'admin']);
    expect(groups[0].items.map((p) => p.name)).toEqual(['models:chat', 'models:images']);
    expect(groups[1].items.map((p) => p.name)).toEqual(['conversations:own', 'history:read:own', 'api_keys:own']);
    expect(groups[2].items.map((p) => p.name)).toEqual(['users:manage', 'security:read']);
  });

  it('leaves out empty groups', () => {
    expect(groupPermissions([{ name: 'models:chat', description: '' }]).map((g) => g.group)).toEqual(['models']);
    expect(groupPermissions([])).toEqual([]);
  });
});

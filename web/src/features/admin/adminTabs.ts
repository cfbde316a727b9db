/** Which admin tabs a role may see (the server checks every request; this only hides). */
export function adminTabsFor(role: string | undefined): ('users' | 'keys' | 'roles' | 'security' | 'audit' | 'stats')[] {
  if (role === 'admin') return ['users', 'keys', 'roles', 'security', 'audit', 'stats'];
  if (role === 'auditor') return ['audit', 'stats'];
  return [];
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from 'antd';
import { StrictMode } from 'react';
import { Provider } from 'react-redux';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { makeStore } from '../../app/store';
import { json, mockFetch } from '../../test/http';
import { IdentitiesCard } from './IdentitiesCard';
import { SsoButtons } from './SsoButtons';
import { SsoCompletePage } from './SsoCompletePage';

afterEach(() => vi.unstubAllGlobals());

const user = {
  id: 'u1',
  username: 'olivia',
  email: 'olivia@example.test',
  display_name: 'Olivia',
  role: 'user',
  status: 'active',
  settings: {},
  quota: {},
  created_at: '2026-12-06T10:00:00.000Z',
  updated_at: '2026-12-06T10:00:00.000Z',
};

function renderAt(path: string, routes: { path: string; element: React.ReactNode }[]) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const store = makeStore();
  render(
    <StrictMode>
      <Provider store={store}>
        <App>
          <RouterProvider router={router} />
        </App>
      </Provider>
    </StrictMode>,
  );
  return { router, store };
}

describe('single sign-on', { timeout: 60_000 }, () => {
  it('shows one "Sign in with …" link per provider, and nothing when the list fails', async () => {
    mockFetch(() =>
      json(200, {
        items: [
          { id: 'corp', display_name: 'Corp SSO' },
          { id: 'test', display_name: 'Test ID' },
        ],
        next_cursor: null,
      }),
    );
    renderAt('/login', [{ path: '/login', element: <SsoButtons /> }]);
    const corp = await screen.findByRole('link', { name: /Sign in with Corp SSO/ });
    expect(corp.getAttribute('href')).toBe('/api/v1/auth/sso/corp/start');
    expect(screen.getByRole('link', { name: /Sign in with Test ID/ })).toBeTruthy();
  });

  it('renders no buttons when the providers cannot be listed', async () => {
    const calls = mockFetch(() => json(503, { error: { code: 'overloaded', message: 'busy', request_id: 'r' } }));
    renderAt('/login', [{ path: '/login', element: <SsoButtons /> }]);
    await waitFor(() => expect(calls.length).toBeGreaterThan(0));
    expect(screen.queryByRole('link')).toBeNull();
  });

  it('exchanges the ticket exactly once (even in StrictMode) and goes home signed in', async () => {
    const calls = mockFetch((call) => {
      if (call.path === '/api/v1/auth/sso/exchange')
        return json(200, { access_token: 'a.b.c', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', user });
      return json(404, { error: { code: 'not_found', message: 'x', request_id: 'r' } });
    });
    const { router, store } = renderAt('/sso/complete?ticket=T1', [
      { path: '/sso/complete', element: <SsoCompletePage /> },
      { path: '/', element: <p>home</p> },
    ]);
    await screen.findByText('home');
    expect(router.state.location.pathname).toBe('/');
    expect(store.getState().auth.status).toBe('authenticated');
    const exchanges = calls.filter((c) => c.path === '/api/v1/auth/sso/exchange');
    expect(exchanges).toHaveLength(1);
    expect(JSON.parse(String(exchanges[0].body))).toEqual({ ticket: 'T1' });
  });

  it('says in words when the ticket is spent', async () => {
    mockFetch(() => json(401, { error: { code: 'invalid_ticket', message: 'gone', request_id: 'r' } }));
    renderAt('/sso/complete?ticket=T2', [{ path: '/sso/complete', element: <SsoCompletePage /> }]);
    await screen.findByText('This sign-in has expired or was already used. Sign in again.');
    expect(screen.getByRole('button', { name: 'Back to sign-in' })).toBeTruthy();
  });

  it('lists linked providers and explains why the last way in cannot be removed', async () => {
    // jsdom has no ResizeObserver; the confirmation popover measures itself with one.
    vi.stubGlobal(
      'ResizeObserver',
      class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    );
    mockFetch((call) => {
      if (call.method === 'DELETE')
        return json(409, { error: { code: 'last_sign_in_method', message: 'only way', request_id: 'r' } });
      return json(200, {
        items: [
          {
            id: 'i1',
            provider: 'test',
            provider_display_name: 'Test ID',
            email: 'olivia@example.test',
            created_at: '2026-12-06T10:00:00.000Z',
            last_login_at: '2026-12-06T11:00:00.000Z',
          },
        ],
        next_cursor: null,
      });
    });
    renderAt('/settings', [{ path: '/settings', element: <IdentitiesCard /> }]);
    await screen.findByText('Test ID');
    expect(screen.getByText('olivia@example.test')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Unlink' }));
    const confirm = await screen.findAllByRole('button', { name: 'Unlink' });
    fireEvent.click(confirm[confirm.length - 1]);
    await screen.findByText('This is your only way to sign in; it cannot be removed.');
  });
});

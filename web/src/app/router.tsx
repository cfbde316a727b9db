import { createBrowserRouter, Outlet, RouterProvider } from 'react-router';
import { AuthGate } from '../features/auth/AuthGate';
import { RequireAuth } from '../features/auth/RequireAuth';
import { DemoBanner } from '../features/system/DemoBanner';
import { FullPageSpinner } from '../components/FullPageSpinner';
import { RouteError } from '../components/RouteError';
import styles from './app.module.css';

function RootLayout() {
  return (
    <div className={styles.root}>
      <DemoBanner />
      <div className={styles.page}>
        <AuthGate>
          <Outlet />
        </AuthGate>
      </div>
    </div>
  );
}

// Every page is its own chunk: the first paint only needs the shell above.
const router = createBrowserRouter([
  {
    element: <RootLayout />,
    errorElement: <RouteError />,
    hydrateFallbackElement: <FullPageSpinner />,
    children: [
      { path: 'login', lazy: async () => ({ Component: (await import('../features/auth/AuthPage')).LoginPage }) },
      {
        path: 'register',
        lazy: async () => ({ Component: (await import('../features/auth/AuthPage')).RegisterPage }),
      },
      {
        path: 'sso/complete',
        lazy: async () => ({ Component: (await import('../features/sso/SsoCompletePage')).SsoCompletePage }),
      },
      { path: 'sso/link', lazy: async () => ({ Component: (await import('../features/sso/SsoLinkPage')).SsoLinkPage }) },
      {
        element: <RequireAuth />,
        children: [
          {
            lazy: async () => ({ Component: (await import('./AppShell')).AppShell }),
            children: [
              { index: true, lazy: async () => ({ Component: (await import('../features/chat/ChatPage')).ChatPage }) },
              {
                path: 'c/:conversationId',
                lazy: async () => ({ Component: (await import('../features/chat/ChatPage')).ChatPage }),
              },
              {
                path: 'c/:conversationId/details',
                lazy: async () => ({
                  Component: (await import('../features/conversations/ConversationDetailPage'))
                    .ConversationDetailPage,
                }),
              },
              {
                path: 'images',
                lazy: async () => ({ Component: (await import('../features/images/ImagesPage')).ImagesPage }),
              },
              {
                path: 'history',
                lazy: async () => ({ Component: (await import('../features/history/HistoryPage')).HistoryPage }),
              },
              {
                path: 'admin',
                lazy: async () => ({ Component: (await import('../features/admin/AdminPage')).AdminPage }),
              },
              {
                path: 'settings',
                lazy: async () => ({ Component: (await import('../features/settings/SettingsPage')).SettingsPage }),
              },
              {
                path: 'api/docs',
                lazy: async () => ({ Component: (await import('../features/apiDocs/ApiDocsPage')).ApiDocsPage }),
              },
              {
                path: '*',
                lazy: async () => ({ Component: (await import('../components/NotFound')).NotFound }),
              },
            ],
          },
        ],
      },
    ],
  },
]);

export function AppRouter() {
  return <RouterProvider router={router} />;
}

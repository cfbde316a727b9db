import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserStore } from './app/store';
import { initI18n } from './app/i18n';
import { Providers } from './app/Providers';
import { AppRouter } from './app/router';
import { registerServiceWorker } from './app/serviceWorker';
import './index.css';

const store = createBrowserStore();
initI18n(store.getState().prefs.language);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Providers store={store}>
      <AppRouter />
    </Providers>
  </StrictMode>,
);

registerServiceWorker();

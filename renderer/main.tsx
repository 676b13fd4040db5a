/**
 * Entry of the settings page: resolve the API (preload or web bridge), start the store's
 * subscriptions, render.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { resolveLabApi } from './bridge/lab-api.ts';
import { App } from './components/app.tsx';
import { initializeStoreSubscriptions } from './stores/subscriptions.ts';
import './styles.css';

const { api, host } = resolveLabApi();
const cleanup = initializeStoreSubscriptions(api, host);
window.addEventListener('pagehide', cleanup, { once: true });

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

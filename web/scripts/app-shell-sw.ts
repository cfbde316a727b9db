import type { Plugin } from 'vite';

/**
 * Emits dist/sw.js: a service worker that precaches the app shell (index.html,
 * the built JS/CSS, icons, manifest) and serves it cache-first. It never touches
 * API traffic: anything under the server's API prefixes goes straight to the network.
 */
export function appShellServiceWorker(): Plugin {
  return {
    name: 'bailian-hub-app-shell-sw',
    apply: 'build',
    generateBundle(_options, bundle) {
      // The API reference page (Swagger UI) is large and rarely opened: fetched when visited.
      const built = Object.keys(bundle).filter((f) => /\.(js|css|svg|png|woff2?)$/.test(f) && !f.includes('ApiDocsPage'));
      const statics = [
        '/',
        '/index.html',
        '/manifest.webmanifest',
        '/favicon.svg',
        '/icons/icon-192.png',
        '/icons/icon-512.png',
        '/icons/icon-maskable-512.png',
        '/icons/apple-touch-icon.png',
      ];
      const files = [...statics, ...built.map((f) => `/${f}`)];
      const version = hashOf(files.join('|') + Date.now().toString(36));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: swSource(version, files) });
    },
  };
}

function hashOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

function swSource(version: string, files: string[]): string {
  return `/* Bailian Hub app-shell service worker. API responses are never cached. */
const CACHE = 'bailian-hub-shell-${version}';
const SHELL = ${JSON.stringify(files)};
const NETWORK_ONLY = ['/api/', '/v1/', '/dashscope/', '/healthz', '/readyz', '/metrics'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('bailian-hub-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NETWORK_ONLY.some((p) => url.pathname.startsWith(p))) return;

  if (request.mode === 'navigate') {
    // Network first so a new release shows up; the cached shell when offline.
    event.respondWith(fetch(request).catch(() => caches.match('/index.html')));
    return;
  }
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
});
`;
}

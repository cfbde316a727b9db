import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { appShellServiceWorker } from './scripts/app-shell-sw.ts';
import { openapiDocument } from './scripts/openapi-plugin.ts';

const hub = process.env.HUB_URL ?? 'http://127.0.0.1:8080';
const proxy = {
  '/api': { target: hub, changeOrigin: false },
  '/healthz': { target: hub, changeOrigin: false },
  '/readyz': { target: hub, changeOrigin: false },
};

export default defineConfig({
  plugins: [react(), appShellServiceWorker(), openapiDocument()],
  server: { proxy },
  preview: { proxy },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    include: ['src/**/*.test.{ts,tsx}'],
  },
});

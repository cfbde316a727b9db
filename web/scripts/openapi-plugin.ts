import type { Plugin } from 'vite';
// @ts-expect-error: a plain ESM script shared with `npm run gen:api`, without type declarations.
import { openapiJson } from './openapi.mjs';

/**
 * Writes dist/openapi.json (docs/openapi.yaml as JSON), which the hub serves at
 * /api/v1/openapi.json; the dev server answers that path itself from the YAML.
 */
export function openapiDocument(): Plugin {
  return {
    name: 'bailian-hub-openapi',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'openapi.json', source: openapiJson() as string });
    },
    configureServer(server) {
      server.middlewares.use('/api/v1/openapi.json', (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(openapiJson());
      });
    },
  };
}

#!/usr/bin/env node
// The web UI's view of the API contract, docs/openapi.yaml (the one source):
//  - `node scripts/openapi.mjs types` writes src/app/openapi.gen.ts (TypeScript types, by
//    openapi-typescript), which src/app/apiTypes.ts re-exports; `npm run build` and
//    `npm run typecheck` regenerate it first, so a shape the code and the document disagree on
//    fails tsc;
//  - openapiJson() (used by vite.config.ts) gives the document as JSON, which the build writes
//    to dist/openapi.json: the hub serves it at /api/v1/openapi.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const OPENAPI_YAML = resolve(here, '..', '..', 'docs', 'openapi.yaml');
const TYPES_OUT = resolve(here, '..', 'src', 'app', 'openapi.gen.ts');

export function openapiJson() {
  return JSON.stringify(YAML.parse(readFileSync(OPENAPI_YAML, 'utf8')));
}

async function writeTypes() {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(new URL(`file://${OPENAPI_YAML}`), {
    alphabetize: false,
    // A default makes a field optional in a request, not required: only `required` does.
    defaultNonNullable: false,
  });
  const header = '// Generated from docs/openapi.yaml by web/scripts/openapi.mjs: do not edit.\n';
  writeFileSync(TYPES_OUT, header + astToString(ast));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'types') {
  await writeTypes();
}

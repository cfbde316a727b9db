// Holds the hub to docs/openapi.yaml: every response the tests receive from a hub is checked
// against the operation the document gives for its method and path (status, the headers the
// document declares, content type, and the body against the JSON Schema, 2020-12 dialect).
// A field that changes without the document changing fails the test that saw it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OPENAPI_PATH = path.join(ROOT, 'docs', 'openapi.yaml');
export const openapi = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8'));

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const DOC_ID = 'openapi.json';

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema(openapi, DOC_ID);

// Path templates, most literal segments first (as the hub's router prefers literals). A last
// parameter of the pass-through ({service}) may hold slashes, like the router's "*".
const templates = Object.keys(openapi.paths).map((t) => {
  const segs = t.split('/').filter(Boolean);
  const rest = t.startsWith('/dashscope/api/v1/services/aigc/');
  const re = new RegExp('^/' + segs.map((s, i) => (s.startsWith('{')
    ? (rest && i === segs.length - 1 ? '.+' : '[^/]+')
    : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$');
  return { template: t, re, literals: segs.filter((s) => !s.startsWith('{')).length };
}).sort((a, b) => b.literals - a.literals);

export function findOperation(method, pathname) {
  const m = method.toLowerCase();
  for (const t of templates) {
    if (!t.re.test(pathname)) continue;
    const op = openapi.paths[t.template][m];
    if (op) return { template: t.template, op };
  }
  return null;
}

// Local refs ("#/components/...") made absolute so a schema taken out of the document compiles.
function absolutize(node) {
  if (Array.isArray(node)) return node.map(absolutize);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? DOC_ID + v : absolutize(v);
  }
  return out;
}

function deref(obj) {
  let o = obj;
  while (o && o.$ref) {
    const parts = o.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    o = parts.reduce((x, p) => x[p], openapi);
  }
  return o;
}

const compiled = new Map();
function validatorFor(key, schema) {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(absolutize(schema)));
  return compiled.get(key);
}

// Returns a list of problems (empty = the response matches the document). `body` is the
// response text, or null when it was not read (event streams).
export function checkResponse({ method, pathname, status, headers, body }) {
  const found = findOperation(method, pathname);
  if (!found) return [];  // not an operation of the document (405, static files, HEAD, OPTIONS)
  const where = `${method.toUpperCase()} ${found.template} -> ${status}`;
  const responses = found.op.responses;
  const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (!declared) return [`${where}: status ${status} is not documented`];
  const resp = deref(declared);
  const problems = [];
  for (const [name, h] of Object.entries(resp.headers ?? {})) {
    const header = deref(h);
    const value = headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`${where}: header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      const v = validatorFor(`${where} header ${name}`, header.schema);
      const typed = ['integer', 'number'].includes(header.schema.type) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      if (!v(typed)) problems.push(`${where}: header ${name}=${value}: ${ajv.errorsText(v.errors)}`);
    }
  }
  const contentType = (headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const hasBody = body === null ? contentType !== '' : body.length > 0;
  if (!resp.content) {
    if (hasBody) problems.push(`${where}: a body (${contentType || 'no content type'}) where the document has none`);
    return problems;
  }
  if (!hasBody) return [...problems, `${where}: no body where the document has ${Object.keys(resp.content).join(', ')}`];
  const media = resp.content[contentType];
  if (!media) return [...problems, `${where}: content type ${contentType} is not documented (${Object.keys(resp.content).join(', ')})`];
  if (body === null || !media.schema || contentType !== 'application/json') return problems;
  let data;
  try {
    data = JSON.parse(body);
  } catch {
    return [...problems, `${where}: body is not JSON: ${body.slice(0, 200)}`];
  }
  const v = validatorFor(`${where} ${contentType}`, media.schema);
  if (!v(data)) {
    problems.push(`${where}: body does not match the document: ${ajv.errorsText(v.errors, { separator: '; ' })}\n  body: ${body.slice(0, 500)}`);
  }
  return problems;
}

// Every problem seen by this test process; the process fails at exit when there is any.
export const violations = [];

// Wraps globalThis.fetch so that responses from the given origins are checked. The response is
// handed back untouched (the check reads a clone); a mismatch throws from fetch.
const origins = new Set();
export function watchOrigin(url) {
  origins.add(new URL(url).origin);
  installFetchCheck();
}
let installed = false;
function installFetchCheck() {
  if (installed) return;
  installed = true;
  const inner = globalThis.fetch;
  globalThis.fetch = async function checkedFetch(input, init = {}) {
    const res = await inner(input, init);
    const req = input instanceof Request ? input : null;
    const url = new URL(req ? req.url : String(input));
    if (!origins.has(url.origin)) return res;
    const method = (init.method ?? req?.method ?? 'GET').toUpperCase();
    const streaming = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
    let body = null;
    if (!streaming && method !== 'HEAD') {
      try {
        body = await res.clone().text();
      } catch {
        return res;  // the test aborted the body on purpose
      }
    }
    const problems = checkResponse({ method, pathname: url.pathname, status: res.status, headers: res.headers, body });
    if (problems.length) {
      violations.push(...problems);
      throw new Error(`response differs from docs/openapi.yaml:\n${problems.join('\n')}`);
    }
    return res;
  };
  process.on('exit', () => {
    if (violations.length) {
      console.error(`\n${violations.length} response(s) differ from docs/openapi.yaml:\n${violations.join('\n')}`);
      process.exitCode = 1;
    }
  });
}

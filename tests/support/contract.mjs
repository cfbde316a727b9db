// Holds the hub to docs/openapi.yaml: every response the tests receive from a hub is checked
// against the operation the document gives for its method and path (status, the headers the
// document declares, content type, and the body against the JSON Schema, 2020-12 dialect).
// Events of a stream whose media type lists `x-events` are checked one by one, by event name.
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

// The event schemas of a documented event stream: the media type's `x-events`, event name ->
// schema of its JSON `data`. Null when the response is not one (or the document names none).
export function streamEvents({ method, pathname, status }) {
  const found = findOperation(method, pathname);
  if (!found) return null;
  const responses = found.op.responses;
  const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  const events = declared && deref(declared).content?.['text/event-stream']?.['x-events'];
  return events ? { where: `${method.toUpperCase()} ${found.template} -> ${status}`, events } : null;
}

// Checks one event block of a stream (the lines between blank lines) against `events`; a block
// of comments only (": ping") is none. Returns the problems.
export function checkEvent(where, events, block) {
  let name = 'message';
  const data = [];
  let any = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    any = true;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (!any) return [];
  const schema = events[name];
  if (!schema) return [`${where}: event "${name}" is not documented (${Object.keys(events).join(', ')})`];
  let parsed;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch {
    return [`${where}: event "${name}": data is not JSON: ${data.join('\n').slice(0, 200)}`];
  }
  const v = validatorFor(`${where} event ${name}`, schema);
  if (v(parsed)) return [];
  return [`${where}: event "${name}" does not match the document: ${ajv.errorsText(v.errors, { separator: '; ' })}\n  data: ${data.join('\n').slice(0, 500)}`];
}

// A pass-through for an event stream's body that checks each whole event as it goes by: the
// test reads exactly the bytes it would have read, cancelling it cancels the response, and an
// aborted stream is checked as far as it got. Problems go to `report`.
function eventChecker(where, events, report) {
  const decoder = new TextDecoder();
  let text = '';
  const drain = (final) => {
    for (;;) {
      const m = /\r?\n\r?\n/.exec(text);
      if (!m) break;
      report(checkEvent(where, events, text.slice(0, m.index)));
      text = text.slice(m.index + m[0].length);
    }
    if (final && text.trim() !== '') report([`${where}: the stream ends inside an event: ${text.slice(0, 200)}`]);
  };
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      text += decoder.decode(chunk, { stream: true });
      drain(false);
    },
    flush() {
      text += decoder.decode();
      drain(true);
    },
  });
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
    const stream = streaming && res.body ? streamEvents({ method, pathname: url.pathname, status: res.status }) : null;
    if (!stream) return res;
    // The events are seen as the test reads them; a mismatch is reported at once and fails the
    // process at exit (the response is already the test's, so nothing can be thrown to it).
    const report = (found) => {
      if (!found.length) return;
      violations.push(...found);
      console.error(`event differs from docs/openapi.yaml:\n${found.join('\n')}`);
    };
    const checked = new Response(res.body.pipeThrough(eventChecker(stream.where, stream.events, report)), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
    Object.defineProperty(checked, 'url', { value: res.url });
    return checked;
  };
  process.on('exit', () => {
    if (violations.length) {
      console.error(`\n${violations.length} response(s) differ from docs/openapi.yaml:\n${violations.join('\n')}`);
      process.exitCode = 1;
    }
  });
}

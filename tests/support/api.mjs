// Small client helpers for the hub's JSON API in tests.
import { json } from './hub.mjs';

let counter = 0;
export function uniqueName(prefix = 'user') {
  counter += 1;
  return `${prefix}${process.pid % 10000}_${counter}_${Math.floor(Math.random() * 1e6)}`;
}

export async function call(url, method, path, { body, token, headers = {}, raw = false } = {}) {
  const h = { ...headers };
  if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  if (raw) return res;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  return { status: res.status, headers: res.headers, body: data };
}

export const STRONG_PASSWORD = 'Correct-Horse-7-Battery';

export async function register(url, { username = uniqueName(), email, password = STRONG_PASSWORD, ...rest } = {}) {
  const r = await call(url, 'POST', '/api/v1/auth/register', {
    body: { username, email: email || `${username}@example.com`, password, ...rest },
  });
  return { ...r, username, password };
}

export async function login(url, username, password = STRONG_PASSWORD, headers = {}) {
  return call(url, 'POST', '/api/v1/auth/login', { body: { username, password }, headers });
}

// Registers and signs in a fresh user; returns {user, token, refresh, username, password}.
export async function newUser(url, opts = {}) {
  const reg = await register(url, opts);
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const l = await login(url, reg.username, reg.password);
  if (l.status !== 200) throw new Error(`login failed: ${l.status} ${JSON.stringify(l.body)}`);
  return { user: l.body.user, token: l.body.access_token, refresh: l.body.refresh_token, username: reg.username, password: reg.password, cookie: l.headers.get('set-cookie') };
}

export { json };

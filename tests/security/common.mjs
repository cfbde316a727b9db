// Shared pieces of the security suite: a hub (and simulator) tuned for fast tests, token
// crafting, and the secrets register checked against every log line at the end of each file.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { call, newUser, STRONG_PASSWORD } from '../support/api.mjs';
import { allLogs } from '../support/hub.mjs';

// bcrypt at its minimum cost and limits out of the way: the attacks, not the limits, are tested.
export const FAST_ENV = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '100000',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_LIMITS_UNAUTHENTICATED_PER_IP_PER_MINUTE: '100000',
  BAILIAN_HUB_IMAGE_FIRST_POLL_MS: '100',
  BAILIAN_HUB_IMAGE_MAX_POLL_MS: '300',
  BAILIAN_HUB_TITLE_MODEL: '',
};

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

export function jwtParts(token) {
  const [h, p, s] = token.split('.');
  return { header: decodePart(h), claims: decodePart(p), h, p, s };
}

export function signRs256(header, payload, privateKey) {
  const head = b64url(JSON.stringify(header));
  const body = b64url(JSON.stringify(payload));
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), privateKey);
  return `${head}.${body}.${b64url(sig)}`;
}

export function signHs256(header, payload, secret) {
  const head = b64url(JSON.stringify(header));
  const body = b64url(JSON.stringify(payload));
  const mac = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(mac)}`;
}

// Every password, token and key a test handles; none may ever reach a log line.
export const secrets = new Set([STRONG_PASSWORD]);
export function keep(...values) {
  for (const v of values) if (typeof v === 'string' && v.length >= 8) secrets.add(v);
  return values[0];
}

// A signed-in user whose credentials are registered as secrets.
export async function user(url, opts) {
  const u = await newUser(url, opts);
  keep(u.password, u.token, u.refresh);
  return u;
}

export function api(url, who) {
  return (method, path, body, headers) => call(url, method, path, { token: who.token, body, headers });
}

// Resolves once the generation's event stream ends (the generation finished), with its state.
export async function waitGeneration(url, token, id) {
  const res = await fetch(`${url}/api/v1/images/generations/${id}/events`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  await res.text();
  const g = await call(url, 'GET', `/api/v1/images/generations/${id}`, { token });
  assert.equal(g.status, 200);
  return g.body;
}

// The check every file ends with.
export function assertNoSecretInLogs() {
  const text = allLogs.join('\n');
  assert.ok(text.length > 0, 'the processes logged something');
  for (const s of secrets) assert.ok(!text.includes(s), `a secret reached a log line: ${s.slice(0, 6)}…`);
  assert.ok(!/\$2b\$\d\d\$/.test(text), 'no bcrypt hash in logs');
  assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.eyJ/.test(text), 'no JWT in logs');
}

// Every line a hub printed on stdout is one JSON object.
export function assertJsonLines(logs) {
  for (const line of logs) {
    if (!line.trim()) continue;
    assert.doesNotThrow(() => JSON.parse(line), `not one JSON log line: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

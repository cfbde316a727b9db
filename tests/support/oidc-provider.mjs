// A real OpenID provider on loopback for the single-sign-on tests: the `oidc-provider` package
// (the certified Node.js implementation), with its development login and consent pages (any
// login name that is in `users`; the password is not checked), a set of clients, and RS256 and
// ES256 signing keys. `drive()` walks its pages with fetch (cookies kept, redirects followed by
// hand) and returns the URL it sends the browser back to; Chromium can use the same pages.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

// Test users: the account id is the login name typed on the provider's page.
export const OIDC_USERS = {
  olivia: { email: 'olivia@example.test', email_verified: true, name: 'Olivia Example', preferred_username: 'olivia' },
  victor: { email: 'victor@example.test', email_verified: false, name: 'Victor Unverified', preferred_username: 'victor' },
  linda: { email: 'linda@example.test', email_verified: true, name: 'Linda Link', preferred_username: 'linda' },
  ulrich: { email: 'ulrich@example.test', email_verified: false, name: 'Ulrich Unverified', preferred_username: 'ulrich' },
  carol: { email: 'carol@corp.test', email_verified: true, name: 'Carol Corp', preferred_username: 'carol' },
  dave: { email: 'dave@elsewhere.test', email_verified: true, name: 'Dave Elsewhere', preferred_username: 'dave' },
  pia: { email: 'pia@example.test', email_verified: true, name: 'Pia Phone', preferred_username: 'pia' },
  erin: { email: 'erin@example.test', email_verified: true, name: 'Erin Desktop', preferred_username: 'erin' },
  mira: { email: 'mira@example.test', email_verified: true, name: 'Mira MFA', preferred_username: 'mira' },
};

function privateJwk(kind, kid) {
  const { privateKey } = kind === 'EC'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: kind === 'EC' ? 'ES256' : 'RS256' };
}

// Listens at once (so the issuer URL is known before the hub starts); `configure(clients)`
// then builds the provider: clients = [{client_id, client_secret, redirect_uri, alg?}].
// Until then, and after stop(), nothing answers.
export async function startOidcProvider({ users = OIDC_USERS, authMethods } = {}) {
  let handler = null;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503).end('not configured');
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const tokenRequests = [];
  return {
    issuer,
    users,
    tokenRequests,
    configure(clients) {
      const provider = new Provider(issuer, {
        clients: clients.map((c) => ({
          client_id: c.client_id,
          client_secret: c.client_secret,
          redirect_uris: [c.redirect_uri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: c.auth_method || 'client_secret_basic',
          id_token_signed_response_alg: c.alg || 'RS256',
        })),
        clientAuthMethods: authMethods || ['client_secret_basic', 'client_secret_post'],
        async findAccount(ctx, id) {
          const u = users[id];
          if (!u) return undefined;
          return { accountId: id, async claims() { return { sub: `sub-${id}`, ...u }; } };
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
        conformIdTokenClaims: false,  // the scope's claims go into the ID token itself
        pkce: { required: () => true },
        features: { devInteractions: { enabled: true } },
        cookies: { keys: ['sso-test-cookie-key-0123456789'] },
        jwks: { keys: [privateJwk('RSA', 'rsa-1'), privateJwk('EC', 'ec-1')] },
        ttl: { AuthorizationCode: 120, IdToken: 300, Interaction: 600, Session: 600, Grant: 600 },
      });
      provider.on('grant.success', (ctx) => tokenRequests.push({ ok: true, client: ctx.oidc.client?.clientId }));
      provider.on('grant.error', (ctx, err) => tokenRequests.push({ ok: false, error: err.error }));
      handler = provider.callback();
      return provider;
    },
    async stop() {
      handler = null;
      await new Promise((r) => { server.close(r); for (const s of sockets) s.destroy(); });
    },
  };
}

// A minimal cookie jar for one origin (the provider's): name -> value.
export class CookieJar {
  constructor() { this.cookies = new Map(); }
  take(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name); else this.cookies.set(name, value);
    }
  }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
}

// Walks the provider from its authorization URL: signs in as `login` and consents, and returns
// the URL the provider redirects the browser to (the hub's callback, with code and state).
// `stopAt` (default: any URL outside the provider) decides where the walk ends.
export async function drive(authUrl, login, { jar = new CookieJar(), maxSteps = 20 } = {}) {
  const origin = new URL(authUrl).origin;
  let url = authUrl;
  let method = 'GET';
  let body;
  for (let step = 0; step < maxSteps; step++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    jar.take(res);
    method = 'GET';
    body = undefined;
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location'), url).toString();
      await res.arrayBuffer();
      if (new URL(next).origin !== origin) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`provider answered ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no form on the provider's page at ${url}: ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).toString();
    method = 'POST';
    body = prompt === 'login'
      ? new URLSearchParams({ prompt, login, password: 'any' }).toString()
      : new URLSearchParams({ prompt }).toString();
  }
  throw new Error('the provider walk did not end');
}

// A software WebAuthn authenticator for the integration tests, written from the spec with
// node:crypto alone: P-256 (ES256), RSA-2048 (RS256) and Ed25519 (EdDSA) keys, COSE keys and
// attestation objects (fmt "none") in CBOR, authenticator data and signed assertions. The
// output has the JSON shape the hub takes (binary fields in base64url), like a browser's
// PublicKeyCredential after encoding.
import crypto from 'node:crypto';

export const ALGS = { ES256: -7, RS256: -257, EdDSA: -8 };

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const unb64u = (s) => Buffer.from(s, 'base64url');

// ---- CBOR (definite lengths, shortest form) ----
function head(major, n) {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(n, 1);
  return b;
}
export const cbor = {
  int: (v) => (v >= 0 ? head(0, v) : head(1, -1 - v)),
  bytes: (b) => Buffer.concat([head(2, b.length), Buffer.from(b)]),
  text: (t) => { const b = Buffer.from(t, 'utf8'); return Buffer.concat([head(3, b.length), b]); },
  // entries: [[encodedKey, encodedValue], ...]
  map: (entries) => Buffer.concat([head(5, entries.length), ...entries.flat()]),
};

function coseKey(alg, publicKey) {
  const jwk = publicKey.export({ format: 'jwk' });
  const { int, bytes, map } = cbor;
  if (alg === ALGS.ES256) {
    return map([[int(1), int(2)], [int(3), int(-7)], [int(-1), int(1)],
      [int(-2), bytes(unb64u(jwk.x))], [int(-3), bytes(unb64u(jwk.y))]]);
  }
  if (alg === ALGS.RS256) {
    return map([[int(1), int(3)], [int(3), int(-257)], [int(-1), bytes(unb64u(jwk.n))],
      [int(-2), bytes(unb64u(jwk.e))]]);
  }
  return map([[int(1), int(1)], [int(3), int(-8)], [int(-1), int(6)], [int(-2), bytes(unb64u(jwk.x))]]);
}

function generate(alg) {
  if (alg === ALGS.ES256) return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === ALGS.RS256) return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return crypto.generateKeyPairSync('ed25519');
}

function sign(alg, privateKey, data) {
  if (alg === ALGS.ES256) return crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
  if (alg === ALGS.RS256) return crypto.sign('sha256', data, privateKey);
  return crypto.sign(null, data, privateKey);
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest();

export const FLAGS = { UP: 0x01, UV: 0x04, AT: 0x40, ED: 0x80 };

function authData(rpId, flags, counter, attested = null) {
  const fixed = Buffer.alloc(37);
  sha256(rpId).copy(fixed, 0);
  fixed[32] = flags;
  fixed.writeUInt32BE(counter >>> 0, 33);
  if (!attested) return fixed;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(attested.credentialId.length);
  return Buffer.concat([fixed, Buffer.alloc(16), len, attested.credentialId, attested.cose]);
}

function clientData(type, challenge, origin) {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

// One credential (one key pair) made by this authenticator.
export class SoftCredential {
  constructor(alg, { rpId, origin, userHandle }) {
    this.alg = alg;
    this.rpId = rpId;
    this.origin = origin;
    this.userHandle = userHandle;  // base64url, from options.user.id
    this.id = crypto.randomBytes(20);
    this.counter = 0;
    const { publicKey, privateKey } = generate(alg);
    this.publicKey = publicKey;
    this.privateKey = privateKey;
  }

  // navigator.credentials.create() for `options` (PublicKeyCredentialCreationOptions JSON).
  attestation(options, { origin = this.origin, rpId = this.rpId, flags = FLAGS.UP | FLAGS.UV | FLAGS.AT,
    fmt = 'none', attestationObject = null } = {}) {
    const cd = clientData('webauthn.create', options.challenge, origin);
    const ad = authData(rpId, flags, this.counter, { credentialId: this.id, cose: coseKey(this.alg, this.publicKey) });
    const att = attestationObject ?? cbor.map([[cbor.text('fmt'), cbor.text(fmt)], [cbor.text('attStmt'), cbor.map([])],
      [cbor.text('authData'), cbor.bytes(ad)]]);
    return {
      id: b64u(this.id), rawId: b64u(this.id), type: 'public-key',
      response: { clientDataJSON: b64u(cd), attestationObject: b64u(att), transports: ['internal', 'hybrid'] },
    };
  }

  // navigator.credentials.get() for `options` (PublicKeyCredentialRequestOptions JSON).
  assertion(options, { origin = this.origin, rpId = this.rpId, flags = FLAGS.UP | FLAGS.UV, counter = null,
    userHandle = this.userHandle, credentialId = this.id, tamper = false } = {}) {
    if (counter === null) { this.counter += 1; counter = this.counter; }
    const cd = clientData('webauthn.get', options.challenge, origin);
    const ad = authData(rpId, flags, counter);
    const sig = sign(this.alg, this.privateKey, Buffer.concat([ad, sha256(cd)]));
    if (tamper) sig[sig.length - 1] ^= 1;
    return {
      id: b64u(credentialId), rawId: b64u(credentialId), type: 'public-key',
      response: { clientDataJSON: b64u(cd), authenticatorData: b64u(ad), signature: b64u(sig), userHandle },
    };
  }
}

import { describe, expect, it } from 'vitest';
import { assertionJson, attestationJson, creationOptions, fromBase64Url, requestOptions, toBase64Url } from './webauthn';

describe('base64url', () => {
  it('round-trips every byte value without padding', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const text = toBase64Url(all);
    expect(text).not.toMatch(/[+/=]/);
    expect(Array.from(fromBase64Url(text))).toEqual(Array.from(all));
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(Array.from(fromBase64Url('-_8'))).toEqual([0xfb, 0xff]);
  });
});

describe('options from the hub', () => {
  it('decodes the binary fields of creation options', () => {
    const o = creationOptions({
      rp: { id: 'localhost', name: 'Bailian Hub' },
      user: { id: toBase64Url(new TextEncoder().encode('user-1')), name: 'alice', displayName: 'Alice' },
      challenge: toBase64Url(new Uint8Array([1, 2, 3])),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      excludeCredentials: [{ type: 'public-key', id: 'AAE', transports: ['internal'] }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation: 'none',
    });
    expect(new TextDecoder().decode(o.user.id as Uint8Array)).toBe('user-1');
    expect(Array.from(o.challenge as Uint8Array)).toEqual([1, 2, 3]);
    expect(Array.from(o.excludeCredentials![0].id as Uint8Array)).toEqual([0, 1]);
    expect(o.attestation).toBe('none');
  });

  it('decodes request options without allowCredentials as an empty list', () => {
    const o = requestOptions({ challenge: 'AQID', rpId: 'localhost', userVerification: 'required' });
    expect(Array.from(o.challenge as Uint8Array)).toEqual([1, 2, 3]);
    expect(o.allowCredentials).toEqual([]);
    expect(o.userVerification).toBe('required');
  });
});

describe('credentials to the hub', () => {
  const buf = (...b: number[]) => new Uint8Array(b).buffer;
  it('encodes an attestation', () => {
    const cred = {
      id: 'AQI',
      rawId: buf(1, 2),
      type: 'public-key',
      response: { clientDataJSON: buf(3), attestationObject: buf(4), getTransports: () => ['internal'] },
    } as unknown as PublicKeyCredential;
    expect(attestationJson(cred)).toEqual({
      id: 'AQI',
      rawId: 'AQI',
      type: 'public-key',
      response: { clientDataJSON: 'Aw', attestationObject: 'BA', transports: ['internal'] },
    });
  });
  it('encodes an assertion, with or without a user handle', () => {
    const make = (userHandle: ArrayBuffer | null) =>
      ({
        id: 'AQI',
        rawId: buf(1, 2),
        type: 'public-key',
        response: { clientDataJSON: buf(3), authenticatorData: buf(5), signature: buf(6), userHandle },
      }) as unknown as PublicKeyCredential;
    expect(assertionJson(make(buf(7))).response).toEqual({
      clientDataJSON: 'Aw',
      authenticatorData: 'BQ',
      signature: 'Bg',
      userHandle: 'Bw',
    });
    expect(assertionJson(make(null)).response.userHandle).toBeNull();
  });
});

// The JWT key ring a hub signs with, as the tests see it: read from the hub's database (table
// signing_keys) and opened with its master key (BAILIAN_HUB_MASTER_KEY, or the data
// directory's master.key), the same AES-256-GCM envelope the hub writes:
// "v1:" + base64(nonce[12] | ciphertext | tag[16]), associated data "bailian-hub jwt key ring v1".
import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { queryDb } from './hub.mjs';

const ASSOCIATED_DATA = 'bailian-hub jwt key ring v1';

export function openSealed(masterKeyB64, envelope, associatedData = ASSOCIATED_DATA) {
  if (!envelope.startsWith('v1:')) throw new Error('not a v1 envelope');
  const raw = Buffer.from(envelope.slice(3), 'base64');
  const key = Buffer.from(masterKeyB64.trim(), 'base64');
  const nonce = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  const body = raw.subarray(12, raw.length - 16);
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(Buffer.from(associatedData));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(body), d.final()]).toString('utf8');
}

// {version, keys: [{kid, private_pem, public_pem, created_at, retired_at}]} of the hub whose
// data directory is `dataDir` (`masterKey`: the base64 key when it came from the environment).
export async function readKeyRing(dataDir, masterKey) {
  const rows = await queryDb(dataDir, 'SELECT ring_sealed FROM signing_keys WHERE id = 1');
  if (rows.length !== 1) throw new Error('no key ring stored');
  const key = masterKey || readFileSync(path.join(dataDir, 'master.key'), 'utf8');
  return JSON.parse(openSealed(key, rows[0].ring_sealed));
}

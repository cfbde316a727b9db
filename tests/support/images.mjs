// Pictures for the vision tests, built byte by byte here (PNG with node:zlib, EXIF segments by
// hand) so that nothing depends on the hub's own image code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { ROOT } from './hub.mjs';

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width, height) {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(width, 0);
  h.writeUInt32BE(height, 4);
  h[8] = 8; // bit depth
  h[9] = 2; // RGB
  return chunk('IHDR', h);
}

// An RGB PNG of width x height: colour from `pixel(x, y)` -> [r, g, b] (default a gradient).
export function makePng(width, height, pixel = (x, y) => [x & 255, y & 255, 128]) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y += 1) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x += 1) {
      const [r, g, b] = pixel(x, y);
      raw[o++] = r; raw[o++] = g; raw[o++] = b;
    }
  }
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// A decompression bomb: a valid PNG head declaring width x height, then a little zlib data
// (what decoding would need is width x height x 3 bytes).
export function pngBomb(width = 50000, height = 50000) {
  const idat = zlib.deflateSync(Buffer.alloc(64 * 1024));
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

export const GPS_MARKER = 'HUB-TEST-GPS-30.2741N-120.1551E';

// A JPEG with an EXIF APP1 segment: Orientation and a GPS IFD (GPSLatitudeRef "N", and the
// marker text in a GPSAreaInformation entry), spliced in after SOI.
export function withGpsExif(jpeg, orientation = 6) {
  const parts = [];
  const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); parts.push(b); };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); parts.push(b); };
  const marker = Buffer.from(GPS_MARKER, 'ascii');
  parts.push(Buffer.from('MM'));
  u16(42); u32(8);
  // IFD0 at 8: Orientation, GPS pointer; next IFD 0. Ends at 8 + 2 + 24 + 4 = 38.
  u16(2);
  u16(0x0112); u16(3); u32(1); u16(orientation); u16(0);
  u16(0x8825); u16(4); u32(1); u32(38);
  u32(0);
  // GPS IFD at 38: LatitudeRef "N", AreaInformation (UNDEFINED) pointing at the marker text.
  // Ends at 38 + 2 + 24 + 4 = 68.
  u16(2);
  u16(0x0001); u16(2); u32(2); parts.push(Buffer.from([0x4e, 0, 0, 0]));
  u16(0x001c); u16(7); u32(marker.length); u32(68);
  u32(0);
  parts.push(marker);
  const tiff = Buffer.concat(parts);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), head, body, jpeg.subarray(2)]);
}

// The committed camera-like JPEG (64 x 48, no metadata; see tests/fixtures/images/README.md).
export function photoJpeg() {
  return readFileSync(path.join(ROOT, 'tests', 'fixtures', 'images', 'photo-64x48.jpg'));
}

// Width and height from a JPEG's SOF marker, or a PNG's IHDR.
export function imageSize(buf) {
  if (buf.subarray(0, 8).equals(PNG_SIGNATURE)) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) throw new Error('bad JPEG marker');
    const m = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  throw new Error('no SOF');
}

// POST /api/v1/files with one file part; resolves {status, body, headers}.
export async function upload(url, token, bytes, { name = 'picture.png', type = 'image/png' } = {}) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const res = await fetch(`${url}/api/v1/files`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, headers: res.headers, body };
}

#!/usr/bin/env python3
"""Writes the committed seed corpora, fuzz/corpus/<target>/, from the recorded DashScope
payloads in tests/fixtures/conformance and a few hand-made inputs. Run it again after adding a
recording; files are named by content, so old ones stay valid. Each target's first byte (where
it has one) picks a mode: see the comment at the top of fuzz/<target>.cpp."""
import base64
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONF = ROOT / "tests/fixtures/conformance"
OUT = ROOT / "fuzz/corpus"
MAX_SEED = 8 * 1024  # long recordings are cut (at an event boundary) to keep the corpus small


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def recording(name):
    data = (CONF / name).read_bytes()
    if len(data) > MAX_SEED:
        cut = data.rfind(b"\n\n", 0, MAX_SEED)
        data = data[: cut + 2] if cut > 0 else data[:MAX_SEED]
    return data


sse = sorted(p.name for p in CONF.glob("*.sse"))
for name in sse:
    body = recording(name)
    put("sse_parser", b"\x00" + body)  # one chunk of 1 byte: every split point
    put("sse_parser", b"\x07" + body.replace(b"\n", b"\r\n"))
    native = not name.startswith("compat_")
    mode = 0x1C | (1 if native else 0)  # chunks of 8 bytes
    put("stream_events", bytes([mode]) + body)
    if native:
        put("stream_events", bytes([mode | 2]) + body)  # incremental_output=false
put("sse_parser", b"\x03\xef\xbb\xbfdata: a\r\rdata:b\n:HTTP_STATUS/429\nstatus: 500\nid: 1\ndata")
put("stream_events", b"\x1c" + b'data: {"error":{"code":"x","message":"y"}}\n\ndata: [DONE]\n\n')

requests = [
    "GET /api/v1/conversations?limit=20&cursor=abc HTTP/1.1\r\nHost: hub\r\n\r\n",
    "POST /api/v1/auth/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
    'Content-Length: 35\r\n\r\n{"username":"a","password":"b-c-d"}',
    "POST /v1/chat/completions HTTP/1.1\r\nHost: hub\r\nTransfer-Encoding: chunked\r\n"
    "Expect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET / HTTP/1.0\nX-A: 1\n b\n\n",
    "PUT /x HTTP/1.1\r\nContent-Length: 300\r\n\r\n" + "x" * 300,
]
for r in requests:
    put("http_request", r)

bodies = [
    {"title": "t", "model": "qwen-plus", "system_prompt": "s"},
    {"content": "hello", "parameters": {"temperature": 0.7, "top_p": 1, "max_tokens": 100,
                                        "enable_search": True, "enable_thinking": False}},
    {"prompt": "a cat", "negative_prompt": "dog", "model": "wanx2.1-t2i-turbo",
     "size": "1024*1024", "n": 2, "seed": 42, "prompt_extend": False, "watermark": True},
    {"model": "qwen-plus", "stream": True, "stream_options": {"include_usage": True},
     "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
                  {"role": "user", "content": [{"type": "text", "text": "x"},
                                               {"type": "image_url",
                                                "image_url": {"url": "https://x/a.png"}}]}],
     "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
     "tool_choice": "auto", "max_tokens": 10, "stop": ["a"], "n": 1, "seed": 1},
    {"from": "2025-01-02T03:04:05.123Z", "limit": 18446744073709551615, "pinned": None},
]
for b in bodies:
    put("json_dto", json.dumps(b))
for name in ("native_message_request.json", "native_tools_request.json",
             "multimodal_vl_request.json"):
    put("json_dto", recording(name))
put("json_dto", "?limit=200&cursor=x%20y&from=1700000000000&to=2025-01-01")
put("json_dto", "?from=2025-13-01T00:00:00Z&limit=0")

put("exporters", bytes(range(256)))
put("exporters", b"\x01" * 64 + b"=SUM(A1)\n\"quoted\",comma" * 4)
put("exporters", b"\x00" * 32 + b"@x\r\n-1,\"" * 8)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


claims = {"iss": "https://hub.test", "aud": "bailian-hub", "sub": "u1", "role": "user",
          "sid": "s1", "jti": "j1", "iat": 1749999000, "nbf": 1749999000, "exp": 1750000500}
put("jwt", b"\x01" + json.dumps(claims).encode())
put("jwt", b"\x01" + json.dumps(dict(claims, aud=["x", "bailian-hub"], exp=1.75e9)).encode())
header = b64(b'{"alg":"RS256","typ":"JWT","kid":"k"}')
put("jwt", "\x00" + header + "." + b64(json.dumps(claims).encode()) + "." + b64(b"\x00" * 256))
put("jwt", "\x00" + b64(b'{"alg":"none"}') + ".e30.")
# A verify-only ring with a real (throw-away) public key, one key retired.
PUBLIC_PEM = (ROOT / "fuzz/seed_public_key.pem").read_text()
put("jwt", "\x02" + json.dumps({"version": 1, "keys": [
    {"kid": "k1", "private_pem": "", "public_pem": PUBLIC_PEM, "created_at": 1,
     "retired_at": 1749990000}]}))
put("jwt", "\x02" + json.dumps({"version": 1, "keys": [
    {"kid": "", "private_pem": "", "public_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n"
     "-----END PUBLIC KEY-----\n", "created_at": 1, "retired_at": None}]}))


# Pictures: the first byte picks the limits (fuzz/image_decode.cpp).
import struct
import zlib

IMAGES = ROOT / "tests/fixtures/images"


def png(width, height, color_type=2, raw=None):
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    if raw is None:
        raw = b"".join(b"\x00" + bytes((x * 7 + y) & 255 for x in range(width * channels))
                       for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                               color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def exif(orientation):
    tiff = b"MM" + struct.pack(">HI", 42, 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


# A GIF of 12 x 12, two colours, one frame (LZW: 2-bit minimum code size, clear + literal codes).
def gif():
    w = h = 12
    header = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80, 0, 0) + b"\xff\x00\x00\x00\x00\xff"
    desc = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0)
    # Every pixel as a literal code, re-clearing before the table grows past 3-bit codes.
    bits, nbits, out = 0, 0, bytearray()
    def emit(code, size):
        nonlocal bits, nbits
        bits |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(bits & 255)
            bits >>= 8
            nbits -= 8
    for i in range(w * h):
        if i % 2 == 0:
            emit(4, 3)  # clear
        emit((i // w + i) & 1, 3)
    emit(5, 3)  # end
    if nbits:
        out.append(bits & 255)
    data = b"\x02" + bytes([len(out)]) + bytes(out) + b"\x00"
    return header + desc + data + b"\x3b"


jpeg = (IMAGES / "photo-64x48.jpg").read_bytes()
webp = (IMAGES / "tiny-16x16.webp").read_bytes()
for mode in (0, 3):
    put("image_decode", bytes([mode]) + png(20, 14))
    put("image_decode", bytes([mode]) + jpeg)
put("image_decode", b"\x00" + png(16, 16, 6))
put("image_decode", b"\x01" + png(9, 70, 0))
put("image_decode", b"\x00" + jpeg[:2] + exif(6) + jpeg[2:])
put("image_decode", b"\x02" + jpeg[:2] + exif(8) + jpeg[2:])
put("image_decode", b"\x00" + webp)
put("image_decode", b"\x00" + gif())
put("image_decode", b"\x00" + png(50000, 50000, raw=b"\x00" * 64))  # a bomb header


# WebAuthn's CBOR (fuzz/cbor.cpp): the first byte picks the path (0/1 CBOR, 2 authenticator
# data, 3 COSE key). Keys and ceremonies as an authenticator sends them (fmt "none").
def cbor_head(major, n):
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + struct.pack(">H", n)
    return bytes([(major << 5) | 26]) + struct.pack(">I", n)


def c_int(v):
    return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)


def c_bytes(b):
    return cbor_head(2, len(b)) + b


def c_text(t):
    return cbor_head(3, len(t.encode())) + t.encode()


def c_map(pairs):
    return cbor_head(5, len(pairs)) + b"".join(k + v for k, v in pairs)


# A P-256 point (the generator), an Ed25519 key and a 2048-bit RSA modulus shape.
P256_X = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
P256_Y = bytes.fromhex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
es256 = c_map([(c_int(1), c_int(2)), (c_int(3), c_int(-7)), (c_int(-1), c_int(1)),
               (c_int(-2), c_bytes(P256_X)), (c_int(-3), c_bytes(P256_Y))])
eddsa = c_map([(c_int(1), c_int(1)), (c_int(3), c_int(-8)), (c_int(-1), c_int(6)),
               (c_int(-2), c_bytes(bytes(range(32))))])
rs256 = c_map([(c_int(1), c_int(3)), (c_int(3), c_int(-257)),
               (c_int(-1), c_bytes(b"\xc5" + bytes(range(255)))), (c_int(-2), c_bytes(b"\x01\x00\x01"))])
rp_hash = hashlib.sha256(b"localhost").digest()
cred_id = bytes(range(16))
for key in (es256, eddsa, rs256):
    put("cbor", b"\x03" + key)
    att_data = rp_hash + b"\x45" + b"\x00\x00\x00\x00" + bytes(16) + struct.pack(">H", len(cred_id)) + cred_id + key
    put("cbor", b"\x02" + att_data)
    put("cbor", b"\x00" + c_map([(c_text("fmt"), c_text("none")), (c_text("attStmt"), c_map([])),
                                 (c_text("authData"), c_bytes(att_data))]))
ext = rp_hash + b"\xc5" + b"\x00\x00\x00\x01" + bytes(16) + struct.pack(">H", 4) + b"abcd" + eddsa + c_map([(c_text("credProtect"), c_int(2))])
put("cbor", b"\x02" + ext)
put("cbor", b"\x02" + rp_hash + b"\x05\x00\x00\x00\x07")  # an assertion's authenticator data
put("cbor", b"\x01" + bytes([0x83, 0x01, 0x82, 0x02, 0x03, 0x61, 0x61]))
put("cbor", b"\x00" + bytes([0xa2, 0x20, 0xf5, 0x63]) + b"key" + bytes([0x9b]) + b"\xff" * 8)

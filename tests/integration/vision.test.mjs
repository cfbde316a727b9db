// Chat with images end to end against bailian-sim: uploads (type from the bytes, size and
// pixel limits, EXIF and GPS gone, orientation applied, shrinking), owner-only files, messages
// with attachments (what reached DashScope: image_url parts with data: URLs of the right type),
// the history of later turns, usage rows with image tokens, exports, the refusals (text-only
// model, unknown or foreign ids, too many), a content-filter refusal, and the OpenAI-compatible
// route relaying image_url parts unchanged through the official openai SDK.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { call, newUser } from '../support/api.mjs';
import { expectErrorEnvelope, parseRawResponse, queryDb, rawRequest, startHubWithSim } from '../support/hub.mjs';
import { GPS_MARKER, imageSize, makePng, photoJpeg, pngBomb, upload, withGpsExif } from '../support/images.mjs';
import { waitFor } from '../support/wait.mjs';

const MAX_BYTES = 300_000;
const FAST = {
  BAILIAN_HUB_BCRYPT_COST: '10',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '1000',
  BAILIAN_HUB_UPLOAD_MAX_BYTES: String(MAX_BYTES),
  BAILIAN_HUB_TITLE_MODEL: '',
};

async function simRequests(sim, pathPart = '/compatible-mode/v1/chat/completions') {
  const r = await fetch(`${sim.url}/_sim/requests?limit=1000&path=${encodeURIComponent(pathPart)}`);
  return (await r.json()).requests;
}

// The image_url URLs of every message of a recorded chat request, in order.
function imageUrls(body) {
  const out = [];
  for (const m of body.messages) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content) if (p.type === 'image_url') out.push(p.image_url.url);
  }
  return out;
}

function decodeDataUrl(url) {
  const m = /^data:(image\/[a-z]+);base64,(.+)$/.exec(url);
  assert.ok(m, `a data: URL, got ${url.slice(0, 40)}`);
  return { type: m[1], bytes: Buffer.from(m[2], 'base64') };
}

describe('chat with images', () => {
  let env;
  let alice;
  let bob;
  let photo; // alice's upload of the GPS-tagged JPEG

  before(async () => {
    env = await startHubWithSim({ env: FAST });
    alice = await newUser(env.url);
    bob = await newUser(env.url);
  });
  after(async () => { await env?.stop(); });

  const newConversation = async (user, model = 'qwen-vl-max') => {
    const r = await call(env.url, 'POST', '/api/v1/conversations', { token: user.token, body: { model } });
    assert.equal(r.status, 201);
    return r.body;
  };

  test('an uploaded JPEG loses its EXIF and GPS data and is turned upright', async () => {
    const original = withGpsExif(photoJpeg(), 6);
    assert.ok(original.includes(GPS_MARKER));
    const r = await upload(env.url, alice.token, original, { name: '../../IMG_0001.JPG', type: 'application/octet-stream' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    photo = r.body;
    assert.equal(photo.content_type, 'image/jpeg');
    assert.equal(photo.name, 'IMG_0001.JPG');
    // Orientation 6: the 64 x 48 picture is shown turned clockwise, 48 x 64.
    assert.equal(photo.width, 48);
    assert.equal(photo.height, 64);
    assert.equal(r.headers.get('location'), `/api/v1/files/${photo.id}`);

    const file = await call(env.url, 'GET', photo.url, { token: alice.token, raw: true });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.length, photo.bytes);
    assert.ok(!bytes.includes(GPS_MARKER), 'GPS text gone');
    assert.ok(!bytes.includes(Buffer.from('Exif\0\0', 'latin1')), 'no EXIF segment');
    assert.deepEqual(imageSize(bytes), { width: 48, height: 64 });
  });

  test('files are their owner\'s: another user and unknown ids get 404', async () => {
    const other = await call(env.url, 'GET', photo.url, { token: bob.token });
    assert.equal(other.status, 404);
    const unknown = await call(env.url, 'GET', '/api/v1/files/0190d1c2-0000-7000-8000-000000000000', { token: alice.token });
    assert.equal(unknown.status, 404);
    assert.deepEqual(other.body.error.code, unknown.body.error.code);
    const anonymous = await call(env.url, 'GET', photo.url);
    assert.equal(anonymous.status, 401);
  });

  test('bad uploads are refused with clear errors', async () => {
    const text = await upload(env.url, alice.token, Buffer.from('definitely not a picture'), { name: 'cat.png' });
    assert.equal(text.status, 415);
    assert.equal(text.body.error.code, 'unsupported_image');

    const svg = await upload(env.url, alice.token, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { name: 'x.svg', type: 'image/svg+xml' });
    assert.equal(svg.status, 415);

    const bomb = pngBomb(50000, 50000);
    assert.ok(bomb.length < 2000);
    const b = await upload(env.url, alice.token, bomb, { name: 'bomb.png' });
    assert.equal(b.status, 422);
    assert.equal(b.body.error.code, 'image_too_large');
    assert.match(b.body.error.message, /50000x50000/);

    const broken = makePng(64, 64).subarray(0, 60);
    const br = await upload(env.url, alice.token, broken);
    assert.equal(br.status, 400);
    assert.equal(br.body.error.code, 'invalid_image');

    const tiny = await upload(env.url, alice.token, makePng(4, 4));
    assert.equal(tiny.status, 422);
    assert.equal(tiny.body.error.code, 'image_too_small');

    const noFile = await call(env.url, 'POST', '/api/v1/files', { token: alice.token, body: { file: 'x' } });
    assert.equal(noFile.status, 415);
  });

  test('a body over the upload limit is refused with 413 before it is read', async () => {
    // The general body limit (1 MiB) would take these; the upload route's own limit does not.
    const head = (framing) => `POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.token}\r\n`
      + `Content-Type: multipart/form-data; boundary=x\r\n${framing}\r\n\r\n`;
    // Declared: answered from the head alone, no body byte sent at all.
    const declared = await rawRequest(env.hub.port, head(`Content-Length: ${MAX_BYTES * 3}`));
    assert.equal(parseRawResponse(declared.text).status, 413);
    assert.ok(declared.closed);
    // Chunked (no length): stopped as soon as the limit is passed.
    const big = 'x'.repeat(MAX_BYTES + 100_000);
    const chunked = await rawRequest(env.hub.port, `${head('Transfer-Encoding: chunked')}${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
    const r = parseRawResponse(chunked.text);
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).error.code, 'payload_too_large');
    // Through fetch too, within the general limit but over the upload one.
    const viaFetch = await upload(env.url, alice.token, Buffer.alloc(MAX_BYTES + 80_000, 7), { name: 'big.png' })
      .catch((e) => ({ status: 'connection closed early', e }));
    if (viaFetch.status !== 'connection closed early') assert.equal(viaFetch.status, 413);
    // The hub still serves the next request normally.
    assert.equal((await call(env.url, 'GET', '/healthz')).status, 200);
  });

  test('a picture larger than the model takes is shrunk, aspect kept', async () => {
    // 1600 x 1200 = 1.92 M pixels: more than 1280 x 28 x 28.
    const png = makePng(1600, 1200, (x, y) => [(x >> 4) & 255, (y >> 4) & 255, 60]);
    assert.ok(png.length < MAX_BYTES, `${png.length}`);
    const r = await upload(env.url, alice.token, png, { name: 'wide.png' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.content_type, 'image/png');
    assert.ok(r.body.width * r.body.height <= 1280 * 28 * 28, `${r.body.width}x${r.body.height}`);
    assert.ok(r.body.width * r.body.height > 900_000);
    assert.ok(Math.abs(r.body.width / r.body.height - 4 / 3) < 0.01);
    const file = await call(env.url, 'GET', r.body.url, { token: alice.token, raw: true });
    assert.deepEqual(imageSize(Buffer.from(await file.arrayBuffer())), { width: r.body.width, height: r.body.height });
  });

  test('a message with pictures reaches DashScope as image_url parts with data: URLs', async () => {
    const conv = await newConversation(alice);
    const png = await upload(env.url, alice.token, makePng(40, 30), { name: 'chart.png' });
    assert.equal(png.status, 201);
    const before = (await simRequests(env.sim)).length;
    const r = await call(env.url, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      token: alice.token, body: { content: 'What is in these pictures?', attachments: [photo.id, png.body.id] },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.user_message.attachments, [
      { id: photo.id, url: `/api/v1/files/${photo.id}` },
      { id: png.body.id, url: `/api/v1/files/${png.body.id}` },
    ]);
    assert.equal(r.body.message.status, 'complete');

    const reqs = await simRequests(env.sim);
    assert.equal(reqs.length, before + 1);
    const sent = reqs.at(-1).body;
    assert.equal(sent.model, 'qwen-vl-max');
    const last = sent.messages.at(-1);
    assert.equal(last.role, 'user');
    assert.deepEqual(last.content.map((p) => p.type), ['image_url', 'image_url', 'text']);
    assert.equal(last.content[2].text, 'What is in these pictures?');
    const [jpeg, pngPart] = imageUrls(sent).map(decodeDataUrl);
    assert.equal(jpeg.type, 'image/jpeg');
    assert.equal(pngPart.type, 'image/png');
    assert.ok(!jpeg.bytes.includes(GPS_MARKER), 'no GPS upstream');
    assert.ok(!jpeg.bytes.includes(Buffer.from('Exif\0\0', 'latin1')), 'no EXIF upstream');
    assert.deepEqual(imageSize(jpeg.bytes), { width: 48, height: 64 });

    // The usage row counts image tokens, part of the priced input.
    const calls = await call(env.url, 'GET', '/api/v1/history/calls?limit=5', { token: alice.token });
    assert.equal(calls.status, 200);
    const row = calls.body.items.find((c) => c.conversation_id === conv.id);
    assert.ok(row.image_tokens > 0, JSON.stringify(row));
    assert.ok(row.input_tokens >= row.image_tokens);
    assert.ok(row.cost_micro_cny > 0 || row.cost_cny > 0, JSON.stringify(row));
    const db = await queryDb(env.hub.dataDir, `SELECT image_tokens FROM api_calls WHERE conversation_id = '${conv.id}'`);
    assert.equal(db[0].image_tokens, row.image_tokens);

    // A later turn carries the pictures of the history; the conversation and its exports list them.
    const second = await call(env.url, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      token: alice.token, body: { content: 'And the colours?' },
    });
    assert.equal(second.status, 201);
    const again = (await simRequests(env.sim)).at(-1).body;
    assert.equal(imageUrls(again).length, 2);
    assert.equal(again.messages.at(-1).content, 'And the colours?');

    const msgs = await call(env.url, 'GET', `/api/v1/conversations/${conv.id}/messages`, { token: alice.token });
    const question = msgs.body.items.find((m) => m.content === 'What is in these pictures?');
    assert.deepEqual(question.attachments.map((a) => a.id), [photo.id, png.body.id]);
    const md = await call(env.url, 'GET', `/api/v1/conversations/${conv.id}/export?format=markdown`, { token: alice.token });
    assert.equal(md.status, 200);
    assert.ok(md.body.includes(`/api/v1/files/${photo.id}`));
    const js = await call(env.url, 'GET', `/api/v1/conversations/${conv.id}/export?format=json`, { token: alice.token });
    assert.deepEqual(js.body.messages.find((m) => m.role === 'user').attachments.map((a) => a.id), [photo.id, png.body.id]);
  });

  test('pictures alone, streamed', async () => {
    const conv = await newConversation(alice, 'qwen-vl-plus');
    const res = await call(env.url, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      token: alice.token, body: { attachments: [photo.id], stream: true }, raw: true,
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: user_message/);
    assert.match(text, /event: done/);
    const sent = (await simRequests(env.sim)).at(-1).body;
    assert.deepEqual(sent.messages.at(-1).content.map((p) => p.type), ['image_url']);
  });

  test('refusals send nothing upstream and store nothing', async () => {
    const conv = await newConversation(alice, 'qwen-plus');
    const count = (await simRequests(env.sim)).length;
    const ask = (body) => call(env.url, 'POST', `/api/v1/conversations/${conv.id}/messages`, { token: alice.token, body });

    const textOnly = await ask({ content: 'look', attachments: [photo.id] });
    assert.equal(textOnly.status, 400);
    expectErrorEnvelope(assert, textOnly.body, textOnly, 'model_not_vision');
    assert.match(textOnly.body.error.message, /^attachments/);
    assert.match(textOnly.body.error.message, /qwen-vl-max/);

    const bobs = await upload(env.url, bob.token, makePng(20, 20));
    assert.equal(bobs.status, 201);
    const foreign = await ask({ content: 'look', attachments: [bobs.body.id], model: 'qwen-vl-max' });
    assert.equal(foreign.status, 404);
    const unknown = await ask({ content: 'look', attachments: ['no-such-file'], model: 'qwen-vl-max' });
    assert.equal(unknown.status, 404);
    assert.equal(foreign.body.error.code, unknown.body.error.code);

    const five = await ask({ content: 'look', attachments: ['a', 'b', 'c', 'd', 'e'], model: 'qwen-vl-max' });
    assert.equal(five.status, 400);
    assert.match(five.body.error.message, /attachments/);
    const wrong = await ask({ content: 'look', attachments: 'a', model: 'qwen-vl-max' });
    assert.equal(wrong.status, 400);
    const empty = await ask({ model: 'qwen-vl-max' });
    assert.equal(empty.status, 400);

    assert.equal((await simRequests(env.sim)).length, count);
    const msgs = await call(env.url, 'GET', `/api/v1/conversations/${conv.id}/messages`, { token: alice.token });
    assert.equal(msgs.body.items.length, 0);
  });

  test('a content-filter refusal of a picture is a readable error on the message', async () => {
    const conv = await newConversation(alice);
    const armed = await fetch(`${env.sim.url}/_sim/faults`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fault: 'inspection', count: 1, path: '/compatible-mode' }),
    });
    assert.equal(armed.status, 200);
    const r = await call(env.url, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      token: alice.token, body: { content: 'is this fine?', attachments: [photo.id] },
    });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'content_filtered');
    assert.match(r.body.error.message, /content filter/);
    const msgs = await waitFor(async () => {
      const m = await call(env.url, 'GET', `/api/v1/conversations/${conv.id}/messages`, { token: alice.token });
      return m.body.items.length === 2 ? m.body.items : null;
    }, 'question and failed answer stored');
    const answer = msgs.find((m) => m.role === 'assistant');
    assert.equal(answer.status, 'error');
    assert.equal(answer.error_code, 'content_filtered');
    assert.equal(msgs.find((m) => m.role === 'user').attachments[0].id, photo.id);
  });

  test('the OpenAI-compatible API relays image_url parts unchanged (https and data: URLs)', async () => {
    const client = new OpenAI({ apiKey: alice.token, baseURL: `${env.url}/v1`, maxRetries: 0, timeout: 20000 });
    const dataUrl = `data:image/png;base64,${makePng(16, 16).toString('base64')}`;
    const parts = [
      { type: 'image_url', image_url: { url: 'https://example.com/never-fetched-by-the-hub.png' } },
      { type: 'image_url', image_url: { url: dataUrl } },
      { type: 'text', text: 'Describe both.' },
    ];
    const done = await client.chat.completions.create({ model: 'qwen-vl-max', messages: [{ role: 'user', content: parts }] });
    assert.equal(done.object, 'chat.completion');
    assert.ok(done.choices[0].message.content.length > 0);
    const sent = (await simRequests(env.sim)).at(-1).body;
    assert.deepEqual(sent.messages[0].content, parts);
  });

  test('the DashScope pass-through relays a native VL request and records its image tokens', async () => {
    const body = {
      model: 'qwen-vl-plus',
      input: { messages: [{ role: 'user', content: [
        { image: 'https://dashscope.oss-cn-beijing.aliyuncs.com/images/dog_and_girl.jpeg' },
        { text: 'Where is this? Answer briefly.' },
      ] }] },
    };
    const r = await call(env.url, 'POST', '/dashscope/api/v1/services/aigc/multimodal-generation/generation', { token: alice.token, body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.usage.image_tokens > 0);
    const sent = (await simRequests(env.sim, '/multimodal-generation')).at(-1).body;
    assert.deepEqual(sent.input.messages, body.input.messages);
    const rows = await queryDb(env.hub.dataDir,
      `SELECT image_tokens, input_tokens FROM api_calls WHERE user_id = '${alice.user.id}' AND model = 'qwen-vl-plus' ORDER BY created_at DESC LIMIT 1`);
    assert.equal(rows[0].image_tokens, r.body.usage.image_tokens);
    assert.equal(rows[0].input_tokens, r.body.usage.input_tokens);
  });
});

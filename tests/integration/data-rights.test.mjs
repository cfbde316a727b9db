// A person's rights over their data, over real HTTP: "Export my data" (a background job with
// progress, one at a time, the ZIP opened with Info-ZIP's unzip and checked file by file,
// another user's export answering 404, expiry after its time) and account deletion by the user
// (password first) and by an admin: afterwards nothing of the user is readable through any
// API, every token of theirs is dead, the audit log and the anonymised api_calls remain, and
// the last admin cannot be deleted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { call, login, newUser } from '../support/api.mjs';
import { allLogs, queryDb, startHub, startHubWithSim, tempDir } from '../support/hub.mjs';
import { makePng, upload } from '../support/images.mjs';
import { createUser, SEED_PASSWORD } from '../support/seed.mjs';
import { waitFor } from '../support/wait.mjs';

const ENV = {
  BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE: '10000',
  BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE: '10000',
  BAILIAN_HUB_IMAGE_FIRST_POLL_MS: '100',
  BAILIAN_HUB_IMAGE_MAX_POLL_MS: '200',
  BAILIAN_HUB_EXPORT_TTL_S: '4',
};

function unzip(args) {
  return execFileSync('unzip', args, { maxBuffer: 64 << 20 });
}

// A user with two conversations (one archived), an image, an uploaded picture, a platform key
// and api_calls. The same prompt gives the same image bytes, and so the same stored file.
async function populate(url, u, prompt = 'a red kite') {
  const convs = [];
  for (const title of ['First chat', 'Second chat']) {
    const c = await call(url, 'POST', '/api/v1/conversations', { token: u.token, body: { title } });
    assert.equal(c.status, 201);
    const t = await call(url, 'POST', `/api/v1/conversations/${c.body.id}/messages`, {
      token: u.token, body: { content: `echo ${title} says hello`, stream: false },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    convs.push(c.body);
  }
  await call(url, 'PATCH', `/api/v1/conversations/${convs[1].id}`, { token: u.token, body: { archived: true } });
  const gen = await call(url, 'POST', '/api/v1/images/generations', { token: u.token, body: { prompt, n: 1 } });
  assert.equal(gen.status, 202, JSON.stringify(gen.body));
  const done = await waitFor(async () => {
    const r = await call(url, 'GET', `/api/v1/images/generations/${gen.body.id}`, { token: u.token });
    return r.body.status === 'succeeded' ? r.body : null;
  }, 'the image');
  const image = done.images[0];
  const bytes = Buffer.from(await (await fetch(`${url}/api/v1/files/${image.id}`, { headers: { Authorization: `Bearer ${u.token}` } })).arrayBuffer());
  const shade = [...prompt].reduce((a, c) => (a * 31 + c.charCodeAt(0)) & 255, 7);
  const picture = await upload(url, u.token, makePng(32, 24, (x, y) => [shade, x * 8, y * 8]), { name: 'sketch.png' });
  assert.equal(picture.status, 201, JSON.stringify(picture.body));
  const pictureBytes = Buffer.from(await (await fetch(`${url}/api/v1/files/${picture.body.id}`, { headers: { Authorization: `Bearer ${u.token}` } })).arrayBuffer());
  const key = await call(url, 'POST', '/api/v1/api-keys', { token: u.token, body: { name: 'laptop' } });
  assert.equal(key.status, 201);
  return { convs, image, imageBytes: bytes, upload: picture.body, uploadBytes: pictureBytes, apiKey: key.body };
}

describe('data rights: export and deletion', () => {
  let env;
  let adminToken;
  let adminId;

  before(async () => {
    env = await startHubWithSim({ env: ENV });
    adminId = await createUser(env.hub.dataDir, 'rights_admin', 'admin');
    adminToken = (await login(env.url, 'rights_admin', SEED_PASSWORD)).body.access_token;
  });
  after(async () => { await env?.stop(); });

  test('export my data: a ZIP with every part, for its owner only, gone after its time', async () => {
    const alice = await newUser(env.url);
    const bob = await newUser(env.url);
    const data = await populate(env.url, alice);

    const started = await call(env.url, 'POST', '/api/v1/users/me/exports', { token: alice.token });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.ok(['pending', 'running', 'ready'].includes(started.body.status));
    const id = started.body.id;
    assert.equal(started.headers.get('location'), `/api/v1/users/me/exports/${id}`);
    // A second request while one is pending or running is 409; once it is done, a new one may start.
    const ready = await waitFor(async () => {
      const r = await call(env.url, 'GET', `/api/v1/users/me/exports/${id}`, { token: alice.token });
      assert.equal(r.status, 200);
      assert.ok(r.body.progress >= 0 && r.body.progress <= 100);
      return r.body.status === 'ready' ? r.body : null;
    }, 'the export');
    assert.equal(ready.progress, 100);
    assert.ok(ready.expires_at);
    assert.equal(ready.download_url, `/api/v1/users/me/exports/${id}/download`);
    const list = await call(env.url, 'GET', '/api/v1/users/me/exports', { token: alice.token });
    assert.equal(list.body.items[0].id, id);

    // Another user: 404 for the export and its download, and their own list is empty.
    assert.equal((await call(env.url, 'GET', `/api/v1/users/me/exports/${id}`, { token: bob.token })).status, 404);
    const stolen = await call(env.url, 'GET', `/api/v1/users/me/exports/${id}/download`, { token: bob.token });
    assert.equal(stolen.status, 404);
    assert.equal(stolen.body.error.code, 'export_not_found');
    assert.equal((await call(env.url, 'GET', '/api/v1/users/me/exports', { token: bob.token })).body.items.length, 0);

    const res = await fetch(`${env.url}${ready.download_url}`, { headers: { Authorization: `Bearer ${alice.token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const zipPath = path.join(tempDir('hub-export-'), 'export.zip');
    writeFileSync(zipPath, Buffer.from(await res.arrayBuffer()));

    // An independent reader: every CRC checks out, and the files are what the API shows.
    assert.match(unzip(['-t', zipPath]).toString(), /No errors detected/);
    const names = unzip(['-Z1', zipPath]).toString().trim().split('\n').sort();
    const read = (n) => unzip(['-p', zipPath, n]);
    const expected = ['README.txt', 'api_keys.json', 'history.csv', 'images.json', 'profile.json', 'sessions.json',
      `images/${data.image.id}.png`, 'uploads.json', `uploads/${data.upload.id}.png`];
    for (const c of data.convs) expected.push(`conversations/${c.id}.json`, `conversations/${c.id}.md`);
    assert.deepEqual(names, expected.sort());

    const profile = JSON.parse(read('profile.json'));
    assert.equal(profile.username, alice.username);
    assert.equal(profile.email, `${alice.username}@example.com`);
    assert.equal(profile.password_hash, undefined);
    assert.ok(!read('profile.json').includes('$2b$'));
    for (const c of data.convs) {
      const j = JSON.parse(read(`conversations/${c.id}.json`));
      const own = await call(env.url, 'GET', `/api/v1/conversations/${c.id}/export?format=json`, { token: alice.token });
      assert.deepEqual(j, own.body, 'the same exporter as the conversation export');
      assert.ok(read(`conversations/${c.id}.md`).toString().includes(`# ${c.title}`));
    }
    assert.ok(read(`images/${data.image.id}.png`).equals(data.imageBytes));
    const images = JSON.parse(read('images.json'));
    assert.equal(images[0].images[0].file, `images/${data.image.id}.png`);
    assert.ok(read(`uploads/${data.upload.id}.png`).equals(data.uploadBytes));
    const uploads = JSON.parse(read('uploads.json'));
    assert.deepEqual(uploads.map((u) => [u.id, u.file, u.original_name, u.width, u.height]),
      [[data.upload.id, `uploads/${data.upload.id}.png`, 'sketch.png', 32, 24]]);
    const csv = read('history.csv').toString().trim().split('\r\n');
    const calls = await call(env.url, 'GET', '/api/v1/history/calls?limit=200', { token: alice.token });
    assert.equal(csv.length - 1, calls.body.items.length);
    assert.ok(csv.length - 1 >= 3);
    const keysText = read('api_keys.json').toString();
    const keys = JSON.parse(keysText);
    assert.equal(keys.length, 1);
    assert.equal(keys[0].name, 'laptop');
    assert.equal(keys[0].prefix, data.apiKey.prefix);
    assert.ok(!keysText.includes(data.apiKey.key), 'never the key itself');
    assert.equal(keys[0].key_hash, undefined);

    // Audited.
    const audit = await call(env.url, 'GET', `/api/v1/admin/audit-logs?target=export:${id}&limit=50`, { token: adminToken });
    const actions = audit.body.items.map((e) => e.action);
    for (const a of ['user.export_requested', 'user.export_ready', 'user.export_downloaded']) assert.ok(actions.includes(a), a);

    // After its time the export and its file are gone.
    const file = path.join(env.hub.dataDir, 'exports', `${id}.zip`);
    assert.ok(existsSync(file));
    await waitFor(async () => (await call(env.url, 'GET', `/api/v1/users/me/exports/${id}`, { token: alice.token })).status === 404,
      'the export to expire', 20000);
    assert.ok(!existsSync(file));
  });

  test('one export at a time: concurrent requests get 409 export_in_progress', async () => {
    const carl = await newUser(env.url);
    await populate(env.url, carl);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => call(env.url, 'POST', '/api/v1/users/me/exports', { token: carl.token })));
    const ok = answers.filter((a) => a.status === 202);
    assert.ok(ok.length >= 1);
    for (const a of answers.filter((x) => x.status !== 202)) {
      assert.equal(a.status, 409);
      assert.equal(a.body.error.code, 'export_in_progress');
    }
  });

  test('deleting my own account: password first, then nothing of mine is readable anywhere', async () => {
    const carol = await newUser(env.url);
    const other = await newUser(env.url);
    // Her image is her own (a prompt of hers); files are shared by content, so one with the same
    // bytes as another user's stays (checked below with dave's twin).
    const data = await populate(env.url, carol, `a kite only ${carol.username} drew`);
    const second = await login(env.url, carol.username, carol.password);
    const [{ file_path: filePath }] = await queryDb(env.hub.dataDir, `SELECT file_path FROM images WHERE id = '${data.image.id}'`);
    const [{ file_path: uploadPath }] = await queryDb(env.hub.dataDir, `SELECT file_path FROM uploads WHERE id = '${data.upload.id}'`);
    const callsBefore = (await queryDb(env.hub.dataDir, `SELECT count(*) AS n FROM api_calls WHERE user_id = '${carol.user.id}'`))[0].n;
    assert.ok(callsBefore >= 3);
    const exp = await call(env.url, 'POST', '/api/v1/users/me/exports', { token: carol.token });
    await waitFor(async () => (await call(env.url, 'GET', `/api/v1/users/me/exports/${exp.body.id}`, { token: carol.token })).body.status === 'ready', 'an export');

    // A wrong password changes nothing.
    const wrong = await call(env.url, 'DELETE', '/api/v1/users/me', { token: carol.token, body: { password: 'Not-The-Password-9' } });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'invalid_credentials');
    assert.equal((await call(env.url, 'GET', '/api/v1/users/me', { token: carol.token })).status, 200);
    const missing = await call(env.url, 'DELETE', '/api/v1/users/me', { token: carol.token, body: {} });
    assert.equal(missing.status, 400);

    const del = await call(env.url, 'DELETE', '/api/v1/users/me', { token: carol.token, body: { password: carol.password } });
    assert.equal(del.status, 204, JSON.stringify(del.body));

    // Every token is dead at once: both sessions' access tokens, the refresh token, the key.
    for (const token of [carol.token, second.body.access_token]) {
      for (const p of ['/api/v1/users/me', '/api/v1/conversations', `/api/v1/conversations/${data.convs[0].id}`,
        '/api/v1/api-keys', '/api/v1/history/calls', `/api/v1/files/${data.image.id}`, `/api/v1/files/${data.upload.id}`,
        '/api/v1/users/me/exports']) {
        assert.equal((await call(env.url, 'GET', p, { token })).status, 401, p);
      }
    }
    assert.equal((await call(env.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: carol.refresh } })).status, 401);
    assert.equal((await login(env.url, carol.username, carol.password)).status, 401);
    const viaKey = await fetch(`${env.url}/v1/models`, { headers: { Authorization: `Bearer ${data.apiKey.key}` } });
    assert.equal(viaKey.status, 401);

    // Nothing of carol's through anyone else's eyes either.
    assert.equal((await call(env.url, 'GET', `/api/v1/files/${data.image.id}`, { token: other.token })).status, 404);
    assert.equal((await call(env.url, 'GET', `/api/v1/files/${data.upload.id}`, { token: other.token })).status, 404);
    assert.equal((await call(env.url, 'GET', `/api/v1/conversations/${data.convs[0].id}`, { token: other.token })).status, 404);
    const users = await call(env.url, 'GET', `/api/v1/admin/users?q=${carol.username}`, { token: adminToken });
    assert.equal(users.body.items.length, 0);
    const hist = await call(env.url, 'GET', `/api/v1/history/calls?user_id=${carol.user.id}`, { token: adminToken });
    assert.equal(hist.body.items.length, 0);
    for (const table of ['users', 'sessions', 'conversations', 'api_keys', 'image_generations', 'images', 'uploads', 'data_exports']) {
      const col = table === 'users' ? 'id' : 'user_id';
      const [{ n }] = await queryDb(env.hub.dataDir, `SELECT count(*) AS n FROM ${table} WHERE ${col} = '${carol.user.id}'`);
      assert.equal(n, 0, table);
    }
    const [{ n: msgs }] = await queryDb(env.hub.dataDir, `SELECT count(*) AS n FROM messages WHERE content LIKE '%First chat says hello%' AND conversation_id = '${data.convs[0].id}'`);
    assert.equal(msgs, 0);
    assert.ok(!existsSync(path.join(env.hub.dataDir, 'files', filePath)), 'the image file is gone');
    assert.ok(!existsSync(path.join(env.hub.dataDir, 'files', uploadPath)), 'the uploaded picture is gone');
    assert.ok(!existsSync(path.join(env.hub.dataDir, 'exports', `${exp.body.id}.zip`)), 'the export is gone');

    // What stays: the audit trail and the calls, under a tombstone id.
    const audit = await call(env.url, 'GET', `/api/v1/admin/audit-logs?action=user.deleted&target=user:${carol.user.id}`, { token: adminToken });
    assert.equal(audit.body.items.length, 1);
    const tombstone = audit.body.items[0].detail.tombstone_id;
    assert.match(String(tombstone), /^deleted-/);
    const [{ n: kept }] = await queryDb(env.hub.dataDir, `SELECT count(*) AS n FROM api_calls WHERE user_id = '${tombstone}'`);
    assert.equal(kept, callsBefore);
  });

  test('an admin deletes a user; users cannot; the last admin cannot be deleted', async () => {
    const dave = await newUser(env.url);
    const eve = await newUser(env.url);
    // The same prompt as alice's and carl's: the same bytes, one shared file.
    const twin = await populate(env.url, dave);
    const [{ file_path: shared }] = await queryDb(env.hub.dataDir, `SELECT file_path FROM images WHERE id = '${twin.image.id}'`);
    const [{ file_path: sharedUpload }] = await queryDb(env.hub.dataDir, `SELECT file_path FROM uploads WHERE id = '${twin.upload.id}'`);
    // A user may not use the admin route (403), and gets 404 for ids that are not there.
    assert.equal((await call(env.url, 'DELETE', `/api/v1/admin/users/${dave.user.id}`, { token: eve.token })).status, 403);
    const none = await call(env.url, 'DELETE', '/api/v1/admin/users/00000000-0000-7000-8000-000000000000', { token: adminToken });
    assert.equal(none.status, 404);
    const del = await call(env.url, 'DELETE', `/api/v1/admin/users/${dave.user.id}`, { token: adminToken });
    assert.equal(del.status, 204, JSON.stringify(del.body));
    assert.equal((await call(env.url, 'GET', '/api/v1/users/me', { token: dave.token })).status, 401);
    assert.ok(existsSync(path.join(env.hub.dataDir, 'files', shared)), 'a file other users still use stays');
    assert.ok(existsSync(path.join(env.hub.dataDir, 'files', sharedUpload)), 'an uploaded picture alice has too stays');
    const [{ n: users }] = await queryDb(env.hub.dataDir, `SELECT count(*) AS n FROM images WHERE file_path = '${shared}'`);
    assert.ok(users >= 1);
    assert.equal((await call(env.url, 'DELETE', `/api/v1/admin/users/${dave.user.id}`, { token: adminToken })).status, 404);
    const audit = await call(env.url, 'GET', `/api/v1/admin/audit-logs?action=admin.user_deleted&target=user:${dave.user.id}`, { token: adminToken });
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].actor_user_id, adminId);

    // The only admin: neither route deletes them.
    const self = await call(env.url, 'DELETE', `/api/v1/admin/users/${adminId}`, { token: adminToken });
    assert.equal(self.status, 409);
    assert.equal(self.body.error.code, 'last_admin');
    const own = await call(env.url, 'DELETE', '/api/v1/users/me', { token: adminToken, body: { password: SEED_PASSWORD } });
    assert.equal(own.status, 409);
    assert.equal(own.body.error.code, 'last_admin');
    assert.equal((await call(env.url, 'GET', '/api/v1/users/me', { token: adminToken })).status, 200);
  });

  test('a deleted user\'s unexpired access token stays refused after a restart', async () => {
    const dir = tempDir('hub-rights-restart-');
    let hub = await startHub({ dataDir: dir, env: ENV });
    let token;
    try {
      const u = await newUser(hub.url);
      token = u.token;
      assert.equal((await call(hub.url, 'DELETE', '/api/v1/users/me', { token, body: { password: u.password } })).status, 204);
    } finally {
      await hub.stop();
    }
    // Same data folder, same signing keys: the token's signature is still good.
    hub = await startHub({ dataDir: dir, env: ENV });
    try {
      for (const p of ['/api/v1/users/me', '/api/v1/conversations', '/api/v1/users/me/exports']) {
        assert.equal((await call(hub.url, 'GET', p, { token })).status, 401, p);
      }
    } finally {
      await hub.stop();
    }
  });

  test('no password or export content reaches a log line', () => {
    const text = allLogs.join('\n');
    assert.ok(!text.includes('Correct-Horse-7-Battery'), 'a password in the logs');
    assert.ok(!text.includes('says hello'), 'message text in the logs');
  });
});

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listStoragesResponse,
  listVersionsResponse,
  storageSchema,
  versionDetailSchema,
} from '../api/schemas.js';
import { sha256Hex } from '../core/digest.js';
import { encodeManifest } from '../core/manifest.js';
import { packKey } from '../services/keys.js';
import {
  appWith,
  buildPack,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  type Reply,
  sendPresigned,
} from '../testing/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const treeA = () =>
  buildTree({
    'README.md': '# hello\n',
    'src/main.ts': 'console.log(1);\n'.repeat(5000),
    'src/empty.txt': '',
    'bin/run': { exec: '#!/bin/sh\necho hi\n' },
    link: { link: 'src/main.ts' },
    data: null,
  });

describe('push through the HTTP API', () => {
  it('uploads, commits, moves head and records history', async () => {
    const tree = treeA();
    const { start, commit } = await push(h.app, 'alpha', tree, { message: 'first' });
    expect(start.status).toBe(201);
    expect(start.json.status).toBe('open');
    expect(commit?.status).toBe(200);
    expect(commit?.json).toMatchObject({
      status: 'committed',
      created: true,
      previousHead: null,
      version: { id: tree.id, storage: 'alpha', seq: 1, message: 'first', parent: null },
    });
    const storage = await call(h.app, 'GET', '/v1/storages/alpha');
    expect(storage.json).toMatchObject({ name: 'alpha', head: tree.id, entries: 1 });
    storageSchema.parse(storage.json);
    const history = await call(h.app, 'GET', '/v1/storages/alpha/versions');
    expect(history.json.versions.map((v: { id: string }) => v.id)).toEqual([tree.id]);
    listVersionsResponse.parse(history.json);
    listStoragesResponse.parse((await call(h.app, 'GET', '/v1/storages')).json);
    const detail = await call(h.app, 'GET', '/v1/storages/alpha/versions/latest');
    expect(detail.status).toBe(200);
    versionDetailSchema.parse(detail.json);
    expect(detail.json).toMatchObject({ id: tree.id, head: tree.id, files: 4 });
    expect(detail.json.archives).toEqual([
      { format: 'tar.zst', state: 'pending', size: null, sha256: null },
    ]);
    const manifest = await sendPresigned(h.app, detail.json.manifest);
    expect(Buffer.from(await manifest.arrayBuffer()).equals(tree.manifest)).toBe(true);
    const byPrefix = await call(h.app, 'GET', `/v1/storages/alpha/versions/${tree.id.slice(0, 8)}`);
    expect(byPrefix.json.id).toBe(tree.id);
  });

  it('answers exists for a version the tenant already has', async () => {
    const tree = treeA();
    const same = await push(h.app, 'alpha', tree, { parent: tree.id });
    expect(same.start.status).toBe(200);
    expect(same.start.json).toMatchObject({ status: 'exists', unchanged: true });
    const other = await push(h.app, 'beta', tree);
    expect(other.start.status).toBe(200);
    expect(other.start.json).toMatchObject({
      status: 'exists',
      unchanged: false,
      version: { id: tree.id, storage: 'beta', seq: 1 },
    });
    const list = await call(h.app, 'GET', '/v1/storages?limit=1');
    expect(list.json.storages.map((s: { name: string }) => s.name)).toEqual(['alpha']);
    const next = await call(h.app, 'GET', `/v1/storages?limit=1&cursor=${list.json.nextCursor}`);
    expect(next.json.storages.map((s: { name: string }) => s.name)).toEqual(['beta']);
    expect(next.json.nextCursor).toBeNull();
  });

  it('refuses a moved head with 409 head_conflict, and force records the parent', async () => {
    const a = treeA();
    const b = buildTree({ 'README.md': '# changed\n' });
    const conflict = await push(h.app, 'alpha', b, { parent: null });
    expect(conflict.start.status).toBe(409);
    expect(conflict.start.json.error.code).toBe('head_conflict');
    const forced = await push(h.app, 'alpha', b, { parent: null, onConflict: 'force' });
    expect(forced.commit?.status).toBe(200);
    expect(forced.commit?.json).toMatchObject({
      previousHead: a.id,
      version: { id: b.id, seq: 2 },
    });
    const storage = await call(h.app, 'GET', '/v1/storages/alpha');
    expect(storage.json.head).toBe(b.id);
  });

  it('rejects a commit whose chunks were never stored, and nothing becomes visible', async () => {
    const tree = buildTree({ 'lost.bin': 'never uploaded bytes' });
    const [digest] = [...tree.chunks.keys()];
    const start = await call(h.app, 'POST', '/v1/storages/gamma/uploads', {
      version: tree.id,
      manifestSize: tree.manifest.length,
      parent: null,
    });
    expect(start.status).toBe(201);
    expect((await sendPresigned(h.app, start.json.manifestUpload, tree.manifest)).status).toBe(200);
    const commit = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
    expect(commit.status).toBe(422);
    expect(commit.json.error).toMatchObject({
      code: 'missing_chunks',
      details: { missing: [digest], count: 1 },
    });
    expect((await call(h.app, 'GET', '/v1/storages/gamma')).status).toBe(404);
    expect(await h.metadata.getVersion('default', tree.id)).toBeNull();
  });

  it('deletes a tampered pack and answers 422 digest_mismatch', async () => {
    // Random bytes are stored raw, so a flipped byte still decodes and fails its digest.
    const tree = buildTree({ 'x.bin': randomBytes(5000) });
    const start = await call(h.app, 'POST', '/v1/storages/delta/uploads', {
      version: tree.id,
      manifestSize: tree.manifest.length,
      parent: null,
    });
    const session = start.json.session;
    const pack = buildPack(tree.chunks.values());
    await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack.id, size: pack.bytes.length }],
    });
    const corrupt = Buffer.from(pack.bytes);
    corrupt[0] = (corrupt[0] ?? 0) ^ 0xff;
    const key = packKey('default', pack.id);
    await h.driver.put(key, Readable.from([corrupt]));
    await sendPresigned(h.app, start.json.manifestUpload, tree.manifest);
    const commit = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
    expect(commit.status).toBe(422);
    expect(commit.json.error.code).toBe('digest_mismatch');
    expect(commit.json.error.details.pack).toBe(pack.id);
    expect(await h.blobs.stat(key)).toBeNull();
    // Uploading the right bytes again lets the same session commit.
    const again = await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack.id, size: pack.bytes.length }],
    });
    await sendPresigned(h.app, again.json.uploads[0].request, pack.bytes);
    const retry = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
    expect(retry.status).toBe(200);
  });

  it('rejects an invalid manifest with 400 invalid_manifest', async () => {
    const bytes = Buffer.from('{"not":"a manifest"}\n');
    const id = sha256Hex(bytes);
    const start = await call(h.app, 'POST', '/v1/storages/epsilon/uploads', {
      version: id,
      manifestSize: bytes.length,
      parent: null,
    });
    await sendPresigned(h.app, start.json.manifestUpload, bytes);
    const commit = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
    expect(commit.status).toBe(400);
    expect(commit.json.error.code).toBe('invalid_manifest');
  });

  it('rejects a manifest listing a stored chunk with another size, naming the chunk', async () => {
    const stored = buildTree({ 'a.txt': 'stored once\n' });
    expect((await push(h.app, 'size-lie', stored)).commit?.status).toBe(200);
    const [digest, bytes] = [...stored.chunks][0]!;
    const lying = encodeManifest([
      {
        path: 'b.txt',
        type: 'file',
        executable: false,
        size: bytes.length + 1,
        chunks: [{ digest, size: bytes.length + 1 }],
      },
    ]);
    const start = await call(h.app, 'POST', '/v1/storages/size-lie/uploads', {
      version: lying.id,
      manifestSize: lying.bytes.length,
      parent: stored.id,
    });
    await sendPresigned(h.app, start.json.manifestUpload, lying.bytes);
    const commit = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
    expect(commit.status).toBe(400);
    expect(commit.json.error).toMatchObject({ code: 'invalid_manifest', details: { digest } });
    expect(await h.metadata.getVersion('default', lying.id)).toBeNull();
  });

  it('is idempotent: a repeated commit returns the same answer', async () => {
    const tree = buildTree({ 'one.txt': 'idempotent' });
    const { start, commit } = await push(h.app, 'zeta', tree);
    const again = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(commit?.json);
  });

  it('answers 404 for unknown storages, versions and sessions', async () => {
    const s = await call(h.app, 'GET', '/v1/storages/nope');
    expect([s.status, s.json.error.code]).toEqual([404, 'storage_not_found']);
    const v = await call(h.app, 'GET', '/v1/storages/alpha/versions/ffffffff');
    expect([v.status, v.json.error.code]).toEqual([404, 'version_not_found']);
    const sess = await call(h.app, 'POST', `/v1/uploads/${crypto.randomUUID()}/commit`);
    expect([sess.status, sess.json.error.code]).toEqual([404, 'session_not_found']);
    const bad = await call(h.app, 'GET', '/v1/storages/alpha/versions/xyz');
    expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_request']);
    const cursor = await call(h.app, 'GET', '/v1/storages/alpha/versions?cursor=bm90LWEtc2Vx');
    expect([cursor.status, cursor.json.error.code]).toEqual([400, 'invalid_request']);
    const limit = await call(h.app, 'GET', '/v1/storages?limit=5000');
    expect([limit.status, limit.json.error.code]).toEqual([400, 'invalid_request']);
  });

  it('answers 409 ambiguous_version for a prefix shared by two versions', async () => {
    const seen = new Map<string, ReturnType<typeof buildTree>>();
    let pair: [ReturnType<typeof buildTree>, ReturnType<typeof buildTree>] | null = null;
    for (let i = 0; pair === null; i++) {
      const t = buildTree({ 'f.txt': `variant ${i}` });
      const prev = seen.get(t.id.slice(0, 4));
      if (prev) pair = [prev, t];
      else seen.set(t.id.slice(0, 4), t);
    }
    await push(h.app, 'eta', pair[0]);
    await push(h.app, 'eta', pair[1], { parent: pair[0].id });
    const res = await call(h.app, 'GET', `/v1/storages/eta/versions/${pair[0].id.slice(0, 4)}`);
    expect([res.status, res.json.error.code]).toEqual([409, 'ambiguous_version']);
    const longer = await call(h.app, 'GET', `/v1/storages/eta/versions/${pair[1].id}`);
    expect(longer.json.id).toBe(pair[1].id);
    const page = await call(h.app, 'GET', '/v1/storages/eta/versions?limit=1');
    expect(page.json.versions[0].id).toBe(pair[1].id);
    const rest = await call(
      h.app,
      'GET',
      `/v1/storages/eta/versions?cursor=${page.json.nextCursor}`,
    );
    expect(rest.json.versions.map((v: { id: string }) => v.id)).toEqual([pair[0].id]);
  });

  it('rejects bodies over 1 MiB with 413 and malformed ones with 400', async () => {
    const big = await h.app.request('/v1/storages/alpha/uploads', {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe(
      'payload_too_large',
    );
    const bad = await call(h.app, 'POST', '/v1/storages/alpha/uploads', { version: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
    expect(bad.json.error.details.issues.length).toBeGreaterThan(0);
  });
});

describe('resumable commit', () => {
  it('answers 202 while the budget runs out, then commits', async () => {
    const small = appWith(h, { commitBudgetBytes: 1, commitBudgetEntries: 2 });
    const spec: Record<string, string> = {};
    for (let i = 0; i < 5; i++) spec[`f${i}.txt`] = `file number ${i}\n`.repeat(50);
    const tree = buildTree(spec);
    const start = await call(small, 'POST', '/v1/storages/slow/uploads', {
      version: tree.id,
      manifestSize: tree.manifest.length,
      parent: null,
    });
    const session = start.json.session;
    const packs = [...tree.chunks.values()].map((c) => buildPack([c]));
    const presigned = await call(small, 'POST', `/v1/uploads/${session}/packs`, {
      packs: packs.map((p) => ({ id: p.id, size: p.bytes.length })),
    });
    for (const u of presigned.json.uploads) {
      const pack = packs.find((p) => p.id === u.pack);
      expect((await sendPresigned(small, u.request, pack?.bytes)).status).toBe(200);
    }
    await sendPresigned(small, start.json.manifestUpload, tree.manifest);
    const answers: Reply[] = [];
    let last: Reply;
    do {
      last = await call(small, 'POST', `/v1/uploads/${session}/commit`);
      answers.push(last);
    } while (last.status === 202 && answers.length < 50);
    expect(last.status).toBe(200);
    expect(last.json.version.id).toBe(tree.id);
    const progress = answers.filter((a) => a.status === 202).map((a) => a.json);
    // One pack per call (5 packs), then two of the 5 entries per call.
    expect(progress.map((p) => p.packsVerified)).toEqual([1, 2, 3, 4, 5, 5]);
    expect(progress.at(-1)).toMatchObject({ packsTotal: 5, entriesChecked: 4, entriesTotal: 5 });
  });
});

describe('commit safety', () => {
  it('fails with head_conflict when head moved during the upload', async () => {
    const first = buildTree({ 'v.txt': 'one' });
    await push(h.app, 'race', first);
    const mine = buildTree({ 'v.txt': 'mine' });
    const theirs = buildTree({ 'v.txt': 'theirs' });
    const started = await push(h.app, 'race', mine, { parent: first.id, noCommit: true });
    const other = await push(h.app, 'race', theirs, { parent: first.id });
    expect(other.commit?.status).toBe(200);
    const commit = await call(h.app, 'POST', `/v1/uploads/${started.start.json.session}/commit`);
    expect([commit.status, commit.json.error.code]).toEqual([409, 'head_conflict']);
    expect((await call(h.app, 'GET', '/v1/storages/race')).json.head).toBe(theirs.id);
  });

  it('refuses expired sessions and a manifest that was never uploaded', async () => {
    const tree = buildTree({ 'late.txt': 'late' });
    const expiring = appWith(h, { sessionTtlSeconds: 0 });
    const body = { version: tree.id, manifestSize: tree.manifest.length, parent: null };
    const start = await call(expiring, 'POST', '/v1/storages/late/uploads', body);
    const missing = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/missing`, {
      digests: [...tree.chunks.keys()],
    });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'session_not_found']);
    const open = await call(h.app, 'POST', '/v1/storages/late/uploads', body);
    const commit = await call(h.app, 'POST', `/v1/uploads/${open.json.session}/commit`);
    expect([commit.status, commit.json.error.code]).toEqual([422, 'missing_upload']);
  });

  it("never lets one tenant see or use another tenant's chunks (invariant 5)", async () => {
    const tree = buildTree({ 'secret.txt': 'tenant default only' });
    await push(h.app, 'private', tree);
    const other = appWith(h, { tenant: 'other' });
    const start = await call(other, 'POST', '/v1/storages/private/uploads', {
      version: tree.id,
      manifestSize: tree.manifest.length,
      parent: null,
    });
    expect(start.status).toBe(201);
    const missing = await call(other, 'POST', `/v1/uploads/${start.json.session}/missing`, {
      digests: [...tree.chunks.keys()],
    });
    expect(missing.json.missing).toEqual([...tree.chunks.keys()]);
    await sendPresigned(other, start.json.manifestUpload, tree.manifest);
    const commit = await call(other, 'POST', `/v1/uploads/${start.json.session}/commit`);
    expect(commit.json.error.code).toBe('missing_chunks');
    expect((await call(other, 'GET', '/v1/storages/private')).status).toBe(404);
    expect((await call(other, 'GET', '/v1/storages')).json.storages).toEqual([]);
  });
});

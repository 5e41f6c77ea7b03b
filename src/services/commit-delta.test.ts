import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/digest.js';
import { decodeManifest } from '../core/manifest.js';
import { compressManifestDelta, encodeManifestDelta } from '../core/manifest-delta.js';
import type { Digest } from '../core/types.js';
import {
  appWith,
  type BuiltTree,
  buildPack,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  type Reply,
  sendPresigned,
} from '../testing/http-harness.js';
import { collect } from './blob-io.js';
import { deltaKey, manifestKey } from './keys.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const files = (n: number, edit = -1): Record<string, string | null> => {
  const spec: Record<string, string | null> = { empty: null };
  for (let i = 0; i < n; i++) spec[`src/f${i}.ts`] = `file ${i} ${i === edit ? 'edited' : ''}\n`;
  return spec;
};

/** The stored form of the delta from `base` to `next`, raw or zstd-compressed. */
async function deltaOf(base: BuiltTree, next: BuiltTree, compress = true): Promise<Buffer> {
  const b = decodeManifest(base.manifest);
  const n = decodeManifest(next.manifest);
  const raw = encodeManifestDelta(base.id, b.entries, n.entries, n.header);
  return compress ? compressManifestDelta(raw) : raw;
}

/** Starts a delta push of `next`, uploads the chunks the server lacks; commit is the caller's. */
async function startDelta(storage: string, next: BuiltTree, base: Digest, delta: Buffer) {
  const start = await call(h.app, 'POST', `/v1/storages/${storage}/uploads`, {
    version: next.id,
    manifestSize: next.manifest.length,
    parent: base,
    manifestDelta: { base, size: delta.length, sha256: sha256Hex(delta) },
  });
  expect(start.status).toBe(201);
  const session = start.json.session as string;
  const missing = await call(h.app, 'POST', `/v1/uploads/${session}/missing`, {
    digests: [...next.chunks.keys()],
  });
  const lacking = (missing.json.missing as Digest[]).map((d) => next.chunks.get(d) as Buffer);
  if (lacking.length > 0) {
    const pack = buildPack(lacking);
    const presigned = await call(h.app, 'POST', `/v1/uploads/${session}/packs`, {
      packs: [{ id: pack.id, size: pack.bytes.length }],
    });
    await sendPresigned(h.app, presigned.json.uploads[0].request, pack.bytes);
  }
  return { start, session };
}

async function commit(session: string): Promise<Reply> {
  let res = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
  while (res.status === 202) res = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
  return res;
}

async function stored(tenant: string, id: Digest): Promise<Buffer | null> {
  if (!(await h.blobs.stat(manifestKey(tenant, id)))) return null;
  return collect(await h.blobs.get(manifestKey(tenant, id)));
}

describe('delta push', () => {
  it('rebuilds the manifest byte for byte, as a full push stores it, and deletes the delta', async () => {
    const base = buildTree(files(50));
    await push(h.app, 'd1', base);
    const next = buildTree({ ...files(50, 7), 'src/new.ts': 'new\n' });
    const delta = await deltaOf(base, next);
    expect(delta.length).toBeLessThan(next.manifest.length / 4);
    const { start, session } = await startDelta('d1', next, base.id, delta);
    expect(start.json.deltaUpload).toBeDefined();
    expect((await sendPresigned(h.app, start.json.deltaUpload, delta)).status).toBe(200);
    const done = await commit(session);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ status: 'committed', created: true, previousHead: base.id });
    expect(done.json.version).toMatchObject({ id: next.id, manifestSize: next.manifest.length });
    expect((await stored('default', next.id))?.equals(next.manifest)).toBe(true);
    expect(await h.blobs.stat(deltaKey('default', session))).toBeNull();
    // The same tree pushed in full by another tenant stores the same bytes under the same id.
    const other = appWith(h, { tenant: 'full' });
    expect((await push(other, 'd1', next)).commit?.status).toBe(200);
    expect((await stored('full', next.id))?.equals(next.manifest)).toBe(true);
    // Idempotent: repeating the commit gives the same answer.
    const again = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
    expect(again.json).toEqual(done.json);
  });

  it('answers without deltaUpload for an unknown base; the full manifest then works', async () => {
    const base = buildTree(files(3));
    const next = buildTree(files(3, 1));
    const delta = await deltaOf(base, next);
    const start = await call(h.app, 'POST', '/v1/storages/d2/uploads', {
      version: next.id,
      manifestSize: next.manifest.length,
      parent: null,
      manifestDelta: { base: base.id, size: delta.length, sha256: sha256Hex(delta) },
    });
    expect(start.status).toBe(201);
    expect(start.json.deltaUpload).toBeUndefined();
    // Another tenant's version is no base either (invariant 5).
    await push(appWith(h, { tenant: 'other' }), 'd2', base);
    const again = await call(h.app, 'POST', '/v1/storages/d2/uploads', {
      version: next.id,
      manifestSize: next.manifest.length,
      parent: null,
      manifestDelta: { base: base.id, size: delta.length, sha256: sha256Hex(delta) },
    });
    expect(again.json.deltaUpload).toBeUndefined();
    expect((await push(h.app, 'd2', next)).commit?.status).toBe(200);
  });

  it('rejects a corrupted delta, stores nothing, and commits once a good one is uploaded', async () => {
    const base = buildTree(files(10));
    await push(h.app, 'd3', base);
    const next = buildTree(files(10, 3));
    const wrong = await deltaOf(base, buildTree(files(10, 4)));
    const { start, session } = await startDelta('d3', next, base.id, wrong);
    await sendPresigned(h.app, start.json.deltaUpload, wrong);
    const bad = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
    expect([bad.status, bad.json.error.code]).toEqual([422, 'digest_mismatch']);
    expect(await stored('default', next.id)).toBeNull();
    expect(await h.blobs.stat(deltaKey('default', session))).toBeNull();
    const detail = await call(h.app, 'GET', `/v1/storages/d3/versions/${next.id}`);
    expect(detail.status).toBe(404);

    // Not zstd at all, then not canonical: 400 invalid_manifest, nothing stored.
    const spaced = (await deltaOf(base, next, false)).toString().replace('"t":"f"', '"t": "f"');
    for (const junk of [
      Buffer.from('not zstd'),
      await compressManifestDelta(Buffer.from(spaced)),
    ]) {
      const retry = await startDelta('d3', next, base.id, junk);
      await sendPresigned(h.app, retry.start.json.deltaUpload, junk);
      const res = await call(h.app, 'POST', `/v1/uploads/${retry.session}/commit`);
      expect([res.status, res.json.error.code]).toEqual([400, 'invalid_manifest']);
      expect(await stored('default', next.id)).toBeNull();
    }

    const good = await deltaOf(base, next);
    const fixed = await startDelta('d3', next, base.id, good);
    await sendPresigned(h.app, fixed.start.json.deltaUpload, good);
    expect((await commit(fixed.session)).status).toBe(200);
    expect((await stored('default', next.id))?.equals(next.manifest)).toBe(true);
  });

  it('resumes across 202 answers with a small entry budget', async () => {
    const app = appWith(h, { commitBudgetEntries: 5 });
    const base = buildTree(files(20));
    await push(app, 'd4', base);
    const next = buildTree(files(20, 11));
    const delta = await deltaOf(base, next);
    const { start, session } = await startDelta('d4', next, base.id, delta);
    await sendPresigned(h.app, start.json.deltaUpload, delta);
    let res = await call(app, 'POST', `/v1/uploads/${session}/commit`);
    let steps = 0;
    while (res.status === 202) {
      steps++;
      res = await call(app, 'POST', `/v1/uploads/${session}/commit`);
    }
    expect(steps).toBeGreaterThan(1);
    expect(res.json.version.id).toBe(next.id);
    expect((await stored('default', next.id))?.equals(next.manifest)).toBe(true);
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChunkRef } from '../core/types.js';
import { deltaCacheKey, manifestKey } from '../services/keys.js';
import {
  appWith,
  type BuiltTree,
  buildPack,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  sendPresigned,
} from '../testing/http-harness.js';

/** Bounded work per request (invariant 4): budgets, stored answers and the concurrency cap. */
let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A tree of one file cut into `refs` distinct 16-byte chunks (a few huge files: few entries, many refs). */
const manyRefs = (refs: number): BuiltTree =>
  buildTree({ 'big.bin': randomBytes(16 * refs), 'small.txt': 'x' }, 16);

/** Opens a session and uploads the manifest only; returns the session id. */
async function openWithManifest(app: Harness['app'], storage: string, tree: BuiltTree) {
  const start = await call(app, 'POST', `/v1/storages/${storage}/uploads`, {
    version: tree.id,
    manifestSize: tree.manifest.length,
    parent: null,
  });
  expect(start.status).toBe(201);
  expect((await sendPresigned(app, start.json.manifestUpload, tree.manifest)).status).toBe(200);
  return start.json.session as string;
}

async function uploadPack(app: Harness['app'], session: string, chunks: Buffer[]) {
  const pack = buildPack(chunks);
  const presigned = await call(app, 'POST', `/v1/uploads/${session}/packs`, {
    packs: [{ id: pack.id, size: pack.bytes.length }],
  });
  expect(presigned.status).toBe(200);
  expect((await sendPresigned(app, presigned.json.uploads[0].request, pack.bytes)).status).toBe(
    200,
  );
}

/** Counts chunk refs the metadata store is asked about. */
function countRefs() {
  const spy = vi.spyOn(h.metadata, 'checkChunks');
  return {
    refs: () => spy.mock.calls.reduce((n, [, refs]) => n + (refs as ChunkRef[]).length, 0),
    calls: () => spy.mock.calls.length,
    restore: () => spy.mockRestore(),
  };
}

describe('commit budget in chunk refs', () => {
  it('answers 202 after the ref budget, resuming inside a file, then commits', async () => {
    const app = appWith(h, { commitBudgetChunkRefs: 10 });
    const tree = manyRefs(35);
    const session = await openWithManifest(app, 'refs1', tree);
    await uploadPack(app, session, [...tree.chunks.values()]);
    const seen = countRefs();
    try {
      const first = await call(app, 'POST', `/v1/uploads/${session}/commit`);
      expect(first.status).toBe(202);
      expect(first.json).toMatchObject({ status: 'verifying', entriesChecked: 0, entriesTotal: 2 });
      expect(seen.refs()).toBeLessThanOrEqual(10);
      let calls = 1;
      let last = first;
      while (last.status === 202) {
        last = await call(app, 'POST', `/v1/uploads/${session}/commit`);
        calls++;
      }
      expect(last.status).toBe(200);
      // 36 refs at 10 per call, and every ref asked about once.
      expect(calls).toBe(4);
      expect(seen.refs()).toBe(36);
    } finally {
      seen.restore();
    }
  });

  it('a manifest full of unknown refs fails within the budget, not after all of them', async () => {
    const app = appWith(h, { commitBudgetChunkRefs: 20 });
    const tree = manyRefs(300);
    const session = await openWithManifest(app, 'refs2', tree);
    const seen = countRefs();
    try {
      const res = await call(app, 'POST', `/v1/uploads/${session}/commit`);
      expect(res.status).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'missing_chunks', details: { count: 20 } });
      expect(seen.refs()).toBe(20);
    } finally {
      seen.restore();
    }
  });
});

describe('a repeated failing commit', () => {
  it('answers the stored missing_chunks without reading the manifest or the index, until packs change', async () => {
    const tree = buildTree({ 'a.txt': 'alpha '.repeat(100), 'b.txt': 'beta '.repeat(100) });
    const session = await openWithManifest(h.app, 'fail1', tree);
    const first = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
    expect(first.status).toBe(422);
    expect(first.json.error.code).toBe('missing_chunks');

    const seen = countRefs();
    const gets = vi.spyOn(h.blobs, 'get');
    try {
      for (let i = 0; i < 3; i++) {
        const again = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
        expect(again.status).toBe(422);
        expect(again.json).toEqual(first.json);
      }
      expect(seen.calls()).toBe(0);
      expect(gets.mock.calls.filter(([key]) => key === manifestKey('default', tree.id))).toEqual(
        [],
      );
      // Uploading what was missing changes the session's packs: the commit is recomputed.
      await uploadPack(h.app, session, [...tree.chunks.values()]);
      const done = await call(h.app, 'POST', `/v1/uploads/${session}/commit`);
      expect(done.status).toBe(200);
      expect(seen.calls()).toBeGreaterThan(0);
    } finally {
      seen.restore();
      gets.mockRestore();
    }
  });

  it('validates the manifest once, even when its first window fails', async () => {
    const tree = buildTree({ 'c.txt': 'gamma' });
    const session = await openWithManifest(h.app, 'fail2', tree);
    expect((await call(h.app, 'POST', `/v1/uploads/${session}/commit`)).status).toBe(422);
    expect((await h.metadata.getSession('default', session))?.progress.manifestValid).toBe(true);
  });
});

describe('manifest delta: cached and bounded', () => {
  const url = (storage: string, ref: string, base: string) =>
    `/v1/storages/${storage}/versions/${ref}/manifest-delta?base=${base}`;
  const files = (n: number, edit = '') => {
    const spec: Record<string, string> = {};
    for (let i = 0; i < n; i++) spec[`d/f${i}.txt`] = `file ${i}\n${i === 3 ? edit : ''}`;
    return spec;
  };

  it('answers a repeat from the stored delta without reading either manifest', async () => {
    const a = buildTree(files(50));
    const b = buildTree(files(50, 'edited'));
    await push(h.app, 'dc1', a);
    await push(h.app, 'dc1', b, { parent: a.id });
    const first = await h.app.request(url('dc1', b.id, a.id));
    expect(first.status).toBe(200);
    const bytes = Buffer.from(await first.arrayBuffer());
    expect(await h.blobs.stat(deltaCacheKey('default', a.id, b.id))).toEqual({
      size: bytes.length,
    });

    const gets = vi.spyOn(h.blobs, 'get');
    try {
      const again = await h.app.request(url('dc1', b.id, a.id));
      expect(again.status).toBe(200);
      expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
      const keys = gets.mock.calls.map(([key]) => key);
      expect(keys).not.toContain(manifestKey('default', a.id));
      expect(keys).not.toContain(manifestKey('default', b.id));
    } finally {
      gets.mockRestore();
    }
  });

  it('refuses to diff manifests above the configured bound with delta_too_large', async () => {
    const a = buildTree(files(20));
    const b = buildTree(files(20, 'changed'));
    await push(h.app, 'dc2', a);
    await push(h.app, 'dc2', b, { parent: a.id });
    const small = appWith(h, { deltaMaxManifestBytes: a.manifest.length - 1 });
    const res = await call(small, 'GET', url('dc2', b.id, a.id));
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('delta_too_large');
    expect(res.json.error.message).toContain('fetch the manifest');
  });
});

describe('concurrency cap on expensive routes', () => {
  it('answers 429 busy with Retry-After beyond the cap, and serves again once one ends', async () => {
    const app = appWith(h, { maxExpensiveRequests: 2 });
    const tree = buildTree({ 'q.txt': 'queued' });
    await push(h.app, 'cap1', tree);
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const spy = vi.spyOn(h.metadata, 'findChunks').mockImplementation(async () => {
      await gate;
      return [];
    });
    const plan = () =>
      app.request(`/v1/storages/cap1/versions/${tree.id}/plan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ digests: ['ab'.repeat(32)] }),
      });
    try {
      const running = [plan(), plan()];
      // Let both reach the blocked index query.
      await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(2));
      const refused = await plan();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('busy');
      const commit = await call(app, 'POST', `/v1/uploads/${crypto.randomUUID()}/commit`);
      expect(commit.status).toBe(429);
      // Cheap routes are not capped.
      expect((await call(app, 'GET', '/v1/storages/cap1')).status).toBe(200);
      release();
      for (const res of await Promise.all(running)) expect(res.status).toBe(200);
      spy.mockRestore();
      expect((await plan()).status).toBe(200);
    } finally {
      release();
      spy.mockRestore();
    }
  });

  it('is in the OpenAPI document of every capped route', async () => {
    const doc = JSON.parse(await (await h.app.request('/openapi.json')).text());
    for (const [path, method] of [
      ['/v1/uploads/{session}/commit', 'post'],
      ['/v1/uploads/{session}/missing', 'post'],
      ['/v1/storages/{storage}/versions/{ref}/plan', 'post'],
      ['/v1/storages/{storage}/versions/{ref}/manifest-delta', 'get'],
    ] as const) {
      const busy = doc.paths[path][method].responses['429'];
      expect(busy.headers['Retry-After']).toBeDefined();
    }
    expect(doc.paths['/v1/storages/{storage}'].get.responses['429']).toBeUndefined();
  });
});

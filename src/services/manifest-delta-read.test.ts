import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_DELTA_VERSION_HEADER } from '../api/schemas.js';
import { decodeManifest } from '../core/manifest.js';
import { encodeManifestDelta } from '../core/manifest-delta.js';
import { mergeManifestDelta } from '../core/manifest-delta-merge.js';
import { createZstdDecompressStream } from '../core/zstd-stream.js';
import {
  appWith,
  type BuiltTree,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  type TreeSpec,
} from '../testing/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const url = (storage: string, ref: string, base: string) =>
  `/v1/storages/${storage}/versions/${ref}/manifest-delta?base=${base}`;

async function unzstd(bytes: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of Readable.from([bytes]).pipe(createZstdDecompressStream())) parts.push(p);
  return Buffer.concat(parts);
}

async function merge(delta: Buffer, base: BuiltTree): Promise<Buffer> {
  const parts: Buffer[] = [];
  const merged = mergeManifestDelta({
    delta: Readable.from([await unzstd(delta)]),
    openBase: async () => Readable.from([base.manifest]),
  });
  for await (const p of merged) parts.push(p);
  return Buffer.concat(parts);
}

async function fetchDelta(app: Harness['app'], path: string) {
  const res = await app.request(path);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

function files(n: number, edit: (i: number) => string = () => ''): TreeSpec {
  const spec: TreeSpec = {};
  for (let i = 0; i < n; i++) spec[`d${i % 40}/f${i}.txt`] = `file ${i}\n${edit(i)}`;
  return spec;
}

describe('GET .../versions/{ref}/manifest-delta', () => {
  it('answers the unique minimal delta, which merges into the manifest of ref', async () => {
    const a = buildTree({ ...files(50), 'gone.txt': 'bye', link: { link: 'd0' } });
    const b = buildTree({
      ...files(50, (i) => (i % 10 === 0 ? 'edited' : '')),
      'new.txt': 'hi',
      link: { link: 'd1' },
    });
    await push(h.app, 'md1', a);
    await push(h.app, 'md1', b, { parent: a.id });
    const { res, bytes } = await fetchDelta(h.app, url('md1', b.id, a.id));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get(MANIFEST_DELTA_VERSION_HEADER)).toBe(b.id);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect((await merge(bytes, a)).equals(b.manifest)).toBe(true);
    // Byte-identical to what the client-side encoder makes for the same pair.
    const da = decodeManifest(a.manifest);
    const db = decodeManifest(b.manifest);
    const text = encodeManifestDelta(a.id, da.entries, db.entries, db.header);
    expect((await unzstd(bytes)).equals(text)).toBe(true);

    // 'latest' and prefixes resolve; such an answer is not marked cacheable.
    const latest = await fetchDelta(h.app, url('md1', 'latest', a.id));
    expect(latest.res.headers.get(MANIFEST_DELTA_VERSION_HEADER)).toBe(b.id);
    expect(latest.res.headers.get('cache-control')).toBeNull();
    expect(latest.bytes.equals(bytes)).toBe(true);
    // Backwards works too: the delta from b back to a.
    const back = await fetchDelta(h.app, url('md1', a.id.slice(0, 12), b.id));
    expect((await merge(back.bytes, b)).equals(a.manifest)).toBe(true);
  });

  it('answers an empty delta for base = ref, and takes a base from another storage', async () => {
    const a = buildTree(files(20));
    const c = buildTree({ ...files(20), extra: 'x' });
    await push(h.app, 'md2', a);
    await push(h.app, 'md3', c);
    const same = await fetchDelta(h.app, url('md2', a.id, a.id));
    expect(same.res.status).toBe(200);
    const text = (await unzstd(same.bytes)).toString();
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toContain('"changes":0');
    expect((await merge(same.bytes, a)).equals(a.manifest)).toBe(true);
    const cross = await fetchDelta(h.app, url('md3', c.id, a.id));
    expect((await merge(cross.bytes, a)).equals(c.manifest)).toBe(true);
  });

  it('refuses unknown bases and refs, other tenants’ versions and bad parameters', async () => {
    const a = buildTree({ 'a.txt': 'tenant default' });
    await push(h.app, 'md4', a);
    const other = appWith(h, { tenant: 'other' });
    const o = buildTree({ 'o.txt': 'tenant other' });
    await push(other, 'md4', o);
    const unknown = '0'.repeat(64);
    const code = async (app: Harness['app'], path: string) =>
      (await call(app, 'GET', path)).json.error.code;
    expect(await code(h.app, url('md4', a.id, unknown))).toBe('version_not_found');
    expect(await code(h.app, url('md4', a.id, o.id))).toBe('version_not_found');
    expect(await code(other, url('md4', o.id, a.id))).toBe('version_not_found');
    expect(await code(h.app, url('md4', o.id, a.id))).toBe('version_not_found');
    expect(await code(h.app, url('md4', unknown, a.id))).toBe('version_not_found');
    expect(await code(h.app, url('nowhere', 'latest', a.id))).toBe('storage_not_found');
    expect(await code(h.app, url('md4', a.id, a.id.slice(0, 10)))).toBe('invalid_request');
    expect(await code(h.app, `/v1/storages/md4/versions/${a.id}/manifest-delta`)).toBe(
      'invalid_request',
    );
    expect((await h.app.request(url('md4', a.id, unknown))).status).toBe(404);
  });

  it('sends a small fraction of a large manifest after a 1% edit', async () => {
    const a = buildTree(files(5000));
    const b = buildTree(files(5000, (i) => (i % 100 === 7 ? 'changed' : '')));
    await push(h.app, 'md5', a);
    await push(h.app, 'md5', b, { parent: a.id });
    const { res, bytes } = await fetchDelta(h.app, url('md5', b.id, a.id));
    expect(res.status).toBe(200);
    expect((await merge(bytes, a)).equals(b.manifest)).toBe(true);
    expect(bytes.length).toBeLessThan(b.manifest.length / 50);
  });

  it('is in the OpenAPI document with a required base', async () => {
    const doc = JSON.parse(await (await h.app.request('/openapi.json')).text());
    const op = doc.paths['/v1/storages/{storage}/versions/{ref}/manifest-delta'].get;
    const base = op.parameters.find((p: { name: string }) => p.name === 'base');
    expect(base).toMatchObject({ in: 'query', required: true });
  });

  it('refuses a delta larger than the manifest it stands for', async () => {
    // Every base path removed and every target entry put: more than the manifest itself.
    const a = buildTree(Object.fromEntries(Object.keys(files(300)).map((p) => [`old/${p}`, 'x'])));
    const b = buildTree(files(300));
    await push(h.app, 'md6', a);
    await push(h.app, 'md6', b, { parent: a.id });
    const res = await call(h.app, 'GET', url('md6', b.id, a.id));
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('delta_too_large');
    expect(res.json.error.message).toContain('fetch the manifest');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/digest.js';
import { decodeManifest, encodeManifest } from '../core/manifest.js';
import { compressManifestDelta, encodeManifestDelta } from '../core/manifest-delta.js';
import { entryLine, headerLine } from '../core/manifest-line.js';
import type { ManifestEntry } from '../core/types.js';
import {
  type BuiltTree,
  buildTree,
  call,
  type Harness,
  makeHarness,
  push,
  sendPresigned,
} from '../testing/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => {
  await h?.close();
});

const link = (path: string, target: string): ManifestEntry => ({ path, type: 'symlink', target });
const dir = (path: string): ManifestEntry => ({ path, type: 'dir' });

/** Trees pull refuses (SafeTree): the entry commit must name. */
const hostile: { name: string; entries: ManifestEntry[]; bad: string }[] = [
  { name: 'absolute target', entries: [link('l', '/etc/passwd')], bad: 'l' },
  { name: 'escaping target', entries: [link('l', '../x')], bad: 'l' },
  { name: 'escaping through a dir', entries: [link('l', 'a/../../x')], bad: 'l' },
  { name: 'deep escape', entries: [dir('d'), link('d/l', '../../x')], bad: 'd/l' },
  {
    name: 'a -> . then c -> a/..',
    entries: [link('a', '.'), link('c', 'a/..')],
    bad: 'c',
  },
  {
    name: 'a -> b/.. then b -> . (crossing first)',
    entries: [link('a', 'b/..'), link('b', '.')],
    bad: 'b',
  },
  {
    name: 'a -> b/b/.. then b -> .',
    entries: [link('a', 'b/b/..'), link('b', '.')],
    bad: 'b',
  },
  {
    name: 'b -> . then c -> b/b/..',
    entries: [link('b', '.'), link('c', 'b/b/..')],
    bad: 'c',
  },
  {
    name: 'a link two levels below',
    entries: [dir('d'), link('d/e', '..'), link('x', 'd/e/../../outside')],
    bad: 'x',
  },
];

/** A manifest written line by line, bypassing the encoder's checks (a raw-HTTP client). */
function rawManifest(entries: ManifestEntry[]): { bytes: Buffer; id: string } {
  const header = {
    chunker: 'fastcdc-v1',
    entries: entries.length,
    files: 0,
    size: 0,
    chunkRefs: 0,
  };
  const real = encodeManifest([]).bytes.toString('utf8').split('\n')[0] as string;
  header.chunker = JSON.parse(real).chunker;
  const text = `${[headerLine(header), ...entries.map(entryLine)].join('\n')}\n`;
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, id: sha256Hex(bytes) };
}

/** Uploads a manifest to a storage whose head is `parent` and commits it. */
async function commitRaw(storage: string, bytes: Buffer, id: string, parent: string) {
  const start = await call(h.app, 'POST', `/v1/storages/${storage}/uploads`, {
    version: id,
    manifestSize: bytes.length,
    parent,
  });
  expect(start.status).toBe(201);
  expect((await sendPresigned(h.app, start.json.manifestUpload, bytes)).status).toBe(200);
  return call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
}

/** A storage with one good version; returns its id. */
async function seeded(storage: string): Promise<BuiltTree> {
  const good = buildTree({ 'ok.txt': `fine in ${storage}\n` });
  expect((await push(h.app, storage, good)).commit?.status).toBe(200);
  return good;
}

async function expectNothingCommitted(storage: string, id: string, head: string): Promise<void> {
  expect(await h.metadata.getVersion('default', id)).toBeNull();
  expect((await call(h.app, 'GET', `/v1/storages/${storage}`)).json.head).toBe(head);
  const versions = await call(h.app, 'GET', `/v1/storages/${storage}/versions`);
  expect(versions.json.versions.map((v: { id: string }) => v.id)).toEqual([head]);
}

describe('commit refuses trees no client can restore (invariant 11)', () => {
  for (const [i, c] of hostile.entries()) {
    it(`refuses ${c.name} with 400 invalid_manifest naming the entry`, async () => {
      const storage = `hostile-${i}`;
      const good = await seeded(storage);
      const m = encodeManifest(c.entries);
      const commit = await commitRaw(storage, m.bytes, m.id, good.id);
      expect(commit.status).toBe(400);
      expect(commit.json.error).toMatchObject({
        code: 'invalid_manifest',
        details: { path: c.bad },
      });
      expect(commit.json.error.message).toContain(JSON.stringify(c.bad));
      await expectNothingCommitted(storage, m.id, good.id);
    });
  }

  it('refuses the paths pull refuses (absolute, .., empty segment, NUL, duplicate)', async () => {
    const good = await seeded('hostile-paths');
    const cases: ManifestEntry[][] = [
      [dir('/abs')],
      [dir('../x')],
      [dir('a'), dir('a/../b')],
      [dir('a//b')],
      [dir('a\0b')],
      [dir('a'), dir('a')],
      [link('l', 'x'), dir('l/x')],
    ];
    for (const entries of cases) {
      const m = rawManifest(entries);
      const commit = await commitRaw('hostile-paths', m.bytes, m.id, good.id);
      expect([commit.status, commit.json.error.code], JSON.stringify(entries)).toEqual([
        400,
        'invalid_manifest',
      ]);
      await expectNothingCommitted('hostile-paths', m.id, good.id);
    }
  });

  it('refuses an escaping symlink sent as a manifest delta', async () => {
    const base = buildTree({ 'a.txt': 'a\n', d: null });
    expect((await push(h.app, 'hostile-delta', base)).commit?.status).toBe(200);
    const next = encodeManifest([...base.entries, link('d/up', '../..')]);
    const b = decodeManifest(base.manifest);
    const n = decodeManifest(next.bytes);
    const delta = await compressManifestDelta(
      encodeManifestDelta(base.id, b.entries, n.entries, n.header),
    );
    const start = await call(h.app, 'POST', '/v1/storages/hostile-delta/uploads', {
      version: next.id,
      manifestSize: next.bytes.length,
      parent: base.id,
      manifestDelta: { base: base.id, size: delta.length, sha256: sha256Hex(delta) },
    });
    expect(start.json.deltaUpload).toBeDefined();
    expect((await sendPresigned(h.app, start.json.deltaUpload, delta)).status).toBe(200);
    let commit = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
    while (commit.status === 202)
      commit = await call(h.app, 'POST', `/v1/uploads/${start.json.session}/commit`);
    expect(commit.status).toBe(400);
    expect(commit.json.error).toMatchObject({
      code: 'invalid_manifest',
      details: { path: 'd/up' },
    });
    await expectNothingCommitted('hostile-delta', next.id, base.id);
  });

  it('still commits symlinks that stay inside the tree', async () => {
    const good = await seeded('friendly');
    const m = encodeManifest([
      dir('a'),
      dir('a/b'),
      link('a/b/up', '../../a/b'),
      link('to-a', 'a'),
      link('via', 'to-a/b'),
      link('dangling', 'nowhere/..'),
    ]);
    const commit = await commitRaw('friendly', m.bytes, m.id, good.id);
    expect(commit.status).toBe(200);
  });
});

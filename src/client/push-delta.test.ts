import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.js';
import type { TroveClient } from './api-client.js';
import { fetchManifest } from './pull/manifest.js';
import { push } from './push.js';
import { StatCache } from './stat-cache.js';

let tmp: string;
let server: TestServer;
let client: TroveClient;

beforeAll(async () => {
  server = await startTestServer({ prefix: 'trove-push-delta-' });
  ({ base: tmp, client } = server);
});
afterAll(() => server?.close());

/** Writes `count` small files (mtime in the past so the stat cache trusts them); `edited` get new content. */
async function writeFiles(root: string, count: number, edited: ReadonlySet<number> = new Set()) {
  const t = Date.now() / 1000 - 60;
  for (let i = 0; i < count; i++) {
    const path = join(root, `dir${i % 10}`, `file-${i}.txt`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `content of file ${i}${edited.has(i) ? ' (edited)' : ''}\n`);
    await utimes(path, t, t);
  }
}

async function storedManifest(storage: string, version: string): Promise<Buffer> {
  const detail = await client.getVersion(storage, version);
  const res = await client.send(detail.manifest);
  const bytes = Buffer.from(await res.arrayBuffer());
  // fetchManifest proves the stored bytes hash to the id.
  expect((await fetchManifest(client, detail)).bytes).toBe(bytes.length);
  return bytes;
}

describe('push with a manifest delta', () => {
  it('sends only the delta after an edit, and stores the same manifest as a full push', async () => {
    const dir = join(tmp, 'tree');
    const cacheDir = join(tmp, 'cache');
    await writeFiles(dir, 2000);
    const first = await push({ client, storage: 'd', dir, cacheDir });
    const manifest = await storedManifest('d', first.version);
    expect(first.manifestBytesUploaded).toBe(manifest.length);

    await writeFiles(dir, 2000, new Set([3, 500, 1999]));
    const second = await push({ client, storage: 'd', dir, cacheDir });
    expect(second.created).toBe(true);
    expect(second.parent).toBe(first.version);
    expect(second.manifestBytesUploaded).toBeGreaterThan(0);
    expect(second.manifestBytesUploaded).toBeLessThan(manifest.length / 50);
    const stored = await storedManifest('d', second.version);

    // The same tree pushed in full (no cache, another storage of the tenant) has the same id and bytes.
    const copy = join(tmp, 'copy');
    await writeFiles(copy, 2000, new Set([3, 500, 1999]));
    const full = await push({ client, storage: 'other', dir: copy });
    expect(full.version).toBe(second.version);
    expect(full.created).toBe(false);
    expect(full.manifestBytesUploaded).toBe(0);
    const cache = await StatCache.open({
      cacheDir,
      root: dir,
      server: client.baseUrl,
      storage: 'd',
    });
    expect(await readFile(cache.file.replace(/\.json$/, '.manifest'))).toEqual(stored);
  });

  it('fetches the base from the server when there is no local copy', async () => {
    const dir = join(tmp, 'nocache');
    await writeFiles(dir, 1500);
    const first = await push({ client, storage: 'n', dir });
    await writeFiles(dir, 1500, new Set([7]));
    const second = await push({ client, storage: 'n', dir });
    expect(second.parent).toBe(first.version);
    expect(second.manifestBytesUploaded).toBeLessThan(first.manifestBytesUploaded / 50);
    await storedManifest('n', second.version);
  });

  it('sends a small manifest whole, and falls back when the local copy is not the parent', async () => {
    const dir = join(tmp, 'small');
    const cacheDir = join(tmp, 'cache-small');
    await writeFiles(dir, 3);
    const first = await push({ client, storage: 's', dir, cacheDir });
    await writeFiles(dir, 3, new Set([1]));
    const second = await push({ client, storage: 's', dir, cacheDir });
    // Three files: the delta (zstd framing, header) saves little; whichever is smaller went up.
    expect(second.manifestBytesUploaded).toBeLessThanOrEqual(first.manifestBytesUploaded + 20);
    const cache = await StatCache.open({
      cacheDir,
      root: dir,
      server: client.baseUrl,
      storage: 's',
    });
    await writeFile(cache.file.replace(/\.json$/, '.manifest'), 'garbage');
    await writeFiles(dir, 3, new Set([2]));
    const third = await push({ client, storage: 's', dir, cacheDir });
    expect(third.created).toBe(true);
    const stored = await storedManifest('s', third.version);
    expect(third.manifestBytesUploaded).toBe(stored.length);
  });
});

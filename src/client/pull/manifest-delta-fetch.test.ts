import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionDetail } from '../../api/schemas.js';
import { startTestServer, type TestServer } from '../../testing/server.js';
import type { TroveClient } from '../api-client.js';
import { keptManifestPath, localManifestBase, savePulledManifest } from '../local-state.js';
import { push } from '../push.js';
import { StatCache } from '../stat-cache.js';
import { fetchManifest } from './manifest.js';
import { fetchManifestViaDelta } from './manifest-delta-fetch.js';

let tmp: string;
let server: TestServer;
let client: TroveClient;
let cacheFile: string;
let v1: string;
let v1Bytes: Buffer;
let v2: VersionDetail;
let v2Bytes: Buffer;

/** ~4,000-file tree (4 files per directory, like a source tree); `edited` files get new content. */
async function writeFiles(root: string, count: number, edited: ReadonlySet<number> = new Set()) {
  const t = Date.now() / 1000 - 60;
  for (let i = 0; i < count; i++) {
    const path = join(root, `src/mod${i % 1000}`, `file-${i}.ts`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `export const v${i} = ${i};${edited.has(i) ? ' // edited' : ''}\n`);
    await utimes(path, t, t);
  }
}

beforeAll(async () => {
  server = await startTestServer({ prefix: 'trove-pull-delta-' });
  ({ base: tmp, client } = server);
  const dir = join(tmp, 'tree');
  const cacheDir = join(tmp, 'cache');
  await writeFiles(dir, 4000);
  v1 = (await push({ client, storage: 's', dir, cacheDir })).version;
  cacheFile = (await StatCache.open({ cacheDir, root: dir, server: client.baseUrl, storage: 's' }))
    .file;
  // The manifest push left beside the stat cache: what an incremental pull holds.
  v1Bytes = await readFile(keptManifestPath(cacheFile));
  const edited = new Set(Array.from({ length: 40 }, (_, k) => k * 100 + 7));
  const other = join(tmp, 'edited');
  await writeFiles(other, 4000, edited);
  const pushed = await push({ client, storage: 's', dir: other });
  v2 = await client.getVersion('s', pushed.version);
  v2Bytes = Buffer.from(await (await client.send(v2.manifest)).arrayBuffer());
}, 120_000);
afterAll(() => server?.close());

describe('fetchManifestViaDelta', () => {
  it('rebuilds the manifest from the local base and a delta a fraction of its size', async () => {
    const base = await localManifestBase(cacheFile, v1);
    expect(base).not.toBeNull();
    let requests = 0;
    const stop = client.addRequestListener(() => requests++);
    const got = await fetchManifestViaDelta(client, 's', v2, base!);
    stop();
    const full = await fetchManifest(client, v2);
    expect(got.via).toBe('delta');
    expect(requests).toBe(1);
    expect(got.manifest?.equals(v2Bytes)).toBe(true);
    expect(got.entries).toEqual(full.entries);
    expect(got.header).toEqual(full.header);
    // Measured: 4,000 files, 40 edited (1%).
    console.log(`manifest ${full.bytes} B, delta ${got.bytes} B`);
    expect(got.bytes).toBeLessThan(full.bytes / 50);
  });

  it('reads a base from a file', async () => {
    const path = join(tmp, 'base.manifest');
    await writeFile(path, v1Bytes);
    const got = await fetchManifestViaDelta(client, 's', v2, { id: v1, path });
    expect(got.via).toBe('delta');
    expect(got.manifest?.equals(v2Bytes)).toBe(true);
  });

  it('falls back to the whole manifest when the base is corrupt, missing or unknown', async () => {
    const full = await fetchManifest(client, v2);
    const corrupt = Buffer.from(v1Bytes);
    // A digest character changed: still parses, merges into the wrong bytes.
    const at = corrupt.indexOf('"c":[["') + 7;
    corrupt[at] = corrupt[at] === 0x30 ? 0x31 : 0x30;
    const cases = [
      { id: v1, bytes: corrupt },
      { id: v1, bytes: v1Bytes.subarray(0, v1Bytes.length - 10) },
      { id: v1, path: join(tmp, 'no-such-file') },
      { id: 'f'.repeat(64), bytes: v1Bytes },
    ];
    for (const base of cases) {
      const got = await fetchManifestViaDelta(client, 's', v2, base);
      expect(got.via).toBe('manifest');
      expect(got.manifest).toBeNull();
      expect(got.entries).toEqual(full.entries);
      expect(got.bytes).toBeGreaterThanOrEqual(full.bytes);
    }
  });

  it('stops on abort instead of falling back', async () => {
    const base = { id: v1, bytes: v1Bytes };
    const signal = AbortSignal.abort();
    await expect(fetchManifestViaDelta(client, 's', v2, base, signal)).rejects.toThrow();
  });
});

describe('local manifest copy', () => {
  it('offers the copy only for the version it holds', async () => {
    expect(await localManifestBase(cacheFile, null)).toBeNull();
    expect(await localManifestBase(cacheFile, v2.id)).toBeNull();
    expect(await localManifestBase(join(tmp, 'none.json'), v1)).toBeNull();
  });

  it('saves a pulled manifest where push and the next pull find it', async () => {
    const file = join(tmp, 'pulled', 'cache.json');
    const viaDelta = await fetchManifestViaDelta(client, 's', v2, { id: v1, bytes: v1Bytes });
    await savePulledManifest(file, v2.id, viaDelta);
    expect((await readFile(keptManifestPath(file))).equals(v2Bytes)).toBe(true);
    expect(await localManifestBase(file, v2.id)).toEqual({ id: v2.id, bytes: v2Bytes });
    // A manifest that came whole is re-encoded to the same bytes.
    const other = join(tmp, 'pulled2', 'cache.json');
    await savePulledManifest(other, v2.id, await fetchManifest(client, v2));
    expect((await readFile(keptManifestPath(other))).equals(v2Bytes)).toBe(true);
    // Never saved under the wrong id.
    await savePulledManifest(join(tmp, 'pulled3', 'c.json'), v1, await fetchManifest(client, v2));
    expect(await localManifestBase(join(tmp, 'pulled3', 'c.json'), v1)).toBeNull();
  });
});

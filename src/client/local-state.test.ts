import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeManifest } from '../core/manifest.js';
import { LocalState } from './local-state.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'trove-local-state-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const file = (size: number, digest: string) => ({
  size,
  mtimeMs: 1,
  ctimeMs: 1,
  ino: 1,
  executable: false,
  chunks: [{ digest, size }],
});

describe('LocalState', () => {
  it('is absent without a cache directory', async () => {
    expect(
      await LocalState.open({ cacheDir: undefined, root: tmp, server: 'http://x', storage: 's' }),
    ).toBeNull();
  });

  it('records a push, then forgets the sync after a failed one but keeps the entries', async () => {
    const o = {
      cacheDir: join(tmp, 'cache'),
      root: join(tmp, 'tree'),
      server: 'http://x',
      storage: 's',
    };
    const manifest = encodeManifest([
      { path: 'a', type: 'file', executable: false, size: 0, chunks: [] },
    ]);
    const first = await LocalState.open(o);
    if (first === null) throw new Error('expected local state');
    expect(first.syncedVersion).toBeNull();
    expect(first.syncedChunks().size).toBe(0);
    first.cache.set('a', file(3, 'd'.repeat(64)));
    first.cache.set('gone', file(4, 'e'.repeat(64)));
    await first.recordPush(['a'], manifest.id, manifest.bytes);

    const second = await LocalState.open(o);
    if (second === null) throw new Error('expected local state');
    expect(second.syncedVersion).toBe(manifest.id);
    expect([...second.syncedChunks()]).toEqual(['d'.repeat(64)]);
    expect((await second.keptManifest(manifest.id))?.equals(manifest.bytes)).toBe(true);
    expect(await second.keptManifest('0'.repeat(64))).toBeNull();
    expect(await second.manifestBase()).toEqual({ id: manifest.id, bytes: manifest.bytes });

    await second.forgetSync();
    const third = await LocalState.open(o);
    if (third === null) throw new Error('expected local state');
    expect(third.syncedVersion).toBeNull();
    expect(third.syncedChunks().size).toBe(0);
    expect(third.cache.size).toBe(1);
    expect(await third.manifestBase()).toBeNull();
  });
});

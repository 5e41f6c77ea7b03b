import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkBuffer } from '../../core/chunker.js';
import { sha256Hex } from '../../core/digest.js';
import type { ChunkRef, ManifestEntry } from '../../core/types.js';
import { bytes } from '../../testing/pull-fixtures.js';
import { TroveClient } from '../api-client.js';
import { StatCache } from '../stat-cache.js';
import { buildFromPacks } from './packs.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'trove-packs-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

// Nothing listens there: a build that needs the network fails loudly.
const offline = new TroveClient({ baseUrl: 'http://127.0.0.1:9', retries: 1 });

function refs(chunks: Buffer[]): ChunkRef[] {
  return chunks.map((c) => ({ digest: sha256Hex(c), size: c.length }));
}

describe('buildFromPacks with everything already local', () => {
  it('places reused chunks at every offset, in any order and repeated, without the network', async () => {
    const old = join(base, 'old');
    mkdirSync(join(old, 'deep'), { recursive: true });
    const a = bytes(700_000, 11);
    writeFileSync(join(old, 'deep', 'a.bin'), a);
    writeFileSync(join(old, 'small.txt'), 'hello\n');
    const pieces = chunkBuffer(a);
    expect(pieces.length).toBeGreaterThan(3);
    const reversed = [...pieces].reverse();
    const twice = [pieces[1]!, pieces[1]!, pieces[0]!];
    const hello = Buffer.from('hello\n');
    const file = (path: string, chunks: Buffer[], executable = false): ManifestEntry => ({
      path,
      type: 'file',
      executable,
      size: chunks.reduce((n, c) => n + c.length, 0),
      chunks: refs(chunks),
    });
    const entries: ManifestEntry[] = [
      { path: 'moved', type: 'dir' },
      file('moved/a.bin', pieces),
      file('moved/hello', [hello], true),
      file('moved/none', []),
      file('rev.bin', reversed),
      file('twice.bin', twice),
      { path: 'x', type: 'symlink', target: 'moved/a.bin' },
    ];
    const root = join(base, 'new');
    mkdirSync(root);
    const r = await buildFromPacks({
      client: offline,
      storage: 's',
      version: '0'.repeat(64),
      entries,
      root,
      oldRoot: old,
      cache: null,
    });
    expect(r.chunksFetched).toBe(0);
    expect(r.chunksReused).toBe(pieces.length + 1);
    expect(readFileSync(join(root, 'moved/a.bin')).equals(a)).toBe(true);
    expect(readFileSync(join(root, 'rev.bin')).equals(Buffer.concat(reversed))).toBe(true);
    expect(readFileSync(join(root, 'twice.bin')).equals(Buffer.concat(twice))).toBe(true);
    expect(readFileSync(join(root, 'moved/hello'), 'utf8')).toBe('hello\n');
    expect(statSync(join(root, 'moved/hello')).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, 'moved/none')).size).toBe(0);
  });

  it('does not trust a stat cache that lies: the claimed chunk is re-hashed and fetched instead', async () => {
    const old = join(base, 'old');
    mkdirSync(old);
    writeFileSync(join(old, 'f'), 'old');
    const wanted = Buffer.from('new');
    const cache = await StatCache.open({
      cacheDir: join(base, 'cache'),
      root: old,
      server: 's',
      storage: 's',
    });
    const st = statSync(join(old, 'f'));
    cache.set('f', { ...st, executable: false, chunks: refs([wanted]) });
    expect(cache.lookup('f', st)).toBeDefined();
    const root = join(base, 'new');
    mkdirSync(root);
    // At another path: a record that matches the file's stat at the same path is trusted by
    // design to take the file over whole (adopt.ts, like git's index); chunk reuse is not.
    const entries: ManifestEntry[] = [
      { path: 'g', type: 'file', executable: false, size: 3, chunks: refs([wanted]) },
    ];
    await expect(
      buildFromPacks({
        client: offline,
        storage: 's',
        version: '0'.repeat(64),
        entries,
        root,
        oldRoot: old,
        cache,
      }),
    ).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('needs the network for a chunk the old tree does not have', async () => {
    const old = join(base, 'old');
    mkdirSync(old);
    writeFileSync(join(old, 'f'), 'old');
    const root = join(base, 'new');
    mkdirSync(root);
    const data = Buffer.from('new');
    const entries: ManifestEntry[] = [
      { path: 'f', type: 'file', executable: false, size: 3, chunks: refs([data]) },
    ];
    await expect(
      buildFromPacks({
        client: offline,
        storage: 's',
        version: '0'.repeat(64),
        entries,
        root,
        oldRoot: old,
        cache: null,
      }),
    ).rejects.toMatchObject({ code: 'unreachable' });
  });
});

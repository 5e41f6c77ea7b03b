import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveKeptManifest } from './local-state.js';
import { type CachedFile, defaultCacheDir, StatCache } from './stat-cache.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'trove-statcache-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const D = 'a'.repeat(64);

async function fileAt(path: string, content: string, ageMs = 60_000): Promise<CachedFile> {
  await writeFile(path, content);
  const t = (Date.now() - ageMs) / 1000;
  await utimes(path, t, t);
  const st = await stat(path);
  return {
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    executable: false,
    chunks: [{ digest: D, size: st.size }],
  };
}

function opts(root: string) {
  return { cacheDir: join(tmp, 'cache'), root, server: 'http://x', storage: 's' };
}

describe('StatCache', () => {
  it('round-trips entries and syncedVersion; misses after a change', async () => {
    const root = join(tmp, 'tree');
    await mkdir(root);
    const c1 = await StatCache.open(opts(root));
    expect(c1.syncedVersion).toBeNull();
    const f = await fileAt(join(root, 'a'), 'hello', 0);
    c1.set('a', f);
    c1.syncedVersion = 'b'.repeat(64);
    expect(c1.lookup('a', f)).toEqual(f);
    await c1.save();

    const c2 = await StatCache.open(opts(root));
    expect(c2.syncedVersion).toBe('b'.repeat(64));
    expect(c2.digests()).toEqual(new Set([D]));
    // Racy: the mtime is within the window of the save, so the entry is not trusted.
    expect(c2.lookup('a', await stat(join(root, 'a')))).toBeUndefined();
  });

  it('trusts entries older than the racy window and rejects any stat change', async () => {
    const root = join(tmp, 'tree');
    await mkdir(root);
    const old = await fileAt(join(root, 'a'), 'hello');
    const c1 = await StatCache.open(opts(root));
    c1.set('a', old);
    await c1.save();
    const c2 = await StatCache.open(opts(root));
    const key = { size: old.size, mtimeMs: old.mtimeMs, ctimeMs: old.ctimeMs, ino: old.ino };
    expect(c2.lookup('a', key)?.chunks).toEqual(old.chunks);
    expect(c2.lookup('a', { ...key, size: key.size + 1 })).toBeUndefined();
    expect(c2.lookup('a', { ...key, mtimeMs: key.mtimeMs + 1 })).toBeUndefined();
    expect(c2.lookup('a', { ...key, ctimeMs: key.ctimeMs + 1 })).toBeUndefined();
    expect(c2.lookup('a', { ...key, ino: key.ino + 1 })).toBeUndefined();
    expect(c2.lookup('b', key)).toBeUndefined();
  });

  it('retainOnly drops other entries', async () => {
    const c = await StatCache.open(opts(join(tmp, 'missing-root')));
    const f: CachedFile = { size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, executable: true, chunks: [] };
    c.set('a', f);
    c.set('b', f);
    c.retainOnly(new Set(['b']));
    expect(c.lookup('a', f)).toBeUndefined();
    expect(c.lookup('b', f)).toEqual(f);
    await c.save();
    const c2 = await StatCache.open(opts(join(tmp, 'missing-root')));
    expect(c2.size).toBe(1);
    expect(c2.lookup('b', f)?.executable).toBe(true);
  });

  it('keys cache files by server, storage and root', async () => {
    const f: CachedFile = {
      size: 1,
      mtimeMs: 1,
      ctimeMs: 1,
      ino: 1,
      executable: false,
      chunks: [],
    };
    const a = await StatCache.open(opts(join(tmp, 'r')));
    a.set('x', f);
    await a.save();
    const b = await StatCache.open({ ...opts(join(tmp, 'r')), storage: 'other' });
    expect(b.size).toBe(0);
    const c = await StatCache.open({ ...opts(join(tmp, 'r')), server: 'http://y' });
    expect(c.size).toBe(0);
    expect(await readdir(join(tmp, 'cache', 'stat'))).toHaveLength(1);
  });

  it('keeps the cache private (0700 directory, 0600 files) whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      await mkdir(join(tmp, 'cache', 'stat'), { recursive: true, mode: 0o755 });
      const c = await StatCache.open(opts(join(tmp, 'r')));
      c.set('x', await fileAt(join(tmp, 'x'), 'x'));
      await c.save();
      const copy = join(tmp, 'cache', 'stat', 'copy.manifest');
      await saveKeptManifest(copy, Buffer.from('manifest'));
      expect((await stat(join(tmp, 'cache', 'stat'))).mode & 0o777).toBe(0o700);
      expect((await stat(c.file)).mode & 0o777).toBe(0o600);
      expect((await stat(copy)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('ignores corrupt and unknown-version files', async () => {
    const c = await StatCache.open(opts(join(tmp, 'r')));
    await mkdir(join(tmp, 'cache', 'stat'), { recursive: true });
    await writeFile(c.file, '{not json');
    const c2 = await StatCache.open(opts(join(tmp, 'r')));
    expect(c2.size).toBe(0);
    await writeFile(c.file, JSON.stringify({ format: 'trove-stat-cache', v: 99, files: [] }));
    expect((await StatCache.open(opts(join(tmp, 'r')))).size).toBe(0);
    await writeFile(
      c.file,
      JSON.stringify({ format: 'trove-stat-cache', v: 1, savedAt: 0, files: [[1, 2]] }),
    );
    expect((await StatCache.open(opts(join(tmp, 'r')))).size).toBe(0);
  });

  it('loads 100k entries quickly', async () => {
    const c = await StatCache.open(opts(join(tmp, 'big')));
    for (let i = 0; i < 100_000; i++) {
      c.set(`dir${i % 100}/file${i}`, {
        size: 100,
        mtimeMs: 1,
        ctimeMs: 1,
        ino: i,
        executable: false,
        chunks: [{ digest: D, size: 100 }],
      });
    }
    await c.save();
    const t0 = performance.now();
    const c2 = await StatCache.open(opts(join(tmp, 'big')));
    const ms = performance.now() - t0;
    expect(c2.size).toBe(100_000);
    expect(ms).toBeLessThan(3000);
  });

  it('skips writing when nothing changed', async () => {
    const f: CachedFile = {
      size: 1,
      mtimeMs: 1,
      ctimeMs: 1,
      ino: 1,
      executable: false,
      chunks: [],
    };
    const c = await StatCache.open(opts(join(tmp, 'r')));
    await c.save();
    await expect(stat(c.file)).rejects.toThrow();
    c.set('a', f);
    c.syncedVersion = 'v';
    await c.save();
    const first = await stat(c.file);
    const c2 = await StatCache.open(opts(join(tmp, 'r')));
    c2.syncedVersion = 'v';
    c2.lookup('a', f);
    c2.retainOnly(new Set(['a']));
    await c2.save();
    expect((await stat(c2.file)).mtimeMs).toBe(first.mtimeMs);
    c2.syncedVersion = 'w';
    await c2.save();
    expect((await StatCache.open(opts(join(tmp, 'r')))).syncedVersion).toBe('w');
  });

  it('defaultCacheDir honours TROVE_CACHE_DIR then XDG_CACHE_HOME', () => {
    expect(defaultCacheDir({ TROVE_CACHE_DIR: '/a/b' })).toBe('/a/b');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/trove');
    expect(defaultCacheDir({})).toMatch(/\.cache\/trove$/);
  });
});

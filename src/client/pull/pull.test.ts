import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveFormat } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import { bytes, type SpecEntry, sampleSpec, snapshot } from '../../testing/pull-fixtures.js';
import { startTestServer, type TestServer } from '../../testing/server.js';
import type { TroveClient } from '../api-client.js';
import { push } from '../push.js';
import { pull } from './pull.js';

let base: string;
let server: TestServer;
let client: TroveClient;

beforeAll(async () => {
  server = await startTestServer({
    prefix: 'trove-pull-',
    env: { TROVE_ARCHIVE_FORMATS: 'tar.gz,tar.zst' },
  });
  ({ base, client } = server);
});
afterAll(() => server?.close());

function writeSpec(dir: string, spec: readonly SpecEntry[]): void {
  mkdirSync(dir, { recursive: true });
  for (const s of spec) {
    const abs = join(dir, s.path);
    mkdirSync(dirname(abs), { recursive: true });
    if (s.type === 'dir') mkdirSync(abs, { recursive: true });
    else if (s.type === 'symlink') symlinkSync(s.target, abs);
    else {
      writeFileSync(abs, s.data);
      chmodSync(abs, s.executable ? 0o755 : 0o644);
    }
  }
}

async function waitArchives(storage: string, formats: ArchiveFormat[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const v = await client.getVersion(storage, 'latest');
    if (formats.every((f) => v.archives.some((a) => a.format === f && a.state === 'ready'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('archives never became ready');
}

function findFile(dir: string, name: string): string | null {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) {
      const hit = findFile(abs, name);
      if (hit) return hit;
    } else if (e.name === name) return abs;
  }
  return null;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof TroveError)) throw err;
    return err.code;
  }
}

describe('pull through a real server', () => {
  it('gives byte-identical trees from packs, tar.gz and tar.zst', async () => {
    const src = join(base, 'src-sample');
    writeSpec(src, sampleSpec());
    const pushed = await push({ client, storage: 'sample', dir: src });
    const fromPacks = await pull({
      client,
      storage: 'sample',
      target: join(base, 'p'),
      archive: false,
    });
    expect(fromPacks).toMatchObject({ version: pushed.version, source: 'packs', files: 5 });
    expect(fromPacks.chunksFetched).toBeGreaterThan(0);
    await waitArchives('sample', ['tar.gz', 'tar.zst']);
    const gz = await pull({
      client,
      storage: 'sample',
      target: join(base, 'gz'),
      format: 'tar.gz',
    });
    const zst = await pull({
      client,
      storage: 'sample',
      target: join(base, 'zst'),
      format: 'tar.zst',
    });
    expect([gz.source, zst.source]).toEqual(['archive', 'archive']);
    // An archive pull is the version lookup, the manifest and one archive GET.
    expect(gz.requests).toBe(3);
    const expected = snapshot(src);
    expect(snapshot(join(base, 'p'))).toEqual(expected);
    expect(snapshot(join(base, 'gz'))).toEqual(expected);
    expect(snapshot(join(base, 'zst'))).toEqual(expected);
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
  });

  it('an incremental pull downloads only the changed chunks', async () => {
    const src = join(base, 'src-inc');
    const cacheDir = join(base, 'cache');
    const target = join(base, 'inc');
    writeSpec(src, [
      { path: 'model.bin', type: 'file', data: bytes(4 * 1024 * 1024, 3) },
      { path: 'notes.txt', type: 'file', data: Buffer.from('v1\n') },
      { path: 'lib', type: 'dir' },
      { path: 'lib/a.js', type: 'file', data: bytes(100_000, 4) },
    ]);
    await push({ client, storage: 'inc', dir: src });
    const first = await pull({ client, storage: 'inc', target, cacheDir, archive: false });
    expect(first.chunksReused).toBe(0);

    // Change 100 bytes in the middle of the big file: FastCDC resynchronises after one chunk.
    const fd = openSync(join(src, 'model.bin'), 'r+');
    writeSync(fd, Buffer.alloc(100, 0xab), 0, 100, 2 * 1024 * 1024);
    closeSync(fd);
    const v2 = await push({ client, storage: 'inc', dir: src });
    const second = await pull({ client, storage: 'inc', target, cacheDir });
    expect(second).toMatchObject({ version: v2.version, source: 'packs' });
    expect(second.chunksFetched).toBeLessThanOrEqual(2);
    expect(second.chunksReused).toBeGreaterThan(40);
    // Version, manifest, one plan, and the coalesced range(s).
    expect(second.requests).toBeLessThanOrEqual(5);
    // The manifest plus at most two incompressible chunks (max 256 KiB each).
    expect(second.bytesDownloaded).toBeLessThan(2 * 256 * 1024 + 20_000);
    expect(snapshot(target)).toEqual(snapshot(src));

    // The pull recorded the tree: pushing it back right away reads nothing.
    const back = await push({ client, storage: 'inc', dir: target, cacheDir });
    expect(back).toMatchObject({ version: v2.version, created: false, filesHashed: 0 });

    // Without a stat cache the old files are hashed instead: same result.
    writeFileSync(join(src, 'notes.txt'), 'v3\n');
    await push({ client, storage: 'inc', dir: src });
    const third = await pull({ client, storage: 'inc', target });
    expect(third.chunksFetched).toBe(1);
    expect(snapshot(target)).toEqual(snapshot(src));
  });

  it('an incremental pull fetches the manifest as a delta from the version it holds', async () => {
    const src = join(base, 'src-delta');
    const cacheDir = join(base, 'cache-delta');
    const target = join(base, 'delta');
    const files = Array.from({ length: 2000 }, (_, i) => ({
      path: `f/${String(i).padStart(4, '0')}.txt`,
      type: 'file' as const,
      data: Buffer.from(`file ${i}\n`),
    }));
    writeSpec(src, [{ path: 'f', type: 'dir' }, ...files]);
    await push({ client, storage: 'delta', dir: src });
    const first = await pull({ client, storage: 'delta', target, cacheDir, archive: false });
    // The whole manifest: ~2000 lines of path, size and digest.
    expect(first.bytesDownloaded).toBeGreaterThan(150_000);

    writeFileSync(join(src, 'f/0007.txt'), 'changed\n');
    const v2 = await push({ client, storage: 'delta', dir: src });
    const second = await pull({ client, storage: 'delta', target, cacheDir });
    expect(second.version).toBe(v2.version);
    // One changed line as a zstd delta plus one small chunk, not the 150 kB manifest.
    expect(second.bytesDownloaded).toBeLessThan(5_000);
    expect(snapshot(target)).toEqual(snapshot(src));
  });

  it('fetches more chunks than one plan request may name (batches of 10k digests)', async () => {
    const src = join(base, 'src-many');
    const spec: SpecEntry[] = [];
    for (let d = 0; d < 30; d++) {
      spec.push({ path: `d${d}`, type: 'dir' });
      for (let f = 0; f < 340; f++)
        spec.push({ path: `d${d}/${f}`, type: 'file', data: Buffer.from(`file ${d}/${f}\n`) });
    }
    writeSpec(src, spec);
    await push({ client, storage: 'many', dir: src });
    const target = join(base, 'many');
    const r = await pull({ client, storage: 'many', target, archive: false });
    expect(r.chunksFetched).toBe(30 * 340);
    expect(snapshot(target)).toEqual(snapshot(src));
  });

  it('a tampered archive is refused and the target is left untouched', async () => {
    const src = join(base, 'src-tamper');
    writeSpec(src, sampleSpec());
    const { version } = await push({ client, storage: 'tamper', dir: src });
    await waitArchives('tamper', ['tar.gz']);
    const file = findFile(server.dataDir, `${version}.tar.gz`);
    expect(file).not.toBeNull();
    const archive = readFileSync(file!);
    const at = Math.floor(archive.length / 2);
    archive[at] = archive[at]! ^ 0x55;
    writeFileSync(file!, archive);

    const absent = join(base, 'tamper-absent');
    expect(
      await codeOf(pull({ client, storage: 'tamper', target: absent, format: 'tar.gz' })),
    ).toBe('digest_mismatch');
    expect(existsSync(absent)).toBe(false);
    const empty = join(base, 'tamper-empty');
    mkdirSync(empty);
    expect(await codeOf(pull({ client, storage: 'tamper', target: empty, format: 'tar.gz' }))).toBe(
      'digest_mismatch',
    );
    expect(readdirSync(empty)).toEqual([]);
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
    // The packs are intact, so the same version still pulls without the archive.
    const ok = await pull({ client, storage: 'tamper', target: empty, archive: false });
    expect(ok.source).toBe('packs');
    expect(snapshot(empty)).toEqual(snapshot(src));
  });

  it('falls back to packs when the archive it was offered has gone', async () => {
    const src = join(base, 'src-gone');
    writeSpec(src, sampleSpec());
    const { version } = await push({ client, storage: 'gone', dir: src });
    await waitArchives('gone', ['tar.gz']);
    rmSync(findFile(server.dataDir, `${version}.tar.gz`)!);
    const target = join(base, 'gone');
    const r = await pull({ client, storage: 'gone', target, format: 'tar.gz' });
    expect(r.source).toBe('packs');
    expect(snapshot(target)).toEqual(snapshot(src));
  });

  it('an aborted pull leaves the target and its parent as they were', async () => {
    const target = join(base, 'abort');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'mine');
    const stop = new AbortController();
    const err = await pull({
      client,
      storage: 'sample',
      target,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'packs') stop.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(readdirSync(target)).toEqual(['keep']);
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
  });

  it('restores the tree a crashed pull left beside the target, then pulls over it', async () => {
    const target = join(base, 'crashed');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const src = join(base, 'src-sample');
    // The previous tree, moved aside by a pull that died before its second rename.
    cpSync(src, join(base, `.crashed.trove-old-${dead}-0a1b2c`), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const r = await pull({ client, storage: 'sample', target });
    expect(r.source).toBe('packs');
    expect(r.chunksFetched).toBe(0);
    expect(snapshot(target)).toEqual(snapshot(src));
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
  });

  it('refuses a target that is a file or a symlink', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    symlinkSync(base, join(base, 'a-link'));
    for (const target of [file, join(base, 'a-link')])
      expect(await codeOf(pull({ client, storage: 'sample', target }))).toBe('target_conflict');
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

import { execFileSync } from 'node:child_process';
import {
  createWriteStream,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveFormat } from '../core/types.js';
import { startWorker } from '../server/worker.js';
import {
  type BuiltTree,
  buildTree,
  type Harness,
  makeHarness,
  push,
} from '../testing/http-harness.js';
import { archiveKey } from './keys.js';
import { materializeArchive } from './materialize.js';
import { sweepStaleArchives } from './materialize-jobs.js';

let h: Harness;
let tree: BuiltTree;
const tmp = mkdtempSync(join(tmpdir(), 'trove-mat-'));
const big = Buffer.alloc(300_000);
for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;

beforeAll(async () => {
  h = await makeHarness({ archiveFormats: ['tar.gz', 'tar.zst'] });
  tree = buildTree(
    {
      'README.md': '# hello\n',
      'src/main.ts': 'console.log(1);\n'.repeat(5000),
      'src/empty.txt': '',
      'src/deep/er/file.bin': big,
      'bin/run': { exec: '#!/bin/sh\necho hi\n' },
      link: { link: 'src/main.ts' },
      data: null,
      'dup/a.txt': 'same',
      'dup/b.txt': 'same',
    },
    4096,
  );
  const { commit } = await push(h.app, 'mat', tree);
  expect(commit?.status).toBe(200);
});
afterAll(async () => {
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function extract(format: ArchiveFormat): Promise<string> {
  const file = join(tmp, `archive.${format}`);
  await pipeline(
    await h.blobs.get(archiveKey('default', tree.id, format)),
    createWriteStream(file),
  );
  const out = mkdtempSync(join(tmp, 'x-'));
  const flags = format === 'tar.gz' ? ['-xzf', file] : ['--zstd', '-xf', file];
  execFileSync('tar', [...flags, '-C', out]);
  return out;
}

function expectTree(dir: string): void {
  expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# hello\n');
  expect(readFileSync(join(dir, 'src/main.ts'), 'utf8')).toBe('console.log(1);\n'.repeat(5000));
  expect(readFileSync(join(dir, 'src/empty.txt')).length).toBe(0);
  expect(readFileSync(join(dir, 'src/deep/er/file.bin')).equals(big)).toBe(true);
  expect(readFileSync(join(dir, 'dup/b.txt'), 'utf8')).toBe('same');
  expect(lstatSync(join(dir, 'bin/run')).mode & 0o777).toBe(0o755);
  expect(lstatSync(join(dir, 'README.md')).mode & 0o777).toBe(0o644);
  expect(lstatSync(join(dir, 'data')).isDirectory()).toBe(true);
  expect(readlinkSync(join(dir, 'link'))).toBe('src/main.ts');
}

describe('materialize', () => {
  it('builds a tar.gz that tar extracts to the tree, with a tiny window', async () => {
    const window = { maxBytes: 10_000, maxChunks: 3 };
    expect(
      await materializeArchive(
        h,
        { tenant: 'default', versionId: tree.id, format: 'tar.gz' },
        window,
      ),
    ).toBe('built');
    const [row] = (await h.metadata.listArchives('default', tree.id)).filter(
      (a) => a.format === 'tar.gz',
    );
    expect(row).toMatchObject({ state: 'ready', error: null });
    const stat = await h.blobs.stat(archiveKey('default', tree.id, 'tar.gz'));
    expect(row?.size).toBe(stat?.size);
    expectTree(await extract('tar.gz'));
    // Idempotent: a second run skips.
    expect(
      await materializeArchive(h, { tenant: 'default', versionId: tree.id, format: 'tar.gz' }),
    ).toBe('skipped');
  });

  it('builds a tar.zst through the worker (queue + sweeper)', async () => {
    const worker = await startWorker(h, { sweepIntervalMs: 3_600_000 });
    try {
      await sweepStaleArchives(h, new Date(Date.now() + 10 * 60_000));
      for (let i = 0; i < 300; i++) {
        const rows = await h.metadata.listArchives('default', tree.id);
        if (rows.every((r) => r.state === 'ready')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const rows = await h.metadata.listArchives('default', tree.id);
      expect(rows.map((r) => r.state)).toEqual(['ready', 'ready']);
      expectTree(await extract('tar.zst'));
    } finally {
      worker.stop();
    }
  });

  it('marks the archive failed and rethrows when a chunk is corrupt', async () => {
    const other = buildTree({ 'gone.txt': 'will vanish' });
    await push(h.app, 'mat2', other);
    const [chunk] = await h.metadata.findChunks('default', [...other.chunks.keys()]);
    const { packKey } = await import('./keys.js');
    await h.blobs.delete([packKey('default', chunk?.packId ?? '')]);
    await expect(
      materializeArchive(h, { tenant: 'default', versionId: other.id, format: 'tar.gz' }),
    ).rejects.toThrow();
    const rows = await h.metadata.listArchives('default', other.id);
    expect(rows.find((r) => r.format === 'tar.gz')?.state).toBe('failed');
  });
});

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliJson,
  describeTree,
  pseudoRandomBytes,
  removeAll,
  runCli,
  startServe,
  tempDir,
  waitForArchive,
} from './harness.js';

describe('trove serve lifecycle (real processes)', () => {
  const cleanup: string[] = [];
  afterAll(async () => {
    await removeAll(...cleanup);
  });

  it('keeps everything across a restart; packs before the archive and the archive after agree', async () => {
    const work = await tempDir();
    const dataDir = await tempDir('trove-data-');
    cleanup.push(work, dataDir);
    const src = join(work, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub/a.txt'), 'alpha\n'.repeat(1000));
    await writeFile(join(src, 'blob.bin'), pseudoRandomBytes(2 * 1024 * 1024, 3));

    // No worker: the archive cannot exist yet, so the pull must use packs.
    const first = await startServe({ dataDir, extraArgs: ['--no-worker'] });
    const opts = { server: first.url, cacheDir: join(work, 'cache') };
    const pushed = await cliJson<{ version: string }>(['push', src, '--storage', 'keep'], opts);
    const early = await cliJson<{ source: string }>(['pull', 'keep', join(work, 'early')], opts);
    expect(early.source).toBe('packs');

    // A second server on the same data directory is refused while the first runs.
    const second = await runCli(['serve', '--data', dataDir, '--port', '0'], { timeoutMs: 15_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr + second.stdout).toMatch(/in use|locked/i);

    expect(await first.stop()).toBe(0);

    // Restart with the worker: the committed version is still there and gets its archive.
    const again = await startServe({ dataDir });
    const opts2 = { server: again.url, cacheDir: join(work, 'cache') };
    try {
      await waitForArchive('keep', again.url);
      const late = await cliJson<{ source: string; version: string }>(
        ['pull', 'keep', join(work, 'late')],
        opts2,
      );
      expect(late.source).toBe('archive');
      expect(late.version).toBe(pushed.version);
      const expected = await describeTree(src);
      expect(await describeTree(join(work, 'early'))).toEqual(expected);
      expect(await describeTree(join(work, 'late'))).toEqual(expected);
    } finally {
      await again.stop();
    }
  });
});

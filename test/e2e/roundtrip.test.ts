import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_BACKENDS, type E2eBackend, openE2eBackend } from './backends.js';
import {
  cliJson,
  describeTree,
  pseudoRandomBytes,
  removeAll,
  runCli,
  type ServeProcess,
  startServe,
  tempDir,
  waitForArchive,
} from './harness.js';

interface PushJson {
  version: string;
  storage: string;
  created: boolean;
  bytesUploaded: number;
  chunksUploaded: number;
}
interface PullJson {
  version: string;
  source: 'archive' | 'packs';
  bytesDownloaded: number;
  files: number;
}

/** A tree with every kind of entry trove must preserve. */
async function makeMixedTree(root: string): Promise<void> {
  await mkdir(join(root, 'src/nested/deeper'), { recursive: true });
  await mkdir(join(root, 'empty-dir/inner-empty'), { recursive: true });
  await writeFile(join(root, 'README.md'), '# hello\n');
  await writeFile(join(root, 'empty-file'), '');
  await writeFile(join(root, 'src/main.ts'), 'export const x = 1;\n'.repeat(200));
  await writeFile(join(root, 'src/nested/deeper/data.json'), JSON.stringify({ a: [1, 2, 3] }));
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'run.sh'), 0o755);
  await writeFile(join(root, 'ünïcødé-名前 file.txt'), 'non-ascii name\n');
  await writeFile(join(root, 'big.bin'), pseudoRandomBytes(3 * 1024 * 1024 + 12345, 7));
  await symlink('src/main.ts', join(root, 'link-to-main'));
  await symlink('../README.md', join(root, 'src/link-up'));
  await symlink('nested', join(root, 'src/dir-link'));
}

// The CI matrix: the whole suite on the embedded default and on PostgreSQL + an S3-compatible server.
describe.each(E2E_BACKENDS)('trove end to end on %s (real serve process, real CLI)', (kind) => {
  let backend: E2eBackend | undefined;
  let serve: ServeProcess;
  let work: string;

  beforeAll(async () => {
    work = await tempDir();
    backend = await openE2eBackend(kind);
    serve = await startServe({ env: backend.env });
  });

  afterAll(async () => {
    await serve?.stop();
    await backend?.close();
    await removeAll(work, serve?.dataDir ?? '');
  });

  it('round-trips a mixed tree through packs and through the archive, byte for byte', async () => {
    const src = join(work, 'mixed');
    await makeMixedTree(src);
    const cache = join(work, 'cache-mixed');
    const pushed = await cliJson<PushJson>(['push', src, '--storage', 'mixed', '-m', 'first'], {
      server: serve.url,
      cacheDir: cache,
    });
    expect(pushed.created).toBe(true);
    expect(pushed.storage).toBe('mixed');
    expect(pushed.bytesUploaded).toBeGreaterThan(3 * 1024 * 1024);

    const viaPacks = await cliJson<PullJson>(
      ['pull', 'mixed@latest', join(work, 'out-packs'), '--no-archive'],
      { server: serve.url, cacheDir: join(work, 'c1') },
    );
    expect(viaPacks.source).toBe('packs');
    expect(viaPacks.version).toBe(pushed.version);

    await waitForArchive('mixed', serve.url);
    const viaArchive = await cliJson<PullJson>(
      ['pull', `mixed@${pushed.version.slice(0, 10)}`, join(work, 'out-archive')],
      { server: serve.url, cacheDir: join(work, 'c2') },
    );
    expect(viaArchive.source).toBe('archive');

    const expected = await describeTree(src);
    expect(expected['empty-dir/inner-empty']).toBe('dir');
    expect(expected['run.sh']).toMatch(/^file:x:/);
    expect(await describeTree(join(work, 'out-packs'))).toEqual(expected);
    expect(await describeTree(join(work, 'out-archive'))).toEqual(expected);
  });

  it('uploads only new chunks after a small edit, nothing for an identical push', async () => {
    const src = join(work, 'incremental');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 200; i++) {
      await writeFile(join(src, `file-${i}.txt`), `file ${i}\n${'lorem ipsum '.repeat(500)}\n`);
    }
    await writeFile(join(src, 'big.bin'), pseudoRandomBytes(8 * 1024 * 1024, 11));
    const opts = { server: serve.url, cacheDir: join(work, 'cache-inc') };
    const first = await cliJson<PushJson>(['push', src, '--storage', 'inc'], opts);
    expect(first.created).toBe(true);

    const again = await cliJson<PushJson>(['push', src, '--storage', 'inc'], opts);
    expect(again.created).toBe(false);
    expect(again.version).toBe(first.version);
    expect(again.bytesUploaded).toBe(0);
    expect(again.chunksUploaded).toBe(0);

    // Change one small file and 100 bytes in the middle of the big one.
    await writeFile(join(src, 'file-3.txt'), 'changed\n');
    const big = pseudoRandomBytes(8 * 1024 * 1024, 11);
    big.fill(0x41, 4 * 1024 * 1024, 4 * 1024 * 1024 + 100);
    await writeFile(join(src, 'big.bin'), big);
    const second = await cliJson<PushJson>(['push', src, '--storage', 'inc'], opts);
    expect(second.created).toBe(true);
    expect(second.chunksUploaded).toBeGreaterThan(0);
    expect(second.chunksUploaded).toBeLessThanOrEqual(4);
    // A few chunks (<= 256 KiB each) plus a manifest, not the 8 MiB file.
    expect(second.bytesUploaded).toBeLessThan(1024 * 1024);

    // The same push from a fresh cache (no stat cache) still uploads nothing new.
    const fresh = await cliJson<PushJson>(['push', src, '--storage', 'inc'], {
      server: serve.url,
      cacheDir: join(work, 'cache-inc-fresh'),
    });
    expect(fresh.bytesUploaded).toBe(0);
  });

  it('pulls incrementally, downloading only the changed chunks', async () => {
    const src = join(work, 'pull-inc');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'big.bin'), pseudoRandomBytes(6 * 1024 * 1024, 21));
    await writeFile(join(src, 'small.txt'), 'v1\n');
    const opts = { server: serve.url, cacheDir: join(work, 'cache-pinc') };
    await cliJson<PushJson>(['push', src, '--storage', 'pinc'], opts);
    const target = join(work, 'pinc-out');
    const cold = await cliJson<PullJson>(['pull', 'pinc', target, '--no-archive'], opts);
    expect(cold.bytesDownloaded).toBeGreaterThan(6 * 1024 * 1024);

    const big = pseudoRandomBytes(6 * 1024 * 1024, 21);
    big.fill(0x42, 1024 * 1024, 1024 * 1024 + 10);
    await writeFile(join(src, 'big.bin'), big);
    await writeFile(join(src, 'small.txt'), 'v2\n');
    await cliJson<PushJson>(['push', src, '--storage', 'pinc'], opts);

    const warm = await cliJson<PullJson>(['pull', 'pinc', target], opts);
    expect(warm.source).toBe('packs');
    expect(warm.bytesDownloaded).toBeLessThan(1024 * 1024);
    expect(await describeTree(target)).toEqual(await describeTree(src));
  });

  it('round-trips 10,000 small files', async () => {
    const src = join(work, 'many');
    for (let d = 0; d < 100; d++) {
      const dir = join(src, `dir-${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(
        Array.from({ length: 100 }, (_, f) =>
          writeFile(join(dir, `f${f}.txt`), `dir ${d} file ${f}\n`),
        ),
      );
    }
    const opts = { server: serve.url, cacheDir: join(work, 'cache-many') };
    const pushed = await cliJson<PushJson>(['push', src, '--storage', 'many'], opts);
    expect(pushed.created).toBe(true);
    const pulled = await cliJson<PullJson>(['pull', 'many', join(work, 'many-out')], opts);
    expect(pulled.files).toBe(10_000);
    expect(await describeTree(join(work, 'many-out'))).toEqual(await describeTree(src));
  });

  it('lists storages and versions, diffs versions, and reports unknown ones with exit codes', async () => {
    const src = join(work, 'listing');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.txt'), 'a\n');
    await writeFile(join(src, 'b.txt'), 'b\n');
    const opts = { server: serve.url, cacheDir: join(work, 'cache-list') };
    const v1 = await cliJson<PushJson>(['push', src, '--storage', 'listing', '-m', 'one'], opts);
    await writeFile(join(src, 'b.txt'), 'b changed\n');
    await writeFile(join(src, 'c.txt'), 'c\n');
    await removeAll(join(src, 'a.txt'));
    const v2 = await cliJson<PushJson>(['push', src, '--storage', 'listing', '-m', 'two'], opts);

    const ls = await cliJson<{ storages: { name: string; head: string }[] }>(['ls'], opts);
    expect(ls.storages.find((s) => s.name === 'listing')?.head).toBe(v2.version);

    const log = await cliJson<{ versions: { id: string; message: string; archives: unknown[] }[] }>(
      ['log', 'listing'],
      opts,
    );
    expect(log.versions.map((v) => v.id)).toEqual([v2.version, v1.version]);
    expect(log.versions.map((v) => v.message)).toEqual(['two', 'one']);
    expect(Array.isArray(log.versions[0]?.archives)).toBe(true);

    const diff = await cliJson<{ added: string[]; removed: string[]; changed: string[] }>(
      ['diff', `listing@${v1.version.slice(0, 8)}`, `listing@${v2.version}`],
      opts,
    );
    expect(diff).toMatchObject({ added: ['c.txt'], removed: ['a.txt'], changed: ['b.txt'] });

    const missing = await runCli(['pull', 'no-such-storage', join(work, 'x'), '--json'], opts);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout).error.code).toBe('storage_not_found');

    const badVersion = await runCli(['pull', 'listing@ffffffff', join(work, 'y'), '--json'], opts);
    expect(badVersion.code).toBe(3);
    expect(JSON.parse(badVersion.stdout).error.code).toBe('version_not_found');
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../errors.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import type { TroveClient } from './api-client.js';
import { fetchManifest } from './pull/manifest.js';
import { type PushOptions, push } from './push.js';
import { StatCache } from './stat-cache.js';

let tmp: string;
let server: TestServer;
let client: TroveClient;

beforeAll(async () => {
  server = await startTestServer({ prefix: 'trove-push-' });
  ({ base: tmp, client } = server);
});
afterAll(() => server?.close());

/** Writes files with an mtime in the past, so the stat cache's racy-clean rule trusts them. */
async function writeTree(
  root: string,
  files: Record<string, string | Buffer>,
  ageSeconds = 60,
): Promise<void> {
  const t = Date.now() / 1000 - ageSeconds;
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    await utimes(join(root, path), t, t);
  }
}

function opts(storage: string, dir: string, extra: Partial<PushOptions> = {}): PushOptions {
  return { client, storage, dir, cacheDir: join(tmp, 'cache'), ...extra };
}

describe('push against a real server', () => {
  it('uploads everything first, only new chunks after an edit, nothing when identical', async () => {
    const dir = join(tmp, 'tree1');
    const big = randomBytes(3 * 1024 * 1024);
    await writeTree(dir, {
      'big.bin': big,
      'src/a.ts': 'export const a = 1;\n',
      'src/b.ts': 'export const b = 2;\n'.repeat(1000),
      'empty.txt': '',
      '.troveignore': '*.log\n',
      'noise.log': 'ignored',
    });
    await symlink('src/a.ts', join(dir, 'link'));

    const first = await push(opts('demo', dir, { message: 'first' }));
    expect(first.created).toBe(true);
    expect(first.parent).toBeNull();
    expect(first.files).toBe(5);
    expect(first.filesHashed).toBe(5);
    expect(first.chunksUploaded).toBe(first.chunks);
    expect(first.bytesUploaded).toBeGreaterThan(3 * 1024 * 1024);
    expect(first.packsUploaded).toBe(1);
    expect(first.requests).toBeGreaterThan(0);
    const head = await client.getStorage('demo');
    expect(head.head).toBe(first.version);

    // Edit a few bytes in the middle of the big file: only the chunks around it are new.
    big.write('hello world', 1_500_000);
    await writeTree(dir, { 'big.bin': big }, 30);
    const second = await push(opts('demo', dir));
    expect(second.created).toBe(true);
    expect(second.parent).toBe(first.version);
    expect(second.filesHashed).toBe(1);
    expect(second.chunksUploaded).toBeLessThanOrEqual(3);
    expect(second.bytesUploaded).toBeLessThan(1024 * 1024);

    const third = await push(opts('demo', dir));
    expect(third.version).toBe(second.version);
    expect(third.created).toBe(false);
    expect(third.bytesUploaded).toBe(0);
    expect(third.filesHashed).toBe(0);
  });

  it('re-chunks a changed file guided by its cached chunks exactly as without a cache', async () => {
    const dir = join(tmp, 'guided');
    const big = randomBytes(2 * 1024 * 1024);
    await writeTree(dir, { 'db.bin': big });
    await push(opts('guided', dir));
    // Rewritten in place, then grown, then cut short: the cache's chunks guide each re-read.
    const edits: ((b: Buffer) => Buffer)[] = [
      (b: Buffer) => {
        for (let at = 4096; at < b.length; at += 300_000) randomBytes(4096).copy(b, at);
        return b;
      },
      (b: Buffer) => Buffer.concat([b, randomBytes(70_000)]),
      (b: Buffer) => b.subarray(0, b.length - 200_000),
    ];
    let content: Buffer = big;
    for (const [i, edit] of edits.entries()) {
      content = edit(Buffer.from(content));
      await writeTree(dir, { 'db.bin': content }, 30 + i);
      const guided = await push(opts('guided', dir));
      expect(guided.filesHashed).toBe(1);
      const fresh = await push(opts('guided-fresh', dir, { cacheDir: join(tmp, `nocache${i}`) }));
      expect(guided.version).toBe(fresh.version);
    }
  });

  it('dedups against other storages of the tenant without a stat cache', async () => {
    const dir = join(tmp, 'tree2');
    await writeTree(dir, { 'x.bin': randomBytes(200_000) });
    const a = await push({ client, storage: 'dedup-a', dir });
    expect(a.chunksUploaded).toBeGreaterThan(0);
    await writeFile(join(dir, 'y.txt'), 'new');
    const b = await push({ client, storage: 'dedup-b', dir });
    expect(b.created).toBe(true);
    expect(b.chunksUploaded).toBe(1);
  });

  it('surfaces a moved head as head_conflict, and force overrides it', async () => {
    const dir = join(tmp, 'tree3');
    await writeTree(dir, { f: 'one' });
    const v1 = await push(opts('conflict', dir));
    await writeFile(join(dir, 'f'), 'two');
    await push(opts('conflict', dir));
    await writeFile(join(dir, 'f'), 'three');
    const err = await push(opts('conflict', dir, { parent: v1.version })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TroveError);
    expect((err as TroveError).code).toBe('head_conflict');
    const forced = await push(opts('conflict', dir, { parent: v1.version, force: true }));
    expect(forced.created).toBe(true);
    expect((await client.getStorage('conflict')).head).toBe(forced.version);
  });

  it('splits many chunks across packs of the target size', async () => {
    const dir = join(tmp, 'tree4');
    await writeTree(dir, { 'a.bin': randomBytes(3 * 1024 * 1024) });
    const r = await push({ client, storage: 'packs', dir, packTargetSize: 1024 * 1024 });
    expect(r.packsUploaded).toBeGreaterThanOrEqual(3);
    expect(r.chunksUploaded).toBe(r.chunks);
  });

  it('records the exec bit and symlinks, honours --ignore, and counts requests', async () => {
    const dir = join(tmp, 'tree5');
    await writeTree(dir, { 'run.sh': '#!/bin/sh\n', 'skip/me': 'x', 'keep.txt': 'k' });
    await chmod(join(dir, 'run.sh'), 0o755);
    await symlink('keep.txt', join(dir, 'ln'));
    const r = await push({ client, storage: 'modes', dir, ignore: ['skip/'] });
    expect(r.files).toBe(2);
    const detail = await client.getVersion('modes', r.version);
    const { entries } = await fetchManifest(client, detail);
    expect(entries.map((e) => e.path)).toEqual(['keep.txt', 'ln', 'run.sh']);
    expect(entries.find((e) => e.path === 'run.sh')).toMatchObject({ executable: true });
    expect(entries.find((e) => e.path === 'ln')).toMatchObject({ target: 'keep.txt' });
    // getStorage, startUpload, missing, presign, PUT pack, PUT manifest, commit (maybe repeated).
    expect(r.requests).toBeGreaterThanOrEqual(7);
    expect(r.requests).toBeLessThanOrEqual(10);
  });

  it('refuses a symlink that leaves the tree (pull could never restore it) unless ignored', async () => {
    const dir = join(tmp, 'tree-escape');
    await writeTree(dir, { 'a.txt': 'a' });
    await symlink('/etc/passwd', join(dir, 'abs'));
    const err = await push({ client, storage: 'escape', dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unsafe_path', details: { path: 'abs' } });
    await expect(client.getStorage('escape')).rejects.toMatchObject({ code: 'storage_not_found' });
    const r = await push({ client, storage: 'escape', dir, ignore: ['abs'] });
    expect(r.files).toBe(1);
  });

  it('refuses a symlink chain that escapes (`a -> .`, `c -> a/..`) before uploading', async () => {
    const dir = join(tmp, 'tree-chain');
    await writeTree(dir, { 'f.txt': 'f' });
    await symlink('.', join(dir, 'a'));
    await symlink('a/..', join(dir, 'c'));
    const err = await push({ client, storage: 'chain', dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unsafe_path', details: { path: 'c' } });
    await expect(client.getStorage('chain')).rejects.toMatchObject({ code: 'storage_not_found' });
  });

  it('stops on abort and leaves head alone', async () => {
    const dir = join(tmp, 'tree6');
    await writeTree(dir, { a: randomBytes(1000) });
    const controller = new AbortController();
    controller.abort();
    const err = await push({ client, storage: 'aborted', dir, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('AbortError');
    const missing = await client.getStorage('aborted').catch((e: unknown) => e);
    expect((missing as TroveError).code).toBe('storage_not_found');
  });

  it('asks about more than 10k digests in several batches', async () => {
    const dir = join(tmp, 'tree7');
    const files: Record<string, string> = {};
    for (let i = 0; i < 10_050; i++) files[`d${i % 50}/f${i}`] = `file ${i}`;
    await writeTree(dir, files);
    const r = await push({ client, storage: 'batches', dir });
    expect(r.files).toBe(10_050);
    expect(r.chunks).toBe(10_050);
    expect(r.chunksUploaded).toBe(10_050);
  });

  it('falls back to asking about every chunk when the stat cache vouched wrongly', async () => {
    const dir = join(tmp, 'tree8');
    const cacheDir = join(tmp, 'cache8');
    await writeTree(dir, { a: 'first file' });
    const v1 = await push({ client, storage: 'distrust', dir, cacheDir });
    // A file the server never saw, recorded in the cache as if it belonged to v1.
    await writeTree(dir, { b: 'never uploaded' });
    const st = await stat(join(dir, 'b'));
    const cache = await StatCache.open({
      cacheDir,
      root: dir,
      server: client.baseUrl,
      storage: 'distrust',
    });
    expect(cache.syncedVersion).toBe(v1.version);
    const digest = createHash('sha256').update('never uploaded').digest('hex');
    cache.set('b', { ...st, executable: false, chunks: [{ digest, size: st.size }] });
    await cache.save();

    const v2 = await push({ client, storage: 'distrust', dir, cacheDir });
    expect(v2.filesHashed).toBe(0);
    expect(v2.created).toBe(true);
    expect(v2.chunksUploaded).toBe(1);
    expect((await client.getStorage('distrust')).head).toBe(v2.version);
  });
});

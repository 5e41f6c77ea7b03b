import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveError } from '../../errors.js';
import { bytes, snapshot } from '../../testing/pull-fixtures.js';
import { startTestServer, type TestServer } from '../../testing/server.js';
import type { TroveClient } from '../api-client.js';
import { push } from '../push.js';
import { pull } from './pull.js';

let base: string;
let server: TestServer;
let client: TroveClient;

beforeAll(async () => {
  server = await startTestServer({ prefix: 'trove-pull-adopt-' });
  ({ base, client } = server);
});
afterAll(() => server?.close());

/** inode, link count and mtime of every file under `root`. */
function inodes(root: string): Map<string, { ino: number; nlink: number; mtimeMs: number }> {
  const out = new Map<string, { ino: number; nlink: number; mtimeMs: number }>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) {
        const st = lstatSync(abs);
        out.set(relative(root, abs), { ino: st.ino, nlink: st.nlink, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(root);
  return out;
}

function writeTree(src: string): void {
  mkdirSync(join(src, 'lib/deep'), { recursive: true });
  writeFileSync(join(src, 'big.bin'), bytes(1_200_000, 5));
  writeFileSync(join(src, 'notes.txt'), 'v1\n');
  writeFileSync(join(src, 'lib/deep/keep.js'), 'export const keep = 1;\n');
  writeFileSync(join(src, 'lib/mode.txt'), 'mode\n');
  writeFileSync(join(src, 'lib/touched.txt'), 'touched\n');
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(src, 'run.sh'), 0o755);
  writeFileSync(join(src, 'empty'), '');
  symlinkSync('lib/deep/keep.js', join(src, 'link'));
}

const newestPack = (dir: string): string | null => {
  let best: { path: string; mtimeMs: number } | null = null;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else if (abs.includes('/packs/')) {
        const m = statSync(abs).mtimeMs;
        if (best === null || m > best.mtimeMs) best = { path: abs, mtimeMs: m };
      }
    }
  };
  walk(dir);
  return (best as { path: string } | null)?.path ?? null;
};

describe('incremental pull takes unchanged files over', () => {
  const src = () => join(base, 'src');
  const target = () => join(base, 'target');
  const cacheDir = () => join(base, 'cache');
  const pullIt = () => pull({ client, storage: 's', target: target(), cacheDir: cacheDir() });

  it('hard-links what is unchanged, rewrites what changed, and gives the same tree', async () => {
    writeTree(src());
    await push({ client, storage: 's', dir: src() });
    await pull({ client, storage: 's', target: target(), cacheDir: cacheDir(), archive: false });
    const before = inodes(target());
    writeFileSync(join(src(), 'notes.txt'), 'v2\n');
    await push({ client, storage: 's', dir: src() });
    const r = await pullIt();
    // Six non-empty files, one of them changed; the empty file is just created.
    expect(r).toMatchObject({ source: 'packs', filesAdopted: 5, chunksFetched: 1 });
    expect(snapshot(target())).toEqual(snapshot(src()));
    const after = inodes(target());
    for (const p of ['big.bin', 'lib/deep/keep.js', 'lib/mode.txt', 'run.sh']) {
      expect(after.get(p)).toEqual({ ...before.get(p), nlink: 1 });
    }
    expect(after.get('notes.txt')?.ino).not.toBe(before.get('notes.txt')?.ino);
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
  });

  it('rewrites files the user modified or chmodded since, even same-size in the racy window', async () => {
    const before = inodes(target());
    // Same size, same bytes even, but just now: not provable unchanged without a re-read, and
    // a re-read inside the racy window proves nothing either.
    writeFileSync(join(target(), 'lib/deep/keep.js'), 'export const keep = 1;\n');
    // Same size, other bytes, mtime put back: the stat cache sees ctime, the hash sees bytes.
    const t = join(target(), 'lib/touched.txt');
    const { atime, mtime } = statSync(t);
    writeFileSync(t, 'TOUCHED\n');
    utimesSync(t, atime, mtime);
    chmodSync(join(target(), 'lib/mode.txt'), 0o600);
    const r = await pullIt();
    expect(r.filesAdopted).toBe(3);
    expect(r.chunksFetched).toBe(1);
    expect(snapshot(target())).toEqual(snapshot(src()));
    const after = inodes(target());
    for (const p of ['lib/deep/keep.js', 'lib/touched.txt', 'lib/mode.txt'])
      expect(after.get(p)?.ino).not.toBe(before.get(p)?.ino);
    for (const p of ['big.bin', 'notes.txt', 'run.sh'])
      expect(after.get(p)?.ino).toBe(before.get(p)?.ino);
  });

  it('stops before the swap when the target is written during the pull', async () => {
    writeFileSync(join(src(), 'notes.txt'), 'v3\n');
    await push({ client, storage: 's', dir: src() });
    const err = await pull({
      client,
      storage: 's',
      target: target(),
      cacheDir: cacheDir(),
      onProgress: (p) => {
        if (p.phase === 'swap') writeFileSync(join(target(), 'big.bin'), 'agent wrote this');
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TroveError);
    expect((err as TroveError).code).toBe('target_conflict');
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
    // Nothing was replaced; a retry rewrites the file the agent wrote and notes.txt.
    const r = await pullIt();
    expect(snapshot(target())).toEqual(snapshot(src()));
    expect(r.filesAdopted).toBe(4);
  });

  it('leaves the target untouched when the pull fails after linking', async () => {
    writeFileSync(join(src(), 'notes.txt'), 'v4 is new\n');
    writeFileSync(join(src(), 'big.bin'), bytes(1_200_000, 6));
    await push({ client, storage: 's', dir: src() });
    rmSync(newestPack(server.dataDir)!);
    const snap = snapshot(target());
    const before = inodes(target());
    const err = await pullIt().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TroveError);
    expect(snapshot(target())).toEqual(snap);
    expect(inodes(target())).toEqual(before);
    expect(readdirSync(base).filter((n) => n.includes('.trove-'))).toEqual([]);
  });
});

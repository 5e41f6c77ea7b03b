import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkBuffer } from '../../core/chunker.js';
import { sha256Hex } from '../../core/digest.js';
import type { ManifestEntry } from '../../core/types.js';
import { bytes } from '../../testing/pull-fixtures.js';
import { TroveClient } from '../api-client.js';
import { buildFromPacks, type PacksBuildResult } from './packs.js';

let base: string;
let old: string;
let root: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'trove-adopt-'));
  old = join(base, 'old');
  root = join(base, 'new');
  mkdirSync(old);
  mkdirSync(root);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

// Nothing listens there: every byte must come from the old tree.
const offline = new TroveClient({ baseUrl: 'http://127.0.0.1:9', retries: 1 });

function fileEntry(path: string, data: Buffer, executable = false): ManifestEntry {
  const chunks = chunkBuffer(data).map((c) => ({ digest: sha256Hex(c), size: c.length }));
  return { path, type: 'file', executable, size: data.length, chunks };
}

/** Writes an old-tree file whose mtime is well outside the racy window (unless `fresh`). */
function writeOld(path: string, data: Buffer, fresh = false): number {
  const abs = join(old, path);
  writeFileSync(abs, data);
  chmodSync(abs, 0o644);
  if (!fresh) utimesSync(abs, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  return lstatSync(abs).ino;
}

function build(entries: ManifestEntry[]): Promise<PacksBuildResult> {
  return buildFromPacks({
    client: offline,
    storage: 's',
    version: '0'.repeat(64),
    entries,
    root,
    oldRoot: old,
    cache: null,
  });
}

const ino = (path: string): number => lstatSync(join(root, path)).ino;

describe('taking unchanged files over from the old tree (no stat cache: hashed)', () => {
  it('hard-links a file that hashes to its entry, with its mtime kept', async () => {
    const data = bytes(300_000, 1);
    const before = writeOld('a.bin', data);
    const r = await build([fileEntry('a.bin', data)]);
    expect([...r.adopted.keys()]).toEqual(['a.bin']);
    expect(ino('a.bin')).toBe(before);
    expect(lstatSync(join(root, 'a.bin')).mtimeMs).toBe(lstatSync(join(old, 'a.bin')).mtimeMs);
    r.recheck();
  });

  it('rewrites instead: other bytes, a fresh mtime (racy), another mode, a second link', async () => {
    const same = Buffer.from('same bytes\n');
    const inos = [
      writeOld('changed', Buffer.from('other bytes\n')),
      writeOld('racy', same, true),
      writeOld('mode', same),
      writeOld('shared', same),
    ];
    chmodSync(join(old, 'mode'), 0o755);
    // A second name outside the tree: linking would share that inode with it.
    linkSync(join(old, 'shared'), join(base, 'elsewhere'));
    const entries = ['changed', 'mode', 'racy', 'shared'].map((p) => fileEntry(p, same));
    const r = await build(entries);
    expect(r.adopted.size).toBe(0);
    expect(r.chunksReused).toBe(1);
    for (const [i, p] of ['changed', 'racy', 'mode', 'shared'].entries()) {
      expect(ino(p)).not.toBe(inos[i]);
      expect(readFileSync(join(root, p))).toEqual(same);
      expect(lstatSync(join(root, p)).mode & 0o777).toBe(0o644);
    }
    expect(readFileSync(join(old, 'changed'), 'utf8')).toBe('other bytes\n');
  });

  it('never reaches through a symlinked directory of the old tree', async () => {
    mkdirSync(join(old, 'real'));
    const data = Buffer.from('x\n');
    const before = writeOld('real/f', data);
    symlinkSync('real', join(old, 'via'));
    const r = await build([{ path: 'via', type: 'dir' }, fileEntry('via/f', data)]);
    expect(r.adopted.size).toBe(0);
    expect(ino('via/f')).not.toBe(before);
    expect(readFileSync(join(root, 'via/f'))).toEqual(data);
  });

  it('recheck refuses the swap after a write through the target into a linked file', async () => {
    const data = Buffer.from('twelve bytes');
    writeOld('f', data);
    const r = await build([fileEntry('f', data)]);
    r.recheck();
    writeFileSync(join(old, 'f'), 'TWELVE BYTES');
    expect(() => r.recheck()).toThrow(expect.objectContaining({ code: 'target_conflict' }));
  });
});

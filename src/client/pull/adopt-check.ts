import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { ChunkRef, FileEntry } from '../../core/types.js';
import { ChunkCheck } from './chunk-check.js';

/** The stat fields that change whenever a file's bytes or identity do. */
export type Identity = Pick<Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

const READ_BYTES = 1024 * 1024;

/** The identity fields of a stat. */
export function identity(st: Identity): Identity {
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

/** Same inode, size and mtime, and (when asked) ctime. */
export function same(a: Identity, b: Identity, ctime: boolean): boolean {
  return (
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    (!ctime || a.ctimeMs === b.ctimeMs)
  );
}

/** Same chunk list. */
export function sameChunks(a: readonly ChunkRef[], b: readonly ChunkRef[]): boolean {
  return (
    a.length === b.length && a.every((c, i) => c.digest === b[i]?.digest && c.size === b[i]?.size)
  );
}

/** Reads the file and checks it against the entry's chunks, with its stat the same before and after. */
export function hashMatches(e: FileEntry, source: string, st: Stats): boolean {
  let fd: number;
  try {
    fd = openSync(source, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return false;
  }
  try {
    if (!same(fstatSync(fd), st, true)) return false;
    const check = new ChunkCheck(e.path, e.chunks);
    const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, e.size)));
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      check.push(buf.subarray(0, n));
    }
    check.end();
    return same(fstatSync(fd), st, true);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

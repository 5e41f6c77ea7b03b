import { closeSync, type Dirent, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { CHUNKER_PARAMS, Chunker } from '../../core/chunker.js';
import { sha256Hex } from '../../core/digest.js';
import type { ChunkRef, Digest } from '../../core/types.js';
import type { StatCache } from '../stat-cache.js';

/** Where a chunk's bytes can be read in the tree already on disk. */
export interface LocalChunk {
  /** Absolute path of the file holding it. */
  file: string;
  /** Byte offset inside that file. */
  offset: number;
  /** Length in bytes. */
  size: number;
}

/** Options of findLocalChunks. */
export interface FindLocalOptions {
  /** The existing target directory (the previous tree). */
  root: string;
  /** Stat cache of that tree; files it vouches for are not read at all. */
  cache: StatCache | null;
  /** Chunks of old-tree files already verified by path (files adopted whole); not read again. */
  known?: ReadonlyMap<string, readonly ChunkRef[]>;
  /** The chunks the new version needs, with their sizes. */
  needed: ReadonlyMap<Digest, number>;
  /** Stops the walk. */
  signal?: AbortSignal;
}

const READ_BYTES = 1024 * 1024;

/**
 * Finds chunks of the new version already present in the old tree. Chunk
 * lists come from the stat cache when it vouches for a file; other files are
 * cut with the same chunker and hashed, but only when they could contribute:
 * a file shorter than the minimum chunk is a single chunk, so it is read
 * only when some needed chunk has exactly its size; longer files are always
 * hashed (their chunks may have moved anywhere). Paths do not matter, so
 * renamed and copied files are reused too. Every location found is
 * re-hashed when copied, so a stale cache costs a download, never a wrong
 * byte. Symlinks are never followed.
 */
export function findLocalChunks(options: FindLocalOptions): Map<Digest, LocalChunk> {
  const found = new Map<Digest, LocalChunk>();
  const { needed } = options;
  const sizes = new Set(needed.values());
  const walk = (dir: string, rel: string): void => {
    let items: Dirent[];
    try {
      items = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const item of items) {
      if (found.size === needed.size) return;
      options.signal?.throwIfAborted();
      const abs = join(dir, item.name);
      const path = rel === '' ? item.name : `${rel}/${item.name}`;
      if (item.isDirectory()) walk(abs, path);
      else if (item.isFile()) scanFile(abs, path, options, sizes, found);
    }
  };
  if (needed.size > 0) walk(options.root, '');
  return found;
}

function scanFile(
  abs: string,
  path: string,
  options: FindLocalOptions,
  sizes: ReadonlySet<number>,
  found: Map<Digest, LocalChunk>,
): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(abs);
  } catch {
    return;
  }
  if (!st.isFile() || st.size === 0) return;
  const chunks =
    options.known?.get(path) ??
    options.cache?.lookup(path, st)?.chunks ??
    (st.size >= CHUNKER_PARAMS.min || sizes.has(st.size) ? hashFile(abs) : []);
  let offset = 0;
  for (const c of chunks) {
    if (options.needed.has(c.digest) && !found.has(c.digest))
      found.set(c.digest, { file: abs, offset, size: c.size });
    offset += c.size;
  }
}

/** Cuts and hashes one file (bounded memory: one read buffer plus the chunker's tail). */
function hashFile(abs: string): ChunkRef[] {
  const out: ChunkRef[] = [];
  const chunker = new Chunker();
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch {
    return out;
  }
  try {
    for (;;) {
      // A fresh buffer per read: the chunker may keep subarrays of what it was given.
      const buf = Buffer.allocUnsafe(READ_BYTES);
      const n = readSync(fd, buf, 0, READ_BYTES, null);
      if (n === 0) break;
      for (const c of chunker.push(buf.subarray(0, n))) out.push(ref(c));
    }
    for (const c of chunker.finish()) out.push(ref(c));
  } catch {
    // An unreadable file simply contributes nothing.
    return [];
  } finally {
    closeSync(fd);
  }
  return out;
}

function ref(chunk: Buffer): ChunkRef {
  return { digest: sha256Hex(chunk), size: chunk.length };
}

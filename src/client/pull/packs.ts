import { closeSync, constants, openSync, readSync } from 'node:fs';
import { sha256Hex } from '../../core/digest.js';
import type { ChunkRef, Digest, FileEntry, ManifestEntry } from '../../core/types.js';
import type { TroveClient } from '../api-client.js';
import type { StatCache } from '../stat-cache.js';
import { Adopter } from './adopt.js';
import { fetchChunks } from './fetch-chunks.js';
import { findLocalChunks, type LocalChunk } from './local-chunks.js';
import { PlacementWriter } from './placement.js';
import { SafeTree } from './safe-tree.js';

/** Options of buildFromPacks. */
export interface PacksBuildOptions {
  /** API client. */
  client: TroveClient;
  /** Storage holding the version. */
  storage: string;
  /** Full version id. */
  version: string;
  /** Verified manifest entries of the version. */
  entries: readonly ManifestEntry[];
  /** Empty temp dir to build the tree in. */
  root: string;
  /** The current target, whose chunks may be reused (null when there is none). */
  oldRoot: string | null;
  /** Stat cache of the current target. */
  cache: StatCache | null;
  /** Range GETs in flight. */
  concurrency?: number;
  /** Counts bytes received from object storage. */
  onBytes?: (n: number) => void;
  /** Counts raw bytes written into the new tree. */
  onWritten?: (n: number) => void;
  /** Cancels the build. */
  signal?: AbortSignal;
}

/** What buildFromPacks did. */
export interface PacksBuildResult {
  /** Unique chunks downloaded. */
  chunksFetched: number;
  /** Unique chunks copied from the old tree. */
  chunksReused: number;
  /** Files taken over from the old tree whole (hard link or reflink), path -> chunks. */
  adopted: ReadonlyMap<string, readonly ChunkRef[]>;
  /** Must run right before the swap: throws target_conflict if a hard-linked file changed. */
  recheck: () => void;
}

/**
 * Builds a version's tree from chunks: the skeleton first (dirs, symlinks,
 * empty files, and unchanged files of the old tree taken over whole by
 * adopt.ts, whose bytes are never read or written), then every chunk written at each offset where the manifest
 * places it (a file is created by its first write; positional writes fill
 * it in whatever order chunks arrive). A chunk present in the old tree is copied
 * from there after re-hashing; the rest are downloaded and verified. A chunk
 * used many times is written to every place as it arrives, so nothing is
 * spilled or held back: memory is the placement table (proportional to the
 * manifest) plus a chunk per request in flight.
 */
export async function buildFromPacks(options: PacksBuildOptions): Promise<PacksBuildResult> {
  const tree = new SafeTree(options.root);
  const files: FileEntry[] = [];
  /** digest -> flat [fileIndex, offset, fileIndex, offset, ...] */
  const places = new Map<Digest, number[]>();
  /** digest -> raw size the manifest gives it */
  const sizes = new Map<Digest, number>();
  const adopter =
    options.oldRoot === null ? null : new Adopter(tree, options.oldRoot, options.cache);
  for (const e of options.entries) {
    options.signal?.throwIfAborted();
    if (e.type === 'dir') tree.dir(e.path);
    else if (e.type === 'symlink') tree.symlink(e.path, e.target);
    else if (adopter?.adopt(e)) continue;
    else {
      // Non-empty files are created by their first chunk write: one open per small file.
      if (e.size === 0) closeSync(tree.openFile(e.path, e.executable));
      const index = files.push(e) - 1;
      let offset = 0;
      for (const c of e.chunks) {
        const list = places.get(c.digest);
        if (list === undefined) {
          places.set(c.digest, [index, offset]);
          sizes.set(c.digest, c.size);
        } else list.push(index, offset);
        offset += c.size;
      }
    }
  }
  const writer = new PlacementWriter(tree, files, places, sizes, options.onWritten);
  try {
    let chunksReused = 0;
    if (options.oldRoot !== null) {
      const local = findLocalChunks({
        root: options.oldRoot,
        cache: options.cache,
        needed: sizes,
        ...(adopter ? { known: adopter.adopted } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      chunksReused = copyLocal(local, writer);
    }
    const missing = [...places.keys()].filter((d) => !writer.done.has(d));
    const fetched =
      missing.length === 0
        ? { chunks: 0 }
        : await fetchChunks({
            client: options.client,
            storage: options.storage,
            version: options.version,
            digests: missing,
            onChunk: (digest, raw) => writer.place(digest, raw),
            ...(options.concurrency ? { concurrency: options.concurrency } : {}),
            ...(options.onBytes ? { onBytes: options.onBytes } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          });
    return {
      chunksFetched: fetched.chunks,
      chunksReused,
      adopted: adopter?.adopted ?? new Map(),
      recheck: () => adopter?.recheck(),
    };
  } finally {
    writer.close();
  }
}

/** Copies verified local chunks into place; a chunk that no longer hashes right is left to fetch. */
function copyLocal(local: Map<Digest, LocalChunk>, writer: PlacementWriter): number {
  const order = [...local].sort(([, a], [, b]) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset,
  );
  let reused = 0;
  let openFile: string | null = null;
  let fd: number | null = null;
  try {
    for (const [digest, loc] of order) {
      if (loc.file !== openFile) {
        if (fd !== null) closeSync(fd);
        fd = null;
        openFile = loc.file;
        try {
          fd = openSync(loc.file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
        } catch {
          continue;
        }
      }
      if (fd === null) continue;
      const buf = Buffer.allocUnsafe(loc.size);
      const n = readSync(fd, buf, 0, loc.size, loc.offset);
      // The old tree may have changed since it was scanned: trust only what hashes right.
      if (n !== loc.size || sha256Hex(buf) !== digest) continue;
      writer.place(digest, buf);
      reused++;
    }
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return reused;
}

import { mapLimit } from '../../core/concurrency.js';
import { SymlinkRules } from '../../core/symlink-rules.js';
import type { ChunkRef, ManifestEntry } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { StatCache } from '../stat-cache.js';
import { type WalkFile, walk } from '../walk.js';
import type { PushProgress } from './progress.js';
import { readChunks } from './read-chunks.js';

/** A file of the pushed tree with its chunks. */
export interface ScannedFile {
  /** Relative POSIX path. */
  path: string;
  /** Absolute path on disk. */
  abs: string;
  /** Size in bytes. */
  size: number;
  /** The file's chunks in order. */
  chunks: ChunkRef[];
}

/** What scanning a tree produced. */
export interface ScanResult {
  /** Manifest entries (walk order, which is manifest order). */
  entries: ManifestEntry[];
  /** The file entries, in manifest order. */
  files: ScannedFile[];
  /** Files read and hashed (stat cache misses). */
  filesHashed: number;
  /** Bytes read and hashed. */
  bytesHashed: number;
  /** Raw bytes of chunks seen while hashing, kept (within a budget) so they need not be re-read. */
  retained: Map<string, Buffer>;
}

/** Options of scanTree. */
export interface ScanOptions {
  /** Root of the tree. */
  dir: string;
  /** Extra ignore patterns. */
  ignore: readonly string[];
  /** Stat cache to consult and fill, or null. */
  cache: StatCache | null;
  /** Byte budget of `retained`. */
  retainBytes: number;
  /** Files read concurrently (overlaps I/O with hashing). */
  concurrency: number;
  /** Progress callback. */
  onProgress: (p: PushProgress) => void;
  /** Warnings (skipped special files). */
  onWarning: (message: string) => void;
  /** Cancels the scan. */
  signal: AbortSignal | undefined;
}

/** Walks the tree, reuses the stat cache, and chunks and hashes every other file. */
export async function scanTree(options: ScanOptions): Promise<ScanResult> {
  const { cache, signal, onProgress } = options;
  const entries: ManifestEntry[] = [];
  const walked: WalkFile[] = [];
  const chunksOf = new Map<string, ChunkRef[]>();
  const toHash: WalkFile[] = [];
  const links = new SymlinkRules();
  let scanned = 0;
  let bytesTotal = 0;
  for await (const e of walk(options.dir, {
    ignore: options.ignore,
    onWarning: options.onWarning,
  })) {
    signal?.throwIfAborted();
    if (e.type === 'dir') entries.push({ path: e.path, type: 'dir' });
    else if (e.type === 'symlink') {
      // Pull refuses links that leave the tree (invariant 8) and commit refuses them by
      // the same rule (invariant 11): refuse here, before uploading, where it can be fixed.
      const problem = links.accept(e.path, e.target);
      if (problem !== null) {
        throw new TroveError(
          'unsafe_path',
          `symlink ${JSON.stringify(e.path)} -> ${JSON.stringify(e.target)} points outside the tree (${problem}); trove cannot restore it. Add it to .troveignore (or --ignore) or make it relative and inside the tree`,
          { path: e.path, target: e.target },
        );
      }
      entries.push({ path: e.path, type: 'symlink', target: e.target });
    } else {
      walked.push(e);
      entries.push({ path: e.path, type: 'file', executable: e.executable, size: 0, chunks: [] });
      const hit = cache?.lookup(e.path, e);
      if (hit) chunksOf.set(e.path, hit.chunks);
      else {
        toHash.push(e);
        bytesTotal += e.size;
      }
      if (++scanned % 1000 === 0) onProgress({ phase: 'scan', done: 0, total: 0, files: scanned });
    }
  }
  onProgress({ phase: 'scan', done: 0, total: 0, files: scanned });

  const retained = new Map<string, Buffer>();
  let retainedBytes = 0;
  let bytesHashed = 0;
  let filesHashed = 0;
  const hashed = new Map<string, { size: number; executable: boolean }>();
  await mapLimit(toHash, options.concurrency, async (f) => {
    const { chunks, stat } = await readChunks(
      f.abs,
      f.path,
      (digest, raw) => {
        bytesHashed += raw.length;
        if (retainedBytes + raw.length <= options.retainBytes && !retained.has(digest)) {
          retained.set(digest, Buffer.from(raw));
          retainedBytes += raw.length;
        }
        onProgress({ phase: 'hash', done: bytesHashed, total: bytesTotal, files: filesHashed });
      },
      { signal, sizeHint: f.size, previous: cache?.previousChunks(f.path) },
    );
    filesHashed++;
    chunksOf.set(f.path, chunks);
    hashed.set(f.path, { size: stat.size, executable: stat.executable });
    cache?.set(f.path, { ...stat, chunks });
  });
  onProgress({ phase: 'hash', done: bytesHashed, total: bytesTotal, files: filesHashed });

  const files: ScannedFile[] = [];
  let i = 0;
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    const w = walked[i++]!;
    const chunks = chunksOf.get(entry.path) ?? [];
    entry.chunks = chunks;
    entry.size = chunks.reduce((n, c) => n + c.size, 0);
    const h = hashed.get(entry.path);
    if (h) entry.executable = h.executable;
    files.push({ path: entry.path, abs: w.abs, size: entry.size, chunks });
  }
  return { entries, files, filesHashed, bytesHashed, retained };
}

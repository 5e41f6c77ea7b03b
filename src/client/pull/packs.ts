import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { sha256Hex } from '../../core/digest.js';
import type { Digest, FileEntry, ManifestEntry } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import type { StatCache } from '../stat-cache.js';
import { fetchChunks } from './fetch-chunks.js';
import { findLocalChunks, type LocalChunk } from './local-chunks.js';
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
}

/**
 * Builds a version's tree from chunks: the skeleton first (dirs, symlinks,
 * empty files), then every chunk written at each offset where the manifest
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
  for (const e of options.entries) {
    if (e.type === 'dir') tree.dir(e.path);
    else if (e.type === 'symlink') tree.symlink(e.path, e.target);
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
    return { chunksFetched: fetched.chunks, chunksReused };
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

/** Max files kept open while placing chunks (a large file gets many chunks in a row). */
const OPEN_FILES = 64;

/** Writes a chunk at every place the manifest puts it, keeping a few files open. */
class PlacementWriter {
  /** Digests already written everywhere they belong. */
  readonly done = new Set<Digest>();
  private readonly fds = new Map<number, number>();
  private readonly created: Uint8Array;

  constructor(
    private readonly tree: SafeTree,
    private readonly files: readonly FileEntry[],
    private readonly places: ReadonlyMap<Digest, number[]>,
    private readonly sizes: ReadonlyMap<Digest, number>,
    private readonly onWritten: ((n: number) => void) | undefined,
  ) {
    this.created = new Uint8Array(files.length);
  }

  place(digest: Digest, raw: Buffer): void {
    if (this.done.has(digest)) return;
    // The bytes were verified against the digest; a manifest giving that digest another size lies.
    if (raw.length !== this.sizes.get(digest))
      throw new TroveError(
        'digest_mismatch',
        `chunk ${digest} is ${raw.length} bytes, the manifest says ${this.sizes.get(digest)}`,
        { digest },
      );
    const list = this.places.get(digest) ?? [];
    for (let i = 0; i < list.length; i += 2) {
      const index = list[i]!;
      const single = this.files[index]!.chunks.length === 1;
      // A single-chunk file is complete after this write: no point caching its fd.
      const fd = single ? this.create(index) : this.fd(index);
      const offset = list[i + 1]!;
      try {
        let at = 0;
        while (at < raw.length) at += writeSync(fd, raw, at, raw.length - at, offset + at);
      } finally {
        if (single) closeSync(fd);
      }
      this.onWritten?.(raw.length);
    }
    this.done.add(digest);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private fd(index: number): number {
    const open = this.fds.get(index);
    if (open !== undefined) return open;
    if (this.fds.size >= OPEN_FILES) {
      const [oldest, fd] = this.fds.entries().next().value as [number, number];
      closeSync(fd);
      this.fds.delete(oldest);
    }
    const fd = this.created[index]
      ? openSync(
          this.tree.abs(this.files[index]!.path),
          constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0),
        )
      : this.create(index);
    this.fds.set(index, fd);
    return fd;
  }

  /** Creates a file on its first write (through SafeTree: exclusive, exact mode). */
  private create(index: number): number {
    const f = this.files[index]!;
    const fd = this.tree.openFile(f.path, f.executable);
    this.created[index] = 1;
    return fd;
  }
}

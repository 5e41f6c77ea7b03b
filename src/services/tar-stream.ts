import { createHash } from 'node:crypto';
import { ManifestDecoder } from '../core/manifest.js';
import { TAR_END, tarHeader, tarPadding } from '../core/tar.js';
import type { Digest, ManifestEntry } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { fetchChunks } from './chunk-fetch.js';
import { manifestKey } from './keys.js';

/** Bounds of one look-ahead window (memory is about two windows of raw bytes). */
export interface WindowLimits {
  /** Raw chunk bytes per window. */
  maxBytes: number;
  /** Chunk references per window (also bounds the index query). */
  maxChunks: number;
}

/**
 * Defaults: two 8 MiB windows in memory (one written, one prefetched), which
 * also bounds the range reads in flight. Measured with `trove worker` on the
 * 322 MB medium workspace (PostgreSQL, local blobs, noisy 2-core VM): 32 MiB
 * windows peaked at 464 MB RSS and built in 2.9-3.0 s, 16 MiB at 323-347 MB
 * in 3.9-5.1 s, 8 MiB at 262-268 MB in 3.1-5.0 s. The build runs after the
 * commit, so nobody waits on it; memory is what limits workers per machine.
 */
export const DEFAULT_WINDOW: WindowLimits = { maxBytes: 8 * 1024 * 1024, maxChunks: 10_000 };

/** A slice of one entry's chunks inside a window; first/last say whether it opens/closes the entry. */
interface Piece {
  entry: ManifestEntry;
  from: number;
  to: number;
  first: boolean;
  last: boolean;
}

/** Streams a manifest's entries, verifying its SHA-256 against the version id at the end. */
export async function* manifestEntries(
  blobs: BlobStore,
  tenant: string,
  versionId: Digest,
): AsyncGenerator<ManifestEntry> {
  const decoder = new ManifestDecoder();
  const hash = createHash('sha256');
  for await (const part of await blobs.get(manifestKey(tenant, versionId))) {
    hash.update(part as Uint8Array);
    yield* decoder.push(part as Uint8Array);
  }
  decoder.end();
  if (hash.digest('hex') !== versionId) {
    throw new TroveError('digest_mismatch', `manifest of ${versionId} does not match its id`);
  }
}

/** Cuts the entry stream into windows of bounded raw size; a big file spans several. */
async function* windows(
  entries: AsyncIterable<ManifestEntry>,
  limits: WindowLimits,
): AsyncGenerator<Piece[]> {
  let win: Piece[] = [];
  let bytes = 0;
  let count = 0;
  for await (const entry of entries) {
    const chunks = entry.type === 'file' ? entry.chunks : [];
    let from = 0;
    for (let j = 0; j < chunks.length; j++) {
      bytes += chunks[j]?.size ?? 0;
      count++;
      if (bytes >= limits.maxBytes || count >= limits.maxChunks) {
        win.push({ entry, from, to: j + 1, first: from === 0, last: j + 1 === chunks.length });
        yield win;
        win = [];
        bytes = 0;
        count = 0;
        from = j + 1;
      }
    }
    if (from < chunks.length || chunks.length === 0) {
      win.push({ entry, from, to: chunks.length, first: from === 0, last: true });
      count++;
      if (count >= limits.maxChunks) {
        yield win;
        win = [];
        bytes = 0;
        count = 0;
      }
    }
  }
  if (win.length > 0) yield win;
}

function header(entry: ManifestEntry, mtime: number): Uint8Array {
  switch (entry.type) {
    case 'dir':
      return tarHeader({ path: entry.path, type: 'dir', size: 0, mode: 0o755, mtime });
    case 'symlink':
      return tarHeader({
        path: entry.path,
        type: 'symlink',
        size: 0,
        mode: 0o777,
        mtime,
        linkname: entry.target,
      });
    case 'file':
      return tarHeader({
        path: entry.path,
        type: 'file',
        size: entry.size,
        mode: entry.executable ? 0o755 : 0o644,
        mtime,
      });
  }
}

/**
 * The uncompressed tar of a version, in manifest order. Chunks are fetched a
 * window at a time (one index query, coalesced range reads) with the next
 * window prefetched while the current one is written, so memory is bounded by
 * the window limits, never by a file or the tree (invariant 9).
 */
export async function* versionTar(
  deps: { metadata: MetadataStore; blobs: BlobStore },
  tenant: string,
  versionId: Digest,
  mtime: Date,
  limits: WindowLimits = DEFAULT_WINDOW,
): AsyncGenerator<Uint8Array> {
  const mtimeSeconds = Math.floor(mtime.getTime() / 1000);
  const source = windows(manifestEntries(deps.blobs, tenant, versionId), limits);
  const advance = async () => {
    const next = await source.next();
    if (next.done) return null;
    const digests = next.value.flatMap((p) =>
      p.entry.type === 'file' ? p.entry.chunks.slice(p.from, p.to).map((c) => c.digest) : [],
    );
    return { pieces: next.value, data: await fetchChunks(deps, tenant, digests) };
  };
  let pending = advance();
  // The prefetch may fail while the consumer is away; the await below rethrows it.
  pending.catch(() => undefined);
  let written = 0;
  for (let current = await pending; current !== null; current = await pending) {
    pending = advance();
    pending.catch(() => undefined);
    for (const piece of current.pieces) {
      const { entry } = piece;
      if (piece.first) {
        yield header(entry, mtimeSeconds);
        written = 0;
      }
      if (entry.type !== 'file') continue;
      for (const ref of entry.chunks.slice(piece.from, piece.to)) {
        const bytes = current.data.get(ref.digest);
        if (!bytes || bytes.length !== ref.size) {
          throw new TroveError(
            'internal',
            `chunk ${ref.digest} of ${entry.path} has the wrong size`,
          );
        }
        written += bytes.length;
        yield bytes;
      }
      if (piece.last) {
        if (written !== entry.size) {
          throw new TroveError(
            'internal',
            `${entry.path}: wrote ${written} of ${entry.size} bytes`,
          );
        }
        const pad = tarPadding(entry.size);
        if (pad.length > 0) yield pad;
      }
    }
  }
  yield TAR_END;
}

import { LIMITS } from '../../api/schemas.js';
import { mapLimit } from '../../core/concurrency.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { PackUploader } from './packer.js';
import type { PushProgress } from './progress.js';
import { readChunks } from './read-chunks.js';
import type { ScannedFile } from './scan.js';

/** Missing-chunk queries in flight (each carries up to 10k digests). */
const MISSING_CONCURRENCY = 3;

/** Options of uploadMissing. */
export interface UploadOptions {
  /** API client. */
  client: TroveClient;
  /** Upload session id. */
  session: string;
  /** The tree's files in manifest order. */
  files: readonly ScannedFile[];
  /** Chunk bytes kept from hashing. */
  retained: ReadonlyMap<string, Buffer>;
  /** Digests known to be stored already (the parent's chunks): never asked about. */
  known: ReadonlySet<string>;
  /** Pack uploads in flight. */
  concurrency: number;
  /** Target pack size. */
  packTargetSize: number;
  /** Chunks compressed concurrently. */
  compressConcurrency: number;
  /** Progress callback. */
  onProgress: (p: PushProgress) => void;
  /** Cancels the upload. */
  signal: AbortSignal | undefined;
}

/** What uploadMissing did. */
export interface UploadStats {
  /** Unique chunks referenced by the tree. */
  chunks: number;
  /** Chunks uploaded. */
  chunksUploaded: number;
  /** Pack bytes uploaded. */
  bytesUploaded: number;
  /** Packs uploaded. */
  packsUploaded: number;
}

/**
 * Asks the server which chunks it lacks (in batches), then packs and
 * uploads exactly those: first from the bytes kept while hashing, then by
 * re-reading only the files that contain the others.
 */
export async function uploadMissing(o: UploadOptions): Promise<UploadStats> {
  const sizes = new Map<string, number>();
  for (const f of o.files) for (const c of f.chunks) sizes.set(c.digest, c.size);
  const ask = [...sizes.keys()].filter((d) => !o.known.has(d));
  const needed = new Set<string>();
  const batches: string[][] = [];
  for (let i = 0; i < ask.length; i += LIMITS.maxDigestsPerRequest) {
    batches.push(ask.slice(i, i + LIMITS.maxDigestsPerRequest));
  }
  await mapLimit(batches, MISSING_CONCURRENCY, async (batch) => {
    o.signal?.throwIfAborted();
    for (const d of await o.client.missingChunks(o.session, batch, o.signal)) needed.add(d);
  });
  let total = 0;
  for (const d of needed) total += sizes.get(d) ?? 0;
  let done = 0;
  o.onProgress({ phase: 'upload', done, total, files: 0 });
  const uploader = new PackUploader({
    client: o.client,
    session: o.session,
    concurrency: o.concurrency,
    packTargetSize: o.packTargetSize,
    compressConcurrency: o.compressConcurrency,
    signal: o.signal,
    onPackUploaded: (raw) => {
      done += raw;
      o.onProgress({ phase: 'upload', done, total, files: uploader.packs });
    },
  });
  const chunksAsked = needed.size;
  try {
    await packNeeded(o, needed, uploader);
  } catch (err) {
    await uploader.settle();
    throw err;
  }
  return {
    chunks: sizes.size,
    chunksUploaded: chunksAsked,
    bytesUploaded: uploader.bytes,
    packsUploaded: uploader.packs,
  };
}

async function packNeeded(
  o: UploadOptions,
  needed: Set<string>,
  uploader: PackUploader,
): Promise<void> {
  for (const [digest, raw] of o.retained) {
    if (!needed.delete(digest)) continue;
    await uploader.add(digest, raw);
  }
  for (const f of o.files) {
    if (needed.size === 0) break;
    if (!f.chunks.some((c) => needed.has(c.digest))) continue;
    await readChunks(
      f.abs,
      f.path,
      async (digest, raw) => {
        if (!needed.delete(digest)) return;
        // No copy: read buffers are fresh per read and never reused (read-chunks.ts).
        await uploader.add(digest, raw);
      },
      { signal: o.signal, sizeHint: f.size },
    );
    const lost = f.chunks.find((c) => needed.has(c.digest));
    if (lost) {
      throw new TroveError(
        'invalid_request',
        `${f.path} changed while it was being pushed; push again`,
        { path: f.path },
      );
    }
  }
  await uploader.finish();
  if (needed.size > 0) {
    throw new TroveError('internal', `${needed.size} missing chunks were not found in the tree`);
  }
}

import type { StartUploadRequest, StartUploadResponse } from '../../api/schemas.js';
import type { Digest } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { commitVersion, type PushTotals } from './commit.js';
import type { PreparedDelta } from './manifest-delta.js';
import type { PushProgress } from './progress.js';
import type { ScanResult } from './scan.js';
import { uploadMissing } from './upload.js';

/** Options of deliver. */
export interface DeliverOptions {
  /** API client. */
  client: TroveClient;
  /** Storage pushed to. */
  storage: string;
  /** The new version's manifest. */
  manifest: { id: Digest; bytes: Buffer };
  /** The delta to offer instead of the manifest, if any. */
  delta: PreparedDelta | null;
  /** Parent, conflict rule and message recorded with the version. */
  record: Pick<StartUploadRequest, 'parent' | 'onConflict' | 'message'>;
  /** The scanned tree (files and the chunk bytes kept from hashing). */
  scan: Pick<ScanResult, 'files' | 'retained'>;
  /** Chunks the stat cache vouches are stored (the parent's): not asked about. */
  known: ReadonlySet<string>;
  /** Pack uploads in flight. */
  concurrency: number;
  /** Target pack size. */
  packTargetSize: number;
  /** Chunks compressed concurrently. */
  compressConcurrency: number;
  /** Added to as bytes go up (over both attempts when the first is retried). */
  totals: PushTotals;
  /** Progress callback. */
  onProgress: (p: PushProgress) => void;
  /** Cancels everything, waits between retries included. */
  signal: AbortSignal | undefined;
}

/** How the version reached the server. */
export interface Delivered {
  /** False when the version already existed (nothing uploaded). */
  created: boolean;
  /** Parent recorded with the version. */
  parent: string | null;
  /** Unique chunks in the tree. */
  chunks: number;
}

/**
 * Opens an upload session, uploads the chunks the server lacks, sends the
 * manifest and commits. When the server answers `missing_chunks` although
 * the stat cache vouched for some chunks (the server's data was reset or
 * collected), the whole thing runs once more asking about every chunk.
 */
export function deliver(o: DeliverOptions): Promise<Delivered> {
  return attempt(o, o.known, true);
}

async function attempt(
  o: DeliverOptions,
  known: ReadonlySet<string>,
  mayRetry: boolean,
): Promise<Delivered> {
  const start = await openSession(o);
  if (start.status === 'exists') {
    const unique = new Set(o.scan.files.flatMap((f) => f.chunks.map((c) => c.digest)));
    return { created: false, parent: start.version.parent, chunks: unique.size };
  }
  try {
    const up = await uploadMissing({
      client: o.client,
      session: start.session,
      files: o.scan.files,
      retained: o.scan.retained,
      known,
      concurrency: o.concurrency,
      packTargetSize: o.packTargetSize,
      compressConcurrency: o.compressConcurrency,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    o.totals.chunksUploaded += up.chunksUploaded;
    o.totals.bytesUploaded += up.bytesUploaded;
    o.totals.packsUploaded += up.packsUploaded;
    const done = await commitVersion({
      client: o.client,
      session: start.session,
      manifest: o.manifest.bytes,
      manifestUpload: start.manifestUpload,
      deltaUpload: start.deltaUpload,
      delta: o.delta,
      totals: o.totals,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    return { created: done.created, parent: done.version.parent, chunks: up.chunks };
  } catch (err) {
    // The stat cache vouched for chunks the server does not hold (its data
    // was reset or collected): ask about every chunk this time.
    const distrust =
      mayRetry && known.size > 0 && err instanceof TroveError && err.code === 'missing_chunks';
    if (!distrust) throw err;
    return attempt(o, new Set(), false);
  }
}

function openSession(o: DeliverOptions): Promise<StartUploadResponse> {
  const { delta } = o;
  return o.client.startUpload(
    o.storage,
    {
      version: o.manifest.id,
      manifestSize: o.manifest.bytes.length,
      ...o.record,
      ...(delta !== null
        ? { manifestDelta: { base: delta.base, size: delta.bytes.length, sha256: delta.sha256 } }
        : {}),
    },
    o.signal,
  );
}

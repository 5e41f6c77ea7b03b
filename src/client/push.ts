import { encodeManifest } from '../core/manifest.js';
import { TroveError } from '../errors.js';
import type { TroveClient } from './api-client.js';
import { LocalState } from './local-state.js';
import type { PushTotals } from './push/commit.js';
import { deliver } from './push/deliver.js';
import { prepareDelta } from './push/manifest-delta.js';
import type { PushProgress } from './push/progress.js';
import { scanTree } from './push/scan.js';

export type { PushPhase, PushProgress } from './push/progress.js';

/** Options of push. */
export interface PushOptions {
  /** API client (its request count is included in the result). */
  client: TroveClient;
  /** Storage to push to (created by the first push). */
  storage: string;
  /** Root of the tree to push. */
  dir: string;
  /** Message recorded with the version. */
  message?: string;
  /** Expected head; default: the storage's current head (null when the storage does not exist). */
  parent?: string | null;
  /** Become the new head even if head moved (onConflict 'force'). */
  force?: boolean;
  /** Extra gitignore-syntax patterns, relative to the root. */
  ignore?: string[];
  /** Stat cache directory (see defaultCacheDir); without one every file is read and hashed. */
  cacheDir?: string;
  /** Pack uploads in flight (default 4). */
  concurrency?: number;
  /** Target pack size in bytes (default 16 MiB). */
  packTargetSize?: number;
  /** Progress events. */
  onProgress?: (p: PushProgress) => void;
  /** Warnings such as skipped special files. */
  onWarning?: (message: string) => void;
  /** Cancels the push. */
  signal?: AbortSignal;
}

/** What a push did. */
export interface PushResult {
  /** The version id (SHA-256 of the manifest). */
  version: string;
  /** The storage pushed to. */
  storage: string;
  /** False when the version already existed (nothing uploaded). */
  created: boolean;
  /** Parent recorded with the version. */
  parent: string | null;
  /** Files in the tree. */
  files: number;
  /** Total bytes of the files. */
  size: number;
  /** Files read and hashed (the others came from the stat cache). */
  filesHashed: number;
  /** Bytes read and hashed. */
  bytesHashed: number;
  /** Unique chunks in the tree. */
  chunks: number;
  /** Chunks uploaded. */
  chunksUploaded: number;
  /** Bytes actually PUT: packs plus manifest (or manifest delta). */
  bytesUploaded: number;
  /** Bytes PUT for the manifest: its delta against the parent when the server took one, else the whole manifest. */
  manifestBytesUploaded: number;
  /** Packs uploaded. */
  packsUploaded: number;
  /** HTTP requests made (API and presigned). */
  requests: number;
  /** Wall time in ms. */
  durationMs: number;
}

const MIB = 1024 * 1024;
/**
 * Chunk bytes kept from hashing so small changes upload without re-reading
 * files. A typical edit's new chunks fit; a bigger change re-reads its files
 * (from the page cache), which costs less than the 64 MiB this used to hold.
 */
const RETAIN_BYTES = 16 * MIB;
/**
 * Target pack size. Memory holds about (uploads in flight + 2) packs, so this
 * times the upload concurrency is what bounds a cold push: 16 MiB x 4 peaked
 * at 278 MiB RSS on a 322 MB tree where 32 MiB x 4 peaked at 290-333 MiB,
 * with no measurable change in push time.
 */
const PACK_TARGET_SIZE = 16 * MIB;
/** Files hashed concurrently and chunks compressed concurrently (the threadpool has 4 threads). */
const READ_CONCURRENCY = 4;
const COMPRESS_CONCURRENCY = 4;

/**
 * Pushes a directory tree as a new version of a storage, in stages: scan
 * (walk, stat cache, hash), delta (the manifest against the parent's),
 * deliver (session, missing chunks, packs, manifest, commit; see deliver.ts)
 * and record (the tree's local state vouches for the new version).
 */
export async function push(options: PushOptions): Promise<PushResult> {
  const started = performance.now();
  const { client, storage } = options;
  let requests = 0;
  const unlisten = client.addRequestListener(() => {
    requests++;
  });
  try {
    const local = await LocalState.open({
      cacheDir: options.cacheDir,
      root: options.dir,
      server: client.baseUrl,
      storage,
    });
    const result = await pushTree(options, local);
    return { ...result, requests, durationMs: performance.now() - started };
  } finally {
    unlisten();
  }
}

async function pushTree(
  options: PushOptions,
  local: LocalState | null,
): Promise<Omit<PushResult, 'requests' | 'durationMs'>> {
  const { client, storage, signal } = options;
  const onProgress = options.onProgress ?? (() => {});
  // Captured before the scan updates the cache: these are the chunks of syncedVersion.
  const synced = local?.syncedVersion ?? null;
  const syncedChunks = local?.syncedChunks() ?? new Set<string>();
  const scan = await scanTree({
    dir: options.dir,
    ignore: options.ignore ?? [],
    cache: local?.cache ?? null,
    retainBytes: RETAIN_BYTES,
    concurrency: READ_CONCURRENCY,
    onProgress,
    onWarning: options.onWarning ?? (() => {}),
    signal,
  });
  let committed = false;
  try {
    // Read after the scan, so the head is as fresh as possible when the upload starts.
    const parent =
      options.parent !== undefined ? options.parent : await currentHead(client, storage, signal);
    const manifest = encodeManifest(scan.entries);
    const delta = await prepareDelta({ client, storage, parent, manifest, local, signal });
    const totals: PushTotals = {
      chunksUploaded: 0,
      bytesUploaded: 0,
      packsUploaded: 0,
      manifestBytesUploaded: 0,
    };
    const done = await deliver({
      client,
      storage,
      manifest,
      delta,
      record: {
        parent,
        onConflict: options.force ? 'force' : 'fail',
        message: options.message ?? '',
      },
      scan,
      // The parent is committed, so every chunk it references is stored: no need to ask.
      known: parent !== null && synced === parent ? syncedChunks : new Set<string>(),
      concurrency: options.concurrency ?? 4,
      packTargetSize: options.packTargetSize ?? PACK_TARGET_SIZE,
      compressConcurrency: COMPRESS_CONCURRENCY,
      totals,
      onProgress,
      signal,
    });
    committed = true;
    await local?.recordPush(
      scan.files.map((f) => f.path),
      manifest.id,
      manifest.bytes,
    );
    return {
      version: manifest.id,
      storage,
      files: manifest.header.files,
      size: manifest.header.size,
      filesHashed: scan.filesHashed,
      bytesHashed: scan.bytesHashed,
      ...totals,
      ...done,
    };
  } catch (err) {
    // Keep the hashing work, but promise nothing about what the server holds.
    if (!committed) await local?.forgetSync();
    throw err;
  }
}

async function currentHead(
  client: TroveClient,
  storage: string,
  signal: AbortSignal | undefined,
): Promise<string | null> {
  try {
    return (await client.getStorage(storage, signal)).head;
  } catch (err) {
    if (err instanceof TroveError && err.code === 'storage_not_found') return null;
    throw err;
  }
}

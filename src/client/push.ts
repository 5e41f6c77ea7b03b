import { encodeManifest } from '../core/manifest.js';
import { TroveError } from '../errors.js';
import type { TroveClient } from './api-client.js';
import { DELTA_REJECTED, prepareDelta, saveLocalCopy, sendDelta } from './push/manifest-delta.js';
import { delay } from './push/pool.js';
import type { PushProgress } from './push/progress.js';
import { scanTree } from './push/scan.js';
import { uploadMissing } from './push/upload.js';
import { StatCache } from './stat-cache.js';

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

/** Pushes a directory tree as a new version of a storage. */
export async function push(options: PushOptions): Promise<PushResult> {
  const started = performance.now();
  const { client, storage, signal } = options;
  const onProgress = options.onProgress ?? (() => {});
  let requests = 0;
  const unlisten = client.addRequestListener(() => {
    requests++;
  });
  let cache: StatCache | null = null;
  let committed = false;
  let scanned = false;
  try {
    if (options.cacheDir !== undefined) {
      cache = await StatCache.open({
        cacheDir: options.cacheDir,
        root: options.dir,
        server: client.baseUrl,
        storage,
      });
    }
    // Captured before the scan updates the cache: these are the chunks of syncedVersion.
    const synced = cache?.syncedVersion ?? null;
    const syncedDigests = synced !== null && cache !== null ? cache.digests() : new Set<string>();
    const scan = await scanTree({
      dir: options.dir,
      ignore: options.ignore ?? [],
      cache,
      retainBytes: RETAIN_BYTES,
      concurrency: READ_CONCURRENCY,
      onProgress,
      onWarning: options.onWarning ?? (() => {}),
      signal,
    });
    scanned = true;
    // Read after the scan, so the head is as fresh as possible when the upload starts.
    const parent =
      options.parent !== undefined ? options.parent : await currentHead(client, storage);
    // The parent is committed, so every chunk it references is stored: no need to ask.
    let known = parent !== null && synced === parent ? syncedDigests : new Set<string>();
    const manifest = encodeManifest(scan.entries);
    const localCopy = cache === null ? null : cache.file.replace(/\.json$/, '.manifest');
    const delta = await prepareDelta({
      client,
      storage,
      parent,
      manifest,
      localCopy,
      signal,
    });
    const base = {
      version: manifest.id,
      storage,
      files: manifest.header.files,
      size: manifest.header.size,
      filesHashed: scan.filesHashed,
      bytesHashed: scan.bytesHashed,
    };
    const totals = {
      chunksUploaded: 0,
      bytesUploaded: 0,
      packsUploaded: 0,
      manifestBytesUploaded: 0,
    };
    for (let attempt = 1; ; attempt++) {
      const start = await client.startUpload(storage, {
        version: manifest.id,
        manifestSize: manifest.bytes.length,
        parent,
        onConflict: options.force ? 'force' : 'fail',
        message: options.message ?? '',
        ...(delta !== null
          ? { manifestDelta: { base: delta.base, size: delta.bytes.length, sha256: delta.sha256 } }
          : {}),
      });
      if (start.status === 'exists') {
        committed = true;
        await finishCache(cache, scan.files, manifest.id);
        await saveLocalCopy(localCopy, manifest.bytes);
        const unique = new Set(scan.files.flatMap((f) => f.chunks.map((c) => c.digest)));
        return {
          ...base,
          ...totals,
          created: false,
          parent: start.version.parent,
          chunks: unique.size,
          requests,
          durationMs: performance.now() - started,
        };
      }
      try {
        const up = await uploadMissing({
          client,
          session: start.session,
          files: scan.files,
          retained: scan.retained,
          known,
          concurrency: options.concurrency ?? 4,
          packTargetSize: options.packTargetSize ?? PACK_TARGET_SIZE,
          compressConcurrency: COMPRESS_CONCURRENCY,
          onProgress,
          signal,
        });
        totals.chunksUploaded += up.chunksUploaded;
        totals.bytesUploaded += up.bytesUploaded;
        totals.packsUploaded += up.packsUploaded;
        const manifestUpload = start.manifestUpload;
        const sendManifest = async (): Promise<void> => {
          // No URL: the server holds this manifest already (a repair push).
          if (manifestUpload === undefined) return;
          const put = await client.send(manifestUpload, {
            body: () => manifest.bytes,
            signal,
          });
          await put.arrayBuffer();
          totals.bytesUploaded += manifest.bytes.length;
          totals.manifestBytesUploaded += manifest.bytes.length;
        };
        const usedDelta =
          delta !== null && manifestUpload !== undefined && start.deltaUpload !== undefined
            ? await sendDelta(client, start.deltaUpload, delta, totals, signal)
            : false;
        if (!usedDelta) await sendManifest();
        let done: Awaited<ReturnType<typeof commitLoop>>;
        try {
          done = await commitLoop(client, start.session, onProgress, signal);
        } catch (err) {
          // The server rejected the rebuilt manifest (and deleted the delta): send it whole.
          if (!usedDelta || !(err instanceof TroveError) || !DELTA_REJECTED.has(err.code))
            throw err;
          await sendManifest();
          done = await commitLoop(client, start.session, onProgress, signal);
        }
        committed = true;
        await finishCache(cache, scan.files, manifest.id);
        await saveLocalCopy(localCopy, manifest.bytes);
        return {
          ...base,
          ...totals,
          created: done.created,
          parent: done.version.parent,
          chunks: up.chunks,
          requests,
          durationMs: performance.now() - started,
        };
      } catch (err) {
        // The stat cache vouched for chunks the server does not hold (its data
        // was reset or collected): ask about every chunk this time.
        const distrust =
          attempt === 1 &&
          known.size > 0 &&
          err instanceof TroveError &&
          err.code === 'missing_chunks';
        if (!distrust) throw err;
        known = new Set<string>();
      }
    }
  } catch (err) {
    if (cache !== null && scanned && !committed) {
      // Keep the hashing work, but promise nothing about what the server holds.
      cache.syncedVersion = null;
      await cache.save().catch(() => {});
    }
    throw err;
  } finally {
    unlisten();
  }
}

async function finishCache(
  cache: StatCache | null,
  files: readonly { path: string }[],
  version: string,
): Promise<void> {
  if (cache === null) return;
  cache.retainOnly(new Set(files.map((f) => f.path)));
  cache.syncedVersion = version;
  await cache.save();
}

async function currentHead(client: TroveClient, storage: string): Promise<string | null> {
  try {
    return (await client.getStorage(storage)).head;
  } catch (err) {
    if (err instanceof TroveError && err.code === 'storage_not_found') return null;
    throw err;
  }
}

/** Calls commit until the server stops answering 'verifying'. */
async function commitLoop(
  client: TroveClient,
  session: string,
  onProgress: (p: PushProgress) => void,
  signal: AbortSignal | undefined,
) {
  for (let i = 0; ; i++) {
    signal?.throwIfAborted();
    const res = await client.commit(session);
    if (res.status === 'committed') {
      onProgress({ phase: 'commit', done: 1, total: 1, files: 0 });
      return res;
    }
    onProgress({ phase: 'commit', done: res.packsVerified, total: res.packsTotal, files: 0 });
    await delay(Math.min(500, 25 * 2 ** i), signal);
  }
}

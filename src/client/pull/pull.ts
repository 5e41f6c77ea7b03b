import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ArchiveSummary, VersionDetail } from '../../api/schemas.js';
import type { ArchiveFormat } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { StatCache } from '../stat-cache.js';
import { extractArchive } from './archive.js';
import { fetchManifest } from './manifest.js';
import { buildFromPacks } from './packs.js';
import { recordTree } from './record.js';
import { makeTempDir, recoverTarget, swapIn, targetState } from './swap.js';

/** Options of pull. */
export interface PullOptions {
  /** API client. */
  client: TroveClient;
  /** Storage to pull from. */
  storage: string;
  /** Version reference: 'latest' (default), a full id or a unique prefix. */
  ref?: string;
  /** Directory to replace with the version's tree. */
  target: string;
  /** Stat cache directory; without it no cache is read or written. */
  cacheDir?: string;
  /** Server identity for the stat cache key (default client.baseUrl). */
  server?: string;
  /** Preferred archive format (default tar.zst, then tar.gz). */
  format?: ArchiveFormat;
  /** False: never use the archive, always reconstruct from packs. */
  archive?: boolean;
  /** Range GETs in flight on the packs path (default 8). */
  concurrency?: number;
  /** Called as the pull advances. */
  onProgress?: (p: PullProgress) => void;
  /** Cancels the pull (the target is left untouched). */
  signal?: AbortSignal;
}

/** A progress report. */
export interface PullProgress {
  /** What the pull is doing. */
  phase: 'resolve' | 'manifest' | 'archive' | 'packs' | 'swap' | 'done';
  /** Bytes received so far (manifest, archive, ranges). */
  bytesDownloaded: number;
  /** File bytes written into the new tree so far. */
  bytesWritten: number;
  /** File bytes of the version (0 until the manifest is known). */
  totalBytes: number;
}

/** What a pull did. */
export interface PullResult {
  /** Full id of the version pulled. */
  version: string;
  /** Storage pulled from. */
  storage: string;
  /** Where the bytes came from. */
  source: 'archive' | 'packs';
  /** Files in the tree. */
  files: number;
  /** File bytes in the tree. */
  size: number;
  /** Bytes received from object storage (archive or ranges) plus the manifest. */
  bytesDownloaded: number;
  /** Unique chunks downloaded (0 on the archive path). */
  chunksFetched: number;
  /** Unique chunks copied from the previous local tree. */
  chunksReused: number;
  /** HTTP requests made (API calls and presigned GETs, retries excluded). */
  requests: number;
  /** Wall time in milliseconds. */
  durationMs: number;
}

/** Least time between two progress reports within one phase. */
const PROGRESS_INTERVAL_MS = 200;

/** Archive errors after which the pull falls back to packs rather than failing. */
const ARCHIVE_FALLBACK = new Set(['blob_not_found', 'url_expired', 'signature_invalid']);

/**
 * Replaces `target` with a version's tree, atomically or not at all (see
 * swap.ts). One archive GET when the archive is ready and there is nothing
 * local to reuse; otherwise the chunks the local tree lacks, from packs.
 * Everything is verified against the manifest, whose digest is the version id.
 */
export async function pull(options: PullOptions): Promise<PullResult> {
  const started = performance.now();
  let requests = 0;
  // Counts every HTTP request (retries included) made on this client while the pull runs.
  const stopCounting = options.client.addRequestListener(() => {
    requests++;
  });
  try {
    const result = await pullTree(options);
    return { ...result, requests, durationMs: Math.round(performance.now() - started) };
  } finally {
    stopCounting();
  }
}

async function pullTree(
  options: PullOptions,
): Promise<Omit<PullResult, 'requests' | 'durationMs'>> {
  const { client, storage, signal } = options;
  const target = resolve(options.target);
  const progress: PullProgress = {
    phase: 'resolve',
    bytesDownloaded: 0,
    bytesWritten: 0,
    totalBytes: 0,
  };
  const report = (phase: PullProgress['phase']): void => {
    progress.phase = phase;
    lastReport = performance.now();
    options.onProgress?.({ ...progress });
  };
  let lastReport = 0;
  const tick = (): void => {
    const now = performance.now();
    if (options.onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) report(progress.phase);
  };
  const onBytes = (n: number): void => {
    progress.bytesDownloaded += n;
    tick();
  };
  const onWritten = (n: number): void => {
    progress.bytesWritten += n;
    tick();
  };

  await recoverTarget(target);
  const state = await targetState(target);
  report('resolve');
  const version = await client.getVersion(storage, options.ref ?? 'latest');
  const cache = options.cacheDir
    ? await StatCache.open({
        cacheDir: options.cacheDir,
        root: target,
        server: options.server ?? client.baseUrl,
        storage,
      })
    : null;
  const archive =
    options.archive === false || state === 'nonempty' ? null : pickArchive(version, options.format);

  signal?.throwIfAborted();
  report('manifest');
  const manifest = await fetchManifest(client, version, signal);
  progress.bytesDownloaded += manifest.bytes;
  progress.totalBytes = manifest.header.size;

  let source: PullResult['source'] = 'packs';
  let chunksFetched = 0;
  let chunksReused = 0;
  let temp = await makeTempDir(target);
  try {
    let built = false;
    if (archive?.download) {
      report('archive');
      try {
        await extractArchive({
          client,
          download: archive.download,
          format: archive.format,
          root: temp,
          entries: manifest.entries,
          onBytes,
          onWritten,
          ...(signal ? { signal } : {}),
        });
        source = 'archive';
        built = true;
      } catch (err) {
        if (!(err instanceof TroveError && ARCHIVE_FALLBACK.has(err.code))) throw err;
        // The archive went away (GC, expiry) after we were told about it: packs still work.
        await rm(temp, { recursive: true, force: true });
        temp = await makeTempDir(target);
      }
    }
    if (!built) {
      report('packs');
      const r = await buildFromPacks({
        client,
        storage,
        version: version.id,
        entries: manifest.entries,
        root: temp,
        oldRoot: state === 'nonempty' ? target : null,
        cache,
        onBytes,
        onWritten,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        ...(signal ? { signal } : {}),
      });
      chunksFetched = r.chunksFetched;
      chunksReused = r.chunksReused;
    }
    signal?.throwIfAborted();
    report('swap');
    await swapIn(temp, target, state);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  if (cache) await recordTree(cache, target, version.id, manifest.entries);
  report('done');
  return {
    version: version.id,
    storage,
    source,
    files: manifest.header.files,
    size: manifest.header.size,
    bytesDownloaded: progress.bytesDownloaded,
    chunksFetched,
    chunksReused,
  };
}

/** The ready archive to use: the requested format, else tar.zst, else tar.gz. */
function pickArchive(
  version: VersionDetail,
  format: ArchiveFormat | undefined,
): ArchiveSummary | null {
  const ready = version.archives.filter((a) => a.state === 'ready' && a.download);
  const order: ArchiveFormat[] = format ? [format] : ['tar.zst', 'tar.gz'];
  for (const f of order) {
    const a = ready.find((x) => x.format === f);
    if (a) return a;
  }
  return null;
}

import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ArchiveSummary, VersionDetail } from '../../api/schemas.js';
import type { ArchiveFormat, ManifestEntry } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { LocalState } from '../local-state.js';
import type { StatCache } from '../stat-cache.js';
import { extractArchive, type PendingArchive, startArchiveGet } from './archive.js';
import { type FetchedManifest, fetchManifest } from './manifest.js';
import { fetchManifestViaDelta } from './manifest-delta-fetch.js';
import { buildFromPacks, type PacksBuildResult } from './packs.js';
import { ProgressTracker, type PullProgress } from './progress.js';
import { makeTempDir, recoverTarget, swapIn, type TargetState, targetState } from './swap.js';

export type { PullProgress } from './progress.js';

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
  /** Preferred archive format; another ready format is used when it is not ready (default order: tar.zst, tar.gz). */
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
  /** Unchanged files taken over from the previous tree without copying (hard link or reflink). */
  filesAdopted: number;
  /** HTTP requests made while the pull ran (API calls and presigned GETs, retries included). */
  requests: number;
  /** Wall time in milliseconds. */
  durationMs: number;
}

/** Archive errors after which the pull falls back to packs rather than failing. */
const ARCHIVE_FALLBACK = new Set([
  'blob_not_found',
  'url_expired',
  'signature_invalid',
  'unreachable',
  'unavailable',
]);

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
  const progress = new ProgressTracker(options.onProgress);
  progress.phase('resolve');
  await recoverTarget(target);
  const state = await targetState(target);
  const [version, local] = await Promise.all([
    client.getVersion(storage, options.ref ?? 'latest', signal),
    LocalState.open({
      cacheDir: options.cacheDir || undefined,
      root: target,
      server: options.server ?? client.baseUrl,
      storage,
    }),
  ]);
  const cache = local?.cache ?? null;

  const archive =
    options.archive === false || state === 'nonempty' ? null : pickArchive(version, options.format);
  // Started before the manifest is fetched so the two round trips overlap (cold restores).
  const pending = archive?.download
    ? startArchiveGet(client, archive.download, archive.format, signal)
    : null;
  const temp: { path: string } = { path: '' };
  let manifest: FetchedManifest;
  let built: Built & Adoption;
  try {
    progress.phase('manifest');
    // A target holding a version this client pulled or pushed: fetch only the
    // manifest delta from it (merged locally, verified against the version id).
    const base = local && state === 'nonempty' ? await local.manifestBase() : null;
    manifest = base
      ? await fetchManifestViaDelta(client, storage, version, base, signal)
      : await fetchManifest(client, version, signal);
    progress.state.bytesDownloaded += manifest.bytes;
    progress.state.totalBytes = manifest.header.size;
    temp.path = await makeTempDir(target);
    const ctx = { target, state, version, entries: manifest.entries, cache, temp, progress };
    built = await build(options, ctx, pending);
    signal?.throwIfAborted();
    progress.phase('swap');
    // Hard-linked files are still the target's too: anything written through it since shows here.
    built.recheck();
    await swapIn(temp.path, target, state);
  } finally {
    pending?.abort();
    if (temp.path !== '') await rm(temp.path, { recursive: true, force: true });
  }
  await local?.recordPull(target, version.id, manifest, built.adopted);
  progress.phase('done');
  return {
    version: version.id,
    storage,
    files: manifest.header.files,
    size: manifest.header.size,
    bytesDownloaded: progress.state.bytesDownloaded,
    source: built.source,
    chunksFetched: built.chunksFetched,
    chunksReused: built.chunksReused,
    filesAdopted: built.adopted.size,
  };
}

/** How the new tree was built. */
type Built = Pick<PullResult, 'source' | 'chunksFetched' | 'chunksReused'>;
/** Files taken over from the old tree, and the check to run before the swap (see adopt.ts). */
type Adoption = Pick<PacksBuildResult, 'adopted' | 'recheck'>;
const NO_ADOPTION: Adoption = { adopted: new Map(), recheck: () => undefined };

/** What build needs besides the options. */
interface BuildContext {
  target: string;
  state: TargetState;
  version: VersionDetail;
  entries: readonly ManifestEntry[];
  cache: StatCache | null;
  /** The temp dir; replaced by a fresh one when a failed archive attempt is abandoned. */
  temp: { path: string };
  progress: ProgressTracker;
}

/**
 * Builds the tree in the temp dir: from the archive when one is ready and
 * nothing local can be reused, else (or when the archive cannot be fetched)
 * from packs, reusing the chunks of the current target.
 */
async function build(
  options: PullOptions,
  ctx: BuildContext,
  pending: PendingArchive | null,
): Promise<Built & Adoption> {
  const { client, signal } = options;
  const { progress, temp } = ctx;
  if (pending) {
    progress.phase('archive');
    try {
      await extractArchive({
        pending,
        root: temp.path,
        entries: ctx.entries,
        onBytes: progress.downloaded,
        onWritten: progress.written,
        ...(signal ? { signal } : {}),
      });
      return { source: 'archive', chunksFetched: 0, chunksReused: 0, ...NO_ADOPTION };
    } catch (err) {
      if (!(err instanceof TroveError && ARCHIVE_FALLBACK.has(err.code))) throw err;
      // The archive went away (GC, expiry) or its download broke off: packs still work.
      await rm(temp.path, { recursive: true, force: true });
      temp.path = await makeTempDir(ctx.target);
      progress.state.bytesWritten = 0;
    }
  }
  progress.phase('packs');
  const r = await buildFromPacks({
    client,
    storage: options.storage,
    version: ctx.version.id,
    entries: ctx.entries,
    root: temp.path,
    oldRoot: ctx.state === 'nonempty' ? ctx.target : null,
    cache: ctx.cache,
    onBytes: progress.downloaded,
    onWritten: progress.written,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(signal ? { signal } : {}),
  });
  return { source: 'packs', ...r };
}

/** The ready archive to use: the preferred format if ready, else tar.zst, else tar.gz. */
function pickArchive(
  version: VersionDetail,
  format: ArchiveFormat | undefined,
): ArchiveSummary | null {
  const ready = version.archives.filter((a) => a.state === 'ready' && a.download);
  // zstd first: it decompresses several times faster than gzip.
  const order: ArchiveFormat[] = ['tar.zst', 'tar.gz'];
  if (format) order.sort((a, b) => Number(b === format) - Number(a === format));
  for (const f of order) {
    const a = ready.find((x) => x.format === f);
    if (a) return a;
  }
  return null;
}

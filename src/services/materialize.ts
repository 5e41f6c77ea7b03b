import { pipeline, Readable, type Transform } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import type { ArchiveFormat } from '../core/types.js';
import { createZstdCompressStream } from '../core/zstd-stream.js';
import type { JobData } from '../ports/job-queue.js';
import type { MaterializeEvent, ServiceDeps } from './deps.js';
import { archiveKey } from './keys.js';
import { DEFAULT_WINDOW, versionTar, type WindowLimits } from './tar-stream.js';

/**
 * gzip level of tar.gz archives. Measured (node:zlib, one core, 59 MB tar of
 * JS/TS packages and wasm; docs/api.md "Archives"): level 1 105 MB/s 29.6%,
 * 4 81 MB/s 26.7%, 6 45 MB/s 25.7%. Level 4 keeps the archive within 4% of
 * level 6 at 1.8x its speed; an archive is built once and downloaded often,
 * so bytes matter more than the extra 15% level 1 would buy in build time.
 */
export const GZIP_LEVEL = 4;
/** zstd level of tar.zst archives. */
export const ZSTD_LEVEL = 3;

const CONTENT_TYPE: Record<ArchiveFormat, string> = {
  'tar.gz': 'application/gzip',
  'tar.zst': 'application/zstd',
};

/** A compressor for an archive format. */
export function archiveCompressor(format: ArchiveFormat, gzipLevel = GZIP_LEVEL): Transform {
  if (format === 'tar.gz') {
    return createGzip({
      level: gzipLevel,
      chunkSize: 64 * 1024,
      strategy: constants.Z_DEFAULT_STRATEGY,
    });
  }
  return createZstdCompressStream({ level: ZSTD_LEVEL });
}

/**
 * The materialize job (idempotent; a job may run twice): builds the archive
 * of a version in one format, streaming tar → compressor → blob store, and
 * records its size and SHA-256. A failure marks the row failed and rethrows
 * so the queue retries with backoff. Every outcome, with its duration and
 * size, goes to `deps.events` (metrics, worker logs).
 */
export async function materializeArchive(
  deps: Pick<ServiceDeps, 'metadata' | 'blobs' | 'events'>,
  job: JobData,
  limits: WindowLimits = DEFAULT_WINDOW,
  signal?: AbortSignal,
): Promise<'built' | 'skipped'> {
  const started = performance.now();
  const report = (outcome: MaterializeEvent['outcome'], bytes: number, error?: unknown) =>
    deps.events?.materializeFinished?.({
      tenant: job.tenant,
      versionId: job.versionId,
      format: job.format,
      outcome,
      durationSeconds: (performance.now() - started) / 1000,
      bytes,
      ...(error !== undefined ? { error } : {}),
    });
  try {
    const result = await buildArchive(deps, job, limits, signal);
    report(result.outcome, result.bytes);
    return result.outcome;
  } catch (err) {
    report('failed', 0, err);
    throw err;
  }
}

async function buildArchive(
  deps: Pick<ServiceDeps, 'metadata' | 'blobs'>,
  job: JobData,
  limits: WindowLimits,
  signal: AbortSignal | undefined,
): Promise<{ outcome: 'built' | 'skipped'; bytes: number }> {
  const { metadata, blobs } = deps;
  const { tenant, versionId, format } = job;
  const row = (await metadata.listArchives(tenant, versionId)).find((a) => a.format === format);
  if (!row || row.state === 'ready') return { outcome: 'skipped', bytes: 0 };
  const version = await metadata.getVersion(tenant, versionId);
  if (!version) return { outcome: 'skipped', bytes: 0 };
  await metadata.updateArchive(tenant, versionId, format, { state: 'building', error: null });
  const tar = Readable.from(versionTar(deps, tenant, versionId, version.createdAt, limits), {
    objectMode: false,
  });
  // The job's lease was lost (this worker looked dead; another builds now):
  // stop writing, which fails the put and leaves no object behind.
  const onAbort = () => tar.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // pipeline propagates a tar (read) error into the compressor, which the put sees.
    const body = pipeline(tar, archiveCompressor(format), () => undefined);
    const { size, sha256 } = await blobs.put(archiveKey(tenant, versionId, format), body, {
      contentType: CONTENT_TYPE[format],
    });
    await metadata.updateArchive(tenant, versionId, format, {
      state: 'ready',
      size,
      sha256,
      error: null,
    });
    return { outcome: 'built', bytes: size };
  } catch (err) {
    tar.destroy();
    // The run that took over owns the row now: a late 'failed' would hide its build.
    if (signal?.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    await metadata.updateArchive(tenant, versionId, format, {
      state: 'failed',
      error: message.slice(0, 1000),
    });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

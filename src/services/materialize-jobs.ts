import type { Digest } from '../core/types.js';
import type { ServiceDeps } from './deps.js';

/** How old a pending/building archive must be before the sweeper re-enqueues it. */
export const STALE_ARCHIVE_MS = 5 * 60 * 1000;

/** Singleton key: at most one queued or running job per archive. */
export function materializeKey(tenant: string, versionId: Digest, format: string): string {
  return `${tenant}:${versionId}:${format}`;
}

/**
 * Enqueues a materialize job for every archive of the version that is not
 * ready. Called after the commit transaction: a crash in between is repaired
 * by `sweepStaleArchives`. That includes archives retention evicted: a push
 * of an old version makes it head again, and the worker rebuilds them (it
 * skips evicted archives only while their version is not retained).
 */
export async function enqueueMaterialize(
  deps: Pick<ServiceDeps, 'metadata' | 'queue'>,
  tenant: string,
  versionId: Digest,
): Promise<void> {
  const archives = await deps.metadata.listArchives(tenant, versionId);
  for (const a of archives) {
    if (a.state === 'ready') continue;
    await deps.queue.enqueue(
      'materialize',
      { tenant, versionId, format: a.format },
      { singletonKey: materializeKey(tenant, versionId, a.format) },
    );
  }
}

/** Re-enqueues archives stuck in pending/building; returns how many were found. */
export async function sweepStaleArchives(
  deps: Pick<ServiceDeps, 'metadata' | 'queue'>,
  now = new Date(),
): Promise<number> {
  const stale = await deps.metadata.listStaleArchives(
    new Date(now.getTime() - STALE_ARCHIVE_MS),
    500,
  );
  for (const a of stale) {
    await deps.queue.enqueue(
      'materialize',
      { tenant: a.tenant, versionId: a.versionId, format: a.format },
      { singletonKey: materializeKey(a.tenant, a.versionId, a.format) },
    );
  }
  return stale.length;
}

import type { ServiceDeps } from './deps.js';
import { archiveKey } from './keys.js';

/** Which archives a worker keeps (docs/configuration.md, TROVE_ARCHIVE_*). */
export interface RetentionPolicy {
  /** Newest history entries per storage whose archives are kept; 0 keeps every archive. */
  keep: number;
  /** Seconds an evicted archive's object stays for downloads already handed out. */
  graceSeconds: number;
}

/** What one retention pass did. */
export interface RetentionResult {
  /** Archives moved from ready to evicted (no longer offered to clients). */
  evicted: number;
  /** Evicted archives whose objects were deleted (grace elapsed). */
  deleted: number;
  /** Bytes of the deleted objects. */
  deletedBytes: number;
}

/** Rows per database round trip; a pass loops until a batch comes back short. */
export const RETENTION_BATCH = 200;

/**
 * One retention pass: evicts the archives of superseded versions, then
 * deletes the objects of archives evicted at least a grace period ago. The
 * row changes before the object goes (inside the row lock, see
 * MetadataStore.purgeEvictedArchives): a crash leaves at most an object no
 * ready row points at, which the next pass deletes again because its row is
 * still 'evicted'. Pulls of an evicted version reconstruct from packs.
 * Idempotent; several workers may run it at once.
 */
export async function applyArchiveRetention(
  deps: Pick<ServiceDeps, 'metadata' | 'blobs'>,
  policy: RetentionPolicy,
  batch = RETENTION_BATCH,
): Promise<RetentionResult> {
  const result: RetentionResult = { evicted: 0, deleted: 0, deletedBytes: 0 };
  // keep = 0 turns eviction off, but archives evicted earlier still get purged.
  if (policy.keep > 0) {
    for (;;) {
      const evicted = await deps.metadata.evictSupersededArchives(policy.keep, batch);
      result.evicted += evicted.length;
      if (evicted.length < batch) break;
    }
  }
  for (;;) {
    const purged = await deps.metadata.purgeEvictedArchives(
      policy.graceSeconds,
      batch,
      (archives) =>
        deps.blobs.delete(archives.map((a) => archiveKey(a.tenant, a.versionId, a.format))),
    );
    result.deleted += purged.length;
    for (const a of purged) result.deletedBytes += a.size ?? 0;
    if (purged.length < batch) break;
  }
  return result;
}

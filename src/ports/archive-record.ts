import type { ArchiveFormat, Digest } from '../core/types.js';

// Archive shapes of the MetadataStore port (metadata-store.ts re-exports them).

/** A materialized (or pending) archive of a version. */
export interface ArchiveRecord {
  /** Tenant id. */
  tenant: string;
  /** Version id. */
  versionId: Digest;
  /** tar.gz or tar.zst. */
  format: ArchiveFormat;
  /**
   * pending (queued), building, ready or failed; evicted (retention dropped
   * it, the object is deleted after the grace period) or deleted (object gone).
   */
  state: 'pending' | 'building' | 'ready' | 'failed' | 'evicted' | 'deleted';
  /** Archive size in bytes once ready. */
  size: number | null;
  /** SHA-256 of the archive bytes once ready. */
  sha256: Digest | null;
  /** Last error message when failed. */
  error: string | null;
  /** Last state change. */
  updatedAt: Date;
  /** When retention evicted it (meaningful in states evicted and deleted). */
  evictedAt: Date | null;
}

/** What a materialize job may change on its archive row. */
export interface ArchivePatch {
  /** New state; retention's states are set only by the retention methods. */
  state?: 'pending' | 'building' | 'ready' | 'failed';
  /** Archive size in bytes. */
  size?: number | null;
  /** SHA-256 of the archive bytes. */
  sha256?: Digest | null;
  /** Error message of a failed build. */
  error?: string | null;
}

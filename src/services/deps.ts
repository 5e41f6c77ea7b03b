import type { ArchiveFormat } from '../core/types.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { ServiceConfig } from './config.js';

/** What every service sees: the ports and the configuration, nothing else. */
export interface ServiceDeps {
  /** Storages, versions, chunk index, sessions, archives. */
  metadata: MetadataStore;
  /** Object storage (packs, manifests, archives). */
  blobs: BlobStore;
  /** Background jobs (materialization). */
  queue: JobQueue;
  /** Budgets, TTLs and archive formats. */
  config: ServiceConfig;
  /** Told about finished commits and archives (metrics); absent means nobody listens. */
  events?: ServiceEvents | undefined;
}

/**
 * Domain events the services report, so they stay free of any metrics or
 * logging library (src/observability/metrics.ts implements this). Listeners
 * must be cheap and must not throw: they run inline on the request path.
 */
export interface ServiceEvents {
  /** A commit made its version visible (reported once, by the call that finalized it). */
  commitSucceeded?(event: CommitEvent): void;
  /** A commit call failed with `error` (conflict, rejected data, or a fault). */
  commitFailed?(error: unknown): void;
  /** A materialize job ended (built, skipped because done or gone, or failed). */
  materializeFinished?(event: MaterializeEvent): void;
  /** Packs the server found gone from the object store and marked missing (data loss: alert). */
  packsMissing?(event: PacksMissingEvent): void;
}

/** Packs newly marked missing. */
export interface PacksMissingEvent {
  /** Tenant of the packs. */
  tenant: string;
  /** The packs whose objects were found absent. */
  packs: string[];
}

/** A successful commit. */
export interface CommitEvent {
  /** True when the version is new to the tenant; false when it already existed. */
  created: boolean;
  /** Sum of the file sizes of the committed version. */
  logicalBytes: number;
  /** Bytes of the packs this push uploaded (what dedup and compression left). */
  uploadedBytes: number;
}

/** A finished materialize job. */
export interface MaterializeEvent {
  /** Tenant of the version. */
  tenant: string;
  /** The version materialized. */
  versionId: string;
  /** Archive format. */
  format: ArchiveFormat;
  /** built: archive stored; skipped: already ready or version/row gone; failed: will be retried. */
  outcome: 'built' | 'skipped' | 'failed';
  /** Wall time of the job in seconds. */
  durationSeconds: number;
  /** Size of the stored archive (0 unless built). */
  bytes: number;
  /** The failure, when outcome is failed. */
  error?: unknown;
}

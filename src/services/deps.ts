import type { ServiceConfig } from '../config.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { MetadataStore } from '../ports/metadata-store.js';

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
}

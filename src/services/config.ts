import type { ArchiveFormat } from '../core/types.js';

/**
 * What the services are configured with. Theirs to define: src/config.ts
 * builds it from the validated server settings (`serviceConfig`), tests
 * build it directly.
 */
export interface ServiceConfig {
  /** Archive formats materialized for every committed version. */
  archiveFormats: ArchiveFormat[];
  /** Lifetime of an upload session (its GC lease). */
  sessionTtlSeconds: number;
  /** Lifetime of presigned URLs (pack PUTs, pack and archive GETs). */
  urlTtlSeconds: number;
  /** Pack bytes one commit call verifies before answering "verifying". */
  commitBudgetBytes: number;
  /** Manifest entries one commit call checks against the index before answering "verifying". */
  commitBudgetEntries: number;
  /** Chunk references one commit call checks against the index before answering "verifying". */
  commitBudgetChunkRefs: number;
  /** Largest stored manifest (base or target) a manifest-delta request diffs; larger ones are refused. */
  deltaMaxManifestBytes: number;
  /** Expensive requests (commit, missing, plan, missing-packs, manifest delta) one process serves at once; more are refused busy. */
  maxExpensiveRequests: number;
}

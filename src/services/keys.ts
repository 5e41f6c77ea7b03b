import type { ArchiveFormat, Digest } from '../core/types.js';

/**
 * The only place object keys are built, so the layout of the bucket is
 * defined once: every key starts with the tenant (invariant 5) and packs fan
 * out by the first two hex characters to keep listings and prefixes small.
 */

/** Key of a pack object. */
export function packKey(tenant: string, packId: Digest): string {
  return `t/${tenant}/packs/${packId.slice(0, 2)}/${packId}`;
}

/** Key of a version's manifest. */
export function manifestKey(tenant: string, versionId: Digest): string {
  return `t/${tenant}/manifests/${versionId}`;
}

/**
 * Key of the manifest delta an upload session uploads (deleted once the
 * manifest is rebuilt). Per session, not per version: a delta is the
 * client's claim until the merge proves it, so one session's bad delta must
 * not stand in the way of (or be mistaken for) another's.
 */
export function deltaKey(tenant: string, sessionId: string): string {
  return `t/${tenant}/deltas/${sessionId}`;
}

/**
 * Key of the manifest delta from `base` to `target` answered to pulls (a
 * cache: derived from two immutable manifests, written only by the server).
 */
export function deltaCacheKey(tenant: string, base: Digest, target: Digest): string {
  return `t/${tenant}/delta-cache/${base}-${target}`;
}

/** Key of a version's materialized archive in one format. */
export function archiveKey(tenant: string, versionId: Digest, format: ArchiveFormat): string {
  return `t/${tenant}/archives/${versionId}.${format}`;
}

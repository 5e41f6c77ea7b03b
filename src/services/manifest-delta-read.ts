import { Readable } from 'node:stream';
import { sha256Hex } from '../core/digest.js';
import type { ManifestHeaderLine } from '../core/manifest.js';
import {
  compressManifestDelta,
  deltaStep,
  deltaText,
  MAX_DELTA_CHANGES,
} from '../core/manifest-delta.js';
import { decodeStream, RawManifestLines } from '../core/manifest-raw.js';
import type { Digest } from '../core/types.js';
import { TroveError } from '../errors.js';
import { readRange } from './blob-io.js';
import type { ServiceDeps } from './deps.js';
import { deltaCacheKey, manifestKey } from './keys.js';
import { VersionService } from './versions.js';

/**
 * Largest delta text held in memory while diffing. The header needs the
 * change count, so changes are buffered; a delta this large saves little
 * against the manifest, so it is refused rather than streamed.
 */
export const MAX_DELTA_TEXT_BYTES = 16 * 1024 * 1024;

/** A manifest delta answered to a pull. */
export interface ManifestDeltaAnswer {
  /** The version the delta rebuilds (ref resolved to a full id). */
  version: Digest;
  /** The version it applies to. */
  base: Digest;
  /** The delta as zstd frames (formats.md, "Manifest delta"). */
  bytes: Buffer;
}

function tooLarge(message: string, details: Record<string, unknown>): TroveError {
  // Not a client mistake but a refusal to do unbounded work: the client fetches the manifest.
  return new TroveError('delta_too_large', `${message}; fetch the manifest instead`, details);
}

/**
 * The manifest of `ref` (in `storage`) as a delta against `base`, any
 * version of the tenant. The delta between two committed versions never
 * changes, so the first answer is stored (deltaCacheKey) and repeats are read
 * back without diffing. A first computation streams both stored manifests as
 * entry lines, merge-joined by path, so memory is the delta text (bounded)
 * plus a slice of each manifest; it is refused with delta_too_large when
 * either manifest is larger than `deltaMaxManifestBytes` (the client then
 * downloads the manifest, which costs the server nothing). Throws
 * version_not_found for an unknown base (another tenant's version included).
 */
export async function readManifestDelta(
  deps: ServiceDeps,
  tenant: string,
  storage: string,
  ref: string,
  base: Digest,
): Promise<ManifestDeltaAnswer> {
  const { entry } = await new VersionService(deps).resolve(tenant, storage, ref);
  const target = entry.version;
  const baseRecord = await deps.metadata.getVersion(tenant, base);
  if (!baseRecord)
    throw new TroveError('version_not_found', `no version ${base} to diff against`, { base });
  const cacheKey = deltaCacheKey(tenant, base, target.id);
  const cached = await readCached(deps, cacheKey);
  if (cached) return { version: target.id, base, bytes: cached };
  const bound = deps.config.deltaMaxManifestBytes;
  for (const v of [baseRecord, target]) {
    if (v.manifestSize > bound)
      throw tooLarge(`manifest of ${v.id} is larger than ${bound} bytes`, {
        version: v.id,
        limit: bound,
      });
  }
  const limit = Math.min(MAX_DELTA_TEXT_BYTES, target.manifestSize);
  const text = await diffStored(deps, tenant, base, target.id, limit);
  const bytes = await compressManifestDelta(text.bytes);
  // Best effort: a failed write only costs the next request a recomputation.
  await deps.blobs
    .put(cacheKey, Readable.from([bytes]), { size: bytes.length, sha256: sha256Hex(bytes) })
    .catch(() => undefined);
  return { version: target.id, base, bytes };
}

/** A stored delta, or null. Only the server writes these keys, and never larger than the bound. */
async function readCached(deps: ServiceDeps, key: string): Promise<Buffer | null> {
  const stat = await deps.blobs.stat(key);
  if (stat === null || stat.size > MAX_DELTA_TEXT_BYTES) return null;
  try {
    return await readRange(deps.blobs, key, { start: 0, end: stat.size });
  } catch (err) {
    // Gone between stat and read (an operator cleared the cache): compute it again.
    if (err instanceof TroveError && err.code === 'blob_not_found') return null;
    throw err;
  }
}

async function diffStored(
  deps: ServiceDeps,
  tenant: string,
  baseId: Digest,
  targetId: Digest,
  limit: number,
): Promise<{ bytes: Buffer; changes: number }> {
  const [baseStream, targetStream] = await Promise.all([
    deps.blobs.get(manifestKey(tenant, baseId)),
    deps.blobs.get(manifestKey(tenant, targetId)),
  ]);
  // Stored manifests were validated at their commit: their lines are diffed as they are.
  const target = new RawManifestLines();
  const changes: string[] = [];
  let size = 0;
  try {
    const baseIt = decodeStream(baseStream, new RawManifestLines());
    const nextIt = decodeStream(targetStream, target);
    let b = await baseIt.next();
    let n = await nextIt.next();
    while (!b.done || !n.done) {
      const step = deltaStep(b.done ? undefined : b.value, n.done ? undefined : n.value);
      if (step.line !== null) {
        changes.push(step.line);
        size += Buffer.byteLength(step.line) + 1;
        if (size > limit)
          throw tooLarge(`the delta is larger than ${limit} bytes`, { version: targetId, limit });
      }
      [b, n] = await Promise.all([step.base ? baseIt.next() : b, step.next ? nextIt.next() : n]);
    }
  } catch (err) {
    if (err instanceof TroveError && err.code === 'invalid_manifest')
      throw new TroveError('internal', `a stored manifest does not decode: ${err.message}`);
    throw err;
  } finally {
    baseStream.destroy();
    targetStream.destroy();
  }
  if (changes.length > MAX_DELTA_CHANGES)
    throw tooLarge('too many changes', { limit: MAX_DELTA_CHANGES });
  // Set: the target stream ended, so its first line was read.
  const header = target.header as ManifestHeaderLine;
  return { bytes: deltaText(baseId, header, changes), changes: changes.length };
}

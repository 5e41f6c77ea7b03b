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
import type { ServiceDeps } from './deps.js';
import { manifestKey } from './keys.js';
import { VersionService } from './versions.js';

/**
 * Largest stored manifest (base or target) this route diffs. Computing a
 * delta streams both manifests on every request, so the bound keeps one
 * request's work near a second (about 350k entries); above it the client
 * downloads the manifest, which costs the server nothing (a presigned GET).
 */
export const MAX_DIFFED_MANIFEST_BYTES = 64 * 1024 * 1024;

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
  /** Length of the uncompressed delta text. */
  rawBytes: number;
  /** Number of change lines. */
  changes: number;
}

function tooLarge(message: string, details: Record<string, unknown>): TroveError {
  // Not a client mistake but a refusal to do unbounded work: the client fetches the manifest.
  return new TroveError('invalid_request', `${message}; fetch the manifest instead`, details);
}

/**
 * The manifest of `ref` (in `storage`) as a delta against `base`, any
 * version of the tenant. Both stored manifests stream as entry lines and are
 * merge-joined by path, so memory is the delta text (bounded) plus a slice of
 * each manifest, never either manifest. Throws
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
  for (const v of [baseRecord, target]) {
    if (v.manifestSize > MAX_DIFFED_MANIFEST_BYTES)
      throw tooLarge(`manifest of ${v.id} is larger than ${MAX_DIFFED_MANIFEST_BYTES} bytes`, {
        version: v.id,
        limit: MAX_DIFFED_MANIFEST_BYTES,
      });
  }
  const limit = Math.min(MAX_DELTA_TEXT_BYTES, target.manifestSize);
  const text = await diffStored(deps, tenant, base, target.id, limit);
  return {
    version: target.id,
    base,
    bytes: await compressManifestDelta(text.bytes),
    rawBytes: text.bytes.length,
    changes: text.changes,
  };
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

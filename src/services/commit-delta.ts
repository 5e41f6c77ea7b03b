import { pipeline, Readable } from 'node:stream';
import { LIMITS } from '../core/limits.js';
import { mergeManifestDelta } from '../core/manifest-delta-merge.js';
import { createZstdDecompressStream } from '../core/zstd-stream.js';
import { TroveError } from '../errors.js';
import type { SessionRecord } from '../ports/metadata-store.js';
import type { ServiceDeps } from './deps.js';
import { deltaKey, manifestKey } from './keys.js';

/** Errors that mean the delta's bytes are bad (as opposed to a backend fault). */
const REJECTED = new Set([
  'invalid_manifest',
  'digest_mismatch',
  'size_mismatch',
  'invalid_request',
]);

/**
 * Rebuilds the manifest of a delta push before the manifest checks: when the
 * manifest is not stored yet but a delta is, merges the delta (zstd frames)
 * with its base manifest as two sorted streams and stores the result with
 * the session's size and the version id as SHA-256, which the blob store
 * verifies before the object becomes visible. From then on the version is
 * indistinguishable from one pushed in full. Returns true when it merged.
 *
 * A rejected delta (not canonical, not fitting its base, wrong digest) is
 * deleted so the client can upload again (a conditional PUT would otherwise
 * keep the bad object), and nothing is stored.
 */
export async function rebuildManifestFromDelta(
  deps: ServiceDeps,
  tenant: string,
  session: SessionRecord,
): Promise<boolean> {
  const { blobs, metadata } = deps;
  const target = manifestKey(tenant, session.versionId);
  const key = deltaKey(tenant, session.id);
  if (await blobs.stat(target)) return false;
  const stat = await blobs.stat(key);
  if (!stat) return false;
  try {
    if (stat.size > LIMITS.maxManifestBytes)
      throw new TroveError('invalid_manifest', `manifest delta is larger than the manifest limit`);
    // pipeline, not pipe: a failing read must fail the merge, not leave it waiting.
    const delta = pipeline(await blobs.get(key), createZstdDecompressStream(), () => {});
    const merged = mergeManifestDelta({
      delta,
      openBase: async (base) => {
        // Tenant-scoped: only a committed version of this tenant can be a base.
        if (base === session.versionId || !(await metadata.getVersion(tenant, base)))
          throw new TroveError(
            'invalid_manifest',
            `delta base ${base} is not a version of this tenant`,
          );
        return blobs.get(manifestKey(tenant, base));
      },
    });
    await blobs.put(target, Readable.from(merged), {
      size: session.manifestSize,
      sha256: session.versionId,
    });
  } catch (err) {
    if (!(err instanceof TroveError) || !REJECTED.has(err.code)) throw err;
    await blobs.delete([key]);
    // A malformed zstd stream is a bad delta, reported like any other malformed manifest data.
    const code = err.code === 'invalid_request' ? 'invalid_manifest' : err.code;
    throw new TroveError(code, `manifest delta rejected: ${err.message}`, {
      ...err.details,
      manifest: session.versionId,
    });
  }
  await blobs.delete([key]);
  return true;
}

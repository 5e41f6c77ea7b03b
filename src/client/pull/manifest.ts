import { createHash } from 'node:crypto';
import type { VersionDetail } from '../../api/schemas.js';
import { ManifestDecoder } from '../../core/manifest.js';
import type { ManifestEntry, ManifestHeader } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';

/** A decoded manifest plus what fetching it cost. */
export interface FetchedManifest {
  /** Summary numbers from the manifest's first line. */
  header: ManifestHeader;
  /** Every entry, in canonical (sorted) order. */
  entries: ManifestEntry[];
  /** Bytes received for the manifest. */
  bytes: number;
}

/**
 * Downloads a version's manifest, decoding it as it streams, and proves it is
 * the one the version id names: the id is the SHA-256 of the manifest bytes,
 * so a tampered or truncated manifest never reaches the caller.
 */
export async function fetchManifest(
  client: TroveClient,
  version: VersionDetail,
  signal?: AbortSignal,
): Promise<FetchedManifest> {
  const res = await client
    .send(version.manifest, signal ? { signal } : {})
    .catch((err: unknown) => {
      if (!(err instanceof TroveError) || err.code !== 'blob_not_found') throw err;
      // The version row exists, so its manifest was lost behind the server's back.
      throw new TroveError(
        'blob_not_found',
        `the manifest of version ${version.id} is missing from the object store; pushing the ` +
          'same tree again uploads it and repairs the version',
        { version: version.id },
      );
    });
  if (!res.body) throw new TroveError('internal', 'manifest response has no body');
  const hash = createHash('sha256');
  const decoder = new ManifestDecoder();
  const entries: ManifestEntry[] = [];
  let bytes = 0;
  // A decode error is held until the digest is known: a tampered manifest is a digest mismatch.
  let decodeError: unknown = null;
  for await (const part of res.body as AsyncIterable<Uint8Array>) {
    bytes += part.byteLength;
    // Checked while streaming so a hostile server cannot make us buffer without bound.
    if (bytes > version.manifestSize)
      throw mismatch(version, `more than ${version.manifestSize} bytes`);
    hash.update(part);
    if (decodeError !== null) continue;
    try {
      for (const e of decoder.push(part)) entries.push(e);
    } catch (err) {
      decodeError = err;
      entries.length = 0;
    }
  }
  const digest = hash.digest('hex');
  if (digest !== version.id) throw mismatch(version, `sha256 is ${digest}`);
  if (decodeError !== null) throw decodeError;
  decoder.end();
  const h = decoder.header!;
  return {
    header: { entries: h.entries, size: h.size, files: h.files, chunkRefs: h.chunkRefs },
    entries,
    bytes,
  };
}

function mismatch(version: VersionDetail, why: string): TroveError {
  return new TroveError(
    'digest_mismatch',
    `manifest of version ${version.id} does not match its id: ${why}`,
    { version: version.id },
  );
}

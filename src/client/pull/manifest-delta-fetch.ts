import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { MANIFEST_DELTA_VERSION_HEADER, type VersionDetail } from '../../api/schemas.js';
import { decodeManifest } from '../../core/manifest.js';
import { mergeManifestDelta } from '../../core/manifest-delta-merge.js';
import { manifestError } from '../../core/manifest-line.js';
import type { Digest } from '../../core/types.js';
import { createZstdDecompressStream } from '../../core/zstd-stream.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import { type FetchedManifest, fetchManifest } from './manifest.js';

/** A manifest the client already holds: in memory or in a file. */
export type ManifestBase = { id: Digest; bytes: Uint8Array } | { id: Digest; path: string };

/** A fetched manifest and how it came. */
export interface DeltaFetchedManifest extends FetchedManifest {
  /** 'delta' when base + delta rebuilt it; 'manifest' when the whole manifest was downloaded. */
  via: 'delta' | 'manifest';
  /** The verified manifest bytes when rebuilt from the delta (null after a fallback). */
  manifest: Buffer | null;
}

/**
 * Fetches `version`'s manifest as a delta against a manifest the client
 * holds (normally the version its stat cache says the target is synced to),
 * merges the two as streams and keeps the result only if its SHA-256 is the
 * version id. Any failure but an abort (unknown base, a delta the server
 * refuses as too large, a corrupt or missing local base, a bad delta) falls
 * back to the whole manifest, so the answer is always the version's manifest.
 * `bytes` counts everything downloaded for it, a failed delta included.
 */
export async function fetchManifestViaDelta(
  client: TroveClient,
  storage: string,
  version: VersionDetail,
  base: ManifestBase,
  signal?: AbortSignal,
): Promise<DeltaFetchedManifest> {
  const spent = { bytes: 0 };
  try {
    return await viaDelta(client, storage, version, base, spent, signal);
  } catch (err) {
    if (signal?.aborted || (err as Error).name === 'AbortError') throw err;
    // The delta only saves bytes: whatever went wrong, the whole manifest is the answer.
    const full = await fetchManifest(client, version, signal);
    return { ...full, bytes: full.bytes + spent.bytes, via: 'manifest', manifest: null };
  }
}

async function viaDelta(
  client: TroveClient,
  storage: string,
  version: VersionDetail,
  base: ManifestBase,
  spent: { bytes: number },
  signal: AbortSignal | undefined,
): Promise<DeltaFetchedManifest> {
  const res = await client.getManifestDelta(storage, version.id, base.id, signal);
  const named = res.headers.get(MANIFEST_DELTA_VERSION_HEADER);
  if (!res.body || (named !== null && named !== version.id)) {
    await res.body?.cancel();
    throw new TroveError('internal', `the server answered a delta for another version`);
  }
  const body = res.body as unknown as AsyncIterable<Uint8Array>;
  // A delta as large as the manifest saves nothing; a larger one is hostile: stop reading.
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const part of body) {
      spent.bytes += part.byteLength;
      if (spent.bytes > version.manifestSize) throw mismatch(version, 'delta larger than it');
      yield part;
    }
  }
  const delta = pipeline(Readable.from(counted()), createZstdDecompressStream(), () => {});
  const merged = mergeManifestDelta({
    delta,
    openBase: async (id) => {
      if (id !== base.id) throw manifestError(`delta is against ${id}, not ${base.id}`);
      return 'bytes' in base ? Readable.from([base.bytes]) : createReadStream(base.path);
    },
  });
  const hash = createHash('sha256');
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of merged) {
    size += piece.length;
    if (size > version.manifestSize) throw mismatch(version, `more than ${version.manifestSize} B`);
    hash.update(piece);
    pieces.push(piece);
  }
  const digest = hash.digest('hex');
  if (digest !== version.id) throw mismatch(version, `sha256 is ${digest}`);
  const manifest = Buffer.concat(pieces);
  const { header, entries } = decodeManifest(manifest);
  return {
    header: {
      entries: header.entries,
      size: header.size,
      files: header.files,
      chunkRefs: header.chunkRefs,
    },
    entries,
    bytes: spent.bytes,
    via: 'delta',
    manifest,
  };
}

function mismatch(version: VersionDetail, why: string): TroveError {
  return new TroveError(
    'digest_mismatch',
    `manifest rebuilt from a delta does not match version ${version.id}: ${why}`,
    { version: version.id },
  );
}

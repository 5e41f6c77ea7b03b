import type { PresignedRequestBody } from '../../api/schemas.js';
import { sha256Hex } from '../../core/digest.js';
import type { ManifestHeaderLine } from '../../core/manifest.js';
import { compressManifestDelta, encodeManifestDeltaLines } from '../../core/manifest-delta.js';
import { entryLine } from '../../core/manifest-line.js';
import { type RawEntryLine, rawEntryLines } from '../../core/manifest-raw.js';
import type { Digest } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import type { TroveClient } from '../api-client.js';
import type { LocalState } from '../local-state.js';
import { fetchManifest } from '../pull/manifest.js';

/**
 * Below this size the whole manifest is sent without fetching a base: a
 * fetch would cost more round trips and bytes than the delta could save.
 */
const FETCH_BASE_MIN_BYTES = 64 * 1024;

/** A manifest delta ready to upload. */
export interface PreparedDelta {
  /** The base version it applies to. */
  base: Digest;
  /** Stored (zstd) bytes. */
  bytes: Buffer;
  /** SHA-256 of `bytes`. */
  sha256: Digest;
}

/** Options of prepareDelta. */
export interface PrepareDeltaOptions {
  /** API client (to fetch the base manifest when no local copy exists). */
  client: TroveClient;
  /** Storage the parent belongs to. */
  storage: string;
  /** The version the push is based on (null: no delta). */
  parent: Digest | null;
  /** The new manifest (its lines are diffed as stored, never decoded). */
  manifest: { bytes: Buffer; header: ManifestHeaderLine };
  /** The tree's local state, which may keep the parent's manifest (null: none). */
  local: LocalState | null;
  /** Cancels a base fetch. */
  signal: AbortSignal | undefined;
}

/**
 * The delta from the parent's manifest to the new one, or null when there is
 * no parent, its manifest is unavailable, or the delta would not be smaller
 * than the manifest itself. The parent's manifest comes from the local copy
 * the previous push of this tree left (checked against its id), else from the
 * server (a download, only for manifests large enough to be worth it).
 */
export async function prepareDelta(o: PrepareDeltaOptions): Promise<PreparedDelta | null> {
  if (o.parent === null) return null;
  const base = await loadBase(o);
  if (base === null) return null;
  const raw = encodeManifestDeltaLines(
    o.parent,
    base,
    rawEntryLines(o.manifest.bytes),
    o.manifest.header,
  );
  const bytes = await compressManifestDelta(raw);
  if (bytes.length >= o.manifest.bytes.length) return null;
  return { base: o.parent, bytes, sha256: sha256Hex(bytes) };
}

async function loadBase(o: PrepareDeltaOptions): Promise<RawEntryLine[] | null> {
  const parent = o.parent;
  if (parent === null) return null;
  if (o.local !== null) {
    const bytes = await o.local.keptManifest(parent);
    if (bytes !== null) {
      try {
        // Its SHA-256 is the parent's id, so its lines are canonical: no decoding.
        return rawEntryLines(bytes);
      } catch {
        // A corrupt copy is ignored like a missing one.
      }
    }
  }
  if (o.manifest.bytes.length < FETCH_BASE_MIN_BYTES) return null;
  try {
    const detail = await o.client.getVersion(o.storage, parent, o.signal);
    const { entries } = await fetchManifest(o.client, detail, o.signal);
    return entries.map((e) => ({ path: e.path, line: entryLine(e) }));
  } catch (err) {
    // The delta is an optimisation: without a base the full manifest goes up.
    if (err instanceof TroveError && err.code !== 'unreachable') return null;
    throw err;
  }
}

/** Commit errors after which the whole manifest is worth sending instead of the delta. */
export const DELTA_REJECTED = new Set([
  'invalid_manifest',
  'digest_mismatch',
  'size_mismatch',
  'missing_upload',
]);

/** PUTs the delta; false when that failed and the whole manifest must go instead. */
export async function sendDelta(
  client: TroveClient,
  request: PresignedRequestBody,
  delta: PreparedDelta,
  totals: { bytesUploaded: number; manifestBytesUploaded: number },
  signal: AbortSignal | undefined,
): Promise<boolean> {
  try {
    const put = await client.send(request, { body: () => delta.bytes, signal });
    await put.arrayBuffer();
  } catch (err) {
    // e.g. a concurrent push of the same version left a different delta at the same key.
    if (!(err instanceof TroveError) || err.code === 'unreachable') throw err;
    return false;
  }
  totals.bytesUploaded += delta.bytes.length;
  totals.manifestBytesUploaded += delta.bytes.length;
  return true;
}

import { decompressChunk } from '../core/codec.js';
import { mapLimit } from '../core/concurrency.js';
import { sha256Hex } from '../core/digest.js';
import { coalesceRanges } from '../core/ranges.js';
import type { Digest } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { readRange } from './blob-io.js';
import type { ServiceEvents } from './deps.js';
import { packKey } from './keys.js';
import { assertPacksPresent, confirmMissingPacks, packMissingError } from './pack-health.js';
import { groupByPack, PLAN_MAX_GAP, PLAN_MAX_RANGE } from './plan.js';

/** Range reads in flight at once while fetching a window of chunks. */
const FETCH_CONCURRENCY = 4;

/**
 * Fetches the raw bytes of a set of chunks from their packs: one index query,
 * coalesced range reads (a few in parallel), decompression and a SHA-256
 * check of every chunk. The caller bounds the set (memory = its raw size).
 */
export async function fetchChunks(
  deps: { metadata: MetadataStore; blobs: BlobStore; events?: ServiceEvents | undefined },
  tenant: string,
  digests: Iterable<Digest>,
): Promise<Map<Digest, Buffer>> {
  const wanted = [...new Set(digests)];
  const out = new Map<Digest, Buffer>();
  if (wanted.length === 0) return out;
  const found = await deps.metadata.findChunks(tenant, wanted);
  assertPacksPresent(found);
  if (found.length < wanted.length) {
    const have = new Set(found.map((c) => c.digest));
    const missing = wanted.filter((d) => !have.has(d));
    throw new TroveError('missing_chunks', `${missing.length} chunks are not in the index`, {
      missing: missing.slice(0, 100),
      count: missing.length,
    });
  }
  const reads = [...groupByPack(found)].flatMap(([pack, chunks]) =>
    coalesceRanges(chunks, { maxGap: PLAN_MAX_GAP, maxRangeBytes: PLAN_MAX_RANGE }).map((r) => ({
      pack,
      range: r,
    })),
  );
  await mapLimit(reads, FETCH_CONCURRENCY, async ({ pack, range }) => {
    const bytes = await readRange(deps.blobs, packKey(tenant, pack), {
      start: range.start,
      end: range.end,
    }).catch(async (err: unknown) => {
      if (!(err instanceof TroveError) || err.code !== 'blob_not_found') throw err;
      // The index says the pack exists and the store says it does not: look,
      // record it, and say which pack so an operator knows what was lost.
      const gone = await confirmMissingPacks(deps, tenant, [pack]);
      throw gone.length > 0 ? packMissingError(gone) : err;
    });
    if (bytes.length !== range.end - range.start) {
      throw new TroveError('size_mismatch', `short read of pack ${pack}`, { pack });
    }
    for (const c of range.chunks) {
      const stored = bytes.subarray(c.offset - range.start, c.offset - range.start + c.storedSize);
      const decoded = decompressChunk(c.codec, stored, c.rawSize);
      // A raw chunk is a view of the whole range buffer: copy it so the range can be freed.
      const raw = c.codec === 'raw' ? Buffer.from(decoded) : decoded;
      if (sha256Hex(raw) !== c.digest) {
        throw new TroveError('digest_mismatch', `chunk ${c.digest} in pack ${pack} is corrupt`, {
          pack,
          digest: c.digest,
        });
      }
      out.set(c.digest, raw);
    }
  });
  return out;
}

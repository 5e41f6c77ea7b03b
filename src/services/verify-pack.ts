import { PACK_TRAILER_SIZE, parsePackFooter, parsePackTrailer } from '../core/pack.js';
import { PackVerifier } from '../core/pack-verify.js';
import type { Digest, PackedChunk } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { readRange } from './blob-io.js';
import { packKey } from './keys.js';

/**
 * Failures that prove the object's bytes can never be a valid pack under its
 * key (they do not hash to it, or their structure is broken): no honest
 * upload of that key can be harmed by removing them. A size that differs
 * from this session's declaration proves nothing about the object (another
 * session may have uploaded it with its own, correct size), so it is
 * rejected without touching the object.
 */
const GARBAGE = new Set(['digest_mismatch', 'invalid_pack']);
const REJECTED = new Set(['digest_mismatch', 'size_mismatch', 'invalid_pack']);

/**
 * Verifies an uploaded pack end to end (invariant 3): declared size, footer
 * structure, every chunk digest and the whole-pack SHA-256. Returns the
 * chunks the footer lists (to be indexed by the caller); a pack that fails is
 * never indexed, and the error says which check failed.
 *
 * Deletion on failure follows invariant 10: the object is removed only when
 * its bytes are proven garbage for its key and no live or condemned pack row
 * of the tenant exists for it (checked right before the delete), so a failed
 * verification can never remove an object a committed row references.
 */
export async function verifyUploadedPack(
  deps: { blobs: BlobStore; metadata: MetadataStore },
  tenant: string,
  pack: { id: Digest; size: number },
): Promise<PackedChunk[]> {
  const { blobs } = deps;
  const key = packKey(tenant, pack.id);
  const stat = await blobs.stat(key);
  if (!stat) {
    throw new TroveError('missing_upload', `pack ${pack.id} was never uploaded`, {
      packs: [pack.id],
    });
  }
  try {
    if (stat.size !== pack.size) {
      throw new TroveError(
        'size_mismatch',
        `pack ${pack.id} is ${stat.size} bytes, declared ${pack.size}`,
      );
    }
    if (pack.size < PACK_TRAILER_SIZE) {
      throw new TroveError('invalid_pack', `pack ${pack.id} is shorter than its trailer`);
    }
    const trailerBytes = await readRange(blobs, key, {
      start: pack.size - PACK_TRAILER_SIZE,
      end: pack.size,
    });
    const trailer = parsePackTrailer(trailerBytes);
    const footerStart = pack.size - PACK_TRAILER_SIZE - trailer.footerSize;
    if (footerStart < 0) throw new TroveError('invalid_pack', `pack ${pack.id} footer overflows`);
    const footer = await readRange(blobs, key, {
      start: footerStart,
      end: pack.size - PACK_TRAILER_SIZE,
    });
    const chunks = parsePackFooter(footer, trailer, pack.size);
    const verifier = new PackVerifier(pack.id, pack.size, chunks);
    for await (const part of await blobs.get(key)) verifier.update(part as Buffer);
    verifier.finish();
    return chunks;
  } catch (err) {
    if (err instanceof TroveError && REJECTED.has(err.code)) {
      const row = GARBAGE.has(err.code)
        ? (await deps.metadata.getPacks(tenant, [pack.id]))[0]
        : null;
      // No row, or a row whose object the server already found gone: nothing
      // committed can be at this key, only what this failed upload left.
      if (GARBAGE.has(err.code) && (row === undefined || row?.state === 'missing')) {
        // Garbage under a content address blocks every honest (conditional) upload of it.
        await blobs.delete([key]);
      }
      throw new TroveError(err.code, `pack ${pack.id} rejected: ${err.message}`, {
        ...err.details,
        pack: pack.id,
      });
    }
    throw err;
  }
}

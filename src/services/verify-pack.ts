import { PACK_TRAILER_SIZE, parsePackFooter, parsePackTrailer } from '../core/pack.js';
import { PackVerifier } from '../core/pack-verify.js';
import type { Digest, PackedChunk } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import { readRange } from './blob-io.js';
import { packKey } from './keys.js';

const REJECTED = new Set(['digest_mismatch', 'size_mismatch', 'invalid_pack']);

/**
 * Verifies an uploaded pack end to end (invariant 3): declared size, footer
 * structure, every chunk digest and the whole-pack SHA-256. A pack that fails
 * is deleted so nothing unverified can ever be indexed; the error says which.
 * Returns the chunks the footer lists (to be indexed by the caller).
 */
export async function verifyUploadedPack(
  blobs: BlobStore,
  tenant: string,
  pack: { id: Digest; size: number },
): Promise<PackedChunk[]> {
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
      await blobs.delete([key]);
      throw new TroveError(err.code, `pack ${pack.id} rejected: ${err.message}`, {
        ...err.details,
        pack: pack.id,
      });
    }
    throw err;
  }
}

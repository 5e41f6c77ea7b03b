import { PACK_TRAILER_SIZE, parsePackFooter, parsePackTrailer } from '../core/pack.js';
import { PackVerifier } from '../core/pack-verify.js';
import type { Digest, PackedChunk } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { readRange } from './blob-io.js';
import { packKey } from './keys.js';

const REJECTED = new Set(['digest_mismatch', 'size_mismatch', 'invalid_pack']);

/**
 * Verifies an uploaded pack end to end (invariant 3): declared size, footer
 * structure, every chunk digest and the whole-pack SHA-256. Returns the
 * chunks the footer lists (to be indexed by the caller); a pack that fails is
 * never indexed, and the error says which check failed.
 *
 * Deletion on failure follows invariant 10: the object is removed only when
 * its bytes are proven garbage for its key (they are not a valid pack with
 * that id at their real size) and no live or condemned pack row of the
 * tenant exists for it (checked right before the delete), so a failed
 * verification can never remove an object a committed row references. A
 * session that merely declared the wrong size for a valid object (another
 * session's good upload) deletes nothing.
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
  // The object is judged at its real size; a wrong declaration is reported after.
  const verdict = await verifyObject(blobs, key, { id: pack.id, size: stat.size }).then(
    (chunks) => ({ chunks, error: null }),
    (err: unknown) => {
      if (err instanceof TroveError && REJECTED.has(err.code)) return { chunks: null, error: err };
      throw err;
    },
  );
  if (verdict.error !== null) {
    const row = (await deps.metadata.getPacks(tenant, [pack.id]))[0];
    // No row, or a row whose object the server already found gone: nothing
    // committed can be at this key, only garbage a failed upload left, which
    // would block every honest (conditional) upload of the same id.
    if (row === undefined || row.state === 'missing') await blobs.delete([key]);
  }
  // A length other than the declared one is what the uploader can act on, so it is reported first.
  if (stat.size !== pack.size) {
    throw rejected(
      pack.id,
      new TroveError(
        'size_mismatch',
        `pack ${pack.id} is ${stat.size} bytes, declared ${pack.size}`,
      ),
    );
  }
  if (verdict.error !== null) throw rejected(pack.id, verdict.error);
  return verdict.chunks;
}

function rejected(id: Digest, err: TroveError): TroveError {
  return new TroveError(err.code, `pack ${id} rejected: ${err.message}`, {
    ...err.details,
    pack: id,
  });
}

/** Checks the object's structure, every chunk digest and its SHA-256 against `pack`. */
async function verifyObject(
  blobs: BlobStore,
  key: string,
  pack: { id: Digest; size: number },
): Promise<PackedChunk[]> {
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
}

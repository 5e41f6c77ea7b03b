import { mapLimit } from '../core/concurrency.js';
import type { Digest } from '../core/types.js';
import { TroveError } from '../errors.js';
import type { IndexedChunk } from '../ports/metadata-store.js';
import type { ServiceDeps } from './deps.js';
import { packKey } from './keys.js';

/** Packs one check may look at (a report names a few; the bound keeps the call small). */
export const MAX_PACKS_PER_CHECK = 100;
/** Object-store stats in flight during one check. */
const STAT_CONCURRENCY = 8;

/** The error for packs found gone: names them and says how to repair. */
export function packMissingError(packs: readonly Digest[], versionId?: Digest): TroveError {
  const what = versionId ? `version ${versionId} needs` : 'these chunks live in';
  return new TroveError(
    'pack_missing',
    `${packs.length} pack(s) that ${what} are missing from the object store (${packs
      .slice(0, 3)
      .join(', ')}${packs.length > 3 ? ', ...' : ''}); pushing the same tree again re-uploads ` +
      'their chunks and repairs every version that uses them',
    { packs: packs.slice(0, MAX_PACKS_PER_CHECK), ...(versionId ? { version: versionId } : {}) },
  );
}

/** Throws pack_missing when any of these index rows sits in a pack already found missing. */
export function assertPacksPresent(chunks: readonly IndexedChunk[], versionId?: Digest): void {
  const gone = [...new Set(chunks.filter((c) => c.packState === 'missing').map((c) => c.packId))];
  if (gone.length > 0) throw packMissingError(gone.sort(), versionId);
}

/**
 * Looks at the object store for each pack (a reader got 404 for it, or a
 * client says so) and marks the absent ones missing, so the chunk index stops
 * vouching for their chunks. Never trusts the report: a pack whose object
 * exists is left alone. Returns the absent ones.
 */
export async function confirmMissingPacks(
  deps: Pick<ServiceDeps, 'blobs' | 'metadata' | 'events'>,
  tenant: string,
  packs: readonly Digest[],
): Promise<Digest[]> {
  const unique = [...new Set(packs)].slice(0, MAX_PACKS_PER_CHECK);
  const known = new Set(
    (await deps.metadata.getPacks(tenant, unique))
      .filter((p) => p.state !== 'missing')
      .map((p) => p.id),
  );
  const stats = await mapLimit([...known], STAT_CONCURRENCY, async (id) => ({
    id,
    present: (await deps.blobs.stat(packKey(tenant, id))) !== null,
  }));
  const absent = stats.filter((s) => !s.present).map((s) => s.id);
  const marked = await deps.metadata.markPacksMissing(tenant, absent);
  if (marked.length > 0) deps.events?.packsMissing?.({ tenant, packs: marked });
  // Packs already marked before this call are gone too.
  const already = (await deps.metadata.getPacks(tenant, unique))
    .filter((p) => p.state === 'missing')
    .map((p) => p.id);
  return [...new Set([...absent, ...already])].sort();
}

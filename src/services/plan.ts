import type { PlanResponse } from '../api/schemas.js';
import { coalesceRanges } from '../core/ranges.js';
import type { Digest } from '../core/types.js';
import type { IndexedChunk } from '../ports/metadata-store.js';
import type { ServiceDeps } from './deps.js';
import { packKey } from './keys.js';
import { VersionService } from './versions.js';

/** Gap between two chunks below which one range read beats two. */
export const PLAN_MAX_GAP = 256 * 1024;
/** Largest coalesced range (bounds the client's memory per read). */
export const PLAN_MAX_RANGE = 16 * 1024 * 1024;

/** Groups index rows by pack, in a stable (pack id) order. */
export function groupByPack(chunks: IndexedChunk[]): Map<Digest, IndexedChunk[]> {
  const byPack = new Map<Digest, IndexedChunk[]>();
  for (const c of [...chunks].sort((a, b) =>
    a.packId < b.packId ? -1 : a.packId > b.packId ? 1 : 0,
  )) {
    const list = byPack.get(c.packId);
    if (list) list.push(c);
    else byPack.set(c.packId, [c]);
  }
  return byPack;
}

/**
 * Reconstruction plans: where the chunks a client lacks live, as coalesced
 * byte ranges of packs with one presigned GET per pack (never per chunk).
 *
 * Security boundary: chunks are looked up in the tenant's index only
 * (invariant 5), so a plan never reveals another tenant's data. It does not
 * check that each digest belongs to this particular version (that would need
 * the manifest on every call); any chunk the tenant stored may be planned,
 * which grants nothing a tenant member could not already read.
 */
export class PlanService {
  private readonly versions: VersionService;

  constructor(private readonly deps: ServiceDeps) {
    this.versions = new VersionService(deps);
  }

  /** The plan for `digests` of version `ref` in `storage`. */
  async plan(
    tenant: string,
    storage: string,
    ref: string,
    digests: Digest[],
  ): Promise<PlanResponse> {
    await this.versions.resolve(tenant, storage, ref);
    const unique = [...new Set(digests)];
    const found = await this.deps.metadata.findChunks(tenant, unique);
    const have = new Set(found.map((c) => c.digest));
    const unknown = unique.filter((d) => !have.has(d));
    const ttl = this.deps.config.urlTtlSeconds;
    const packs = await Promise.all(
      [...groupByPack(found)].map(async ([pack, chunks]) => {
        const ranges = coalesceRanges(chunks, {
          maxGap: PLAN_MAX_GAP,
          maxRangeBytes: PLAN_MAX_RANGE,
        }).map((r) => ({
          start: r.start,
          end: r.end,
          chunks: r.chunks.map((c) => ({
            digest: c.digest,
            offset: c.offset - r.start,
            storedSize: c.storedSize,
            rawSize: c.rawSize,
            codec: c.codec,
          })),
        }));
        const request = await this.deps.blobs.presignGet(packKey(tenant, pack), {
          expiresInSeconds: ttl,
        });
        return { pack, request, ranges };
      }),
    );
    return { packs, unknown };
  }
}

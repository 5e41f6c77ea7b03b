import { coalesceRanges } from '../core/ranges.js';
import type { Digest } from '../core/types.js';
import type { IndexedChunk } from '../ports/metadata-store.js';
import type { ServiceDeps } from './deps.js';
import { packKey } from './keys.js';
import { assertPacksPresent, confirmMissingPacks } from './pack-health.js';
import type { MissingPacks, Plan } from './results.js';
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
  async plan(tenant: string, storage: string, ref: string, digests: Digest[]): Promise<Plan> {
    const version = await this.versions.resolve(tenant, storage, ref);
    const unique = [...new Set(digests)];
    const found = await this.deps.metadata.findChunks(tenant, unique);
    // A plan never hands out a URL that is known to answer 404.
    assertPacksPresent(found, version.entry.version.id);
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

  /**
   * A reader of version `ref` got 404 for these packs: looks for each in the
   * object store and marks the absent ones missing (bounded: at most
   * MAX_PACKS_PER_CHECK stats). The report is only a hint; what is marked is
   * what the server saw.
   */
  async checkMissingPacks(
    tenant: string,
    storage: string,
    ref: string,
    packs: Digest[],
  ): Promise<MissingPacks> {
    await this.versions.resolve(tenant, storage, ref);
    return { missing: await confirmMissingPacks(this.deps, tenant, packs) };
  }
}

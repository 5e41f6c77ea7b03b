import type { Digest } from '../core/types.js';

/**
 * Where a pack stands. `live`: stored and verified, its chunks vouch for
 * dedup. `condemned`: chosen by GC for deletion after the grace period.
 * `missing`: the server found its object absent; its chunks no longer count
 * as stored, so the next push of that content uploads them again.
 */
export type PackState = 'live' | 'condemned' | 'missing';

/** A pack row. */
export interface PackRecord {
  /** Pack id (SHA-256 of its bytes). */
  id: Digest;
  /** Size in bytes, as verified. */
  size: number;
  /** Lifecycle state. */
  state: PackState;
}

import { TroveError } from '../../errors.js';

/**
 * Turns an error PostgreSQL raises when it runs out of a resource into a
 * TroveError that says what happened and what to do, or returns null for any
 * other error. SQLSTATE 53100 (disk_full) is `storage_full`: retrying will
 * not help until someone frees space. 53200 (out_of_memory) and 53000
 * (insufficient_resources) are `unavailable`: they pass.
 */
export function resourceError(err: unknown): TroveError | null {
  if (err instanceof TroveError) return null;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '53100')
    return new TroveError(
      'storage_full',
      'the database disk is full: free space or grow the database volume, then retry',
      { sqlstate: code },
      { cause: err },
    );
  if (code === '53200' || code === '53000')
    return new TroveError(
      'unavailable',
      'the database is out of memory or resources: retry later; if it persists, give the database more memory',
      { sqlstate: code },
      { cause: err },
    );
  return null;
}

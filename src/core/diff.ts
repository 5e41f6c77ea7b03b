import { TroveError } from '../errors.js';
import { comparePaths } from './paths.js';
import type { ManifestEntry } from './types.js';

/** Paths that differ between two versions, each list in manifest (byte) order. */
export interface ManifestDiff {
  /** In b, not in a. */
  added: string[];
  /** In a, not in b. */
  removed: string[];
  /** In both, with a different type, size, chunks, executable bit or symlink target. */
  changed: string[];
}

/** True when two entries with the same path describe the same content. */
export function sameEntry(x: ManifestEntry, y: ManifestEntry): boolean {
  if (x.type === 'dir' || y.type === 'dir') return x.type === y.type;
  if (x.type === 'symlink' || y.type === 'symlink')
    return x.type === 'symlink' && y.type === 'symlink' && x.target === y.target;
  if (x.executable !== y.executable || x.size !== y.size || x.chunks.length !== y.chunks.length)
    return false;
  return x.chunks.every((c, i) => c.digest === y.chunks[i]!.digest && c.size === y.chunks[i]!.size);
}

/** Iterates entries, throwing if they are not strictly sorted by path (a merge walk needs it). */
function* sorted(entries: Iterable<ManifestEntry>, side: string): Generator<ManifestEntry> {
  let prev: string | null = null;
  for (const e of entries) {
    if (prev !== null && comparePaths(prev, e.path) >= 0)
      throw new TroveError(
        'invalid_manifest',
        `${side}: entries are not sorted at ${JSON.stringify(e.path)}`,
      );
    prev = e.path;
    yield e;
  }
}

/**
 * Compares two manifests' entries in one merge walk over their sorted order
 * (so both may be streamed from decoders): O(1) memory beyond the result.
 */
export function diffManifests(
  a: Iterable<ManifestEntry>,
  b: Iterable<ManifestEntry>,
): ManifestDiff {
  const diff: ManifestDiff = { added: [], removed: [], changed: [] };
  const ia = sorted(a, 'first manifest');
  const ib = sorted(b, 'second manifest');
  let x = ia.next();
  let y = ib.next();
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : comparePaths(x.value.path, y.value.path);
    if (order < 0) {
      diff.removed.push((x.value as ManifestEntry).path);
      x = ia.next();
    } else if (order > 0) {
      diff.added.push((y.value as ManifestEntry).path);
      y = ib.next();
    } else {
      if (!sameEntry(x.value as ManifestEntry, y.value as ManifestEntry))
        diff.changed.push((x.value as ManifestEntry).path);
      x = ia.next();
      y = ib.next();
    }
  }
  return diff;
}

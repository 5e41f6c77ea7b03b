import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestEntry } from '../../core/types.js';
import type { StatCache } from '../stat-cache.js';

/**
 * Records a freshly pulled tree in its stat cache: every file's stat with
 * its chunks from the manifest, so the next push of this tree hashes only
 * what changed since. Best effort: a cache that cannot be written only
 * costs that push a re-hash, never the pull its success.
 */
export async function recordTree(
  cache: StatCache,
  root: string,
  version: string,
  entries: readonly ManifestEntry[],
): Promise<void> {
  try {
    const paths = new Set<string>();
    for (const e of entries) {
      if (e.type !== 'file') continue;
      const st = lstatSync(join(root, e.path));
      cache.set(e.path, {
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
        ctimeMs: st.ctimeMs,
        executable: e.executable,
        chunks: e.chunks,
      });
      paths.add(e.path);
    }
    cache.retainOnly(paths);
    cache.syncedVersion = version;
    await cache.save();
  } catch {
    // See above: the cache is an optimisation.
  }
}

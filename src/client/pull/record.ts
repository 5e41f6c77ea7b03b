import { lstatSync, lutimesSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestEntry } from '../../core/types.js';
import { RACY_WINDOW_MS, type StatCache } from '../stat-cache.js';

/**
 * Records a freshly pulled tree in its stat cache: every file's stat with
 * its chunks from the manifest, so the next push of this tree hashes only
 * what changed since. Best effort: a cache that cannot be written only
 * costs that push a re-hash, never the pull its success.
 *
 * Files just written have an mtime inside the cache's racy window, so the
 * cache would distrust every one of them and the first push after a pull
 * (the common agent cycle: restore, work, push) would re-hash the whole
 * tree. Manifests carry no mtimes, so each file's mtime is set just before
 * that window instead: safe, because any later write moves mtime to a
 * different "now", which the cache detects. Files the pull took over from
 * the previous tree (`kept`) keep their mtime, as git keeps an unchanged
 * file's: it is already outside the window (adopt.ts required that, or the
 * cache's own racy rule did), and build tools see them as untouched.
 */
export async function recordTree(
  cache: StatCache,
  root: string,
  version: string,
  entries: readonly ManifestEntry[],
  kept: ReadonlySet<string> | ReadonlyMap<string, unknown> = new Set(),
): Promise<void> {
  try {
    const paths = new Set<string>();
    const settled = (Date.now() - RACY_WINDOW_MS - 1000) / 1000;
    for (const e of entries) {
      if (e.type !== 'file') continue;
      const abs = join(root, e.path);
      if (!kept.has(e.path)) lutimesSync(abs, settled, settled);
      const st = lstatSync(abs);
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

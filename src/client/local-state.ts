import { lstatSync, lutimesSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../core/digest.js';
import { encodeManifest } from '../core/manifest.js';
import type { Digest, ManifestEntry } from '../core/types.js';
import { makePrivateDir, RACY_WINDOW_MS, StatCache } from './stat-cache.js';

/**
 * What the client keeps about one local tree between runs, in one place:
 * the stat cache (stat fields and chunks of every file, and the version the
 * tree was last pushed as or pulled from) and, beside it, that version's
 * manifest (the base of the next push's and pull's manifest delta). Push
 * and pull read and write it only through this module.
 *
 * Everything here is an optimisation: a missing or damaged file costs a
 * re-hash or a bigger transfer, never a wrong result (the stat cache's racy
 * rule and SHA-256 checks on the kept manifest see to that).
 */

/** Options of LocalState.open. */
export interface LocalStateOptions {
  /** Cache directory (see defaultCacheDir); undefined: no local state at all. */
  cacheDir: string | undefined;
  /** Root of the tree (need not exist yet). */
  root: string;
  /** Server identity the tree is synced with. */
  server: string;
  /** Storage the tree is synced with. */
  storage: string;
}

/** A manifest held locally, by version id. */
export interface KeptManifest {
  /** Version id (SHA-256 of `bytes`). */
  id: Digest;
  /** The canonical manifest bytes. */
  bytes: Buffer;
}

export class LocalState {
  private constructor(
    /** The stat cache (lookups by scan and pull's reuse of local files). */
    readonly cache: StatCache,
  ) {}

  /** Opens a tree's local state; null when no cache directory is configured. */
  static async open(o: LocalStateOptions): Promise<LocalState | null> {
    if (o.cacheDir === undefined) return null;
    const { cacheDir, root, server, storage } = o;
    return new LocalState(await StatCache.open({ cacheDir, root, server, storage }));
  }

  /** The version the tree was last pushed as or pulled from (null if unknown). */
  get syncedVersion(): Digest | null {
    return this.cache.syncedVersion;
  }

  /** Where the kept manifest lives. */
  get manifestFile(): string {
    return keptManifestPath(this.cache.file);
  }

  /**
   * The chunks of syncedVersion (every one of them stored on the server, as
   * it is committed): valid only before a scan updates the cache.
   */
  syncedChunks(): Set<string> {
    return this.syncedVersion === null ? new Set() : this.cache.digests();
  }

  /** The kept manifest's bytes if they are the manifest of `id` (checked by SHA-256). */
  keptManifest(id: Digest): Promise<Buffer | null> {
    return readKeptManifest(this.manifestFile, id);
  }

  /** The kept manifest when it is syncedVersion's: the base of a delta pull. */
  manifestBase(): Promise<KeptManifest | null> {
    return localManifestBase(this.cache.file, this.syncedVersion);
  }

  /**
   * After a push committed `version`: the cache keeps only the pushed files
   * and vouches for the version; its manifest becomes the next delta's base.
   * A cache that cannot be saved fails the call; the manifest copy is best effort.
   */
  async recordPush(paths: Iterable<string>, version: Digest, manifest: Buffer): Promise<void> {
    this.cache.retainOnly(new Set(paths));
    this.cache.syncedVersion = version;
    await this.cache.save();
    await saveKeptManifest(this.manifestFile, manifest);
  }

  /**
   * After a failed push: the hashing work is kept, but the cache promises
   * nothing about what the server holds. Best effort.
   */
  async forgetSync(): Promise<void> {
    this.cache.syncedVersion = null;
    await this.cache.save().catch(() => {});
  }

  /**
   * Records a freshly pulled tree: every file's stat with its chunks from the
   * manifest, so the next push of this tree hashes only what changed since,
   * and the manifest as the next delta's base. Best effort: a cache that
   * cannot be written only costs that push a re-hash, never the pull its
   * success.
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
  async recordPull(
    root: string,
    version: Digest,
    fetched: PulledManifest,
    kept: ReadonlySet<string> | ReadonlyMap<string, unknown> = new Set(),
  ): Promise<void> {
    try {
      const paths = new Set<string>();
      const settled = (Date.now() - RACY_WINDOW_MS - 1000) / 1000;
      for (const e of fetched.entries) {
        if (e.type !== 'file') continue;
        const abs = join(root, e.path);
        if (!kept.has(e.path)) lutimesSync(abs, settled, settled);
        const st = lstatSync(abs);
        this.cache.set(e.path, {
          size: st.size,
          mtimeMs: st.mtimeMs,
          ino: st.ino,
          ctimeMs: st.ctimeMs,
          executable: e.executable,
          chunks: e.chunks,
        });
        paths.add(e.path);
      }
      this.cache.retainOnly(paths);
      this.cache.syncedVersion = version;
      await this.cache.save();
    } catch {
      // See above: the cache is an optimisation.
    }
    await savePulledManifest(this.cache.file, version, fetched);
  }
}

/** A pulled manifest: its entries, and its bytes when they came verified (a delta rebuild). */
export interface PulledManifest {
  /** The manifest's entries. */
  entries: readonly ManifestEntry[];
  /** Verified manifest bytes, when at hand. */
  manifest?: Buffer | null;
}

/** Where a tree's kept manifest lives: beside its stat cache file. */
export function keptManifestPath(statCacheFile: string): string {
  return statCacheFile.replace(/\.json$/, '.manifest');
}

/** The file's bytes if they are the manifest of `id` (checked by SHA-256), else null. */
export async function readKeptManifest(path: string, id: Digest): Promise<Buffer | null> {
  const bytes = await readFile(path).catch(() => null);
  return bytes !== null && sha256Hex(bytes) === id ? bytes : null;
}

/** Writes a kept manifest (best effort, atomic). */
export async function saveKeptManifest(path: string, bytes: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await makePrivateDir(dirname(path));
    // It lists every path of the tree: as private as the stat cache beside it.
    await writeFile(tmp, bytes, { mode: 0o600 });
    await rename(tmp, path);
  } catch {
    // Only the next transfer's size depends on it.
  }
}

/**
 * The base for a delta pull: the manifest kept beside a tree's stat cache
 * (by the last push or pull of that tree), if it is `syncedVersion`'s
 * (checked by SHA-256, so a stale or damaged copy is never offered).
 */
export async function localManifestBase(
  statCacheFile: string,
  syncedVersion: Digest | null,
): Promise<KeptManifest | null> {
  if (syncedVersion === null) return null;
  const bytes = await readKeptManifest(keptManifestPath(statCacheFile), syncedVersion);
  return bytes === null ? null : { id: syncedVersion, bytes };
}

/**
 * Keeps a pulled manifest beside the stat cache, where push (base of its
 * next delta) and the next pull (base of its delta) look for it. Best
 * effort, atomic. A manifest that came whole is re-encoded (canonical, so
 * the bytes are the same) and saved only if it hashes to `version`.
 */
export async function savePulledManifest(
  statCacheFile: string,
  version: Digest,
  fetched: PulledManifest,
): Promise<void> {
  let bytes = fetched.manifest ?? null;
  if (bytes === null) {
    const encoded = encodeManifest(fetched.entries);
    if (encoded.id !== version) return;
    bytes = encoded.bytes;
  }
  await saveKeptManifest(keptManifestPath(statCacheFile), bytes);
}

import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { ChunkRef } from '../core/types.js';

/**
 * Local stat cache: remembers, per file of one tree, the stat fields it had
 * when it was last hashed (push) or written (pull), and its chunks, so an
 * unchanged file is never read again.
 *
 * On-disk format (JSON, version 1), one file per (server, storage,
 * realpath(root)) named by a hash of the three:
 *   { "format": "trove-stat-cache", "v": 1, "savedAt": <ms>, "server", "storage",
 *     "root", "syncedVersion": <id|null>,
 *     "files": [[path, size, mtimeMs, ctimeMs, ino, executable(0|1), d1, s1, d2, s2, ...], ...] }
 * Flat arrays keep the file small and JSON.parse loads 100k entries in well
 * under a second. Anything unreadable or of another version is ignored.
 */

/** What the cache knows about one file. */
export interface CachedFile {
  /** Size in bytes when recorded. */
  size: number;
  /** Modification time in ms when recorded. */
  mtimeMs: number;
  /** Inode number when recorded (a replaced file gets a new one). */
  ino: number;
  /** Status-change time in ms when recorded (catches chmod and same-mtime rewrites). */
  ctimeMs: number;
  /** Owner-executable bit when recorded. */
  executable: boolean;
  /** The file's chunks in order. */
  chunks: ChunkRef[];
}

/** The stat fields compared by lookup. */
export interface StatKey {
  /** Size in bytes. */
  size: number;
  /** Modification time in ms. */
  mtimeMs: number;
  /** Status-change time in ms. */
  ctimeMs: number;
  /** Inode number. */
  ino: number;
}

const FORMAT = 'trove-stat-cache';
const VERSION = 1;
/**
 * Racy-clean window (like git's racy-git rule): a file whose mtime is this
 * close to the moment the cache was written may have been modified again
 * within the same timestamp granularity, so its entry is not trusted. An
 * older mtime is safe: any later write sets mtime to a (different) now.
 */
export const RACY_WINDOW_MS = 2000;

interface Slot {
  file: CachedFile;
  /** False for entries loaded from disk that fall in the racy window. */
  trusted: boolean;
}

/** Options of StatCache.open. */
export interface StatCacheOptions {
  /** Directory holding cache files (see defaultCacheDir). */
  cacheDir: string;
  /** Root of the tree (need not exist yet). */
  root: string;
  /** Server base URL the tree is synced with. */
  server: string;
  /** Storage name the tree is synced with. */
  storage: string;
}

export class StatCache {
  private synced: string | null = null;
  /** True when something changed since the cache was loaded or saved. */
  private dirty = false;
  /** Path of the cache file. */
  readonly file: string;
  private readonly slots = new Map<string, Slot>();
  private readonly identity: { server: string; storage: string; root: string };

  private constructor(file: string, identity: { server: string; storage: string; root: string }) {
    this.file = file;
    this.identity = identity;
  }

  /** Opens (loads) the cache of one tree; a missing, corrupt or foreign file gives an empty cache. */
  static async open(options: StatCacheOptions): Promise<StatCache> {
    const root = await canonicalRoot(options.root);
    const identity = { server: options.server, storage: options.storage, root };
    const key = createHash('sha256')
      .update(`${identity.server}\0${identity.storage}\0${root}`)
      .digest('hex')
      .slice(0, 32);
    const cache = new StatCache(join(options.cacheDir, 'stat', `${key}.json`), identity);
    await cache.load();
    return cache;
  }

  /** The version this tree was last pushed as or pulled from (null if unknown). */
  get syncedVersion(): string | null {
    return this.synced;
  }

  set syncedVersion(version: string | null) {
    if (version !== this.synced) this.dirty = true;
    this.synced = version;
  }

  /** Number of entries held. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * The chunks a file had when last recorded, whatever its stat says now:
   * hints for re-chunking a changed file (GuidedChunker verifies each by
   * SHA-256, so a stale entry costs time, never correctness).
   */
  previousChunks(path: string): readonly ChunkRef[] | undefined {
    return this.slots.get(path)?.file.chunks;
  }

  /** chunks of `path` if its stat still matches (size, mtimeMs, ctimeMs, ino), else undefined */
  lookup(path: string, stat: StatKey): CachedFile | undefined {
    const slot = this.slots.get(path);
    if (!slot?.trusted) return undefined;
    const f = slot.file;
    if (
      f.size !== stat.size ||
      f.mtimeMs !== stat.mtimeMs ||
      f.ctimeMs !== stat.ctimeMs ||
      f.ino !== stat.ino
    )
      return undefined;
    return f;
  }

  /** Records what `path` is now. */
  set(path: string, file: CachedFile): void {
    this.slots.set(path, { file, trusted: true });
    this.dirty = true;
  }

  /**
   * Every chunk digest of every entry held, racy or not: after a push or pull
   * that saved the cache, these all belong to syncedVersion.
   */
  digests(): Set<string> {
    const out = new Set<string>();
    for (const slot of this.slots.values()) for (const c of slot.file.chunks) out.add(c.digest);
    return out;
  }

  /** replace the whole content (after a pull), drop entries not re-set since open (after a push) */
  retainOnly(paths: Set<string>): void {
    for (const path of this.slots.keys()) {
      if (!paths.has(path)) {
        this.slots.delete(path);
        this.dirty = true;
      }
    }
  }

  /**
   * Writes the cache atomically (temp file + rename); a no-op when nothing
   * changed since it was loaded or last saved (an unchanged 100k-entry tree
   * skips ~0.5 s of serialising).
   */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const files: unknown[] = [];
    for (const [path, { file: f }] of this.slots) {
      const row: unknown[] = [path, f.size, f.mtimeMs, f.ctimeMs, f.ino, f.executable ? 1 : 0];
      for (const c of f.chunks) row.push(c.digest, c.size);
      files.push(row);
    }
    const body = JSON.stringify({
      format: FORMAT,
      v: VERSION,
      savedAt: Date.now(),
      ...this.identity,
      syncedVersion: this.synced,
      files,
    });
    await makePrivateDir(dirname(this.file));
    const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, this.file);
      this.dirty = false;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      const doc = JSON.parse(text) as Record<string, unknown>;
      if (doc.format !== FORMAT || doc.v !== VERSION) return;
      if (doc.root !== this.identity.root || doc.storage !== this.identity.storage) return;
      const savedAt = doc.savedAt;
      if (typeof savedAt !== 'number' || !Array.isArray(doc.files)) return;
      const slots = new Map<string, Slot>();
      for (const row of doc.files as unknown[]) {
        const parsed = parseRow(row);
        if (parsed === null) return;
        const [path, file] = parsed;
        slots.set(path, { file, trusted: file.mtimeMs < savedAt - RACY_WINDOW_MS });
      }
      for (const [k, v] of slots) this.slots.set(k, v);
      const synced = doc.syncedVersion;
      this.synced = typeof synced === 'string' ? synced : null;
    } catch {
      // A corrupt cache only costs a re-hash.
      this.slots.clear();
    }
  }
}

function parseRow(row: unknown): [string, CachedFile] | null {
  if (!Array.isArray(row) || row.length < 6 || (row.length - 6) % 2 !== 0) return null;
  const [path, size, mtimeMs, ctimeMs, ino, x] = row as unknown[];
  if (typeof path !== 'string' || typeof size !== 'number' || typeof mtimeMs !== 'number')
    return null;
  if (typeof ctimeMs !== 'number' || typeof ino !== 'number') return null;
  const chunks: ChunkRef[] = [];
  for (let i = 6; i < row.length; i += 2) {
    const digest = row[i] as unknown;
    const len = row[i + 1] as unknown;
    if (typeof digest !== 'string' || typeof len !== 'number') return null;
    chunks.push({ digest, size: len });
  }
  return [path, { size, mtimeMs, ctimeMs, ino, executable: x === 1, chunks }];
}

/**
 * Creates a cache directory 0700 and takes group/other bits off an existing
 * one: the stat caches and manifest copies in it list the paths and contents
 * (chunk digests) of the user's trees.
 */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) !== 0) await chmod(dir, mode & 0o700);
}

/** realpath of the root, or of its parent when the root does not exist yet. */
async function canonicalRoot(root: string): Promise<string> {
  const abs = resolve(root);
  try {
    return await realpath(abs);
  } catch {
    try {
      return join(await realpath(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** $TROVE_CACHE_DIR, else $XDG_CACHE_HOME/trove, else ~/.cache/trove */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.TROVE_CACHE_DIR) return resolve(env.TROVE_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(resolve(env.XDG_CACHE_HOME), 'trove');
  return join(homedir(), '.cache', 'trove');
}

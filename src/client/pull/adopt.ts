import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { ChunkRef, FileEntry } from '../../core/types.js';
import { TroveError } from '../../errors.js';
import { RACY_WINDOW_MS, type StatCache } from '../stat-cache.js';
import { hashMatches, type Identity, identity, same, sameChunks } from './adopt-check.js';
import type { SafeTree } from './safe-tree.js';

/** Errors after which this filesystem will not link (or clone) anything else either. */
const UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL']);

/**
 * Takes unchanged files over from the previous tree instead of copying their
 * bytes: a hard link into the new tree (beside the target, so the same
 * filesystem), else a reflink, else nothing (the caller copies verified
 * chunks as before). A file is taken over only when all of these hold:
 *
 * - it is reached through real directories of the old tree, is a regular
 *   file owned by us with one link (it shares its inode with nothing else,
 *   inside the tree or out) and exactly the mode pull would give it;
 * - its bytes are the manifest entry's: the stat cache vouches for it (size,
 *   mtime, ctime, inode as recorded, git's racy-clean rule applied on load)
 *   with the same chunks, or, without that, its mtime is older than the racy
 *   window and it hashes to the entry's chunks with its stat unchanged
 *   across the read;
 * - after the link, the new name is that same inode, size and mtime.
 *
 * A hard link is the target's file until the swap, so recheck() must run
 * just before it: any write through the target since the link shows in
 * size, mtime or ctime, and the pull then stops with target_conflict.
 */
export class Adopter {
  /** Paths taken over (their mtime is the old file's, which the next record keeps). */
  readonly adopted = new Map<string, readonly ChunkRef[]>();
  private readonly linked: { path: string; at: Identity }[] = [];
  private readonly realDirs = new Map<string, boolean>();
  private readonly uid = process.getuid?.() ?? -1;
  private canLink = true;
  private canClone = true;

  /** Adopts from `oldRoot` (the target) into `tree`, trusting `cache` as described above. */
  constructor(
    private readonly tree: SafeTree,
    private readonly oldRoot: string,
    private readonly cache: StatCache | null,
  ) {}

  /** Takes `e` over from the old tree; false when it must be written from chunks. */
  adopt(e: FileEntry): boolean {
    if (e.size === 0 || this.uid < 0 || !(this.canLink || this.canClone)) return false;
    const slash = e.path.lastIndexOf('/');
    if (slash > 0 && !this.realDir(e.path.slice(0, slash))) return false;
    const source = join(this.oldRoot, e.path);
    let st: Stats;
    try {
      st = lstatSync(source);
    } catch {
      return false;
    }
    if (!st.isFile() || st.nlink !== 1 || st.uid !== this.uid || st.size !== e.size) return false;
    if ((st.mode & 0o7777) !== (e.executable ? 0o755 : 0o644)) return false;
    if (!this.vouched(e, source, st)) return false;
    if (this.canLink && this.tryLink(e.path, source, st)) return this.took(e);
    if (this.canClone && this.tryClone(e.path, source, st)) return this.took(e);
    return false;
  }

  /** Files taken over so far. */
  get count(): number {
    return this.adopted.size;
  }

  /** Throws target_conflict if a hard-linked file changed since it was linked. */
  recheck(): void {
    for (const { path, at } of this.linked) {
      let now: Stats | null = null;
      try {
        now = lstatSync(this.tree.abs(path));
      } catch {
        // Gone: changed.
      }
      if (now === null || !same(now, at, true))
        throw new TroveError(
          'target_conflict',
          `${JSON.stringify(path)} in the target changed during the pull; nothing was replaced`,
          { path },
        );
    }
  }

  private took(e: FileEntry): true {
    this.adopted.set(e.path, e.chunks);
    return true;
  }

  private vouched(e: FileEntry, source: string, st: Stats): boolean {
    const cached = this.cache?.lookup(e.path, st);
    if (cached) return sameChunks(cached.chunks, e.chunks);
    // Racy-clean: a write in the same mtime tick as the last one would not move mtime.
    if (st.mtimeMs >= Date.now() - RACY_WINDOW_MS) return false;
    return hashMatches(e, source, st);
  }

  private tryLink(path: string, source: string, st: Stats): boolean {
    try {
      this.tree.link(path, source);
    } catch (err) {
      return this.refused(err, 'link');
    }
    const now = lstatSync(this.tree.abs(path));
    // link(2) bumps ctime; the inode, size and mtime must be those just vouched for.
    if (!same(now, st, false)) {
      this.tree.drop(path);
      return false;
    }
    this.linked.push({ path, at: identity(now) });
    return true;
  }

  private tryClone(path: string, source: string, st: Stats): boolean {
    try {
      this.tree.clone(path, source);
    } catch (err) {
      return this.refused(err, 'clone');
    }
    // The clone is what the source held when it was made: unchanged source, right bytes.
    let after: Stats | null = null;
    try {
      after = lstatSync(source);
    } catch {
      // Gone: the clone cannot be vouched for.
    }
    if (after !== null && same(after, st, true)) return true;
    this.tree.drop(path);
    return false;
  }

  /** Rethrows path errors; remembers a filesystem that cannot link or clone. */
  private refused(err: unknown, how: 'link' | 'clone'): false {
    if (err instanceof TroveError) throw err;
    if (UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) {
      if (how === 'link') this.canLink = false;
      else this.canClone = false;
    }
    return false;
  }

  /** True when `dir` (relative) and its ancestors are directories, not symlinks, in the old tree. */
  private realDir(dir: string): boolean {
    const known = this.realDirs.get(dir);
    if (known !== undefined) return known;
    const slash = dir.lastIndexOf('/');
    let real = slash <= 0 || this.realDir(dir.slice(0, slash));
    if (real) {
      try {
        real = lstatSync(join(this.oldRoot, dir)).isDirectory();
      } catch {
        real = false;
      }
    }
    this.realDirs.set(dir, real);
    return real;
  }
}

import {
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  linkSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { entryPathProblem, parentPath } from '../../core/paths.js';
import { SymlinkRules } from '../../core/symlink-rules.js';
import { TroveError } from '../../errors.js';

/** O_NOFOLLOW + O_EXCL: never open through a symlink, never reuse an existing path. */
const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Writes entries of an untrusted listing (a tar, a manifest) under a fresh
 * root directory and nowhere else (invariant 8). Every path is validated;
 * each path may be created once; a path is only ever created inside a
 * directory this writer created itself, so no symlink (ours or anyone's) is
 * followed. Synchronous on purpose: one awaited promise per tiny file is
 * several times slower, and the data producer (gunzip, fetches) runs on the
 * threadpool meanwhile.
 */
export class SafeTree {
  /** Absolute path of the root (must exist and be empty). */
  readonly root: string;
  private readonly dirs = new Set<string>();
  /** Directories created only because a deeper entry needed them, not (yet) listed themselves. */
  private readonly implicitDirs = new Set<string>();
  private readonly others = new Set<string>();
  private readonly links = new Set<string>();
  /** Which symlinks may still be created (the rule commit applies too). */
  private readonly rules = new SymlinkRules();

  /** Uses `root`, an existing empty directory owned by this pull. */
  constructor(root: string) {
    this.root = root;
  }

  /** Paths created for deeper entries but never listed as directories themselves. */
  get unlistedDirs(): ReadonlySet<string> {
    return this.implicitDirs;
  }

  /** Creates a directory (or adopts one created implicitly for a child). */
  dir(path: string): void {
    if (this.implicitDirs.delete(path)) return;
    this.claim(path);
    local(path, () => mkdirSync(join(this.root, path), { mode: 0o755 }));
    this.dirs.add(path);
  }

  /**
   * Creates a symlink whose target stays inside the tree, by the rule commit
   * also applies (SymlinkRules): no absolute or escaping target, and no `..`
   * that steps back over a symlink, whichever of the two entries comes first.
   */
  symlink(path: string, target: string): void {
    const problem = this.rules.accept(path, target);
    if (problem !== null) throw unsafe(path, problem);
    this.claim(path);
    local(path, () => symlinkSync(target, join(this.root, path)));
    this.others.add(path);
    this.links.add(path);
  }

  /** Creates an empty regular file with the given exec bit and returns its open fd. */
  openFile(path: string, executable: boolean): number {
    this.claim(path);
    const mode = executable ? 0o755 : 0o644;
    const fd = local(path, () => openSync(join(this.root, path), CREATE_FLAGS, mode));
    try {
      // The umask may have cleared bits; the manifest's mode is exact.
      fchmodSync(fd, mode);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.others.add(path);
    return fd;
  }

  /**
   * Makes `path` a hard link to `source`, a file of the previous tree the
   * caller has verified (adopt.ts). link(2) never follows a symlink at
   * `source` and fails if `path` exists; its parent is one of ours. Throws
   * the raw errno error when the filesystem refuses.
   */
  link(path: string, source: string): void {
    this.claim(path);
    local(path, () => linkSync(source, join(this.root, path)));
    this.others.add(path);
  }

  /**
   * Makes `path` a copy-on-write clone of `source` (FICLONE: shares extents,
   * not the inode; the mode is copied, and the caller checked it). Fails
   * rather than falling back to a byte copy, whose bytes nobody would verify.
   */
  clone(path: string, source: string): void {
    this.claim(path);
    const abs = join(this.root, path);
    try {
      local(path, () =>
        copyFileSync(source, abs, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE),
      );
    } catch (err) {
      // A failed clone may leave the empty file it created; the name is ours to release.
      try {
        unlinkSync(abs);
      } catch {
        // Nothing was created.
      }
      throw err;
    }
    this.others.add(path);
  }

  /** Removes a file this writer created, so the path can be created again another way. */
  drop(path: string): void {
    if (!this.others.has(path) || this.links.has(path)) throw unsafe(path, 'not a file of ours');
    unlinkSync(join(this.root, path));
    this.others.delete(path);
  }

  /** Absolute path of an entry (after it was created through this writer). */
  abs(path: string): string {
    return join(this.root, path);
  }

  /** Validates a new path and makes sure its parent is a directory we created. */
  private claim(path: string): void {
    const problem = entryPathProblem(path);
    if (problem !== null) throw unsafe(path, problem);
    if (this.dirs.has(path) || this.others.has(path)) throw unsafe(path, 'listed twice');
    const parent = parentPath(path);
    if (parent !== null) this.ensureDir(parent);
  }

  private ensureDir(path: string): void {
    if (this.dirs.has(path)) return;
    if (this.others.has(path)) throw unsafe(path, 'is not a directory but has entries below it');
    const parent = parentPath(path);
    if (parent !== null) this.ensureDir(parent);
    local(path, () => mkdirSync(join(this.root, path), { mode: 0o755 }));
    this.dirs.add(path);
    this.implicitDirs.add(path);
  }
}

/**
 * Runs one filesystem call creating `path`. A path the manifest allows but
 * this filesystem cannot hold (a name over its NAME_MAX, the whole over
 * PATH_MAX below the pull's directory) is the tree's problem, not corrupt
 * data: it becomes path_too_long naming the path. Other errors pass as they are.
 */
function local<T>(path: string, create: () => T): T {
  try {
    return create();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw err;
    throw new TroveError(
      'path_too_long',
      `cannot create ${JSON.stringify(path)}: the path is too long for this filesystem (ENAMETOOLONG); pull into a directory with a shorter path, or onto a filesystem that allows longer names`,
      { path },
      { cause: err },
    );
  }
}

/** The error for a path that would leave the tree or is otherwise refused. */
export function unsafe(path: string, why: string): TroveError {
  return new TroveError('unsafe_path', `refusing entry ${JSON.stringify(path)}: ${why}`, { path });
}
